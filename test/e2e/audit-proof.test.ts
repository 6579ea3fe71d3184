import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyBundle } from '../../src/audit/bundle/verify-bundle';
import { BUNDLE_FORMAT, CHECKPOINTS_FILE, KEYS_FILE, MANIFEST_FILE, manifestDigest, START_FILE, type BundleManifest } from '../../src/audit/bundle/bundle-format';
import { TarFile, tarEnd, tarEntry } from '../../src/audit/bundle/tar';
import { CheckpointerService } from '../../src/audit/checkpointer.service';
import { canonicalJson } from '../../src/audit/proof/canonical';
import { auditSealerProjection } from '../../src/audit/sealer.projection';
import { EventStore } from '../../src/event-store/event-store';
import { SEALABLE_COLUMNS, sealableOf, type SealableRow } from '../../src/audit/sealable-events';
import { GENESIS_CHAIN, digestBytes, leafOf, nextChain } from '../../src/audit/proof/hash-chain';
import { MerkleFrontier } from '../../src/audit/proof/merkle';
import { auditKeyId } from '../../src/audit/proof/checkpoint';
import { startTestApp, type TestApp } from '../support/app';
import { addMember, createApiKey, signUp, type SignedUp } from '../support/auth';
import { orgEvents, waitSealedAndSigned } from '../support/audit';
import { runCli } from '../support/cli';
import { add, connect, createWorkflow, patchWorkflow } from '../support/run-api';
import { rebuildWhole } from '../support/database';
import { definitionStreamId } from '../../src/domain/run/run-definition';

// Proving the audit trail (issue 11): tampering as a superuser with the append-only trigger off is
// reported with its position and reason; an export verifies offline with only the public key, and
// any flipped byte of it fails, naming the file.

let app: TestApp;
let dir: string;

beforeAll(async () => {
  app = await startTestApp('audit_proof', { THODARE_AUDIT_SIGNING_KEY: randomBytes(32).toString('hex'), THODARE_AUDIT_CHECKPOINT_INTERVAL_MS: '100' });
  dir = mkdtempSync(join(tmpdir(), 'thodare-audit-'));
});
afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An organization with some history: a workflow named `name`, patched a few times. */
async function organizationWithHistory(name: string): Promise<SignedUp> {
  const owner = await signUp(app);
  const created = await app.request('POST', '/api/workflows', { headers: owner.headers, body: { name } });
  expect(created.status).toBe(201);
  await patchWorkflow(app, owner.headers, created.body.id, [add('a', 'transform', { value: 'one' })]);
  await patchWorkflow(app, owner.headers, created.body.id, [add('b', 'transform', { value: 'two' })]);
  await createWorkflow(app, owner.headers, [add('c', 'transform', { value: 'three' })]);
  await waitSealedAndSigned(app, owner);
  return owner;
}

/** Runs `sql` with the append-only triggers off, as a superuser could. */
async function asSuperuser(sql: string, params: unknown[] = []) {
  const client = await app.db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE events DISABLE TRIGGER USER');
    await client.query(sql, params);
    await client.query('ALTER TABLE events ENABLE TRIGGER USER');
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function sealOf(organizationId: string, where: string): Promise<{ sequence: number; position: number }> {
  const { rows } = await app.db.pool.query(
    `SELECT s.sequence, s.global_position FROM audit_seals s JOIN events e USING (global_position) WHERE s.organization_id = $1 AND ${where} ORDER BY s.sequence LIMIT 1`,
    [organizationId],
  );
  return { sequence: Number(rows[0].sequence), position: Number(rows[0].global_position) };
}

const verify = async (owner: SignedUp) => (await app.request('GET', '/api/audit/verify', { headers: owner.headers })).body;

describe('tampering is reported with its position and reason', () => {
  it('an intact organization verifies, and only its own events are checked', async () => {
    const owner = await organizationWithHistory('intact');
    const report = await verify(owner);
    expect(report).toMatchObject({ ok: true, checked: await orgEvents(app, owner.organizationId) });
    expect(report.brokenAt).toBeUndefined();
  });

  it('rebuilding the sealer from event zero gives the same seals, which still match the signed checkpoints', async () => {
    const owner = await organizationWithHistory('rebuilt');
    const snapshot = async () => ({
      seals: (await app.db.pool.query('SELECT organization_id, sequence, global_position, leaf, chain FROM audit_seals ORDER BY global_position')).rows,
      heads: (await app.db.pool.query('SELECT * FROM audit_heads ORDER BY organization_id')).rows,
    });
    // organizationWithHistory waited until every event was sealed, and nothing appends meanwhile.
    const live = await snapshot();
    await rebuildWhole(app.db.pool, new EventStore(app.db.pool, `${app.db.schema}.events`), auditSealerProjection);
    expect(await snapshot()).toEqual(live);
    expect(await verify(owner)).toMatchObject({ ok: true });
  });

  it('one changed byte in an event', async () => {
    const owner = await organizationWithHistory('audit-target-a');
    const target = await sealOf(owner.organizationId, `e.data::text LIKE '%audit-target-a%'`);
    await asSuperuser(`UPDATE events SET data = replace(data::text, 'audit-target-a', 'audit-target-b')::jsonb WHERE global_position = $1`, [target.position]);
    expect(await verify(owner)).toMatchObject({ ok: false, brokenAt: target, reason: 'leaf_mismatch', checked: target.sequence - 1 });
  });

  it('a deleted event', async () => {
    const owner = await organizationWithHistory('deleted');
    const target = await sealOf(owner.organizationId, `e.type = 'WorkflowPatched'`);
    await asSuperuser('DELETE FROM events WHERE global_position = $1', [target.position]);
    expect(await verify(owner)).toMatchObject({ ok: false, brokenAt: target, reason: 'event_missing' });
  });

  it('an edited chain hash', async () => {
    const owner = await organizationWithHistory('chain');
    const target = await sealOf(owner.organizationId, `s.sequence = 3`);
    await app.db.pool.query(`UPDATE audit_seals SET chain = set_byte(chain, 0, (get_byte(chain, 0) + 1) % 256) WHERE organization_id = $1 AND sequence = 3`, [owner.organizationId]);
    expect(await verify(owner)).toMatchObject({ ok: false, brokenAt: target, reason: 'chain_mismatch' });
  });

  it('a rewritten and re-chained history, without the signing key', async () => {
    const owner = await organizationWithHistory('audit-target-r');
    const target = await sealOf(owner.organizationId, `e.data::text LIKE '%audit-target-r%'`);
    await asSuperuser(`UPDATE events SET data = replace(data::text, 'audit-target-r', 'rewritten-name')::jsonb WHERE global_position = $1`, [target.position]);
    await rechain(owner.organizationId);
    // Every seal is consistent again; only the first signed checkpoint covering the edit can tell.
    const checkpoints = (await app.request('GET', '/api/audit/checkpoints?limit=1000', { headers: owner.headers })).body.data as Array<{ sequence: number }>;
    const covering = checkpoints.find((c) => c.sequence >= target.sequence)?.sequence;
    expect(covering).toBeDefined();
    expect(await verify(owner)).toMatchObject({ ok: false, reason: 'checkpoint_mismatch', brokenAt: { sequence: covering }, checked: covering });
  });
});

/** What an attacker with the database but not the key would do: recompute every leaf, chain value and the head. */
async function rechain(organizationId: string) {
  const { rows } = await app.db.pool.query<SealableRow & { sequence: string }>(
    `SELECT s.sequence, ${SEALABLE_COLUMNS} FROM audit_seals s JOIN events e USING (global_position) WHERE s.organization_id = $1 ORDER BY s.sequence`,
    [organizationId],
  );
  let chain = GENESIS_CHAIN;
  const frontier = MerkleFrontier.empty();
  for (const row of rows) {
    const leaf = leafOf(sealableOf(row));
    chain = nextChain(chain, leaf);
    frontier.append(leaf);
    await app.db.pool.query('UPDATE audit_seals SET leaf = $3, chain = $4 WHERE organization_id = $1 AND sequence = $2', [organizationId, row.sequence, digestBytes(leaf), digestBytes(chain)]);
  }
  await app.db.pool.query('UPDATE audit_heads SET chain = $2, merkle_frontier = $3 WHERE organization_id = $1', [organizationId, digestBytes(chain), frontier.encode()]);
}

describe('export and offline verification', () => {
  let owner: SignedUp;
  let bundle: string;
  let publicKey: string;
  const secretValue = `s3cret-${randomBytes(8).toString('hex')}`;
  let apiKey: string;

  beforeAll(async () => {
    owner = await organizationWithHistory('exported');
    apiKey = (await createApiKey(app, owner.headers, { name: 'exporter', role: 'admin' })).key;
    expect((await app.request('POST', '/api/secrets', { headers: owner.headers, body: { name: 'SLACK_TOKEN', value: secretValue } })).status).toBe(201);
    await waitSealedAndSigned(app, owner);
    const response = await fetch(`${app.url}/api/audit/export`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-tar');
    bundle = join(dir, 'bundle.tar');
    writeFileSync(bundle, Buffer.from(await response.arrayBuffer()));
    const keys = await app.request('GET', '/api/audit/keys', { headers: owner.headers });
    publicKey = keys.body.data.find((k: { current: boolean }) => k.current).publicKey;
  });

  it('verifies offline with the public key: `thodare audit verify` exits 0', async () => {
    const result = await runCli(['audit', 'verify', bundle, '--public-key', publicKey], {});
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, organizationId: owner.organizationId, events: await orgEvents(app, owner.organizationId), afterSequence: 0, trust: 'given-key' });
  });

  it('holds no secret, password, token or key', () => {
    const text = readFileSync(bundle, 'latin1');
    for (const value of [secretValue, owner.password, owner.token, apiKey]) expect(text).not.toContain(value);
  });

  it('a bundle signed by another key fails with the real public key', async () => {
    const other = Buffer.alloc(32, 7);
    const { ed25519PrivateKeyFromSeed, rawPublicKey } = await import('../../src/audit/proof/checkpoint');
    const result = await runCli(['audit', 'verify', bundle, '--public-key', rawPublicKey(ed25519PrivateKeyFromSeed(other)).toString('base64')], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('checkpoint_unknown_key');
  });

  it('one flipped byte anywhere fails and is named: exit 1 from the CLI', async () => {
    const bytes = readFileSync(bundle);
    const flipped = Buffer.from(bytes);
    const offset = bytes.indexOf(Buffer.from('"type":"WorkflowPatched"'));
    flipped[offset + 9] = (flipped[offset + 9] as number) ^ 0x01;
    const path = join(dir, 'flipped.tar');
    writeFileSync(path, flipped);
    const result = await runCli(['audit', 'verify', path, '--public-key', publicKey], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/events\/000001\.jsonl: digest_mismatch/);
  });

  it('every flipped byte of a sweep over the whole bundle is caught, in the file it lies in', () => {
    const bytes = readFileSync(bundle);
    const entries = tarLayout(bytes);
    const offsets = new Set<number>();
    for (let i = 0; i < 512; i++) offsets.add(i); // the first header, field by field
    for (const e of entries) for (const o of [e.header, e.start, e.start + e.size - 1, e.start + e.size]) if (o < bytes.length) offsets.add(o);
    for (let o = 0; o < bytes.length; o += 23) offsets.add(o); // a stride through everything else
    offsets.add(bytes.length - 1);
    const path = join(dir, 'sweep.tar');
    for (const offset of offsets) {
      const flipped = Buffer.from(bytes);
      flipped[offset] = (flipped[offset] as number) ^ 0x20;
      writeFileSync(path, flipped);
      const verdict = verifyBundle(path);
      expect({ offset, ok: verdict.ok }).toEqual({ offset, ok: false });
      const inside = entries.find((e) => offset >= e.start && offset < e.start + e.size);
      if (!verdict.ok) expect({ offset, file: verdict.problem.file }).toEqual({ offset, file: inside?.name ?? 'sweep.tar' });
    }
  });

  it('a bundle whose checkpoints are left out does not verify, though its chain and digests hold: unsigned_events', async () => {
    // The events' hash chain is anyone's to compute: before, such a bundle verified against the
    // operator's own public key, so a history made up whole would have passed.
    const path = rebundled(bundle, 'unsigned.tar', (files) => files.set(CHECKPOINTS_FILE, Buffer.alloc(0)));
    const result = await runCli(['audit', 'verify', path, '--public-key', publicKey], {});
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, problem: { file: CHECKPOINTS_FILE, reason: 'unsigned_events' } });
    expect(result.stderr).toContain('unsigned_events: no checkpoint signs the events after sequence 0');
  });

  it('files of another shape, their digests made to agree, are named invalid_structure rather than crash the verifier', () => {
    const json = (value: unknown) => Buffer.from(canonicalJson(value));
    const lines = (values: unknown[]) => Buffer.from(values.map((v) => `${canonicalJson(v)}\n`).join(''));
    const edit = (name: string, change: (value: Record<string, unknown>) => void) => (files: Map<string, Buffer>) => {
      const value = JSON.parse(files.get(name)!.toString('utf8'));
      change(value);
      files.set(name, json(value));
    };
    const firstEvent = (change: (line: Record<string, unknown>) => void) => (files: Map<string, Buffer>) => {
      const [first, ...rest] = files.get('events/000001.jsonl')!.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
      change(first);
      files.set('events/000001.jsonl', lines([first, ...rest]));
    };
    const cases: Array<[string, string, (files: Map<string, Buffer>) => void, ((manifest: Record<string, unknown>) => void)?]> = [
      ['manifest files not a list', MANIFEST_FILE, () => undefined, (m) => (m.files = 'all of them')],
      ['another format', MANIFEST_FILE, () => undefined, (m) => (m.format = 'thodare-audit-bundle/9')],
      ['start.json null', START_FILE, (files) => files.set(START_FILE, json(null))],
      ['a frontier of numbers', START_FILE, edit(START_FILE, (v) => (v.merkleFrontier = 5))],
      ['a start past every safe integer', START_FILE, edit(START_FILE, (v) => (v.afterSequence = 1e300))],
      ['a start after its end', START_FILE, edit(START_FILE, (v) => (v.throughSequence = -1))],
      ['keys as an object', KEYS_FILE, (files) => files.set(KEYS_FILE, json({ key: 1 }))],
      ['a key that is a number', KEYS_FILE, edit(KEYS_FILE, (v) => ((v as unknown as Array<Record<string, unknown>>)[0]!.publicKey = 123))],
      ['a null checkpoint', CHECKPOINTS_FILE, (files) => files.set(CHECKPOINTS_FILE, lines([null]))],
      ['a checkpoint with no fields', CHECKPOINTS_FILE, (files) => files.set(CHECKPOINTS_FILE, lines([{}]))],
      ['an event line with no fields', 'events/000001.jsonl', firstEvent((line) => Object.keys(line).forEach((k) => delete line[k]))],
      ['a leaf that is a number', 'events/000001.jsonl', firstEvent((line) => (line.leaf = 7))],
      ['an event that is a string', 'events/000001.jsonl', firstEvent((line) => (line.event = 'x'))],
    ];
    for (const [label, file, change, manifest] of cases) {
      const verdict = verifyBundle(rebundled(bundle, 'shaped.tar', change, manifest));
      expect({ label, verdict }).toMatchObject({ label, verdict: { ok: false, problem: { file, reason: 'invalid_structure' } } });
    }
  });

  it('an export leaves out the events no checkpoint signs yet, and verifies', async () => {
    const checkpointer = app.running.app.get(CheckpointerService);
    const owner = await organizationWithHistory('unsigned-tail');
    const signed = (await waitSealedAndSigned(app, owner)).lastCheckpoint.sequence as number;
    await checkpointer.onApplicationShutdown();
    try {
      await createWorkflow(app, owner.headers, [add('late', 'transform', { value: 'not signed yet' })]);
      const total = await orgEvents(app, owner.organizationId);
      while ((await app.request('GET', '/api/audit/verify', { headers: owner.headers })).body.sealedThrough < total) await new Promise((r) => setTimeout(r, 50));
      const response = await fetch(`${app.url}/api/audit/export`, { headers: owner.headers });
      const path = join(dir, 'tail.tar');
      writeFileSync(path, Buffer.from(await response.arrayBuffer()));
      // Before: it ran on to the last seal, and its newest events had no signature.
      expect(verifyBundle(path, [{ keyId: keyIdOf(publicKey), algorithm: 'Ed25519', publicKey }])).toMatchObject({ ok: true, events: signed, throughSequence: signed });
      expect(signed).toBeLessThan(total);
    } finally {
      await checkpointer.onApplicationBootstrap();
    }
  });

  it('a range exported from the middle verifies from its recorded start state', async () => {
    const { rows } = await app.db.pool.query(
      `SELECT e.recorded_at FROM audit_seals s JOIN events e USING (global_position) WHERE s.organization_id = $1 AND s.sequence = 4`,
      [owner.organizationId],
    );
    const from = (rows[0].recorded_at as Date).toISOString();
    const response = await fetch(`${app.url}/api/audit/export?from=${encodeURIComponent(from)}`, { headers: owner.headers });
    expect(response.status).toBe(200);
    const path = join(dir, 'range.tar');
    writeFileSync(path, Buffer.from(await response.arrayBuffer()));
    const verdict = verifyBundle(path, [{ keyId: keyIdOf(publicKey), algorithm: 'Ed25519', publicKey }]);
    expect(verdict).toMatchObject({ ok: true, afterSequence: 3, trust: 'given-key' });
  });

  it('checkpoints and keys are listed; a member may not read the audit proof', async () => {
    const checkpoints = await app.request('GET', '/api/audit/checkpoints?limit=1', { headers: owner.headers });
    expect(checkpoints.status).toBe(200);
    expect(checkpoints.body.data[0]).toMatchObject({ number: 1, organizationId: owner.organizationId, previousHash: null });
    if (checkpoints.body.next) {
      const second = await app.request('GET', `/api/audit/checkpoints?limit=1&after=${checkpoints.body.next}`, { headers: owner.headers });
      expect(second.body.data[0]).toMatchObject({ number: 2, previousHash: checkpoints.body.data[0].hash });
    }
    const member = await addMember(app, owner, 'member');
    for (const path of ['/api/audit/verify', '/api/audit/checkpoints', '/api/audit/keys', '/api/audit/export']) {
      expect((await app.request('GET', path, { headers: member.headers })).status).toBe(403);
    }
    expect((await app.request('GET', '/api/audit/export?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', { headers: owner.headers })).body.error).toBe('invalid_query');
  });
});

const keyIdOf = (publicKey: string) => auditKeyId(Buffer.from(publicKey, 'base64'));

/**
 * The bundle at `path` with its files changed by `change` (and its manifest by `manifest`), the
 * manifest's digests made to agree again: what a forger who writes bundles by hand can make.
 */
function rebundled(path: string, name: string, change: (files: Map<string, Buffer>) => void, manifest?: (value: Record<string, unknown>) => void): string {
  const tar = TarFile.open(path);
  const files = new Map(tar.entries.map((entry) => [entry.name, tar.read(entry)]));
  tar.close();
  files.delete(MANIFEST_FILE);
  change(files);
  const listed: Record<string, unknown> = {
    format: BUNDLE_FORMAT,
    organizationId: JSON.parse(files.get(START_FILE)!.toString('utf8'))?.organizationId ?? 'unknown',
    createdAt: new Date().toISOString(),
    files: [...files].map(([file, bytes]) => ({ name: file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length })),
  };
  manifest?.(listed);
  const digest = manifestDigest(listed as unknown as BundleManifest);
  const out = join(dir, name);
  writeFileSync(out, Buffer.concat([...[...files].flatMap(([file, bytes]) => tarEntry(file, bytes, 0)), ...tarEntry(MANIFEST_FILE, Buffer.from(canonicalJson({ ...listed, digest })), 0), tarEnd()]));
  return out;
}

/** Where each file of a tar archive lies: its header, and its contents. */
function tarLayout(bytes: Buffer): Array<{ name: string; header: number; start: number; size: number }> {
  const entries = [];
  for (let offset = 0; offset + 512 <= bytes.length && bytes[offset] !== 0; ) {
    const name = bytes.subarray(offset, offset + 100).toString('utf8').replace(/\0+$/, '');
    const size = parseInt(bytes.subarray(offset + 124, offset + 135).toString('ascii'), 8);
    entries.push({ name, header: offset, start: offset + 512, size });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

describe('run definitions in an export', () => {
  /** The organization's whole trail, exported and written to `name`. */
  async function exported(owner: SignedUp, name: string): Promise<string> {
    await waitSealedAndSigned(app, owner);
    const response = await fetch(`${app.url}/api/audit/export`, { headers: owner.headers });
    expect(response.status).toBe(200);
    const path = join(dir, name);
    writeFileSync(path, Buffer.from(await response.arrayBuffer()));
    return path;
  }

  it('verify recomputes each definition\'s name: one stored under another content\'s name fails, naming its line', async () => {
    const owner = await signUp(app);
    const id = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: 'honest' }), connect('start', 'echo')]);
    const run = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: owner.headers, body: {} });
    expect(run.body.status).toBe('completed');
    // The run's definition, as stored: honest, so the export verifies.
    const { rows } = await app.db.pool.query(`SELECT stream_id, data FROM events WHERE organization_id = $1 AND type = 'RunDefinitionRecorded'`, [owner.organizationId]);
    expect(rows).toHaveLength(1);
    expect(verifyBundle(await exported(owner, 'definitions-honest.tar'))).toMatchObject({ ok: true });

    // Another content under a name it does not hash to, written around the application (an
    // INSERT passes the append-only triggers): sealed like any event, so the chain holds.
    const forged = { ...rows[0].data, workflow: { ...rows[0].data.workflow, metadata: { name: 'forged', description: '' } } };
    const name = definitionStreamId('0'.repeat(64));
    await app.db.pool.query(`INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata) VALUES ($1, 1, $2, 'RunDefinitionRecorded', $3, '{}')`, [
      name,
      owner.organizationId,
      JSON.stringify(forged),
    ]);
    const verdict = verifyBundle(await exported(owner, 'definitions-forged.tar'));
    expect(verdict).toMatchObject({ ok: false, problem: { reason: 'definition_mismatch', file: 'events/000001.jsonl' } });
    if (!verdict.ok) expect(verdict.problem.entry).toMatch(/^line \d+ \(sequence \d+\)$/);
  });
});
