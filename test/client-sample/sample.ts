import { defineWorkflow, toEditOps } from '../../src/authoring';
import { createClient, type EditOp, type PatchResult, type StepLog } from '../../src/client';

/**
 * A program written against `thodare/client` as a user would: sign up, build a workflow with
 * typed EditOps, run it and read its step logs. `test/e2e/client-drift.test.ts` compiles it
 * with `tsc` (a wrong field must not compile) and runs it against a live server.
 */
export interface SampleResult {
  patch: PatchResult;
  status: string;
  logs: StepLog[];
}

export async function runSample(baseUrl: string, email: string): Promise<SampleResult> {
  const anonymous = createClient({ baseUrl });
  const signUp = await anonymous.POST('/api/auth/sign-up', { body: { email, password: 'correct horse battery staple' } });
  if (!signUp.data) throw new Error(`sign-up failed: ${signUp.error?.error}`);
  const thodare = createClient({ baseUrl, token: signUp.data.token, agent: 'client-sample' });

  const created = await thodare.POST('/api/workflows', { body: { name: 'client sample' } });
  if (!created.data) throw new Error(`create failed: ${created.error?.message}`);
  const id = created.data.id;

  const ops: EditOp[] = [
    { operation_type: 'add', block_id: 'start', type: 'trigger_manual' },
    { operation_type: 'add', block_id: 'echo', type: 'transform', params: { template: 'hello {{trigger.name}}' } },
    { operation_type: 'connect', block_id: 'start', target_block_id: 'echo' },
  ];
  // A typed workflow's patch is the client's own EditOp type: no cast between the two halves.
  const typed: EditOp[] = toEditOps(defineWorkflow('typed').build());
  void typed;
  // @ts-expect-error -- `target` is not an EditOp field (`target_block_id` is): the types catch it.
  const wrong: EditOp = { operation_type: 'connect', block_id: 'start', target: 'echo' };
  void wrong;
  const patched = await thodare.POST('/api/workflows/{id}/operations', { params: { path: { id }, header: { 'If-Match': '1' } }, body: { ops } });
  if (!patched.data) throw new Error(`patch failed: ${patched.error?.error} (current ${patched.error?.current})`);

  const started = await thodare.POST('/api/workflows/{id}/runs', { params: { path: { id }, query: { waitMs: 10_000 } }, body: { input: { name: 'sample' } } });
  if (!started.data) throw new Error(`start failed: ${started.error?.error}`);
  const runId = 'runId' in started.data ? started.data.runId : started.data.id;

  const run = await thodare.GET('/api/runs/{id}', { params: { path: { id: runId } } });
  const logs = await thodare.GET('/api/runs/{id}/logs', { params: { path: { id: runId } } });
  if (!run.data || !logs.data) throw new Error('reading the run failed');
  return { patch: patched.data, status: run.data.status, logs: logs.data.data };
}
