import { decide, runDeadline } from './run.decide';
import type { RunEvent } from './run.events';
import { at, chain, kinds, ports, run, started, summarize } from './run.spec-fixtures';
import type { SerializedWorkflow } from '../workflow/workflow';

/** The start of `wf` delayed to `startAt` (ms after T0). */
function delayed(wf: SerializedWorkflow, startAt: number): RunEvent {
  const start = started(wf);
  return { ...start, data: { ...(start.data as object), startAt: at(startAt).toISOString() } } as RunEvent;
}

describe('a delayed start: nothing of the run happens before its startAt', () => {
  it('stays queued until startAt, then plays as any run', () => {
    const before = run.react(run.fold([delayed(chain(1), 60_000)]), ports());
    expect(before.events).toEqual([]);
    expect(before.state.status).toBe('queued');
    expect(before.wakeAt).toEqual(at(60_000));
    expect(decide(before.state, at(59_999))).toEqual({ actions: [], wakeAt: at(60_000) });

    const due = run.react(before.state, ports(at(60_000)));
    expect(summarize(due.execute)).toEqual(['ExecuteStep:b1']);
    expect(due.state.status).toBe('running');
  });

  it('can be cancelled before it starts, and its timeout counts from startAt', () => {
    const waiting = run.react(run.fold([delayed(chain(1), 60_000)]), ports()).state;
    const cancel: RunEvent = { type: 'RunCancelRequested', data: { at: at(10).toISOString() } };
    expect(kinds(run.react(run.fold([cancel], waiting), ports(at(10))).events)).toEqual(['RunCancelled']);

    const timed = { ...chain(1), metadata: { name: 't', description: '', timeoutMs: 5000 } };
    expect(runDeadline(run.fold([delayed(timed, 60_000)]).run!)).toBe(at(65_000).toISOString());
  });
});
