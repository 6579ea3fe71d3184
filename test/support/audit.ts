import type { TestApp } from './app';
import type { SignedUp } from './auth';

/** How many events `organizationId` has in the store. */
export async function orgEvents(app: TestApp, organizationId: string): Promise<number> {
  const { rows } = await app.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE organization_id = $1', [organizationId]);
  return rows[0]!.n;
}

/** Until every event of the owner's organization is sealed and covered by a checkpoint; the last verify report. */
export async function waitSealedAndSigned(app: TestApp, owner: SignedUp, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const report = await app.request('GET', '/api/audit/verify', { headers: owner.headers });
    const total = await orgEvents(app, owner.organizationId);
    if (report.body.sealedThrough === total && report.body.lastCheckpoint?.sequence === total) return report.body;
    if (Date.now() > until) throw new Error(`not sealed and signed in time: ${report.text} (events: ${total})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
