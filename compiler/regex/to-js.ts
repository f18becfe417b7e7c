// Regex translation for the TypeScript reference interpreter: RE2 pattern -> JavaScript RegExp
// (flag `u`) that matches exactly what the engine's Pike VM matches, with the same leftmost-first
// match extents. Input: a pattern (parsed by parse.ts). Output: a RegExp.
//
// Nothing is left to JavaScript's own reading of the pattern: every character set is written as
// explicit `\u{...}` ranges (so `\s`, `\w`, `.`, `(?i)` and `(?s)` mean what parse.ts decided),
// captures become `(?:...)`, and flags never reach the RegExp. The one place where a backtracking
// engine and a Pike VM differ is an optional part whose body can match the empty string:
// JavaScript rejects an empty iteration of `x?` / `x{n,m}` once the minimum is met, the VM does
// not (nor does RE2). Such repetitions are written as alternations, which have no empty check:
// `x?` = `(?:x|)`, `x??` = `(?:|x)`. For `*`, `+` and `{n,}` the two already agree: the VM drops a
// thread that comes back to the loop at the same position, which is JavaScript's empty check.

import { parseRegex, jsCodePointEscape, canMatchEmpty, type RegexNode, type CodeRange } from "./parse.ts";

/**
 * A JavaScript RegExp with the same matches as the engine for `pattern`. `extraFlags` may add
 * `g` or `y` (for DLP replacement loops); the translation itself needs only `u`.
 * Throws an Error with the parse message on an invalid pattern.
 */
export function regexToJs(pattern: string, extraFlags = ""): RegExp {
  return new RegExp(regexToJsSource(pattern), "u" + extraFlags);
}

/** The source text of regexToJs's RegExp (for the `u` flag). */
export function regexToJsSource(pattern: string): string {
  const parsed = parseRegex(pattern);
  if (!parsed.ok) {
    const error = new Error(parsed.message) as Error & { offset: number };
    error.offset = parsed.offset;
    throw error;
  }
  const source = translate(parsed.ast) || "(?:)";
  // V8 tries an empty match even in the middle of a surrogate pair (`/\\B/u` finds one inside
  // "a😀"); no consuming step can succeed there, so only nullable patterns need the guard
  // "a code point starts here, or this is the end".
  return canMatchEmpty(parsed.ast) ? `${MIDDLE_OF_PAIR_GUARD}(?:${source})` : source;
}

const MIDDLE_OF_PAIR_GUARD = "(?=[^]|$)";

const ASSERTIONS: Record<string, string> = {
  begin_text: "^",
  end_text: "$",
  // Not `(?<![^\\n])` / `(?![^\\n])`: V8 lets those match inside a surrogate pair.
  begin_line: "(?:^|(?<=\\n))",
  end_line: "(?:$|(?=\\n))",
  word_boundary: "\\b",
  not_word_boundary: "\\B",
};

// Recursion depth is bounded by the parser's nesting limit.
function translate(node: RegexNode): string {
  switch (node.kind) {
    case "empty": return "";
    case "set": return setSource(node.ranges);
    case "assert": return ASSERTIONS[node.assert];
    case "group": return `(?:${translate(node.item)})`;
    case "concat": return node.items.map((item) => (item.kind === "alt" ? `(?:${translate(item)})` : translate(item))).join("");
    case "alt": return node.items.map(translate).join("|");
    case "repeat": return repeatSource(node);
  }
}

function repeatSource(node: Extract<RegexNode, { kind: "repeat" }>): string {
  const { min, max, greedy, item } = node;
  const body = translate(item);
  const atom = item.kind === "set" || item.kind === "group" ? body : `(?:${body})`;
  const lazy = greedy ? "" : "?";
  if (max === -1) {
    if (min === 0) return `${atom}*${lazy}`;
    if (min === 1) return `${atom}+${lazy}`;
    return `${atom}{${min},}${lazy}`;
  }
  if (!canMatchEmpty(item)) {
    if (min === 0 && max === 1) return `${atom}?${lazy}`;
    if (min === max) return `${atom}{${min}}`;
    return `${atom}{${min},${max}}${lazy}`;
  }
  // A nullable body: the mandatory copies (no empty check applies below the minimum), then the
  // optional copies as nested alternations, exactly as compile.ts lays them out.
  let optional = "";
  for (let i = 0; i < max - min; i++) {
    optional = greedy ? `(?:${atom}${optional}|)` : `(?:|${atom}${optional})`;
  }
  const mandatory = min === 0 ? "" : min === 1 ? atom : `${atom}{${min}}`;
  return mandatory + optional;
}

function charSource(cp: number): string {
  const isAlnum = (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return isAlnum ? String.fromCharCode(cp) : jsCodePointEscape(cp);
}

function setSource(ranges: readonly CodeRange[]): string {
  if (ranges.length === 1 && ranges[0][0] === ranges[0][1]) return charSource(ranges[0][0]);
  let out = "[";
  for (const [lo, hi] of ranges) {
    out += charSource(lo);
    if (hi !== lo) out += (hi === lo + 1 ? "" : "-") + charSource(hi);
  }
  return out + "]";
}
