// Regex back end: RE2 pattern -> Pike VM program bytes (layout in docs/regex.md).
// Input: a pattern string (parsed by parse.ts). Output: a Uint8Array that engine/regex.ts
// validates (regexValidate) and runs (regexSearch, regexFind) over UTF-8 input.
//
// The program is a Thompson NFA: consuming instructions (CHAR, RANGES), epsilon instructions
// (SPLIT with a preferred branch, JMP, ASSERT, SAVE) and MATCH. Counted repetitions are expanded
// (x{2,4} = x x (x (x)?)?), which is why parse.ts bounds the expanded size.

import {
  parseRegex, nodeSize, isSingleCodePoint, canMatchEmpty, HEADER_BYTES, INSTRUCTION_BYTES, RANGE_BYTES,
  type RegexNode, type AssertKind,
} from "./parse.ts";

/** Program magic: the ASCII bytes `AERX`. */
export const REGEX_MAGIC = [0x41, 0x45, 0x52, 0x58] as const;
export const REGEX_FORMAT_VERSION = 1;

/** Instruction opcodes (docs/regex.md; engine/regex.ts has the same numbers, a test checks). */
export const RegexOp = {
  MATCH: 1,
  CHAR: 2,
  RANGES: 3,
  SPLIT: 4,
  JMP: 5,
  ASSERT: 6,
  SAVE: 7,
} as const;

/** ASSERT kinds (the instruction's `arg` byte). */
export const RegexAssert: Record<AssertKind, number> = {
  begin_text: 1,
  end_text: 2,
  begin_line: 3,
  end_line: 4,
  word_boundary: 5,
  not_word_boundary: 6,
};

interface Instruction { op: number; arg: number; a: number; b: number }

class Emitter {
  readonly code: Instruction[] = [];
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
  const bytes = new Uint8Array(HEADER_BYTES + code.length * INSTRUCTION_BYTES + ranges.length * RANGE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(REGEX_MAGIC, 0);
  view.setUint16(4, REGEX_FORMAT_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint32(8, code.length, true);
  view.setUint32(12, ranges.length, true);
  let p = HEADER_BYTES;
  for (const ins of code) {
    view.setUint8(p, ins.op);
    view.setUint8(p + 1, ins.arg);
    view.setUint16(p + 2, 0, true);
    view.setUint32(p + 4, ins.a, true);
    view.setUint32(p + 8, ins.b, true);
    p += INSTRUCTION_BYTES;
  }
  for (const [lo, hi] of ranges) {
    view.setUint32(p, lo, true);
    view.setUint32(p + 4, hi, true);
    p += RANGE_BYTES;
  }
  return bytes;
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
  const rangeBase = HEADER_BYTES + count * INSTRUCTION_BYTES;
  const cp = (v: number): string => `U+${v.toString(16).toUpperCase().padStart(4, "0")}`;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = HEADER_BYTES + i * INSTRUCTION_BYTES;
    const op = view.getUint8(p), arg = view.getUint8(p + 1);
    const a = view.getUint32(p + 4, true), b = view.getUint32(p + 8, true);
    let text: string;
    switch (op) {
      case RegexOp.MATCH: text = "MATCH"; break;
      case RegexOp.CHAR: text = `CHAR ${cp(a)}`; break;
      case RegexOp.RANGES: {
        const parts: string[] = [];
        for (let r = 0; r < b; r++) {
          const lo = view.getUint32(rangeBase + (a + r) * RANGE_BYTES, true);
          const hi = view.getUint32(rangeBase + (a + r) * RANGE_BYTES + 4, true);
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
