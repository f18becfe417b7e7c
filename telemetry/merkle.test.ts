// Tests of the RFC 6962 Merkle tree: the transparency-dev proof vectors, the 8-leaf RFC 6962 test
// tree, every proof of every tree up to 40 leaves, the incremental tree against rootOf, an
// independent MTH written from the RFC text, sizes beyond 2^32, and properties that a proof
// checked against another leaf, index, size or root fails.
import { describe, it, expect } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import fc from "fast-check";
import {
  EMPTY_ROOT,
  MerkleTree,
  consistencyProof,
  fromHex,
  inclusionProof,
  leafHash,
  nodeHash,
  rootOf,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from "./merkle.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const merkleData = resolve(repoRoot, "../shared/testdata/merkle");

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));
const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** MTH straight from RFC 9162 §2.1.1 over leaf bytes, with node:crypto: an oracle independent of merkle.ts. */
function referenceRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return sha256(Uint8Array.of(0), leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Uint8Array.of(1), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

// The RFC 6962 test tree's leaves (transparency-dev/merkle), as hex.
const RFC6962_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(fromHex);
const rfcLeafHashes = RFC6962_LEAVES.map(leafHash);

function listJson(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json")).sort();
}

interface InclusionCase { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean }
interface ConsistencyCase { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean }

describe("transparency-dev/merkle proof vectors", () => {
  const inclusionFiles = listJson(join(merkleData, "inclusion"));
  const consistencyFiles = listJson(join(merkleData, "consistency"));

  it("has all 98 + 98 cases", () => {
    expect(inclusionFiles.length).toBe(98);
    expect(consistencyFiles.length).toBe(98);
  });

  it("verifyInclusion agrees with every inclusion case", () => {
    const wrong: string[] = [];
    for (const file of inclusionFiles) {
      const c = JSON.parse(readFileSync(join(merkleData, "inclusion", file), "utf8")) as InclusionCase;
      const ok = verifyInclusion(b64(c.leafHash), c.leafIdx, c.treeSize, (c.proof ?? []).map(b64), b64(c.root));
      if (ok !== !c.wantErr) wrong.push(`${file} (${c.desc}): got ${ok}`);
    }
    expect(wrong).toEqual([]);
  });

  it("verifyConsistency agrees with every consistency case", () => {
    const wrong: string[] = [];
    for (const file of consistencyFiles) {
      const c = JSON.parse(readFileSync(join(merkleData, "consistency", file), "utf8")) as ConsistencyCase;
      const ok = verifyConsistency(c.size1, c.size2, (c.proof ?? []).map(b64), b64(c.root1), b64(c.root2));
      if (ok !== !c.wantErr) wrong.push(`${file} (${c.desc}): got ${ok}`);
    }
    expect(wrong).toEqual([]);
  });

  it("our generated proofs equal the happy-path proofs over the RFC 6962 test tree", () => {
    for (const dir of ["0", "1", "2", "3", "4"]) {
      const inc = JSON.parse(readFileSync(join(merkleData, "inclusion", dir, "happy-path.json"), "utf8")) as InclusionCase;
      expect(toHex(rfcLeafHashes[inc.leafIdx])).toBe(toHex(b64(inc.leafHash)));
      expect(toHex(rootOf(rfcLeafHashes.slice(0, inc.treeSize)))).toBe(toHex(b64(inc.root)));
      expect(inclusionProof(rfcLeafHashes, inc.leafIdx, inc.treeSize).map(toHex)).toEqual((inc.proof ?? []).map((p) => toHex(b64(p))));
      const con = JSON.parse(readFileSync(join(merkleData, "consistency", dir, "happy-path.json"), "utf8")) as ConsistencyCase;
      expect(consistencyProof(rfcLeafHashes, con.size1, con.size2).map(toHex)).toEqual((con.proof ?? []).map((p) => toHex(b64(p))));
    }
  });
});

describe("hashes and roots", () => {
  it("hashes leaves and nodes with RFC 6962 domain separation", () => {
    expect(toHex(EMPTY_ROOT)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(leafHash(new Uint8Array(0)))).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    const a = leafHash(fromHex("00"));
    const b = leafHash(fromHex("10"));
    expect(nodeHash(a, b)).toEqual(sha256(Uint8Array.of(1), a, b));
    expect(leafHash(fromHex("2021"))).toEqual(sha256(fromHex("002021")));
    expect(() => nodeHash(a, a.subarray(1))).toThrow(RangeError);
  });

  it("hashes leaves of any length, long then short, without leftovers from earlier calls", () => {
    for (const length of [0, 1, 600, 1023, 1024, 1025, 5000, 70_000, 3, 2048, 0]) {
      const leaf = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 255);
      expect(toHex(leafHash(leaf))).toBe(toHex(sha256(Uint8Array.of(0), leaf)));
    }
  });

  it("gives the RFC 6962 test tree its published size-8 root", () => {
    expect(Buffer.from(rootOf(rfcLeafHashes)).toString("base64")).toBe("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
    expect(rootOf([])).toEqual(EMPTY_ROOT);
  });

  it("rootOf and MerkleTree.root() equal the RFC definition for every size up to 70", () => {
    const leaves = Array.from({ length: 70 }, (_, i) => Uint8Array.of(i, i * 7, 255 - i));
    const hashes = leaves.map(leafHash);
    const tree = new MerkleTree();
    expect(tree.size).toBe(0);
    expect(tree.root()).toEqual(EMPTY_ROOT);
    for (let n = 1; n <= leaves.length; n++) {
      tree.append(hashes[n - 1]);
      const want = toHex(referenceRoot(leaves.slice(0, n)));
      expect(tree.size).toBe(n);
      expect(toHex(tree.root())).toBe(want);
      expect(toHex(rootOf(hashes.slice(0, n)))).toBe(want);
    }
  });

  it("does not let a caller's later changes to a hash or a returned root alter the tree", () => {
    const tree = new MerkleTree();
    const h = leafHash(Uint8Array.of(1));
    tree.append(h);
    const before = toHex(tree.root());
    h.fill(0);
    tree.root().fill(0);
    expect(toHex(tree.root())).toBe(before);
    expect(() => tree.append(new Uint8Array(31))).toThrow(RangeError);
  });
});

describe("generated proofs", () => {
  const N = 40;
  const hashes = Array.from({ length: N }, (_, i) => leafHash(Uint8Array.of(i, 0xaa)));
  const roots = Array.from({ length: N + 1 }, (_, n) => rootOf(hashes.slice(0, n)));

  it("every inclusion proof of every tree up to 40 leaves verifies, and only at its own index", () => {
    for (let size = 1; size <= N; size++) {
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(hashes, index, size);
        expect(verifyInclusion(hashes[index], index, size, proof, roots[size])).toBe(true);
        const other = (index + 1) % size;
        if (other !== index) expect(verifyInclusion(hashes[other], other, size, proof, roots[size])).toBe(false);
      }
    }
  });

  it("every consistency proof between sizes up to 40 verifies", () => {
    for (let n = 1; n <= N; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(hashes, m, n);
        if (m === n) expect(proof).toEqual([]);
        expect(verifyConsistency(m, n, proof, roots[m], roots[n])).toBe(true);
        if (m < n) expect(verifyConsistency(m, n, proof, roots[n], roots[m])).toBe(false);
      }
    }
  });

  it("proof lengths are logarithmic", () => {
    expect(inclusionProof(hashes, 0, 32).length).toBe(5);
    expect(inclusionProof(hashes, 39, 40).length).toBe(4); // 3 inside the last subtree of 8, plus the first 32
    expect(consistencyProof(hashes, 32, 40).length).toBe(1);
  });

  it("refuses bad indexes and sizes with RangeError", () => {
    expect(() => inclusionProof(hashes, 5, 5)).toThrow(RangeError);
    expect(() => inclusionProof(hashes, -1, 5)).toThrow(RangeError);
    expect(() => inclusionProof(hashes, 0, N + 1)).toThrow(RangeError);
    expect(() => inclusionProof(hashes, 0.5, 5)).toThrow(RangeError);
    expect(() => inclusionProof(hashes, 0, 0)).toThrow(RangeError);
    expect(() => consistencyProof(hashes, 0, 5)).toThrow(RangeError);
    expect(() => consistencyProof(hashes, 6, 5)).toThrow(RangeError);
    expect(() => consistencyProof(hashes, 1, N + 1)).toThrow(RangeError);
    expect(() => consistencyProof(hashes, NaN, 5)).toThrow(RangeError);
  });
});

describe("verifiers on hostile input", () => {
  const h = leafHash(Uint8Array.of(1));
  it("return false, never throw", () => {
    const junk: unknown[] = [null, undefined, "x", 1, {}, [], new Uint8Array(31), new Uint8Array(33), [null], ["x"]];
    for (const j of junk) {
      expect(verifyInclusion(j as Hash, 0, 1, [], h)).toBe(false);
      expect(verifyInclusion(h, 0, 1, [], j as Hash)).toBe(false);
      expect(verifyInclusion(h, 0, 2, j as Hash[], h)).toBe(false);
      expect(verifyConsistency(1, 2, j as Hash[], h, h)).toBe(false);
      expect(verifyConsistency(1, 2, [h], j as Hash, h)).toBe(false);
    }
    for (const bad of [NaN, -1, 0.5, Infinity, 2 ** 53, "1" as unknown as number]) {
      expect(verifyInclusion(h, bad, 1, [], h)).toBe(false);
      expect(verifyInclusion(h, 0, bad, [], h)).toBe(false);
      expect(verifyConsistency(bad, 1, [], h, h)).toBe(false);
      expect(verifyConsistency(1, bad, [h], h, h)).toBe(false);
    }
    expect(verifyInclusion(h, 0, 1, [], h)).toBe(true);
    expect(verifyInclusion(h, 0, 1, [h], h)).toBe(false); // too long a proof
  });
});

describe("trees beyond 32-bit sizes", () => {
  // A perfect tree of 2^k copies of one leaf has root p[k], p[0] = leaf, p[i+1] = node(p[i], p[i]).
  const leaf = leafHash(Uint8Array.of(7));
  const perfect: Hash[] = [leaf];
  for (let i = 0; i < 40; i++) perfect.push(nodeHash(perfect[i], perfect[i]));

  it("verifies proofs in trees of 2^33 and 2^33 + 1 leaves", () => {
    const size = 2 ** 33;
    const path = perfect.slice(0, 33);
    expect(verifyInclusion(leaf, 0, size, path, perfect[33])).toBe(true);
    expect(verifyInclusion(leaf, size - 1, size, path, perfect[33])).toBe(true);
    expect(verifyInclusion(leaf, 2 ** 32, size, path, perfect[33])).toBe(true);
    // One more leaf: the old tree is the left child of the new root.
    const root = nodeHash(perfect[33], leaf);
    expect(verifyInclusion(leaf, 0, size + 1, [...path, leaf], root)).toBe(true);
    expect(verifyInclusion(leaf, size, size + 1, [perfect[33]], root)).toBe(true);
    expect(verifyInclusion(leaf, size, size + 2, [perfect[33]], root)).toBe(false);
    expect(verifyConsistency(size, size + 1, [leaf], perfect[33], root)).toBe(true);
    expect(verifyConsistency(2 ** 31, size, perfect.slice(31, 33), perfect[31], perfect[33])).toBe(true);
  });
});

describe("properties: a proof checked against anything else fails", () => {
  const MAX = 64;
  const hashes = Array.from({ length: MAX }, (_, i) => leafHash(Uint8Array.of(i, 0x55)));
  const roots = Array.from({ length: MAX + 1 }, (_, n) => rootOf(hashes.slice(0, n)));
  const flip = (h: Hash, bit: number): Hash => {
    const copy = h.slice();
    copy[(bit >> 3) % 32] ^= 1 << (bit & 7);
    return copy;
  };

  it("inclusion: another leaf, index, size (with its real root) or root, or a changed proof", () => {
    const input = fc
      .integer({ min: 1, max: MAX })
      .chain((size) => fc.record({ size: fc.constant(size), index: fc.nat(size - 1), other: fc.nat(MAX - 1), bit: fc.nat(255), pick: fc.nat(40) }));
    fc.assert(
      fc.property(input, ({ size, index, other, bit, pick }) => {
        const proof = inclusionProof(hashes, index, size);
        expect(verifyInclusion(hashes[index], index, size, proof, roots[size])).toBe(true);
        if (other !== index) {
          expect(verifyInclusion(hashes[other], index, size, proof, roots[size])).toBe(false);
          if (other < size) expect(verifyInclusion(hashes[index], other, size, proof, roots[size])).toBe(false);
        }
        const otherSize = other + 1;
        if (otherSize !== size && index < otherSize) expect(verifyInclusion(hashes[index], index, otherSize, proof, roots[otherSize])).toBe(false);
        expect(verifyInclusion(hashes[index], index, size, proof, flip(roots[size], bit))).toBe(false);
        expect(verifyInclusion(flip(hashes[index], bit), index, size, proof, roots[size])).toBe(false);
        if (proof.length > 0) {
          const at = pick % proof.length;
          const changed = proof.map((p, i) => (i === at ? flip(p, bit) : p));
          expect(verifyInclusion(hashes[index], index, size, changed, roots[size])).toBe(false);
          expect(verifyInclusion(hashes[index], index, size, proof.slice(0, -1), roots[size])).toBe(false);
        }
        expect(verifyInclusion(hashes[index], index, size, [...proof, hashes[0]], roots[size])).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it("consistency: other sizes (with their real roots), a changed root or a changed proof", () => {
    const input = fc
      .integer({ min: 2, max: MAX })
      .chain((n) => fc.record({ n: fc.constant(n), m: fc.integer({ min: 1, max: n - 1 }), other: fc.integer({ min: 1, max: MAX }), bit: fc.nat(255), pick: fc.nat(40) }));
    fc.assert(
      fc.property(input, ({ n, m, other, bit, pick }) => {
        const proof = consistencyProof(hashes, m, n);
        expect(verifyConsistency(m, n, proof, roots[m], roots[n])).toBe(true);
        if (other !== m && other < n) expect(verifyConsistency(other, n, proof, roots[other], roots[n])).toBe(false);
        if (other !== n && other > m) expect(verifyConsistency(m, other, proof, roots[m], roots[other])).toBe(false);
        expect(verifyConsistency(m, n, proof, flip(roots[m], bit), roots[n])).toBe(false);
        expect(verifyConsistency(m, n, proof, roots[m], flip(roots[n], bit))).toBe(false);
        const at = pick % proof.length;
        expect(verifyConsistency(m, n, proof.map((p, i) => (i === at ? flip(p, bit) : p)), roots[m], roots[n])).toBe(false);
        expect(verifyConsistency(m, n, proof.slice(1), roots[m], roots[n])).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});

describe("hex", () => {
  it("round-trips and refuses what is not hex", () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromHex(toHex(bytes))).toEqual(bytes);
    expect(toHex(bytes)).toBe(Buffer.from(bytes).toString("hex"));
    expect(fromHex("ABcd")).toEqual(Uint8Array.of(0xab, 0xcd));
    expect(fromHex("")).toEqual(new Uint8Array(0));
    for (const bad of ["a", "zz", "0x00", " 00", "0 0"]) expect(() => fromHex(bad)).toThrow(RangeError);
  });
});
