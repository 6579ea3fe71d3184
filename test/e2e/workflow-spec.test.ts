import { z } from 'zod';
import { defineWorkflow } from '../../src/authoring/define-workflow';
import { toEditOps } from '../../src/authoring/to-edit-ops';
import { defineWorkflowSpec, startSpecRun, type SpecFetcher } from '../../src/authoring/workflow-spec';
import { transform } from '../../src/domain/connectors/builtins/transform.connector';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { createWorkflow, waitForRun } from '../support/run-api';

let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('workflow_spec');
  owner = await signUp(app);
});
afterAll(async () => {
  await app?.close();
});

const spec = defineWorkflowSpec({
  name: 'greeter',
  version: 1,
  input: z.object({ name: z.string().min(1), times: z.number().int().positive() }),
  output: z.object({ greet: z.object({ value: z.string() }) }),
});
const fetcher: SpecFetcher = (path, init) =>
  fetch(`${app.url}${path}`, { ...init, headers: { ...init.headers, ...owner.headers } });

async function greeterId(): Promise<string> {
  const workflow = defineWorkflow(spec.name)
    .input(spec.input)
    .step('greet', transform, ({ input }) => ({ template: `Hello ${input.name} x${input.times}` }))
    .build();
  return createWorkflow(app, owner.headers, toEditOps(workflow));
}

describe('workflow specs and typed workflows over HTTP', () => {
  it('runs a typed workflow built with defineWorkflow and applied through toEditOps', async () => {
    const id = await greeterId();
    const started = await startSpecRun(fetcher, spec, id, { name: 'Ada', times: 2 });
    const run = await waitForRun(app, owner.headers, started.runId);
    expect(run.status).toBe('completed');
    expect(spec.parseOutput({ greet: run.outputs.greet })).toEqual({ greet: { value: 'Hello Ada x2' } });
  });

  it('refuses invalid input before calling the API: a ZodError, and no run exists', async () => {
    const id = await greeterId();
    const invalid = { name: '', times: 0 } as unknown as z.input<typeof spec.input>;
    await expect(startSpecRun(fetcher, spec, id, invalid)).rejects.toBeInstanceOf(z.ZodError);
    const runs = await app.request('GET', `/api/runs?workflowId=${id}`, { headers: owner.headers });
    expect(runs.status).toBe(200);
    expect(runs.body.data).toEqual([]);
  });
});
