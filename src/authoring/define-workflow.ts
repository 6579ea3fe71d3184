import { z } from 'zod';
import { condition } from '../domain/connectors/builtins/condition.connector';
import type { BlockRetry, SerializedWorkflow, WorkflowBlock, WorkflowConcurrency, WorkflowConnection } from '../domain/workflow/workflow';
import {
  type AnyConnector,
  type AuthorParams,
  type OutputsOf,
  type Refs,
  type StepInfo,
  materialize,
  refProxy,
} from './refs';

/** The id of the trigger block `build()` adds: `{{trigger.…}}` is the run input. */
export const TRIGGER_ID = 'trigger';

/** Where a step sits and how it runs; every field is optional. */
export interface StepOptions<A extends string, H extends string> {
  /** The steps it runs after (default: the step declared just before it, or the trigger). */
  after?: A | readonly A[];
  /** The handle of the edges from `after`: `true`/`false` out of a condition, `error` for an error branch. */
  on?: H;
  name?: string;
  enabled?: boolean;
  /** Overrides the connector's retry policy within its declared bounds. */
  retry?: BlockRetry;
  /** Overrides the connector's per-attempt timeout (ms) within its declared bounds. */
  timeoutMs?: number;
}

/** The upstream ids a step sees: its parents (unless it is their error branch) and their ancestors. */
type Upstream<S extends Record<string, StepInfo>, A extends string, H> = A extends keyof S
  ? S[A]['up'] | (IsError<H> extends true ? never : A)
  : never;

type IsError<H> = [H] extends [never] ? false : [H] extends ['error'] ? true : false;

/** A step id of `S`, or the trigger (to start a parallel branch from the run start). */
type Parent<S> = (keyof S & string) | typeof TRIGGER_ID;

type Added<S, Id extends string, Out, Up extends string> = S & { [K in Id]: { out: Out; up: Up } };

/** Condition params: compare `left` with `right`. */
export interface ConditionParams {
  left: unknown;
  operator: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'contains' | 'exists';
  right?: unknown;
}

interface Draft {
  name: string;
  description: string;
  input?: z.ZodType;
  timeoutMs?: number;
  concurrency?: WorkflowConcurrency;
  blocks: WorkflowBlock[];
  connections: WorkflowConnection[];
  tail?: string;
}

/**
 * A typed, immutable workflow builder. `I` is the run input, `S` the steps declared so far
 * (outputs and upstream ids), `T` the last step (the default parent of the next one).
 */
export class WorkflowBuilder<I, S extends Record<string, StepInfo>, T extends Parent<S>> {
  constructor(private readonly draft: Draft) {}

  /** Declares the run input: typed `refs.input`, and the trigger's `inputSchema` (checked by the API). */
  input<Schema extends z.ZodType>(schema: Schema): WorkflowBuilder<z.output<Schema>, S, T> {
    return new WorkflowBuilder({ ...this.draft, input: schema });
  }

  /** A run not ended this long (ms) after its start fails with `run_timed_out` (`metadata.timeoutMs`). */
  timeout(ms: number): WorkflowBuilder<I, S, T> {
    return new WorkflowBuilder({ ...this.draft, timeoutMs: ms });
  }

  /** At most `limit` runs begun and not ended at once, per value at `keyPath` in the input when given; the rest queue (`metadata.concurrency`). */
  concurrency(limit: number, keyPath?: string): WorkflowBuilder<I, S, T> {
    return new WorkflowBuilder({ ...this.draft, concurrency: { limit, ...(keyPath !== undefined ? { keyPath } : {}) } });
  }

  /**
   * Adds a block of `connector`. `params` receives the refs of the run input and of the steps
   * upstream of this one; what it returns becomes the block's params, references as `{{…}}`.
   */
  step<
    Id extends string,
    C extends AnyConnector,
    A extends Parent<S> = T,
    H extends string = never,
  >(
    id: Id & (Id extends keyof S | 'input' | typeof TRIGGER_ID ? never : Id),
    connector: C,
    params: (refs: Refs<I, S, Upstream<S, A, H>>) => AuthorParams<C>,
    options: StepOptions<A, H> = {},
  ): WorkflowBuilder<I, Added<S, Id, OutputsOf<C>, Upstream<S, A, H>>, Id> {
    return new WorkflowBuilder(this.addBlock(id, connector.type, params, options));
  }

  /** A `condition` block; branch with `{after: id, on: 'true' | 'false'}` (the next step defaults to after it). */
  when<Id extends string, A extends Parent<S> = T>(
    id: Id & (Id extends keyof S | 'input' | typeof TRIGGER_ID ? never : Id),
    params: (refs: Refs<I, S, Upstream<S, A, never>>) => ConditionParams,
    options: StepOptions<A, never> = {},
  ): WorkflowBuilder<I, Added<S, Id, { result: boolean }, Upstream<S, A, never>>, Id> {
    return new WorkflowBuilder(this.addBlock(id, condition.type, params, options));
  }

  /**
   * A step that runs only when `failed` fails terminally (its `error` edge); `failed`'s outputs
   * are not in its refs. The next step still follows the step before `onError` by default.
   */
  onError<F extends keyof S & string, Id extends string, C extends AnyConnector>(
    failed: F,
    id: Id & (Id extends keyof S | 'input' | typeof TRIGGER_ID ? never : Id),
    connector: C,
    params: (refs: Refs<I, S, S[F]['up']>) => AuthorParams<C>,
    options: Omit<StepOptions<F, 'error'>, 'after' | 'on'> = {},
  ): WorkflowBuilder<I, Added<S, Id, OutputsOf<C>, S[F]['up']>, T> {
    const draft = this.addBlock(id, connector.type, params, { ...options, after: failed, on: 'error' });
    return new WorkflowBuilder({ ...draft, tail: this.draft.tail });
  }

  /** The wire-format workflow (API.md), ready for `toEditOps` or a store. */
  build(): SerializedWorkflow {
    const { name, description, input, timeoutMs, concurrency, blocks, connections } = this.draft;
    const inputSchema = input ? jsonSchemaOf(input) : undefined;
    const trigger: WorkflowBlock = {
      id: TRIGGER_ID,
      type: 'trigger_manual',
      params: inputSchema ? { inputSchema } : {},
      enabled: true,
    };
    return {
      metadata: { name, description, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(concurrency ? { concurrency: { ...concurrency } } : {}) },
      variables: {},
      blocks: [trigger, ...blocks.map((block) => structuredClone(block))],
      connections: connections.map((edge) => ({ ...edge })),
    };
  }

  private addBlock(
    id: string,
    type: string,
    params: (refs: never) => unknown,
    options: StepOptions<string, string>,
  ): Draft {
    const { blocks, connections, tail } = this.draft;
    if (id === 'input' || id === TRIGGER_ID || blocks.some((block) => block.id === id)) {
      throw new Error(`defineWorkflow: step id "${id}" is reserved or already used`);
    }
    const refs: Record<string, unknown> = { input: refProxy(TRIGGER_ID) };
    for (const block of blocks) refs[block.id] = refProxy(block.id);
    const block: WorkflowBlock = {
      id,
      type,
      params: materialize(params(refs as never)) as Record<string, unknown>,
      enabled: options.enabled ?? true,
    };
    if (options.name !== undefined) block.name = options.name;
    if (options.retry) block.retry = { ...options.retry };
    if (options.timeoutMs !== undefined) block.timeoutMs = options.timeoutMs;
    const after = options.after === undefined ? [tail ?? TRIGGER_ID] : [options.after].flat();
    const edges = after.map((source) => ({
      source,
      target: id,
      ...(options.on !== undefined ? { sourceHandle: options.on } : {}),
    }));
    return { ...this.draft, blocks: [...blocks, block], connections: [...connections, ...edges], tail: id };
  }
}

/**
 * The trigger's `inputSchema`. The server refuses regex keywords (ReDoS), so `pattern`s are left
 * out: the server checks the rest, the zod schema itself (e.g. `spec.parseInput`) checks them all.
 */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return withoutPatterns(json) as Record<string, unknown>;
}

function withoutPatterns(node: unknown, names = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutPatterns(item));
  if (node === null || typeof node !== 'object') return node;
  // Under `properties` the keys are field names (a field may be called `pattern`), not keywords.
  const entries = Object.entries(node).filter(
    ([key]) => names || (key !== 'pattern' && key !== 'patternProperties'),
  );
  return Object.fromEntries(
    entries.map(([key, value]) => [key, withoutPatterns(value, !names && key === 'properties')]),
  );
}

/**
 * Starts a typed workflow: `defineWorkflow(name).input(schema).step(id, connector, refs => params)
 * … .build()` gives the wire-format workflow, a `trigger_manual` block (id `trigger`) first.
 * References to an undeclared output, a later step, or a step that is not upstream do not compile.
 */
export function defineWorkflow(
  name: string,
  options: { description?: string } = {},
): WorkflowBuilder<Record<string, unknown>, Record<never, StepInfo>, never> {
  return new WorkflowBuilder({ name, description: options.description ?? '', blocks: [], connections: [] });
}
