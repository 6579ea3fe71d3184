/**
 * The workflow wire format (ARCHITECTURE §8): what agents patch, what the store versions and
 * what a run pins at start. Plain data, JSON-serialisable, no behaviour.
 */
export interface BlockPosition {
  x: number;
  y: number;
}

/**
 * A block's override of its connector's retry policy; absent fields keep the connector's value.
 * Checked against the connector's `overridable` bounds by validation.
 */
export interface BlockRetry {
  /** Total attempts, the first included (1 = never retry). */
  maxAttempts?: number;
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maxIntervalMs?: number;
}

export interface WorkflowBlock {
  id: string;
  type: string;
  name?: string;
  params: Record<string, unknown>;
  enabled: boolean;
  position?: BlockPosition;
  /** Overrides the connector's retry policy for this block (actions only). */
  retry?: BlockRetry;
  /** Overrides the connector's per-attempt timeout, in ms (actions only). */
  timeoutMs?: number;
}

export interface WorkflowConnection {
  source: string;
  target: string;
  /** `true`/`false` out of a `condition`, `error` out of any action block; absent = default. */
  sourceHandle?: string;
}

export interface WorkflowMetadata {
  name: string;
  description: string;
  /**
   * The longest a run of this workflow may take, from its start to its end, in ms: past it the
   * run fails with `run_timed_out`, whatever it is doing (running a step, sleeping, waiting).
   * Pinned with the workflow at the start: a later change applies to later runs only.
   */
  timeoutMs?: number;
  /** At most `limit` runs (per value at `keyPath` in the run input, when set) begun and not ended at once; the rest queue. */
  concurrency?: WorkflowConcurrency;
}

/**
 * A workflow's concurrency limit: its runs take turns, first started first admitted, at most
 * `limit` of them begun and not ended at once (a run sleeping or waiting keeps its place). With
 * `keyPath` (a dot path into the run input, e.g. `customer.id`), each value has its own line.
 * Pinned with the workflow at the start: a later change applies to later runs only.
 */
export interface WorkflowConcurrency {
  limit: number;
  keyPath?: string;
}

export interface SerializedWorkflow {
  metadata: WorkflowMetadata;
  variables: Record<string, unknown>;
  blocks: WorkflowBlock[];
  connections: WorkflowConnection[];
}

export function emptyWorkflow(name = 'Untitled workflow', description = ''): SerializedWorkflow {
  return { metadata: { name, description }, variables: {}, blocks: [], connections: [] };
}
