/**
 * Principals looked up by credential hash, kept for at most `ttlMs` (`THODARE_AUTH_CACHE_MS`,
 * default a minute): a client sending requests pays one lookup a minute, not one per request,
 * and a burst of requests that finds its credential unknown pays one lookup, not one each.
 *
 * How long a change takes to apply:
 * - in this process, at once: every identity write made here (sign-out, organization switch,
 *   role change, removal, invitation accepted, key created or revoked, organization created)
 *   calls {@link identityChanged} after its commit, which empties every cache of the process;
 * - in every other process, once it hears of the commit: every change to what a principal is
 *   read from notifies, whoever makes it (triggers, migration 0031), and the process's listener
 *   calls {@link identityChanged} too (`IdentityNotifications`);
 * - and whatever the listener: an entry is served past {@link UNPROVEN_TTL_MS} only while the
 *   listener has proven, within that time, that it heard every notification committed before
 *   (see {@link IdentityHearing}). A listener that stopped hearing, or a process with none,
 *   serves what it keeps for less than a second, as when every process looked up that often.
 * A session or key is never served past its own expiry. Sliding session renewal and an API
 * key's `last_used_at` happen on the lookups the cache lets through (both write at most every
 * few minutes anyway).
 */
export class CredentialCache<T> {
  private readonly entries = new Map<string, { value: T; until: number; epoch: number; keptAt: number }>();
  /** Lookups in flight: a burst of requests with one credential waits on one lookup, not one each. */
  private readonly loading = new Map<string, { value: Promise<T>; epoch: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly hearing?: IdentityHearing,
  ) {}

  private get(hash: string): T | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    const now = performance.now();
    const proven = this.hearing?.heardUpTo() ?? -Infinity;
    if (entry.epoch === epoch && entry.until > Date.now() && (now <= proven + UNPROVEN_TTL_MS || now <= entry.keptAt + UNPROVEN_TTL_MS)) return entry.value;
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
    this.entries.set(hash, { value, until, epoch: at, keptAt: performance.now() });
  }
}

const MAX_ENTRIES = 10_000;

/** Bumped by every identity write of this process: entries from before it are not served. */
let epoch = 0;

/** Call after committing any change to sessions, memberships, organizations or API keys. */
export function identityChanged(): void {
  epoch += 1;
}

/**
 * Past this age an entry is served only while the process's listener is proven to have heard
 * every identity change committed up to this long ago: a revocation then applies on every process
 * within it, listener or not (issue 14 asks for a second).
 */
export const UNPROVEN_TTL_MS = 900;

/** What a cache knows of its process's listener (`IdentityNotifications`). */
export interface IdentityHearing {
  /** `performance.now()` up to which every identity change committed has been heard and applied. */
  heardUpTo(): number;
}
