// Compiler errors: every front-end stage (parse-yaml, parse-expr, check) reports problems as
// PolicyError values that carry a file offset range; the 1-based line:col is computed once from
// the file text, and formatPolicyError prints the STYLE.md form:
//
//   policies/procurement.yaml:24:19: unknown field `params.ammount`
//    |       when: params.ammount > 5000
//    | ..................^
//
// Columns count Unicode code points from the start of the line (a tab is one column).
import type { Source } from "./ast.ts";

/** Offsets where each line starts, for the most recently used text (files are looked up many times). */
let cachedText: string | null = null;
let cachedLineStarts: number[] = [];

function lineStartsOf(text: string): number[] {
  // INVARIANT: identity comparison first, so a cache hit costs O(1) even for a 1 MiB text.
  if (text === cachedText) return cachedLineStarts;
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  cachedText = text;
  cachedLineStarts = starts;
  return starts;
}

/** 1-based line and column (in code points) of `offset` in `text`; offsets past the end clamp. */
export function lineColOf(text: string, offset: number): { line: number; col: number } {
  const at = Math.max(0, Math.min(offset, text.length));
  const starts = lineStartsOf(text);
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= at) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: codePointCount(text, starts[lo], at) + 1 };
}

/** Number of code points in text[from, to), counting a surrogate pair once. */
function codePointCount(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** One problem in one policy file (or standalone expression), with its position. */
export class PolicyError extends Error {
  /** The file path as given to the compiler (`<expr>` for standalone expressions). */
  file: string;
  /** Offset of the problem in the file text (JS string index). */
  offset: number;
  /** End offset (exclusive) of the problem's range; equal to `offset` for a point. */
  end: number;
  /** 1-based line of `offset`. */
  line: number;
  /** 1-based column (code points) of `offset`. */
  col: number;

  /**
   * `text` is the file's text, used only to compute line and column; when it is not known the
   * position is 1:1 plus nothing, so callers should pass it whenever they have it.
   */
  constructor(file: string, text: string | null, offset: number, end: number, message: string) {
    super(message);
    this.name = "PolicyError";
    this.file = file;
    this.offset = offset;
    this.end = Math.max(offset, end);
    const { line, col } = text === null ? { line: 1, col: 1 } : lineColOf(text, offset);
    this.line = line;
    this.col = col;
  }
}

/** Thrown by `compile` when a bundle has errors; `message` is every error formatted. */
/**
 * What `compile` throws: the array of every PolicyError (CONTRACT §5: "throws PolicyError[]"),
 * with a `message` that is all of them formatted, so it also reads well when printed as an error.
 */
export class PolicyErrors extends Array<PolicyError> {
  // Derived arrays (map, filter, slice) are plain arrays: this constructor takes other arguments.
  static get [Symbol.species](): ArrayConstructor { return Array; }
  readonly name = "PolicyErrors";
  readonly message: string;

  constructor(errors: PolicyError[], sources: Source[]) {
    super();
    for (const e of errors) this.push(e);
    this.message = errors.map((e) => formatPolicyError(e, sources)).join("\n");
  }

  /** The errors as a plain array. */
  get errors(): PolicyError[] { return Array.from(this); }

  override toString(): string { return this.message; }
}

/**
 * The error as `file:line:col: message`, followed (when the file's text is among `sources`) by
 * the source line and a caret line of dots pointing at the column.
 */
export function formatPolicyError(e: PolicyError, sources: Source[]): string {
  const head = `${e.file}:${e.line}:${e.col}: ${e.message}`;
  const source = sources.find((s) => s.path === e.file);
  if (source === undefined) return head;
  const text = source.text;
  const at = Math.max(0, Math.min(e.offset, text.length));
  let lineStart = at;
  while (lineStart > 0 && text[lineStart - 1] !== "\n" && text[lineStart - 1] !== "\r") lineStart--;
  let lineEnd = at;
  while (lineEnd < text.length && text[lineEnd] !== "\n" && text[lineEnd] !== "\r") lineEnd++;
  // INVARIANT: the printed line is one physical line, so the caret line stays aligned with it.
  const lineText = text.slice(lineStart, lineEnd);
  const dots = ".".repeat(codePointCount(text, lineStart, at));
  return `${head}\n | ${lineText}\n | ${dots}^`;
}

/** Sorts errors by file order in `sources`, then offset; keeps the original order for ties. */
export function sortPolicyErrors(errors: PolicyError[], sources: Source[]): PolicyError[] {
  const fileIndex = new Map(sources.map((s, i) => [s.path, i] as const));
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) =>
      (fileIndex.get(a.e.file) ?? -1) - (fileIndex.get(b.e.file) ?? -1) ||
      a.e.offset - b.e.offset ||
      a.i - b.i)
    .map((x) => x.e);
}
