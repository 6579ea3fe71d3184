import type { SetMetadataOp, SetVariablesOp } from './edit-op.schema';
import { APPLIED, type OpContext, type OpOutcome } from './op-outcome';
import { safeJsonCopy } from './op-record';
import { tooHeavy, VARIABLES } from './params-weight';
import type { WorkflowConcurrency } from './workflow';

/** Sets the workflow's name, description, run timeout and/or concurrency limit (`null` removes either of the last two). */
export function applySetMetadata(ctx: OpContext, op: SetMetadataOp): OpOutcome {
  const { timeoutMs, concurrency, ...rest } = ctx.draft.metadata;
  const timeout = op.timeout_ms === undefined ? timeoutMs : (op.timeout_ms ?? undefined);
  const limit = op.concurrency === undefined ? concurrency : op.concurrency === null ? undefined : concurrencyOf(op.concurrency);
  ctx.draft.metadata = {
    ...rest,
    name: op.name ?? rest.name,
    description: op.description ?? rest.description,
    ...(timeout !== undefined ? { timeoutMs: timeout } : {}),
    ...(limit !== undefined ? { concurrency: limit } : {}),
  };
  return APPLIED;
}

function concurrencyOf(op: NonNullable<SetMetadataOp['concurrency']>): WorkflowConcurrency {
  return { limit: op.limit, ...(op.key_path !== undefined ? { keyPath: op.key_path } : {}) };
}

/** Merges variables (`{{vars.name}}`); a `null` value removes that variable. */
export function applySetVariables(ctx: OpContext, op: SetVariablesOp): OpOutcome {
  const variables: Record<string, unknown> = { ...ctx.draft.variables };
  for (const [name, value] of Object.entries(op.variables)) {
    if (value === null) delete variables[name];
    else variables[name] = safeJsonCopy(value) ?? null;
  }
  const weighed = ctx.weight.weigh(VARIABLES, variables);
  if (!weighed.fits) return tooHeavy(ctx, "workflow's variables", weighed);
  weighed.commit();
  ctx.draft.variables = variables;
  return APPLIED;
}
