import type { RunStatus } from '../domain/run/run.state';
import type { Queryable } from '../event-store/projection';

// The reads other modules make of `run_state`, kept beside the table's writers so that its
// columns have one owner.

/** Whether run `runId` exists in this organization. */
export async function runExistsIn(db: Queryable, organizationId: string, runId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM run_state WHERE run_id = $1 AND organization_id = $2', [runId, organizationId]);
  return (rowCount ?? 0) > 0;
}

/** A run's status, pinned workflow version and stream version, as `run_state` has them (in the append's commit). */
export async function runHeadOf(db: Queryable, runId: string): Promise<{ status: RunStatus; workflowVersion: number; streamVersion: number } | undefined> {
  const { rows } = await db.query<{ status: RunStatus; workflow_version: number; stream_version: number }>(
    'SELECT status, workflow_version, stream_version FROM run_state WHERE run_id = $1',
    [runId],
  );
  return rows[0] && { status: rows[0].status, workflowVersion: rows[0].workflow_version, streamVersion: rows[0].stream_version };
}

/** Which of `runIds` have ended (completed, failed or cancelled), in one read. */
export function endedRunIds(db: Queryable, runIds: readonly string[]): Promise<Set<string>> {
  return runIdsWhere(db, runIds, 'IN');
}

/** Which of `runIds` have not ended (queued, running, sleeping or waiting), in one read. */
export function activeRunIds(db: Queryable, runIds: readonly string[]): Promise<Set<string>> {
  return runIdsWhere(db, runIds, 'NOT IN');
}

async function runIdsWhere(db: Queryable, runIds: readonly string[], terminal: 'IN' | 'NOT IN'): Promise<Set<string>> {
  if (runIds.length === 0) return new Set();
  const { rows } = await db.query<{ run_id: string }>(`SELECT run_id FROM run_state WHERE run_id = ANY($1) AND status ${terminal} ('completed', 'failed', 'cancelled')`, [runIds]);
  return new Set(rows.map((row) => row.run_id));
}

/**
 * Locks the `run_state` rows of `runIds` (of `organizationId`) that exist (FOR UPDATE, in run id
 * order) for the caller's transaction, and returns their ids. Every writer of a run takes its row
 * before it inserts the run's events (the one-statement appends, `append_run_batches`, and this
 * for the others), so writers of the same runs wait for each other instead of deadlocking.
 */
export async function lockRunRows(db: Queryable, organizationId: string, runIds: readonly string[]): Promise<string[]> {
  if (runIds.length === 0) return [];
  const { rows } = await db.query<{ run_id: string }>('SELECT run_id FROM run_state WHERE run_id = ANY($1) AND organization_id = $2 ORDER BY run_id FOR UPDATE', [runIds, organizationId]);
  return rows.map((row) => row.run_id);
}

/** One row of a run listing. `seq` (the position of `RunStarted`) is the keyset. */
export interface RunRow {
  run_id: string;
  workflow_id: string;
  workflow_version: number;
  status: string;
  error: unknown;
  waiting_for: unknown;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  seq: string;
}

/**
 * A page of the workflow's runs in `statuses` (those that have not ended for `not_ended`),
 * started in the window given, oldest first, after the run at `after` (its `seq`), and the cursor
 * of the next page (null on the last): the pages of the bulk cancel and the bulk rerun. Served by
 * `run_state_org_workflow_seq`.
 */
export async function runsOfWorkflow(
  db: Queryable,
  organizationId: string,
  workflowId: string,
  filter: { statuses: readonly string[] | 'not_ended'; startedAfter?: string; startedBefore?: string; after?: string; limit: number },
): Promise<{ runIds: string[]; next: string | null }> {
  const notEnded = filter.statuses === 'not_ended';
  const { rows } = await db.query<{ run_id: string; seq: string }>(
    `SELECT run_id, seq FROM run_state
     WHERE organization_id = $1 AND workflow_id = $2
       AND (CASE WHEN $7::boolean THEN status NOT IN ('completed', 'failed', 'cancelled') ELSE status = ANY ($8::text[]) END)
       AND ($3::timestamptz IS NULL OR started_at < $3) AND ($6::timestamptz IS NULL OR started_at >= $6) AND ($4::bigint IS NULL OR seq > $4)
     ORDER BY seq LIMIT $5`,
    [organizationId, workflowId, filter.startedBefore ?? null, filter.after ?? null, filter.limit + 1, filter.startedAfter ?? null, notEnded, notEnded ? [] : filter.statuses],
  );
  const page = rows.slice(0, filter.limit);
  return { runIds: page.map((row) => row.run_id), next: rows.length > filter.limit ? String(page.at(-1)!.seq) : null };
}

/** Up to `limit` runs of the organization, newest first, after keyset `after` (a `seq`). */
export async function listRunRows(
  db: Queryable,
  organizationId: string,
  filter: { workflowId?: string; status?: string; after?: string; limit: number },
): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT run_id, workflow_id, workflow_version, status, error, waiting_for, created_at, started_at, ended_at, seq
     FROM run_state
     WHERE organization_id = $1 AND ($2::text IS NULL OR workflow_id = $2) AND ($3::text IS NULL OR status = $3)
       AND ($4::bigint IS NULL OR seq < $4)
     ORDER BY seq DESC LIMIT $5`,
    [organizationId, filter.workflowId ?? null, filter.status ?? null, filter.after ?? null, filter.limit],
  );
  return rows;
}
