import { createHash, type KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import type { z } from 'zod';
import { canonicalJson } from '../proof/canonical';
import { ChainVerifier, type AuditBreak } from '../proof/chain-verifier';
import { ed25519PublicKeyFromRaw, type AuditPublicKey } from '../proof/checkpoint';
import { digestFromHex } from '../proof/hash-chain';
import { MerkleFrontier } from '../proof/merkle';
import { digestOfDefinitionStream, type RunDefinition } from '../../domain/run/run-definition';
import { definitionDigest } from '../../run-queue/run-definitions';
import { issuesText } from '../../domain/zod-issues';
import { CHECKPOINTS_FILE, KEYS_FILE, MANIFEST_FILE, manifestDigest, START_FILE, type BundleEventLine, type BundleStart } from './bundle-format';
import { checkpointSchema, eventLineSchema, keysSchema, manifestSchema, startSchema } from './bundle-schemas';
import { TarFile, TarFormatError, type TarEntryInfo } from './tar';

export interface BundleProblem {
  /** The file inside the bundle (or the bundle itself) where the first problem is. */
  file: string;
  /** The entry inside it: `line 12 (sequence 4711)`, `checkpoint #3`, `byte 1536`. */
  entry?: string;
  reason: string;
  message: string;
}

export type BundleVerdict =
  | { ok: true; organizationId: string; events: number; afterSequence: number; throughSequence: number; checkpoints: number; trust: 'given-key' | 'bundle-keys' }
  | { ok: false; problem: BundleProblem };

class Broken extends Error {
  constructor(readonly problem: BundleProblem) {
    super(problem.message);
  }
}

const fail = (file: string, reason: string, message: string, entry?: string): never => {
  throw new Broken({ file, reason, message, ...(entry ? { entry } : {}) });
};

/**
 * Verifies an audit bundle offline: the archive's structure, the manifest's own digest and
 * every file's SHA-256, that every JSON text is canonical, then the hash chain, the Merkle
 * roots and the checkpoint signatures — with `trustedKeys` when given (only the operator's
 * public key proves anything), else with the keys the bundle carries.
 */
export function verifyBundle(path: string, trustedKeys?: readonly AuditPublicKey[]): BundleVerdict {
  let tar: TarFile | undefined;
  try {
    try {
      tar = TarFile.open(path);
    } catch (error) {
      if (error instanceof TarFormatError) fail(basename(path), 'archive_corrupt', error.message, `byte ${error.offset}`);
      throw error;
    }
    return verifyContents(tar, trustedKeys);
  } catch (error) {
    if (error instanceof Broken) return { ok: false, problem: error.problem };
    throw error;
  } finally {
    tar?.close();
  }
}

function verifyContents(tar: TarFile, trustedKeys: readonly AuditPublicKey[] | undefined): BundleVerdict {
  const find = (name: string): TarEntryInfo => tar.entries.find((e) => e.name === name) ?? fail(name, 'missing_file', `the bundle has no ${name}`);
  const manifest = parseJson(MANIFEST_FILE, tar.read(find(MANIFEST_FILE)).toString('utf8'), manifestSchema);
  if (manifest.digest !== manifestDigest(manifest)) fail(MANIFEST_FILE, 'digest_mismatch', 'the manifest does not match its own digest');
  for (const entry of tar.entries) {
    if (entry.name === MANIFEST_FILE) continue;
    const listed = manifest.files.find((f) => f.name === entry.name) ?? fail(entry.name, 'unexpected_file', `${entry.name} is not in the manifest`);
    const digest = createHash('sha256').update(tar.read(entry)).digest('hex');
    if (digest !== listed.sha256 || entry.size !== listed.bytes) fail(entry.name, 'digest_mismatch', `${entry.name} does not match the SHA-256 in the manifest`);
  }
  for (const listed of manifest.files) find(listed.name);

  const start = parseJson(START_FILE, tar.read(find(START_FILE)).toString('utf8'), startSchema);
  const bundleKeys = parseJson(KEYS_FILE, tar.read(find(KEYS_FILE)).toString('utf8'), keysSchema);
  const keys = keyMap(trustedKeys ?? bundleKeys);
  const checkpoints = parseLines(CHECKPOINTS_FILE, tar.read(find(CHECKPOINTS_FILE)).toString('utf8'), checkpointSchema).map(([, c]) => c);
  const frontier = frontierOf(start);
  const verifier = new ChainVerifier(start.organizationId, { sequence: start.afterSequence, chain: digestFromHex(start.chain), frontier, previousCheckpoint: start.previousCheckpoint }, checkpoints, keys);

  const eventFiles = tar.entries.filter((e) => e.name.startsWith('events/')).map((e) => e.name).sort();
  for (const name of eventFiles) {
    for (const [line, value] of parseLines(name, tar.read(find(name)).toString('utf8'), eventLineSchema)) {
      const entry = { sequence: value.sequence, position: value.event?.position ?? -1, leaf: digestFromHex(value.leaf), chain: digestFromHex(value.chain), event: value.event };
      const broken = verifier.add(entry);
      if (broken) report(broken, name, `line ${line} (sequence ${value.sequence})`);
      checkDefinition(value.event, name, `line ${line} (sequence ${value.sequence})`);
    }
  }
  const beyond = verifier.finish();
  if (beyond) report(beyond, CHECKPOINTS_FILE, `sequence ${beyond.sequence}`);
  const last = verifier.lastVerified?.sequence ?? start.afterSequence;
  if (last !== start.throughSequence) fail(eventFiles.at(-1) ?? START_FILE, 'truncated', `the events end at sequence ${last}, but the bundle says ${start.throughSequence}`);
  // A chain anyone can compute proves nothing by itself: only a signed checkpoint ties the events
  // to the key. A bundle of events no checkpoint covers (its checkpoints left out, or a history
  // made up whole) would otherwise verify, even against the operator's own public key.
  if (verifier.signedThrough < last) {
    fail(CHECKPOINTS_FILE, 'unsigned_events', `no checkpoint signs the events after sequence ${verifier.signedThrough} (through ${last})`);
  }
  return {
    ok: true,
    organizationId: start.organizationId,
    events: verifier.checked,
    afterSequence: start.afterSequence,
    throughSequence: start.throughSequence,
    checkpoints: checkpoints.length,
    trust: trustedKeys ? 'given-key' : 'bundle-keys',
  };
}

/** The Merkle frontier after `afterSequence`, as the start file holds it: one subtree per bit of the size. */
function frontierOf(start: BundleStart): MerkleFrontier {
  try {
    return MerkleFrontier.decode(start.afterSequence, Buffer.from(start.merkleFrontier, 'hex'));
  } catch (error) {
    return fail(START_FILE, 'invalid_structure', `${START_FILE}: merkleFrontier: ${(error as Error).message}`);
  }
}

/**
 * A run start names its pinned workflow by the SHA-256 of a definition event's content
 * (`run-definition.ts`): the chain proves the event was stored as it is, this proves it holds the
 * content its name promises. A definition written around the application under another
 * content's name seals like any event, and would be the workflow of every run that names it.
 */
function checkDefinition(event: BundleEventLine['event'] | null, file: string, entry: string): void {
  if (event?.type !== 'RunDefinitionRecorded') return;
  const named = digestOfDefinitionStream(event.streamId);
  if (named !== undefined && definitionDigest(event.data as RunDefinition) !== named) fail(file, 'definition_mismatch', `run definition ${named} does not hold the content it names`, entry);
}

/** A checkpoint's own problems are named in checkpoints.jsonl; a mismatch, at the event where it shows. */
function report(broken: AuditBreak, file: string, entry: string): never {
  const inCheckpoints = broken.reason.startsWith('checkpoint_') && broken.reason !== 'checkpoint_mismatch';
  return fail(inCheckpoints ? CHECKPOINTS_FILE : file, broken.reason, broken.message, inCheckpoints ? `the checkpoint at sequence ${broken.sequence}` : entry);
}

function keyMap(keys: readonly AuditPublicKey[]): Map<string, KeyObject> {
  return new Map(keys.map((k) => [k.keyId, ed25519PublicKeyFromRaw(Buffer.from(k.publicKey, 'base64'))]));
}

/** JSON that must be exactly its JCS form (anything else means the bytes were changed) and of `schema`'s shape. */
function parseJson<T>(file: string, text: string, schema: z.ZodType<T>, entry?: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(file, 'invalid_json', `${file} is not valid JSON${entry ? ` at ${entry}` : ''}`, entry);
  }
  if (canonicalJson(value) !== text) fail(file, 'not_canonical', `${file} is not in canonical (JCS) form${entry ? ` at ${entry}` : ''}`, entry);
  const parsed = schema.safeParse(value);
  if (!parsed.success) return fail(file, 'invalid_structure', `${file}${entry ? ` at ${entry}` : ''} is not what a bundle holds there: ${issuesText(parsed.error.issues, 'the value')}`, entry);
  return parsed.data;
}

function parseLines<T>(file: string, text: string, schema: z.ZodType<T>): Array<[number, T]> {
  if (text === '') return [];
  if (!text.endsWith('\n')) fail(file, 'not_canonical', `${file} does not end with a newline`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i): [number, T] => [i + 1, parseJson(file, line, schema, `line ${i + 1}`)]);
}
