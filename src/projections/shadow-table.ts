import type { Queryable } from '../event-store/projection';

/**
 * A live table of an inline projection and its shadow: a temporary table of the same name and
 * shape. On the rebuild's connection the temporary table hides the live one from unqualified SQL
 * (`pg_temp` is searched first), so the projection's own `apply` replays into it unchanged, while
 * every other connection keeps reading and writing the live table.
 */
export interface ShadowTable {
  /** The live table, schema-qualified and quoted. */
  live: string;
  /** The shadow, `pg_temp`-qualified and quoted. */
  shadow: string;
  /** The primary key's columns: how shadow rows meet live ones. */
  key: string[];
  /** The columns the rebuild owns: all but the key's and the operational ones. */
  projected: string[];
  /** Every stored (non-generated) column. */
  columns: string[];
}

export interface MergeCounts {
  updated: number;
  inserted: number;
  deleted: number;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const list = (columns: string[], alias?: string) => columns.map((c) => (alias ? `${alias}.${quote(c)}` : quote(c))).join(', ');

/**
 * Creates the empty shadow of `table` (same columns, defaults, constraints and indexes) on this
 * connection. Call it before anything else on the connection resolves `table` to the shadow.
 */
export async function createShadow(db: Queryable, table: string, operational: readonly string[] = []): Promise<ShadowTable> {
  const { rows: found } = await db.query<{ oid: number; schema: string }>(
    `SELECT c.oid, n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = to_regclass($1) AND n.nspname NOT LIKE 'pg_temp%'`,
    [quote(table)],
  );
  const relation = found[0];
  if (!relation) throw new Error(`cannot rebuild ${table}: no such table in the current schema`);
  const { rows } = await db.query<{ name: string; key: boolean }>(
    `SELECT a.attname AS name, coalesce(a.attnum = ANY (i.indkey), false) AS key
     FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
     WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     ORDER BY a.attnum`,
    [relation.oid],
  );
  const columns = rows.map((r) => r.name);
  const key = rows.filter((r) => r.key).map((r) => r.name);
  if (key.length === 0) throw new Error(`cannot rebuild ${table} live: it has no primary key`);
  const unknown = operational.filter((c) => !columns.includes(c));
  if (unknown.length > 0) throw new Error(`${table} has no column ${unknown.join(', ')} (declared operational)`);
  const live = `${quote(relation.schema)}.${quote(table)}`;
  const shadow = `pg_temp.${quote(table)}`;
  await db.query(`DROP TABLE IF EXISTS ${shadow}`);
  await db.query(`CREATE TEMPORARY TABLE ${quote(table)} (LIKE ${live} INCLUDING ALL)`);
  const projected = columns.filter((c) => !key.includes(c) && !operational.includes(c));
  return { live, shadow, key, projected, columns };
}

/**
 * Makes the live table hold the shadow's rows, writing only what differs: rows the events no
 * longer produce go, missing rows come in whole, and existing rows get the projected columns
 * whose text differs — their operational columns stay as they are live. Run it while holding a
 * lock that keeps writers out (the caller's `LOCK … IN EXCLUSIVE MODE`; readers go on).
 */
export async function mergeShadow(db: Queryable, table: ShadowTable): Promise<MergeCounts> {
  const { live, shadow, key, projected, columns } = table;
  const same = key.map((c) => `l.${quote(c)} = s.${quote(c)}`).join(' AND ');
  const deleted = await db.query(`DELETE FROM ${live} AS l WHERE NOT EXISTS (SELECT 1 FROM ${shadow} AS s WHERE ${same})`);
  let updated = 0;
  if (projected.length > 0) {
    // Compared as text, column by column: equal values that print differently (a timestamp's
    // microseconds, numeric scale) count as different, and types without `=` (json) compare too.
    const changed = `ROW(${list(projected, 'l')})::text IS DISTINCT FROM ROW(${list(projected, 's')})::text`;
    const set = projected.map((c) => `${quote(c)} = s.${quote(c)}`).join(', ');
    const result = await db.query(`UPDATE ${live} AS l SET ${set} FROM ${shadow} AS s WHERE ${same} AND ${changed}`);
    updated = result.rowCount ?? 0;
  }
  const inserted = await db.query(
    `INSERT INTO ${live} (${list(columns)}) SELECT ${list(columns, 's')} FROM ${shadow} AS s
     WHERE NOT EXISTS (SELECT 1 FROM ${live} AS l WHERE ${same})`,
  );
  return { updated, inserted: inserted.rowCount ?? 0, deleted: deleted.rowCount ?? 0 };
}
