import { z } from 'zod';
import { editOpWireSchema } from '../domain/workflow/edit-op.schema';

/**
 * Request and response schemas of the workflow routes (API.md "Workflows"). The patch body
 * accepts any JSON in `ops`: a malformed op is `apply`'s to skip with `invalid_operation`,
 * never a 400 for the whole batch; OpenAPI still documents the EditOp shapes.
 */
const { $schema: _draft, ...editOpJsonSchema } = z.toJSONSchema(editOpWireSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

export const createBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(4000).optional(),
});

export const patchBody = z.object({
  ops: z.array(z.unknown().meta({ description: 'An EditOp (operation_type first)', ...editOpJsonSchema })),
});

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const patchQuery = z.object({ dry_run: flag.default(false) });

const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
export const listQuery = z.object({ after: z.string().min(1).max(500).optional(), limit: limit(200, 50) });
export const historyQuery = z.object({ after: z.coerce.number().int().min(0).max(2 ** 31 - 1).default(0), limit: limit(500, 100) });

const workflowJson = z.object({
  metadata: z.object({ name: z.string(), description: z.string() }),
  variables: z.record(z.string(), z.unknown()),
  blocks: z.array(z.record(z.string(), z.unknown())),
  connections: z.array(z.object({ source: z.string(), target: z.string(), sourceHandle: z.string().optional() })),
});
const validationError = z.object({
  block_id: z.string(),
  block_type: z.string(),
  field: z.string(),
  value: z.unknown(),
  code: z.string(),
  error: z.string(),
  allowed: z.array(z.unknown()).optional(),
  suggestion: z.unknown().optional(),
});
const skippedItem = z.object({
  index: z.number(),
  operation_type: z.string().nullable(),
  block_id: z.string().nullable(),
  reason_code: z.string(),
  reason: z.string(),
  hint: z.string().optional(),
  suggestion: z.record(z.string(), z.unknown()).optional(),
  op: z.unknown().describe('the op as recorded: hidden values read "[hidden]"'),
});

export const createdResponse = z.object({ id: z.string(), version: z.literal(1), workflow: workflowJson });
export const listResponse = z.object({
  data: z.array(z.object({ id: z.string(), name: z.string(), version: z.number(), createdAt: z.iso.datetime(), updatedAt: z.iso.datetime() })),
  next: z.string().nullable(),
});
export const workflowResponse = z.object({
  id: z.string(),
  version: z.number(),
  workflow: workflowJson,
  validation_errors: z.array(validationError),
  runnable: z.boolean(),
});
export const patchResponseSchema = z.object({
  ok: z.boolean(),
  version: z.number(),
  workflow: workflowJson,
  skipped_items: z.array(skippedItem),
  validation_errors: z.array(validationError),
  summary: z.string(),
  runnable: z.boolean(),
});
export const historyResponse = z.object({
  data: z.array(
    z.object({
      streamVersion: z.number(),
      type: z.string(),
      version: z.number().nullable(),
      actor: z.object({ type: z.string(), id: z.string() }),
      agent: z.string().nullable(),
      requestId: z.string().nullable(),
      recordedAt: z.iso.datetime(),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
  next: z.string().nullable(),
});
export const versionResponse = z.object({ version: z.number(), workflow: workflowJson });
