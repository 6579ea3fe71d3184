import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { CheckpointWaiter } from '../event-store/checkpoint-waiter';
import { EventStore } from '../event-store/event-store';
import { Notifier } from '../event-store/notifier';
import { runLogsProjection } from '../projections/run-logs.projection';
import { assertRunExists } from './run-exists';

/** How long a logs read waits for `run_logs` to catch up with the run, unless told otherwise. */
export const DEFAULT_LOGS_WAIT_MS = 5000;

/** One step attempt (or wait) of a run. */
export interface RunLogEntry {
  id: string;
  blockId: string;
  blockType: string;
  attempt: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  input: unknown;
  output: unknown;
  error: unknown;
}

export interface RunLogPage {
  data: RunLogEntry[];
  next: string | null;
}

/**
 * `GET /api/runs/:id/logs`: one row per step attempt (and wait) in the order they started,
 * keyset-paginated. Inputs are as recorded: resolved params with hidden values `"[hidden]"`.
 *
 * Row `status`: `running` (an attempt in progress), `waiting` (a wait block), `succeeded`,
 * `failed`; when the run ends with rows still open, they close at the end's recorded time as
 * `cancelled` (the run was cancelled) or `abandoned` (it failed without that attempt
 * or wait ending, e.g. a parallel branch aborted by another branch's failure).
 *
 * `run_logs` is asynchronous (worker processes apply it), so the read first waits — up to
 * `waitMs`, then it answers with what there is — until the projection has applied the run's
 * latest event: once a run shows a terminal status, its logs hold every attempt.
 */
export class RunLogsQuery extends Query<RunLogPage> {
  constructor(
    readonly organizationId: string,
    readonly runId: string,
    readonly page: { after?: string; limit: number },
    readonly waitMs = DEFAULT_LOGS_WAIT_MS,
  ) {
    super();
  }
}

@QueryHandler(RunLogsQuery)
export class RunLogsHandler implements IQueryHandler<RunLogsQuery, RunLogPage> {
  private readonly caughtUp: CheckpointWaiter;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) store: EventStore,
    @Inject(Notifier) notifier: Notifier,
  ) {
    this.caughtUp = new CheckpointWaiter(pool, store.channel, notifier);
  }

  async execute({ organizationId, runId, page, waitMs }: RunLogsQuery): Promise<RunLogPage> {
    await assertRunExists(this.pool, organizationId, runId);
    await this.caughtUp.waitForStream(runLogsProjection.name, `run-${runId}`, waitMs);
    const { rows } = await this.pool.query(
      `SELECT id, block_id, block_type, attempt, status, started_at, finished_at, duration_ms, input, output, error
       FROM run_logs WHERE run_id = $1 AND organization_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
      [runId, organizationId, page.after ?? '0', page.limit + 1],
    );
    const data = rows.slice(0, page.limit).map((row) => ({
      id: String(row.id),
      blockId: row.block_id,
      blockType: row.block_type,
      attempt: row.attempt,
      status: row.status,
      startedAt: (row.started_at as Date).toISOString(),
      finishedAt: (row.finished_at as Date | null)?.toISOString() ?? null,
      durationMs: row.duration_ms,
      input: row.input ?? null,
      output: row.output ?? null,
      error: row.error ?? null,
    }));
    return { data, next: rows.length > page.limit ? (data.at(-1)?.id ?? null) : null };
  }
}
