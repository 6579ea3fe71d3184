import type { z } from 'zod';
import type { Connector, OutputsSchema, ParamsSchema } from '../domain/connectors/connector';
import type { HiddenMark } from '../domain/connectors/visibility';

/**
 * A value as seen through a reference: its own type for autocompletion and type checks, while at
 * run time it is a proxy that becomes a `{{…}}` template. An `unknown` output (an HTTP body, a
 * trigger's loose input) accepts any path.
 */
export type Ref<T> = unknown extends T
  ? any // eslint-disable-line @typescript-eslint/no-explicit-any -- an undeclared shape: any path is a valid reference
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? { readonly [K in keyof T]-?: Ref<T[K]> }
      : T;

/** What one step contributes to later steps' refs: its outputs and the ids upstream of it. */
export interface StepInfo {
  out: unknown;
  up: string;
}

/** The refs a step's params function receives: the run input and the steps upstream of it. */
export type Refs<I, S extends Record<string, StepInfo>, U extends keyof S> = {
  readonly input: Ref<I>;
} & { readonly [K in U]: Ref<S[K]['out']> };

/** A connector whatever its schemas. */
export type AnyConnector = Connector<ParamsSchema, OutputsSchema>;

type ShapeOf<C> = C extends Connector<infer P, OutputsSchema> ? P['shape'] : never;
type HiddenKeys<Shape> = { [K in keyof Shape]: Shape[K] extends HiddenMark ? K : never }[keyof Shape];

/** The params an author writes for a connector: its input type without hidden (secret-filled) params. */
export type AuthorParams<C> =
  C extends Connector<infer P, OutputsSchema> ? Omit<z.input<P>, HiddenKeys<ShapeOf<C>>> : never;

/** A step's outputs, as later steps reference them. */
export type OutputsOf<C> = C extends Connector<ParamsSchema, infer O> ? z.output<O> : never;

const REF = Symbol('thodare.ref');

/** A proxy standing for the value at `path` (`trigger.email`, `fetch.body.items[0]`). */
export function refProxy(path: string): unknown {
  const template = () => `{{${path}}}`;
  return new Proxy(Object.create(null) as object, {
    get(_target, key) {
      if (key === REF) return path;
      if (key === Symbol.toPrimitive || key === 'toString' || key === 'toJSON') return template;
      if (typeof key === 'symbol') return undefined;
      return refProxy(/^\d+$/.test(key) ? `${path}[${key}]` : `${path}.${key}`);
    },
  });
}

/**
 * Params with every proxy replaced by its `{{…}}` template (a proxy in a template literal has
 * already become text through `Symbol.toPrimitive`). Plain data is copied.
 */
export function materialize(value: unknown): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
  const path = (value as Record<symbol, unknown>)[REF];
  if (typeof path === 'string') return `{{${path}}}`;
  if (Array.isArray(value)) return value.map(materialize);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (inner !== undefined) out[key] = materialize(inner);
  }
  return out;
}
