'use strict';

// Every unique key of a per-organization table includes `organization_id` (docs/scaling.md,
// "Past one database"): Citus, distributing these tables by it, accepts a primary key or unique
// constraint only when it holds the distribution column. It is appended last, so every lookup
// that used a key's leading columns still uses them. Nothing a key kept unique changes: each
// key's other columns were already unique per organization (server-made ids; streams, ticks and
// deliveries are each one organization's), so the organization can only repeat what they name.
//
// The keys keep their names: writes since the release before this one name them (`ON CONFLICT ON
// CONSTRAINT …`), so that release keeps working against either key during a rolling deploy, and
// the code tells a stream version conflict and a webhook's repeated delivery by them.
//
// Online, and so JavaScript rather than SQL: rebuilding a key in place (`DROP CONSTRAINT …, ADD
// PRIMARY KEY …`) holds the table's ACCESS EXCLUSIVE lock while the index builds, and on a store of
// millions of events every append would wait that long. Each new index is built with CREATE INDEX
// CONCURRENTLY, which runs outside a transaction and lets writes go on, and then takes the old
// key's place in one short statement. The migration resumes where it stopped: a key that already
// has its columns is skipped, a finished new index is reused, and one a cancelled build left
// invalid is dropped and built again.

/** Each key before this migration: its table, name, kind, columns and, for a partial index, its predicate. */
const KEYS = [
  { table: 'analytics_runs', name: 'analytics_runs_pkey', kind: 'PRIMARY KEY', columns: ['run_id'] },
  { table: 'analytics_step_attempts', name: 'analytics_step_attempts_pkey', kind: 'PRIMARY KEY', columns: ['id'] },
  { table: 'analytics_step_attempts', name: 'analytics_step_attempts_key', kind: 'UNIQUE', columns: ['run_id', 'block_id', 'attempt'] },
  { table: 'analytics_waits', name: 'analytics_waits_pkey', kind: 'PRIMARY KEY', columns: ['run_id', 'block_id'] },
  { table: 'analytics_workflow_edits', name: 'analytics_workflow_edits_pkey', kind: 'PRIMARY KEY', columns: ['workflow_id', 'transaction_id'] },
  { table: 'api_key_credentials', name: 'api_key_credentials_pkey', kind: 'PRIMARY KEY', columns: ['api_key_id'] },
  { table: 'api_key_credentials', name: 'api_key_credentials_key_hash_key', kind: 'UNIQUE', columns: ['key_hash'] },
  { table: 'api_keys', name: 'api_keys_pkey', kind: 'PRIMARY KEY', columns: ['id'] },
  { table: 'audit_seals', name: 'audit_seals_global_position_key', kind: 'UNIQUE', columns: ['global_position'] },
  { table: 'event_triggers', name: 'event_triggers_pkey', kind: 'PRIMARY KEY', columns: ['workflow_id'] },
  { table: 'events', name: 'events_pkey', kind: 'PRIMARY KEY', columns: ['global_position'] },
  { table: 'events', name: 'events_stream_version_unique', kind: 'UNIQUE', columns: ['stream_id', 'stream_version'] },
  { table: 'invitation_tokens', name: 'invitation_tokens_pkey', kind: 'PRIMARY KEY', columns: ['invitation_id'] },
  { table: 'invitation_tokens', name: 'invitation_tokens_token_hash_key', kind: 'UNIQUE', columns: ['token_hash'] },
  { table: 'invitations', name: 'invitations_pkey', kind: 'PRIMARY KEY', columns: ['id'] },
  { table: 'org_events', name: 'org_events_pkey', kind: 'PRIMARY KEY', columns: ['event_id'] },
  { table: 'run_approvals', name: 'run_approvals_pkey', kind: 'PRIMARY KEY', columns: ['token_hash'] },
  { table: 'run_concurrency', name: 'run_concurrency_pkey', kind: 'PRIMARY KEY', columns: ['run_id'] },
  { table: 'run_event_waits', name: 'run_event_waits_pkey', kind: 'PRIMARY KEY', columns: ['run_id', 'block_id'] },
  { table: 'run_failures', name: 'run_failures_pkey', kind: 'PRIMARY KEY', columns: ['run_id'] },
  { table: 'run_logs', name: 'run_logs_pkey', kind: 'PRIMARY KEY', columns: ['id'] },
  { table: 'run_logs', name: 'run_logs_attempt_unique', kind: 'UNIQUE', columns: ['run_id', 'block_id', 'attempt'] },
  { table: 'run_state', name: 'run_state_pkey', kind: 'PRIMARY KEY', columns: ['run_id'] },
  { table: 'schedule_ticks', name: 'schedule_ticks_pkey', kind: 'PRIMARY KEY', columns: ['global_position'] },
  { table: 'schedule_ticks', name: 'schedule_ticks_fired_once', kind: 'INDEX', columns: ['schedule_id', 'tick'], where: "outcome = 'fired'" },
  { table: 'schedules', name: 'schedules_pkey', kind: 'PRIMARY KEY', columns: ['schedule_id'] },
  { table: 'webhook_deliveries', name: 'webhook_deliveries_pkey', kind: 'PRIMARY KEY', columns: ['delivery_id'] },
  { table: 'webhook_deliveries', name: 'webhook_deliveries_dedupe', kind: 'INDEX', columns: ['webhook_id', 'dedupe_key'], where: 'dedupe_key IS NOT NULL' },
  { table: 'webhooks', name: 'webhooks_pkey', kind: 'PRIMARY KEY', columns: ['webhook_id'] },
  { table: 'workflow_versions', name: 'workflow_versions_pkey', kind: 'PRIMARY KEY', columns: ['workflow_id', 'version'] },
  { table: 'workflows', name: 'workflows_pkey', kind: 'PRIMARY KEY', columns: ['id'] },
];

/** How long a key's swap waits for the table's lock before it gives way to the writers and tries again. */
const SWAP_LOCK_TIMEOUT = '2s';
const SWAP_TRIES = 30;

exports.up = (pgm) => rebuildKeys(pgm, (key) => [...key.columns, 'organization_id']);
exports.down = (pgm) => rebuildKeys(pgm, (key) => key.columns);

async function rebuildKeys(pgm, columnsOf) {
  pgm.noTransaction();
  for (const key of KEYS) await rebuildKey(pgm.db, key, columnsOf(key));
}

async function rebuildKey(db, key, columns) {
  if (sameColumns(await indexColumns(db, key.name), columns)) return;
  const next = `${key.name}_next`;
  const built = await db.select(
    `SELECT x.indisvalid AS valid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE i.relname = $1 AND i.relnamespace = current_schema()::regnamespace`,
    [next],
  );
  const reusable = built.length > 0 && built[0].valid && sameColumns(await indexColumns(db, next), columns);
  if (built.length > 0 && !reusable) await db.query(`DROP INDEX CONCURRENTLY ${next}`);
  if (!reusable) {
    const predicate = key.where ? ` WHERE ${key.where}` : '';
    await db.query(`CREATE UNIQUE INDEX CONCURRENTLY ${next} ON ${key.table} (${columns.join(', ')})${predicate}`);
  }
  // A partial index is no constraint: it is swapped by name. ADD … USING INDEX renames the new index to the key's name.
  const swap =
    key.kind === 'INDEX'
      ? [`DROP INDEX ${key.name}`, `ALTER INDEX ${next} RENAME TO ${key.name}`]
      : [`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name}, ADD CONSTRAINT ${key.name} ${key.kind} USING INDEX ${next}`];
  await swapWhenLocked(db, swap);
}

/**
 * The swap holds the table's ACCESS EXCLUSIVE lock for a moment, but waiting for it would queue
 * every writer behind a long transaction: it waits at most SWAP_LOCK_TIMEOUT, then lets them
 * through and tries again.
 */
async function swapWhenLocked(db, statements) {
  for (let tried = 1; ; tried++) {
    await db.query('BEGIN');
    try {
      await db.query(`SET LOCAL lock_timeout = '${SWAP_LOCK_TIMEOUT}'`);
      for (const statement of statements) await db.query(statement);
      await db.query('COMMIT');
      return;
    } catch (error) {
      await db.query('ROLLBACK');
      const lockTimedOut = error && error.code === '55P03';
      if (!lockTimedOut || tried >= SWAP_TRIES) throw error;
    }
  }
}

async function indexColumns(db, name) {
  const rows = await db.select(
    `SELECT a.attname AS column FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
     WHERE i.relname = $1 AND i.relnamespace = current_schema()::regnamespace
     ORDER BY k.ord`,
    [name],
  );
  return rows.map((r) => r.column);
}

function sameColumns(a, b) {
  return a.length === b.length && a.every((column, i) => column === b[i]);
}
