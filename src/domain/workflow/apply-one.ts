import { assertNever } from '../assert-never';
import { applyAdd, applyRemove, applyUpdate } from './block-ops';
import type { EditOp } from './edit-op.schema';
import { applyConnect, applyDisconnect } from './edge-ops';
import type { OpContext, OpOutcome } from './op-outcome';
import { applySetMetadata, applySetVariables } from './workflow-ops';

function dispatch(ctx: OpContext, op: EditOp): OpOutcome {
  switch (op.operation_type) {
    case 'add':
      return applyAdd(ctx, op);
    case 'update':
      return applyUpdate(ctx, op);
    case 'remove':
      return applyRemove(ctx, op);
    case 'connect':
      return applyConnect(ctx, op);
    case 'disconnect':
      return applyDisconnect(ctx, op);
    case 'set_metadata':
      return applySetMetadata(ctx, op);
    case 'set_variables':
      return applySetVariables(ctx, op);
    default:
      return assertNever(op);
  }
}

/**
 * Applies one parsed op to the draft. Handlers do not throw; the catch keeps `apply`'s
 * never-throw promise if one ever does (handlers change the draft only once all checks passed).
 */
export function applyOne(ctx: OpContext, op: EditOp): OpOutcome {
  try {
    return dispatch(ctx, op);
  } catch (error) {
    return {
      kind: 'skipped',
      code: 'invalid_operation',
      reason: `The op could not be applied: ${String(error)}.`,
    };
  }
}
