import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { assertRunExists } from './run-exists';

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
 * `GET /api/runs/:id/logs`: one row per step attempt in the order they started, keyset-paginated.
 * Inputs are as recorded: resolved params with hidden values `"[hidden]"`. The `run_logs` read
 * model is asynchronous: it follows the run within a poll interval.
 */
export class RunLogsQuery extends Query<RunLogPage> {
  constructor(
    readonly organizationId: string,
    readonly runId: string,
    readonly page: { after?: string; limit: number },
  ) {
    super();
  }
}

@QueryHandler(RunLogsQuery)
export class RunLogsHandler implements IQueryHandler<RunLogsQuery, RunLogPage> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, runId, page }: RunLogsQuery): Promise<RunLogPage> {
    await assertRunExists(this.pool, organizationId, runId);
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
