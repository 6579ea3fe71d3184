import type { SerializedWorkflow } from './workflow';
import type { ValidationError } from './validation-error';

/**
 * Why an op was skipped. The API.md codes plus `invalid_operation` (the op does not match any
 * EditOp schema, or carries a prototype key); bad `source_handle`s use `invalid_edge_source`.
 */
export type SkipReasonCode =
  | 'block_not_found'
  | 'block_id_already_exists'
  | 'block_type_not_registered'
  | 'hidden_param_in_input'
  | 'user_only_param'
  | 'invalid_block_id'
  | 'invalid_edge_source'
  | 'invalid_edge_target'
  | 'duplicate_connection'
  | 'edge_not_found'
  | 'cycle_introduced'
  | 'workflow_too_large'
  | 'params_too_large'
  | 'invalid_operation';

/** An op that could not apply. `reason` is prose an LLM can act on; `suggestion` is a corrected op. */
export interface SkippedItem {
  index: number;
  /** Canonical type (`edit` reported as `update`); null when the op had none usable. */
  operation_type: string | null;
  block_id: string | null;
  reason_code: SkipReasonCode;
  reason: string;
  hint?: string;
  suggestion?: Record<string, unknown>;
  /** The op as sent, safe to store: hidden values replaced by "[hidden]", prototype keys dropped. */
  op: unknown;
}

/** An op that applied, in application order (deferred connects come last). */
export interface AppliedItem {
  index: number;
  operation_type: string;
  block_id: string | null;
  /** The canonical op, safe to store (hidden values can never be in an applied op). */
  op: Record<string, unknown>;
}

/** Who sends the batch: user-only params may be set by a person, not with an API key. */
export interface Principal {
  kind: 'user' | 'api_key';
}

/** Limits and operator settings for `apply`; all optional. */
export interface ApplyOptions {
  /** Most blocks a workflow may hold (default 500). */
  maxBlocks?: number;
  /** Most connections a workflow may hold (default 2000). */
  maxConnections?: number;
  /** Most bytes (UTF-8 JSON) one block's params, or the variables, may hold (default 256 KiB). */
  maxParamsBytes?: number;
  /** Most bytes all blocks' params and the variables may hold together (default 4 MiB). */
  maxWorkflowParamsBytes?: number;
  /** Names `{{env.NAME}}` may read (THODARE_TEMPLATE_ENV); none by default. */
  templateEnv?: readonly string[];
}

/** Default cap on blocks per workflow (`workflow_too_large`). */
export const DEFAULT_MAX_BLOCKS = 500;
/** Default cap on connections per workflow (`workflow_too_large`). */
export const DEFAULT_MAX_CONNECTIONS = 2000;
/** Default cap on one block's params, or the variables (`params_too_large`): what a run payload may hold. */
export const DEFAULT_MAX_PARAMS_BYTES = 262_144;
/** Default cap on all params and variables together (`workflow_too_large`). */
export const DEFAULT_MAX_WORKFLOW_PARAMS_BYTES = 4 * 2 ** 20;

/**
 * What `apply` returns; the patch response is built from it (`version` is the store's). Field
 * names are the API.md wire names.
 */
export interface ApplyResult {
  workflow: SerializedWorkflow;
  applied: AppliedItem[];
  skipped_items: SkippedItem[];
  validation_errors: ValidationError[];
  /** True when at least one op applied: the store bumps the version once. */
  changed: boolean;
  /** No validation errors (a workflow without a trigger is runnable: runs start manually). */
  runnable: boolean;
  /** Nothing skipped and runnable. */
  ok: boolean;
  summary: string;
}
