import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { canonicalJson } from '../audit/proof/canonical';
import {
  definitionOf,
  definitionStreamId,
  digestOfDefinitionStream,
  namesDefinition,
  resolvedRunStarted,
  storedRunStarted,
  type RunDefinition,
  type RunDefinitionRecorded,
} from '../domain/run/run-definition';
import type { RunStarted } from '../domain/run/run.events';
import type { EventMetadata, NewEvent } from '../event-store/event';
import type { Queryable } from '../event-store/projection';

// The store's side of `run-definition.ts`: writers record a start's definition once and store
// the start naming it; readers resolve the name before folding. See that file for why.

/**
 * Digests this process computed, by the `blocks` object they were computed from. A start's
 * definition is named by its handler, then checked by the writer (`RunDefinitionWriter.prepare`)
 * from the very same objects, which are never mutated once pinned: the first start of a 100-block
 * workflow hashed its 30 KB canonical form twice (0.5-1.1 ms each). Definitions read from the
 * store or a bundle are new objects, so they are always hashed.
 */
const computed = new WeakMap<object, RunDefinition & { digest: string }>();

/** SHA-256 (hex) of the definition's RFC 8785 form: its name, recomputable from the stored event. */
export function definitionDigest(definition: RunDefinition): string {
  const known = computed.get(definition.blocks);
  if (known && sameObjects(known, definition)) return known.digest;
  const digest = createHash('sha256').update(canonicalJson(definition)).digest('hex');
  computed.set(definition.blocks, { ...definition, digest });
  return digest;
}

/** The same definition by identity: the same workflow and blocks objects, for the same run identity. */
function sameObjects(a: RunDefinition, b: RunDefinition): boolean {
  return a.workflow === b.workflow && a.blocks === b.blocks && a.organizationId === b.organizationId && a.workflowId === b.workflowId && a.workflowVersion === b.workflowVersion;
}

/** Definitions resolved in this process, by digest. A digest names one content, so the cache holds across databases. */
const resolved = new Map<string, RunDefinition>();
const RESOLVED_LIMIT = 2_000;

/**
 * `events` with every `RunStarted` that names its definition joined with it, as the domain folds
 * them (the others as they are): one read by key for the definitions not resolved before in this
 * process, none in the steady state. Throws when a named definition is missing or does not hash to
 * its name (a corrupt store: folding it would run another workflow than the one pinned).
 */
export async function resolveRunDefinitions<E extends { type: string; data: unknown }>(db: Queryable, events: readonly E[]): Promise<E[]> {
  const named = events.filter((e) => e.type === 'RunStarted' && namesDefinition(e.data));
  if (named.length === 0) return events as E[];
  const missing = [...new Set(named.map((e) => (e.data as { definition: string }).definition))].filter((digest) => !resolved.has(digest));
  if (missing.length > 0) {
    const { rows } = await db.query<{ stream_id: string; data: RunDefinition }>(
      'SELECT stream_id, data FROM events WHERE stream_id = ANY($1::text[]) AND stream_version = 1',
      [missing.map(definitionStreamId)],
    );
    for (const row of rows) {
      const digest = digestOfDefinitionStream(row.stream_id)!; // read by those names
      // A name is only as good as its check: a definition stored under a name its content does not
      // hash to (a writer bypassing this module, an edited row) would run other blocks than the
      // runs that name it pinned. Checked once per definition per process.
      if (definitionDigest(row.data) !== digest) throw new Error(`run definition ${digest} does not hold the content it names`);
      if (resolved.size >= RESOLVED_LIMIT) resolved.delete(resolved.keys().next().value as string);
      resolved.set(digest, row.data);
    }
  }
  return events.map((event) => {
    if (event.type !== 'RunStarted' || !namesDefinition(event.data)) return event;
    const definition = resolved.get(event.data.definition);
    if (!definition) throw new Error(`run definition ${event.data.definition} is not in the store`);
    return { ...event, data: resolvedRunStarted(event.data, definition) };
  });
}

/** The one event of a definition stream (`run-definition.ts`), as it is written (here, and by `APPEND_ONE` with its start). */
export interface DefinitionRow {
  stream: string;
  type: string;
  data: unknown;
}

/**
 * Records definitions (each stream's one event, under its run's organization and metadata) unless
 * already there, in one statement: the streams this statement wrote. A concurrent writer of the
 * same stream waits for the other's commit and then writes nothing, so nobody fails on the race.
 */
export async function recordDefinitions(db: Queryable, rows: readonly (DefinitionRow & { organization: string; metadata: EventMetadata })[]): Promise<Set<string>> {
  const { rows: written } = await db.query<{ stream_id: string }>({
    name: 'thodare-record-definitions',
    text: `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata)
      SELECT d.stream, 1, d.organization, d.type, d.data, d.metadata
      FROM jsonb_to_recordset($1::jsonb) AS d(stream text, organization text, type text, data jsonb, metadata jsonb)
      ON CONFLICT ON CONSTRAINT events_stream_version_unique DO NOTHING RETURNING stream_id`,
    values: [JSON.stringify(rows)],
  });
  return new Set(written.map((row) => row.stream_id));
}

/** At most this many digests are remembered as recorded; past it the oldest is sent again (with its start). */
const RECORDED_LIMIT = 10_000;

/** A batch as the store holds it, and the definition its start names when that is not known to be recorded yet. */
export interface PreparedBatch {
  events: NewEvent[];
  definition?: DefinitionRow & { digest: string };
}

/**
 * The writers' side, one per store. A start that names its definition is stored without workflow
 * and blocks; until the definition is known to be committed, it is written along (`prepare`):
 * in the start's own statement when the start goes out alone, else just before it. Digests known
 * to be committed are remembered, so the steady state sends nothing more than before. In a
 * caller's transaction (`recordApart`) a definition may still be rolled back, so it is remembered
 * only when the write found it committed by another transaction: a connection's own earlier
 * writes (in this transaction, or one rolled back) cannot be told from that, so they are noted per
 * connection and never count.
 */
export class RunDefinitionWriter {
  private readonly recorded = new Set<string>();
  /** Digests checked to name their content (once per process each). */
  private readonly verified = new Set<string>();
  /** Definition streams a connection wrote in a caller's transaction (committed or not: unknown here). */
  private readonly writtenOn = new WeakMap<PoolClient, Set<string>>();

  constructor(private readonly pool: Pool) {}

  /** `events` as stored, and the definition to record with them (see the class). */
  prepare(events: readonly NewEvent[]): PreparedBatch {
    const index = events.findIndex((e) => e.type === 'RunStarted' && (e as RunStarted).data.definition !== undefined);
    if (index < 0) return { events: events as NewEvent[] };
    const data = (events[index] as RunStarted).data as RunStarted['data'] & { definition: string };
    const stored = [...events];
    stored[index] = { type: 'RunStarted', data: storedRunStarted(data) };
    if (this.recorded.has(data.definition)) return { events: stored };
    const definition = definitionOf(data);
    if (!this.verified.has(data.definition)) {
      // A start whose name does not match its content must never be stored.
      if (definitionDigest(definition) !== data.definition) throw new Error(`run ${data.runId}: definition ${data.definition} does not name its content`);
      this.verified.add(data.definition);
    }
    const event: RunDefinitionRecorded = { type: 'RunDefinitionRecorded', data: definition };
    return { events: stored, definition: { digest: data.definition, stream: definitionStreamId(data.definition), ...event } };
  }

  /** The batch that carried `digest`'s definition committed (an autocommit): later starts send nothing. */
  committed(digest: string): void {
    if (this.recorded.size >= RECORDED_LIMIT) this.recorded.delete(this.recorded.values().next().value as string);
    this.recorded.add(digest);
  }

  /**
   * Records the definitions of `batches` before the batches that name them, in one statement:
   * in `client`'s transaction when given, else as an autocommit (then known recorded).
   */
  async recordApart(batches: readonly (PreparedBatch & { organization: string; metadata: EventMetadata })[], client?: PoolClient): Promise<void> {
    const rows = new Map<string, DefinitionRow & { digest: string; organization: string; metadata: EventMetadata }>();
    for (const batch of batches) if (batch.definition) rows.set(batch.definition.stream, { ...batch.definition, organization: batch.organization, metadata: batch.metadata });
    if (rows.size === 0) return;
    const now = await recordDefinitions(client ?? this.pool, [...rows.values()].map(({ digest: _digest, ...row }) => row));
    if (!client) return rows.forEach((row) => this.committed(row.digest));
    const written = this.writtenOn.get(client) ?? new Set<string>();
    this.writtenOn.set(client, written);
    for (const row of rows.values()) {
      if (now.has(row.stream)) written.add(row.stream);
      else if (!written.has(row.stream)) this.committed(row.digest);
    }
  }
}
