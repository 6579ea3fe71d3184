import { z } from 'zod';
import { editOpWireSchema } from '../domain/workflow/edit-op.schema';
import { skippedItemSchema, validationErrorSchema, workflowSchema } from './workflow-contract.schemas';

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
  ops: z.array(z.unknown().meta({ ...editOpJsonSchema, id: 'EditOp', description: 'An EditOp (operation_type first)' })),
});

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const patchQuery = z.object({ dry_run: flag.default(false) });

const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
export const listQuery = z.object({ after: z.string().min(1).max(500).optional(), limit: limit(200, 50) });
export const historyQuery = z.object({ after: z.coerce.number().int().min(0).max(2 ** 31 - 1).default(0), limit: limit(500, 100) });

export const createdResponse = z.object({ id: z.string(), version: z.literal(1), workflow: workflowSchema });
const workflowSummary = z
  .object({ id: z.string(), name: z.string(), version: z.number().int(), createdAt: z.iso.datetime(), updatedAt: z.iso.datetime() })
  .meta({ id: 'WorkflowSummary' });
export const listResponse = z.object({ data: z.array(workflowSummary), next: z.string().nullable() });
export const workflowResponse = z
  .object({
    id: z.string(),
    version: z.number().int(),
    workflow: workflowSchema,
    validation_errors: z.array(validationErrorSchema),
    runnable: z.boolean(),
  })
  .meta({ id: 'WorkflowDetail', description: 'A workflow at its latest version, with what keeps it from running.' });
export const patchResponseSchema = z
  .object({
    ok: z.boolean().describe('true when nothing was skipped and the workflow has no validation errors'),
    version: z.number().int(),
    workflow: workflowSchema,
    applied: z
      .array(z.object({ index: z.number().int(), operation_type: z.string(), block_id: z.string().nullable() }))
      .describe("the ops that applied, in application order (a connect to a block added later in the batch comes after it): each op's index in the batch"),
    skipped_items: z.array(skippedItemSchema),
    validation_errors: z.array(validationErrorSchema),
    summary: z.string(),
    runnable: z.boolean(),
  })
  .meta({ id: 'PatchResult', description: 'What an EditOp batch did.' });
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
export const versionResponse = z.object({ version: z.number().int(), workflow: workflowSchema });

/** `POST /api/workflows/:id/revert`: the past version to go back to. */
export const revertBody = z.object({ version: z.number().int().min(1).describe('a past version of the workflow (see GET /api/workflows/:id/history)') });
export const revertResponseSchema = patchResponseSchema.extend({ revertedTo: z.number().int().describe('the version whose content the workflow now has again') });
