// The auditor (docs/telemetry.md §3–§4): the bytes of an audit log's segments and the log's
// public key -> every finding, each with file and 1-based line (modified, inserted, deleted,
// reordered, truncated, bad_signature, inconsistent_checkpoint, torn, unparsable, unsigned_tail).
// Platform-neutral (takes contents, not paths); `aegis audit verify`, `aegis audit prove` and the
// Node writer's recovery on open (telemetry/log.ts) all run this one analysis.
//
// How it works, in three passes:
// 1. Scan. Every line is hashed (RFC 6962 leaf hash) and classified: a leaf (`decision` or
//    `recovery`: its `seq` and `prev` are read), a checkpoint (its note is opened with the key),
//    a torn final line, or an unparsable line. Leaves that JCS wrote are read without JSON.parse:
//    JCS sorts members, so `prev`, `seq` and `type` sit at fixed places near the end of the line
//    (see `readLeaf`). A line is fully parsed only when that fails, when it is a segment's final
//    line (a torn write may still look like a record), when it is a checkpoint or a recovery
//    record, and when a finding is about it.
// 2. Leaves. In the untampered case every leaf's `prev` is the previous leaf's hash and `seq`
//    counts 0, 1, 2, ...: nothing more to do. Otherwise the leaves whose `seq`s form the longest
//    increasing run stay "in order"; the others are inserted (their `seq` is taken) or reordered
//    (their `prev` names the leaf they belong after); `seq`s missing from the run are deleted;
//    consecutive in-order leaves whose `prev` does not match were modified.
// 3. Checkpoints. Roots of the tree as the file holds it are computed at every checkpoint size in
//    one pass over the leaf hashes (compact range) and compared; a mismatch that an earlier leaf
//    finding already explains is not reported twice.
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { ed25519Verifier, NoteError, openCheckpoint, parseCheckpoint, type Checkpoint, type NoteVerifier } from "./checkpoint.ts";
import { MerkleTree } from "./merkle.ts";

/** SHA-256 of bytes; a Node caller passes node:crypto's, which is several times faster than the default. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;

/** Strict Ed25519 verification of `signature` over `message` by `publicKey`. */
export type VerifySignature = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** What is wrong with a log, where (segment name and 1-based line), and how bad. */
export interface Finding {
  kind: "modified" | "inserted" | "deleted" | "reordered" | "truncated" | "bad_signature" | "inconsistent_checkpoint" | "torn" | "unparsable" | "unsigned_tail";
  severity: "error" | "warning";
  file: string;
  line: number;
  message: string;
}

/** The verdict on a log: `ok` when there is no error finding (warnings allowed). */
export interface VerifyResult {
  ok: boolean;
  /** Leaves (decision and recovery records) in the log. */
  leaves: number;
  /** Checkpoint lines in the log. */
  checkpoints: number;
  /** The last checkpoint whose signature and root verified (an external `checkpoint` counts when it covers more). */
  lastCheckpoint?: Checkpoint;
  findings: Finding[];
}

/** One segment of a log: its file name (used in findings) and its bytes. */
export interface Segment {
  name: string;
  bytes: Uint8Array;
}

/** Options of verifyLog. */
export interface VerifyOptions {
  /** The log's origin; by default the origin of its first well-formed checkpoint. */
  origin?: string;
  /** An external signed checkpoint note (kept by an auditor or a witness) that the log must extend. */
  checkpoint?: string;
  /** Name of that note in findings (default `checkpoint`). */
  checkpointFile?: string;
  /** SHA-256 for leaf and node hashes (default @noble/hashes). */
  sha256?: Sha256;
  /** Ed25519 verification for checkpoint signatures (default the strict @noble/ed25519 one of telemetry/keys.ts). */
  verifySignature?: VerifySignature;
}

/** A leaf of the analysed log: where it is, what it claims, its hash. */
export interface LeafInfo {
  /** Index into the segments given. */
  segment: number;
  /** 1-based line in that segment. */
  line: number;
  /** The `seq` the record claims (NaN for an unparsable line counted as a leaf). */
  seq: number;
  /** The leaf hash (32 bytes). */
  hash: Uint8Array;
}

/** A checkpoint line of the analysed log. */
export interface CheckpointLine {
  segment: number;
  line: number;
  /** Leaves before this line in the file. */
  leavesBefore: number;
  /** The note text (undefined when the line is not a checkpoint object with a string note). */
  note?: string;
  /** The parsed checkpoint when its signature verified (or, without a key, when it is well formed). */
  checkpoint?: Checkpoint;
  /** Signature valid, size and root match the leaves before it. */
  good: boolean;
}

/** A torn final line of a segment (docs/telemetry.md §5), and the recovery leaf that admits it. */
export interface TornLine {
  segment: number;
  line: number;
  /** Bytes from the start of the torn line to the end of the segment. */
  bytes: number;
  /** Hex SHA-256 of those bytes. */
  sha256: string;
  /** Leaf index of a recovery record that names exactly these bytes, if any. */
  recoveredBy?: number;
  /** That recovery record is covered by a good checkpoint. */
  recoverySigned: boolean;
}

/** Everything the analysis learned: the verdict plus what `prove` and the writer's recovery need. */
export interface LogAnalysis {
  result: VerifyResult;
  /** The log's origin (given, or read from its first well-formed checkpoint). */
  origin?: string;
  leafCount: number;
  leaf(index: number): LeafInfo;
  /** Leaf hashes in file order, 32 bytes each, concatenated. */
  leafHashes: Uint8Array;
  /** The line of leaf `index` as text (without the newline). */
  leafLine(index: number): string;
  checkpointLines: CheckpointLine[];
  torn: TornLine[];
}

/**
 * Verify an audit log: recompute the tree over every segment (in the order given: callers sort
 * them by name), check every checkpoint's signature and root and every record's `seq` and `prev`,
 * and report every finding.
 */
export function verifyLog(segments: Segment[], publicKey: Uint8Array, options: VerifyOptions = {}): VerifyResult {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw new RangeError("an ed25519 public key must be 32 bytes");
  return analyzeLog(segments, publicKey, options).result;
}

/**
 * The full analysis behind verifyLog. Without `publicKey` signatures are not checked (a checkpoint
 * counts when it is well formed): `aegis audit prove` uses that, and the proof's reader checks the
 * signature.
 */
export function analyzeLog(segments: Segment[], publicKey: Uint8Array | undefined, options: VerifyOptions = {}): LogAnalysis {
  const analysis = new Analysis(segments, publicKey, options);
  analysis.scan();
  analysis.checkLeaves();
  analysis.checkCheckpoints();
  analysis.checkTorn();
  return analysis.finish();
}

/** SHA-256(0x00 ‖ line) with the given hash: the leaf hash of one log line (without its newline). */
export function lineLeafHash(line: Uint8Array, sha256: Sha256 = nobleSha256): Uint8Array {
  const input = new Uint8Array(line.length + 1);
  input.set(line, 1);
  return sha256(input);
}

// --- scanning ---

const NEWLINE = 0x0a;
const ZERO_HASH = new Uint8Array(32);
const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });
const ascii = (s: string): Uint8Array => encoder.encode(s);
const SUFFIX_DECISION = ascii(',"type":"decision","v":1}');
const SUFFIX_RECOVERY = ascii(',"type":"recovery","v":1}');
const KEY_SEQ = ascii('"seq":');
const KEY_PREV = ascii('"prev":"');
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;

const KIND_DECISION = 0;
const KIND_RECOVERY = 1;
const KIND_WILDCARD = 2; // an unparsable middle line, counted as a leaf (it most likely was one)

const LINK_BROKEN = 0;
const LINK_OK = 1;
const LINK_UNKNOWN = 2; // the previous leaf is unparsable

interface RecoveryLeaf {
  index: number;
  torn: { segment: string; line: number; bytes: number; sha256: string };
}

interface ParsedLine {
  type: "leaf" | "checkpoint" | "other";
  kind?: number;
  seq?: number;
  prev?: string;
  note?: unknown;
  value?: Record<string, unknown>;
  problem?: string;
}

/** Growable per-leaf columns: the analysis keeps a few numbers and two hashes per leaf, not objects. */
class LeafTable {
  count = 0;
  hashes = new Uint8Array(32 * 1024);
  prevs = new Uint8Array(32 * 1024);
  seq = new Float64Array(1024);
  segment = new Uint32Array(1024);
  line = new Uint32Array(1024);
  start = new Float64Array(1024);
  end = new Float64Array(1024);
  kind = new Uint8Array(1024);
  link = new Uint8Array(1024);

  add(): number {
    if (this.count === this.seq.length) this.grow();
    return this.count++;
  }

  hash(i: number): Uint8Array {
    return this.hashes.subarray(i * 32, i * 32 + 32);
  }

  prev(i: number): Uint8Array {
    return this.prevs.subarray(i * 32, i * 32 + 32);
  }

  private grow(): void {
    const n = this.seq.length * 2;
    const grow = <T extends Uint8Array | Uint32Array | Float64Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.hashes = grow(this.hashes, 32 * n);
    this.prevs = grow(this.prevs, 32 * n);
    this.seq = grow(this.seq, n);
    this.segment = grow(this.segment, n);
    this.line = grow(this.line, n);
    this.start = grow(this.start, n);
    this.end = grow(this.end, n);
    this.kind = grow(this.kind, n);
    this.link = grow(this.link, n);
  }
}

class Analysis {
  private readonly sha256: Sha256;
  private readonly leaves = new LeafTable();
  private readonly checkpoints: CheckpointLine[] = [];
  private readonly tornLines: TornLine[] = [];
  private readonly recoveries: RecoveryLeaf[] = [];
  // Each finding with the index of the segment it is in (segments.length for the external checkpoint), for sorting.
  private readonly findings: { finding: Finding; segment: number }[] = [];
  // Leaf positions that a leaf-level error finding is about: checkpoint mismatches in their range are consequences.
  private readonly tamperedPositions: number[] = [];
  private origin: string | undefined;
  private readonly verifiers = new Map<string, NoteVerifier>();
  private scratch = new Uint8Array(4096);
  private goodSizes: number[] = [];
  private lastGood: Checkpoint | undefined;

  constructor(
    private readonly segments: Segment[],
    private readonly publicKey: Uint8Array | undefined,
    private readonly options: VerifyOptions,
  ) {
    this.sha256 = options.sha256 ?? nobleSha256;
    this.origin = options.origin;
  }

  scan(): void {
    const leaves = this.leaves;
    let previous: Uint8Array = ZERO_HASH;
    let previousKind = -1;
    for (let s = 0; s < this.segments.length; s++) {
      const bytes = this.segments[s].bytes;
      let pos = 0;
      let lineNo = 0;
      while (pos < bytes.length) {
        lineNo++;
        const nl = bytes.indexOf(NEWLINE, pos);
        if (nl < 0) {
          this.addTorn(s, lineNo, pos);
          break;
        }
        const isFinal = nl + 1 === bytes.length;
        let kind = -1;
        let seq = NaN;
        let i = -1;
        let parsed: ParsedLine | undefined;
        // Fast path: the fixed JCS layout. A segment's final line is always parsed in full: what a
        // torn write left there can still look like a record.
        if (!isFinal) {
          const fast = readLeaf(bytes, pos, nl);
          if (fast !== null) {
            i = leaves.add();
            if (!decodeHex(bytes, fast.prevAt, leaves.prevs, i * 32)) {
              leaves.count--;
              i = -1;
            } else {
              kind = fast.kind;
              seq = fast.seq;
            }
          }
        }
        if (i < 0) {
          parsed = parseLine(bytes.subarray(pos, nl));
          if (parsed.type === "other" && isFinal) {
            this.addTorn(s, lineNo, pos);
            break;
          }
          if (parsed.type === "checkpoint") {
            this.addCheckpoint(s, lineNo, parsed.note);
            pos = nl + 1;
            continue;
          }
          if (parsed.type === "other") {
            this.addFinding("unparsable", s, lineNo, `not a log record: ${parsed.problem}`, leaves.count);
            // A mangled checkpoint line is not a leaf; anything else most likely was one.
            if (looksLikeCheckpoint(bytes, pos, nl)) {
              this.addCheckpoint(s, lineNo, undefined);
              pos = nl + 1;
              continue;
            }
            i = leaves.add();
            kind = KIND_WILDCARD;
          } else {
            i = leaves.add();
            kind = parsed.kind!;
            seq = parsed.seq!;
            decodeHex(encoder.encode(parsed.prev!), 0, leaves.prevs, i * 32);
            if (kind === KIND_RECOVERY) this.addRecovery(i, parsed.value!);
          }
        } else if (kind === KIND_RECOVERY) {
          const value = parseLine(bytes.subarray(pos, nl)).value;
          if (value) this.addRecovery(i, value);
        }
        leaves.kind[i] = kind;
        leaves.seq[i] = seq;
        leaves.segment[i] = s;
        leaves.line[i] = lineNo;
        leaves.start[i] = pos;
        leaves.end[i] = nl;
        const hash = this.leafHashInto(bytes, pos, nl, i);
        if (kind === KIND_WILDCARD) leaves.link[i] = LINK_UNKNOWN;
        else if (previousKind === KIND_WILDCARD) leaves.link[i] = LINK_UNKNOWN;
        else leaves.link[i] = equalBytes(leaves.prev(i), previous) ? LINK_OK : LINK_BROKEN;
        previous = hash;
        previousKind = kind;
        pos = nl + 1;
      }
    }
  }

  private leafHashInto(bytes: Uint8Array, start: number, end: number, i: number): Uint8Array {
    const length = end - start;
    if (this.scratch.length < length + 1) this.scratch = new Uint8Array(Math.max(length + 1, this.scratch.length * 2));
    this.scratch[0] = 0x00;
    this.scratch.set(bytes.subarray(start, end), 1);
    const hash = this.sha256(this.scratch.subarray(0, length + 1));
    this.leaves.hashes.set(hash, i * 32);
    return this.leaves.hash(i);
  }

  private addTorn(segment: number, line: number, start: number): void {
    const bytes = this.segments[segment].bytes.subarray(start);
    this.tornLines.push({ segment, line, bytes: bytes.length, sha256: hex(this.sha256(bytes)), recoverySigned: false });
  }

  private addRecovery(index: number, value: Record<string, unknown>): void {
    const torn = value.torn as Record<string, unknown> | undefined;
    if (
      torn && typeof torn === "object" && typeof torn.segment === "string" && Number.isSafeInteger(torn.line) &&
      Number.isSafeInteger(torn.bytes) && typeof torn.sha256 === "string"
    ) {
      this.recoveries.push({ index, torn: { segment: torn.segment, line: torn.line as number, bytes: torn.bytes as number, sha256: torn.sha256 } });
    }
  }

  private addCheckpoint(segment: number, line: number, note: unknown): void {
    const entry: CheckpointLine = { segment, line, leavesBefore: this.leaves.count, good: false };
    this.checkpoints.push(entry);
    if (typeof note !== "string") {
      this.addFinding("bad_signature", segment, line, "checkpoint line has no note");
      return;
    }
    entry.note = note;
    const opened = this.openNote(note);
    if (typeof opened === "string") this.addFinding("bad_signature", segment, line, opened);
    else entry.checkpoint = opened;
  }

  /** The verified checkpoint, or why it is refused. */
  private openNote(note: string): Checkpoint | string {
    let origin: string;
    try {
      origin = parseCheckpoint(note).checkpoint.origin;
    } catch (e) {
      return `malformed checkpoint note: ${(e as Error).message}`;
    }
    this.origin ??= origin;
    if (origin !== this.origin) return `checkpoint is for the log \`${origin}\`, not \`${this.origin}\``;
    if (this.publicKey === undefined) return parseCheckpoint(note).checkpoint;
    try {
      return openCheckpoint(note, this.verifier(origin));
    } catch (e) {
      if (e instanceof NoteError && e.code === "unknown_key") return "checkpoint is not signed by this key";
      if (e instanceof NoteError && e.code === "bad_signature") return "checkpoint signature does not verify";
      return `malformed checkpoint note: ${(e as Error).message}`;
    }
  }

  private verifier(name: string): NoteVerifier {
    let verifier = this.verifiers.get(name);
    if (verifier === undefined) {
      verifier = ed25519Verifier(name, this.publicKey!);
      const fast = this.options.verifySignature;
      if (fast) {
        const key = this.publicKey!;
        verifier = { name: verifier.name, keyId: verifier.keyId, verify: (msg, sig) => fast(key, msg, sig) };
      }
      this.verifiers.set(name, verifier);
    }
    return verifier;
  }

  // --- leaves ---

  checkLeaves(): void {
    const { leaves } = this;
    const n = leaves.count;
    let clean = true;
    for (let i = 0; i < n && clean; i++) clean = leaves.link[i] === LINK_OK && leaves.seq[i] === i;
    if (clean) return;

    // Effective seqs: a record whose `prev` is right but whose `seq` is not had its `seq` edited.
    const seq = Float64Array.from(leaves.seq.subarray(0, n));
    const explainedLink = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (leaves.kind[i] === KIND_WILDCARD || leaves.link[i] !== LINK_OK) continue;
      const expected = i === 0 ? 0 : leaves.kind[i - 1] === KIND_WILDCARD ? NaN : seq[i - 1] + 1;
      if (Number.isNaN(expected) || seq[i] === expected) continue;
      const next = i + 1 < n ? i + 1 : -1;
      if (next < 0 || (leaves.link[next] === LINK_BROKEN && leaves.seq[next] === expected + 1)) {
        this.leafFinding("modified", i, `record's \`seq\` is ${seq[i]}, but it follows record ${expected - 1} (its \`seq\` was altered)`);
        seq[i] = expected;
        if (next >= 0) explainedLink[next] = 1;
      }
    }

    // The in-order leaves: a longest strictly increasing run of seqs (unparsable lines left out).
    const inOrder = new Uint8Array(n);
    let increasing = true;
    let last = -1;
    for (let i = 0; i < n; i++) {
      if (leaves.kind[i] === KIND_WILDCARD) continue;
      if (!(seq[i] > last)) increasing = false;
      last = seq[i];
    }
    if (increasing) {
      for (let i = 0; i < n; i++) if (leaves.kind[i] !== KIND_WILDCARD) inOrder[i] = 1;
    } else {
      for (const i of longestIncreasing(seq, leaves.kind, n)) inOrder[i] = 1;
    }
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (inOrder[i]) members.push(i);

    // Where a seq appears: in-order leaves by seq (increasing, so binary search), the others in a map.
    const bySeq = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      if (leaves.kind[i] === KIND_WILDCARD) continue;
      const list = bySeq.get(seq[i]);
      if (list) list.push(i);
      else bySeq.set(seq[i], [i]);
    }
    // A duplicated seq: keep in order the copy that fits the hash chain better.
    for (let k = 0; k < members.length; k++) {
      const m = members[k];
      const copies = bySeq.get(seq[m])!;
      if (copies.length < 2) continue;
      const before = k > 0 ? members[k - 1] : -1;
      const after = k + 1 < members.length ? members[k + 1] : n;
      let best = m;
      let bestFit = this.fit(m, before, after < n ? after : -1, seq);
      for (const c of copies) {
        if (c === m || c <= before || c >= after || inOrder[c]) continue;
        const fit = this.fit(c, before, after < n ? after : -1, seq);
        if (fit > bestFit) {
          best = c;
          bestFit = fit;
        }
      }
      if (best !== m) {
        inOrder[m] = 0;
        inOrder[best] = 1;
        members[k] = best;
      }
    }

    // Leaves out of order: another copy of the seq is in order (inserted), or not (reordered, if
    // its `prev` is the hash of the leaf with the seq before it, else inserted).
    const outOfOrderSeqs: number[] = [];
    for (let i = 0; i < n; i++) {
      if (inOrder[i] || leaves.kind[i] === KIND_WILDCARD) continue;
      const copies = bySeq.get(seq[i])!;
      const kept = copies.find((c) => inOrder[c]);
      if (kept !== undefined) {
        const same = equalBytes(leaves.hash(kept), leaves.hash(i));
        this.leafFinding("inserted", i, same
          ? `record ${seq[i]} is a copy of ${this.where(kept)}`
          : `a second record ${seq[i]} (the one that fits the hash chain is at ${this.where(kept)})`);
        continue;
      }
      outOfOrderSeqs.push(seq[i]);
      const predecessor = seq[i] === 0 ? undefined : bySeq.get(seq[i] - 1)?.find((p) => equalBytes(leaves.hash(p), leaves.prev(i)));
      if (seq[i] === 0 ? equalBytes(leaves.prev(i), ZERO_HASH) : predecessor !== undefined) {
        this.leafFinding("reordered", i, seq[i] === 0
          ? "record 0 is out of order (it belongs at the start of the log)"
          : `record ${seq[i]} is out of order (it belongs after record ${seq[i] - 1} at ${this.where(predecessor!)})`);
      } else {
        this.leafFinding("inserted", i, `record ${seq[i]} does not belong to this log (no record has the hash its \`prev\` names)`);
      }
    }
    outOfOrderSeqs.sort((a, b) => a - b);

    // Walk the in-order leaves: gaps in seq are deletions (unless the seqs are elsewhere or an
    // unparsable line takes their place); a broken link between consecutive seqs is a modification.
    const broken: [number, number][] = [];
    let previous = -1;
    let wildcards = 0;
    for (let i = 0; i < n; i++) {
      if (leaves.kind[i] === KIND_WILDCARD) {
        wildcards++;
        continue;
      }
      if (!inOrder[i]) continue;
      const expected = previous < 0 ? 0 : seq[previous] + 1;
      const gap = seq[i] - expected;
      if (gap > 0) {
        const elsewhere = countInRange(outOfOrderSeqs, expected, seq[i]);
        const missing = gap - elsewhere - wildcards;
        if (missing > 0) {
          const range = gap === 1 ? `record ${expected}` : `records ${expected}–${seq[i] - 1}`;
          this.leafFinding("deleted", i, missing === gap
            ? `${range} ${gap === 1 ? "is" : "are"} missing before this line`
            : `${missing} of ${range} are missing before this line`);
        }
      } else if (!explainedLink[i] && !equalBytes(leaves.prev(i), previous < 0 ? ZERO_HASH : leaves.hash(previous))) {
        broken.push([previous, i]);
      }
      previous = i;
      wildcards = 0;
    }
    // One edited record breaks the link after it; an edited `prev` breaks the links on both sides.
    for (let k = 0; k < broken.length; k++) {
      const [a, b] = broken[k];
      if (k + 1 < broken.length && broken[k + 1][0] === b) {
        this.modified(b, `record's \`prev\` is not the hash of the record before it, and its own hash is not the next record's \`prev\``);
        k++;
      } else if (a < 0) {
        this.modified(b, "the first record's `prev` is not 64 zeros");
      } else {
        this.modified(a, `record's hash is not the \`prev\` of the next record (${this.where(b)}): it was altered`);
      }
    }
  }

  /** How well leaf c fits between in-order leaves before and after (0–2 matching links). */
  private fit(c: number, before: number, after: number, seq: Float64Array): number {
    const { leaves } = this;
    let fit = 0;
    if (before < 0 ? seq[c] === 0 && equalBytes(leaves.prev(c), ZERO_HASH) : seq[before] + 1 === seq[c] && equalBytes(leaves.prev(c), leaves.hash(before))) fit++;
    if (after >= 0 && seq[after] === seq[c] + 1 && equalBytes(leaves.prev(after), leaves.hash(c))) fit++;
    return fit;
  }

  private modified(i: number, message: string): void {
    const { leaves } = this;
    const bytes = this.segments[leaves.segment[i]].bytes.subarray(leaves.start[i], leaves.end[i]);
    const parsed = parseLine(bytes);
    if (parsed.type === "other") this.leafFinding("unparsable", i, `record was altered and is no longer a record: ${parsed.problem}`);
    else this.leafFinding("modified", i, message);
  }

  private leafFinding(kind: Finding["kind"], i: number, message: string): void {
    this.addFinding(kind, this.leaves.segment[i], this.leaves.line[i], message, i);
  }

  // --- checkpoints ---

  checkCheckpoints(): void {
    const total = this.leaves.count;
    let external: Checkpoint | undefined;
    const externalName = this.options.checkpointFile ?? "checkpoint";
    if (this.options.checkpoint !== undefined) {
      const opened = this.openNote(this.options.checkpoint);
      if (typeof opened === "string") this.externalFinding("bad_signature", opened);
      else external = opened;
    }
    const sizes = new Set<number>();
    for (const c of this.checkpoints) if (c.checkpoint && c.checkpoint.size <= total) sizes.add(c.checkpoint.size);
    if (external && external.size <= total) sizes.add(external.size);
    const roots = this.rootsAt([...sizes].sort((a, b) => a - b));
    const tampered = [...new Set(this.tamperedPositions)].sort((a, b) => a - b);
    const explained = (lo: number, hi: number): boolean => countInRange(tampered, lo, hi) > 0;
    const matchedSizes = new Set<number>();
    for (const c of this.checkpoints) if (c.checkpoint && roots.has(c.checkpoint.size) && equalBytes(roots.get(c.checkpoint.size)!, c.checkpoint.root)) matchedSizes.add(c.checkpoint.size);

    let lastGoodSize = 0;
    let lastShortfall = 0;
    for (const entry of this.checkpoints) {
      const cp = entry.checkpoint;
      if (!cp) continue;
      const n = cp.size;
      const c = entry.leavesBefore;
      const matches = roots.has(n) && equalBytes(roots.get(n)!, cp.root);
      const here = `checkpoint for ${plural(n, "leaf", "leaves")}`;
      if (c === n) {
        if (matches) {
          entry.good = true;
        } else if (!explained(lastGoodSize, n)) {
          if (n > 0 && n === total && !matchedSizes.has(n)) {
            this.leafFinding("modified", n - 1, `record does not match the signed checkpoint at ${this.whereLine(entry.segment, entry.line)} (the record or the checkpoint was altered)`);
          } else {
            this.addFinding("inconsistent_checkpoint", entry.segment, entry.line, `${here} is signed, but its root is not the root of the ${plural(n, "leaf", "leaves")} before it`);
          }
        }
      } else if (c < n) {
        if (matches) {
          this.addFinding("reordered", entry.segment, entry.line, `${here} comes after only ${plural(c, "leaf", "leaves")} (the line was moved)`);
        } else if (n - c !== lastShortfall) {
          this.addFinding("truncated", entry.segment, entry.line, `${here} comes after only ${plural(c, "leaf", "leaves")}: ${plural(n - c, "record is", "records are")} missing`);
          lastShortfall = n - c;
        }
      } else if (matches) {
        entry.good = true;
        if (!explained(n, c)) this.addFinding("reordered", entry.segment, entry.line, `${here} comes after ${plural(c, "leaf", "leaves")} (the line was moved)`);
      } else if (!explained(lastGoodSize, c)) {
        this.addFinding("inconsistent_checkpoint", entry.segment, entry.line, `${here} is signed, but its root is not the root of the first ${plural(n, "leaf", "leaves")}`);
      }
      if (entry.good) {
        lastGoodSize = n;
        this.goodSizes.push(n);
        if (!this.lastGood || n >= this.lastGood.size) this.lastGood = cp;
      }
    }

    if (external) {
      const n = external.size;
      if (n > total) {
        const message = `the log ends after ${plural(total, "leaf", "leaves")}, but \`${externalName}\` is signed for ${n}: ${plural(n - total, "record is", "records are")} missing`;
        const last = this.lastLine();
        if (last) this.addFinding("truncated", last.segment, last.line, message);
        else this.externalFinding("truncated", message);
      } else if (!equalBytes(roots.get(n)!, external.root)) {
        this.externalFinding("inconsistent_checkpoint", `the first ${plural(n, "leaf", "leaves")} of the log do not have the root \`${externalName}\` signs`);
      } else {
        this.goodSizes.push(n);
        if (!this.lastGood || n > this.lastGood.size) this.lastGood = external;
      }
    }

    // Leaves after the last checkpoint line cannot be proven yet.
    const lastLine = this.checkpoints.length > 0 ? this.checkpoints[this.checkpoints.length - 1].leavesBefore : 0;
    const signedByExternal = external !== undefined && external.size >= total && this.goodSizes.includes(external.size);
    if (total > lastLine && !signedByExternal) {
      const count = total - lastLine;
      this.addFinding("unsigned_tail", this.leaves.segment[lastLine], this.leaves.line[lastLine],
        `${plural(count, "record", "records")} from here on ${count === 1 ? "is" : "are"} not covered by a checkpoint yet (not provable until the next one)`,
        undefined, "warning");
    }
  }

  /** Roots of the file's first n leaves for each n in `sizes` (ascending), in one pass. */
  private rootsAt(sizes: number[]): Map<number, Uint8Array> {
    const roots = new Map<number, Uint8Array>();
    const tree = new MerkleTree(this.sha256);
    let k = 0;
    while (k < sizes.length && sizes[k] === 0) roots.set(sizes[k++], tree.root());
    for (let i = 0; i < this.leaves.count && k < sizes.length; i++) {
      tree.append(this.leaves.hash(i));
      while (k < sizes.length && sizes[k] === i + 1) roots.set(sizes[k++], tree.root());
    }
    return roots;
  }

  // --- torn lines ---

  checkTorn(): void {
    const maxSigned = this.goodSizes.length > 0 ? Math.max(...this.goodSizes) : 0;
    const claimed = new Set<RecoveryLeaf>();
    for (const torn of this.tornLines) {
      const name = baseName(this.segments[torn.segment].name);
      const recovery = this.recoveries.find((r) =>
        r.torn.segment === name && r.torn.line === torn.line && r.torn.bytes === torn.bytes && r.torn.sha256 === torn.sha256 &&
        this.leaves.segment[r.index] > torn.segment);
      if (recovery) {
        claimed.add(recovery);
        torn.recoveredBy = recovery.index;
        torn.recoverySigned = recovery.index < maxSigned;
      }
      const what = `final line is torn (${plural(torn.bytes, "byte", "bytes")} without a complete record)`;
      if (torn.recoverySigned) {
        this.addFinding("torn", torn.segment, torn.line, `${what}; admitted by the signed recovery record at ${this.where(torn.recoveredBy!)}`, undefined, "warning");
      } else if (torn.recoveredBy !== undefined) {
        this.addFinding("torn", torn.segment, torn.line, `${what}; the recovery record at ${this.where(torn.recoveredBy)} that admits it is not signed by a checkpoint yet`);
      } else {
        this.addFinding("torn", torn.segment, torn.line, `${what} and no recovery record admits it`);
      }
    }
    // A recovery record for a tear that is not there: the torn bytes were changed or removed.
    for (const r of this.recoveries) {
      if (claimed.has(r)) continue;
      const segment = this.segments.findIndex((s) => baseName(s.name) === r.torn.segment);
      if (segment < 0) continue;
      this.addFinding("modified", segment, r.torn.line,
        `the torn line that the recovery record at ${this.where(r.index)} admits (${plural(r.torn.bytes, "byte", "bytes")}, sha256 ${r.torn.sha256.slice(0, 16)}…) is not here`);
    }
  }

  finish(): LogAnalysis {
    const findings = this.findings
      .map((f, i) => ({ ...f, i }))
      .sort((a, b) => a.segment - b.segment || a.finding.line - b.finding.line || a.i - b.i)
      .map(({ finding }) => finding);
    // One finding per (kind, place): two rules can reach the same conclusion about one line.
    const seen = new Set<string>();
    const unique = findings.filter((f) => {
      const key = `${f.kind}\0${f.file}\0${f.line}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const result: VerifyResult = {
      ok: !unique.some((f) => f.severity === "error"),
      leaves: this.leaves.count,
      checkpoints: this.checkpoints.length,
      findings: unique,
    };
    if (this.lastGood) result.lastCheckpoint = this.lastGood;
    const leaves = this.leaves;
    return {
      result,
      origin: this.origin,
      leafCount: leaves.count,
      leaf: (i) => ({ segment: leaves.segment[i], line: leaves.line[i], seq: leaves.seq[i], hash: leaves.hash(i).slice() }),
      leafHashes: leaves.hashes.subarray(0, leaves.count * 32),
      leafLine: (i) => new TextDecoder().decode(this.segments[leaves.segment[i]].bytes.subarray(leaves.start[i], leaves.end[i])),
      checkpointLines: this.checkpoints,
      torn: this.tornLines,
    };
  }

  // --- helpers ---

  private addFinding(kind: Finding["kind"], segment: number, line: number, message: string, position?: number, severity: Finding["severity"] = "error"): void {
    this.findings.push({ finding: { kind, severity, file: this.segments[segment].name, line, message }, segment });
    if (position !== undefined && severity === "error" && kind !== "torn") this.tamperedPositions.push(position);
  }

  private externalFinding(kind: Finding["kind"], message: string): void {
    this.findings.push({ finding: { kind, severity: "error", file: this.options.checkpointFile ?? "checkpoint", line: 1, message }, segment: this.segments.length });
  }

  private where(i: number): string {
    return this.whereLine(this.leaves.segment[i], this.leaves.line[i]);
  }

  private whereLine(segment: number, line: number): string {
    return `${this.segments[segment].name}:${line}`;
  }

  /** The last line of the log (where missing records would have followed), or null for an empty log. */
  private lastLine(): { segment: number; line: number } | null {
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const bytes = this.segments[s].bytes;
      if (bytes.length === 0) continue;
      let lines = 0;
      for (let i = 0; i < bytes.length; i++) if (bytes[i] === NEWLINE) lines++;
      if (bytes[bytes.length - 1] !== NEWLINE) lines++;
      return { segment: s, line: lines };
    }
    return null;
  }
}

// --- line readers ---

/**
 * Read a JCS decision or recovery line without parsing it: JCS sorts members, and every member
 * after `prev` (reason, redactions, request, rule, seq, shadow, tool, ts, type, v; seq, torn, ts,
 * type, v) is a string or holds no `seq`/`prev` key, so the last `"seq":` and the last `"prev":"`
 * before it are the record's own. A quoted key cannot occur inside a JSON string (its quotes
 * would be escaped). null when the line does not have that layout; the caller then parses it.
 */
function readLeaf(b: Uint8Array, start: number, end: number): { kind: number; seq: number; prevAt: number } | null {
  let kind: number;
  let tail: number;
  if (endsWith(b, end, SUFFIX_DECISION)) {
    kind = KIND_DECISION;
    tail = end - SUFFIX_DECISION.length;
  } else if (endsWith(b, end, SUFFIX_RECOVERY)) {
    kind = KIND_RECOVERY;
    tail = end - SUFFIX_RECOVERY.length;
  } else {
    return null;
  }
  if (b[start] !== 0x7b /* { */) return null;
  const seqAt = lastIndexOf(b, KEY_SEQ, start, tail);
  if (seqAt < 0 || (b[seqAt - 1] !== 0x2c && b[seqAt - 1] !== 0x7b)) return null;
  let p = seqAt + KEY_SEQ.length;
  let seq = 0;
  const digits = p;
  while (p < tail && b[p] >= 0x30 && b[p] <= 0x39) seq = seq * 10 + (b[p++] - 0x30);
  if (p === digits || (b[digits] === 0x30 && p - digits > 1) || (b[p] !== 0x2c && b[p] !== 0x7d) || !Number.isSafeInteger(seq)) return null;
  const prevKey = lastIndexOf(b, KEY_PREV, start, seqAt);
  if (prevKey < 0 || (b[prevKey - 1] !== 0x2c && b[prevKey - 1] !== 0x7b)) return null;
  const prevAt = prevKey + KEY_PREV.length;
  if (prevAt + 65 > seqAt || b[prevAt + 64] !== 0x22 /* " */) return null;
  return { kind, seq, prevAt };
}

/** Fully parse one line: a leaf, a checkpoint, or something else (with the reason). */
function parseLine(bytes: Uint8Array): ParsedLine {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { type: "other", problem: "the line is not valid UTF-8" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: "other", problem: "the line is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { type: "other", problem: "the line is not a JSON object" };
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (type === "checkpoint") return { type: "checkpoint", note: record.note, value: record };
  if (type !== "decision" && type !== "recovery") {
    return { type: "other", problem: typeof type === "string" ? `unknown record type \`${type}\`` : "the line has no `type`" };
  }
  const seq = record.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) return { type: "other", problem: "the record has no valid `seq`" };
  const prev = record.prev;
  if (typeof prev !== "string" || !/^[0-9a-f]{64}$/.test(prev)) return { type: "other", problem: "the record has no valid `prev`" };
  return { type: "leaf", kind: type === "decision" ? KIND_DECISION : KIND_RECOVERY, seq, prev, value: record };
}

function looksLikeCheckpoint(b: Uint8Array, start: number, end: number): boolean {
  return lastIndexOf(b, ascii('"type":"checkpoint"'), start, end) >= 0;
}

function endsWith(b: Uint8Array, end: number, suffix: Uint8Array): boolean {
  if (end < suffix.length) return false;
  const offset = end - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (b[offset + i] !== suffix[i]) return false;
  return true;
}

/** Last index of `pattern` that lies entirely within b[lower, upper), or -1. */
function lastIndexOf(b: Uint8Array, pattern: Uint8Array, lower: number, upper: number): number {
  const first = pattern[0];
  outer: for (let i = upper - pattern.length; i >= lower; i--) {
    if (b[i] !== first) continue;
    for (let j = 1; j < pattern.length; j++) if (b[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

/** Decode 64 lower-case hex digits at b[at] into out[offset..offset+32]; false if they are not hex. */
function decodeHex(b: Uint8Array, at: number, out: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 32; i++) {
    const hi = b[at + 2 * i];
    const lo = b[at + 2 * i + 1];
    const h = hi < 128 ? HEX_VALUE[hi] : -1;
    const l = lo < 128 ? HEX_VALUE[lo] : -1;
    if (h < 0 || l < 0) return false;
    out[offset + i] = (h << 4) | l;
  }
  return true;
}

// --- small helpers ---

/** Indexes of a longest strictly increasing subsequence of seq over the non-wildcard leaves (patience sorting, O(n log n)). */
function longestIncreasing(seq: Float64Array, kind: Uint8Array, n: number): number[] {
  const tails: number[] = [];
  const parent = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (kind[i] === KIND_WILDCARD) continue;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]] < seq[i]) lo = mid + 1;
      else hi = mid;
    }
    // On a tie keep the earlier leaf: of two copies of a record, the later one is the replay.
    if (lo < tails.length && seq[tails[lo]] === seq[i]) continue;
    if (lo > 0) parent[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const out: number[] = [];
  for (let i = tails.length > 0 ? tails[tails.length - 1] : -1; i >= 0; i = parent[i]) out.push(i);
  return out.reverse();
}

/** How many values of the sorted array lie in [lo, hi). */
function countInRange(sorted: number[], lo: number, hi: number): number {
  return lowerBound(sorted, hi) - lowerBound(sorted, lo);
}

function lowerBound(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return out;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** The file name of a path (segments are named by file name in recovery records). */
export function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut < 0 ? path : path.slice(cut + 1);
}
