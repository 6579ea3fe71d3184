import type { TestApp } from './app';
import type { AuthHeaders } from './auth';

/** An `add` op. */
export const add = (blockId: string, type: string, params: Record<string, unknown> = {}) => ({ operation_type: 'add', block_id: blockId, type, params });
/** A `connect` op. */
export const connect = (from: string, to: string, handle?: string) => ({
  operation_type: 'connect',
  block_id: from,
  target_block_id: to,
  ...(handle ? { source_handle: handle } : {}),
});

/** Creates a workflow over HTTP and applies `ops`; throws unless every op applied. */
export async function createWorkflow(app: TestApp, headers: AuthHeaders, ops: unknown[]): Promise<string> {
  const created = await app.request('POST', '/api/workflows', { headers, body: { name: 'runs test' } });
  if (created.status !== 201) throw new Error(`workflow creation failed: ${created.status} ${created.text}`);
  const id = created.body.id as string;
  if (ops.length > 0) await patchWorkflow(app, headers, id, ops);
  return id;
}

/** Applies ops; throws unless every op applied. */
export async function patchWorkflow(app: TestApp, headers: AuthHeaders, id: string, ops: unknown[]): Promise<void> {
  const patched = await app.request('POST', `/api/workflows/${id}/operations`, { headers, body: { ops } });
  if (patched.status !== 200 || patched.body.skipped_items.length > 0) throw new Error(`patch failed: ${patched.status} ${patched.text}`);
}

/** Polls `GET /api/runs/:id` until the run reaches one of `statuses`. */
export async function waitForRun(app: TestApp, headers: AuthHeaders, runId: string, statuses = ['completed', 'failed', 'cancelled'], timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await app.request('GET', `/api/runs/${runId}`, { headers });
    if (res.status === 200 && statuses.includes(res.body.status)) return res.body;
    if (Date.now() > until) throw new Error(`run ${runId} did not reach ${statuses.join('/')}: ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls `GET /api/runs/:id/logs` until it has at least `count` rows that finished. */
export async function waitForLogs(app: TestApp, headers: AuthHeaders, runId: string, count: number, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await app.request('GET', `/api/runs/${runId}/logs`, { headers });
    const finished = (res.body?.data ?? []).filter((row: { status: string }) => row.status !== 'running' && row.status !== 'waiting');
    if (res.status === 200 && finished.length >= count) return res.body.data;
    if (Date.now() > until) throw new Error(`run ${runId} logs incomplete: ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
