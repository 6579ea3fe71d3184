import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';

const PREFIX = 'workflow-';

/**
 * `workflows` (current state of every workflow) and `workflow_versions` (where each version's
 * JSON is), inline so a patch's response and the next read agree (read-your-writes).
 * WorkflowCreated and WorkflowPatched carry the whole workflow, so this never re-runs `apply`;
 * the JSON is copied from the event row inside Postgres rather than sent over the wire again.
 * Op events (EditOpApplied/EditOpSkipped) are history only: they do not touch these tables.
 */
export const workflowsProjection: Projection = {
  name: 'workflows',
  mode: 'inline',
  handles: ['WorkflowCreated', 'WorkflowPatched', 'WorkflowDeleted'],
  tables: ['workflows', 'workflow_versions'],
  async apply(db, event) {
    const id = event.streamId.slice(PREFIX.length);
    switch (event.type) {
      case 'WorkflowCreated':
        await created(db, id, event);
        return;
      case 'WorkflowPatched':
        await patched(db, id, event);
        return;
      case 'WorkflowDeleted':
        await db.query('UPDATE workflows SET deleted_at = $2, stream_version = $3, updated_at = $2 WHERE id = $1', [id, event.recordedAt, event.streamVersion]);
        return;
    }
  },
};

function created(db: Queryable, id: string, event: RecordedEvent): Promise<unknown> {
  return db.query(
    `WITH version AS (
       INSERT INTO workflow_versions (workflow_id, version, organization_id, global_position, created_at) VALUES ($1, 1, $2, $3, $5)
     )
     INSERT INTO workflows (id, organization_id, name, description, version, stream_version, workflow, created_at, updated_at)
     SELECT $1, $2, data->'workflow'->'metadata'->>'name', data->'workflow'->'metadata'->>'description', 1, $4, data->'workflow', $5, $5
     FROM events WHERE global_position = $3`,
    [id, event.organizationId, event.globalPosition, event.streamVersion, event.recordedAt],
  );
}

function patched(db: Queryable, id: string, event: RecordedEvent): Promise<unknown> {
  const { version } = event.data as { version: number };
  return db.query(
    `WITH version AS (
       INSERT INTO workflow_versions (workflow_id, version, organization_id, global_position, created_at) VALUES ($1, $2, $3, $4, $6)
     )
     UPDATE workflows w SET name = e.data->'workflow'->'metadata'->>'name', description = e.data->'workflow'->'metadata'->>'description',
       version = $2, stream_version = $5, workflow = e.data->'workflow', updated_at = $6
     FROM events e WHERE w.id = $1 AND e.global_position = $4`,
    [id, version, event.organizationId, event.globalPosition, event.streamVersion, event.recordedAt],
  );
}
