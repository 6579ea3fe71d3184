import type { SerializedWorkflow } from '../domain/workflow/workflow';
import type { Queryable } from '../event-store/projection';

/** A workflow as the `workflows` read model holds it now. */
export interface CurrentWorkflow {
  id: string;
  /** The workflow version (1 at creation, +1 per batch that changed something). */
  version: number;
  workflow: SerializedWorkflow;
  /**
   * The `workflow-<id>` stream's version, read from the events table in the same statement as
   * the row: the expected version of the next append, even if another capability appends its
   * own facts to workflow streams.
   */
  streamVersion: number;
}

/**
 * The current, non-deleted workflow of an organization; undefined when it does not exist, is
 * deleted or belongs to another organization. Reads the inline `workflows` projection, so it
 * sees every committed patch (the runtime pins this at run start).
 */
export async function getCurrentWorkflow(db: Queryable, organizationId: string, workflowId: string): Promise<CurrentWorkflow | undefined> {
  const { rows } = await db.query<{ id: string; version: number; workflow: SerializedWorkflow; stream_version: number }>({
    name: 'thodare_current_workflow',
    text: `SELECT id, version, workflow,
            (SELECT max(stream_version) FROM events WHERE stream_id = 'workflow-' || workflows.id) AS stream_version
     FROM workflows
     WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL`,
    values: [workflowId, organizationId],
  });
  const row = rows[0];
  return row && { id: row.id, version: row.version, workflow: row.workflow, streamVersion: row.stream_version };
}

/** Whether the organization has (or had: deleted ones count) a workflow of this id. */
export async function workflowKnownIn(db: Queryable, organizationId: string, workflowId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM workflows WHERE id = $1 AND organization_id = $2', [workflowId, organizationId]);
  return (rowCount ?? 0) > 0;
}
