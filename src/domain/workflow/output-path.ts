import type { z } from 'zod';
import { isForbiddenKey } from '../resolver/forbidden-keys';
import { WRAPPER_SCHEMA_TYPES } from '../connectors/visibility';

/** Whether a reference path exists in a declared outputs schema, and if not, where it breaks. */
export type OutputPathCheck =
  | { ok: true }
  | {
      ok: false;
      /** Index of the first path segment that does not exist. */
      at: number;
      /** Keys that exist at that level (empty when the value there is a scalar). */
      allowed: string[];
      /** What the schema has there: `object`, `string`, `boolean`, … */
      found: string;
    };

interface Def {
  type: string;
  innerType?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  catchall?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  items?: z.core.$ZodType[];
  rest?: z.core.$ZodType | null;
  options?: z.core.$ZodType[];
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
  out?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
}

const INDEX = /^\d+$/;

function defOf(schema: z.core.$ZodType): Def {
  return schema._zod.def as unknown as Def;
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (let i = 0; i < 16; i += 1) {
    const def = defOf(current);
    const next = WRAPPER_SCHEMA_TYPES.has(def.type)
      ? def.innerType
      : def.type === 'pipe'
        ? def.out
        : def.type === 'lazy'
          ? def.getter?.()
          : undefined;
    if (!next) return current;
    current = next;
  }
  return current;
}

/**
 * Follows a reference path (`body.items.0.name`) through an outputs schema, along the whole
 * path: objects by key (or catchall), records by any key, arrays/tuples by index (and `length`),
 * unions when any option has the path, `unknown`/`any` accept whatever follows.
 */
export function checkOutputPath(
  schema: z.core.$ZodType,
  path: readonly string[],
  at = 0,
): OutputPathCheck {
  if (at >= path.length) return { ok: true };
  const segment = path[at] as string;
  const def = defOf(unwrap(schema));
  const fail = (allowed: string[]): OutputPathCheck => ({
    ok: false,
    at,
    allowed,
    found: def.type,
  });
  if (def.type === 'unknown' || def.type === 'any') return { ok: true };
  if (isForbiddenKey(segment)) return fail(def.shape ? Object.keys(def.shape) : []);
  switch (def.type) {
    case 'object': {
      const shape = def.shape ?? {};
      if (Object.prototype.hasOwnProperty.call(shape, segment))
        return checkOutputPath(shape[segment] as z.core.$ZodType, path, at + 1);
      if (def.catchall && defOf(def.catchall).type !== 'never')
        return checkOutputPath(def.catchall, path, at + 1);
      return fail(Object.keys(shape));
    }
    case 'record':
      return def.valueType ? checkOutputPath(def.valueType, path, at + 1) : { ok: true };
    case 'array':
      if (INDEX.test(segment) && def.element) return checkOutputPath(def.element, path, at + 1);
      return segment === 'length' && at === path.length - 1
        ? { ok: true }
        : fail(['<index>', 'length']);
    case 'tuple': {
      const item = INDEX.test(segment)
        ? (def.items?.[Number(segment)] ?? def.rest ?? undefined)
        : undefined;
      return item
        ? checkOutputPath(item, path, at + 1)
        : fail((def.items ?? []).map((_, i) => String(i)));
    }
    case 'union':
      return firstMatch(def.options ?? [], path, at, def.type);
    case 'intersection':
      return firstMatch(
        [def.left, def.right].filter((s): s is z.core.$ZodType => s !== undefined),
        path,
        at,
        def.type,
      );
    default:
      return fail([]);
  }
}

function firstMatch(
  options: z.core.$ZodType[],
  path: readonly string[],
  at: number,
  found: string,
): OutputPathCheck {
  const allowed = new Set<string>();
  let deepest: OutputPathCheck = { ok: false, at, allowed: [], found };
  for (const option of options) {
    const result = checkOutputPath(option, path, at);
    if (result.ok) return result;
    if (result.at === at) result.allowed.forEach((key) => allowed.add(key));
    if (!deepest.ok && result.at > deepest.at) deepest = result;
  }
  return deepest.ok || deepest.at > at ? deepest : { ok: false, at, allowed: [...allowed], found };
}
