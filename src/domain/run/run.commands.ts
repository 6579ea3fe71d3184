import { concurrencyLineOf } from './concurrency-line';
import type { SpecLookup } from './block-spec';
import { pinBlocks } from './block-pins';
import { assertEventBudget, assertPayloadFits, type RunLimits } from './run.bounds';
import { ApprovalAlreadyDecided, ApprovalNotFound, RUN_FAILURE_CODES, RunFinished } from './run.errors';
import type { ApprovalDecided, RunAdmitted, RunCancelled, RunCancelRequested, RunFailed, RunStarted, SignalReceived } from './run.events';
import { storableText } from './storable';
import type { RunState } from './run.state';

// The API side of a run: pure functions from a folded state and a request to the events to
// append (with the state's version as the expected version), throwing a `RunRuleError` with a
// stable code when the request is refused. Time and ids come in with the request.

/**
 * `RunStarted` for a new run, with every block's connector pinned through `specOf` (the
 * deployment's catalog) unless the request brings the pins (a caller that keeps `pinBlocks`'
 * result per workflow: it is the same for every run of it); throws `payload_too_large` when the
 * input is too big.
 */
export function startRun(
  request: Omit<RunStarted['data'], 'startedAt'> & { now: Date },
  specOf: SpecLookup,
  limits: RunLimits,
): RunStarted[] {
  assertPayloadFits('run input', request.input, limits);
  const { now, input, blocks: pinned, ...rest } = request;
  const blocks = pinned ?? pinBlocks(request.workflow, specOf);
  const concurrency = concurrencyLineOf(request.workflow.metadata?.concurrency, input);
  const data = { ...rest, blocks, input: input ?? null, startedAt: now.toISOString(), ...(concurrency ? { concurrency } : {}) };
  return [{ type: 'RunStarted', data }];
}

/** `RunAdmitted`: the run takes a place in its concurrency line (the store found one free). Nothing for a run that needs none or has one. */
export function admitRun(state: RunState, now: Date): RunAdmitted[] {
  if (!state.run?.concurrency || state.admitted || state.outcome) return [];
  return [{ type: 'RunAdmitted', data: { at: now.toISOString() } }];
}

/**
 * What a worker records when the store refused the run's next batch for its content (a data
 * error that would repeat on every try): the run ends, so it can never wedge — cancelled when a
 * cancel was asked for, else failed with `append_rejected` and the store's reason. Nothing when
 * the run already ended.
 */
export function endUnrecordable(state: RunState, reason: string, now: Date): (RunCancelled | RunFailed)[] {
  if (state.outcome) return [];
  const at = now.toISOString();
  if (state.cancelRequested) return [{ type: 'RunCancelled', data: { ...state.cancelRequested, at } }];
  const message = `The run's next step could not be recorded: ${storableText(reason)}`;
  return [{ type: 'RunFailed', data: { error: { code: RUN_FAILURE_CODES.unrecordable, message }, at } }];
}

/** `RunCancelRequested`; nothing when already requested; `run_finished` when the run ended. */
export function requestCancel(
  state: RunState,
  request: { reason?: string; by?: string; now: Date },
): RunCancelRequested[] {
  if (state.outcome) throw new RunFinished(state.status);
  if (state.cancelRequested) return [];
  const { now, ...rest } = request;
  return [{ type: 'RunCancelRequested', data: { ...rest, at: now.toISOString() } }];
}

/**
 * `SignalReceived`, stored whether or not a wait is open: a wait that begins later consumes it.
 * A `signalId` already received records nothing (idempotent delivery). Throws `run_finished`,
 * `payload_too_large` or `run_too_long`.
 */
export function receiveSignal(
  state: RunState,
  request: {
    signalId: string;
    name: string;
    payload?: unknown;
    correlationKey?: string;
    scope: 'run' | 'organization';
    now: Date;
  },
  limits: RunLimits,
): SignalReceived[] {
  if (state.outcome) throw new RunFinished(state.status);
  if (state.seenSignalIds.has(request.signalId)) return [];
  assertPayloadFits('signal payload', request.payload, limits);
  assertEventBudget(state, 1, limits);
  const { now, payload, ...rest } = request;
  return [
    {
      type: 'SignalReceived',
      data: { ...rest, payload: payload ?? null, receivedAt: now.toISOString() },
    },
  ];
}

/**
 * `ApprovalDecided` for an open approval token. Throws `not_found` for an unknown token,
 * `approval_decided` for a second decision or one after the deadline, `run_finished` when the run
 * ended before anyone decided.
 */
export function decideApproval(
  state: RunState,
  request: { token: string; approved: boolean; by?: string; note?: string; now: Date },
): ApprovalDecided[] {
  const entry = state.approvals.get(request.token);
  if (!entry) throw new ApprovalNotFound();
  if (entry.status !== 'pending') throw new ApprovalAlreadyDecided(entry.status === 'timed_out');
  if (state.outcome) throw new RunFinished(state.status);
  const phase = state.blocks.get(entry.blockId)?.phase;
  const wait = phase?.kind === 'waiting' ? phase.wait : undefined;
  if (wait?.type !== 'human_approval' || wait.verdict) throw new ApprovalAlreadyDecided(false);
  if (wait.untilMs !== undefined && request.now.getTime() > wait.untilMs) {
    throw new ApprovalAlreadyDecided(true);
  }
  const data = {
    blockId: entry.blockId,
    token: request.token,
    approved: request.approved,
    by: request.by ?? null,
    note: request.note ?? null,
    at: request.now.toISOString(),
  };
  return [{ type: 'ApprovalDecided', data }];
}
