/**
 * Principals looked up by credential hash, kept for at most `ttlMs` (`THODARE_AUTH_CACHE_MS`,
 * default 900 ms, so a revocation made elsewhere applies within a second): a client sending many requests a second pays one lookup a second, not one
 * per request, and a burst of requests that finds its credential unknown pays one lookup, not one each.
 *
 * How long a change takes to apply:
 * - in this process, at once: every identity write made here (sign-out, organization switch,
 *   role change, removal, invitation accepted, key created or revoked, organization created)
 *   calls {@link identityChanged} after its commit, which empties every cache of the process;
 * - in every other process, and for writes made outside the API (SQL, another tool), within
 *   `ttlMs`: nothing outlives it, and a session or key is never served past its own expiry.
 * Sliding session renewal and an API key's `last_used_at` still happen on the lookups the
 * cache lets through (at least one per `ttlMs` for a credential in use; both write at most every
 * few minutes anyway).
 */
export class CredentialCache<T> {
  private readonly entries = new Map<string, { value: T; until: number; epoch: number }>();
  /** Lookups in flight: a burst of requests with one credential waits on one lookup, not one each. */
  private readonly loading = new Map<string, { value: Promise<T>; epoch: number }>();

  constructor(private readonly ttlMs: number) {}

  private get(hash: string): T | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.epoch === epoch && entry.until > Date.now()) return entry.value;
    this.entries.delete(hash);
    return undefined;
  }

  /**
   * The principal behind `hash`: kept, else `lookUp`'s, kept until the TTL or its `expiresAt`,
   * whichever comes first. Concurrent callers share a lookup begun since the last identity write
   * of this process; a lookup that an identity write overtook answers its own callers but is not
   * kept (it may have read the rows from before the write).
   */
  async load(hash: string, lookUp: () => Promise<{ value: T; expiresAt: Date | null }>): Promise<T> {
    const kept = this.get(hash);
    if (kept !== undefined) return kept;
    const flight = this.loading.get(hash);
    if (flight && flight.epoch === epoch) return flight.value;
    const began = epoch;
    const value = lookUp().then(({ value, expiresAt }) => {
      if (began === epoch) this.keep(hash, value, expiresAt, began);
      return value;
    });
    this.loading.set(hash, { value, epoch: began });
    try {
      return await value;
    } finally {
      if (this.loading.get(hash)?.value === value) this.loading.delete(hash);
    }
  }

  private keep(hash: string, value: T, expiresAt: Date | null, at: number): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear(); // a flood of distinct credentials: start over
    const until = Math.min(Date.now() + this.ttlMs, expiresAt ? expiresAt.getTime() : Infinity);
    this.entries.set(hash, { value, until, epoch: at });
  }
}

const MAX_ENTRIES = 10_000;

/** Bumped by every identity write of this process: entries from before it are not served. */
let epoch = 0;

/** Call after committing any change to sessions, memberships, organizations or API keys. */
export function identityChanged(): void {
  epoch += 1;
}
