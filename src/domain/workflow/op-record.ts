import { isForbiddenKey } from '../resolver/forbidden-keys';

/** What a hidden value is recorded as, wherever an op is kept. */
export const HIDDEN_PLACEHOLDER = '[hidden]';

/**
 * A JSON-safe deep copy of untrusted data: own enumerable keys only, prototype keys dropped,
 * `undefined`/functions/symbols dropped, bigints as strings, nesting cut at `depth` (the cut
 * subtree becomes null). Used for everything `apply` stores or reports, so nothing in its
 * output aliases the caller's op objects.
 */
export function safeJsonCopy(value: unknown, depth = 32): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (depth <= 0) return null;
  if (Array.isArray(value)) return value.map((item) => safeJsonCopy(item, depth - 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (isForbiddenKey(key)) continue;
    const copied = safeJsonCopy((value as Record<string, unknown>)[key], depth - 1);
    if (copied !== undefined) out[key] = copied;
  }
  return out;
}

/**
 * A safe copy of `op` whose `params` values for `hiddenParams` read "[hidden]" (`mask`, for
 * records) or are left out (`drop`, for suggestions an agent may send back as they are).
 */
export function redactOp(
  op: unknown,
  hiddenParams: ReadonlySet<string>,
  mode: 'mask' | 'drop' = 'mask',
): unknown {
  const copy = safeJsonCopy(op);
  if (copy === null || typeof copy !== 'object' || Array.isArray(copy)) return copy;
  const params = (copy as Record<string, unknown>).params;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return copy;
  for (const key of Object.keys(params)) {
    if (!hiddenParams.has(key)) continue;
    if (mode === 'drop') delete (params as Record<string, unknown>)[key];
    else (params as Record<string, unknown>)[key] = HIDDEN_PLACEHOLDER;
  }
  return copy;
}

/** Shortens a string for prose (`reason`, `summary`) and for the `block_id` of a skip record. */
export function clip(text: string, max = 100): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
