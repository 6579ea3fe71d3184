import type { Pool, PoolClient } from 'pg';
import { classifyDatabaseError } from '../database/pg-errors';
import { WORKER_LOCK_KEY_SQL } from '../run-queue/run-claims';


/**
 * Proof of life of one worker process: a session-level advisory lock on its owner id, held on a
 * connection of its own for as long as the process lives. Postgres drops it the moment that
 * connection goes — a SIGKILL, a crash, a lost network — so another worker that can take the lock
 * knows the owner is gone and takes its runs over at once, without waiting for their leases
 * (see `RunClaims.reapDead`; the `workers` table lists who to look at). A live worker whose lock
 * connection drops takes it again.
 */
export class WorkerLiveness {
  private client: PoolClient | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly owner: string,
    private readonly warn: (data: object, message: string) => void,
    /** Reports an outage and resolves when the database answers again (see `DatabaseOutage`). */
    private readonly away: (error: unknown) => Promise<void>,
  ) {}

  /** Takes the lock; on failure keeps trying in the background (the worker runs meanwhile). */
  async start(): Promise<void> {
    let client: PoolClient | undefined;
    try {
      client = await this.pool.connect();
      const taking = client;
      taking.on('error', () => this.lost(taking));
      taking.on('end', () => this.lost(taking));
      await taking.query(`SELECT pg_advisory_lock(${WORKER_LOCK_KEY_SQL('$1')})`, [this.owner]);
      // Listed only once the lock is held (again, after a reconnect: a peer may have forgotten us).
      await taking.query('INSERT INTO workers (owner) VALUES ($1) ON CONFLICT DO NOTHING', [this.owner]);
      if (this.stopped) return taking.release(true);
      this.client = taking;
    } catch (error) {
      // Not ours yet (`lost` ignores it): closed here, or it would stay checked out of the pool
      // for good and the pool's end, at shutdown, would wait for it forever.
      client?.release(true);
      if (classifyDatabaseError(error) === 'unavailable') {
        void this.away(error).then(() => (this.stopped ? undefined : this.start()));
        return;
      }
      this.warn({ err: error }, 'could not take the worker liveness lock; retrying');
      this.later();
    }
  }

  /** Releases the lock (by closing its connection). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    client?.release(true);
  }

  private lost(client: PoolClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.release(true);
    this.later();
  }


  private later(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.start(), 1_000);
  }
}
