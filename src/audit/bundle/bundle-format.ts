import { canonicalJson } from '../proof/canonical';
import { sha256, type SealableEvent } from '../proof/hash-chain';

/**
 * An audit bundle is a ustar archive of JCS-canonical JSON files, so every byte is determined
 * and any changed byte is caught (by the manifest, or as non-canonical JSON):
 *   start.json           where the range starts: chain value, Merkle frontier, previous checkpoint
 *   events/000001.jsonl  the events, EVENTS_PER_FILE per file, each with its sequence and hashes
 *   checkpoints.jsonl    the signed checkpoints inside the range
 *   keys.json            the public keys the server lists
 *   manifest.json        each file's SHA-256 and size, and a digest of the manifest itself
 */
export const BUNDLE_FORMAT = 'thodare-audit-bundle/1' as const;
export const EVENTS_PER_FILE = 10_000;
export const START_FILE = 'start.json';
export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
export const KEYS_FILE = 'keys.json';
export const MANIFEST_FILE = 'manifest.json';
export const eventsFile = (index: number): string => `events/${String(index).padStart(6, '0')}.jsonl`;

export interface BundleStart {
  organizationId: string;
  /** The range holds the events after this sequence… */
  afterSequence: number;
  /** …through this one. */
  throughSequence: number;
  /** Hex chain value and RFC 6962 frontier after `afterSequence`; proven by the first checkpoint in range. */
  chain: string;
  merkleFrontier: string;
  previousCheckpoint: { number: number; hash: string } | null;
  from: string | null;
  to: string | null;
}

export interface BundleEventLine {
  sequence: number;
  leaf: string;
  chain: string;
  event: SealableEvent;
}

export interface BundleFile {
  name: string;
  sha256: string;
  bytes: number;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  organizationId: string;
  createdAt: string;
  files: BundleFile[];
  /** Hex SHA-256 of the JCS manifest without this field. */
  digest: string;
}

export const manifestDigest = (manifest: Omit<BundleManifest, 'digest'>): string => {
  const { format, organizationId, createdAt, files } = manifest;
  return sha256(Buffer.from(canonicalJson({ format, organizationId, createdAt, files }))).toString('hex');
};

export const jsonFile = (value: unknown): Buffer => Buffer.from(canonicalJson(value));
export const jsonLine = (value: unknown): string => `${canonicalJson(value)}\n`;
