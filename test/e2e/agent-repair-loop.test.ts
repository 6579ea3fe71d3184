import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp } from '../support/auth';

type Op = Record<string, unknown>;
interface PatchResult {
  ok: boolean;
  version: number;
  workflow: { blocks: { id: string; params: Record<string, unknown> }[] };
  skipped_items: { reason_code: string; suggestion?: Op; op: unknown }[];
  validation_errors: { block_id: string; field: string; code: string; value: unknown; allowed?: unknown[]; suggestion?: unknown }[];
  summary: string;
}

/**
 * The agent's whole repair policy, driven only by the codes and suggestions of the last
 * response — no knowledge of this particular workflow:
 * - a skipped op with a `suggestion`: send the suggestion;
 * - an edge skipped because an endpoint was missing: send it again (its block comes back first);
 * - `cycle_introduced` / `duplicate_connection`: drop the op;
 * - a validation error with an op as suggestion: send it; with a value: set that param path;
 * - `unknown_output` without a suggestion: rewrite the reference to the nearest `allowed` output.
 * Adds go first so the edges and references that need them find them.
 */
function repair(result: PatchResult): Op[] {
  const adds: Op[] = [];
  const rest: Op[] = [];
  const send = (op: Op) => {
    const list = op.operation_type === 'add' ? adds : rest;
    if (!list.some((known) => JSON.stringify(known) === JSON.stringify(op))) list.push(op);
  };
  for (const item of result.skipped_items) {
    if (item.reason_code === 'cycle_introduced' || item.reason_code === 'duplicate_connection') continue;
    if (item.suggestion) send(item.suggestion);
    else if (item.reason_code === 'invalid_edge_source' || item.reason_code === 'invalid_edge_target') send(item.op as Op);
  }
  for (const error of result.validation_errors) {
    if (typeof error.suggestion === 'object' && error.suggestion !== null) send(error.suggestion as Op);
    else if (error.suggestion !== undefined) send(setParam(result, error.block_id, error.field, error.suggestion));
    else if (error.code === 'unknown_output' && typeof error.value === 'string' && error.allowed?.length) {
      send(setParam(result, error.block_id, error.field, nearestOutput(error.value, error.allowed.map(String))));
    }
  }
  return [...adds, ...rest];
}

/** `{{log.result}}` with allowed `[value]` → `{{log.value}}`: the last path segment replaced by the closest allowed name. */
function nearestOutput(text: string, allowed: string[]): string {
  return text.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (whole, reference: string) => {
    const segments = reference.split('.');
    const last = segments.at(-1) ?? '';
    if (segments.length < 2 || allowed.includes(last)) return whole;
    const best = [...allowed].sort((a, b) => distance(a, last) - distance(b, last))[0] ?? last;
    return `{{${[...segments.slice(0, -1), best].join('.')}}}`;
  });
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** An update that sets one param path (`template.status`) of a block, keeping its siblings. */
function setParam(result: PatchResult, blockId: string, field: string, value: unknown): Op {
  const [top = '', ...nested] = field.split('.');
  if (nested.length === 0) return { operation_type: 'update', block_id: blockId, params: { [top]: value } };
  const current = result.workflow.blocks.find((block) => block.id === blockId)?.params[top];
  const copy = JSON.parse(JSON.stringify(current ?? {})) as Record<string, unknown>;
  let at = copy;
  for (const key of nested.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[nested[nested.length - 1] as string] = value;
  return { operation_type: 'update', block_id: blockId, params: { [top]: copy } };
}

const LEAKED_TOKEN = 'xoxb-agent-pasted-this-9d1e';

/** What an LLM typically sends first: edges before blocks, a typo'd type, a pasted token, an invented output, a loop. */
const firstDraft: Op[] = [
  { operation_type: 'connect', block_id: 'start', target_block_id: 'fetch' },
  { operation_type: 'add', block_id: 'start', type: 'trigger_manual' },
  { operation_type: 'add', block_id: 'fetch', type: 'http_reqest', params: { url: 'https://api.example.com/users/{{trigger.userId}}' } },
  { operation_type: 'add', block_id: 'notify', type: 'slack_send_message', params: { channel: '#signups', text: 'New user {{fetch.body.name}}', botToken: LEAKED_TOKEN } },
  { operation_type: 'connect', block_id: 'fetch', target_block_id: 'notify' },
  { operation_type: 'add', block_id: 'log', type: 'transform', params: { template: { messageTs: '{{notify.ts}}' } } },
  { operation_type: 'connect', block_id: 'notify', target_block_id: 'log' },
  { operation_type: 'add', block_id: 'audit', type: 'transform', params: { template: { entry: '{{log.result}}' } } },
  { operation_type: 'connect', block_id: 'log', target_block_id: 'audit' },
  { operation_type: 'connect', block_id: 'audit', target_block_id: 'log' },
];

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('agent_repair_loop');
});
afterAll(() => app.close());

describe('an agent repairing its workflow from HTTP responses only', () => {
  it('goes from a first draft full of typical mistakes to ok: true in at most two repair patches', async () => {
    const owner = await signUp(app);
    const agent = await createApiKey(app, owner.headers, { role: 'member' });
    const headers = { ...agent.headers, 'x-thodare-agent': 'scripted-repair-agent/1.0' };
    const created = await app.request('POST', '/api/workflows', { headers, body: { name: 'Signup notifier' } });
    const id = created.body.id as string;
    const send = async (ops: Op[]): Promise<PatchResult> => {
      const res = await app.request('POST', `/api/workflows/${id}/operations`, { headers, body: { ops } });
      expect(res.status).toBe(200);
      return res.body as PatchResult;
    };

    let result = await send(firstDraft);
    expect(result.ok).toBe(false);
    expect(new Set(result.skipped_items.map((item) => item.reason_code))).toEqual(
      new Set(['block_type_not_registered', 'hidden_param_in_input', 'invalid_edge_source', 'invalid_edge_target', 'cycle_introduced']),
    );
    expect(result.validation_errors.map((error) => error.code)).toContain('unknown_output');

    const repairs: Op[][] = [];
    while (!result.ok && repairs.length < 2) {
      const ops = repair(result);
      expect(ops.length).toBeGreaterThan(0);
      repairs.push(ops);
      result = await send(ops);
    }

    expect(result).toMatchObject({ ok: true, skipped_items: [], validation_errors: [] });
    expect(result.summary).toContain('valid and runnable');
    expect(repairs.length).toBeLessThanOrEqual(2);
    const blocks = Object.fromEntries(result.workflow.blocks.map((block) => [block.id, block]));
    expect(Object.keys(blocks).sort()).toEqual(['audit', 'fetch', 'log', 'notify', 'start']);
    expect(blocks.notify?.params).not.toHaveProperty('botToken');
    expect(blocks.audit?.params).toEqual({ template: { entry: '{{log.value}}' } });

    const read = await app.request('GET', `/api/workflows/${id}`, { headers });
    expect(read.body).toMatchObject({ runnable: true, validation_errors: [], version: result.version });
    const { rows } = await app.db.pool.query('SELECT count(*)::int AS n FROM events WHERE data::text LIKE $1', [`%${LEAKED_TOKEN}%`]);
    expect(rows[0].n).toBe(0);
    const history = await app.request('GET', `/api/workflows/${id}/history?limit=500`, { headers });
    const patched = history.body.data.filter((event: { type: string }) => event.type === 'WorkflowPatched');
    expect(patched).toHaveLength(1 + repairs.length);
    for (const event of patched) expect(event).toMatchObject({ agent: 'scripted-repair-agent/1.0', actor: { type: 'api_key', id: agent.id } });
  });
});
