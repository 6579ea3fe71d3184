import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import type { SerializedWorkflow } from '../src/domain/workflow/workflow';
import type { RunningThodare } from '../src/main';
import { GetRunQuery, runDetails } from '../src/runs/get-run.query';
import { RunStore } from '../src/runs/run-store';
import { SignalRunCommand } from '../src/runs/signal-run.command';
import type { Runner } from './runtime';
import { chain, sequential, stats } from './support';

const ORG = 'org-bench';
const metadata = { actor: { type: 'system' as const, id: 'bench' } };

/** Wall time of `work`, ms. */
const timed = (work: () => Promise<unknown>) => async () => {
  const began = performance.now();
  await work();
  return performance.now() - began;
};

/**
 * What the states an instance keeps of the runs it read (`RunReads`) spare, for chains of 3, 100
 * and 1,000 steps that call out: reading a finished run back (`GET /api/runs/:id`'s query), and
 * signalling a run that waits after its chain (`POST /api/runs/:id/signals`' command). Each
 * against a fold of the run's whole stream: what every read cost until the thirty-fourth session
 * and every command until the thirty-fifth, and what the first of either still costs on an
 * instance that has not seen the run.
 */
export async function keptRuns(app: RunningThodare, runner: Runner, pool: Pool, settle: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const runReads: Record<string, unknown> = {};
  const runCommands: Record<string, unknown> = {};
  for (const steps of [3, 100, 1000]) {
    await settle();
    runReads[`C${steps}`] = await reads(app, runner, steps);
    await settle();
    runCommands[`C${steps}`] = await signals(app, runner, pool, steps);
  }
  return { runReads, runCommands };
}

async function reads(app: RunningThodare, runner: Runner, steps: number): Promise<Record<string, unknown>> {
  const queries = app.app.get(QueryBus);
  const runs = app.app.get(RunStore);
  const { runId } = await runner.start(chain(steps, 'bench_step'));
  await runner.end(runId);
  const times = steps === 1000 ? 20 : 100;
  const wholeFold = await sequential(times, timed(async () => runDetails(runId, (await runs.load(runId, ORG))!)));
  const kept = await sequential(times, timed(() => queries.execute(new GetRunQuery(ORG, runId))));
  return { wholeFoldMs: stats(wholeFold), keptMs: stats(kept), reads: times };
}

/** The chain, then a wait for a signal named `go`. */
function waitingChain(steps: number): SerializedWorkflow {
  const workflow = chain(steps, 'bench_step');
  return {
    ...workflow,
    blocks: [...workflow.blocks, { id: 'hold', type: 'wait_for_event', params: { eventName: 'go' }, enabled: true }],
    connections: [...workflow.connections, { source: `s${steps}`, target: 'hold' }],
  };
}

/**
 * Runs that wait after their chain, each signalled twice with a name it does not wait for (the
 * signal is stored, the run waits on): the first signal on this instance folds the run's whole
 * stream, the second starts from the state the first kept. Then `go` ends them.
 */
async function signals(app: RunningThodare, runner: Runner, pool: Pool, steps: number): Promise<Record<string, unknown>> {
  const bus = app.app.get(CommandBus);
  const count = steps === 1000 ? 5 : 20;
  const runIds: string[] = [];
  for (let i = 0; i < count; i += 1) runIds.push((await runner.start(waitingChain(steps))).runId);
  for (;;) {
    const { rows } = await pool.query<{ waiting: number }>("SELECT count(*)::int AS waiting FROM run_state WHERE run_id = ANY($1) AND status = 'waiting'", [runIds]);
    if (rows[0]!.waiting === count) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const signal = (runId: string, name: string) => bus.execute(new SignalRunCommand(ORG, runId, { name }, metadata));
  const each = async (name: string) => {
    const times: number[] = [];
    for (const runId of runIds) times.push(await timed(() => signal(runId, name))());
    return times;
  };
  const wholeFold = await each('first');
  const kept = await each('second');
  await Promise.all(runIds.map(async (runId) => (await signal(runId, 'go'), runner.end(runId))));
  return { wholeFoldMs: stats(wholeFold), keptMs: stats(kept), runs: count };
}
