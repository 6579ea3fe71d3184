import { pinBlocks } from './block-pins';
import { buildRunGraph } from './run-graph';
import type { RerunPoint, RunEvent } from './run.events';
import { rerunOf } from './run.rerun';
import type { RunState } from './run.state';
import { at, block, chain, edge, failed, kinds, ok, ports, run, specOf, started, summarize, workflow } from './run.spec-fixtures';
import type { SerializedWorkflow } from '../workflow/workflow';
import type { StepReport } from './step-result';

const fatal = (blockId: string): StepReport => failed(blockId, { retryable: false });

/** Plays `wf` with the reports given, in order, until the run ends; its final state. */
function play(wf: SerializedWorkflow, reports: StepReport[]): RunState {
  let t = run.react(run.fold([started(wf)]), ports());
  for (const report of reports) t = run.onStepResult(t.state, report, ports());
  return t.state;
}

/** The rerun's start (run `r2`) of the ended run `state`. */
function rerunStart(wf: SerializedWorkflow, state: RunState, from: RerunPoint): RunEvent {
  const start = started(wf, { n: 1 }, 'r2');
  return { ...start, data: { ...(start.data as object), rerun: rerunOf(state, from) } } as RunEvent;
}

describe('rerun: what a rerun of an ended run takes from it', () => {
  it('reuses every step before the failure, runs the failed one and what follows', () => {
    const wf = chain(4);
    const failedRun = play(wf, [ok('b1', { one: 1 }), ok('b2', { two: 2 }), fatal('b3')]);
    expect(failedRun.status).toBe('failed');

    const rerun = rerunOf(failedRun, { from: 'failure' });
    expect(rerun).toEqual({ of: 'r1', from: 'failure', reuse: { b1: { one: 1 }, b2: { two: 2 } } });

    const t = run.react(run.fold([rerunStart(wf, failedRun, { from: 'failure' })]), ports());
    expect(kinds(t.events)).toEqual(['StepReused:b1', 'StepReused:b2', 'StepAttemptStarted:b3']);
    expect(t.events[0]?.data).toMatchObject({ blockId: 'b1', blockType: 'action', fromRunId: 'r1' });
    expect(summarize(t.execute)).toEqual(['ExecuteStep:b3']);
    expect(t.state.outputs).toMatchObject({ b1: { one: 1 }, b2: { two: 2 } });
    expect(t.state.run?.rerunOf).toBe('r1');

    const done = run.onStepResult(run.onStepResult(t.state, ok('b3'), ports()).state, ok('b4'), ports());
    expect(done.state.status).toBe('completed');
    expect(done.events.at(-1)?.data).toMatchObject({ outputs: { b1: { one: 1 }, b2: { two: 2 }, b3: { from: 'b3' }, b4: { from: 'b4' } } });
  });

  it('from the start reuses nothing, and refuses a run that has not ended or, from the failure, one that completed', () => {
    const wf = chain(2);
    const failedRun = play(wf, [ok('b1'), fatal('b2')]);
    expect(rerunOf(failedRun, { from: 'start' })).toEqual({ of: 'r1', from: 'start', reuse: {} });
    const t = run.react(run.fold([rerunStart(wf, failedRun, { from: 'start' })]), ports());
    expect(kinds(t.events)).toEqual(['StepAttemptStarted:b1']);

    const running = play(wf, [ok('b1')]);
    expect(() => rerunOf(running, { from: 'start' })).toThrow(expect.objectContaining({ code: 'run_not_ended' }));
    const completed = play(wf, [ok('b1'), ok('b2')]);
    expect(() => rerunOf(completed, { from: 'failure' })).toThrow(expect.objectContaining({ code: 'run_not_failed' }));
    expect(rerunOf(completed, { from: 'start' }).reuse).toEqual({});
  });

  it("against the workflow's current version: reuses only blocks that are the same, fed the same way, after blocks that are", () => {
    const wf = chain(4); // trigger → b1 → b2 → b3 → b4
    const failedRun = play(wf, [ok('b1'), ok('b2'), fatal('b3')]);
    const graphOf = (next: typeof wf) => buildRunGraph(next, pinBlocks(next, specOf));
    const edit = (change: (draft: typeof wf) => void) => {
      const draft = structuredClone(wf);
      change(draft);
      return graphOf(draft);
    };
    // The fix is in the failed block: everything before it is reused.
    expect(Object.keys(rerunOf(failedRun, { from: 'failure' }, edit((d) => (d.blocks[3]!.params = { fixed: true }))).reuse)).toEqual(['b1', 'b2']);
    // b2 changed: it runs again, and so does everything after it.
    expect(Object.keys(rerunOf(failedRun, { from: 'failure' }, edit((d) => (d.blocks[2]!.params = { changed: true }))).reuse)).toEqual(['b1']);
    // A block inserted before b2 feeds it now: b2 runs again.
    const inserted = edit((d) => {
      d.blocks.push(block('b1a'));
      d.connections = d.connections.filter((c) => c.target !== 'b2');
      d.connections.push(edge('b1', 'b1a'), edge('b1a', 'b2'));
    });
    expect(Object.keys(rerunOf(failedRun, { from: 'failure' }, inserted).reuse)).toEqual(['b1']);
    // A trigger's params (its input schema) do not change its output: the input.
    expect(Object.keys(rerunOf(failedRun, { from: 'failure' }, edit((d) => (d.blocks[0]!.params = { inputSchema: { type: 'object' } }))).reuse)).toEqual(['b1', 'b2']);
    // The run's own graph: the same as passing none.
    expect(rerunOf(failedRun, { from: 'failure' }, graphOf(wf))).toEqual(rerunOf(failedRun, { from: 'failure' }));
  });

  it('runs again what hangs off a handled failure: its error branch read the error', () => {
    // trigger → risky -(error)→ fallback → after
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('risky'), block('fallback'), block('after'), block('other')],
      [edge('trigger', 'risky'), edge('risky', 'fallback', 'error'), edge('fallback', 'after'), edge('trigger', 'other')],
    );
    const failedRun = play(wf, [ok('other'), fatal('risky'), ok('fallback'), fatal('after')]);
    expect(failedRun.status).toBe('failed');
    expect(rerunOf(failedRun, { from: 'failure' }).reuse).toEqual({ other: { from: 'other' } });
  });

  it('skips again a branch its reused condition did not take, and reuses the join after it', () => {
    // trigger → cond -(true)→ yes → join ← no ←(false)- cond; join → last
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('cond', 'condition'), block('yes'), block('no'), block('join'), block('last')],
      [edge('trigger', 'cond'), edge('cond', 'yes', 'true'), edge('cond', 'no', 'false'), edge('yes', 'join'), edge('no', 'join'), edge('join', 'last')],
    );
    const failedRun = play(wf, [ok('cond', { result: true }), ok('yes'), ok('join'), fatal('last')]);
    expect(rerunOf(failedRun, { from: 'failure' }).reuse).toEqual({ cond: { result: true }, yes: { from: 'yes' }, join: { from: 'join' } });

    const t = run.react(run.fold([rerunStart(wf, failedRun, { from: 'failure' })]), ports());
    expect(kinds(t.events)).toEqual(['StepReused:cond', 'StepSkipped:no', 'StepReused:yes', 'StepReused:join', 'StepAttemptStarted:last']);
  });

  it('reuses a wait that ended, and runs again one that was cut short by a cancel', () => {
    // trigger → nap (sleep) → b → hold (event) → c
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('nap', 'wait_duration', { durationMs: 10 }), block('b'), block('hold', 'wait_for_event', { eventName: 'go' }), block('c')],
      [edge('trigger', 'nap'), edge('nap', 'b'), edge('b', 'hold'), edge('hold', 'c')],
    );
    let t = run.react(run.fold([started(wf)]), ports());
    t = run.react(t.state, ports(at(20)));
    t = run.onStepResult(t.state, ok('b'), ports());
    expect(t.state.status).toBe('waiting');
    const now = at(30).toISOString();
    const cancelled = run.fold([{ type: 'RunCancelRequested', data: { at: now } }, { type: 'RunCancelled', data: { at: now } }], t.state);
    expect(cancelled.status).toBe('cancelled');

    const reuse = rerunOf(cancelled, { from: 'failure' }).reuse;
    expect(Object.keys(reuse)).toEqual(['nap', 'b']);
    const rerun = run.react(run.fold([rerunStart(wf, cancelled, { from: 'failure' })]), ports());
    expect(kinds(rerun.events)).toEqual(['StepReused:nap', 'StepReused:b', 'RunWaitingForEvent:hold']);
  });

  it('from a block: that block and everything after it run again, the rest is reused, for a completed run too', () => {
    // trigger → a → b → c, and trigger → side → c
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('a'), block('b'), block('side'), block('c')],
      [edge('trigger', 'a'), edge('a', 'b'), edge('b', 'c'), edge('trigger', 'side'), edge('side', 'c')],
    );
    const completed = play(wf, [ok('a'), ok('side'), ok('b'), ok('c')]);
    expect(completed.status).toBe('completed');

    const rerun = rerunOf(completed, { from: 'block', blockId: 'b' });
    expect(rerun).toEqual({ of: 'r1', from: 'block', blockId: 'b', reuse: { a: { from: 'a' }, side: { from: 'side' } } });
    const t = run.react(run.fold([rerunStart(wf, completed, { from: 'block', blockId: 'b' })]), ports());
    expect(kinds(t.events)).toEqual(['StepReused:a', 'StepReused:side', 'StepAttemptStarted:b']);

    // From the first step nothing is reused but the branch beside it; from the trigger, nothing.
    expect(Object.keys(rerunOf(completed, { from: 'block', blockId: 'a' }).reuse)).toEqual(['side']);
    expect(rerunOf(completed, { from: 'block', blockId: 'trigger' }).reuse).toEqual({});
    // Of a failed run, from a block before the failure: the failed step runs again as well.
    const failedRun = play(wf, [ok('a'), ok('side'), ok('b'), fatal('c')]);
    expect(Object.keys(rerunOf(failedRun, { from: 'block', blockId: 'b' }).reuse)).toEqual(['a', 'side']);
    // A block the rerun's version does not have.
    expect(() => rerunOf(completed, { from: 'block', blockId: 'gone' })).toThrow(expect.objectContaining({ code: 'block_not_found' }));
  });
});
