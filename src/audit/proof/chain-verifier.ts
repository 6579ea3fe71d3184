import type { KeyObject } from 'node:crypto';
import { checkpointSignatureValid, type SignedCheckpoint } from './checkpoint';
import { digestHex, leafOf, nextChain, type Digest, type SealableEvent } from './hash-chain';
import type { MerkleFrontier } from './merkle';

/** Why verification stopped; stable codes that `GET /api/audit/verify` and the CLI report. */
export const AUDIT_BREAK_REASONS = [
  'sequence_gap', // a sequence number is missing or repeated
  'event_missing', // a sealed event is no longer in the store
  'event_mismatch', // the event's position or organization is not the one sealed
  'leaf_mismatch', // the event's bytes no longer hash to its sealed leaf (it was edited)
  'chain_mismatch', // a stored chain value is not SHA-256(previous chain ‖ leaf)
  'checkpoint_unknown_key', // a checkpoint names a key that is not trusted
  'checkpoint_signature_invalid', // a checkpoint's signature does not verify
  'checkpoint_link_broken', // a checkpoint does not name the one before it
  'checkpoint_mismatch', // the recomputed chain head or Merkle root differs from a signed checkpoint
  'checkpoint_beyond_seals', // a checkpoint covers events that are not there
] as const;
export type AuditBreakReason = (typeof AUDIT_BREAK_REASONS)[number];

export interface AuditBreak {
  sequence: number;
  /** The event's global position, when the break is at a known event. */
  position: number | null;
  reason: AuditBreakReason;
  message: string;
}

/** Where verification starts: the state just before the first entry it is given. */
export interface VerifyStart {
  sequence: number;
  chain: Digest;
  frontier: MerkleFrontier;
  /** The checkpoint before the first one given (number and hash), or none. */
  previousCheckpoint: { number: number; hash: string } | null;
}

/** One sealed event: its seal and the event as stored (null when the event is gone). */
export interface SealEntry {
  sequence: number;
  position: number;
  leaf: Digest;
  chain: Digest;
  event: SealableEvent | null;
}

/**
 * Recomputes an organization's hash chain and Merkle tree entry by entry, in sequence order,
 * and holds every signed checkpoint against them: the first entry or checkpoint that disagrees
 * is the break. The server's verify and the offline bundle verifier both use it, so both apply
 * exactly the same rules. Trusted keys are passed in: an offline verifier that is handed the
 * public key can tell a re-signed history from the real one.
 */
export class ChainVerifier {
  private sequence: number;
  private chain: Digest;
  private previous: { number: number; hash: string } | null;
  private readonly frontier: MerkleFrontier;
  private next = 0;
  private last: SealEntry | undefined;
  checked = 0;
  /** The last sequence a verified checkpoint signs (the start's until one does). */
  signedThrough: number;

  constructor(
    private readonly organizationId: string,
    start: VerifyStart,
    private readonly checkpoints: readonly SignedCheckpoint[],
    private readonly keys: ReadonlyMap<string, KeyObject>,
  ) {
    this.frontier = start.frontier.clone();
    this.sequence = start.sequence;
    this.chain = start.chain;
    this.previous = start.previousCheckpoint;
    this.signedThrough = start.sequence;
    while ((this.checkpoints[this.next]?.sequence ?? Infinity) <= start.sequence) this.next += 1;
  }

  add(entry: SealEntry): AuditBreak | undefined {
    const at = (reason: AuditBreakReason, message: string): AuditBreak => ({ sequence: entry.sequence, position: entry.position, reason, message });
    if (entry.sequence !== this.sequence + 1) return at('sequence_gap', `expected sequence ${this.sequence + 1}, found ${entry.sequence}`);
    const event = entry.event;
    if (!event) return at('event_missing', `the event at position ${entry.position} was sealed but is no longer stored`);
    if (event.position !== entry.position || event.organizationId !== this.organizationId) {
      return at('event_mismatch', `sealed position ${entry.position} of ${this.organizationId} holds position ${event.position} of ${event.organizationId}`);
    }
    if (leafOf(event) !== entry.leaf) return at('leaf_mismatch', `the event at position ${entry.position} changed after it was sealed`);
    const chain = nextChain(this.chain, entry.leaf);
    if (chain !== entry.chain) return at('chain_mismatch', `the chain value at sequence ${entry.sequence} is not SHA-256(previous chain ‖ leaf)`);
    this.sequence = entry.sequence;
    this.chain = chain;
    this.frontier.append(entry.leaf);
    this.checked += 1;
    this.last = entry;
    return this.checkpointsAt(entry);
  }

  /** After the last entry: a checkpoint that covers more than was given is a break too. */
  finish(): AuditBreak | undefined {
    const checkpoint = this.checkpoints[this.next];
    if (!checkpoint) return undefined;
    return {
      sequence: checkpoint.sequence,
      position: null,
      reason: 'checkpoint_beyond_seals',
      message: `checkpoint #${checkpoint.number} covers sequence ${checkpoint.sequence}, but the sealed events end at ${this.sequence}`,
    };
  }

  /** The last entry verified, if any. */
  get lastVerified(): SealEntry | undefined {
    return this.last;
  }

  private checkpointsAt(entry: SealEntry): AuditBreak | undefined {
    for (let checkpoint = this.checkpoints[this.next]; checkpoint?.sequence === entry.sequence; checkpoint = this.checkpoints[++this.next]) {
      const broken = this.checkCheckpoint(checkpoint);
      if (broken) return { sequence: entry.sequence, position: entry.position, ...broken };
      this.previous = { number: checkpoint.number, hash: checkpoint.hash };
      this.signedThrough = entry.sequence;
    }
    return undefined;
  }

  private checkCheckpoint(checkpoint: SignedCheckpoint): Pick<AuditBreak, 'reason' | 'message'> | undefined {
    const name = `checkpoint #${checkpoint.number}`;
    const key = this.keys.get(checkpoint.keyId);
    if (!key) return { reason: 'checkpoint_unknown_key', message: `${name} is signed by key ${checkpoint.keyId}, which is not trusted` };
    if (!checkpointSignatureValid(checkpoint, key)) return { reason: 'checkpoint_signature_invalid', message: `${name}'s signature does not verify with key ${checkpoint.keyId}` };
    if (checkpoint.organizationId !== this.organizationId) return { reason: 'checkpoint_mismatch', message: `${name} belongs to organization ${checkpoint.organizationId}` };
    if (this.previous && (checkpoint.previousHash !== this.previous.hash || checkpoint.number !== this.previous.number + 1)) {
      return { reason: 'checkpoint_link_broken', message: `${name} does not follow checkpoint #${this.previous.number}` };
    }
    if (!this.previous && checkpoint.number === 1 && checkpoint.previousHash !== null) {
      return { reason: 'checkpoint_link_broken', message: `${name} names a predecessor, but it is the first` };
    }
    if (checkpoint.chainHead !== digestHex(this.chain) || checkpoint.merkleRoot !== digestHex(this.frontier.root())) {
      const since = this.previous ? `after checkpoint #${this.previous.number}` : 'from the start';
      return { reason: 'checkpoint_mismatch', message: `the events up to sequence ${checkpoint.sequence} are not the ones ${name} signed: history ${since} was rewritten` };
    }
    return undefined;
  }
}
