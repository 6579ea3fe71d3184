import { Pool } from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';

// `GET /api/audit/verify` recomputes an organization's whole chain on the serving process (minutes
// of CPU for a trail of millions). Measured before its bound (300,000 events, four at once):
// another organization's plain read took 0.8-1.4 s. Now one runs per organization and two per
// instance here (THODARE_MAX_AUDIT_VERIFICATIONS), the others are 429 audit_busy.
let app: TestApp;
let a: SignedUp;
let b: SignedUp;
let c: SignedUp;

beforeAll(async () => {
  app = await startTestApp('audit_verify_busy', { THODARE_MAX_AUDIT_VERIFICATIONS: '2' });
  [a, b, c] = [await signUp(app), await signUp(app), await signUp(app)];
});
afterAll(async () => {
  await app?.close();
});

interface VerifyAnswer {
  status: number;
  headers: Headers;
  body: { ok?: boolean; sealedThrough?: number; error?: string; retryAfterMs?: number };
}

const verify = (owner: SignedUp, signal?: AbortSignal): Promise<VerifyAnswer> =>
  fetch(`${app.url}/api/audit/verify`, { headers: owner.headers, ...(signal ? { signal } : {}) }).then(async (res) => ({ status: res.status, headers: res.headers, body: (await res.json()) as VerifyAnswer['body'] }));

/** Holds every read of seal entries (the verification's pages) until `open()`; `waiting()` counts the reads held. */
function holdSealReads(): { waiting: () => number; open: () => void; restore: () => void } {
  const pool = app.running.app.get(Pool);
  const query = pool.query;
  let held = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  pool.query = (async (config: unknown, values?: unknown) => {
    const text = typeof config === 'string' ? config : (config as { text?: string }).text;
    if (text?.includes('FROM audit_seals s LEFT JOIN LATERAL')) {
      held += 1;
      await gate;
    }
    return (query as (c: unknown, v?: unknown) => Promise<unknown>).call(pool, config, values);
  }) as typeof pool.query;
  return { waiting: () => held, open, restore: () => (pool.query = query) };
}

async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let tries = 0; !(await check()); tries += 1) {
    if (tries > 400) throw new Error('never happened');
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('runs one verification per organization and two per instance; the others are 429 audit_busy until a place frees', async () => {
  // Every organization's sign-up events sealed, so a verification reads seals.
  for (const owner of [a, b, c]) await eventually(async () => ((await verify(owner)).body.sealedThrough ?? 0) > 0);

  const reads = holdSealReads();
  try {
    const left = new AbortController();
    const first = verify(a, left.signal).catch((error: unknown) => error);
    await eventually(() => reads.waiting() === 1);
    const again = await verify(a);
    expect(again.status).toBe(429);
    expect(again.body).toMatchObject({ error: 'audit_busy', retryAfterMs: 5000 });
    expect(again.headers.get('retry-after')).toBe('5');

    const second = verify(b);
    await eventually(() => reads.waiting() === 2);
    const third = await verify(c);
    expect(third.status).toBe(429);
    expect(third.body.error).toBe('audit_busy');

    // A's client leaves; B's verification ends normally.
    left.abort();
    expect((await first as { name?: string }).name).toBe('AbortError');
    reads.open();
    const answered = await second;
    expect(answered.status).toBe(200);
    expect(answered.body.ok).toBe(true);
  } finally {
    reads.restore();
  }
  // Both places are free again.
  await eventually(async () => (await verify(c)).status === 200);
  const afterwards = await verify(a);
  expect(afterwards.status).toBe(200);
  expect(afterwards.body.ok).toBe(true);
});
