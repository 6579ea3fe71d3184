import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { canonicalJson } from '../audit/proof/canonical';
import {
  definitionOf,
  definitionStreamId,
  namesDefinition,
  resolvedRunStarted,
  storedRunStarted,
  type RunDefinition,
  type RunDefinitionRecorded,
} from '../domain/run/run-definition';
import type { RunStarted } from '../domain/run/run.events';
import type { EventMetadata, NewEvent } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import type { Queryable } from '../event-store/projection';

// The store's side of `run-definition.ts`: writers record a start's definition once and store
// the start naming it; readers resolve the name before folding. See that file for why.

/** SHA-256 (hex) of the definition's RFC 8785 form: its name, recomputable from the stored event. */
export function definitionDigest(definition: RunDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

/** Definitions resolved in this process, by digest. A digest names one content, so the cache holds across databases. */
const resolved = new Map<string, RunDefinition>();
const RESOLVED_LIMIT = 2_000;

/**
 * `events` with every `RunStarted` that names its definition joined with it, as the domain folds
 * them (the others as they are): one read by key for the definitions not resolved before in this
 * process, none in the steady state. Throws when a named definition is missing (a corrupt store).
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
      if (resolved.size >= RESOLVED_LIMIT) resolved.delete(resolved.keys().next().value as string);
      resolved.set(row.stream_id.slice(definitionStreamId('').length), row.data);
    }
  }
  return events.map((event) => {
    if (event.type !== 'RunStarted' || !namesDefinition(event.data)) return event;
    const definition = resolved.get(event.data.definition);
    if (!definition) throw new Error(`run definition ${event.data.definition} is not in the store`);
    return { ...event, data: resolvedRunStarted(event.data, definition) };
  });
}

/** At most this many digests are remembered as recorded; past it the oldest is asked again (one cheap statement). */
const RECORDED_LIMIT = 10_000;

/** One run's batch to store, with the metadata its events are stored under. */
export interface BatchToStore {
  events: readonly NewEvent[];
  metadata: EventMetadata;
}

/**
 * The writers' side, one per store: turns batches into what is stored. A start that names its
 * definition is stored without workflow and blocks, once its `RunDefinitionRecorded` is in the
 * store. Digests known to be committed are remembered, so the steady state writes and asks
 * nothing more than before. In a caller's transaction a definition this call writes may still be
 * rolled back, so it is remembered only when the write found it committed by another
 * transaction: a connection's own earlier write (in this transaction or one rolled back) cannot
 * be told from that, so those writes are noted per connection and never count.
 */
export class RunDefinitionWriter {
  private readonly recorded = new Set<string>();
  /** Autocommitted writes in flight, by digest: concurrent starts of one new definition share one. */
  private readonly writing = new Map<string, Promise<void>>();
  /** Digests a connection wrote in a caller's transaction (committed or not: unknown here). */
  private readonly writtenOn = new WeakMap<PoolClient, Set<string>>();

  constructor(private readonly store: EventStore) {}

  /** Each batch as the store holds it; `client`: the caller's transaction, when there is one. */
  async storedBatches(batches: readonly BatchToStore[], client?: PoolClient): Promise<NewEvent[][]> {
    const thisCall = new Set<string>();
    const out: NewEvent[][] = [];
    for (const batch of batches) {
      let stored: NewEvent[] | undefined;
      for (const [i, event] of batch.events.entries()) {
        const data = (event as RunStarted).data;
        if (event.type !== 'RunStarted' || data.definition === undefined) continue;
        const named = data as RunStarted['data'] & { definition: string };
        if (!this.recorded.has(named.definition) && !thisCall.has(named.definition)) {
          await this.record(named, batch.metadata, client);
          thisCall.add(named.definition);
        }
        stored ??= [...batch.events];
        stored[i] = { type: event.type, data: storedRunStarted(named) };
      }
      out.push(stored ?? [...batch.events]);
    }
    return out;
  }

  private async record(data: RunStarted['data'] & { definition: string }, metadata: EventMetadata, client: PoolClient | undefined): Promise<void> {
    const definition = definitionOf(data);
    // Once per definition per process: a start whose name does not match its content must never be stored.
    if (definitionDigest(definition) !== data.definition) throw new Error(`run ${data.runId}: definition ${data.definition} does not name its content`);
    const streamId = definitionStreamId(data.definition);
    const event: RunDefinitionRecorded = { type: 'RunDefinitionRecorded', data: definition };
    const options = { organizationId: data.organizationId, metadata };
    if (client) {
      const written = this.writtenOn.get(client) ?? new Set<string>();
      this.writtenOn.set(client, written);
      if (await this.store.appendOnce(streamId, event, { ...options, client })) written.add(data.definition);
      else if (!written.has(data.definition)) this.remember(data.definition);
      return;
    }
    let writing = this.writing.get(data.definition);
    if (!writing) {
      writing = this.store.appendOnce(streamId, event, options).then(() => this.remember(data.definition));
      writing.finally(() => this.writing.delete(data.definition)).catch(() => undefined);
      this.writing.set(data.definition, writing);
    }
    await writing;
  }

  private remember(digest: string): void {
    if (this.recorded.size >= RECORDED_LIMIT) this.recorded.delete(this.recorded.values().next().value as string);
    this.recorded.add(digest);
  }
}
