import type { Pool, PoolClient } from 'pg';
import { applyAll, handlesEvent, type Projection } from '../projections/projection';
import { Checkpoint, type RecordedEvent } from './event';
import type { EventStore } from './event-store';
import type { Notifier } from './notifier';

export interface SubscriptionRunnerOptions {
  /** Poll fallback: the longest a lost notification can delay a projection. */
  pollIntervalMs: number;
  batchSize?: number;
  /** Attempts at one event before it is parked and the projection moves past it. */
  maxAttempts?: number;
  log?: (message: string, error?: unknown) => void;
}

/** Serialises work on one projection across every process sharing the schema. */
export const PROJECTION_LOCK_SQL = `SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':projection:' || $1)) AS locked`;

/**
 * Runs async projections in catch-up loops. Each batch is one transaction holding the
 * projection's advisory lock: read events after the checkpoint (in commit order, below the
 * oldest open transaction), apply them, store the new checkpoint — so a projection's rows and
 * its checkpoint can never disagree, and every event is applied exactly once, in order.
 * Woken by NOTIFY, by every listener reconnect, and by a poll timer.
 */
export class SubscriptionRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly failures = new Map<string, Failure>();

  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    private readonly projections: readonly Projection[],
    private readonly notifier: Notifier | undefined,
    private readonly options: SubscriptionRunnerOptions,
  ) {}

  async start(): Promise<void> {
    for (const p of this.projections) {
      await this.pool.query('INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING', [p.name]);
    }
    if (this.notifier) {
      await this.notifier.listen(this.store.channel, () => this.wake());
      this.notifier.onConnect(() => this.wake());
    }
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs passes until one finds nothing to do. Tests and `rebuild` use it to wait. */
  async drain(): Promise<void> {
    while (await this.pass()) { /* keep going */ }
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.drain().catch((error) => this.options.log?.('projection pass failed', error));
      } while (this.again && !this.stopped);
      this.running = undefined;
    })();
  }

  /** One batch per projection; true when any of them applied something. */
  private async pass(): Promise<boolean> {
    let progressed = false;
    for (const projection of this.projections) {
      if (this.stopped) return false;
      progressed = (await this.batch(projection)) > 0 || progressed;
    }
    return progressed;
  }

  private async batch(projection: Projection): Promise<number> {
    const client = await this.pool.connect();
    let current: number | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ locked: boolean }>(PROJECTION_LOCK_SQL, [projection.name]);
      if (!rows[0]?.locked) {
        await client.query('ROLLBACK');
        return 0; // another process is applying this projection right now
      }
      const from = await readCheckpoint(client, projection.name);
      const events = await this.store.readAll(from, { limit: this.options.batchSize ?? 1000, db: client });
      const handled = [];
      for (const event of events) {
        if (!handlesEvent(projection, event.type)) continue;
        if (this.shouldPark(projection.name, event.globalPosition)) await park(client, projection.name, event.globalPosition, this.failures.get(projection.name));
        else handled.push(event);
      }
      current = this.failures.get(projection.name)?.position ?? handled[0]?.globalPosition;
      await this.applyHandled(client, projection, handled, (position) => (current = position));
      const last = events.at(-1);
      if (last) await writeCheckpoint(client, projection.name, last);
      await client.query('COMMIT');
      this.failures.delete(projection.name);
      return events.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      this.recordFailure(projection.name, current, error);
      return 0;
    } finally {
      client.release();
    }
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

  private recordFailure(name: string, position: number | undefined, error: unknown): void {
    const previous = this.failures.get(name);
    const attempts = previous && previous.position === position ? previous.attempts + 1 : 1;
    if (position !== undefined) this.failures.set(name, { position, attempts, error: String(error) });
    this.options.log?.(`projection ${name} failed at event ${position} (attempt ${attempts})`, error);
  }

  private shouldPark(name: string, position: number): boolean {
    const failure = this.failures.get(name);
    return failure !== undefined && failure.position === position && failure.attempts >= (this.options.maxAttempts ?? 5);
  }
}

export async function readCheckpoint(client: PoolClient, name: string): Promise<Checkpoint> {
  const { rows } = await client.query<{ transaction_id: string; global_position: string }>(
    'SELECT transaction_id::text AS transaction_id, global_position FROM projection_checkpoints WHERE name = $1',
    [name],
  );
  const row = rows[0];
  return row ? { transactionId: row.transaction_id, globalPosition: Number(row.global_position) } : { transactionId: '0', globalPosition: 0 };
}

export async function writeCheckpoint(client: PoolClient, name: string, at: Checkpoint): Promise<void> {
  await client.query(
    `INSERT INTO projection_checkpoints (name, transaction_id, global_position, updated_at)
     VALUES ($1, $2::xid8, $3, now())
     ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
       global_position = EXCLUDED.global_position, updated_at = EXCLUDED.updated_at`,
    [name, at.transactionId, at.globalPosition],
  );
}

interface Failure {
  position: number;
  attempts: number;
  error: string;
}

async function park(client: PoolClient, name: string, position: number, failure: Failure | undefined): Promise<void> {
  await client.query(
    `INSERT INTO projection_parked_events (projection, global_position, error, attempts)
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [name, position, failure?.error ?? 'apply failed repeatedly', failure?.attempts ?? 0],
  );
}
