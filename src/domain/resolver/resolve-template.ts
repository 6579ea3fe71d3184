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
 * Resolves every `{{…}}` in a JSON value. A string that is exactly one reference becomes the
 * referenced value (its type kept, possibly undefined); other strings get each reference replaced
 * by its text (`stringifyForTemplate`). One pass only: resolved values are never scanned again,
 * so data cannot inject references. Objects are rebuilt from own keys, prototype keys dropped.
 */
export function resolveTemplate(value: unknown, scope: TemplateScope, depth = 64): unknown {
  if (typeof value === 'string') return resolveString(value, scope);
  if (value === null || typeof value !== 'object' || depth <= 0) return value;
  if (Array.isArray(value)) return value.map((item) => resolveTemplate(item, scope, depth - 1));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (isForbiddenKey(key)) continue;
    out[key] = resolveTemplate((value as Record<string, unknown>)[key], scope, depth - 1);
  }
  return out;
}

function resolveString(text: string, scope: TemplateScope): unknown {
  const parsed = parseTemplate(text);
  if (parsed.exact) return resolveReference(parsed.exact, scope);
  if (parsed.references.length === 0) return text;
  return text.replace(TOKEN, (whole, body: string) => {
    const reference = parseReferenceBody(body);
    return reference ? stringifyForTemplate(resolveReference(reference, scope)) : whole;
  });
}
