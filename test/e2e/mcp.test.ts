import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp, type AuthHeaders, type CreatedKey, type SignedUp } from '../support/auth';
import { add, connect } from '../support/run-api';

let app: TestApp;
let owner: SignedUp;
let member: CreatedKey;
const clients: Client[] = [];

const AGENT = { name: 'mcp-e2e-agent', version: '1.4.2' };

async function mcp(headers: AuthHeaders, query = '', info = AGENT): Promise<Client> {
  const client = new Client(info);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.url}/mcp${query}`), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

/** Calls a tool; the structured result, or the parsed `{error, message, hint}` of a failure. */
async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = (result.content[0] as { text: string }).text;
  return { isError: result.isError === true, value: (result.structuredContent ?? JSON.parse(text)) as any, bytes: Buffer.byteLength(text) }; // eslint-disable-line @typescript-eslint/no-explicit-any -- tool results are arbitrary JSON
}

beforeAll(async () => {
  app = await startTestApp('mcp');
  owner = await signUp(app);
  member = await createApiKey(app, owner.headers, { role: 'member' });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await app?.close();
});

describe('MCP endpoint', () => {
  it('lists at most 18 tools, each with input and output schemas and annotations', async () => {
    const { tools } = await (await mcp(member.headers)).listTools();
    expect(tools.length).toBeLessThanOrEqual(18);
    const writes = ['workflow_create', 'workflow_patch', 'workflow_revert', 'run_start', 'run_cancel', 'run_rerun', 'signal_send', 'event_publish'];
    const reads = ['connectors_list', 'connector_describe', 'workflows_list', 'workflow_get', 'workflow_triggers', 'run_get', 'runs_list', 'run_wait', 'run_logs', 'audit_events'];
    expect(tools.map((t) => t.name).sort()).toEqual([...writes, ...reads].sort());
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.annotations?.readOnlyHint).toBe(reads.includes(tool.name));
      expect(typeof tool.annotations?.destructiveHint).toBe('boolean');
      expect(typeof tool.annotations?.idempotentHint).toBe('boolean');
    }
    expect(tools.find((t) => t.name === 'workflow_patch')?.inputSchema.required).toEqual(expect.arrayContaining(['id', 'ops']));
    expect(tools.some((t) => /approv/.test(t.name))).toBe(false);
  });

  it('answers 401 without credentials, before any MCP handling', async () => {
    const res = await app.request('POST', '/mcp', { headers: { accept: 'application/json, text/event-stream' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unauthorized');
  });

  it('lets an agent build a workflow from a patch with a typo, repair it from the suggestion, run it and read its logs', async () => {
    const client = await mcp(member.headers);
    const created = await call(client, 'workflow_create', { name: 'typo loop' });
    expect(created.isError).toBe(false);
    const id = created.value.id as string;
    const first = await call(client, 'workflow_patch', { id, ops: [add('start', 'trigger_manual'), add('echo', 'transfrom', { template: 'hello {{trigger.who}}' }), connect('start', 'echo')] });
    expect(first.isError).toBe(false);
    const typo = first.value.skipped_items.find((item: { op: { type?: string } }) => item.op.type === 'transfrom');
    expect(typo.suggestion).toMatchObject({ operation_type: 'add', block_id: 'echo', type: 'transform' });
    // The repair: every suggestion, and the ops skipped only because an endpoint was missing.
    const repair = first.value.skipped_items.map((item: { suggestion?: unknown; op: unknown }) => item.suggestion ?? item.op);
    const second = await call(client, 'workflow_patch', { id, ops: repair, if_match: first.value.version });
    expect(second.value).toMatchObject({ ok: true, runnable: true, skipped_items: [], validation_errors: [] });

    const run = await call(client, 'run_start', { workflow_id: id, input: { who: 'mcp' }, wait_seconds: 30 });
    expect(run.isError).toBe(false);
    expect(run.value.status).toBe('completed');
    const waited = await call(client, 'run_wait', { id: run.value.id, timeout_seconds: 5 });
    expect(waited.value).toMatchObject({ status: 'completed', timed_out: false, outputs: { echo: { value: 'hello mcp' } } });
    const logs = await call(client, 'run_logs', { id: run.value.id });
    expect(logs.value.truncated).toBe(false);
    expect(logs.value.data.find((row: { blockId: string }) => row.blockId === 'echo')).toMatchObject({ status: 'succeeded', output: { value: 'hello mcp' } });
    const listed = await call(client, 'runs_list', { workflow_id: id });
    expect(listed.value.data.map((r: { id: string }) => r.id)).toEqual([run.value.id]);

    // Every write carried the key as actor and the MCP client's name/version as agent label.
    const { rows } = await app.db.pool.query<{ metadata: { actor: { id: string }; agent?: string } }>('SELECT metadata FROM events WHERE stream_id = $1', [`workflow-${id}`]);
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) expect(row.metadata).toMatchObject({ actor: { type: 'api_key', id: member.id }, agent: 'mcp-e2e-agent/1.4.2' });
    const audit = await call(await mcp(owner.headers), 'audit_events', { agent: 'mcp-e2e-agent/1.4.2', type: 'RunStarted' });
    expect(audit.value.data).toEqual([expect.objectContaining({ streamId: `run-${run.value.id}`, agent: 'mcp-e2e-agent/1.4.2' })]);

    // A completed run has no failure to rerun from; from the start it runs again.
    const refused = await call(client, 'run_rerun', { id: run.value.id });
    expect([refused.isError, refused.value.error]).toEqual([true, 'run_not_failed']);
    const rerun = await call(client, 'run_rerun', { id: run.value.id, from: 'start' });
    expect(rerun.value).toMatchObject({ rerunOf: run.value.id, reusedBlocks: [] });
    expect((await call(client, 'run_wait', { id: rerun.value.runId, timeout_seconds: 10 })).value).toMatchObject({ status: 'completed', rerunOf: run.value.id });
    // From one step: that step runs again; a step the workflow does not have is block_not_found.
    const fromEcho = await call(client, 'run_rerun', { id: run.value.id, from: 'block', block_id: 'echo' });
    expect(fromEcho.value).toMatchObject({ rerunOf: run.value.id, reusedBlocks: [] });
    const unknown = await call(client, 'run_rerun', { id: run.value.id, from: 'block', block_id: 'nope' });
    expect([unknown.isError, unknown.value.error]).toEqual([true, 'block_not_found']);
    // A delayed start is queued until its instant.
    const later = await call(client, 'run_start', { workflow_id: id, input: { who: 'later' }, start_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(later.value).toMatchObject({ status: 'queued' });
    expect((await call(client, 'run_cancel', { id: later.value.runId })).isError).toBe(false);
  });

  it('lets an agent build a webhook workflow and a scheduled one with EditOps, then read the URL and the next fire times', async () => {
    const client = await mcp(member.headers);
    const hookId = (await call(client, 'workflow_create', { name: 'on webhook' })).value.id as string;
    await call(client, 'workflow_patch', { id: hookId, ops: [add('hook', 'trigger_webhook', {}), add('echo', 'transform', { template: 'got {{trigger.body.n}}' }), connect('hook', 'echo')] });
    const hooked = await call(client, 'workflow_triggers', { workflow_id: hookId });
    expect(hooked.value).toMatchObject({ schedules: [], webhooks: [{ blockId: 'hook', signing: 'none', url: expect.stringMatching(/\/hooks\//) }] });
    // The URL works as given: a delivery starts a run.
    const delivered = await fetch(hooked.value.webhooks[0].url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 5 }) });
    expect(delivered.status).toBe(202);
    const { runId } = (await delivered.json()) as { runId: string };
    expect((await call(client, 'run_wait', { id: runId, timeout_seconds: 10 })).value).toMatchObject({ status: 'completed', outputs: { echo: { value: 'got 5' } } });

    const cronId = (await call(client, 'workflow_create', { name: 'hourly' })).value.id as string;
    await call(client, 'workflow_patch', { id: cronId, ops: [add('tick', 'trigger_schedule', { cron: '0 * * * *' }), add('echo', 'transform', { template: 'tick' }), connect('tick', 'echo')] });
    const scheduled = await call(client, 'workflow_triggers', { workflow_id: cronId });
    expect(scheduled.value).toMatchObject({ webhooks: [], schedules: [{ blockId: 'tick', cron: '0 * * * *', state: 'active', nextFireAt: expect.stringMatching(/T\d\d:00:00\.000Z$/) }] });
    expect(scheduled.value.schedules[0].upcoming).toHaveLength(5);
  });

  it("answers another organization's ids with isError not_found", async () => {
    const client = await mcp(member.headers);
    const id = (await call(client, 'workflow_create', { name: 'mine' })).value.id as string;
    await call(client, 'workflow_patch', { id, ops: [add('start', 'trigger_manual')] });
    const runId = (await call(client, 'run_start', { workflow_id: id, wait_seconds: 30 })).value.id as string;
    const stranger = await mcp((await signUp(app)).headers);
    for (const [tool, args] of [['workflow_get', { id }], ['workflow_patch', { id, ops: [] }], ['run_start', { workflow_id: id }], ['run_get', { id: runId }], ['run_logs', { id: runId }], ['run_cancel', { id: runId }], ['run_rerun', { id: runId }], ['workflow_triggers', { workflow_id: id }]] as const) {
      const result = await call(stranger, tool, args);
      expect([tool, result.isError, result.value.error]).toEqual([tool, true, 'not_found']);
      expect(typeof result.value.hint).toBe('string');
    }
  });

  it('refuses write tools in read-only mode (query flag or viewer key) and still reads', async () => {
    const viewer = await createApiKey(app, owner.headers, { role: 'viewer' });
    for (const client of [await mcp(member.headers, '?readonly=1'), await mcp(viewer.headers)]) {
      const refused = await call(client, 'workflow_create', { name: 'nope' });
      expect(refused).toMatchObject({ isError: true, value: { error: 'forbidden' } });
      expect((await call(client, 'event_publish', { name: 'nope' })).value.error).toBe('forbidden');
      expect((await call(client, 'workflows_list')).isError).toBe(false);
    }
  });

  it('answers schema-invalid arguments and REST errors as isError results with a code and a hint', async () => {
    const client = await mcp(member.headers);
    const invalid = await call(client, 'workflow_get', { id: 42 });
    expect(invalid).toMatchObject({ isError: true, value: { error: 'invalid_arguments' } });
    expect(invalid.value.hint).toEqual(expect.any(String));
    const id = (await call(client, 'workflow_create', { name: 'stale' })).value.id as string;
    const stale = await call(client, 'workflow_patch', { id, ops: [add('start', 'trigger_manual')], if_match: 7 });
    expect(stale).toMatchObject({ isError: true, value: { error: 'version_mismatch', current: 1 } });
  });

  it('answers a request whose params do not fit its method with -32602 Invalid params naming the field, not an internal error', async () => {
    const post = (body: unknown) => app.request('POST', '/mcp', { headers: { ...member.headers, accept: 'application/json, text/event-stream' }, body });
    const cases: [unknown, string][] = [
      [{ jsonrpc: '2.0', id: 1, method: 'tools/call' }, 'params'],
      [{ jsonrpc: '2.0', id: 'two', method: 'tools/call', params: { name: 5 } }, 'params.name'],
      [{ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'run_get', arguments: 'x' } }, 'params.arguments'],
      [{ jsonrpc: '2.0', id: 4, method: 'initialize', params: { protocolVersion: 1 } }, 'params.protocolVersion'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      // Before: -32603 Internal error, its message zod's issues as JSON.
      expect({ status: res.status, id: res.body.id, code: res.body.error?.code }).toEqual({ status: 200, id: (body as { id: unknown }).id, code: -32602 });
      expect(res.body.error.message).toContain(`${field}:`);
    }
    // A request that fits still goes to the server.
    const listed = await post({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: {} });
    expect(listed.body.result.tools.length).toBeGreaterThan(0);
  });

  it('cuts a huge log short with a cursor that reads the rest', async () => {
    const client = await mcp(member.headers);
    const id = (await call(client, 'workflow_create', { name: 'huge' })).value.id as string;
    const big = 'x'.repeat(12_000);
    const steps = Array.from({ length: 8 }, (_, i) => `s${i}`);
    const ops = [add('start', 'trigger_manual'), ...steps.map((s) => add(s, 'transform', { template: big })), ...steps.map((s, i) => connect(i === 0 ? 'start' : `s${i - 1}`, s))];
    expect((await call(client, 'workflow_patch', { id, ops })).value.runnable).toBe(true);
    const runId = (await call(client, 'run_start', { workflow_id: id, wait_seconds: 30 })).value.id as string;
    expect((await call(client, 'run_wait', { id: runId })).value.status).toBe('completed');

    const seen: string[] = [];
    let page = await call(client, 'run_logs', { id: runId });
    expect(page.value.truncated).toBe(true);
    expect(page.value.next_cursor).toEqual(expect.any(String));
    for (;;) {
      expect(page.bytes).toBeLessThanOrEqual(60_000);
      seen.push(...page.value.data.map((row: { id: string }) => row.id));
      if (!page.value.next_cursor) break;
      page = await call(client, 'run_logs', { id: runId, after: page.value.next_cursor });
    }
    const rest = await app.request('GET', `/api/runs/${runId}/logs?limit=500`, { headers: member.headers });
    expect(seen).toEqual(rest.body.data.map((row: { id: string }) => row.id));
    expect(seen).toHaveLength(steps.length); // one row per step attempt; the trigger has none
  });
});

describe('THODARE_MCP=off', () => {
  it('serves no /mcp', async () => {
    const off = await startTestApp('mcp_off', { THODARE_MCP: 'off' });
    try {
      const user = await signUp(off);
      const res = await off.request('POST', '/mcp', { headers: { ...user.headers, accept: 'application/json, text/event-stream' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
      expect(res.status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
