import { isForbiddenKey } from './forbidden-keys';

/**
 * Follows `path` into a JSON value through own properties only. Prototype keys (`__proto__`,
 * `constructor`, `prototype`), inherited members and steps into primitives all give undefined,
 * so a template can never read outside the data it was given.
 */
export function getPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || isForbiddenKey(key)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
