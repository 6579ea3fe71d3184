import type { z } from 'zod';

/** What a block does in a run: starts it, acts, or durably waits (run by the runtime itself). */
export type ConnectorKind = 'trigger' | 'action' | 'wait';

/** Retry policy of a connector's step. Intervals in milliseconds. */
export interface RetryPolicy {
  /** Total attempts including the first one (1 = no retry). */
  maxAttempts: number;
  initialIntervalMs: number;
  /** Multiplier applied to the interval after each failed attempt. */
  backoffCoefficient: number;
  maxIntervalMs: number;
  /** Error `code`s (or `name`s) that fail the step at once. */
  nonRetryableErrors?: readonly string[];
}

/** Used when a connector declares no `retry`. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maxIntervalMs: 60_000,
};

/** An inclusive range of allowed values. */
export interface Range {
  min: number;
  max: number;
}

/**
 * How far a block may override its connector's policy (block-level `retry` / `timeoutMs`).
 * A missing range means that setting cannot be overridden. `intervalMs` bounds both
 * `initialIntervalMs` and `maxIntervalMs`.
 */
export interface PolicyBounds {
  retry?: { maxAttempts?: Range; intervalMs?: Range };
  timeoutMs?: Range;
}

/** Bounds of an action connector that declares none: generous, yet a block cannot retry forever. */
export const DEFAULT_POLICY_BOUNDS: PolicyBounds = {
  retry: { maxAttempts: { min: 1, max: 10 }, intervalMs: { min: 0, max: 3_600_000 } },
  timeoutMs: { min: 1_000, max: 900_000 },
};

/** What the runtime hands a connector's `run` for one step attempt. */
export interface ConnectorContext {
  runId: string;
  blockId: string;
  attempt: number;
  /** Stable per attempt (`runId:blockId:attempt`): pass it to remote APIs that dedupe. */
  idempotencyKey: string;
  /** Aborted on cancellation or per-attempt timeout. */
  signal: AbortSignal;
  /** Hidden param values are already in `params`; this holds the same secret values by name. */
  secrets: Readonly<Record<string, string>>;
  log(message: string, data?: Record<string, unknown>): void;
}

/** A connector's params: a zod object (one key per param). */
export type ParamsSchema = z.ZodObject;
/** A connector's declared outputs: a zod object; references are checked against it. */
export type OutputsSchema = z.ZodObject;

/** Executes one step. Input is the parsed params (hidden ones filled from secrets). */
export type ConnectorRun<P extends ParamsSchema, O extends OutputsSchema> = (
  params: z.output<P>,
  ctx: ConnectorContext,
) => Promise<z.input<O>>;

/** What a connector author writes (see `defineConnector`). */
export interface ConnectorConfig<P extends ParamsSchema, O extends OutputsSchema> {
  /** Stable snake_case id used as a block's `type`. */
  type: string;
  name: string;
  description: string;
  category: string;
  kind: ConnectorKind;
  params: P;
  outputs: O;
  retry?: RetryPolicy;
  /** Per-attempt timeout in milliseconds (the runtime aborts the attempt: `step_timeout`). */
  timeoutMs?: number;
  /**
   * How far a block may override `retry` and `timeoutMs`. Actions default to
   * {@link DEFAULT_POLICY_BOUNDS}; triggers and waits are never overridable.
   */
  overridable?: PolicyBounds;
  /** Hidden param name → organization secret name it is filled from at run time. */
  secrets?: Readonly<Record<string, string>>;
  /** Triggers only: the shape of the run input the trigger emits. */
  inputSchema?: z.ZodType;
  /** Alternative names used only to suggest this type for a mistyped one. */
  aliases?: readonly string[];
  /** Allowed `sourceHandle`s on edges out of this block besides `error` (e.g. `true`/`false`). */
  sourceHandles?: readonly string[];
  /** Absent for `wait` connectors: the runtime executes waits itself. */
  run?: ConnectorRun<P, O>;
  /**
   * Actions only: `run` is a function of its params alone — no I/O, no effect outside its result
   * (like `transform` and `condition`). The worker then runs it as soon as it is due and records
   * its attempt together with what follows, so a chain of pure steps costs one commit, not one
   * per step; a run of pure steps alone is recorded whole in its start's commit. If that commit
   * never happens (a crash), the steps simply run again. Never set it on a connector that calls
   * anything: its start would not be recorded before it runs. It binds no secrets.
   */
  pure?: boolean;
}

/**
 * A registered connector: the author's config plus what is derived from it once, so the patch
 * loop never recomputes it. `agentParams` is `params` without hidden keys: what agents may set
 * and what validation checks (hidden values come from secrets at run time).
 */
export interface Connector<
  P extends ParamsSchema = ParamsSchema,
  O extends OutputsSchema = OutputsSchema,
> extends ConnectorConfig<P, O> {
  retry: RetryPolicy;
  overridable: PolicyBounds;
  secrets: Readonly<Record<string, string>>;
  hiddenParams: ReadonlySet<string>;
  userOnlyParams: ReadonlySet<string>;
  agentParams: z.ZodObject;
}
