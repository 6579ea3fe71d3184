import { hashDigests, type Digest } from './hash-chain';

const LEAF_PREFIX = '\x00';
const NODE_PREFIX = '\x01';
const HASH_BYTES = 32;
/** RFC 6962 §2.1: the hash of an empty tree is SHA-256 of nothing. */
const EMPTY_TREE = hashDigests();

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf). */
export const merkleLeafHash = (leaf: Digest): Digest => hashDigests(LEAF_PREFIX, leaf);
/** RFC 6962 §2.1 interior node: SHA-256(0x01 ‖ left ‖ right). */
export const merkleNodeHash = (left: Digest, right: Digest): Digest => hashDigests(NODE_PREFIX, left, right);

/**
 * The RFC 6962 Merkle tree head over a growing list of leaves, kept in O(log n) space: the
 * roots of the perfect subtrees the leaves split into (one per set bit of n, largest first).
 * The tree head folds them from the right, which is exactly RFC 6962's split at the largest
 * power of two below n. Appending costs amortised O(1) hashes, so the sealer keeps one per
 * organization and a checkpoint's root never needs the whole history re-read.
 */
export class MerkleFrontier {
  private constructor(
    private count: number,
    private readonly subtrees: Digest[],
  ) {}

  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  /** From `encode()`: `size` leaves and their subtree roots concatenated, largest first. */
  static decode(size: number, encoded: Buffer): MerkleFrontier {
    const subtrees: Digest[] = [];
    for (let offset = 0; offset < encoded.length; offset += HASH_BYTES) subtrees.push(encoded.toString('latin1', offset, offset + HASH_BYTES));
    if (subtrees.length !== popCount(size)) throw new Error(`a Merkle frontier of ${size} leaves has ${popCount(size)} subtrees, not ${subtrees.length}`);
    return new MerkleFrontier(size, subtrees);
  }

  get size(): number {
    return this.count;
  }

  encode(): Buffer {
    return Buffer.from(this.subtrees.join(''), 'latin1');
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.count, [...this.subtrees]);
  }

  append(leaf: Digest): void {
    let hash = merkleLeafHash(leaf);
    // Merge equal-sized subtrees: one per trailing set bit of the old count.
    for (let size = this.count; size % 2 === 1; size = Math.floor(size / 2)) hash = merkleNodeHash(this.subtrees.pop() as Digest, hash);
    this.subtrees.push(hash);
    this.count += 1;
  }

  /** The tree head (MTH); SHA-256 of nothing for an empty tree, as RFC 6962 defines. */
  root(): Digest {
    if (this.subtrees.length === 0) return EMPTY_TREE;
    let hash = this.subtrees[this.subtrees.length - 1] as Digest;
    for (let i = this.subtrees.length - 2; i >= 0; i--) hash = merkleNodeHash(this.subtrees[i] as Digest, hash);
    return hash;
  }
}

function popCount(n: number): number {
  let bits = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) bits += rest % 2;
  return bits;
}
