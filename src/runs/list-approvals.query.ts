import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { RunState } from '../domain/run/run.state';
import { decodeCursor, toPage } from '../http/keyset';
import { approvalTokenHash } from '../projections/run-waits.projection';
import { RunReads } from './run-reads';

/** One approval in the inbox; `approvalToken` only while it is pending. */
export interface InboxApproval {
  runId: string;
  workflowId: string;
  blockId: string;
  prompt: string;
  status: string;
  requestedAt: string;
  expiresAt: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  note: string | null;
  approvalToken?: string;
}

interface ApprovalRow {
  token_hash: string;
  run_id: string;
  workflow_id: string;
  block_id: string;
  prompt: string;
  status: string;
  requested_key: string;
  expires_at: Date | null;
  decided_by: string | null;
  decided_at: Date | null;
  note: string | null;
}

/**
 * The organization's approvals of one status, oldest request first (the longest wait on top).
 * `pending` leaves out those past their deadline, which `timed_out` includes, as
 * `GET /api/approvals/:token` shows them. Joined with `run_state` on the organization too, so
 * another organization's approval can never be listed.
 */
const APPROVALS_SQL = `
SELECT a.token_hash, a.run_id, r.workflow_id, a.block_id, a.prompt, a.status, a.expires_at, a.decided_by, a.decided_at, a.note,
       to_char(a.requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS requested_key
FROM run_approvals a JOIN run_state r ON r.run_id = a.run_id AND r.organization_id = a.organization_id
WHERE a.organization_id = $1
  AND CASE $2::text
        WHEN 'pending' THEN a.status = 'pending' AND (a.expires_at IS NULL OR a.expires_at >= now())
        WHEN 'timed_out' THEN a.status = 'timed_out' OR (a.status = 'pending' AND a.expires_at < now())
        ELSE a.status = $2::text END
  AND ($3::timestamptz IS NULL OR (a.requested_at, a.token_hash) > ($3::timestamptz, $4::text))
ORDER BY a.requested_at, a.token_hash
LIMIT $5`;

/** `GET /api/approvals`: the organization's approvals inbox, keyset-paginated. */
export class ListApprovalsQuery extends Query<{ data: InboxApproval[]; next: string | null }> {
  constructor(
    readonly organizationId: string,
    readonly filter: { status: string; after?: string; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListApprovalsQuery)
export class ListApprovalsHandler implements IQueryHandler<ListApprovalsQuery> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(RunReads) private readonly runs: RunReads,
  ) {}

  async execute({ organizationId, filter }: ListApprovalsQuery): Promise<{ data: InboxApproval[]; next: string | null }> {
    const [afterTime, afterHash] = filter.after ? (decodeCursor(filter.after, ['time', 'string']) as [string, string]) : [null, null];
    const { rows } = await this.pool.query<ApprovalRow>(APPROVALS_SQL, [organizationId, filter.status, afterTime, afterHash, filter.limit + 1]);
    const { items, next } = toPage(rows, filter.limit, (row) => row, (row) => [row.requested_key, row.token_hash]);
    const data = await Promise.all(items.map((row) => this.view(row, organizationId, filter.status === 'pending')));
    return { data, next };
  }

  private async view(row: ApprovalRow, organizationId: string, pending: boolean): Promise<InboxApproval> {
    const token = pending ? await this.pendingToken(row, organizationId) : undefined;
    return {
      runId: row.run_id,
      workflowId: row.workflow_id,
      blockId: row.block_id,
      prompt: row.prompt,
      status: pending ? 'pending' : row.status === 'pending' ? 'timed_out' : row.status,
      requestedAt: row.requested_key,
      expiresAt: row.expires_at?.toISOString() ?? null,
      decidedBy: row.decided_by,
      decidedAt: row.decided_at?.toISOString() ?? null,
      note: row.note,
      ...(token ? { approvalToken: token } : {}),
    };
  }

  /**
   * Only the token's hash is stored in `run_approvals`; the token itself is in the run's
   * folded state while the block waits (as the run's `waitingFor` shows it to any member).
   */
  private async pendingToken(row: ApprovalRow, organizationId: string): Promise<string | undefined> {
    const state = await this.runs.read(row.run_id, organizationId);
    return state ? waitingToken(state, row.block_id, row.token_hash) : undefined;
  }
}

function waitingToken(state: RunState, blockId: string, tokenHash: string): string | undefined {
  const phase = state.blocks.get(blockId)?.phase;
  if (phase?.kind !== 'waiting' || phase.wait.type !== 'human_approval') return undefined;
  return approvalTokenHash(phase.wait.token) === tokenHash ? phase.wait.token : undefined;
}
