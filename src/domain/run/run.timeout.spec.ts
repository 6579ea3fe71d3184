import { decide, runDeadline } from './run.decide';
import { at, block, chain, edge, kinds, ok, ports, run, started, summarize, workflow } from './run.spec-fixtures';
import type { SerializedWorkflow } from '../workflow/workflow';

/** `wf` with a run timeout of `ms`. */
const timed = (wf: SerializedWorkflow, ms: number): SerializedWorkflow => ({ ...wf, metadata: { ...wf.metadata, timeoutMs: ms } });

describe('a workflow timeout: the run fails once its deadline passes, whatever it is doing', () => {
  it('fails a run whose step is still running at the deadline, and looks again at the deadline until then', () => {
    const first = run.react(run.fold([started(timed(chain(2), 5000))]), ports());
    expect(runDeadline(first.state.run!)).toBe(at(5000).toISOString());
    expect(summarize(first.execute)).toEqual(['ExecuteStep:b1']);
    expect(first.wakeAt).toEqual(at(5000));

    // Before the deadline nothing is owed; at it, the run fails at once (nothing downstream runs).
    expect(run.react(first.state, ports(at(4999))).events).toEqual([]);
    const late = run.react(first.state, ports(at(5000)));
    expect(kinds(late.events)).toEqual(['RunFailed']);
    expect(late.state).toMatchObject({ status: 'failed', error: { code: 'run_timed_out' } });
    // The attempt's result, arriving after, changes nothing.
    expect(run.onStepResult(late.state, ok('b1'), ports(at(5001))).events).toEqual([]);
  });

  it('cuts a sleep or a wait for an event short: a parked run is due again at its deadline (the queue parks it until `wakeAt`)', () => {
    const wf = timed(workflow([block('trigger', 'trigger_manual'), block('nap', 'wait_duration', { durationMs: 60_000 }), block('after')], [edge('trigger', 'nap'), edge('nap', 'after')]), 2000);
    const sleeping = run.react(run.fold([started(wf)]), ports());
    expect(sleeping.state.status).toBe('sleeping');
    expect(sleeping.wakeAt).toEqual(at(2000)); // the deadline comes before the sleep's end
    expect(decide(sleeping.state, at(10))).toEqual({ actions: [], wakeAt: at(2000) });
    expect(kinds(run.react(sleeping.state, ports(at(2000))).events)).toEqual(['RunFailed']);

    const waiting = run.react(run.fold([started(timed(workflow([block('trigger', 'trigger_manual'), block('hold', 'wait_for_event', { eventName: 'go' })], [edge('trigger', 'hold')]), 3000))]), ports());
    expect(waiting.state.status).toBe('waiting');
    expect(decide(waiting.state, at(10))).toEqual({ actions: [], wakeAt: at(3000) }); // without a timeout: no time to look again
    expect(run.react(waiting.state, ports(at(3000))).state.error).toMatchObject({ code: 'run_timed_out' });
  });

  it('leaves a run that ends in time alone, and a workflow without a timeout has no deadline', () => {
    const t = run.react(run.fold([started(timed(chain(1), 5000))]), ports());
    const done = run.onStepResult(t.state, ok('b1'), ports(at(4000)));
    expect(done.state.status).toBe('completed');
    expect(run.react(done.state, ports(at(6000))).events).toEqual([]);

    const plain = run.react(run.fold([started(chain(1))]), ports());
    expect(runDeadline(plain.state.run!)).toBeUndefined();
    expect(plain.wakeAt).toBeUndefined();
  });
});
