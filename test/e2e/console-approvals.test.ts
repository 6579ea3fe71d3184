import { startTestApp, type TestApp } from '../support/app';
import { addMember, signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

/**
 * The approvals inbox (`GET /api/approvals`) and the approval link on the run
 * (`waitingFor.approvalUrl`), which the console renders for a person without an account.
 */
let app: TestApp;
let a: SignedUp;
let b: SignedUp;

beforeAll(async () => {
  app = await startTestApp('console_approvals');
  [a, b] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

const asking = (prompt: string) => [add('start', 'trigger_manual'), add('ask', 'human_approval', { prompt }), add('after', 'transform', { template: 'done' }), connect('start', 'ask'), connect('ask', 'after')];

/** A run of a new workflow, waiting on its approval. */
async function waitingRun(owner: SignedUp, prompt: string): Promise<{ runId: string; token: string; approvalUrl: string }> {
  const workflowId = await createWorkflow(app, owner.headers, asking(prompt));
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: {} });
  const run = await waitForRun(app, owner.headers, started.body.runId, ['waiting']);
  return { runId: run.id, token: run.waitingFor.approvalToken, approvalUrl: run.waitingFor.approvalUrl };
}

const inbox = async (owner: { headers: Record<string, string> }, query = '') => {
  const res = await app.request('GET', `/api/approvals${query}`, { headers: owner.headers });
  if (res.status !== 200) throw new Error(`inbox: ${res.status} ${res.text}`);
  return res.body as { data: Record<string, unknown>[]; next: string | null };
};

describe('waitingFor.approvalUrl', () => {
  it('links the run to the console page for its token, on this origin, in the run and in the list', async () => {
    const { runId, token, approvalUrl } = await waitingRun(a, 'Ship it?');
    expect(approvalUrl).toBe(`${app.url}/console/approvals/${token}`);
    const listed = (await app.request('GET', '/api/runs?status=waiting', { headers: a.headers })).body.data.find((r: { id: string }) => r.id === runId);
    expect(listed.waitingFor).toMatchObject({ kind: 'human_approval', approvalToken: token, approvalUrl });
    const page = await fetch(approvalUrl);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
  });

  it('is built from THODARE_PUBLIC_URL when set', async () => {
    const behindProxy = await startTestApp('console_approvals_public', { THODARE_PUBLIC_URL: 'https://thodare.example.test/' }, { api: true, worker: false }, app.db);
    try {
      const { runId, token } = await waitingRun(a, 'Public?');
      const run = await behindProxy.request('GET', `/api/runs/${runId}`, { headers: a.headers });
      expect(run.body.waitingFor.approvalUrl).toBe(`https://thodare.example.test/console/approvals/${token}`);
    } finally {
      await behindProxy.close();
    }
  });
});

describe('GET /api/approvals', () => {
  it("lists this organization's pending approvals with their prompts, tokens and links, never another's", async () => {
    const mine = [await waitingRun(a, 'Refund order 17?'), await waitingRun(a, 'Delete the staging data?')];
    const theirs = await waitingRun(b, 'B only: raise the budget?');
    const listed = (await inbox(a)).data;
    for (const run of mine) {
      expect(listed).toContainEqual(expect.objectContaining({ runId: run.runId, blockId: 'ask', status: 'pending', approvalToken: run.token, approvalUrl: run.approvalUrl, decidedBy: null }));
    }
    expect(listed.map((item) => item.prompt)).toEqual(expect.arrayContaining(['Refund order 17?', 'Delete the staging data?']));
    expect(JSON.stringify(listed)).not.toContain(theirs.runId);
    expect(JSON.stringify(listed)).not.toContain(theirs.token);
    expect(JSON.stringify(listed)).not.toContain('B only');
    const bList = (await inbox(b)).data;
    expect(bList.map((item) => item.runId)).toEqual([theirs.runId]);
  });

  it('moves a decided approval out of pending into its status, with who decided and the note, without its spent token', async () => {
    const run = await waitingRun(a, 'Approve the invoice?');
    const viewer = await addMember(app, a, 'viewer');
    expect((await inbox(viewer)).data.map((item) => item.runId)).toContain(run.runId);
    const decided = await app.request('POST', `/api/approvals/${run.token}`, { headers: a.headers, body: { approved: false, note: 'wrong amount' } });
    expect(decided.status).toBe(200);
    expect((await inbox(a)).data.map((item) => item.runId)).not.toContain(run.runId);
    const rejected = (await inbox(a, '?status=rejected')).data.find((item) => item.runId === run.runId);
    expect(rejected).toMatchObject({ status: 'rejected', decidedBy: a.userId, note: 'wrong amount', decidedAt: expect.any(String) });
    expect(rejected).not.toHaveProperty('approvalToken');
    expect(rejected).not.toHaveProperty('approvalUrl');
  });

  it('pages with a keyset cursor, oldest request first, and refuses a forged cursor', async () => {
    const page = (await inbox(a)).data;
    const all = page.map((item) => item.runId);
    expect(all.length).toBeGreaterThanOrEqual(2);
    const requested = page.map((item) => item.requestedAt as string);
    expect(requested).toEqual([...requested].sort());
    const first = await inbox(a, '?limit=1');
    const second = await inbox(a, `?limit=1&after=${first.next}`);
    expect([...first.data, ...second.data].map((item) => item.runId)).toEqual(all.slice(0, 2));
    const forged = await app.request('GET', '/api/approvals?after=not-a-cursor', { headers: a.headers });
    expect([forged.status, forged.body.error]).toEqual([400, 'invalid_query']);
    expect((await app.request('GET', '/api/approvals')).status).toBe(401);
  });
});

describe('deciding with the session cookie', () => {
  it('records the approver only when the request carries the CSRF proof', async () => {
    const cookie = { cookie: `thodare_session=${a.token}` };
    const forged = await waitingRun(a, 'Forged attribution?');
    expect((await app.request('POST', `/api/approvals/${forged.token}`, { headers: cookie, body: { approved: true } })).body).toMatchObject({ status: 'approved', by: null });
    const real = await waitingRun(a, 'From the console?');
    const res = await app.request('POST', `/api/approvals/${real.token}`, { headers: { ...cookie, 'x-thodare-csrf': '1' }, body: { approved: true } });
    expect(res.body).toMatchObject({ status: 'approved', by: a.userId });
    const again = await app.request('POST', `/api/approvals/${real.token}`, { headers: { ...cookie, 'x-thodare-csrf': '1' }, body: { approved: false } });
    expect([again.status, again.body.error]).toEqual([409, 'approval_decided']);
    expect((await waitForRun(app, a.headers, real.runId)).status).toBe('completed');
  });
});
