import type { Pool } from 'pg';
import { AppError } from '../errors';
import { classifyDatabaseError } from './pg-errors';

/** How long a client is asked to wait while the replica is away (its `retry-after`, in whole seconds). */
const RETRY_AFTER_MS = 5_000;

export class ReadReplicaUnavailable extends AppError {
  constructor() {
    super('read_replica_unavailable', 'the read replica (THODARE_READ_REPLICA_URL) is unavailable or not answering; retry shortly', { retryAfterMs: RETRY_AFTER_MS });
  }
}

/**
 * `THODARE_READ_REPLICA_URL`: a hot standby of the deployment's database (a streaming replica),
 * for reads that only need committed history and may lag it: audit exports
 * (`GET /api/audit/export`), which read an organization's whole sealed history, leave the
 * primary to the runs. What a replica serves is a consistent state of the primary's as of its
 * replay: a bundle ends at the last seal it has, and verifies. Analysts' roles
 * (`thodare analytics grant`) are cluster-wide, so they log in to the replica as they would to
 * the primary.
 *
 * A replica that does not answer is a 503 `read_replica_unavailable` for those reads: they do
 * not fall back to the primary, which the replica is there to spare, and the primary's own
 * outage reporting (`database_unavailable`) stays about the primary.
 */
export class ReadReplica {
  constructor(
    private readonly replica: Pool | undefined,
    private readonly primary: Pool,
  ) {}

  /** Where a lag-tolerant read goes: the replica when one is configured and answers, else the primary. */
  async pool(): Promise<{ db: Pool; source: 'replica' | 'primary' }> {
    if (!this.replica) return { db: this.primary, source: 'primary' };
    try {
      await this.replica.query('SELECT 1');
    } catch (error) {
      if (classifyDatabaseError(error) === 'unavailable') throw new ReadReplicaUnavailable();
      throw error;
    }
    return { db: this.replica, source: 'replica' };
  }

  async close(): Promise<void> {
    await this.replica?.end().catch(() => undefined);
  }
}
