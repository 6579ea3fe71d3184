import type { Connector } from '../connectors/connector';
import type { ConnectOp } from './edit-op.schema';
import { type OpOutcome, quoteList, skip } from './op-outcome';
import { clip } from './op-record';

/** The handle every non-trigger block may use for its failure branch. */
export const ERROR_HANDLE = 'error';

/**
 * Which `source_handle` an edge out of a block of this connector may carry: none out of a
 * trigger; one of the connector's `sourceHandles` (or `error`) when it routes, e.g. a condition's
 * `true`/`false`; otherwise none or `error`. Unknown types accept any handle.
 */
export function checkHandle(
  connector: Connector | undefined,
  op: ConnectOp,
): OpOutcome | undefined {
  if (!connector) return undefined;
  const handle = op.source_handle ?? undefined;
  const { source_handle: _drop, ...withoutHandle } = op;
  if (connector.kind === 'trigger') {
    if (handle === undefined) return undefined;
    return skip(
      'invalid_edge_source',
      `"${op.block_id}" is a trigger: it has one output, so source_handle must be omitted.`,
      { suggestion: withoutHandle },
    );
  }
  const named = connector.sourceHandles;
  if (named && named.length > 0) {
    if (handle !== undefined && (named.includes(handle) || handle === ERROR_HANDLE))
      return undefined;
    const allowed = [...named, ERROR_HANDLE];
    return skip(
      'invalid_edge_source',
      `Edges out of "${op.block_id}" (${connector.type}) must name a branch: source_handle ${quoteList(allowed)}${handle === undefined ? ' is missing' : `, not "${clip(handle, 40)}"`}.`,
      {
        suggestion: { ...op, source_handle: named[0] },
      },
    );
  }
  if (handle === undefined || handle === ERROR_HANDLE) return undefined;
  return skip(
    'invalid_edge_source',
    `"${op.block_id}" (${connector.type}) has no output "${clip(handle, 40)}": omit source_handle, or use "${ERROR_HANDLE}" for its failure branch.`,
    {
      suggestion: withoutHandle,
    },
  );
}
