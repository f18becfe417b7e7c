// Regex front end: RE2-syntax pattern (a JS string) -> RegexNode tree, or an error with the
// UTF-16 offset of the offending character. Input: the pattern text of `matches(...)` or a DLP
// entry. Output: a tree in which every character set (literal, class, `.`, Perl class, case-folded
// literal) is already a normalised list of code point ranges, so the program compiler
// (compile.ts) and the JavaScript translation (to-js.ts) never look at flags again.
//
// Admitted syntax and the reasons for what is rejected: docs/regex.md.

import {
  REGEX_HEADER_BYTES, REGEX_INSTRUCTION_BYTES, REGEX_RANGE_BYTES, REGEX_MAX_PROGRAM_BYTES,
} from "../generated/bytecode.ts";

/** Inclusive code point range `[lo, hi]`. */
export type CodeRange = readonly [number, number];

export type AssertKind =
  | "begin_text" | "end_text" | "begin_line" | "end_line" | "word_boundary" | "not_word_boundary";

/**
 * A parsed regex. `start` is the UTF-16 offset in the pattern where the node begins.
 * INVARIANT: `set.ranges` is sorted, non-overlapping, non-adjacent, inside [0, 0x10FFFF] and holds
 * no surrogate (UTF-8 input can never contain one); it may be empty (matches nothing).
 */
export type RegexNode =
  | { kind: "empty"; start: number }
  | { kind: "set"; ranges: CodeRange[]; start: number }
  | { kind: "assert"; assert: AssertKind; start: number }
  | { kind: "concat"; items: RegexNode[]; start: number }
  | { kind: "alt"; items: RegexNode[]; start: number }
  /** `max` is -1 for an unbounded repetition. */
  | { kind: "repeat"; min: number; max: number; greedy: boolean; item: RegexNode; start: number }
  | { kind: "group"; item: RegexNode; capture: boolean; name?: string; start: number };

export type ParseResult = { ok: true; ast: RegexNode } | { ok: false; offset: number; message: string };

/** Largest repetition count in `{n,m}` (as RE2). */
export const MAX_REPEAT = 1000;
/** Deepest group / repetition nesting accepted (as RE2); keeps every later pass's recursion bounded. */
export const MAX_NESTING = 1000;
/** Largest compiled program, in bytes (docs/regex.md). */
export const MAX_PROGRAM_BYTES = REGEX_MAX_PROGRAM_BYTES;
/** Program layout sizes (spec/bytecode.json "regex"); compile.ts builds exactly this many bytes. */
export const HEADER_BYTES = REGEX_HEADER_BYTES;
export const INSTRUCTION_BYTES = REGEX_INSTRUCTION_BYTES;
export const RANGE_BYTES = REGEX_RANGE_BYTES;

const MAX_CODE_POINT = 0x10ffff;

class RegexSyntaxError extends Error {
  constructor(readonly offset: number, message: string) { super(message); }
}

interface Flags {
  /** i: simple case folding */ fold: boolean;
  /** m: `^`/`$` also match at line starts/ends */ multiLine: boolean;
  /** s: `.` matches `\n` */ dotAll: boolean;
  /** U: swap greedy and lazy */ ungreedy: boolean;
}

/** Parse an RE2 pattern (see docs/regex.md for the admitted subset). Never throws. */
export function parseRegex(pattern: string): ParseResult {
  try {
    const ast = removeEmptyIterations(new Parser(pattern).parsePattern());
    const size = checkProgramSize(ast);
    if (size !== undefined) return { ok: false, offset: size.offset, message: size.message };
    return { ok: true, ast };
  } catch (e) {
    if (e instanceof RegexSyntaxError) return { ok: false, offset: e.offset, message: e.message };
    throw e;
  }
}

/** Instruction and range counts of a node's code, as compile.ts lays it out (without the header). */
export interface ProgramSize { instructions: number; ranges: number }

/**
 * The exact program size of `node` as compile.ts emits it (see the layout table in docs/regex.md).
 * Counts may exceed the limit (they are plain numbers); callers compare against MAX_PROGRAM_BYTES.
 */
export function nodeSize(node: RegexNode): ProgramSize {
  let size = sizeCache.get(node);
  if (!size) { size = computeNodeSize(node); sizeCache.set(node, size); }
  return size;
}

// Both caches keep the size check linear in the pattern even when nested repetitions ask the
// same questions of the same subtrees at every level.
const sizeCache = new WeakMap<RegexNode, ProgramSize>();
const emptyCache = new WeakMap<RegexNode, boolean>();

function computeNodeSize(node: RegexNode): ProgramSize {
  switch (node.kind) {
    case "empty": return { instructions: 0, ranges: 0 };
    case "assert": return { instructions: 1, ranges: 0 };
    case "set":
      // A single code point is one CHAR; anything else one RANGES instruction plus its ranges.
      return isSingleCodePoint(node.ranges) ? { instructions: 1, ranges: 0 } : { instructions: 1, ranges: node.ranges.length };
    case "group": return nodeSize(node.item);
    case "concat": {
      let instructions = 0, ranges = 0;
      for (const item of node.items) { const s = nodeSize(item); instructions += s.instructions; ranges += s.ranges; }
      return { instructions, ranges };
    }
    case "alt": {
      // k alternatives: k-1 SPLITs and k-1 JMPs around them.
      let instructions = 2 * (node.items.length - 1), ranges = 0;
      for (const item of node.items) { const s = nodeSize(item); instructions += s.instructions; ranges += s.ranges; }
      return { instructions, ranges };
    }
    case "repeat": {
      const s = nodeSize(node.item);
      const { min, max } = node;
      if (max === -1) {
        // x* = SPLIT, x, JMP. x{n,} (n >= 1) = n-1 copies of x, then x+ = x, SPLIT.
        if (min === 0) return { instructions: s.instructions + 2, ranges: s.ranges };
        return { instructions: min * s.instructions + 1, ranges: min * s.ranges };
      }
      // x{n,m} = n copies, then m-n nested optional copies (SPLIT, x).
      return {
        instructions: min * s.instructions + (max - min) * (s.instructions + 1),
        ranges: max * s.ranges,
      };
    }
  }
}

/** Whether `node` can match an empty string (assertions such as `^` or `\\b` assumed to hold). */
export function canMatchEmpty(node: RegexNode): boolean {
  let result = emptyCache.get(node);
  if (result === undefined) { result = computeCanMatchEmpty(node); emptyCache.set(node, result); }
  return result;
}

function computeCanMatchEmpty(node: RegexNode): boolean {
  switch (node.kind) {
    case "empty": case "assert": return true;
    case "set": return false;
    case "group": return canMatchEmpty(node.item);
    case "concat": return node.items.every(canMatchEmpty);
    case "alt": return node.items.some(canMatchEmpty);
    case "repeat": return node.min === 0 || canMatchEmpty(node.item);
  }
}

// ---------------------------------------------------------------------------------------------
// Loops over bodies that can match empty
//
// A backtracking engine (Perl, JavaScript) refuses an empty iteration of a loop past its minimum;
// a Pike VM instead drops a thread that reaches a program counter already on the list, and the
// two disagree on which match wins when a loop body can match empty (`(?:a*?)*` on "aa": "aa"
// for JavaScript, "a" for a plain Pike VM; RE2 differs from both in places). Such a loop matches
// the same strings as a loop over the body's non-empty matches only, `x* = (x - "")*`, and on
// loops whose bodies always consume, the Pike VM and backtracking agree exactly (every state is
// reached again only as a duplicate, never through a cycle). So the tree is rewritten here, once,
// and compile.ts and to-js.ts both work from the rewritten tree:
//   x* -> ne(x)*    x+ -> x ne(x)*    x{n,} -> x{n} ne(x)*      (when x can match empty)
// where ne(x) is x restricted to non-empty matches, built structurally, in x's priority order.
//
// INVARIANT (after removeEmptyIterations): the body of every unbounded repetition cannot match
// the empty string.

/** Upper bound on tree slots the rewrite may build; far above what fits in a program. */
const REWRITE_BUDGET = 1_000_000;

function removeEmptyIterations(root: RegexNode): RegexNode {
  let budget = REWRITE_BUDGET;
  const spend = (n: number, at: number): void => {
    budget -= n;
    if (budget < 0) throw new RegexSyntaxError(at, `pattern is too large: its compiled program would exceed ${MAX_PROGRAM_BYTES} bytes`);
  };

  /** x restricted to its empty matches (a zero-width condition), or null when it has none. */
  const emptyPart = (x: RegexNode): RegexNode | null => {
    switch (x.kind) {
      case "set": return null;
      case "empty": case "assert": return x;
      case "group": return emptyPart(x.item);
      case "alt": {
        const items = x.items.map(emptyPart).filter((i): i is RegexNode => i !== null);
        return items.length === 0 ? null : items.length === 1 ? items[0] : { kind: "alt", items, start: x.start };
      }
      case "concat": {
        const items: RegexNode[] = [];
        for (const item of x.items) {
          const e = emptyPart(item);
          if (e === null) return null;
          if (e.kind !== "empty") items.push(e);
        }
        return items.length === 0 ? { kind: "empty", start: x.start } : items.length === 1 ? items[0] : { kind: "concat", items, start: x.start };
      }
      case "repeat":
        if (x.min === 0) return { kind: "empty", start: x.start };
        return emptyPart(x.item);
    }
  };

  /** x restricted to its non-empty matches, or null when it has none. `x` is already rewritten. */
  const nonEmpty = (x: RegexNode): RegexNode | null => {
    switch (x.kind) {
      case "set": return x;
      case "empty": case "assert": return null;
      case "group": return nonEmpty(x.item);
      case "alt": {
        const items = x.items.map(nonEmpty).filter((i): i is RegexNode => i !== null);
        spend(items.length, x.start);
        return items.length === 0 ? null : items.length === 1 ? items[0] : { kind: "alt", items, start: x.start };
      }
      case "concat": {
        // Non-empty paths of a1 a2 ... an: the first item to consume is a_i, the ones before it
        // matched empty.
        const alternatives: RegexNode[] = [];
        const prefix: RegexNode[] = [];
        for (let i = 0; i < x.items.length; i++) {
          const ne = nonEmpty(x.items[i]);
          if (ne !== null) {
            const items = [...prefix, ne, ...x.items.slice(i + 1)];
            spend(items.length, x.start);
            alternatives.push(items.length === 1 ? items[0] : { kind: "concat", items, start: x.start });
          }
          const e = emptyPart(x.items[i]);
          if (e === null) break;
          if (e.kind !== "empty") prefix.push(e);
        }
        return alternatives.length === 0 ? null : alternatives.length === 1 ? alternatives[0] : { kind: "alt", items: alternatives, start: x.start };
      }
      case "repeat": {
        if (!canMatchEmpty(x.item)) {
          // Non-empty iff at least one iteration.
          if (x.max === 0) return null;
          return x.min >= 1 ? x : { ...x, min: 1 };
        }
        // Only bounded repetitions have a nullable body here: spell out the copies as compile.ts
        // lays them out (x{2,3} = x x (x)?), then take the concatenation's non-empty part.
        spend(x.max, x.start);
        const items: RegexNode[] = Array.from({ length: x.min }, () => x.item);
        let optional: RegexNode | null = null;
        for (let i = 0; i < x.max - x.min; i++) {
          const body: RegexNode = optional === null ? x.item : { kind: "concat", items: [x.item, optional], start: x.start };
          const skip: RegexNode = { kind: "empty", start: x.start };
          optional = { kind: "alt", items: x.greedy ? [body, skip] : [skip, body], start: x.start };
        }
        if (optional !== null) items.push(optional);
        return nonEmpty(items.length === 1 ? items[0] : { kind: "concat", items, start: x.start });
      }
    }
  };

  const rewrite = (x: RegexNode): RegexNode => {
    switch (x.kind) {
      case "set": case "empty": case "assert": return x;
      case "group": return { ...x, item: rewrite(x.item) };
      case "alt": case "concat": return { ...x, items: x.items.map(rewrite) };
      case "repeat": {
        const item = rewrite(x.item);
        if (x.max !== -1 || !canMatchEmpty(item)) return { ...x, item };
        const ne = nonEmpty(item);
        const copies: RegexNode[] = Array.from({ length: x.min }, () => item);
        spend(x.min + 1, x.start);
        if (ne !== null) copies.push({ kind: "repeat", min: 0, max: -1, greedy: x.greedy, item: ne, start: x.start });
        if (copies.length === 0) return { kind: "empty", start: x.start };
        return copies.length === 1 ? copies[0] : { kind: "concat", items: copies, start: x.start };
      }
    }
  };

  return rewrite(root);
}

/** Program bytes of a whole pattern: header, SAVE 0, body, SAVE 1, MATCH, range pool. */
export function programBytes(ast: RegexNode): number {
  const s = nodeSize(ast);
  return HEADER_BYTES + (s.instructions + 3) * INSTRUCTION_BYTES + s.ranges * RANGE_BYTES;
}

export function isSingleCodePoint(ranges: readonly CodeRange[]): boolean {
  return ranges.length === 1 && ranges[0][0] === ranges[0][1];
}

/** The innermost-first node whose code alone pushes the program over the limit, if any. */
function checkProgramSize(ast: RegexNode): { offset: number; message: string } | undefined {
  if (programBytes(ast) <= MAX_PROGRAM_BYTES) return undefined;
  // Descend into the child that is itself too large, so the offset points at the culprit.
  let node = ast;
  for (;;) {
    const children = node.kind === "concat" || node.kind === "alt" ? node.items
      : node.kind === "repeat" || node.kind === "group" ? [node.item] : [];
    const big = children.find((c) => programBytes(c) > MAX_PROGRAM_BYTES);
    if (!big) break;
    node = big;
  }
  return { offset: node.start, message: `pattern is too large: its compiled program would exceed ${MAX_PROGRAM_BYTES} bytes` };
}

// ---------------------------------------------------------------------------------------------
// Character sets

const SURROGATES: CodeRange = [0xd800, 0xdfff];

/** Sort, merge and drop surrogates. */
export function normaliseRanges(input: readonly CodeRange[]): CodeRange[] {
  const sorted = [...input].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) { if (hi > last[1]) last[1] = hi; }
    else merged.push([lo, hi]);
  }
  const out: CodeRange[] = [];
  for (const [lo, hi] of merged) {
    if (hi < SURROGATES[0] || lo > SURROGATES[1]) { out.push([lo, hi]); continue; }
    if (lo < SURROGATES[0]) out.push([lo, SURROGATES[0] - 1]);
    if (hi > SURROGATES[1]) out.push([SURROGATES[1] + 1, hi]);
  }
  return out;
}

/** Complement within [0, 0x10FFFF] minus surrogates. */
export function negateRanges(input: readonly CodeRange[]): CodeRange[] {
  const norm = normaliseRanges(input);
  const out: CodeRange[] = [];
  let next = 0;
  for (const [lo, hi] of norm) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return normaliseRanges(out);
}

const DIGIT: CodeRange[] = [[0x30, 0x39]];
const WORD: CodeRange[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
/** RE2's `\s`: `[\t\n\f\r ]` (no `\v`, unlike `[[:space:]]`). */
const PERL_SPACE: CodeRange[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];

const POSIX_CLASSES: Record<string, CodeRange[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

// Simple case folding. The orbit of a code point is the set of code points with the same Unicode
// simple case folding (CaseFolding.txt statuses C and S), e.g. {k, K, U+212A KELVIN SIGN}. We take
// the pairs from the host's toLowerCase/toUpperCase and keep only those that the host's own
// `iu` RegExp canonicalization (which is exactly simple case folding) says are equal; code points
// whose full mapping is several code points are compared with every cased code point by the `iu`
// engine. Built once, on the first `(?i)`; the tables are those of the compiling Node (Unicode 15
// for Node 20), and the result is written into the program, so every host agrees.
let foldOrbits: Map<number, number[]> | undefined;

function buildFoldOrbits(): Map<number, number[]> {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
  };
  // A backreference under `iu` compares canonicalized (simply case-folded) code points.
  const sameFoldPair = /^(.)\1$/isu;
  const sameFold = (a: string, b: string): boolean => sameFoldPair.test(a + b);
  // Every code point with another case changes when case-mapped or case-folded; all are below U+20000.
  const chunks: string[] = [];
  for (let from = 0; from < 0x20000; from += 0x1000) {
    const cps: number[] = [];
    for (let cp = from; cp < from + 0x1000; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
    chunks.push(String.fromCodePoint(...cps));
  }
  const cased = chunks.join("").match(/[\p{Changes_When_Casemapped}\p{Changes_When_Casefolded}]/gu) ?? [];
  const multi: string[] = [];
  for (const s of cased) {
    const cp = s.codePointAt(0)!;
    for (const t of [s.toLowerCase(), s.toUpperCase()]) {
      if (t === s) continue;
      const tcp = t.codePointAt(0)!;
      if (t.length !== String.fromCodePoint(tcp).length) { multi.push(s); continue; }
      if (sameFold(s, t)) union(cp, tcp);
    }
  }
  // A code point whose full mapping is several code points (ß -> SS) may still share a simple
  // folding with another one (ß and ẞ): ask the `iu` canonicalization against every cased one.
  const casedText = cased.join("");
  for (const s of new Set(multi)) {
    const cp = s.codePointAt(0)!;
    for (const m of casedText.matchAll(new RegExp(jsCodePointEscape(cp), "giu"))) {
      const other = m[0].codePointAt(0)!;
      if (other !== cp) union(cp, other);
    }
  }
  const orbits = new Map<number, number[]>();
  for (const cp of parent.keys()) {
    const root = find(cp);
    let orbit = orbits.get(root);
    if (!orbit) { orbit = []; orbits.set(root, orbit); }
    if (!orbit.includes(cp)) orbit.push(cp);
    if (!orbit.includes(root)) orbit.push(root);
  }
  const byMember = new Map<number, number[]>();
  for (const orbit of orbits.values()) {
    orbit.sort((a, b) => a - b);
    if (orbit.length > 1) for (const cp of orbit) byMember.set(cp, orbit);
  }
  return byMember;
}

/** Code points with a non-trivial fold orbit, ascending, and the orbit of each. */
let foldable: number[] | undefined;

function orbits(): Map<number, number[]> {
  if (!foldOrbits) {
    foldOrbits = buildFoldOrbits();
    foldable = [...foldOrbits.keys()].sort((a, b) => a - b);
  }
  return foldOrbits;
}

/** The case-fold orbit of `cp` (just `[cp]` when it has no other case). */
export function foldOrbit(cp: number): readonly number[] {
  return orbits().get(cp) ?? [cp];
}

/** Close a set of ranges under simple case folding. */
export function foldRanges(ranges: readonly CodeRange[]): CodeRange[] {
  const table = orbits();
  const extra: CodeRange[] = [];
  for (const cp of foldable!) {
    if (!containsCodePoint(ranges, cp)) continue;
    for (const other of table.get(cp)!) extra.push([other, other]);
  }
  return normaliseRanges([...ranges, ...extra]);
}

function containsCodePoint(ranges: readonly CodeRange[], cp: number): boolean {
  for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
  return false;
}

/** `\u{...}` escape valid in a `u`-flag JavaScript RegExp. */
export function jsCodePointEscape(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

// ---------------------------------------------------------------------------------------------
// Parser

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isWordChar = (c: number): boolean => containsCodePoint(WORD, c);
/** What RE2 lets one escape with a backslash: ASCII punctuation (not letters, digits or `_`). */
const isEscapablePunct = (c: number): boolean => c < 0x80 && c > 0x20 && c !== 0x7f && !isWordChar(c);

/** `[:name:]` or `[:^name:]`, matched in place (sticky) so a long pattern is never copied. */
const POSIX_CLASS_SYNTAX = /\[:(\^?)([a-z]+):\]/y;

/**
 * A Perl or POSIX class, possibly negated, under the current folding: folded first, then
 * negated, as RE2 (`(?i)\W` excludes U+017F, which `(?i)\w` includes). The complement of a
 * fold-closed set is fold-closed, so folding the whole class again later changes nothing.
 */
function classItem(base: readonly CodeRange[], negated: boolean, fold: boolean): CodeRange[] {
  const positive = fold ? foldRanges(base) : normaliseRanges(base);
  return negated ? negateRanges(positive) : positive;
}

const ESCAPED_CONTROLS: Record<string, number> = { a: 0x07, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly names = new Set<string>();

  constructor(private readonly src: string) {
    for (let i = 0; i < src.length; i++) {
      const c = src.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = src.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
        throw new RegexSyntaxError(i, "invalid UTF-16 in pattern (lone surrogate)");
      }
      if (c >= 0xdc00 && c <= 0xdfff) throw new RegexSyntaxError(i, "invalid UTF-16 in pattern (lone surrogate)");
    }
  }

  parsePattern(): RegexNode {
    const flags: Flags = { fold: false, multiLine: false, dotAll: false, ungreedy: false };
    const node = this.parseAlternation(flags, 0);
    if (this.pos < this.src.length) {
      // parseAlternation stops only at `)` or the end.
      throw new RegexSyntaxError(this.pos, "unmatched `)`");
    }
    return node;
  }

  private atEnd(): boolean { return this.pos >= this.src.length; }
  private peek(k = 0): number {
    let p = this.pos;
    for (let i = 0; i < k && p < this.src.length; i++) p += this.src.codePointAt(p)! > 0xffff ? 2 : 1;
    return p < this.src.length ? this.src.codePointAt(p)! : -1;
  }
  private next(): number {
    const c = this.src.codePointAt(this.pos)!;
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }
  private lookingAt(s: string): boolean { return this.src.startsWith(s, this.pos); }
  private fail(offset: number, message: string): never { throw new RegexSyntaxError(offset, message); }
  /** The pattern text from `from` to the current position, for messages. */
  private text(from: number): string { return this.src.slice(from, this.pos); }

  private enter(offset: number): void {
    if (++this.depth > MAX_NESTING) this.fail(offset, `pattern nests too deeply (more than ${MAX_NESTING} levels)`);
  }

  /** alternation := concat ('|' concat)*; stops before `)` or at the end. */
  private parseAlternation(flags: Flags, start: number): RegexNode {
    const items: RegexNode[] = [this.parseConcat(flags)];
    while (this.peek() === 0x7c /* | */) {
      this.pos++;
      items.push(this.parseConcat(flags));
    }
    return items.length === 1 ? items[0] : { kind: "alt", items, start };
  }

  private parseConcat(flags: Flags): RegexNode {
    const start = this.pos;
    const items: RegexNode[] = [];
    while (!this.atEnd()) {
      const c = this.peek();
      if (c === 0x7c || c === 0x29 /* ) */) break;
      const atomStart = this.pos;
      if (this.lookingAt("\\Q")) {
        // \Q...\E: literal text; as in RE2 a following repetition applies to its last character only.
        const literals = this.parseQuoted(flags);
        if (literals.length === 0) {
          if (this.quantifierAhead()) this.fail(this.pos, `missing argument to repetition operator \`${this.quantifierText()}\``);
          continue;
        }
        const last = literals.pop()!;
        items.push(...literals, this.parseQuantifiers(last, last.start, flags));
        continue;
      }
      const atom = this.parseAtom(flags);
      if (atom === null) {
        // A flags group `(?i)` matches nothing and cannot be repeated.
        if (this.quantifierAhead()) this.fail(this.pos, `missing argument to repetition operator \`${this.quantifierText()}\``);
        continue;
      }
      items.push(this.parseQuantifiers(atom, atomStart, flags));
    }
    if (items.length === 0) return { kind: "empty", start };
    return items.length === 1 ? items[0] : { kind: "concat", items, start };
  }

  /** True when a repetition operator starts here (`{` only when it is a well-formed `{n,m}`). */
  private quantifierAhead(): boolean {
    const c = this.peek();
    if (c === 0x2a || c === 0x2b || c === 0x3f) return true;
    return c === 0x7b && this.scanBraces() !== undefined;
  }

  private quantifierText(): string {
    const c = this.peek();
    if (c !== 0x7b) return String.fromCodePoint(c);
    const end = this.scanBraces()!.end;
    return this.src.slice(this.pos, end);
  }

  /** Parse `{n}`, `{n,}`, `{n,m}` at pos without consuming; undefined when it is not one (then `{` is a literal). */
  private scanBraces(): { min: number; max: number; end: number; tooBig: boolean } | undefined {
    const s = this.src;
    let p = this.pos + 1;
    const digits = (): string | undefined => {
      const from = p;
      while (p < s.length && isDigit(s.charCodeAt(p))) p++;
      return p > from ? s.slice(from, p) : undefined;
    };
    const lo = digits();
    if (lo === undefined) return undefined;
    let hi: string | undefined = lo;
    let unbounded = false;
    if (s.charCodeAt(p) === 0x2c /* , */) {
      p++;
      hi = digits();
      if (hi === undefined) unbounded = true;
    }
    if (s.charCodeAt(p) !== 0x7d /* } */) return undefined;
    p++;
    // Compare as strings first so a 400-digit count cannot become Infinity silently.
    const num = (d: string): number => (d.replace(/^0+(?=.)/, "").length > 4 ? MAX_REPEAT + 1 : Number(d));
    const min = num(lo);
    const max = unbounded ? -1 : num(hi!);
    return { min, max, end: p, tooBig: min > MAX_REPEAT || max > MAX_REPEAT };
  }

  private parseQuantifiers(atom: RegexNode, atomStart: number, flags: Flags): RegexNode {
    if (!this.quantifierAhead()) return atom;
    const opStart = this.pos;
    let min: number, max: number;
    const c = this.peek();
    if (c === 0x7b) {
      const b = this.scanBraces()!;
      const text = this.src.slice(this.pos, b.end);
      if (b.tooBig) this.fail(opStart, `repetition count over ${MAX_REPEAT} in \`${text}\``);
      if (b.max !== -1 && b.max < b.min) this.fail(opStart, `invalid repetition range \`${text}\`: maximum is less than minimum`);
      min = b.min; max = b.max;
      this.pos = b.end;
    } else {
      this.pos++;
      [min, max] = c === 0x2a ? [0, -1] : c === 0x2b ? [1, -1] : [0, 1];
    }
    let greedy = true;
    if (this.peek() === 0x3f /* ? */) { this.pos++; greedy = false; }
    if (flags.ungreedy) greedy = !greedy;
    if (this.peek() === 0x2b /* + */) this.fail(this.pos, `possessive quantifiers are not supported: \`${this.src.slice(opStart, this.pos + 1)}\``);
    if (this.quantifierAhead()) {
      this.fail(this.pos, `bad repetition operator \`${this.src.slice(opStart, this.pos)}${this.quantifierText()}\`: a repetition cannot be repeated without parentheses`);
    }
    return { kind: "repeat", min, max, greedy, item: atom, start: atomStart };
  }

  /** One atom, or null for a flags-only group such as `(?i)`. */
  private parseAtom(flags: Flags): RegexNode | null {
    const start = this.pos;
    const c = this.peek();
    switch (c) {
      case 0x28: return this.parseGroup(flags);
      case 0x5b: return this.parseClass(flags);
      case 0x2e: { // .
        this.pos++;
        return { kind: "set", ranges: flags.dotAll ? negateRanges([]) : negateRanges([[0x0a, 0x0a]]), start };
      }
      case 0x5e: this.pos++; return { kind: "assert", assert: flags.multiLine ? "begin_line" : "begin_text", start };
      case 0x24: this.pos++; return { kind: "assert", assert: flags.multiLine ? "end_line" : "end_text", start };
      case 0x2a: case 0x2b: case 0x3f:
        this.fail(start, `missing argument to repetition operator \`${String.fromCodePoint(c)}\``);
      case 0x7b:
        if (this.scanBraces()) this.fail(start, `missing argument to repetition operator \`${this.quantifierText()}\``);
        this.pos++;
        return this.literal(c, flags, start);
      case 0x5c: return this.parseEscape(flags);
      default:
        this.next();
        return this.literal(c, flags, start);
    }
  }

  private literal(cp: number, flags: Flags, start: number): RegexNode {
    const ranges: CodeRange[] = flags.fold ? normaliseRanges(foldOrbit(cp).map((x) => [x, x] as const)) : normaliseRanges([[cp, cp]]);
    return { kind: "set", ranges, start };
  }

  private parseGroup(flags: Flags): RegexNode | null {
    const start = this.pos;
    this.pos++; // (
    if (this.peek() !== 0x3f /* ? */) return this.finishGroup(flags, start, true, undefined);
    // (? ...
    if (this.lookingAt("?P<") || (this.lookingAt("?<") && this.peek(2) !== 0x3d && this.peek(2) !== 0x21)) {
      this.pos += this.lookingAt("?P<") ? 3 : 2;
      const nameStart = this.pos;
      while (!this.atEnd() && this.peek() !== 0x3e /* > */) this.next();
      if (this.atEnd()) this.fail(start, "missing `>` after capture group name");
      const name = this.src.slice(nameStart, this.pos);
      if (!/^[A-Za-z0-9_]+$/.test(name)) this.fail(nameStart, `invalid capture group name \`${name}\``);
      if (this.names.has(name)) this.fail(nameStart, `duplicate capture group name \`${name}\``);
      this.names.add(name);
      this.pos++; // >
      return this.finishGroup(flags, start, true, name);
    }
    if (this.lookingAt("?P=")) this.fail(start, "backreferences are not supported (`(?P=name)`)");
    if (this.lookingAt("?P>") || this.lookingAt("?R") || this.lookingAt("?&")) this.fail(start, "recursion is not supported");
    if (this.lookingAt("?=") || this.lookingAt("?!")) this.fail(start, `lookahead \`(${this.src.slice(this.pos, this.pos + 2)}\` is not supported`);
    if (this.lookingAt("?<=") || this.lookingAt("?<!")) this.fail(start, `lookbehind \`(${this.src.slice(this.pos, this.pos + 3)}\` is not supported`);
    if (this.lookingAt("?#")) this.fail(start, "comments `(?#...)` are not supported");
    if (this.lookingAt("?>")) this.fail(start, "atomic groups `(?>...)` are not supported");
    // Flags: (?flags) or (?flags:...), flags = [imsU]* optionally followed by - and [imsU]+.
    this.pos++; // ?
    const next: Flags = { ...flags };
    let negate = false, sawFlag = false, sawNegatedFlag = false;
    for (;;) {
      if (this.atEnd()) this.fail(start, "missing closing `)`");
      const at = this.pos;
      const f = this.next();
      if (f === 0x69 || f === 0x6d || f === 0x73 || f === 0x55) {
        const on = !negate;
        if (f === 0x69) next.fold = on;
        else if (f === 0x6d) next.multiLine = on;
        else if (f === 0x73) next.dotAll = on;
        else next.ungreedy = on;
        sawFlag = true;
        if (negate) sawNegatedFlag = true;
        continue;
      }
      if (f === 0x2d /* - */) {
        if (negate) this.fail(at, `invalid flags group \`${this.text(start)}\`: more than one \`-\``);
        negate = true;
        continue;
      }
      if (f === 0x29 /* ) */ || f === 0x3a /* : */) {
        if ((!sawFlag && (f === 0x29 || negate)) || (negate && !sawNegatedFlag)) this.fail(start, `invalid flags group \`${this.text(start)}\``);
        if (f === 0x29) {
          // (?flags): applies to the rest of the enclosing group.
          Object.assign(flags, next);
          return null;
        }
        return this.finishGroup(next, start, false, undefined);
      }
      this.fail(at, `invalid or unsupported group syntax \`${this.text(start)}\``);
    }
  }

  private finishGroup(flags: Flags, start: number, capture: boolean, name: string | undefined): RegexNode {
    this.enter(start);
    const inner = this.parseAlternation({ ...flags }, this.pos);
    this.depth--;
    if (this.peek() !== 0x29) this.fail(start, "missing closing `)`");
    this.pos++;
    return name === undefined ? { kind: "group", item: inner, capture, start } : { kind: "group", item: inner, capture, name, start };
  }

  /** An escape outside a class. */
  private parseEscape(flags: Flags): RegexNode {
    const start = this.pos;
    const c = this.peek(1);
    switch (c) {
      case 0x41: this.pos += 2; return { kind: "assert", assert: "begin_text", start }; // \A
      case 0x7a: this.pos += 2; return { kind: "assert", assert: "end_text", start }; // \z
      case 0x62: this.pos += 2; return { kind: "assert", assert: "word_boundary", start }; // \b
      case 0x42: this.pos += 2; return { kind: "assert", assert: "not_word_boundary", start }; // \B
    }
    const perl = this.perlClass(flags);
    if (perl) return { kind: "set", ranges: perl, start };
    return this.literal(this.parseCharEscape(), flags, start);
  }

  /** `\Q...\E` at pos (the `\E` may be missing at the end): one literal per code point. */
  private parseQuoted(flags: Flags): RegexNode[] {
    this.pos += 2;
    const items: RegexNode[] = [];
    while (!this.atEnd() && !this.lookingAt("\\E")) {
      const at = this.pos;
      // RE2 lets `\\` inside \Q...\E stand for one backslash.
      if (this.lookingAt("\\\\")) { this.pos += 2; items.push(this.literal(0x5c, flags, at)); continue; }
      items.push(this.literal(this.next(), flags, at));
    }
    if (!this.atEnd()) this.pos += 2;
    return items;
  }

  /** `\d \D \w \W \s \S` at pos: consume and return the set (folded under `(?i)`), or undefined. */
  private perlClass(flags: Flags): CodeRange[] | undefined {
    const c = this.peek(1);
    let base: CodeRange[] | undefined;
    if (c === 0x64 || c === 0x44) base = DIGIT;
    else if (c === 0x77 || c === 0x57) base = WORD;
    else if (c === 0x73 || c === 0x53) base = PERL_SPACE;
    if (!base) return undefined;
    this.pos += 2;
    return classItem(base, c < 0x61, flags.fold);
  }

  /** An escape that stands for one code point (outside or inside a class); `\` is at pos. */
  private parseCharEscape(): number {
    const start = this.pos;
    this.pos++; // backslash
    if (this.atEnd()) this.fail(start, "trailing backslash at end of pattern");
    const c = this.next();
    const ch = String.fromCodePoint(c);
    if (ESCAPED_CONTROLS[ch] !== undefined) return ESCAPED_CONTROLS[ch];
    if (c === 0x30) { // \0, \0o, \0oo: octal
      let v = 0;
      for (let i = 0; i < 2 && this.peek() >= 0x30 && this.peek() <= 0x37; i++) v = v * 8 + (this.next() - 0x30);
      return v;
    }
    if (c >= 0x31 && c <= 0x39) this.fail(start, `backreferences are not supported (\`${this.text(start)}\`)`);
    if (c === 0x78) { // \x
      if (this.peek() === 0x7b) {
        this.pos++;
        const digitsStart = this.pos;
        while (isHex(this.peek())) this.pos++;
        const hex = this.src.slice(digitsStart, this.pos);
        if (hex.length === 0 || this.peek() !== 0x7d) this.fail(start, `invalid escape sequence \`${this.src.slice(start, this.pos + 1)}\`: expected \`\\x{HEX}\``);
        this.pos++;
        const v = hex.replace(/^0+(?=.)/, "").length > 6 ? Infinity : parseInt(hex, 16);
        if (v > MAX_CODE_POINT) this.fail(start, `code point out of range in \`${this.text(start)}\` (maximum is \`\\x{10FFFF}\`)`);
        return v;
      }
      if (isHex(this.peek()) && isHex(this.peek(1))) {
        const v = parseInt(this.src.slice(this.pos, this.pos + 2), 16);
        this.pos += 2;
        return v;
      }
      this.fail(start, `invalid escape sequence \`${this.src.slice(start, Math.min(this.pos + 2, this.src.length))}\`: expected \`\\xHH\` or \`\\x{HEX}\``);
    }
    if (c === 0x70 || c === 0x50) this.fail(start, `Unicode classes \`\\${ch}\` are not supported`);
    if (c === 0x43) this.fail(start, "`\\C` (any byte) is not supported");
    if (c === 0x6b) this.fail(start, "backreferences are not supported (`\\k`)");
    if (c === 0x67) this.fail(start, "backreferences are not supported (`\\g`)");
    if (isEscapablePunct(c)) return c;
    this.fail(start, `invalid escape sequence \`\\${ch}\``);
  }

  private parseClass(flags: Flags): RegexNode {
    const start = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.peek() === 0x5e) { negated = true; this.pos++; }
    const ranges: CodeRange[] = [];
    let first = true;
    for (;;) {
      if (this.atEnd()) this.fail(start, "missing closing `]` in character class");
      const at = this.pos;
      const c = this.peek();
      // As in RE2 and POSIX, `]` right after `[` or `[^` is a literal.
      if (c === 0x5d && !first) { this.pos++; break; }
      first = false;
      if (c === 0x5b && this.peek(1) === 0x3a) {
        POSIX_CLASS_SYNTAX.lastIndex = this.pos;
        const m = POSIX_CLASS_SYNTAX.exec(this.src);
        if (m) {
          const cls = POSIX_CLASSES[m[2]];
          if (!cls) this.fail(at, `invalid character class \`${m[0]}\``);
          this.pos += m[0].length;
          ranges.push(...classItem(cls, m[1] === "^", flags.fold));
          continue;
        }
      }
      if (c === 0x5c) {
        const perl = this.perlClass(flags);
        if (perl) { ranges.push(...perl); continue; }
      }
      const lo = this.classChar();
      if (this.peek() === 0x2d && this.peek(1) !== 0x5d && this.peek(1) !== -1) {
        this.pos++; // -
        const hiAt = this.pos;
        if (this.peek() === 0x5c && this.perlClass(flags)) this.fail(at, `invalid character class range \`${this.text(at)}\``);
        this.pos = hiAt;
        const hi = this.classChar();
        if (hi < lo) this.fail(at, `invalid character class range \`${this.text(at)}\`: end is before start`);
        ranges.push([lo, hi]);
      } else {
        ranges.push([lo, lo]);
      }
    }
    // Fold first, then negate: (?i)[^k] excludes k, K and the Kelvin sign (as RE2).
    const positive = flags.fold ? foldRanges(ranges) : normaliseRanges(ranges);
    return { kind: "set", ranges: negated ? negateRanges(positive) : positive, start };
  }

  /** One code point inside a class: a literal or a character escape. */
  private classChar(): number {
    if (this.peek() === 0x5c) {
      const at = this.pos;
      const c = this.peek(1);
      if (c === 0x62 || c === 0x42 || c === 0x41 || c === 0x7a || c === 0x51) {
        this.fail(at, `invalid escape sequence \`\\${String.fromCodePoint(c)}\` in character class`);
      }
      return this.parseCharEscape();
    }
    return this.next();
  }
}
