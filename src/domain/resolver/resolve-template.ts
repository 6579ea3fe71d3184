import { isForbiddenKey } from './forbidden-keys';
import { getPath } from './path-access';
import { parseReferenceBody, parseTemplate, type Reference } from './reference-parser';

/** What references resolve against at run time. */
export interface TemplateScope {
  /** The run input (`{{trigger.path}}`). */
  trigger: unknown;
  /** Workflow variables (`{{vars.path}}`). */
  vars: Readonly<Record<string, unknown>>;
  /** Outputs of finished blocks by block id (`{{<blockId>.path}}`). */
  outputs: Readonly<Record<string, unknown>>;
  /** Operator environment; only names in `envAllowList` are readable (`{{env.NAME}}`). */
  env?: Readonly<Record<string, string | undefined>>;
  envAllowList?: readonly string[];
}

/** Resolves one reference; undefined when its root or path does not exist. */
export function resolveReference(reference: Omit<Reference, 'raw'>, scope: TemplateScope): unknown {
  const { root, path } = reference;
  if (root === 'trigger') return getPath(scope.trigger, path);
  if (root === 'vars') return getPath(scope.vars, path);
  if (root === 'env') {
    const [name, ...rest] = path;
    if (name === undefined || rest.length > 0 || !scope.envAllowList?.includes(name))
      return undefined;
    return getPath(scope.env ?? {}, [name]);
  }
  if (isForbiddenKey(root)) return undefined;
  return getPath(scope.outputs, [root, ...path]);
}

/** How a value is written into interpolated text: strings as-is, undefined as '', others as JSON. */
export function stringifyForTemplate(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

const TOKEN = /\{\{([^{}]*)\}\}/g;

/**
 * Thrown when interpolation would write more text than the resolver was allowed: what it stands
 * for could not be recorded or handed on anyway (`payload_too_large`, never retried).
 */
export class ResolvedTextTooLong extends Error {
  readonly code = 'payload_too_large';
  readonly retryable = false;
  constructor(maxTextLength: number) {
    super(`The resolved params would hold more than ${maxTextLength} characters of interpolated text`);
  }
}

/**
 * Resolves every `{{…}}` in a JSON value. A string that is exactly one reference becomes the
 * referenced value (its type kept, possibly undefined; shared, not copied); other strings get each
 * reference replaced by its text (`stringifyForTemplate`). One pass only: resolved values are
 * never scanned again, so data cannot inject references. Objects are rebuilt from own keys,
 * prototype keys dropped. Interpolated strings together may hold at most `maxTextLength`
 * characters, checked before each is built ({@link ResolvedTextTooLong}): a template repeating a
 * reference to a large value would otherwise build hundreds of megabytes.
 */
export function resolveTemplate(value: unknown, scope: TemplateScope, maxTextLength = Number.POSITIVE_INFINITY): unknown {
  return resolveValue(value, scope, 64, { left: maxTextLength, max: maxTextLength });
}

interface TextBudget {
  left: number;
  readonly max: number;
}

function resolveValue(value: unknown, scope: TemplateScope, depth: number, budget: TextBudget): unknown {
  if (typeof value === 'string') return resolveString(value, scope, budget);
  if (value === null || typeof value !== 'object' || depth <= 0) return value;
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, scope, depth - 1, budget));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (isForbiddenKey(key)) continue;
    out[key] = resolveValue((value as Record<string, unknown>)[key], scope, depth - 1, budget);
  }
  return out;
}

function resolveString(text: string, scope: TemplateScope, budget: TextBudget): unknown {
  const parsed = parseTemplate(text);
  if (parsed.exact) return resolveReference(parsed.exact, scope);
  if (parsed.references.length === 0) return text;
  const pieces: string[] = [];
  let length = 0;
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const reference = parseReferenceBody(match[1]!);
    const piece = reference ? stringifyForTemplate(resolveReference(reference, scope)) : match[0];
    pieces.push(text.slice(last, match.index), piece);
    length += match.index - last + piece.length;
    last = match.index + match[0].length;
    if (length > budget.left) throw new ResolvedTextTooLong(budget.max);
  }
  pieces.push(text.slice(last));
  budget.left -= length + text.length - last;
  if (budget.left < 0) throw new ResolvedTextTooLong(budget.max);
  return pieces.join('');
}
