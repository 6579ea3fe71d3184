import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CommandBus } from '@nestjs/cqrs';
import type { RunningThodare } from '../../src/main';
import { CancelRunCommand } from '../../src/runs/cancel-run.command';
import type { TestDatabase } from '../support/database';
import { createRunTestDatabase, eventTypes, startRun, startWorkerApp, testMetadata, waitForCalls, waitForStatus } from '../support/run-harness';
import { block, edge, workflowOf } from '../support/run-workflows';

// Data Postgres cannot store must end the run at once, never wedge it: NUL characters and lone
// surrogates in a connector's output, and any batch the database refuses for its content.

let db: TestDatabase;
let worker: RunningThodare & { logs: string[] };
let remote: Server;
let base: string;

const BODIES: Record<string, { type: string; body: string }> = {
  '/json-nul': { type: 'application/json', body: '{"text":"a\\u0000b"}' },
  '/text-nul': { type: 'text/plain', body: 'raw \u0000 byte' },
  '/json-surrogate': { type: 'application/json', body: '{"items":["ok","\\ud800"]}' },
};

beforeAll(async () => {
  db = await createRunTestDatabase('unstorable');
  remote = createServer((request, response) => {
    const reply = BODIES[request.url ?? ''] ?? { type: 'text/plain', body: 'fine' };
    response.writeHead(200, { 'content-type': reply.type }).end(reply.body);
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
  worker = await startWorkerApp(db, { THODARE_HTTP_ALLOW: '127.0.0.1' });
});
afterAll(async () => {
  await worker?.close();
  remote?.close();
  await db?.drop();
});

const call = (path: string) => workflowOf([block('call', 'http_request', { url: `${base}${path}` }), block('next', 'test_count')], [edge('trigger', 'call'), edge('call', 'next')]);

async function runError(runId: string): Promise<{ code: string; message: string }> {
  const { rows } = await db.pool.query<{ error: { code: string; message: string } }>('SELECT error FROM run_state WHERE run_id = $1', [runId]);
  return rows[0]!.error;
}

describe('unstorable data', () => {
  it.each([
    ['/json-nul', '$.body.text'],
    ['/text-nul', '$.body'],
    ['/json-surrogate', '$.body.items[1]'],
  ])('an http_request whose response %s cannot be stored fails with value_not_storable naming %s', async (path, jsonPath) => {
    const runId = await startRun(worker, call(path));

    expect(await waitForStatus(db.pool, runId)).toBe('failed');
    const error = await runError(runId);
    expect(error.code).toBe('value_not_storable');
    expect(error.message).toContain(jsonPath);
  });

  it("the block's error branch takes a value_not_storable failure", async () => {
    const wf = workflowOf(
      [block('call', 'http_request', { url: `${base}/json-nul` }), block('rescue', 'test_count', { label: 'rescued' })],
      [edge('trigger', 'call'), edge('call', 'rescue', 'error')],
    );
    const runId = await startRun(worker, wf);

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    await waitForCalls(db.pool, 'rescued');
  });

  describe('a batch the database refuses', () => {
    // A trigger on the events table stands in for any refusal tied to content; a sequence (never
    // rolled back) counts how often the worker tried.
    beforeAll(async () => {
      await db.pool.query(`
        CREATE SEQUENCE refusals;
        CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.type = 'StepAttemptSucceeded' AND NEW.data::text LIKE '%poison%' THEN
            PERFORM nextval('refusals');
            IF NEW.data::text LIKE '%poison-data%' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; END IF;
            RAISE EXCEPTION 'refused for now';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_poison();`);
    });
    const refusals = async () => Number((await db.pool.query<{ n: string }>('SELECT last_value AS n FROM refusals')).rows[0]!.n);

    it('refused for its content, it ends the run with append_rejected after one try', async () => {
      const runId = await startRun(worker, workflowOf([block('step', 'test_count', { value: 'poison-data' })], [edge('trigger', 'step')]));

      expect(await waitForStatus(db.pool, runId)).toBe('failed');
      expect((await runError(runId)).code).toBe('append_rejected');
      expect(await refusals()).toBe(1);
    });

    it('refused again and again, it backs off, and a cancel still ends the run', async () => {
      const before = await refusals();
      const runId = await startRun(worker, workflowOf([block('step', 'test_count', { value: 'poison-later', label: 'refused' })], [edge('trigger', 'step')]));
      await waitForCalls(db.pool, 'refused');
      while ((await refusals()) < before + 3) await new Promise((resolve) => setTimeout(resolve, 50));

      await worker.app.get(CommandBus).execute(new CancelRunCommand('org-test', runId, testMetadata, 'stuck'));

      expect(await waitForStatus(db.pool, runId)).toBe('cancelled');
      expect(await eventTypes(db.pool, runId)).not.toContain('StepAttemptSucceeded');
      expect((await refusals()) - before).toBeLessThan(10);
    });
  });
});
