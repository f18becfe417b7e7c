// Regex back end: RE2 pattern -> Pike VM program bytes (layout in docs/regex.md).
// Input: a pattern string (parsed by parse.ts). Output: a Uint8Array that engine/regex.ts
// validates (regexValidate) and runs (regexSearch, regexFind) over UTF-8 input.
//
// The program is a Thompson NFA: consuming instructions (CHAR, RANGES), epsilon instructions
// (SPLIT with a preferred branch, JMP, ASSERT, SAVE) and MATCH. Counted repetitions are expanded
// (x{2,4} = x x (x (x)?)?), which is why parse.ts bounds the expanded size.

import {
  parseRegex, nodeSize, isSingleCodePoint, canMatchEmpty, type RegexNode, type CodeRange,
} from "./parse.ts";
import {
  REGEX_MAGIC, REGEX_FORMAT_VERSION, REGEX_HEADER_BYTES, REGEX_INSTRUCTION_BYTES, REGEX_RANGE_BYTES,
  RegexHeader, RegexFlag, RegexOp, RegexAssert,
} from "../generated/bytecode.ts";

// The format's numbers live in spec/bytecode.json ("regex"); re-exported for the callers.
export { REGEX_MAGIC, REGEX_FORMAT_VERSION, RegexOp, RegexAssert };

/** One decoded instruction (12 bytes in the program). */
export interface RegexInstruction { op: number; arg: number; a: number; b: number }

class Emitter {
  readonly code: RegexInstruction[] = [];
  readonly ranges: (readonly [number, number])[] = [];

  private push(op: number, arg = 0, a = 0, b = 0): number {
    this.code.push({ op, arg, a, b });
    return this.code.length - 1;
  }
  private get here(): number { return this.code.length; }

  program(ast: RegexNode): void {
    this.push(RegexOp.SAVE, 0);
    this.emit(ast);
    this.push(RegexOp.SAVE, 1);
    this.push(RegexOp.MATCH);
  }

  // Recursion depth is bounded by the parser's nesting limit.
  private emit(node: RegexNode): void {
    switch (node.kind) {
      case "empty": return;
      case "set":
        if (isSingleCodePoint(node.ranges)) { this.push(RegexOp.CHAR, 0, node.ranges[0][0]); return; }
        this.push(RegexOp.RANGES, 0, this.ranges.length, node.ranges.length);
        this.ranges.push(...node.ranges);
        return;
      case "assert": this.push(RegexOp.ASSERT, RegexAssert[node.assert]); return;
      case "group": this.emit(node.item); return;
      case "concat": for (const item of node.items) this.emit(item); return;
      case "alt": {
        const jumps: number[] = [];
        for (let i = 0; i < node.items.length - 1; i++) {
          const split = this.push(RegexOp.SPLIT);
          this.code[split].a = this.here;
          this.emit(node.items[i]);
          jumps.push(this.push(RegexOp.JMP));
          this.code[split].b = this.here;
        }
        this.emit(node.items[node.items.length - 1]);
        for (const j of jumps) this.code[j].a = this.here;
        return;
      }
      case "repeat": {
        const { min, max, greedy, item } = node;
        if (max === -1 && min === 0) {
          // L: SPLIT body, out; body; JMP L; out:
          const loop = this.push(RegexOp.SPLIT);
          this.emit(item);
          this.push(RegexOp.JMP, 0, loop);
          this.setSplit(loop, loop + 1, this.here, greedy);
          return;
        }
        if (max === -1) {
          // INVARIANT: x cannot match empty here (parse.ts rewrote such loops), so the loop back
          // into x's first instruction never meets a thread of the same iteration.
          for (let i = 0; i < min - 1; i++) this.emit(item);
          // body: x; SPLIT body, out
          const body = this.here;
          this.emit(item);
          const split = this.push(RegexOp.SPLIT);
          this.setSplit(split, body, split + 1, greedy);
          return;
        }
        for (let i = 0; i < min; i++) this.emit(item);
        // (x(x(x)?)?)?: each SPLIT either enters the next copy or skips all remaining copies.
        const splits: number[] = [];
        for (let i = 0; i < max - min; i++) {
          splits.push(this.push(RegexOp.SPLIT));
          this.emit(item);
        }
        for (const s of splits) this.setSplit(s, s + 1, this.here, greedy);
        return;
      }
    }
  }

  /** SPLIT prefers `a`: the body when greedy, the exit when lazy. */
  private setSplit(at: number, body: number, exit: number, greedy: boolean): void {
    this.code[at].a = greedy ? body : exit;
    this.code[at].b = greedy ? exit : body;
  }
}

/** Compile an RE2 pattern to a program for engine/regex.ts. Throws an Error with the parse message. */
export function compileRegex(pattern: string): Uint8Array {
  const parsed = parseRegex(pattern);
  if (!parsed.ok) {
    const error = new Error(parsed.message) as Error & { offset: number };
    error.offset = parsed.offset;
    throw error;
  }
  const emitter = new Emitter();
  emitter.program(parsed.ast);
  const { code, ranges } = emitter;
  const expected = nodeSize(parsed.ast);
  // INVARIANT: parse.ts's size bound (which enforces the limit) is exact.
  if (code.length !== expected.instructions + 3 || ranges.length !== expected.ranges) {
    throw new Error(`internal error: regex size estimate ${expected.instructions + 3}/${expected.ranges} differs from ${code.length}/${ranges.length}`);
  }
  return encodeRegexProgram(code, ranges);
}

/** MIN_LENGTH of a program that can never match. */
export const NO_MATCH_LENGTH = 0xffffffff;

/** The prefilters of docs/regex.md "Prefilters", as stored in a program header. */
export interface RegexPrefilters {
  /** No match is shorter than this many bytes; NO_MATCH_LENGTH when the program matches nothing. */
  minLength: number;
  /** 32 bytes: bit `b & 7` of byte `b >> 3` is set when a match can start with byte `b`. */
  firstBytes: Uint8Array;
  /** A byte every match contains, or -1. */
  literal: number;
}

/**
 * Lay out a program (header with prefilters, instructions, range pool) from its instructions and
 * ranges. Used by compileRegex and by tests that build programs by hand.
 */
export function encodeRegexProgram(code: readonly RegexInstruction[], ranges: readonly CodeRange[]): Uint8Array {
  const pre = computePrefilters(code, ranges);
  const bytes = new Uint8Array(REGEX_HEADER_BYTES + code.length * REGEX_INSTRUCTION_BYTES + ranges.length * REGEX_RANGE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(REGEX_MAGIC, RegexHeader.MAGIC);
  view.setUint16(RegexHeader.VERSION, REGEX_FORMAT_VERSION, true);
  view.setUint16(RegexHeader.FLAGS, pre.literal >= 0 ? RegexFlag.LITERAL : 0, true);
  view.setUint32(RegexHeader.COUNT, code.length, true);
  view.setUint32(RegexHeader.RANGE_COUNT, ranges.length, true);
  view.setUint32(RegexHeader.MIN_LENGTH, pre.minLength, true);
  view.setUint8(RegexHeader.LITERAL, pre.literal >= 0 ? pre.literal : 0);
  bytes.set(pre.firstBytes, RegexHeader.FIRST_BYTES);
  let p = REGEX_HEADER_BYTES;
  for (const ins of code) {
    view.setUint8(p, ins.op);
    view.setUint8(p + 1, ins.arg);
    view.setUint16(p + 2, 0, true);
    view.setUint32(p + 4, ins.a, true);
    view.setUint32(p + 8, ins.b, true);
    p += REGEX_INSTRUCTION_BYTES;
  }
  for (const [lo, hi] of ranges) {
    view.setUint32(p, lo, true);
    view.setUint32(p + 4, hi, true);
    p += REGEX_RANGE_BYTES;
  }
  return bytes;
}

/** The prefilters stored in a program's header. */
export function readRegexPrefilters(program: Uint8Array): RegexPrefilters {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const flags = view.getUint16(RegexHeader.FLAGS, true);
  return {
    minLength: view.getUint32(RegexHeader.MIN_LENGTH, true),
    firstBytes: program.slice(RegexHeader.FIRST_BYTES, RegexHeader.FIRST_BYTES + 32),
    literal: (flags & RegexFlag.LITERAL) !== 0 ? view.getUint8(RegexHeader.LITERAL) : -1,
  };
}

// ---------------------------------------------------------------------------------------------
// Prefilters (docs/regex.md "Prefilters"). engine/regex.ts recomputes MIN_LENGTH and FIRST_BYTES
// with the same algorithm and checks LITERAL the same way, so both sides must follow the same
// graph: SPLIT -> a, b; JMP -> a; ASSERT, SAVE -> pc + 1 (assertions assumed to hold) at cost 0;
// CHAR, RANGES -> pc + 1 at the UTF-8 length of their smallest code point; RANGES with no range
// and MATCH have no successor. The walks skip targets outside the program, so a malformed
// hand-built program (tests) gets some header instead of an exception; the engine rejects it anyway.

function utf8Length(cp: number): number { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }
function leadByte(cp: number): number {
  return cp < 0x80 ? cp : cp < 0x800 ? 0xc0 | (cp >> 6) : cp < 0x10000 ? 0xe0 | (cp >> 12) : 0xf0 | (cp >> 18);
}

/** Byte cost of the consuming instruction, or Infinity when it consumes nothing. */
function consumeCost(ins: RegexInstruction, ranges: readonly CodeRange[]): number {
  if (ins.op === RegexOp.CHAR) return utf8Length(ins.a);
  if (ins.op === RegexOp.RANGES) return ins.b === 0 || !ranges[ins.a] ? Infinity : utf8Length(ranges[ins.a][0]);
  return Infinity;
}

/** Successors of an epsilon instruction (empty for consuming instructions and MATCH). */
function epsilonNext(ins: RegexInstruction, pc: number): number[] {
  switch (ins.op) {
    case RegexOp.SPLIT: return [ins.a, ins.b];
    case RegexOp.JMP: return [ins.a];
    case RegexOp.ASSERT: case RegexOp.SAVE: return [pc + 1];
    default: return [];
  }
}

/** Shortest path in bytes from pc 0 to a MATCH (Dijkstra with one bucket per distance). */
function minMatchLength(code: readonly RegexInstruction[], ranges: readonly CodeRange[]): number {
  const dist = new Array<number>(code.length).fill(Infinity);
  const buckets: number[][] = [[0]];
  dist[0] = 0;
  if (code.length === 0) return NO_MATCH_LENGTH;
  const relax = (pc: number, d: number): void => {
    if (pc < code.length && d < dist[pc]) { dist[pc] = d; (buckets[d] ??= []).push(pc); }
  };
  for (let d = 0; d < buckets.length; d++) {
    const bucket = buckets[d];
    if (!bucket) continue;
    // Cost-0 edges append to this bucket while it is read.
    for (let i = 0; i < bucket.length; i++) {
      const pc = bucket[i];
      if (dist[pc] !== d) continue; // reached more cheaply since
      const ins = code[pc];
      if (ins.op === RegexOp.MATCH) return d;
      if (ins.op === RegexOp.CHAR || ins.op === RegexOp.RANGES) {
        const cost = consumeCost(ins, ranges);
        if (cost !== Infinity) relax(pc + 1, d + cost);
      } else {
        for (const t of epsilonNext(ins, pc)) relax(t, d);
      }
    }
  }
  return NO_MATCH_LENGTH;
}

/** Add the UTF-8 lead bytes of every code point in [lo, hi] to the 32-byte set. */
function addLeadBytes(set: Uint8Array, lo: number, hi: number): void {
  const add = (first: number, last: number): void => { for (let b = first; b <= last; b++) set[b >> 3] |= 1 << (b & 7); };
  const parts: [number, number][] = [[0, 0x7f], [0x80, 0x7ff], [0x800, 0xffff], [0x10000, 0x10ffff]];
  for (const [from, to] of parts) {
    const a = Math.max(lo, from), b = Math.min(hi, to);
    if (a <= b) add(leadByte(a), leadByte(b));
  }
}

/** Lead bytes of the consuming instructions in the epsilon closure of pc 0. */
function firstByteSet(code: readonly RegexInstruction[], ranges: readonly CodeRange[]): Uint8Array {
  const set = new Uint8Array(32);
  const seen = new Uint8Array(code.length);
  const stack = code.length > 0 ? [0] : [];
  seen[0] = 1;
  while (stack.length > 0) {
    const pc = stack.pop()!;
    const ins = code[pc];
    if (ins.op === RegexOp.CHAR) { addLeadBytes(set, ins.a, ins.a); continue; }
    if (ins.op === RegexOp.RANGES) {
      for (let r = ins.a; r < ins.a + ins.b && r < ranges.length; r++) addLeadBytes(set, ranges[r][0], ranges[r][1]);
      continue;
    }
    for (const t of epsilonNext(ins, pc)) if (t < code.length && !seen[t]) { seen[t] = 1; stack.push(t); }
  }
  return set;
}

/** True when no MATCH is reachable from pc 0 without a CHAR whose lead byte is `byte`. */
export function regexLiteralHolds(code: readonly RegexInstruction[], byte: number): boolean {
  const seen = new Uint8Array(code.length);
  const stack = code.length > 0 ? [0] : [];
  seen[0] = 1;
  while (stack.length > 0) {
    const pc = stack.pop()!;
    const ins = code[pc];
    if (ins.op === RegexOp.MATCH) return false;
    let next: number[];
    if (ins.op === RegexOp.CHAR) next = leadByte(ins.a) === byte ? [] : [pc + 1];
    else if (ins.op === RegexOp.RANGES) next = ins.b === 0 ? [] : [pc + 1];
    else next = epsilonNext(ins, pc);
    for (const t of next) if (t < code.length && !seen[t]) { seen[t] = 1; stack.push(t); }
  }
  return true;
}

/**
 * How rare a byte is in ordinary text (lower is rarer): ASCII punctuation and controls, then
 * non-ASCII lead bytes, upper-case letters, digits, lower-case letters, and the space last.
 */
function commonness(byte: number): number {
  if (byte === 0x20) return 5;
  if (byte >= 0x61 && byte <= 0x7a) return 4;
  if (byte >= 0x30 && byte <= 0x39) return 3;
  if (byte >= 0x41 && byte <= 0x5a) return 2;
  if (byte >= 0x80) return 1;
  return 0;
}

function computePrefilters(code: readonly RegexInstruction[], ranges: readonly CodeRange[]): RegexPrefilters {
  const minLength = minMatchLength(code, ranges);
  const firstBytes = minLength === 0 ? new Uint8Array(32).fill(0xff) : firstByteSet(code, ranges);
  // Candidates: lead bytes of the CHAR instructions, rarest first, then in program order.
  const candidates: number[] = [];
  for (const ins of code) {
    if (ins.op === RegexOp.CHAR && !candidates.includes(leadByte(ins.a))) candidates.push(leadByte(ins.a));
  }
  candidates.sort((x, y) => commonness(x) - commonness(y));
  let literal = -1;
  if (minLength !== NO_MATCH_LENGTH) {
    for (const byte of candidates) if (regexLiteralHolds(code, byte)) { literal = byte; break; }
  }
  return { minLength, firstBytes, literal };
}

/**
 * True when the pattern can match an empty string somewhere (assertions such as `^` or `\b` are
 * assumed to hold), e.g. `a*`, `\b`, `(x|)`. DLP uses it to warn about patterns that redact nothing
 * at some positions. Throws like compileRegex on an invalid pattern.
 */
export function regexMatchesEmpty(pattern: string): boolean {
  const parsed = parseRegex(pattern);
  if (!parsed.ok) throw new Error(parsed.message);
  return canMatchEmpty(parsed.ast);
}

const ASSERT_NAMES = Object.fromEntries(Object.entries(RegexAssert).map(([k, v]) => [v, k]));

/** Human-readable listing of a program compiled by compileRegex (for `aegis inspect` and tests). */
export function disassembleRegex(program: Uint8Array): string[] {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const count = view.getUint32(8, true);
  const rangeBase = REGEX_HEADER_BYTES + count * REGEX_INSTRUCTION_BYTES;
  const cp = (v: number): string => `U+${v.toString(16).toUpperCase().padStart(4, "0")}`;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = REGEX_HEADER_BYTES + i * REGEX_INSTRUCTION_BYTES;
    const op = view.getUint8(p), arg = view.getUint8(p + 1);
    const a = view.getUint32(p + 4, true), b = view.getUint32(p + 8, true);
    let text: string;
    switch (op) {
      case RegexOp.MATCH: text = "MATCH"; break;
      case RegexOp.CHAR: text = `CHAR ${cp(a)}`; break;
      case RegexOp.RANGES: {
        const parts: string[] = [];
        for (let r = 0; r < b; r++) {
          const lo = view.getUint32(rangeBase + (a + r) * REGEX_RANGE_BYTES, true);
          const hi = view.getUint32(rangeBase + (a + r) * REGEX_RANGE_BYTES + 4, true);
          parts.push(lo === hi ? cp(lo) : `${cp(lo)}-${cp(hi)}`);
        }
        text = `RANGES [${parts.join(" ")}]`;
        break;
      }
      case RegexOp.SPLIT: text = `SPLIT ${a}, ${b}`; break;
      case RegexOp.JMP: text = `JMP ${a}`; break;
      case RegexOp.ASSERT: text = `ASSERT ${ASSERT_NAMES[arg] ?? arg}`; break;
      case RegexOp.SAVE: text = `SAVE ${arg}`; break;
      default: text = `?? ${op}`;
    }
    lines.push(`${String(i).padStart(4)}  ${text}`);
  }
  return lines;
}
