import { isForbiddenKey } from '../resolver/forbidden-keys';

/** API.md: a block id starts with a letter, then letters, digits, `_` or `-`; 64 chars at most. */
export const BLOCK_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Roots a reference uses for non-block scopes; a block with such an id could not be referenced. */
export const RESERVED_BLOCK_IDS: ReadonlySet<string> = new Set(['trigger', 'vars', 'env']);

/**
 * Why a block id is refused, or undefined when it is valid. `trigger` is accepted for a trigger
 * block only: `{{trigger.…}}` (the run input) then means that block's output anyway.
 */
export function blockIdProblem(id: string, isTrigger = false): string | undefined {
  if (!BLOCK_ID_PATTERN.test(id)) {
    return 'a block id must start with a letter and contain only letters, digits, "_" or "-" (at most 64 characters)';
  }
  if (isForbiddenKey(id)) return `"${id}" is reserved (prototype key)`;
  if (id === 'trigger' && isTrigger) return undefined;
  if (RESERVED_BLOCK_IDS.has(id))
    return `"${id}" is reserved: {{${id}.…}} already means something else in references`;
  return undefined;
}

/** A valid id close to an invalid one, for `suggestion`s (e.g. "send email" → "send_email"). */
export function repairBlockId(id: string): string | undefined {
  let candidate = id
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^[^A-Za-z]+/, '')
    .slice(0, 64);
  if (candidate.length === 0) return undefined;
  if (isForbiddenKey(candidate) || RESERVED_BLOCK_IDS.has(candidate))
    candidate = `${candidate}_block`;
  return blockIdProblem(candidate) === undefined ? candidate : undefined;
}
