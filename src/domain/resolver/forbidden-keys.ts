/**
 * Keys that reach or rewrite an object's prototype chain. They are never followed by a
 * reference path and never accepted in an op (ids, param names, nested keys, variables).
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** `__proto__`, `constructor` or `prototype`. */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

/** Result of scanning untrusted JSON for keys it must not carry. */
export type ForbiddenKeyFinding =
  { kind: 'forbidden_key'; path: string } | { kind: 'too_deep'; path: string };

/**
 * The first own key anywhere in `value` that is forbidden (including own `__proto__` keys that
 * `JSON.parse` creates), or nesting deeper than `maxDepth`. Undefined when the value is clean.
 */
export function findForbiddenKey(
  value: unknown,
  maxDepth = 32,
  path = '',
): ForbiddenKeyFinding | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (maxDepth <= 0) return { kind: 'too_deep', path: path || '(root)' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = findForbiddenKey(value[i], maxDepth - 1, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const keyPath = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return { kind: 'forbidden_key', path: keyPath };
    const found = findForbiddenKey((value as Record<string, unknown>)[key], maxDepth - 1, keyPath);
    if (found) return found;
  }
  return undefined;
}
