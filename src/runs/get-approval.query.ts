import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { NotFound } from '../errors';
import { approvalTokenHash } from '../projections/run-waits.projection';

/** What an approver sees behind an approval link. */
export interface ApprovalView {
  prompt: string;
  /** `pending`, `approved`, `rejected`, `timed_out`, or `cancelled` (the run ended first). */
  status: string;
  runId: string;
  blockId: string;
  expiresAt: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
}

/** `GET /api/approvals/:token` (public: the unguessable token is the credential). */
export class GetApprovalQuery extends Query<ApprovalView> {
  constructor(readonly token: string) {
    super();
  }
}

@QueryHandler(GetApprovalQuery)
export class GetApprovalHandler implements IQueryHandler<GetApprovalQuery, ApprovalView> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ token }: GetApprovalQuery): Promise<ApprovalView> {
    const { rows } = await this.pool.query(
      `SELECT run_id, block_id, prompt, status, expires_at, decided_by, decided_at,
              (status = 'pending' AND expires_at IS NOT NULL AND expires_at < now()) AS expired
       FROM run_approvals WHERE token_hash = $1`,
      [approvalTokenHash(token)],
    );
    const row = rows[0];
    if (!row) throw new NotFound('approval');
    return {
      prompt: row.prompt,
      status: row.expired ? 'timed_out' : row.status,
      runId: row.run_id,
      blockId: row.block_id,
      expiresAt: (row.expires_at as Date | null)?.toISOString() ?? null,
      decidedBy: row.decided_by,
      decidedAt: (row.decided_at as Date | null)?.toISOString() ?? null,
    };
  }
}
