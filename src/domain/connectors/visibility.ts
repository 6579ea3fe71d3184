import type { z } from 'zod';

/**
 * Param visibility markers. A marker is zod v4 metadata (`.meta({"x-visibility": …})`) on the
 * param's schema, so `z.toJSONSchema` carries `"x-visibility": "user-only"` into the catalog for
 * free. Markers are read on top-level params only, through optional/default/nullable wrappers.
 *
 * - `hidden`: never shown to or settable by agents; filled at run time from an organization
 *   secret the connector names in `secrets`. Removed from the catalog entirely.
 * - `userOnly`: shown in the catalog, settable by a person (session) but not with an API key.
 */
export type Visibility = 'hidden' | 'user-only';

/** Metadata key of the markers; also the JSON Schema keyword the catalog shows. */
export const VISIBILITY_KEY = 'x-visibility';

declare const HIDDEN: unique symbol;
/** Type-only mark of a hidden param schema, so typed authoring can leave it out of a step's params. */
export interface HiddenMark {
  readonly [HIDDEN]: true;
}

/** Marks a param as hidden: agents never see it, its value comes from a secret. */
export function hidden<T extends z.ZodType>(schema: T): T & HiddenMark {
  return schema.meta({ [VISIBILITY_KEY]: 'hidden' }) as T & HiddenMark;
}

/** Marks a param as settable only by a person, not by an API key. */
export function userOnly<T extends z.ZodType>(schema: T): T {
  return schema.meta({ [VISIBILITY_KEY]: 'user-only' }) as T;
}

/** zod schema kinds that wrap one inner schema without changing what it describes. */
export const WRAPPER_SCHEMA_TYPES: ReadonlySet<string> = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'catch',
  'nonoptional',
]);

/** The visibility marker of a param schema, looking through wrapper schemas. */
export function visibilityOf(schema: z.ZodType): Visibility | undefined {
  let current: z.ZodType | undefined = schema;
  for (let depth = 0; current && depth < 8; depth += 1) {
    const mark = current.meta()?.[VISIBILITY_KEY];
    if (mark === 'hidden' || mark === 'user-only') return mark;
    const def = current.def as { type: string; innerType?: z.ZodType };
    current = WRAPPER_SCHEMA_TYPES.has(def.type) ? def.innerType : undefined;
  }
  return undefined;
}
