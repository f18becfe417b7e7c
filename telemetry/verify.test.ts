// Tests of the auditor (telemetry/verify.ts): a log written by AuditLog verifies; each kind of
// tampering (docs/telemetry.md §4) is reported with its kind at the line it happened; random
// tampering (fast-check) is always caught near where it happened; the tree helper agrees with
// merkle.ts.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalize } from "./jcs.ts";
import { ed25519Signer, parseCheckpoint, signCheckpoint } from "./checkpoint.ts";
import { EMPTY_ROOT, leafHash, MerkleTree, rootOf } from "./merkle.ts";
import { nodeSha256, nodeVerifySignature } from "./log.ts";
import { lineLeafHash, verifyLog, type Finding, type Segment, type VerifyOptions } from "./verify.ts";
import { linesOf, readLog, segmentOf, TEST_PUBLIC_KEY, TEST_SEED, writeTestLog } from "./testing/logs.ts";
import { generateKeyPair } from "./keys.ts";

const fast: VerifyOptions = { sha256: nodeSha256, verifySignature: nodeVerifySignature() };

let root: string;
// 30 records, a checkpoint after every 10: record k is on line k + 1 + floor(k / 10), checkpoints on 11, 22, 33.
let base: Segment;
let baseLines: string[];
const recordLine = (k: number): number => k + 1 + Math.floor(k / 10);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "aegis-verify-"));
  writeTestLog(join(root, "base"), 30);
  [base] = readLog(join(root, "base"));
  baseLines = linesOf(base);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Verify the base log after `edit` changed its lines (1-based line numbers in `edit` helpers). */
function verifyEdited(edit: (lines: string[]) => void, options: VerifyOptions = {}): ReturnType<typeof verifyLog> {
  const lines = [...baseLines];
  edit(lines);
  return verifyLog([segmentOf(base.name, lines)], TEST_PUBLIC_KEY, { ...fast, ...options });
}

const errors = (findings: Finding[]): Finding[] => findings.filter((f) => f.severity === "error");
const brief = (findings: Finding[]): string[] => findings.map((f) => `${f.line}:${f.kind}:${f.severity}`);

function resign(line: string, change: (cp: { origin: string; size: number; root: Uint8Array }) => void, seed: Uint8Array = TEST_SEED): string {
  const { note, ts } = JSON.parse(line) as { note: string; ts: string };
  const cp = parseCheckpoint(note).checkpoint;
  change(cp);
  return canonicalize({ type: "checkpoint", ts, note: signCheckpoint(cp, ed25519Signer(cp.origin, seed)) });
}

describe("an untampered log", () => {
  it("verifies with the public key, counting leaves and checkpoints", () => {
    const result = verifyLog([base], TEST_PUBLIC_KEY);
    expect(result).toMatchObject({ ok: true, leaves: 30, checkpoints: 3, findings: [] });
    expect(result.lastCheckpoint?.size).toBe(30);
  });

  it("gives the same result with node:crypto hashing and signatures as with the platform-neutral defaults", () => {
    const tampered = [...baseLines];
    tampered[5] = tampered[5].replace('"tool":"payments"', '"tool":"payment"');
    for (const segment of [base, segmentOf(base.name, tampered)]) {
      expect(verifyLog([segment], TEST_PUBLIC_KEY, fast)).toEqual(verifyLog([segment], TEST_PUBLIC_KEY));
    }
  });

  it("fails every checkpoint with another key", () => {
    const other = generateKeyPair("pem").publicKey;
    const result = verifyLog([base], other, fast);
    expect(result.ok).toBe(false);
    expect(brief(errors(result.findings))).toEqual(["11:bad_signature:error", "22:bad_signature:error", "33:bad_signature:error"]);
    expect(result.findings[0].message).toBe("checkpoint is not signed by this key");
  });

  it("rejects checkpoints of another origin when the origin is given", () => {
    const result = verifyLog([base], TEST_PUBLIC_KEY, { ...fast, origin: "example.com/other" });
    expect(errors(result.findings).map((f) => f.kind)).toEqual(["bad_signature", "bad_signature", "bad_signature"]);
    expect(result.findings[0].message).toMatch(/not `example.com\/other`/);
  });

  it("warns about records after the last checkpoint (they cannot be proven yet) without failing", () => {
    const result = verifyEdited((lines) => lines.splice(32, 1)); // drop the final checkpoint
    expect(result.ok).toBe(true);
    expect(brief(result.findings)).toEqual(["23:unsigned_tail:warning"]);
    expect(result.lastCheckpoint?.size).toBe(20);
  });

  it("verifies an empty log", () => {
    expect(verifyLog([], TEST_PUBLIC_KEY)).toMatchObject({ ok: true, leaves: 0, checkpoints: 0, findings: [] });
  });
});

describe("tampering is reported with its kind and line", () => {
  it("modified: an edited field of record k names line k", () => {
    for (const k of [0, 4, 9, 15, 28]) {
      const result = verifyEdited((lines) => {
        lines[recordLine(k) - 1] = lines[recordLine(k) - 1].replace(/"decision":"[a-z_]+"/, '"decision":"allow","enforced":false');
      });
      expect(brief(errors(result.findings)), `record ${k}`).toEqual([`${recordLine(k)}:modified:error`]);
      expect(result.ok).toBe(false);
    }
  });

  it("modified: the last record before the final checkpoint (nothing after it to check its hash)", () => {
    const result = verifyEdited((lines) => {
      lines[31] = lines[31].replace('"host":"node"', '"host":"deno"');
    });
    expect(brief(errors(result.findings))).toEqual(["32:modified:error"]);
    expect(result.findings[0].message).toMatch(/does not match the signed checkpoint at aegis-000001.jsonl:33/);
  });

  it("modified: an edited `prev` or `seq` names that record, not its neighbours", () => {
    const prev = verifyEdited((lines) => {
      lines[5] = lines[5].replace(/"prev":"[0-9a-f]/, '"prev":"f');
    });
    const seq = verifyEdited((lines) => {
      lines[5] = lines[5].replace('"seq":5', '"seq":7');
    });
    expect(brief(errors(prev.findings))).toEqual(["6:modified:error"]);
    expect(brief(errors(seq.findings))).toEqual(["6:modified:error"]);
  });

  it("inserted: a copied record, a forged record and a foreign line are each named", () => {
    const copy = verifyEdited((lines) => lines.splice(8, 0, lines[2]));
    expect(brief(errors(copy.findings))).toEqual(["9:inserted:error"]);
    expect(copy.findings[0].message).toMatch(/copy of aegis-000001.jsonl:3/);

    const forged = verifyEdited((lines) => {
      const record = JSON.parse(lines[3]) as Record<string, unknown>;
      lines.splice(4, 0, canonicalize({ ...record, seq: 4, decision: "allow" }));
    });
    expect(brief(errors(forged.findings))).toEqual(["5:inserted:error"]);

    const garbage = verifyEdited((lines) => lines.splice(14, 0, "rm -rf /"));
    expect(brief(errors(garbage.findings))).toEqual(["15:unparsable:error"]);
  });

  it("deleted: the record after the gap is named, and the checkpoint that covered it", () => {
    const one = verifyEdited((lines) => lines.splice(recordLine(5) - 1, 1));
    expect(brief(errors(one.findings))).toEqual(["6:deleted:error", "10:truncated:error"]);
    expect(one.findings[0].message).toBe("record 5 is missing before this line");
    const several = verifyEdited((lines) => lines.splice(recordLine(12) - 1, 3));
    expect(brief(errors(several.findings))).toEqual(["14:deleted:error", "19:truncated:error"]);
    expect(several.findings[0].message).toBe("records 12–14 are missing before this line");
  });

  it("reordered: both swapped records are named", () => {
    const result = verifyEdited((lines) => {
      const [a, b] = [recordLine(3) - 1, recordLine(7) - 1];
      [lines[a], lines[b]] = [lines[b], lines[a]];
    });
    expect(brief(errors(result.findings))).toEqual(["4:reordered:error", "8:reordered:error"]);
    expect(result.findings[0].message).toMatch(/record 7 is out of order \(it belongs after record 6 at aegis-000001.jsonl:7\)/);
  });

  it("reordered: a checkpoint line moved", () => {
    const result = verifyEdited((lines) => {
      const [checkpoint] = lines.splice(21, 1);
      lines.splice(25, 0, checkpoint);
    });
    expect(brief(errors(result.findings))).toEqual(["26:reordered:error"]);
  });

  it("truncated: records cut from the end of a checkpointed range", () => {
    const result = verifyEdited((lines) => lines.splice(recordLine(18) - 1, 2));
    expect(brief(errors(result.findings))).toContain("20:truncated:error");
    expect(result.findings.find((f) => f.kind === "truncated")!.message).toBe("checkpoint for 20 leaves comes after only 18 leaves: 2 records are missing");
  });

  it("truncated: the tail cut off with its checkpoint is only found against an external checkpoint", () => {
    const note = (JSON.parse(baseLines[32]) as { note: string }).note;
    const cut = (lines: string[]) => lines.splice(26, Infinity, ""); // keep lines 1..26 (records 0..23)
    expect(verifyEdited(cut).ok).toBe(true);
    const result = verifyEdited(cut, { checkpoint: note, checkpointFile: "witness.note" });
    expect(brief(errors(result.findings))).toEqual(["26:truncated:error"]);
    expect(result.findings.find((f) => f.kind === "truncated")!.message).toMatch(/ends after 24 leaves, but `witness.note` is signed for 30: 6 records are missing/);
  });

  it("an external checkpoint that the log matches is accepted; one it contradicts is reported", () => {
    const note = (JSON.parse(baseLines[21]) as { note: string }).note;
    expect(verifyLog([base], TEST_PUBLIC_KEY, { ...fast, checkpoint: note }).ok).toBe(true);
    const wrong = (JSON.parse(resign(baseLines[21], (cp) => (cp.root = EMPTY_ROOT))) as { note: string }).note;
    const result = verifyLog([base], TEST_PUBLIC_KEY, { ...fast, checkpoint: wrong, checkpointFile: "w.note" });
    expect(result.findings).toEqual([{ kind: "inconsistent_checkpoint", severity: "error", file: "w.note", line: 1, message: "the first 20 leaves of the log do not have the root `w.note` signs" }]);
    const forged = verifyLog([base], TEST_PUBLIC_KEY, { ...fast, checkpoint: note.replace(/ [A-Za-z0-9+/]{10}/, " AAAAAAAAAA"), checkpointFile: "w.note" });
    expect(brief(forged.findings)).toEqual(["1:bad_signature:error"]);
  });

  it("bad_signature: an altered signature, a checkpoint signed by another key, a malformed note", () => {
    const altered = verifyEdited((lines) => {
      lines[21] = lines[21].replace(/(— \S+ [A-Za-z0-9+/]{20})[A-Za-z0-9+/]/, (_, head: string) => head + (head.endsWith("A") ? "B" : "A"));
    });
    expect(brief(errors(altered.findings))).toEqual(["22:bad_signature:error"]);
    const otherKey = verifyEdited((lines) => {
      lines[21] = resign(lines[21], () => {}, generateKeyPair("pem").seed);
    });
    expect(brief(errors(otherKey.findings))).toEqual(["22:bad_signature:error"]);
    const malformed = verifyEdited((lines) => {
      lines[21] = canonicalize({ type: "checkpoint", ts: "x", note: "not a note" });
    });
    expect(brief(errors(malformed.findings))).toEqual(["22:bad_signature:error"]);
  });

  it("inconsistent_checkpoint: re-signed with the right key but a wrong root", () => {
    const result = verifyEdited((lines) => {
      lines[21] = resign(lines[21], (cp) => (cp.root = leafHash(new TextEncoder().encode("x"))));
    });
    expect(brief(errors(result.findings))).toEqual(["22:inconsistent_checkpoint:error"]);
  });

  it("torn: a final line without a newline, and a final line that is not JSON", () => {
    const partial = verifyEdited((lines) => {
      lines[33] = '{"action":"create_pay';
    });
    expect(brief(partial.findings)).toEqual(["34:torn:error"]);
    expect(partial.findings[0].message).toBe("final line is torn (21 bytes without a complete record) and no recovery record admits it");
    const garbage = verifyEdited((lines) => lines.splice(33, 0, "\u0000\u0000\u0000"));
    expect(brief(garbage.findings)).toEqual(["34:torn:error"]);
  });

  it("unparsable: a line in the middle that is not a record", () => {
    for (const [text, problem] of [["not json", "not valid JSON"], ['{"type":"note","seq":1}', "unknown record type `note`"], ["[]", "not a JSON object"]]) {
      const result = verifyEdited((lines) => {
        lines[recordLine(13) - 1] = text;
      });
      expect(brief(errors(result.findings)), text).toEqual(["15:unparsable:error"]);
      expect(result.findings[0].message).toContain(problem);
    }
  });

  it("reports every finding in a log tampered in several places, in file order", () => {
    const result = verifyEdited((lines) => {
      lines[2] = lines[2].replace('"rule":"rule-2"', '"rule":"rule-9"');
      lines[17] = "garbage";
      lines[28] = lines[28].replace('"eval_ns":1026', '"eval_ns":1');
    });
    expect(brief(errors(result.findings))).toEqual(["3:modified:error", "18:unparsable:error", "29:modified:error"]);
  });

  it("names the files of a multi-segment log", () => {
    const dir = join(root, "segments");
    writeTestLog(dir, 40, { maxSegmentBytes: 6000 });
    const segments = readLog(dir);
    expect(segments.length).toBeGreaterThan(3);
    expect(verifyLog(segments, TEST_PUBLIC_KEY, fast).ok).toBe(true);
    const lines = linesOf(segments[2]);
    lines[1] = lines[1].replace('"tool":"payments"', '"tool":"x"');
    const tampered = [...segments];
    tampered[2] = segmentOf(segments[2].name, lines);
    const result = verifyLog(tampered, TEST_PUBLIC_KEY, fast);
    expect(errors(result.findings).map((f) => `${f.file}:${f.line}:${f.kind}`)).toEqual([`${segments[2].name}:2:modified`]);
    // A whole segment removed: its records are missing.
    const gap = verifyLog([segments[0], segments[1], segments[3]], TEST_PUBLIC_KEY, fast);
    expect(errors(gap.findings)[0]).toMatchObject({ file: segments[3].name, line: 1, kind: "deleted" });
  });
});

describe("random tampering (property)", () => {
  type Op =
    | { op: "flip"; line: number; at: number; byte: number }
    | { op: "drop"; line: number }
    | { op: "swap"; a: number; b: number }
    | { op: "insert"; at: number; from: number; garbage: boolean };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("flip" as const), line: fc.nat(), at: fc.nat(), byte: fc.integer({ min: 0x20, max: 0xff }) }),
    fc.record({ op: fc.constant("drop" as const), line: fc.nat() }),
    fc.record({ op: fc.constant("swap" as const), a: fc.nat(), b: fc.nat() }),
    fc.record({ op: fc.constant("insert" as const), at: fc.nat(), from: fc.nat(), garbage: fc.boolean() }),
  );

  it("never verifies a tampered log, and some finding points at or next to a tampered line", () => {
    const original = base.bytes;
    const isRecord = (text: string) => text.includes('"type":"decision"');
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 3 }), (ops) => {
        // Lines as byte arrays with a flag: touched by tampering (or next to a removed line).
        const lines = baseLines.slice(0, -1).map((text) => ({ bytes: new TextEncoder().encode(text), touched: false }));
        const records = () => lines.map((l, i) => [l, i] as const).filter(([l]) => isRecord(new TextDecoder().decode(l.bytes))).map(([, i]) => i);
        for (const op of ops) {
          const recs = records();
          if (recs.length === 0) break;
          if (op.op === "flip") {
            const line = lines[recs[op.line % recs.length]];
            const at = op.at % line.bytes.length;
            // A newline would split the line in two; any other different byte is a flip.
            if (op.byte === 0x0a || line.bytes[at] === op.byte) continue;
            line.bytes = line.bytes.slice();
            line.bytes[at] = op.byte;
            line.touched = true;
          } else if (op.op === "drop") {
            const i = recs[op.line % recs.length];
            lines.splice(i, 1);
            if (i < lines.length) lines[i].touched = true;
            if (i > 0) lines[i - 1].touched = true;
          } else if (op.op === "swap") {
            const a = op.a % lines.length;
            const b = op.b % lines.length;
            if (a === b) continue;
            [lines[a], lines[b]] = [lines[b], lines[a]];
            lines[a].touched = lines[b].touched = true;
          } else {
            const bytes = op.garbage ? new TextEncoder().encode(`garbage ${op.from}`) : lines[recs[op.from % recs.length]].bytes;
            lines.splice(op.at % (lines.length + 1), 0, { bytes, touched: true });
          }
        }
        const parts: Uint8Array[] = lines.flatMap((l) => [l.bytes, new Uint8Array([0x0a])]);
        const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let offset = 0;
        for (const p of parts) {
          bytes.set(p, offset);
          offset += p.length;
        }
        if (bytes.length === original.length && bytes.every((b, i) => b === original[i])) return; // the ops cancelled out
        const result = verifyLog([{ name: base.name, bytes }], TEST_PUBLIC_KEY, fast);
        expect(result.ok).toBe(false);
        const touched = lines.map((l, i) => (l.touched ? i + 1 : -1)).filter((n) => n > 0);
        const near = errors(result.findings).some((f) => touched.some((t) => Math.abs(f.line - t) <= 1));
        expect(near, `findings ${JSON.stringify(brief(result.findings))}, tampered lines ${JSON.stringify(touched)}`).toBe(true);
      }),
      { numRuns: process.env.AEGIS_DEEP ? 20_000 : 300 },
    );
  });
});

describe("tree helpers", () => {
  it("MerkleTree gives rootOf's roots at every size, with either hash", () => {
    const hashes = Array.from({ length: 70 }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));
    for (const sha of [undefined, nodeSha256]) {
      const tree = new MerkleTree(sha);
      expect(tree.root()).toEqual(EMPTY_ROOT);
      for (let n = 1; n <= hashes.length; n++) {
        tree.append(hashes[n - 1]);
        expect(tree.size).toBe(n);
        expect(tree.root(), `size ${n}`).toEqual(rootOf(hashes.slice(0, n)));
      }
    }
  });

  it("lineLeafHash is merkle.ts's leafHash", () => {
    const line = new TextEncoder().encode('{"reason":"Grüße — ✓"}');
    expect(new Uint8Array(lineLeafHash(line, nodeSha256))).toEqual(leafHash(line));
    expect(lineLeafHash(line)).toEqual(leafHash(line));
  });
});
