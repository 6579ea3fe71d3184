import type { RunAction, StartWait } from './run.actions';
import type { RunEvent } from './run.events';
import type { RunState } from './run.state';
import { STEP_ERROR_CODES } from './step-result';
import { parseWaitParams, type WaitParams } from './wait-params';

/**
 * What the shell lends the pure core while it plays a run forward: the time, the template
 * resolver, token generation. Functions must not mutate the state they are shown.
 */
export interface RunPorts {
  now: Date;
  /**
   * A block's params with `{{…}}` resolved against the run: `state.run.input`, the pinned
   * variables, and `state.outputs` (usable as the resolver's `outputs` scope without copying).
   * Called for wait blocks only; a throw fails the block with `invalid_wait_params`.
   */
  resolveParams(state: RunState, blockId: string): Record<string, unknown>;
  /** A fresh single-use, unguessable approval token. */
  newApprovalToken(blockId: string): string;
  /** The input recorded in `StepAttemptStarted`: resolved params, hidden values redacted. */
  recordInput?(state: RunState, blockId: string): unknown;
}

/** The events that record `action` having been carried out at `ports.now`. */
export function translate(state: RunState, action: RunAction, ports: RunPorts): RunEvent[] {
  const at = ports.now.toISOString();
  switch (action.type) {
    case 'ExecuteStep': {
      const input = ports.recordInput?.(state, action.blockId);
      const { blockId, blockType, attempt } = action;
      const data = { blockId, blockType, attempt, at, ...(input !== undefined ? { input } : {}) };
      return [{ type: 'StepAttemptStarted', data }];
    }
    case 'SkipStep':
      return [
        { type: 'StepSkipped', data: { blockId: action.blockId, reason: action.reason, at } },
      ];
    case 'ReuseStep': {
      const { blockId, blockType } = action;
      const output = state.reuse.get(blockId);
      return [{ type: 'StepReused', data: { blockId, blockType, fromRunId: state.run?.rerunOf ?? '', output, at } }];
    }
    case 'StartWait':
      return startWait(state, action, ports);
    case 'CompleteWait': {
      const { blockId, reason, output, signalId } = action;
      const data = { blockId, reason, output, at, ...(signalId !== undefined ? { signalId } : {}) };
      return [{ type: 'WaitCompleted', data }];
    }
    case 'TimeoutWait': {
      const data = {
        blockId: action.blockId,
        reason: 'timeout' as const,
        output: action.output,
        at,
      };
      return [{ type: 'WaitCompleted', data }];
    }
    case 'CompleteRun':
      return [{ type: 'RunCompleted', data: { outputs: action.outputs, at } }];
    case 'FailRun':
      return [{ type: 'RunFailed', data: { error: action.error, at } }];
    case 'CancelRun': {
      const { reason, by } = action;
      const data = {
        at,
        ...(reason !== undefined ? { reason } : {}),
        ...(by !== undefined ? { by } : {}),
      };
      return [{ type: 'RunCancelled', data }];
    }
  }
}

function startWait(state: RunState, action: StartWait, ports: RunPorts): RunEvent[] {
  const { blockId } = action;
  const at = ports.now.toISOString();
  const parsed = resolveWaitParams(state, action, ports);
  if (!parsed.ok) {
    const error = {
      code: STEP_ERROR_CODES.invalidWaitParams,
      message: parsed.message,
      retryable: false,
    };
    return [
      { type: 'StepAttemptFailed', data: { blockId, attempt: 1, error, terminal: true, at } },
    ];
  }
  const params = parsed.params;
  const until = (ms: number | undefined): { until?: string } =>
    ms === undefined ? {} : { until: new Date(ports.now.getTime() + ms).toISOString() };
  switch (params.type) {
    case 'wait_duration':
      return [
        { type: 'RunSleeping', data: { blockId, at, until: until(params.durationMs).until ?? at } },
      ];
    case 'wait_for_event': {
      const key = params.correlationKey;
      const data = { blockId, eventName: params.eventName, at, ...until(params.timeoutMs) };
      return [
        {
          type: 'RunWaitingForEvent',
          data: key === undefined ? data : { ...data, correlationKey: key },
        },
      ];
    }
    case 'human_approval': {
      const token = ports.newApprovalToken(blockId);
      const data = { blockId, token, prompt: params.prompt, at, ...until(params.timeoutMs) };
      return [{ type: 'ApprovalRequested', data }];
    }
  }
}

function resolveWaitParams(
  state: RunState,
  action: StartWait,
  ports: RunPorts,
): { ok: true; params: WaitParams } | { ok: false; message: string } {
  let params: unknown;
  try {
    params = ports.resolveParams(state, action.blockId);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `Could not resolve ${action.waitType} params: ${reason}` };
  }
  return parseWaitParams(action.waitType, params);
}
