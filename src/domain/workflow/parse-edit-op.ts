import { nearestName } from '../connectors/edit-distance';
import { findForbiddenKey } from '../resolver/forbidden-keys';
import {
  type EditOp,
  OPERATION_ALIASES,
  OPERATION_TYPES,
  type OperationType,
  editOpSchemas,
} from './edit-op.schema';
import { clip, safeJsonCopy } from './op-record';
import { issuesText } from '../zod-issues';

/** The outcome of reading one raw op: a typed EditOp, or why it is not one. */
export type ParsedOp =
  | { ok: true; op: EditOp }
  | {
      ok: false;
      operation_type: string | null;
      block_id: string | null;
      reason: string;
      hint: string;
      suggestion?: Record<string, unknown>;
    };

/** Field names agents often use instead of the wire names. */
const FIELD_ALIASES: Readonly<Record<string, string>> = {
  id: 'block_id',
  blockId: 'block_id',
  block: 'block_id',
  source: 'block_id',
  from: 'block_id',
  source_block_id: 'block_id',
  target: 'target_block_id',
  to: 'target_block_id',
  targetBlockId: 'target_block_id',
  sourceHandle: 'source_handle',
  handle: 'source_handle',
  block_type: 'type',
  blockType: 'type',
  parameters: 'params',
  config: 'params',
  inputs: 'params',
};

const SHAPES =
  'add {block_id, type, name?, params?, enabled?, position?}; update {block_id, name?, params?, enabled?, position?}; remove {block_id}; connect|disconnect {block_id, target_block_id, source_handle?}; set_metadata {name?, description?}; set_variables {variables}';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads one untrusted op. Never throws. Accepts `edit`/`delete` and any letter case. */
export function parseEditOp(raw: unknown): ParsedOp {
  const blockId = isRecord(raw) && typeof raw.block_id === 'string' ? clip(raw.block_id) : null;
  const fail = (
    operationType: string | null,
    reason: string,
    suggestion?: Record<string, unknown>,
  ): ParsedOp => ({
    ok: false,
    operation_type: operationType,
    block_id: blockId,
    reason,
    hint: `Op shapes: ${SHAPES}.`,
    ...(suggestion ? { suggestion } : {}),
  });
  if (!isRecord(raw))
    return fail(null, 'An op must be a JSON object whose first field is operation_type.');
  const forbidden = findForbiddenKey(raw);
  if (forbidden) {
    const what =
      forbidden.kind === 'too_deep' ? 'is nested too deeply' : 'is a reserved prototype key';
    return fail(
      null,
      `The op was refused: "${clip(forbidden.path)}" ${what}; remove it and send the op again.`,
    );
  }
  const sent =
    typeof raw.operation_type === 'string' ? raw.operation_type.trim().toLowerCase() : undefined;
  const canonical = sent === undefined ? undefined : canonicalType(sent);
  if (!canonical) {
    const nearest = sent ? nearestName(sent, OPERATION_TYPES) : undefined;
    const known = `operation_type must be one of ${OPERATION_TYPES.join(', ')} (or edit, delete)`;
    const reason =
      sent === undefined
        ? `The op has no operation_type: ${known}.`
        : `Unknown operation_type "${clip(sent, 40)}": ${known}.`;
    return fail(
      sent ?? null,
      reason,
      nearest
        ? (safeJsonCopy({ ...raw, operation_type: nearest }) as Record<string, unknown>)
        : undefined,
    );
  }
  const candidate = { ...raw, operation_type: canonical };
  const result = editOpSchemas[canonical].safeParse(candidate);
  if (result.success) return { ok: true, op: result.data as EditOp };
  return fail(
    canonical,
    `The ${canonical} op does not match its schema: ${issuesText(result.error.issues, 'op')}.`,
    renamedFields(canonical, candidate),
  );
}

function canonicalType(sent: string): OperationType | undefined {
  if ((OPERATION_TYPES as string[]).includes(sent)) return sent as OperationType;
  return OPERATION_ALIASES[sent];
}

/** The op with aliased field names renamed, when that makes it valid. */
function renamedFields(
  type: OperationType,
  op: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const renamed: Record<string, unknown> = {};
  let changed = false;
  for (const [key, value] of Object.entries(op)) {
    const wire = FIELD_ALIASES[key];
    const target = wire && !(wire in op) ? wire : key;
    changed ||= target !== key;
    renamed[target] = value;
  }
  if (!changed || !editOpSchemas[type].safeParse(renamed).success) return undefined;
  return safeJsonCopy(renamed) as Record<string, unknown>;
}
