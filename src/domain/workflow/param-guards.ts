import type { AddOp, UpdateOp } from './edit-op.schema';
import { type OpContext, type OpOutcome, quoteList, skip } from './op-outcome';

/** Who may set what on a block of one connector type. */
export interface ParamPolicy {
  type: string;
  hidden: ReadonlySet<string>;
  userOnly: ReadonlySet<string>;
  /** Hidden param → secret name. */
  secrets: Readonly<Record<string, string>>;
}

/**
 * Refuses an add/update that touches a hidden param (any principal) or a user-only param (API
 * keys only). Setting to `null` counts too. The suggestion is the same op without those params;
 * hidden values never appear in it.
 */
export function guardParams(
  ctx: OpContext,
  policy: ParamPolicy,
  op: AddOp | UpdateOp,
): OpOutcome | undefined {
  const keys = Object.keys(op.params ?? {});
  const hiddenKeys = keys.filter((key) => policy.hidden.has(key));
  if (hiddenKeys.length > 0) {
    const secretNames = hiddenKeys
      .map((key) => policy.secrets[key])
      .filter((name) => name !== undefined);
    const source =
      secretNames.length > 0
        ? `the organization secret ${quoteList(secretNames)} at run time`
        : 'the organization secrets at run time';
    return skip(
      'hidden_param_in_input',
      `Param ${quoteList(hiddenKeys)} of "${policy.type}" is hidden: it is filled from ${source} and cannot be set by an op. Send the op without it.`,
      {
        hint: 'Store the value once with POST /api/secrets (admin) instead.',
        suggestion: withoutParams(op, hiddenKeys),
      },
    );
  }
  if (ctx.principal.kind !== 'api_key') return undefined;
  const userOnlyKeys = keys.filter((key) => policy.userOnly.has(key));
  if (userOnlyKeys.length === 0) return undefined;
  return skip(
    'user_only_param',
    `Param ${quoteList(userOnlyKeys)} of "${policy.type}" can only be set by a signed-in person, not with an API key. Send the op without it.`,
    { hint: 'Ask a user to set it in the editor.', suggestion: withoutParams(op, userOnlyKeys) },
  );
}

/** The op without some params; undefined for an update left with nothing to do. */
function withoutParams(
  op: AddOp | UpdateOp,
  drop: readonly string[],
): Record<string, unknown> | undefined {
  const params = Object.fromEntries(
    Object.entries(op.params ?? {}).filter(([key]) => !drop.includes(key)),
  );
  const rest: Record<string, unknown> = { ...op, params };
  if (op.operation_type === 'update' && Object.keys(params).length === 0) {
    delete rest.params;
    if (Object.keys(rest).length <= 2) return undefined;
  }
  return rest;
}
