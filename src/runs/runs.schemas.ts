import { z } from 'zod';
import { SYSTEM_EVENT_PREFIX } from '../domain/run/system-events';

/** Request and response schemas of the run routes (API.md "Runs"). */

const RUN_STATUSES = ['queued', 'running', 'sleeping', 'waiting', 'completed', 'failed', 'cancelled'] as const;
/** A named component of `/openapi.json` (the `id`), like the other `.meta({ id })` schemas here. */
const runStatus = z.enum(RUN_STATUSES).meta({ id: 'RunStatus' });
const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const key = z.string().min(1).max(200);

/** The longest `?waitMs=` honoured: a request never hangs longer than this. */
export const MAX_WAIT_MS = 30_000;

/** The furthest a delayed start may be: a year and a day ahead. */
const MAX_START_DELAY_MS = 366 * 24 * 60 * 60 * 1000;
export const startBody = z.object({
  input: z.unknown().optional(),
  idempotencyKey: key.optional(),
  startAt: z.iso
    .datetime({ offset: true })
    .refine((at) => Date.parse(at) <= Date.now() + MAX_START_DELAY_MS, { message: 'at most 366 days ahead' })
    .optional()
    .describe('a delayed start: the run is recorded now (status queued) and begins at this instant; one in the past begins at once. A workflow timeout counts from it.'),
});
/** `?waitMs=` of a start and of `GET /api/runs/:id`: how long to wait for the run's end (capped at MAX_WAIT_MS; none or 0 answers at once). */
export const waitForEndQuery = z.object({ waitMs: z.coerce.number().int().min(0).max(3_600_000).optional() });
export const startResponse = z
  .object({ runId: z.string(), status: runStatus, workflowVersion: z.number().int(), duplicate: z.boolean().optional() })
  .meta({ id: 'RunAccepted' });

/** A position cursor (a run's queue sequence, a log row's id): a forged one is a 400, never "page one again". */
const position = z.string().regex(/^\d{1,18}$/, 'not a cursor this endpoint returned');

export const listRunsQuery = z.object({
  workflowId: z.string().min(1).max(200).optional(),
  status: runStatus.optional(),
  after: position.optional(),
  limit: limit(200, 50),
});
export const pageQuery = z.object({ after: position.optional(), limit: limit(500, 100) });
/** `waitMs`: how long to wait for the logs to catch up with the run (default 5000, capped at MAX_WAIT_MS; 0 answers at once). */
export const logsQuery = pageQuery.extend({ waitMs: z.coerce.number().int().min(0).max(3_600_000).optional() });
export const eventsQuery = z.object({ after: z.coerce.number().int().min(0).max(2 ** 31 - 1).default(0), limit: limit(1000, 200) });

const runError = z.object({ code: z.string(), message: z.string(), blockId: z.string().optional() }).meta({ id: 'RunError' }).nullable();
const waitingFor = z
  .object({
    kind: z.enum(['wait_duration', 'wait_for_event', 'human_approval', 'retry']),
    blockId: z.string(),
    until: z.string().optional(),
    eventName: z.string().optional(),
    correlationKey: z.string().optional(),
    approvalToken: z.string().optional(),
    approvalUrl: z.string().optional().describe('human_approval: the console page that decides it (`<THODARE_PUBLIC_URL or this origin>/console/approvals/<token>`)'),
  })
  .meta({ id: 'WaitingFor', description: 'What a sleeping or waiting run waits for.' })
  .nullable();
const summaryFields = {
  id: z.string(),
  workflowId: z.string(),
  workflowVersion: z.number().int(),
  status: runStatus,
  error: runError,
  waitingFor,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
};
export const runResponse = z
  .object({
    ...summaryFields,
    input: z.unknown(),
    outputs: z.record(z.string(), z.unknown()).describe('block id → output'),
    rerunOf: z.string().nullable().describe('the run this one reruns (`POST /api/runs/:id/rerun`), else null'),
    startAt: z.string().nullable().describe('a delayed start: the instant the run begins (it is queued until then), else null'),
    deadline: z.string().nullable().describe("when the run fails with run_timed_out if it has not ended: its workflow's metadata.timeoutMs after its start; null without one"),
    concurrency: z
      .object({ key: z.string(), limit: z.number().int(), admitted: z.boolean() })
      .nullable()
      .describe("the concurrency line the run takes turns in (its workflow's metadata.concurrency: the value at keyPath in the input, \"\" without one): queued with admitted false, it waits for a place; null without a limit"),
  })
  .meta({ id: 'Run' });
export const runListResponse = z.object({ data: z.array(z.object(summaryFields).meta({ id: 'RunSummary' })), next: z.string().nullable() });
const stepLog = z
  .object({
    id: z.string(),
    blockId: z.string(),
    blockType: z.string(),
    attempt: z.number().int(),
    status: z.enum(['running', 'waiting', 'succeeded', 'failed', 'cancelled', 'abandoned']).meta({ id: 'StepStatus' }),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    input: z.unknown(),
    output: z.unknown(),
    error: z.unknown(),
  })
  .meta({ id: 'StepLog', description: 'One attempt of one step; hidden values read "[hidden]".' });
export const logsResponse = z.object({ data: z.array(stepLog), next: z.string().nullable() });
const runEvent = z
  .object({ version: z.number().int(), type: z.string(), data: z.unknown(), metadata: z.unknown(), recordedAt: z.string() })
  .meta({ id: 'RunEvent' });
export const eventsResponse = z.object({ data: z.array(runEvent), next: z.string().nullable() });

/** Optional: with no body a rerun starts from the failure. */
export const rerunBody = z
  .object({
    from: z
      .enum(['failure', 'start', 'block'])
      .default('failure')
      .describe('failure: the blocks that succeeded before the failure keep their outputs and do not run again; start: every block runs again; block: `blockId` and everything downstream of it run again, the rest keeps its outputs (a completed run too)'),
    blockId: z.string().min(1).max(200).optional().describe('with from=block: the block to run again, with everything after it'),
    workflowVersion: z
      .enum(['pinned', 'current'])
      .default('pinned')
      .describe("pinned: the version the run ran; current: the workflow's version now (after a repair), whose blocks the run's outputs are reused for only where the block and what feeds it are unchanged"),
    idempotencyKey: key.optional().describe('the same key and request answer the same rerun (keys are shared with run starts)'),
  })
  .refine((body) => (body.from === 'block') === (body.blockId !== undefined), {
    path: ['blockId'],
    message: 'blockId is required with from=block, and only then',
  })
  .optional();
export const rerunResponse = startResponse.extend({
  rerunOf: z.string(),
  reusedBlocks: z.array(z.string()).describe('the blocks whose outputs the new run takes from the run it reruns'),
});

/** `POST /api/workflows/:id/runs/cancel`: every run of the workflow that has not ended, a page at a time. */
export const cancelWorkflowRunsBody = z
  .object({
    reason: z.string().max(1000).optional(),
    startedBefore: z.iso.datetime({ offset: true }).optional().describe('only runs started before this instant'),
    limit: z.number().int().min(1).max(500).default(100).describe('runs asked to stop in this call, oldest first'),
    after: position.optional().describe('`next` of the previous call'),
  })
  .optional();
export const cancelWorkflowRunsResponse = z.object({
  cancelled: z.array(z.string()).describe('the runs asked to stop (each records RunCancelRequested; the worker ends them)'),
  next: z.string().nullable().describe('more runs that have not ended remain: call again with after = next'),
});

export const rerunWorkflowRunsBody = z
  .object({
    status: z.enum(['failed', 'cancelled', 'completed']).default('failed').describe('the runs to rerun: those that ended so'),
    from: z.enum(['failure', 'start']).default('failure').describe('as POST /api/runs/:id/rerun: failure keeps the outputs of what succeeded before the failure; start runs everything again'),
    workflowVersion: z.enum(['pinned', 'current']).default('current').describe("current (the default here): the workflow's version now, the replay after a repair; pinned: each run's own version"),
    startedAfter: z.iso.datetime({ offset: true }).optional().describe('only runs started at or after this instant'),
    startedBefore: z.iso.datetime({ offset: true }).optional().describe('only runs started before this instant'),
    idempotencyKey: z.string().min(1).max(150).optional().describe('a retried call with the same key answers the same reruns (each run keyed <idempotencyKey>:<runId>)'),
    limit: z.number().int().min(1).max(500).default(100).describe('runs rerun in this call, oldest first'),
    after: position.optional().describe('`next` of the previous call'),
  })
  .optional();
export const rerunWorkflowRunsResponse = z.object({
  rerun: z.array(z.object({ runId: z.string(), rerunOf: z.string(), status: runStatus })).describe('the new runs, each naming the run it reruns'),
  refused: z.array(z.object({ runId: z.string(), error: z.string(), message: z.string() })).describe("the runs that could not be rerun, with their own rerun's error (e.g. workflow_not_runnable, run_not_failed)"),
  next: z.string().nullable().describe('more runs remain: call again with after = next'),
});

/** Optional: `POST /api/runs/:id/cancel` with no body at all cancels without a reason. */
export const cancelBody = z.object({ reason: z.string().max(1000).optional() }).optional();
export const cancelResponse = z.object({ runId: z.string(), status: runStatus, cancelRequested: z.boolean() });

export const signalBody = z.object({ name: z.string().min(1).max(200), payload: z.unknown().optional(), idempotencyKey: key.optional() });
export const signalResponse = z.object({ runId: z.string(), signalId: z.string(), status: runStatus, duplicate: z.boolean() });

export const publishBody = z.object({
  name: z
    .string()
    .min(1)
    .max(200)
    .refine((name) => !name.startsWith(SYSTEM_EVENT_PREFIX), { message: `names starting with "${SYSTEM_EVENT_PREFIX}" are Thodare's own events (thodare.run.failed): publish under another name` }),
  correlationKey: z.union([z.string().min(1).max(500), z.number().transform(String)]).optional(),
  payload: z.unknown().optional(),
  idempotencyKey: key.optional(),
});
export const publishResponse = z.object({
  eventId: z.string(),
  matchedRuns: z.number().int().describe('runs waiting for the event that got it'),
  startedRuns: z.array(z.object({ workflowId: z.string(), runId: z.string() })).describe('runs started by workflows whose trigger_event block names the event, one per workflow'),
  refusedStarts: z
    .array(z.object({ workflowId: z.string(), error: z.string(), message: z.string() }))
    .describe('workflows the event triggers that could not start (workflow_not_runnable, invalid_input, …)'),
  duplicate: z.boolean().optional(),
});

export const listOrgEventsQuery = z.object({
  name: z.string().min(1).max(200).optional(),
  after: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const orgEventView = publishResponse
  .omit({ duplicate: true })
  .extend({
    name: z.string(),
    correlationKey: z.string().nullable(),
    payload: z.unknown(),
    publishedAt: z.string(),
    expiresAt: z.string().describe('after this, a wait that begins no longer takes it, and it leaves this list'),
    deliveredAt: z.string().nullable().describe('when its delivery was recorded; null while under way'),
  })
  .meta({ id: 'OrgEvent', description: 'A published organization event, with the runs it started and reached.' });
export const orgEventResponse = orgEventView;
export const orgEventListResponse = z.object({ data: z.array(orgEventView), next: z.string().nullable() });

export const approvalResponse = z.object({
  prompt: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'timed_out', 'cancelled']),
  runId: z.string(),
  blockId: z.string(),
  expiresAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
});
export const decideBody = z.object({ approved: z.boolean(), note: z.string().max(4000).optional() });
export const decideResponse = z.object({ runId: z.string(), status: z.enum(['approved', 'rejected']), approved: z.boolean(), by: z.string().nullable() });

/** `GET /api/workflows/:id/concurrency`. */
export const concurrencyQuery = z.object({ after: z.string().min(1).max(500).optional(), limit: limit(500, 100) });
export const workflowConcurrencyResponse = z.object({
  data: z
    .array(
      z.object({
        key: z.string().describe('the value at keyPath in the runs\' input ("" without one)'),
        running: z.number().int().describe('runs holding a place: admitted and not ended'),
        queued: z.number().int().describe('runs waiting for a place'),
        queuedSince: z.string().nullable().describe('since when the oldest of them has waited; null when none waits'),
      }),
    )
    .describe('the lines that hold or queue a run now, by key'),
  next: z.string().nullable(),
});
