/**
 * How a failed database call should be treated, from the error node-postgres gives:
 * - `unavailable`: the database is away (refused, reset, timed out, shutting down, too many
 *   connections) — wait and try again later, the same statement will work then;
 * - `content`: Postgres refused the data itself (a data exception, an integrity violation, a
 *   program limit such as an oversized value) — the same statement fails again on every try;
 * - `other`: anything else (a bug, a lock timeout) — retry with back-off, but report it.
 */
export type DatabaseFailure = 'unavailable' | 'content' | 'other';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

// SQLSTATE: 08 connection exceptions, 57P01–57P03 shutdown / cannot connect now, 53300 too many
// connections, 57014 statement timeout (a partitioned or overloaded server).
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

// `Query read timeout`: node-postgres's client-side `query_timeout` (no answer: a partition).
const UNAVAILABLE_MESSAGES = [/connection terminated/i, /query read timeout/i, /timeout exceeded when trying to connect/i, /connection timeout/i, /client has encountered a connection error/i, /cannot use a pool after calling end/i, /not queryable/i];

/** Classifies `error` (see {@link DatabaseFailure}). */
export function classifyDatabaseError(error: unknown): DatabaseFailure {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08')) return 'unavailable';
  // 22 data exception (bad UTF-8, NUL, invalid JSON escapes), 23 integrity, 54 program limit.
  if (/^(22|23|54)[0-9A-Z]{3}$/.test(code)) return 'content';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return 'unavailable';
  return 'other';
}

/**
 * Whether Postgres rolled the statement's transaction back to break a deadlock (40P01) or a
 * serialization failure (40001): nothing of it was written, and the same work, tried again from a
 * fresh read, normally succeeds.
 */
export function isRolledBackToRetry(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
