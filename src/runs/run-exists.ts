import type { Queryable } from '../event-store/projection';
import { NotFound } from '../errors';
import { runExistsIn } from '../run-queue/run-state.queries';

/** 404 `not_found` unless the run exists in this organization. */
export async function assertRunExists(db: Queryable, organizationId: string, runId: string): Promise<void> {
  if (!(await runExistsIn(db, organizationId, runId))) throw new NotFound('run');
}
