import { z } from 'zod';
import { isForbiddenKey } from '../resolver/forbidden-keys';

/**
 * EditOp wire schemas (API.md "Workflows"). snake_case, `operation_type` first. Objects are
 * strict so a misspelled field (`target` for `target_block_id`) is reported, not ignored.
 * Block ids are plain strings here: their format is checked by `apply`, which answers with the
 * specific skip `invalid_block_id` instead of a generic schema failure.
 */
export const MAX_OPS_PER_BATCH = 200;

const blockId = z.string().min(1);
const position = z.strictObject({ x: z.number().finite(), y: z.number().finite() });
const params = z.record(z.string(), z.unknown());
/** A block's retry override (camelCase like the catalog's `retry`); bounds are checked by validation. */
export const blockRetrySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).optional(),
  initialIntervalMs: z.number().int().min(0).optional(),
  backoffCoefficient: z.number().min(1).max(10).optional(),
  maxIntervalMs: z.number().int().min(0).optional(),
});
const timeoutMs = z.number().int().min(1);
const sourceHandle = z.string().min(1).max(64).nullable().optional();

/** `add`: a new block; `enabled` defaults to true. */
export const addOpSchema = z.strictObject({
  operation_type: z.literal('add'),
  block_id: blockId,
  type: z.string().min(1).max(200),
  name: z.string().max(200).optional(),
  params: params.optional(),
  enabled: z.boolean().optional(),
  position: position.optional(),
  /** Overrides the connector's retry policy within its `overridable` bounds. */
  retry: blockRetrySchema.optional(),
  /** Overrides the connector's per-attempt timeout (ms) within its bounds; block field `timeoutMs`. */
  timeout_ms: timeoutMs.optional(),
});

/** `update` (alias `edit`): a block's type cannot change; remove and add instead. */
export const updateOpSchema = z.strictObject({
  operation_type: z.literal('update'),
  block_id: blockId,
  name: z.string().max(200).optional(),
  /** Merged into the block's params; a `null` value removes that key. */
  params: params.optional(),
  enabled: z.boolean().optional(),
  position: position.optional(),
  /** Replaces the block's retry override; `null` removes it (the connector's policy applies). */
  retry: blockRetrySchema.nullable().optional(),
  /** Replaces the block's timeout override; `null` removes it. */
  timeout_ms: timeoutMs.nullable().optional(),
});

/** `remove` (alias `delete`): the block and its connections. */
export const removeOpSchema = z.strictObject({
  operation_type: z.literal('remove'),
  block_id: blockId,
});

/** `connect`: an edge block_id → target_block_id, optionally from a named handle. */
export const connectOpSchema = z.strictObject({
  operation_type: z.literal('connect'),
  block_id: blockId,
  target_block_id: blockId,
  source_handle: sourceHandle,
});

/** `disconnect`: removes edges block_id → target_block_id. */
export const disconnectOpSchema = z.strictObject({
  operation_type: z.literal('disconnect'),
  block_id: blockId,
  target_block_id: blockId,
  /** Absent: every edge from block_id to target_block_id, whatever its handle. */
  source_handle: sourceHandle,
});

/** The bounds of a workflow's run timeout (`set_metadata` `timeout_ms`): one second to a year. */
export const RUN_TIMEOUT_BOUNDS_MS = { min: 1000, max: 366 * 24 * 60 * 60 * 1000 } as const;

/** The bounds of a workflow's concurrency limit (`set_metadata` `concurrency.limit`). */
export const CONCURRENCY_LIMIT_BOUNDS = { min: 1, max: 1000 } as const;

/** A dot path into the run input (`customer.id`, `items.0.sku`): names of letters, digits, `_`, `-`, `$`. */
const inputPath = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a dot path into the run input, e.g. "customer.id"')
  .refine((path) => !path.split('.').some(isForbiddenKey), 'a path may not name __proto__, constructor or prototype');

/** `set_metadata`: the workflow's name, description, run timeout and concurrency limit (`null` removes either). */
export const setMetadataOpSchema = z.strictObject({
  operation_type: z.literal('set_metadata'),
  name: z.string().max(200).optional(),
  description: z.string().max(4000).optional(),
  timeout_ms: z.number().int().min(RUN_TIMEOUT_BOUNDS_MS.min).max(RUN_TIMEOUT_BOUNDS_MS.max).nullable().optional(),
  /** At most `limit` runs begun and not ended at once, per value at `key_path` in the run input when given; the rest queue, first started first admitted. */
  concurrency: z
    .strictObject({
      limit: z.number().int().min(CONCURRENCY_LIMIT_BOUNDS.min).max(CONCURRENCY_LIMIT_BOUNDS.max),
      key_path: inputPath.optional(),
    })
    .nullable()
    .optional(),
});

/** `set_variables`: workflow variables (`{{vars.name}}`). */
export const setVariablesOpSchema = z.strictObject({
  operation_type: z.literal('set_variables'),
  /** Merged into the variables; a `null` value removes that variable. */
  variables: z.record(z.string().min(1).max(100), z.unknown()),
});

/** The schema of each canonical operation type. */
export const editOpSchemas = {
  add: addOpSchema,
  update: updateOpSchema,
  remove: removeOpSchema,
  connect: connectOpSchema,
  disconnect: disconnectOpSchema,
  set_metadata: setMetadataOpSchema,
  set_variables: setVariablesOpSchema,
} as const;

/** Canonical operation types, and the aliases agents may send. */
export type OperationType = keyof typeof editOpSchemas;
/** Canonical operation types, in documentation order. */
export const OPERATION_TYPES = Object.keys(editOpSchemas) as OperationType[];
/** Accepted aliases → canonical type. */
export const OPERATION_ALIASES: Readonly<Record<string, OperationType>> = {
  edit: 'update',
  delete: 'remove',
};

/** Parsed op types (canonical `operation_type`). */
export type AddOp = z.output<typeof addOpSchema>;
export type UpdateOp = z.output<typeof updateOpSchema>;
export type RemoveOp = z.output<typeof removeOpSchema>;
export type ConnectOp = z.output<typeof connectOpSchema>;
export type DisconnectOp = z.output<typeof disconnectOpSchema>;
export type SetMetadataOp = z.output<typeof setMetadataOpSchema>;
export type SetVariablesOp = z.output<typeof setVariablesOpSchema>;
/** Any parsed op. */
export type EditOp =
  AddOp | UpdateOp | RemoveOp | ConnectOp | DisconnectOp | SetMetadataOp | SetVariablesOp;

/** Any EditOp as accepted on the wire, aliases included (for OpenAPI / request validation). */
export const editOpWireSchema = z.discriminatedUnion('operation_type', [
  addOpSchema,
  updateOpSchema.extend({ operation_type: z.enum(['update', 'edit']) }),
  removeOpSchema.extend({ operation_type: z.enum(['remove', 'delete']) }),
  connectOpSchema,
  disconnectOpSchema,
  setMetadataOpSchema,
  setVariablesOpSchema,
]);
