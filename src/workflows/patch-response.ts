import type { ApplyResult, SkippedItem } from '../domain/workflow/apply-result';
import type { ValidationError } from '../domain/workflow/validation-error';
import type { SerializedWorkflow } from '../domain/workflow/workflow';

/** The patch result of API.md (snake_case wire names), plus `runnable`. */
export interface PatchResponse {
  ok: boolean;
  version: number;
  workflow: SerializedWorkflow;
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
    skipped_items: result.skipped_items,
    validation_errors: result.validation_errors,
    summary: result.summary,
    runnable: result.runnable,
  };
}
