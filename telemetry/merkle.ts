// RFC 6962 / RFC 9162 §2.1 Merkle tree over the audit log's leaves: leaf hashes -> tree roots,
// inclusion proofs (audit paths) and consistency proofs, and their verifiers.
//
//   leaf hash = SHA-256(0x00 || leaf bytes)
//   node hash = SHA-256(0x01 || left || right)
//   MTH({})   = SHA-256("")
//   MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])), k = largest power of two < n
//
// Implementation notes:
// - Sizes and indexes are JS numbers: every operation uses division, never the 32-bit `>>`,
//   so they are exact up to 2^53 - 1.
// - Proof generation (PATH and SUBPROOF, RFC 9162 §2.1.3.1 / §2.1.4.1) hashes each leaf range at
//   most once: O(n) hashing for one proof. Callers that need many proofs of one big tree should
//   keep their own subtree cache.
// - The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 literally, plus the rules of the
//   transparency-dev vectors (/work/shared/testdata/merkle/README.md): a consistency proof from size
//   0 is rejected, equal sizes need an empty proof and equal roots (of any length, as there), every
//   other hash must be 32 bytes.
//   They return false for any bad input and never throw.
// - MerkleTree keeps the compact range: the roots of the perfect subtrees whose sizes are the set
//   bits of `size`, biggest first. append is amortised O(1) hashes, root() O(log n).
// - No `node:` imports: this file runs in Node, Deno and browsers.
import { sha256 } from "@noble/hashes/sha2.js";

/** A 32-byte SHA-256 tree hash. */
export type Hash = Uint8Array;

const HASH_SIZE = 32;
// Input buffers reused across calls (one allocation less per hash): sha256 is synchronous, so
// no two calls can interleave. The leaf buffer grows to the largest leaf seen, up to a cap.
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;
const MAX_REUSED_LEAF = 64 * 1024;
let leafInput = new Uint8Array(1024);

/** SHA-256(0x00 || leaf): the RFC 6962 hash of one leaf. */
export function leafHash(leaf: Uint8Array): Hash {
  if (leaf.length >= leafInput.length) {
    if (leaf.length >= MAX_REUSED_LEAF) {
      const input = new Uint8Array(leaf.length + 1);
      input.set(leaf, 1);
      return sha256(input);
    }
    leafInput = new Uint8Array(Math.min(MAX_REUSED_LEAF, Math.max(leaf.length + 1, leafInput.length * 2)));
  }
  leafInput[0] = 0x00;
  leafInput.set(leaf, 1);
  return sha256(leafInput.subarray(0, leaf.length + 1));
}

/** SHA-256(0x01 || left || right): the RFC 6962 hash of an interior node. */
export function nodeHash(left: Hash, right: Hash): Hash {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new RangeError("tree hashes must have 32 bytes");
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/** SHA-256(""): the root of the empty tree. */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

/** Root of the tree over these leaf hashes (MTH). */
export function rootOf(leafHashes: readonly Hash[]): Hash {
  return leafHashes.length === 0 ? EMPTY_ROOT.slice() : ownRangeRoot(leafHashes, 0, leafHashes.length);
}

/** Incremental tree (compact range): append leaf hashes one by one; root() at the current size in O(log n). */
export class MerkleTree {
  // INVARIANT: stack[i] is the root of a perfect subtree; their sizes are the set bits of `count`
  // from the highest down, and they cover the leaves in order.
  private readonly stack: Hash[] = [];
  private count = 0;
  // 0x01 ‖ left ‖ right, reused for every interior node.
  private readonly input = new Uint8Array(65);

  /**
   * `hash` is the SHA-256 to use (default @noble/hashes); a Node writer or verifier passes
   * node:crypto's, which is several times faster for these 65-byte inputs.
   */
  constructor(private readonly hash: (bytes: Uint8Array) => Uint8Array = sha256) {
    this.input[0] = 0x01;
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.count;
  }

  /** Add the next leaf (its leaf hash, not its bytes). */
  append(leafHash: Hash): void {
    if (leafHash.length !== HASH_SIZE) throw new RangeError("leaf hashes must have 32 bytes");
    let node: Hash = leafHash.slice();
    // Each trailing 1 bit of the old size is a same-sized subtree that the new one completes.
    for (let bits = this.count; bits % 2 === 1; bits = (bits - 1) / 2) {
      node = this.node(this.stack.pop()!, node);
    }
    this.stack.push(node);
    this.count++;
  }

  /** Root of the tree over every leaf appended so far (EMPTY_ROOT when there are none). */
  root(): Hash {
    if (this.stack.length === 0) return EMPTY_ROOT.slice();
    let root = this.stack[this.stack.length - 1];
    for (let i = this.stack.length - 2; i >= 0; i--) root = this.node(this.stack[i], root);
    // A copy, and a plain Uint8Array even when the hash returns Buffers (whose slice() is a view).
    return new Uint8Array(root);
  }

  private node(left: Hash, right: Hash): Hash {
    this.input.set(left, 1);
    this.input.set(right, 33);
    return this.hash(this.input);
  }
}

/** Inclusion proof (audit path) of leaf `index` in the tree of the first `size` leaves. Throws RangeError on bad index/size. */
export function inclusionProof(leafHashes: readonly Hash[], index: number, size: number): Hash[] {
  checkSize(size, leafHashes.length, "size");
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is outside a tree of ${size} leaves`);
  }
  const proof: Hash[] = [];
  path(leafHashes, index, 0, size, proof);
  return proof;
}

/** Consistency proof between sizes m and n (0 < m <= n <= leafHashes.length). */
export function consistencyProof(leafHashes: readonly Hash[], m: number, n: number): Hash[] {
  checkSize(n, leafHashes.length, "size");
  if (!Number.isSafeInteger(m) || m < 1 || m > n) {
    throw new RangeError(`consistency proofs need 0 < m <= n, got m = ${m}, n = ${n}`);
  }
  const proof: Hash[] = [];
  subproof(leafHashes, m, 0, n, true, proof);
  return proof;
}

/** RFC 9162 §2.1.3.2; false (never throws) for any bad input: wrong lengths, index >= size, etc. */
export function verifyInclusion(leafHash: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  try {
    if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof)) return false;
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
    let fn = index;
    let sn = size - 1;
    let r = leafHash;
    for (const p of proof) {
      if (!isHash(p) || sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(p, r);
        // A right-edge node with no sibling at this level: climb until it is a right child.
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      } else {
        r = nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equalBytes(r, root);
  } catch {
    return false;
  }
}

/** RFC 9162 §2.1.4.2, with the rules in /work/shared/testdata/merkle/README.md (size1 == 0 rejected; size1 == size2 needs empty proof and equal roots). */
export function verifyConsistency(size1: number, size2: number, proof: readonly Hash[], root1: Hash, root2: Hash): boolean {
  try {
    if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array) || !Array.isArray(proof)) return false;
    if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size1 > size2) return false;
    // Same size: nothing to prove, the roots must simply be equal (as in transparency-dev, whose
    // vectors accept this even for roots that are not 32 bytes long).
    if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
    if (!isHash(root1) || !isHash(root2)) return false;
    if (proof.length === 0) return false;
    for (const p of proof) if (!isHash(p)) return false;
    // When the old tree is a perfect subtree of the new one, its root is the proof's missing first node.
    const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
    let fn = size1 - 1;
    let sn = size2 - 1;
    while (fn % 2 === 1) {
      fn = (fn - 1) / 2;
      sn = Math.floor(sn / 2);
    }
    let fr = path[0];
    let sr = path[0];
    for (let i = 1; i < path.length; i++) {
      const c = path[i];
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
  } catch {
    return false;
  }
}

const HEX_DIGITS = "0123456789abcdef";

/** Lower-case hex of the bytes. */
export function toHex(h: Uint8Array): string {
  let out = "";
  for (let i = 0; i < h.length; i++) out += HEX_DIGITS[h[i] >> 4] + HEX_DIGITS[h[i] & 15];
  return out;
}

/** Bytes of a hex string (either case). Throws RangeError for odd length or a non-hex character. */
export function fromHex(s: string): Uint8Array {
  if (typeof s !== "string" || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new RangeError("not a hex string: expected an even number of 0-9 a-f characters");
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

// --- helpers ---

function checkSize(size: number, available: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > available) {
    throw new RangeError(`${what} ${size} is outside 0..${available} (the number of leaf hashes given)`);
  }
}

function isHash(h: unknown): h is Hash {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function isPowerOfTwo(n: number): boolean {
  while (n % 2 === 0 && n > 1) n /= 2;
  return n === 1;
}

/** Largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** rangeRoot as a hash the caller may keep and change: a one-leaf range gives a copy of the leaf. */
function ownRangeRoot(leafHashes: readonly Hash[], start: number, end: number): Hash {
  const root = rangeRoot(leafHashes, start, end);
  return end - start === 1 ? root.slice() : root;
}

/** MTH of leafHashes[start, end), end > start. For one leaf, that leaf's own array (not a copy). */
function rangeRoot(leafHashes: readonly Hash[], start: number, end: number): Hash {
  const n = end - start;
  if (n === 1) {
    const leaf = leafHashes[start];
    if (!isHash(leaf)) throw new RangeError(`leaf hash ${start} does not have 32 bytes`);
    return leaf;
  }
  const k = splitPoint(n);
  return nodeHash(rangeRoot(leafHashes, start, start + k), rangeRoot(leafHashes, start + k, end));
}

/** PATH(m, D[start:end]) of RFC 9162 §2.1.3.1 for m = index - start, appended to `out` leaf-first. */
function path(leafHashes: readonly Hash[], index: number, start: number, end: number, out: Hash[]): void {
  const n = end - start;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (index - start < k) {
    path(leafHashes, index, start, start + k, out);
    out.push(ownRangeRoot(leafHashes, start + k, end));
  } else {
    path(leafHashes, index, start + k, end, out);
    out.push(ownRangeRoot(leafHashes, start, start + k));
  }
}

/** SUBPROOF(m, D[start:end], b) of RFC 9162 §2.1.4.1, appended to `out`. */
function subproof(leafHashes: readonly Hash[], m: number, start: number, end: number, complete: boolean, out: Hash[]): void {
  const n = end - start;
  if (m === n) {
    if (!complete) out.push(ownRangeRoot(leafHashes, start, end));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(leafHashes, m, start, start + k, complete, out);
    out.push(ownRangeRoot(leafHashes, start + k, end));
  } else {
    subproof(leafHashes, m - k, start + k, end, false, out);
    out.push(ownRangeRoot(leafHashes, start, start + k));
  }
}
