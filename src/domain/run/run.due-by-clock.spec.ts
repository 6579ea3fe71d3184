import { DEFAULT_RUN_LIMITS } from './run.bounds';
import { startRun } from './run.commands';
import { dueByClockAlone } from './run.decide';
import type { RunEvent } from './run.events';
import type { RunState } from './run.state';
import type { SerializedWorkflow } from '../workflow/workflow';
import { at, block, edge, failed, kinds, ports, run, specOf, started, T0, workflow } from './run.spec-fixtures';

/** trigger → w (a wait of `type`) → after. */
const waitThen = (type: string, params: Record<string, unknown>) =>
  workflow([block('trigger', 'trigger_manual'), block('w', type, params), block('after')], [edge('trigger', 'w'), edge('w', 'after')]);

/** The run once it has played everything due at the start, and when it asked to look again. */
function rested(wf: SerializedWorkflow, events: RunEvent[] = []): { state: RunState; wakeAt: Date } {
  const t = run.react(run.fold([started(wf, {}), ...events]), ports());
  if (!t.wakeAt) throw new Error(`the run asked for no wake-up: ${kinds(t.events).join(', ')}`);
  return { state: t.state, wakeAt: t.wakeAt };
}

describe('dueByClockAlone: what a moment decides cannot change before it comes', () => {
  it("holds for a sleep's end, which the worker may then decide ahead, as of the moment", () => {
    const { state, wakeAt } = rested(waitThen('wait_duration', { durationMs: 1_000 }));
    expect(dueByClockAlone(state, wakeAt)).toBe(true);
    // Decided as of the moment, the wake is what it would have been at the moment.
    expect(kinds(run.react(state, ports(wakeAt)).events)).toEqual(['WaitCompleted:w', 'StepAttemptStarted:after']);
  });

  it("holds for a retry's back-off", () => {
    const wf = workflow([block('trigger', 'trigger_manual'), block('f', 'flaky')], [edge('trigger', 'f')]);
    const begun = run.react(run.fold([started(wf, {})]), ports());
    const retrying = run.onStepResult(begun.state, failed('f'), ports(at(5)));
    expect(retrying.events.map((e) => e.type)).toContain('StepRetryScheduled');
    const wakeAt = run.react(begun.state, ports(at(5))).wakeAt!;
    expect(dueByClockAlone(begun.state, wakeAt)).toBe(true);
  });

  it('does not hold when a wait for an event or an approval times out by then: a signal or a decision just before must still count', () => {
    for (const type of ['wait_for_event', 'human_approval']) {
      const params = type === 'wait_for_event' ? { eventName: 'paid', timeoutMs: 1_000 } : { prompt: 'ok?', timeoutMs: 1_000 };
      const { state, wakeAt } = rested(waitThen(type, params));
      expect(dueByClockAlone(state, wakeAt)).toBe(false);
      expect(dueByClockAlone(state, new Date(wakeAt.getTime() - 1))).toBe(true);
    }
  });

  it("does not hold when the run's deadline passes by then", () => {
    const wf = waitThen('wait_duration', { durationMs: 1_000 });
    const { state, wakeAt } = rested({ ...wf, metadata: { ...wf.metadata, timeoutMs: 1_000 } });
    expect(dueByClockAlone(state, wakeAt)).toBe(false);
  });

  it('does not hold while a step runs, once a cancel is asked for, or before the run has its place in a concurrency line', () => {
    const parallel = workflow(
      [block('trigger', 'trigger_manual'), block('w', 'wait_duration', { durationMs: 1_000 }), block('busy')],
      [edge('trigger', 'w'), edge('trigger', 'busy')],
    );
    const running = rested(parallel);
    expect(running.state.index.running.has('busy')).toBe(true);
    expect(dueByClockAlone(running.state, running.wakeAt)).toBe(false);

    const sleeping = rested(waitThen('wait_duration', { durationMs: 1_000 }));
    const cancel: RunEvent = { type: 'RunCancelRequested', data: { at: at(10).toISOString() } };
    expect(dueByClockAlone(run.fold([cancel], sleeping.state), sleeping.wakeAt)).toBe(false);

    const wf = waitThen('wait_duration', { durationMs: 1_000 });
    const limited = { ...wf, metadata: { ...wf.metadata, concurrency: { limit: 1 } } };
    const queued = run.fold(startRun({ runId: 'r1', organizationId: 'o1', workflowId: 'w1', workflowVersion: 1, workflow: limited, input: {}, now: T0 }, specOf, DEFAULT_RUN_LIMITS));
    expect(run.react(queued, ports()).admit).toBe(true);
    expect(dueByClockAlone(queued, at(1_000))).toBe(false);
  });
});
