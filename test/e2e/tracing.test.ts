import { SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/config';
import { startApplication, type RunningThodare } from '../../src/main';
import type { WorkerHooks } from '../../src/tracing/hooks';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createRunTestTables, runTestConnectors } from '../support/run-connectors';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

// The API process runs no worker: every run goes to the worker process below, which has the
// global tracer provider (in-memory) and three hook sets — one throwing, one rejecting, one recording.

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const recorded: string[] = [];
const boom = (): never => {
  throw new Error('sync boom');
};
const reject = () => Promise.reject(new Error('async boom'));
const throwing: WorkerHooks = { onRunSegmentStarted: boom, onStepAttemptStarted: boom, onStepAttemptFinished: boom, onStepRetryScheduled: boom, onRunFinished: boom, onRunSegmentEnded: boom };
const rejecting: WorkerHooks = { onRunSegmentStarted: reject, onStepAttemptStarted: reject, onStepAttemptFinished: reject, onStepRetryScheduled: reject, onRunFinished: reject, onRunSegmentEnded: reject };
const recording: WorkerHooks = {
  onRunSegmentStarted: (run) => recorded.push(`segment started ${run.runId}`),
  onStepAttemptStarted: (step) => recorded.push(`attempt started ${step.run.runId} ${step.blockId} ${step.attempt}`),
  onStepAttemptFinished: (step, result) => recorded.push(`attempt finished ${step.run.runId} ${step.blockId} ${step.attempt} ${result.ok}`),
  onRunFinished: (run, end) => recorded.push(`run finished ${run.runId} ${end.status}`),
  onRunSegmentEnded: (run, segment) => recorded.push(`segment ended ${run.runId} ${segment.how}`),
};

let db: TestDatabase;
let app: TestApp;
let worker: RunningThodare;
const workerLogs: string[] = [];
let owner: SignedUp;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  db = await createTestDatabase('tracing');
  await createRunTestTables(db.pool);
  const connectors = runTestConnectors(db.pool);
  app = await startTestApp('tracing', {}, { api: true, worker: false }, db, connectors);
  const config = parseConfig({ THODARE_LOG_LEVEL: 'info', THODARE_POLL_INTERVAL_MS: '200', THODARE_SHUTDOWN_GRACE_MS: '1000', THODARE_WORKER_PORT: '0', THODARE_SCHEMA: db.schema, DATABASE_URL: db.url });
  const logStream = new Writable({
    write(chunk, _e, done) {
      workerLogs.push(String(chunk));
      done();
    },
  });
  worker = await startApplication({ config, databaseUrl: db.url, roles: { api: false, worker: true }, connectors, logStream, hooks: [throwing, rejecting, recording] });
  owner = await signUp(app);
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
  await db?.drop();
  await provider.shutdown();
  trace.disable();
});

/** Starts a run of trigger → `block` and waits for its end and for its last span to be exported. */
async function runToEnd(block: ReturnType<typeof add>) {
  const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), block, connect('start', block.block_id)]);
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: { input: { x: 'ok' } } });
  const run = await waitForRun(app, owner.headers, started.body.runId);
  await until(() => spansOf(run.id, 'thodare.run').some((s) => s.attributes['thodare.run.segment_end'] === 'ended'));
  return run;
}

/** Both apps share this process, and Nest's static logger writes to whichever app set it up last. */
const logs = () => [...workerLogs, ...app.logs];

function spansOf(runId: string, name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name && s.attributes['thodare.run_id'] === runId);
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(condition()).toBe(true);
}

describe('tracing', () => {
  it('records a span per run segment and per step attempt, with their ids, the failed attempt as ERROR and the retry as an event', async () => {
    const run = await runToEnd(add('flaky', 'test_flaky', { failures: 1 }));
    expect(run).toMatchObject({ status: 'completed', outputs: { flaky: { attempt: 2 } } });

    const ids = { 'thodare.run_id': run.id, 'thodare.organization_id': owner.organizationId, 'thodare.workflow_id': run.workflowId, 'thodare.workflow_version': run.workflowVersion };
    const steps = spansOf(run.id, 'thodare.step').sort((a, b) => Number(a.attributes['thodare.attempt']) - Number(b.attributes['thodare.attempt']));
    expect(steps.map((s) => s.attributes)).toEqual([
      { ...ids, 'thodare.block_id': 'flaky', 'thodare.connector': 'test_flaky', 'thodare.attempt': 1, 'thodare.error.retryable': true, 'error.type': 'flaky' },
      { ...ids, 'thodare.block_id': 'flaky', 'thodare.connector': 'test_flaky', 'thodare.attempt': 2 },
    ]);
    expect(steps.map((s) => s.status)).toEqual([{ code: SpanStatusCode.ERROR, message: 'flaky' }, { code: SpanStatusCode.UNSET }]);

    // The retry back-off may park the run: then it is two segments, the second linked to the first.
    const segments = spansOf(run.id, 'thodare.run').sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    for (const segment of segments) expect(segment.attributes).toMatchObject(ids);
    segments.slice(1).forEach((segment, i) => expect(segment.links.map((l) => l.context.spanId)).toEqual([segments[i]!.spanContext().spanId]));
    expect(segments.map((s) => s.attributes['thodare.run.segment_end'])).toEqual([...segments.slice(1).map(() => 'parked'), 'ended']);
    const last = segments[segments.length - 1]!;
    expect(last.attributes['thodare.run.status']).toBe('completed');
    expect(last.status.code).toBe(SpanStatusCode.UNSET);
    for (const step of steps) {
      const parent = segments.find((s) => s.spanContext().spanId === step.parentSpanContext?.spanId);
      expect(parent?.spanContext().traceId).toBe(step.spanContext().traceId);
    }
    const retries = segments.flatMap((s) => s.events).filter((e) => e.name === 'thodare.step.retry_scheduled');
    expect(retries.map((e) => e.attributes)).toEqual([{ 'thodare.block_id': 'flaky', 'thodare.attempt': 2, 'thodare.retry.available_at': expect.any(String) }]);
  });

  it('marks a failed run ERROR with its error code', async () => {
    const run = await runToEnd(add('bad', 'test_fail', { code: 'nope', retryable: false }));
    expect(run.status).toBe('failed');

    const ended = spansOf(run.id, 'thodare.run').find((s) => s.attributes['thodare.run.segment_end'] === 'ended')!;
    expect(ended.attributes['thodare.run.status']).toBe('failed');
    expect(ended.status.code).toBe(SpanStatusCode.ERROR);
    expect(ended.attributes['error.type']).toBe(run.error.code);
  });
});

describe('worker hooks', () => {
  it('completes a run with the right output when hooks throw and reject, and tells the other hooks everything', async () => {
    const run = await runToEnd(add('count', 'test_count', { value: '{{trigger.x}}' }));
    expect(run).toMatchObject({ status: 'completed', outputs: { count: { value: 'ok' } } });

    const mine = recorded.filter((line) => line.includes(run.id));
    expect(mine).toEqual([
      `segment started ${run.id}`,
      `attempt started ${run.id} count 1`,
      `attempt finished ${run.id} count 1 true`,
      `run finished ${run.id} completed`,
      `segment ended ${run.id} ended`,
    ]);
    // Every hook of both failing sets failed on every run so far; each is logged, rate-limited.
    for (const hook of ['onRunSegmentStarted', 'onStepAttemptStarted', 'onStepAttemptFinished', 'onRunFinished', 'onRunSegmentEnded']) {
      for (const hookSet of [1, 2]) {
        const lines = logs().filter((line) => line.includes(`worker hook ${hook} failed`) && line.includes(`"hookSet":${hookSet}`));
        expect(lines.length).toBeGreaterThanOrEqual(1);
        expect(lines.length).toBeLessThan(3); // three runs, at most one line per minute
      }
    }
  });
});
