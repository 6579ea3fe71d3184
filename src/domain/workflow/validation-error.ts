/**
 * Why a workflow is not runnable yet (the op applied, the result is incomplete or wrong).
 * The API.md codes plus `block_type_not_registered`, for a stored block whose connector is no
 * longer deployed, and `retry_out_of_bounds` / `timeout_out_of_bounds` for a block's policy
 * override outside its connector's `overridable` bounds.
 */
export type ValidationErrorCode =
  | 'required_param_missing'
  | 'invalid_param_value'
  | 'unknown_param'
  | 'unknown_reference'
  | 'reference_not_upstream'
  | 'unknown_output'
  | 'multiple_triggers'
  | 'block_type_not_registered'
  | 'retry_out_of_bounds'
  | 'timeout_out_of_bounds';

/** One reason a workflow is not runnable; API.md wire names. */
export interface ValidationError {
  block_id: string;
  block_type: string;
  /** Param path (`url`, `headers.Authorization`); `type` for block-level problems. */
  field: string;
  value: unknown;
  code: ValidationErrorCode;
  error: string;
  /** Accepted values: enum options, declared outputs, param names, block ids. */
  allowed?: unknown[];
  /** A corrected value for `field` when one can be inferred, or a fixing op. */
  suggestion?: unknown;
}
