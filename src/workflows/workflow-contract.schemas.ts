import { z } from 'zod';
import { blockRetrySchema } from '../domain/workflow/edit-op.schema';
import type { SkipReasonCode } from '../domain/workflow/apply-result';
import type { ValidationErrorCode } from '../domain/workflow/validation-error';

/**
 * The workflow wire shapes a client imports by name (`Workflow`, `Block`, `SkippedItem`, …): the
 * `id` in `.meta()` makes each a named component of `/openapi.json` (see `src/http/openapi.ts`).
 * The code lists must name every member of the domain's union: a code added there and not
 * here fails to compile.
 */

/** `values`, checked at compile time to hold every member of `T`. */
const every =
  <T extends string>() =>
  <const A extends readonly [T, ...T[]]>(values: A & ([Exclude<T, A[number]>] extends [never] ? unknown : { missing: Exclude<T, A[number]> })): A =>
    values;

export const SKIP_REASON_CODES = every<SkipReasonCode>()([
  'block_not_found',
  'block_id_already_exists',
  'block_type_not_registered',
  'hidden_param_in_input',
  'user_only_param',
  'invalid_block_id',
  'invalid_edge_source',
  'invalid_edge_target',
  'duplicate_connection',
  'edge_not_found',
  'cycle_introduced',
  'workflow_too_large',
  'params_too_large',
  'invalid_operation',
]);

export const VALIDATION_ERROR_CODES = every<ValidationErrorCode>()([
  'required_param_missing',
  'invalid_param_value',
  'unknown_param',
  'unknown_reference',
  'reference_not_upstream',
  'unknown_output',
  'multiple_triggers',
  'block_type_not_registered',
  'retry_out_of_bounds',
  'timeout_out_of_bounds',
]);

export const blockSchema = z
  .object({
    id: z.string(),
    type: z.string().describe('the connector type, e.g. `http_request`'),
    name: z.string().optional(),
    params: z.record(z.string(), z.unknown()).describe('the connector params; hidden params never appear'),
    enabled: z.boolean(),
    position: z.object({ x: z.number(), y: z.number() }).optional(),
    retry: blockRetrySchema.optional().describe("overrides the connector's retry policy (actions only)"),
    timeoutMs: z.number().int().optional().describe("overrides the connector's per-attempt timeout, in ms (actions only)"),
  })
  .meta({ id: 'Block', description: 'One step of a workflow: a connector `type` and its `params`.' });

export const connectionSchema = z
  .object({
    source: z.string(),
    target: z.string(),
    sourceHandle: z.string().optional().describe('`true`/`false` out of a `condition`, `error` out of any action block; absent = default'),
  })
  .meta({ id: 'Connection', description: 'An edge: `target` runs after `source`.' });

export const workflowSchema = z
  .object({
    metadata: z.object({
      name: z.string(),
      description: z.string(),
      timeoutMs: z.number().int().optional().describe('the longest a run may take, start to end, in ms (set_metadata timeout_ms); past it the run fails with run_timed_out'),
      concurrency: z
        .object({ limit: z.number().int(), keyPath: z.string().optional() })
        .optional()
        .describe('set_metadata concurrency: at most limit runs begun and not ended at once (per value at keyPath in the run input, when set); the rest wait, queued, first started first admitted'),
    }),
    variables: z.record(z.string(), z.unknown()),
    blocks: z.array(blockSchema),
    connections: z.array(connectionSchema),
  })
  .meta({ id: 'Workflow', description: 'The workflow document that EditOps patch and runs pin.' });

export const validationErrorSchema = z
  .object({
    block_id: z.string(),
    block_type: z.string(),
    field: z.string().describe('param path (`url`, `headers.Authorization`); `type` for block-level problems'),
    value: z.unknown(),
    code: z.enum(VALIDATION_ERROR_CODES).meta({ id: 'ValidationErrorCode' }),
    error: z.string(),
    allowed: z.array(z.unknown()).optional(),
    suggestion: z.unknown().optional(),
  })
  .meta({ id: 'ValidationError', description: 'One reason the workflow is not runnable yet.' });

export const skippedItemSchema = z
  .object({
    index: z.number().int(),
    operation_type: z.string().nullable(),
    block_id: z.string().nullable(),
    reason_code: z.enum(SKIP_REASON_CODES).meta({ id: 'SkipReasonCode' }),
    reason: z.string(),
    hint: z.string().optional(),
    suggestion: z.record(z.string(), z.unknown()).optional(),
    op: z.unknown().describe('the op as recorded: hidden values read "[hidden]"'),
  })
  .meta({ id: 'SkippedItem', description: 'An op of the batch that did not apply, and why.' });
