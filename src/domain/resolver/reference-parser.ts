/**
 * The `{{…}}` reference grammar, shared by the resolver (run time) and validation (patch time).
 *
 *   reference := "{{" ws root ( "." segment | "[" digits "]" )* ws "}}"
 *   root      := trigger | vars | env | <block id>   ([A-Za-z][A-Za-z0-9_-]*)
 *   segment   := [A-Za-z0-9_$-]+
 *
 * `{{…}}` whose content does not start with a letter (`{{#each}}`, `{{ }}`) is literal text.
 * Content that starts like a reference but breaks the grammar (`{{trigger.}}`) is *malformed*:
 * literal at run time, reported by validation.
 */
export interface Reference {
  /** The whole `{{…}}` text. */
  raw: string;
  root: string;
  path: string[];
}

/** What a string holds in references. */
export interface ParsedTemplate {
  /** Set when the whole string is exactly one reference: the value keeps its type. */
  exact?: Reference;
  references: Reference[];
  /** Raw `{{…}}` texts that look like references but do not parse. */
  malformed: string[];
}

const TOKEN = /\{\{([^{}]*)\}\}/g;
const BODY = /^([A-Za-z][A-Za-z0-9_-]*)((?:\.[A-Za-z0-9_$-]+|\[\d+\])*)$/;
const SEGMENT = /\.([A-Za-z0-9_$-]+)|\[(\d+)\]/g;
const NO_REFERENCES: ParsedTemplate = Object.freeze({
  references: [],
  malformed: [],
}) as ParsedTemplate;

/** Parses one `{{…}}` body (without braces); undefined when it is not a valid reference. */
export function parseReferenceBody(body: string): Omit<Reference, 'raw'> | undefined {
  const match = BODY.exec(body.trim());
  if (!match) return undefined;
  const path: string[] = [];
  for (const segment of (match[2] ?? '').matchAll(SEGMENT))
    path.push((segment[1] ?? segment[2]) as string);
  return { root: match[1] as string, path };
}

/** Parsed templates by text: the same strings are re-validated on every patch of a workflow. */
const cache = new Map<string, ParsedTemplate>();
const CACHE_LIMIT = 20_000;

/**
 * Every reference in a string, whether it is exactly one reference, and malformed ones.
 * Results are shared (bounded cache): callers must not mutate them.
 */
export function parseTemplate(text: string): ParsedTemplate {
  if (!text.includes('{{')) return NO_REFERENCES;
  const cached = cache.get(text);
  if (cached) return cached;
  const parsed = parseUncached(text);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  if (text.length <= 2_000) cache.set(text, parsed);
  return parsed;
}

function parseUncached(text: string): ParsedTemplate {
  const references: Reference[] = [];
  const malformed: string[] = [];
  let tokens = 0;
  for (const match of text.matchAll(TOKEN)) {
    tokens += 1;
    const body = match[1] ?? '';
    const parsed = parseReferenceBody(body);
    if (parsed) references.push({ raw: match[0], ...parsed });
    else if (/^\s*[A-Za-z]/.test(body)) malformed.push(match[0]);
  }
  const only = references[0];
  const exact = tokens === 1 && only?.raw === text ? only : undefined;
  return exact ? { exact, references, malformed } : { references, malformed };
}

/** A reference found inside a JSON value, with where it sits. */
export interface LocatedReference {
  /** Path of the string inside the value, e.g. `['headers', 'Authorization']`. */
  field: string[];
  /** The whole string the reference sits in. */
  text: string;
  reference?: Reference;
  /** Set instead of `reference` for a malformed `{{…}}`. */
  malformed?: string;
  exact: boolean;
}

/** Walks a JSON value (own keys only, bounded depth) and lists every reference in its strings. */
export function collectReferences(value: unknown, depth = 32): LocatedReference[] {
  const out: LocatedReference[] = [];
  visit(value, [], depth, out);
  return out;
}

/** `path` is a shared stack: copied only when a reference is found. */
function visit(value: unknown, path: string[], depth: number, out: LocatedReference[]): void {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return;
    const parsed = parseTemplate(value);
    const field = [...path];
    for (const reference of parsed.references) {
      out.push({ field, text: value, reference, exact: parsed.exact === reference });
    }
    for (const malformed of parsed.malformed)
      out.push({ field, text: value, malformed, exact: false });
    return;
  }
  if (depth <= 0 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      path.push(String(i));
      visit(value[i], path, depth - 1, out);
      path.pop();
    }
    return;
  }
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    path.push(key);
    visit((value as Record<string, unknown>)[key], path, depth - 1, out);
    path.pop();
  }
}
