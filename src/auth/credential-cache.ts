/**
 * Principals looked up by credential hash, kept for at most `ttlMs` (`THODARE_AUTH_CACHE_MS`,
 * default 900 ms, so a revocation made elsewhere applies within a second): a client sending many requests a second pays one lookup a second, not one
 * per request.
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

  constructor(private readonly ttlMs: number) {}

  get(hash: string): T | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.epoch === epoch && entry.until > Date.now()) return entry.value;
    this.entries.delete(hash);
    return undefined;
  }

  /** Keeps `value` until the TTL or `expiresAt`, whichever comes first. */
  set(hash: string, value: T, expiresAt: Date | null): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear(); // a flood of distinct credentials: start over
    const until = Math.min(Date.now() + this.ttlMs, expiresAt ? expiresAt.getTime() : Infinity);
    this.entries.set(hash, { value, until, epoch });
  }
}

const MAX_ENTRIES = 10_000;

/** Bumped by every identity write of this process: entries from before it are not served. */
let epoch = 0;

/** Call after committing any change to sessions, memberships, organizations or API keys. */
export function identityChanged(): void {
  epoch += 1;
}
