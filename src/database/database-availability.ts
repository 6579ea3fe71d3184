import type { Pool, PoolClient } from 'pg';
import { classifyDatabaseError } from './pg-errors';

/** Where the outage lines go. */
export interface AvailabilityLog {
  warn(data: object, message: string): void;
  log(data: object, message: string): void;
}

/**
 * The API process's view of the database being away, so an outage is logged once when it starts
 * and once when it ends — not once per failed request. Failures are reported by whoever turns
 * them into responses (the exception filter); recovery is seen on the pool: a client checked out
 * after the outage began and released without an error has run its queries.
 */
export class DatabaseAvailability {
  private down: { since: number; failures: number } | undefined;
  /** Bumped when an outage starts; a client checked out before it proves nothing. */
  private outage = 0;
  private readonly checkedOutIn = new WeakMap<PoolClient, number>();

  constructor(
    private readonly log: AvailabilityLog,
    private readonly now: () => number = Date.now,
  ) {}

  watch(pool: Pool): this {
    pool.on('acquire', (client) => this.checkedOutIn.set(client, this.outage));
    pool.on('release', (error: Error | boolean | undefined, client: PoolClient) => {
      if (!error && this.down && this.checkedOutIn.get(client) === this.outage) this.recovered();
    });
    return this;
  }

  /** Whether `error` means the database is unavailable; the first of an outage is logged. */
  report(error: unknown): boolean {
    if (classifyDatabaseError(error) !== 'unavailable') return false;
    if (this.down) {
      this.down.failures += 1;
      return true;
    }
    this.outage += 1;
    this.down = { since: this.now(), failures: 1 };
    const message = error instanceof Error ? error.message : String(error);
    this.log.warn({ reason: message }, 'database unavailable: answering 503 database_unavailable until it answers again');
    return true;
  }

  private recovered(): void {
    const down = this.down!;
    this.down = undefined;
    this.log.log({ downForMs: this.now() - down.since, failedRequests: down.failures }, 'database available again');
  }
}
