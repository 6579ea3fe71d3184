import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { decideApproval } from '../domain/run/run.commands';
import { NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { approvalTokenHash } from '../projections/run-waits.projection';
import { RunCommands } from './run-commands';

/** The recorded decision. */
export interface ApprovalDecision {
  runId: string;
  status: 'approved' | 'rejected';
  approved: boolean;
  by: string | null;
}

/**
 * Decides a `human_approval` through its single-use token: `ApprovalDecided`, which resumes the
 * run. 404 for an unknown token, 409 `approval_decided` for a second decision or one after the
 * deadline, 409 `run_finished` when the run ended first. `by` is the approver when known.
 */
export class DecideApprovalCommand extends Command<ApprovalDecision> {
  constructor(
    readonly token: string,
    readonly decision: { approved: boolean; note?: string; by?: string },
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(DecideApprovalCommand)
export class DecideApprovalHandler implements ICommandHandler<DecideApprovalCommand, ApprovalDecision> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(RunCommands) private readonly runs: RunCommands,
  ) {}

  async execute({ token, decision, metadata }: DecideApprovalCommand): Promise<ApprovalDecision> {
    const { rows } = await this.pool.query<{ run_id: string; organization_id: string }>(
      'SELECT run_id, organization_id FROM run_approvals WHERE token_hash = $1',
      [approvalTokenHash(token)],
    );
    const row = rows[0];
    if (!row) throw new NotFound('approval');
    await this.runs.command(row.run_id, row.organization_id, metadata, (state) =>
      decideApproval(state, {
        token,
        approved: decision.approved,
        now: new Date(),
        ...(decision.by !== undefined ? { by: decision.by } : {}),
        ...(decision.note !== undefined ? { note: decision.note } : {}),
      }),
    );
    return { runId: row.run_id, status: decision.approved ? 'approved' : 'rejected', approved: decision.approved, by: decision.by ?? null };
  }
}
