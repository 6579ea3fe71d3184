import { randomBytes } from 'node:crypto';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { resolveTemplate, type TemplateScope } from '../domain/resolver/resolve-template';
import { plainlyOverLimit, sizeText } from '../domain/json-size';
import type { RunState } from '../domain/run/run.state';
import type { RunPorts } from '../domain/run/run.translate';
import { redactInput } from './redaction';

/** Operator settings the template resolver needs. */
export interface TemplateEnv {
  /** `{{env.NAME}}` values, already limited to THODARE_TEMPLATE_ENV names. */
  env: Readonly<Record<string, string | undefined>>;
  allowList: readonly string[];
}

/** The template scope of a run: its input, pinned variables, and outputs so far (not copied). */
export function templateScope(state: RunState, env: TemplateEnv): TemplateScope {
  return {
    trigger: state.run?.input,
    vars: state.run?.variables ?? {},
    outputs: state.outputs,
    env: env.env,
    envAllowList: env.allowList,
  };
}

/**
 * A block's params with every `{{…}}` resolved against the run; text interpolated past
 * `maxPayloadBytes` characters throws `ResolvedTextTooLong` before it is built (such params could
 * not be recorded: a UTF-8 byte per character at least).
 */
export function resolveBlockParams(state: RunState, blockId: string, env: TemplateEnv, maxPayloadBytes: number): Record<string, unknown> {
  const params = state.graph.blocks.get(blockId)?.params ?? {};
  const resolved = resolveTemplate(params, templateScope(state, env), maxPayloadBytes);
  return resolved !== null && typeof resolved === 'object' && !Array.isArray(resolved) ? (resolved as Record<string, unknown>) : {};
}

/**
 * A fresh approval token: 256 random bits, URL-safe, behind `tha_` — without it one token in 64
 * began with `-`, which a command line reads as an option (`thodare approvals show <token>` was
 * a usage error for those).
 */
export function newApprovalToken(): string {
  return `tha_${randomBytes(32).toString('base64url')}`;
}

/**
 * The ports one active run lends the pure core. `recordInput` resolves an attempt's params once:
 * the redacted copy goes into `StepAttemptStarted`, the real one is kept in `resolved` for the
 * call that follows the commit, so what is recorded is what runs. Params plainly past
 * `maxPayloadBytes` (templates can repeat a large value many times over) are recorded as a note
 * of their size instead; the call refuses them (`RunSteps.execute`).
 */
export function runPorts(
  catalog: ConnectorCatalog,
  env: TemplateEnv,
  resolved: Map<string, Record<string, unknown>>,
  maxPayloadBytes: number,
): (now: Date) => RunPorts & { jitter01: number } {
  const resolveParams = (state: RunState, blockId: string) => resolveBlockParams(state, blockId, env, maxPayloadBytes);
  const recordInput = (state: RunState, blockId: string) => {
    let params: Record<string, unknown>;
    try {
      params = resolveParams(state, blockId);
    } catch {
      return undefined; // the call resolves again and fails the attempt with a clear error
    }
    const over = plainlyOverLimit(params, maxPayloadBytes);
    // Not kept for the call: it resolves again and refuses them (`RunSteps.execute`).
    if (over) return `(not recorded: the resolved params are ${sizeText(over)} bytes; the limit is ${maxPayloadBytes})`;
    resolved.set(blockId, params);
    const connector = catalog.get(state.graph.blocks.get(blockId)?.type ?? '');
    if (!connector) return params;
    if (connector.hiddenParams.size === 0) return params;
    return redactInput(params, connector.hiddenParams);
  };
  return (now) => ({ now, jitter01: Math.random(), resolveParams, recordInput, newApprovalToken });
}
