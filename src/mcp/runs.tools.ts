import { z } from 'zod';
import { cappedPage } from './capped-page';
import { WAIT_HEADER } from '../runs/run-waiter';
import type { McpCaller } from './rest-call';
import { fromAnswer, restFailure } from './tool-result';
import { ADD, cursorInput, objectOutput, pageOutput, READ, seg, write, type Toolset } from './toolset';

const STATUSES = ['queued', 'running', 'sleeping', 'waiting', 'completed', 'failed', 'cancelled'] as const;
const ENDED = new Set(['completed', 'failed', 'cancelled']);
const HELD_READ_MS = 1_000;
const runOutput = objectOutput({ status: z.enum(STATUSES) });
const runId = z.string().min(1).max(200);

/** The `runs` toolset: start, read, list, wait for, log, cancel, rerun and signal runs. */
export function registerRunTools({ server, caller }: Toolset): void {
  server.registerTool(
    'run_start',
    {
      title: 'Start a run',
      description:
        "Start a run of the workflow's current version. With wait_seconds (at most 30) the result is the whole run when it ends in time, else {runId, status, workflowVersion}. start_at (an ISO instant, at most 366 days ahead) delays it: the run is queued until then.",
      inputSchema: {
        workflow_id: z.string().min(1).max(200),
        input: z.unknown().optional(),
        idempotency_key: z.string().min(1).max(200).optional(),
        wait_seconds: z.number().int().min(0).max(30).default(0),
        start_at: z.string().min(1).max(100).optional().describe('a delayed start, e.g. 2026-12-24T09:00:00Z'),
      },
      outputSchema: runOutput,
      annotations: ADD,
    },
    write(caller, async ({ workflow_id, input, idempotency_key, wait_seconds, start_at }) => {
      const body = { ...(input !== undefined ? { input } : {}), ...(idempotency_key ? { idempotencyKey: idempotency_key } : {}), ...(start_at ? { startAt: start_at } : {}) };
      return fromAnswer(await caller.call('POST', `/api/workflows/${seg(workflow_id)}/runs`, { body, query: { waitMs: wait_seconds * 1000 } }));
    }),
  );
  server.registerTool(
    'run_get',
    { title: 'Get a run', description: 'A run: status, input, outputs per block, error, what it waits for.', inputSchema: { id: runId }, outputSchema: runOutput, annotations: READ },
    async ({ id }) => fromAnswer(await caller.call('GET', `/api/runs/${seg(id)}`)),
  );
  server.registerTool(
    'runs_list',
    {
      title: 'List runs',
      description: "The organization's runs, newest first, optionally of one workflow or status.",
      inputSchema: { workflow_id: z.string().min(1).max(200).optional(), status: z.enum(STATUSES).optional(), ...cursorInput, limit: z.number().int().min(1).max(200).default(50) },
      outputSchema: pageOutput,
      annotations: READ,
    },
    ({ workflow_id, status, after, limit }) => cappedPage((size) => caller.call('GET', '/api/runs', { query: { workflowId: workflow_id, status, after, limit: size } }), limit),
  );
  server.registerTool(
    'run_wait',
    {
      title: 'Wait for a run',
      description: 'Wait (at most timeout_seconds, up to 30) until the run is completed, failed or cancelled; the run as it is then, with timed_out.',
      inputSchema: { id: runId, timeout_seconds: z.number().int().min(1).max(30).default(30) },
      outputSchema: objectOutput({ status: z.enum(STATUSES), timed_out: z.boolean() }),
      annotations: READ,
    },
    async ({ id, timeout_seconds }, extra) => waitForEnd(caller, id, timeout_seconds * 1000, extra.signal),
  );
  server.registerTool(
    'run_logs',
    {
      title: 'Read step logs',
      description: "One row per step attempt (input, output, error, timing). A finished run's logs hold every attempt. When `truncated`, call again with after = next_cursor.",
      inputSchema: { id: runId, ...cursorInput, limit: z.number().int().min(1).max(500).default(100) },
      outputSchema: pageOutput,
      annotations: READ,
    },
    ({ id, after, limit }) => cappedPage((size) => caller.call('GET', `/api/runs/${seg(id)}/logs`, { query: { after, limit: size } }), limit),
  );
  server.registerTool(
    'run_cancel',
    {
      title: 'Cancel a run',
      description: 'Cancel a run: steps in flight are aborted, nothing downstream runs. run_finished when it already ended.',
      inputSchema: { id: runId, reason: z.string().max(1000).optional() },
      outputSchema: objectOutput({ runId: z.string(), status: z.string() }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    write(caller, async ({ id, reason }) => fromAnswer(await caller.call('POST', `/api/runs/${seg(id)}/cancel`, { body: reason ? { reason } : {} }))),
  );
  server.registerTool(
    'run_rerun',
    {
      title: 'Rerun an ended run',
      description:
        "Start a new run of an ended run's input. from='failure' (default): the steps that succeeded before the failure keep their outputs and do not run again; from='start': everything runs again; from='block' with block_id: that block and every step after it run again, the rest keeps its outputs (also of a completed run, e.g. to redo one step after fixing what it calls). workflow_version='pinned' (default) runs the version the run ran; 'current' runs the workflow as it is now, after you repaired it with workflow_patch (a step is reused only if it and what feeds it are unchanged). run_not_ended while the run runs; run_not_failed for from='failure' on a completed run; block_not_found when block_id is not a block of the version rerun.",
      inputSchema: {
        id: runId,
        from: z.enum(['failure', 'start', 'block']).default('failure'),
        block_id: z.string().min(1).max(200).optional().describe("with from='block': the step to run again, with everything after it"),
        workflow_version: z.enum(['pinned', 'current']).default('pinned'),
        idempotency_key: z.string().min(1).max(200).optional(),
      },
      outputSchema: objectOutput({ runId: z.string(), status: z.enum(STATUSES), rerunOf: z.string(), reusedBlocks: z.array(z.string()) }),
      annotations: ADD,
    },
    write(caller, async ({ id, from, block_id, workflow_version, idempotency_key }) => {
      const body = { from, ...(block_id ? { blockId: block_id } : {}), workflowVersion: workflow_version, ...(idempotency_key ? { idempotencyKey: idempotency_key } : {}) };
      return fromAnswer(await caller.call('POST', `/api/runs/${seg(id)}/rerun`, { body }));
    }),
  );
  server.registerTool(
    'signal_send',
    {
      title: 'Send a signal to a run',
      description: 'Deliver a named signal (with a payload) to a run; it resumes a wait_for_event on that name (stored if the run does not wait yet).',
      inputSchema: { run_id: runId, name: z.string().min(1).max(200), payload: z.unknown().optional(), idempotency_key: z.string().min(1).max(200).optional() },
      outputSchema: objectOutput({ runId: z.string(), signalId: z.string() }),
      annotations: ADD,
    },
    write(caller, async ({ run_id, name, payload, idempotency_key }) => {
      const body = { name, ...(payload !== undefined ? { payload } : {}), ...(idempotency_key ? { idempotencyKey: idempotency_key } : {}) };
      return fromAnswer(await caller.call('POST', `/api/runs/${seg(run_id)}/signals`, { body }));
    }),
  );
}

/** Reads the run until it has ended, the time is up, or the client gave up. */
async function waitForEnd(caller: McpCaller, id: string, timeoutMs: number, signal: AbortSignal) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Each read is held until the run ends, for at most HELD_READ_MS: the client's cancel is seen between reads.
    const waitMs = Math.max(0, Math.min(deadline - Date.now(), HELD_READ_MS));
    const answer = await caller.call('GET', `/api/runs/${seg(id)}`, { query: { waitMs } });
    if (answer.status >= 400) return restFailure(answer);
    const run = answer.body as { status: string };
    const ended = ENDED.has(run.status);
    if (ended || Date.now() >= deadline || signal.aborted) return fromAnswer({ ...answer, body: { ...run, timed_out: !ended } });
    // The organization holds all the waits it may: the read came back at once. Pause as long as
    // it would have waited, rather than asking again in a tight loop.
    if (answer.headers[WAIT_HEADER] === 'skipped') await pause(waitMs, signal);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
