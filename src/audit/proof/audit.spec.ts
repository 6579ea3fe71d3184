import { createHash, generateKeyPairSync } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { ChainVerifier, type SealEntry } from './chain-verifier';
import { publicKeyView, signCheckpoint, type SignedCheckpoint } from './checkpoint';
import { GENESIS_CHAIN, digestBytes, digestHex, digestOf, hashDigests, leafOf, nextChain, sha256, type Digest, type SealableEvent } from './hash-chain';
import { MerkleFrontier, merkleLeafHash, merkleNodeHash } from './merkle';

/** RFC 6962 §2.1, written as the RFC states it (recursive split at the largest power of two below n). */
function referenceTreeHead(leaves: Digest[]): Digest {
  if (leaves.length === 0) return digestOf(sha256(''));
  if (leaves.length === 1) return merkleLeafHash(leaves[0] as Digest);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return merkleNodeHash(referenceTreeHead(leaves.slice(0, k)), referenceTreeHead(leaves.slice(k)));
}

const leaf = (i: number) => digestOf(sha256(`leaf ${i}`));

describe('MerkleFrontier', () => {
  it('gives the RFC 6962 tree head for every size from 0 to 70, and survives encode/decode', () => {
    const frontier = MerkleFrontier.empty();
    const leaves: Digest[] = [];
    for (let n = 0; n <= 70; n++) {
      expect(digestHex(frontier.root())).toBe(digestHex(referenceTreeHead(leaves)));
      expect(MerkleFrontier.decode(n, frontier.encode()).root()).toBe(frontier.root());
      leaves.push(leaf(n));
      frontier.append(leaf(n));
    }
  });

  it('refuses a frontier whose subtree count does not fit its size', () => {
    expect(() => MerkleFrontier.decode(3, Buffer.alloc(32))).toThrow(/2 subtrees/);
  });
});

function event(position: number, organizationId = 'org-a'): SealableEvent {
  return { position, streamId: `s-${position}`, streamVersion: 1, organizationId, type: 'Happened', data: { n: position }, metadata: { actor: { type: 'system', id: 't' } }, recordedAt: '2026-12-02T10:00:00.123456Z' };
}

describe('hashes', () => {
  const reference = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

  it('hashes digests as their bytes laid end to end, up to the scratch buffer, and refuses more', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 4 }), (arrays) => {
        const parts = arrays.map((a) => Buffer.from(a));
        expect(digestBytes(hashDigests(...parts.map(digestOf))).equals(reference(Buffer.concat(parts)))).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(() => hashDigests(...Array.from({ length: 5 }, (_, i) => digestOf(Buffer.alloc(32, i))))).toThrow(RangeError);
  });

  it('converts digests to bytes and hex and back unchanged', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (array) => {
        const bytes = Buffer.from(array);
        expect(digestBytes(digestOf(bytes)).equals(bytes)).toBe(true);
        expect(digestHex(digestOf(bytes))).toBe(bytes.toString('hex'));
      }),
    );
  });

  it("gives a leaf the SHA-256 of the canonicalize package's JCS of the eight members, and nothing else", () => {
    const anyJson = fc.jsonValue({ maxDepth: 3 });
    const anyEvent = fc.record({ position: fc.nat(), streamId: fc.string(), streamVersion: fc.nat(), organizationId: fc.string(), type: fc.string(), data: anyJson, metadata: anyJson, recordedAt: fc.string() });
    fc.assert(
      fc.property(anyEvent, (e) => {
        expect(digestBytes(leafOf({ ...e, extra: 'not sealed' } as SealableEvent)).equals(reference(Buffer.from(canonicalize(e) as string)))).toBe(true);
      }),
      { numRuns: 1000 },
    );
    // Every seal already written hashes these bytes: one event's leaf, pinned (a known answer).
    expect(digestHex(leafOf(event(7)))).toBe('cbcb0e46ea5e83212f8d079a4af1c9c976ee16a497af23fa3ee5e60031726da1');
  });
});

/** A sealed history of `n` events, with a checkpoint signed at each sequence in `at`. */
function history(n: number, at: number[], key = generateKeyPairSync('ed25519').privateKey) {
  const entries: SealEntry[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  const frontier = MerkleFrontier.empty();
  let chain: Digest = GENESIS_CHAIN;
  for (let sequence = 1; sequence <= n; sequence++) {
    const e = event(100 + sequence);
    const l = leafOf(e);
    chain = nextChain(chain, l);
    frontier.append(l);
    entries.push({ sequence, position: e.position, leaf: l, chain, event: e });
    if (at.includes(sequence)) {
      const previous = checkpoints.at(-1);
      checkpoints.push(
        signCheckpoint(
          { version: 1, organizationId: 'org-a', number: checkpoints.length + 1, sequence, chainHead: digestHex(chain), merkleRoot: digestHex(frontier.root()), previousHash: previous?.hash ?? null, keyId: publicKeyView(key).keyId, createdAt: '2026-12-02T10:00:00.000Z' },
          key,
        ),
      );
    }
  }
  return { entries, checkpoints, keys: new Map([[publicKeyView(key).keyId, key]]) };
}

function verify(entries: SealEntry[], checkpoints: SignedCheckpoint[], keys: Map<string, import('node:crypto').KeyObject>) {
  const verifier = new ChainVerifier('org-a', { sequence: 0, chain: GENESIS_CHAIN, frontier: MerkleFrontier.empty(), previousCheckpoint: null }, checkpoints, keys);
  for (const entry of entries) {
    const broken = verifier.add(entry);
    if (broken) return broken;
  }
  return verifier.finish() ?? { ok: verifier.checked };
}

describe('ChainVerifier', () => {
  it('accepts an intact history with its checkpoints', () => {
    const { entries, checkpoints, keys } = history(9, [4, 9]);
    expect(verify(entries, checkpoints, keys)).toEqual({ ok: 9 });
  });

  it('names the first broken entry for each kind of tampering', () => {
    const { entries, checkpoints, keys } = history(9, [4, 9]);
    const edited = entries.map((e) => (e.sequence === 3 ? { ...e, event: { ...(e.event as SealableEvent), data: { n: 'x' } } } : e));
    expect(verify(edited, checkpoints, keys)).toMatchObject({ sequence: 3, position: 103, reason: 'leaf_mismatch' });
    expect(verify(entries.filter((e) => e.sequence !== 5), checkpoints, keys)).toMatchObject({ sequence: 6, reason: 'sequence_gap' });
    expect(verify(entries.map((e) => (e.sequence === 7 ? { ...e, event: null } : e)), checkpoints, keys)).toMatchObject({ sequence: 7, reason: 'event_missing' });
    expect(verify(entries.map((e) => (e.sequence === 2 ? { ...e, chain: digestOf(Buffer.alloc(32, 1)) } : e)), checkpoints, keys)).toMatchObject({ sequence: 2, reason: 'chain_mismatch' });
  });

  it('catches a rewritten and re-chained history at the next checkpoint, and a forged signature', () => {
    const real = history(9, [4, 9]);
    // Event 6 edited, then its leaf and every later chain value recomputed: only the checkpoint knows.
    let chain = (real.entries[4] as SealEntry).chain;
    const rechained = real.entries.map((e) => {
      if (e.sequence < 6) return e;
      const edited = e.sequence === 6 ? { ...(e.event as SealableEvent), data: { n: 'forged' } } : (e.event as SealableEvent);
      chain = nextChain(chain, leafOf(edited));
      return { ...e, event: edited, leaf: leafOf(edited), chain };
    });
    expect(verify(rechained, real.checkpoints, real.keys)).toMatchObject({ sequence: 9, reason: 'checkpoint_mismatch' });
    const rewritten = history(9, [4, 9]); // re-signed with an attacker's key
    expect(verify(rewritten.entries, rewritten.checkpoints, real.keys)).toMatchObject({ sequence: 4, reason: 'checkpoint_unknown_key' });
    const badSignature = real.checkpoints.map((c) => (c.number === 2 ? { ...c, createdAt: '2026-12-03T00:00:00.000Z' } : c));
    expect(verify(real.entries, badSignature, real.keys)).toMatchObject({ sequence: 9, reason: 'checkpoint_signature_invalid' });
    expect(verify(real.entries.slice(0, 8), real.checkpoints, real.keys)).toMatchObject({ sequence: 9, reason: 'checkpoint_beyond_seals' });
  });
});
