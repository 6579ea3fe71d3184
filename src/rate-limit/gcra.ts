/**
 * GCRA (generic cell rate algorithm) arithmetic for a budget of `limit` requests per `windowMs`.
 * The decision itself is taken by one SQL statement (`pg-throttler.storage.ts`); this file holds
 * the parameters that statement needs and reads its result back into header values.
 *
 * A bucket is one number, `tat` (theoretical arrival time): each admitted request pushes it
 * `emission` further into the future, and a request is admitted when, after the push, `tat` is
 * at most `burst` ahead of now. So a fresh key may spend `limit` requests at once, then earns
 * one back every `emission`. All values are integer microseconds, so the burst holds exactly
 * `limit` requests whatever the division leaves over.
 */
export interface GcraParams {
  /** Time one request "costs", in µs: `windowMs / limit`, rounded down, at least 1. */
  emissionUs: number;
  /** How far ahead of now `tat` may run, in µs: exactly `limit * emissionUs`. */
  burstUs: number;
}

export function gcraParams(limit: number, windowMs: number): GcraParams {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`rate limit must be a positive integer (got ${limit})`);
  if (!(windowMs > 0)) throw new RangeError(`rate-limit window must be positive (got ${windowMs})`);
  const emissionUs = Math.max(1, Math.floor((windowMs * 1000) / limit));
  return { emissionUs, burstUs: limit * emissionUs };
}

/** A bucket as the storage statement returns it. */
export interface BucketRow {
  /** Theoretical arrival time after this request, µs since the epoch (database clock). */
  tat: number;
  /** When this request arrived, µs since the epoch (database clock). */
  seenAt: number;
  admitted: boolean;
}

/** What a caller is told about its budget after one request. */
export interface BudgetState {
  admitted: boolean;
  /** Requests that could still be admitted right now. */
  remaining: number;
  /** Milliseconds until the whole budget is available again (`tat` reaches now). */
  resetMs: number;
  /** When refused: milliseconds until one request would be admitted; 0 when admitted. */
  retryAfterMs: number;
}

export function budgetState(row: BucketRow, { emissionUs, burstUs }: GcraParams): BudgetState {
  const ahead = Math.max(0, row.tat - row.seenAt);
  const remaining = Math.max(0, Math.floor((burstUs - ahead) / emissionUs));
  // One more request is admitted once tat + emission - now <= burst.
  const wait = row.admitted ? 0 : Math.max(0, ahead + emissionUs - burstUs);
  return {
    admitted: row.admitted,
    remaining,
    resetMs: Math.ceil(ahead / 1000),
    retryAfterMs: row.admitted ? 0 : Math.max(1, Math.ceil(wait / 1000)),
  };
}

/**
 * The decision the storage statement takes, as a pure function (the reference the SQL mirrors
 * and the unit tests exercise): `previousTat` is the stored value, undefined for a new key.
 */
export function gcraStep(previousTat: number | undefined, now: number, { emissionUs, burstUs }: GcraParams): BucketRow {
  const pushed = Math.max(previousTat ?? now, now) + emissionUs;
  const admitted = pushed - now <= burstUs;
  return { tat: admitted ? pushed : (previousTat ?? now), seenAt: now, admitted };
}
