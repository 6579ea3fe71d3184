import type { PoolClient } from 'pg';

interface Failure {
  position: number;
  attempts: number;
  error: string;
}

/**
 * The events an async projection keeps failing on, per projection: where it failed and how
 * often. An event that failed `maxAttempts` times in a row is parked (recorded in
 * `projection_parked_events`) and the projection moves past it, so one poison event never stops
 * a read model. The database being away is no fault of the event and is never recorded here.
 */
export class ProjectionFailures {
  private readonly failures = new Map<string, Failure>();

  constructor(
    private readonly maxAttempts: number,
    private readonly log?: (message: string, error: unknown) => void,
  ) {}

  /** Whether some projection's last batch failed (the runner is then not caught up). */
  get any(): boolean {
    return this.failures.size > 0;
  }

  /** Whether `name`'s last batch failed: its next one applies event by event, to pin the failure. */
  has(name: string): boolean {
    return this.failures.has(name);
  }

  /** Where `name` last failed, if it did. */
  positionOf(name: string): number | undefined {
    return this.failures.get(name)?.position;
  }

  /** A batch of `name` failed at `position` (undefined: before any event). */
  record(name: string, position: number | undefined, error: unknown): void {
    const previous = this.failures.get(name);
    const attempts = previous && previous.position === position ? previous.attempts + 1 : 1;
    if (position !== undefined) this.failures.set(name, { position, attempts, error: String(error) });
    this.log?.(`projection ${name} failed at event ${position} (attempt ${attempts})`, error);
  }

  /** A batch of `name` committed. */
  clear(name: string): void {
    this.failures.delete(name);
  }

  /** Parks the event at `position` in `client`'s transaction when it has failed too often; whether it did. */
  async parkIfExhausted(client: PoolClient, name: string, position: number): Promise<boolean> {
    const failure = this.failures.get(name);
    if (failure === undefined || failure.position !== position || failure.attempts < this.maxAttempts) return false;
    await client.query(
      `INSERT INTO projection_parked_events (projection, global_position, error, attempts)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [name, position, failure.error, failure.attempts],
    );
    return true;
  }
}
