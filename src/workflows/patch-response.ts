import type { AppliedItem, ApplyResult, SkippedItem } from '../domain/workflow/apply-result';
import type { ValidationError } from '../domain/workflow/validation-error';
import type { SerializedWorkflow } from '../domain/workflow/workflow';

/** The patch result of API.md (snake_case wire names), plus `runnable` and `applied`. */
export interface PatchResponse {
  ok: boolean;
  version: number;
  workflow: SerializedWorkflow;
  /** The ops that applied, in application order: which of the batch, not their content (the batch has it). */
  applied: Pick<AppliedItem, 'index' | 'operation_type' | 'block_id'>[];
  skipped_items: SkippedItem[];
  validation_errors: ValidationError[];
  summary: string;
  runnable: boolean;
}

export function patchResponse(result: ApplyResult, version: number): PatchResponse {
  return {
    ok: result.ok,
    version,
    workflow: result.workflow,
    applied: result.applied.map(({ index, operation_type, block_id }) => ({ index, operation_type, block_id })),
    skipped_items: result.skipped_items,
    validation_errors: result.validation_errors,
    summary: result.summary,
    runnable: result.runnable,
  };
}
