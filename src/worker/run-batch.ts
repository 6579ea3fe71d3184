import { endUnrecordable } from '../domain/run/run.commands';
import type { ExecuteStep } from '../domain/run/run.actions';
import type { RunDecider } from '../domain/run/run.decider';
import type { RunEvent, RunWaitingForEvent } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import type { RunPorts } from '../domain/run/run.translate';
import type { StepReport } from '../domain/run/step-result';
import type { SignalRequest } from './stored-event-signals';

/** What reached a held run since its last batch. */
export type Message =
  | { kind: 'claimed' } // just claimed: re-execute the attempts owed since a crash
  | { kind: 'result'; report: StepReport }
  | { kind: 'signal'; request: SignalRequest }
  | { kind: 'moved' } // the stream holds events the state has not seen
  | { kind: 'due' }; // a timer of the run fell due, or something asks for a fresh look

/** One append's worth of a run: its events, the calls to start after the commit, and what follows. */
export interface Batch {
  events: RunEvent[];
  execute: ExecuteStep[];
  terminal: boolean;
  waits: RunWaitingForEvent[];
  release: boolean;
  /** When to look again if nothing else happens (playing only). */
  wakeAt?: Date;
  /** The run must take a place in its concurrency line before anything else (see `RunDecision.admit`). */
  admit?: true;
}

export interface BatchContext {
  /** `draining` (shutdown) records results without starting anything new. */
  mode: 'playing' | 'draining';
  /** Calls still running after this batch's results. */
  callsInFlight: number;
  /** The previous try of this batch failed: a cancel asked for since then is recorded alone. */
  retrying: boolean;
  /** Whether the worker keeps an idle run whose next timer falls at `wakeAt` (see `RunHost.holdsIdleUntil`). */
  holdsIdleUntil: (wakeAt: Date) => boolean;
}

/** Plays the messages' signals and results into `state` (consumed) and decides what follows. */
export function decideBatch(decider: RunDecider, state: RunState, messages: readonly Message[], ports: RunPorts & { jitter01: number }, context: BatchContext): Batch {
  const events: RunEvent[] = [];
  const execute: ExecuteStep[] = [];
  for (const message of messages) {
    if (message.kind !== 'signal') continue;
    for (const event of message.request(state, ports.now)) {
      decider.evolve(state, event);
      events.push(event);
    }
  }
  // Results whose batch keeps failing must not hold a cancel back: once it is asked for, the
  // retry records the cancellation alone (the steps ran; their results are not recorded).
  const skipResults = context.retrying && state.cancelRequested !== undefined;
  for (const message of messages) {
    if (message.kind !== 'result' || skipResults) continue;
    if (context.mode === 'draining') events.push(...decider.recordResult(state, message.report, ports));
    else {
      const transition = decider.onStepResult(state, message.report, ports);
      events.push(...transition.events);
      execute.push(...transition.execute);
    }
  }
  let wakeAt: Date | undefined;
  let admit = false;
  if (context.mode === 'playing') {
    const next = decider.react(state, ports);
    events.push(...next.events);
    execute.push(...next.execute);
    wakeAt = next.wakeAt;
    admit = next.admit === true;
  }
  const terminal = decider.isTerminal(state);
  const idle = context.callsInFlight === 0 && execute.length === 0;
  const waits = events.filter((e): e is RunWaitingForEvent => e.type === 'RunWaitingForEvent');
  // A run that just began waiting for an event keeps its lease until the stored events were
  // looked up (see `storedSignals`), and one whose timer is due soon stays held (no release now,
  // no claim when it wakes); otherwise an idle run parks in the same commit.
  const held = wakeAt !== undefined && context.holdsIdleUntil(wakeAt);
  // A run that asks for a place keeps its lease: the admission gives it back if none is free.
  const release = terminal || (idle && waits.length === 0 && !held && !admit);
  return { events, execute, terminal, waits, release, ...(wakeAt ? { wakeAt } : {}), ...(admit ? { admit: true as const } : {}) };
}

/**
 * One append's worth made of `first` and `next`, decided after it (from the results of the calls
 * `first` started inline): both batches' events and waits; the calls of `first` still to start
 * (`carried`), then those of `next`; the rest is where `next` left the run.
 */
export function followedBy(first: Batch, next: Batch, carried: readonly ExecuteStep[]): Batch {
  return {
    events: [...first.events, ...next.events],
    execute: [...carried, ...next.execute],
    terminal: next.terminal,
    waits: [...first.waits, ...next.waits],
    release: next.release,
    ...(next.wakeAt ? { wakeAt: next.wakeAt } : {}),
    ...(next.admit ? { admit: next.admit } : {}),
  };
}

/** The batch that ends a run whose last batch the store refused for its content (see `endUnrecordable`). */
export function rejectedBatch(decider: RunDecider, state: RunState, reason: string, now: Date): Batch {
  const events = endUnrecordable(state, reason, now);
  for (const event of events) decider.evolve(state, event);
  return { events, execute: [], terminal: true, waits: [], release: true };
}
