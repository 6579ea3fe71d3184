import type { Queryable } from '../projections/projection';
import { NotFound } from '../errors';

/** 404 `not_found` unless the run exists in this organization. */
export async function assertRunExists(db: Queryable, organizationId: string, runId: string): Promise<void> {
  const { rowCount } = await db.query('SELECT 1 FROM run_state WHERE run_id = $1 AND organization_id = $2', [runId, organizationId]);
  if (!rowCount) throw new NotFound('run');
}
