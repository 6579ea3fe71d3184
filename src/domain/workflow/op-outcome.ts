import type { ConnectorCatalog } from '../connectors/connector-catalog';
import type { Principal, SkipReasonCode } from './apply-result';
import type { ParamsWeight } from './params-weight';
import type { WorkflowDraft } from './workflow-draft';

/** What applying one op did. Handlers change the draft only when they return `applied`. */
export type OpOutcome =
  | { kind: 'applied' }
  | { kind: 'deferred' }
  | {
      kind: 'skipped';
      code: SkipReasonCode;
      reason: string;
      hint?: string;
      suggestion?: Record<string, unknown>;
    };

/** Everything an op handler reads besides its op. */
export interface OpContext {
  draft: WorkflowDraft;
  catalog: ConnectorCatalog;
  principal: Principal;
  maxBlocks: number;
  maxConnections: number;
  /** What the params and variables weigh, against their limits. */
  weight: ParamsWeight;
  /** Position of the op in the batch. */
  index: number;
  /** Block id → positions of the batch's add ops for it (for deferring early connects). */
  adds: ReadonlyMap<string, readonly number[]>;
  /** False in the end-of-batch pass over deferred connects. */
  mayDefer: boolean;
}

/** The outcome of an op that changed the draft. */
export const APPLIED: OpOutcome = { kind: 'applied' };

/** A skip outcome; `hint`/`suggestion` are left out when undefined. */
export function skip(
  code: SkipReasonCode,
  reason: string,
  extra: { hint?: string | undefined; suggestion?: Record<string, unknown> | undefined } = {},
): OpOutcome {
  const outcome: OpOutcome = { kind: 'skipped', code, reason };
  if (extra.hint !== undefined) outcome.hint = extra.hint;
  if (extra.suggestion !== undefined) outcome.suggestion = extra.suggestion;
  return outcome;
}

/** Quoted, comma-separated list for prose, cut after `max` items. */
export function quoteList(items: Iterable<string>, max = 12): string {
  const all = [...items];
  const shown = all.slice(0, max).map((item) => `"${item}"`);
  return all.length > max ? `${shown.join(', ')} and ${all.length - max} more` : shown.join(', ');
}
