import type { Pool, PoolClient } from 'pg';
import { classifyDatabaseError } from '../database/pg-errors';
import { readCheckpointForPass, writeCheckpoint } from './checkpoints';
import type { EventPage, RecordedEvent } from './event';
import type { EventStore } from './event-store';
import { applyAll, handlesEvent, type Projection } from './projection';
import type { ProjectionFailures } from './projection-failures';

/** Serialises work on one projection across every process sharing the schema. */
export const PROJECTION_LOCK_SQL = `SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':projection:' || $1)) AS locked`;

/**
 * What one pass of a `SubscriptionRunner` does for each projection: one batch in one transaction
 * holding the projection's advisory lock — read after the checkpoint (in commit order, below the
 * oldest open transaction), apply, store the new checkpoint — so its rows and its checkpoint never
 * disagree, and an event that keeps failing is pinned and parked (`ProjectionFailures`). When
 * passes run is the runner's business.
 */
export class ProjectionBatches {
  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    private readonly failures: ProjectionFailures,
    private readonly defaultSize: number,
    /** Bytes of event data and metadata, as stored, a batch reads past its first event. */
    private readonly maxBytes: number,
  ) {}

  /** How many events a batch of `projection` reads at most (and at most `maxBytes` of them). */
  sizeOf(projection: Projection): number {
    return projection.batchSize ?? this.defaultSize;
  }

  /**
   * One batch of `projection` of at most `limit` events, sharing `reads` with the other
   * projections of the pass (keyed by where each read starts): how many events it read, whether
   * more were committed behind them (a backlog), and whether committed events were held back
   * behind an older open transaction. Throws only when the database is away.
   */
  async apply(projection: Projection, reads: Map<string, EventPage>, limit = this.sizeOf(projection)): Promise<{ read: number; more: boolean; heldBack: boolean }> {
    const client = await this.pool.connect();
    let current: number | undefined;
    let away = false;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ locked: boolean }>(PROJECTION_LOCK_SQL, [projection.name]);
      if (!rows[0]?.locked) {
        await client.query('ROLLBACK');
        return { read: 0, more: false, heldBack: false }; // another process is applying this projection right now
      }
      // Are committed events held back by an older open transaction? Then the runner retries soon
      // rather than at the poll (asked with the checkpoint read: no extra round trip).
      const { from, heldBack } = await readCheckpointForPass(client, projection.name, true);
      const key = `${from.transactionId}:${from.globalPosition}:${limit}`;
      const page = reads.get(key) ?? (await this.store.readAll(from, { limit, maxBytes: this.maxBytes, db: client }));
      reads.set(key, page);
      const { events } = page;
      const last = events.at(-1);
      const at = last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : from;
      const handled = await this.handledOf(client, projection, events);
      current = this.failures.positionOf(projection.name) ?? handled[0]?.globalPosition;
      await this.applyHandled(client, projection, handled, (position) => (current = position));
      if (last) await writeCheckpoint(client, projection.name, at, projection.awaited ? this.store.channel : undefined);
      await client.query('COMMIT');
      this.failures.clear(projection.name);
      return { read: events.length, more: page.more, heldBack };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // The database being away is no fault of the event: never count it towards parking.
      away = classifyDatabaseError(error) === 'unavailable';
      if (away) throw error;
      this.failures.record(projection.name, current, error);
      return { read: 0, more: false, heldBack: false };
    } finally {
      // A client that timed out may still be mid-query: destroyed, not pooled.
      client.release(away);
    }
  }

  /**
   * The events of the batch `projection` handles, less the one it keeps failing on once that is
   * parked. Only a projection whose last batch failed can park one: the others' events are
   * filtered without an await each (a burst's catch-up passed thousands of events through one,
   * and the function compiled with the loop was the costliest of the catch-up's compilations).
   */
  private async handledOf(client: PoolClient, projection: Projection, events: RecordedEvent[]): Promise<RecordedEvent[]> {
    const handled = events.filter((event) => handlesEvent(projection, event));
    const failed = this.failures.positionOf(projection.name);
    if (failed === undefined) return handled;
    const parked = handled.some((event) => event.globalPosition === failed) && (await this.failures.parkIfExhausted(client, projection.name, failed));
    return parked ? handled.filter((event) => event.globalPosition !== failed) : handled;
  }

  /**
   * The batch form first; once an event of this batch has failed, one event at a time, so the
   * failure is pinned on the right event (and that event can be parked after repeated failures).
   */
  private async applyHandled(client: PoolClient, projection: Projection, events: RecordedEvent[], at: (position: number) => void): Promise<void> {
    if (!this.failures.has(projection.name)) return applyAll(projection, client, events);
    for (const event of events) {
      at(event.globalPosition);
      await projection.apply(client, event);
    }
  }
}
