import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';

let app: TestApp;
let user: SignedUp;
beforeAll(async () => {
  app = await startTestApp('idempotency_expiry');
  user = await signUp(app);
});
afterAll(() => app.close());

const addOp = (id: string) => ({ ops: [{ operation_type: 'add', block_id: id, type: 'transform', params: { template: 'x' } }] });

it('remembers a patch Idempotency-Key for 24 hours, then frees it', async () => {
  const workflow = (await app.request('POST', '/api/workflows', { headers: user.headers, body: { name: 'w' } })).body;
  const patch = (body: unknown) =>
    app.request('POST', `/api/workflows/${workflow.id}/operations`, { headers: { ...user.headers, 'idempotency-key': 'k-1' }, body });

  expect((await patch(addOp('a'))).status).toBe(200);
  expect((await patch(addOp('b'))).status).toBe(409); // same key, other body, still remembered

  await app.db.pool.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour'`);
  const later = await patch(addOp('b'));
  expect(later.status).toBe(200);
  expect(later.body.workflow.blocks.map((b: { id: string }) => b.id)).toEqual(['a', 'b']);
  const { rows } = await app.db.pool.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE scope LIKE 'workflow-patch:%'`);
  expect(rows[0].n).toBe(1);
});
