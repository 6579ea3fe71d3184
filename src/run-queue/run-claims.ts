import type { Pool } from 'pg';
import type { WorkerOrganizations } from '../config/config';
import type { RunEvent } from '../domain/run/run.events';
import type { Queryable } from '../event-store/projection';
import { resolveRunDefinitions } from './run-definitions';

/**
 * The advisory lock key of a worker's liveness lock (see `WorkerLiveness`), in the deployment's
 * schema (several share a cluster). `owner` is SQL: a parameter or a column.
 */
export const WORKER_LOCK_KEY_SQL = (owner: string) => `hashtextextended(current_schema() || ':worker:' || ${owner}, 0)`;

/** A run this worker now holds. */
export interface ClaimedRun {
  runId: string;
  organizationId: string;
  streamVersion: number;
  epoch: number;
  /** A short stream comes with the claim (saves a read); compare its length with `streamVersion`. */
  events?: RunEvent[];
}

interface ClaimRow {
  run_id: string;
  organization_id: string;
  stream_version: number;
  lease_epoch: number;
  events?: RunEvent[] | null;
}

const toClaim = (row: ClaimRow): ClaimedRun => ({
  runId: row.run_id,
  organizationId: row.organization_id,
  streamVersion: row.stream_version,
  epoch: row.lease_epoch,
  ...(row.events ? { events: row.events } : {}),
});

/** The claims, their inline streams' starts joined with the definitions they name (one read for all, none once known). */
async function claimsOf(db: Queryable, rows: ClaimRow[]): Promise<ClaimedRun[]> {
  const inline = rows.filter((row) => row.events && row.events.length > 0);
  const starts = await resolveRunDefinitions(db, inline.map((row) => row.events![0]!));
  inline.forEach((row, i) => (row.events![0] = starts[i]!));
  return rows.map(toClaim);
}

/** Streams up to this long are returned with the claim. */
const INLINE_EVENTS = 16;
const EVENTS_OF = (alias: string) => `CASE WHEN ${alias}.stream_version <= ${INLINE_EVENTS} THEN (
  SELECT json_agg(json_build_object('type', e.type, 'data', e.data) ORDER BY e.stream_version)
  FROM events e WHERE e.stream_id = 'run-' || ${alias}.run_id AND e.organization_id = ${alias}.organization_id) END AS events`;

/**
 * Up to $2 runs, fairly between organizations: the `claim_runs` function (migrations/0018), which
 * plans with index scans only so that a claim does not slow down with the dead index entries
 * finished runs leave behind, and (0020) takes each organization's oldest due runs one
 * organization at a time once they overflow its window, so that it does not slow down with the
 * backlog either. Short streams come with the claim, as with `CLAIM_ONE`.
 */
const CLAIM_BATCH = `SELECT c.run_id, c.organization_id, c.stream_version, c.lease_epoch, ${EVENTS_OF('c')} FROM claim_runs($1, $2, $3) c`;

/**
 * `CLAIM_BATCH` for a worker that serves some organizations (`WorkerOrganizations`, migrations/0034):
 * only those of $4 (`claim_organizations_runs`: every one of them each claim, one index descent
 * each, never reading the rest of the queue), or every one's but those of $4 (`claim_runs` with
 * its exclusions).
 */
const CLAIM_BATCH_ONLY = `SELECT c.run_id, c.organization_id, c.stream_version, c.lease_epoch, ${EVENTS_OF('c')}
FROM claim_organizations_runs($1, $2, $3, $4) c`;
const CLAIM_BATCH_EXCEPT = `SELECT c.run_id, c.organization_id, c.stream_version, c.lease_epoch, ${EVENTS_OF('c')}
FROM claim_runs($1, $2, $3, $4) c`;

/**
 * Claims one named run ($2, of organization $6: Citus would route it to that organization's
 * shard, docs/scaling.md) whatever its `available_at` (its own timer fired), when its
 * organization is one the worker serves ($4: only these, $5: not these; NULL: no limit).
 */
const CLAIM_ONE = `
UPDATE run_state r SET lease_owner = $1, lease_until = now() + $3::int * interval '1 millisecond',
  lease_epoch = lease_epoch + 1
WHERE run_id = $2 AND organization_id = $6 AND available_at IS NOT NULL AND (lease_until IS NULL OR lease_until < now())
  AND ($4::text[] IS NULL OR organization_id = ANY ($4)) AND ($5::text[] IS NULL OR organization_id <> ALL ($5))
RETURNING run_id, organization_id, stream_version, lease_epoch, ${EVENTS_OF('r')}`;

/**
 * The rows of `held` (a statement's run ids), locked in run-id order. A statement that locks
 * many runs' rows must take them in the order every other such writer does, or two of them can
 * each hold a row the other waits for: run appends lock theirs in run-id order (`RunAppendGroups`
 * sorts its items by id; "C" compares as that sort does), and a plain UPDATE locks in whatever
 * order its plan meets the rows (a heap scan: physical order). A renewal that met them that way
 * deadlocked with an append group under load, stalling both for a second (`deadlock_timeout`).
 */
const lockedInRunOrder = (held: string) => `
  SELECT run_id FROM run_state WHERE ${held} ORDER BY run_id COLLATE "C" FOR UPDATE`;

const RENEW = `
WITH held AS (${lockedInRunOrder('run_id = ANY($2::text[]) AND lease_owner = $1')})
UPDATE run_state r SET lease_until = now() + $3::int * interval '1 millisecond'
FROM held h WHERE r.run_id = h.run_id
RETURNING r.run_id, r.organization_id, r.stream_version, r.lease_epoch`;

// available_at: what the run owes next as the worker saw it (NULL = nothing but a signal).
const RELEASE = `
UPDATE run_state SET lease_owner = NULL, lease_until = NULL, available_at = $4
WHERE run_id = $1 AND organization_id = $6 AND lease_owner = $2 AND lease_epoch = $3 AND stream_version = $5`;

/** `RELEASE` for many runs in one statement. */
const RELEASE_MANY = `UPDATE run_state r SET lease_owner = NULL, lease_until = NULL, available_at = u.at
  FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::timestamptz[]) AS u(run_id, owner, epoch, version, at)
  WHERE r.run_id = u.run_id AND r.lease_owner = u.owner AND r.lease_epoch = u.epoch AND r.stream_version = u.version
  RETURNING r.run_id`;

/** A run given back: by whom (its lease), as it was (its stream version), due again when. */
export interface RunRelease {
  runId: string;
  lease: { owner: string; epoch: number };
  version: number;
  availableAt: Date | null;
}

/**
 * `RunClaims.release` for many runs, on `db` (a caller's transaction: runs that join a
 * concurrency line's queue): the runs given back, each only while its lease and stream are as its
 * worker left them.
 */
export async function releaseRuns(db: Queryable, runs: readonly RunRelease[]): Promise<Set<string>> {
  const { rows } = await db.query<{ run_id: string }>(RELEASE_MANY, [
    runs.map((run) => run.runId),
    runs.map((run) => run.lease.owner),
    runs.map((run) => run.lease.epoch),
    runs.map((run) => run.version),
    runs.map((run) => run.availableAt),
  ]);
  return new Set(rows.map((row) => row.run_id));
}

// Workers whose liveness lock is free: their process is gone. The transaction-level try-lock
// conflicts with the owner's session-level lock while it lives.
const FORGET_DEAD = `
DELETE FROM workers w WHERE w.owner <> $1 AND pg_try_advisory_xact_lock(${WORKER_LOCK_KEY_SQL('w.owner')})
RETURNING w.owner`;

// Rare (a worker died), so a scan of run_state is fine here; an index on lease_owner would make
// every claim and release a non-HOT update.
const FREE_LEASES = `
WITH held AS (${lockedInRunOrder('lease_owner = ANY($1::text[]) AND lease_until > now()')})
UPDATE run_state r SET lease_owner = NULL, lease_until = NULL
FROM held h WHERE r.run_id = h.run_id`;

const RELEASE_ALL = `
WITH held AS (${lockedInRunOrder('lease_owner = $1')})
UPDATE run_state r SET lease_owner = NULL, lease_until = NULL
FROM held h WHERE r.run_id = h.run_id`;

/** The queue side of `run_state`: claims, lease renewals and releases. */
export class RunClaims {
  /** The worker's organizations as the claims' parameters: only these, or not these (null: no limit either way). */
  private readonly only: readonly string[] | null;
  private readonly except: readonly string[] | null;

  constructor(
    private readonly pool: Pool,
    readonly owner: string,
    private readonly leaseMs: number,
    organizations: WorkerOrganizations = 'all',
  ) {
    this.only = organizations !== 'all' && 'only' in organizations ? organizations.only : null;
    this.except = organizations !== 'all' && 'except' in organizations ? organizations.except : null;
  }

  /** Whether this worker takes runs of `organizationId`. */
  serves(organizationId: string): boolean {
    return (this.only?.includes(organizationId) ?? true) && !(this.except?.includes(organizationId) ?? false);
  }

  async claimBatch(limit: number): Promise<ClaimedRun[]> {
    if (limit <= 0) return [];
    const { rows } = await this.pool.query<ClaimRow>(
      this.only ? { name: 'thodare-claim-batch-only', text: CLAIM_BATCH_ONLY, values: [this.owner, limit, this.leaseMs, this.only] }
      : this.except ? { name: 'thodare-claim-batch-except', text: CLAIM_BATCH_EXCEPT, values: [this.owner, limit, this.leaseMs, this.except] }
      : { name: 'thodare-claim-batch', text: CLAIM_BATCH, values: [this.owner, limit, this.leaseMs] },
    );
    return claimsOf(this.pool, rows);
  }

  async claimOne(runId: string, organizationId: string): Promise<ClaimedRun | undefined> {
    const { rows } = await this.pool.query<ClaimRow>({ name: 'thodare-claim-one', text: CLAIM_ONE, values: [this.owner, runId, this.leaseMs, this.only, this.except, organizationId] });
    return (await claimsOf(this.pool, rows))[0];
  }

  /** Extends the leases still held; the runs missing from the answer were lost. */
  async renew(runIds: string[]): Promise<ClaimedRun[]> {
    if (runIds.length === 0) return [];
    const { rows } = await this.pool.query<ClaimRow>(RENEW, [this.owner, runIds, this.leaseMs]);
    return rows.map(toClaim);
  }

  /**
   * Frees the leases of workers whose process is gone (see `WorkerLiveness`), so their runs are
   * claimable now rather than when the leases expire. Returns how many runs were freed.
   */
  async reapDead(): Promise<number> {
    const { rows } = await this.pool.query<{ owner: string }>({ name: 'thodare-forget-dead', text: FORGET_DEAD, values: [this.owner] });
    if (rows.length === 0) return 0;
    const freed = await this.pool.query(FREE_LEASES, [rows.map((row) => row.owner)]);
    return freed.rowCount ?? 0;
  }

  /** Gives back every lease this worker holds (shutdown), due now so another worker takes them. */
  async releaseAll(): Promise<void> {
    await this.pool.query(RELEASE_ALL, [this.owner]);
  }

  /**
   * Gives the run back without an append (nothing was owed), due again at `availableAt`. Only
   * while the lease and the stream are as the worker left them: anything newer keeps its own
   * `available_at`, and the lease then simply expires.
   */
  async release(claim: ClaimedRun, version: number, availableAt: Date | null): Promise<boolean> {
    const result = await this.pool.query(RELEASE, [claim.runId, this.owner, claim.epoch, availableAt, version, claim.organizationId]);
    return (result.rowCount ?? 0) > 0;
  }
}
