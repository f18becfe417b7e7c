// Tests of the regex parser (syntax accepted, errors with offsets, case folding, size limit) and
// of the program compiler's layout.
import { describe, it, expect } from "vitest";
import { parseRegex, foldOrbit, programBytes, MAX_PROGRAM_BYTES, type RegexNode } from "./parse.ts";
import { compileRegex, disassembleRegex, regexMatchesEmpty } from "./compile.ts";

function error(pattern: string): { offset: number; message: string } {
  const r = parseRegex(pattern);
  if (r.ok) throw new Error(`\`${pattern}\` parsed`);
  return { offset: r.offset, message: r.message };
}

function ast(pattern: string): RegexNode {
  const r = parseRegex(pattern);
  if (!r.ok) throw new Error(`\`${pattern}\`: ${r.message} at ${r.offset}`);
  return r.ast;
}

describe("parseRegex errors", () => {
  const cases: [pattern: string, offset: number, message: RegExp][] = [
    ["a(?=b)", 1, /^lookahead `\(\?=` is not supported$/],
    ["a(?!b)", 1, /^lookahead `\(\?!` is not supported$/],
    ["(?<=a)b", 0, /^lookbehind `\(\?<=` is not supported$/],
    ["(?<!a)b", 0, /^lookbehind `\(\?<!` is not supported$/],
    ["(a)\\1", 3, /^backreferences are not supported/],
    ["(?P<n>a)(?P=n)", 8, /^backreferences are not supported/],
    ["\\k<n>", 0, /^backreferences are not supported/],
    ["a++", 2, /^possessive quantifiers are not supported: `\+\+`$/],
    ["a*+", 2, /^possessive quantifiers/],
    ["a{2}+", 4, /^possessive quantifiers/],
    ["a**", 2, /^bad repetition operator `\*\*`/],
    ["a*??", 3, /^bad repetition operator `\*\?\?`/],
    ["x{2}{3}", 4, /^bad repetition operator `\{2\}\{3\}`/],
    ["\\pL", 0, /^Unicode classes `\\p` are not supported$/],
    ["ab\\p{Greek}", 2, /^Unicode classes `\\p` are not supported$/],
    ["[\\PL]", 1, /^Unicode classes `\\P` are not supported$/],
    ["\\C", 0, /^`\\C` \(any byte\) is not supported$/],
    ["a\\q", 1, /^invalid escape sequence `\\q`$/],
    ["\\Z", 0, /^invalid escape sequence `\\Z`$/],
    ["[\\b]", 1, /^invalid escape sequence `\\b` in character class$/],
    ["ab\\", 2, /^trailing backslash at end of pattern$/],
    ["a{1001}", 1, /^repetition count over 1000 in `\{1001\}`$/],
    ["a{0,99999999999999999999}", 1, /^repetition count over 1000/],
    ["a{2,1}", 1, /^invalid repetition range `\{2,1\}`: maximum is less than minimum$/],
    ["(ab", 0, /^missing closing `\)`$/],
    ["a(b(c)", 1, /^missing closing `\)`$/],
    ["ab)", 2, /^unmatched `\)`$/],
    ["[]", 0, /^missing closing `]` in character class$/],
    ["[a", 0, /^missing closing `]` in character class$/],
    ["x[^]", 1, /^missing closing `]`/],
    ["[z-a]", 1, /^invalid character class range `z-a`: end is before start$/],
    ["[a-\\d]", 1, /^invalid character class range `a-\\d`$/],
    ["[[:foo:]]", 1, /^invalid character class `\[:foo:\]`$/],
    ["*a", 0, /^missing argument to repetition operator `\*`$/],
    ["a|*", 2, /^missing argument to repetition operator `\*`$/],
    ["(+)", 1, /^missing argument to repetition operator `\+`$/],
    ["{2}", 0, /^missing argument to repetition operator `\{2\}`$/],
    ["(?i)*", 4, /^missing argument to repetition operator `\*`$/],
    ["\\x{110000}", 0, /^code point out of range in `\\x\{110000\}`/],
    ["\\x{}", 0, /^invalid escape sequence `\\x\{\}`/],
    ["\\xZZ", 0, /^invalid escape sequence `\\xZZ`: expected `\\xHH` or `\\x\{HEX\}`$/],
    ["(?P<n>a)(?P<n>b)", 12, /^duplicate capture group name `n`$/],
    ["(?P<a-b>x)", 4, /^invalid capture group name `a-b`$/],
    ["(?P<>x)", 4, /^invalid capture group name ``$/],
    ["(?P<n", 0, /^missing `>` after capture group name$/],
    ["(?#note)", 0, /^comments `\(\?#\.\.\.\)` are not supported$/],
    ["(?>a)", 0, /^atomic groups/],
    ["(?z)", 2, /^invalid or unsupported group syntax `\(\?z`$/],
    ["(?)", 0, /^invalid flags group `\(\?\)`$/],
    ["(?i-)", 0, /^invalid flags group `\(\?i-\)`$/],
    ["(?i-s-m)", 5, /^invalid flags group `\(\?i-s-`: more than one `-`$/],
    ["é(?=x)", 1, /^lookahead/],
    ["😀(?=x)", 2, /^lookahead/], // offsets are UTF-16 indices
    ["a\ud800", 1, /^invalid UTF-16 in pattern \(lone surrogate\)$/],
    ["(a{1000}){1000}", 0, /^pattern is too large: its compiled program would exceed 65536 bytes$/],
    ["x(?:[a-z]{1000}){10}", 1, /^pattern is too large/],
    ["(".repeat(1001) + ")".repeat(1001), 1000, /^pattern nests too deeply \(more than 1000 levels\)$/],
  ];
  for (const [pattern, offset, message] of cases) {
    it(`rejects \`${pattern.length > 40 ? pattern.slice(0, 40) + "..." : pattern}\``, () => {
      const e = error(pattern);
      expect(e.message).toMatch(message);
      expect(e.offset).toBe(offset);
      expect(() => compileRegex(pattern)).toThrow(e.message);
    });
  }

  it("never throws anything but a parse result on arbitrary input", () => {
    const pieces = ["(", ")", "[", "]", "{", "}", "\\", "?", "*", "+", "|", "^", "$", "-", ",", "1", "a", "P", "<", ">", ":", "i", "x", "é", "\ud83d"];
    for (let n = 0; n < 3000; n++) {
      let p = "";
      for (let i = 0; i < 8; i++) p += pieces[(n * 7919 + i * 104729 + ((n * i) % 13)) % pieces.length];
      const r = parseRegex(p);
      if (r.ok) expect(() => compileRegex(p)).not.toThrow();
      else expect(r.offset).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("parseRegex accepted syntax", () => {
  it("reads classes into normalised code point ranges", () => {
    expect(ast("[c-ea-b]")).toMatchObject({ kind: "set", ranges: [[0x61, 0x65]] });
    expect(ast("[^\\x00-\\x{10FFFF}]")).toMatchObject({ kind: "set", ranges: [] });
    expect(ast(".")).toMatchObject({ kind: "set", ranges: [[0, 9], [11, 0xd7ff], [0xe000, 0x10ffff]] });
    expect(ast("(?s).")).toMatchObject({ kind: "set", ranges: [[0, 0xd7ff], [0xe000, 0x10ffff]] });
    expect(ast("\\s")).toMatchObject({ ranges: [[9, 10], [12, 13], [32, 32]] });
    expect(ast("[\\d_]")).toMatchObject({ ranges: [[0x30, 0x39], [0x5f, 0x5f]] });
    expect(ast("[a-b-c]")).toMatchObject({ ranges: [[0x2d, 0x2d], [0x61, 0x63]] });
    expect(ast("[[:^alpha:]]")).toMatchObject({ ranges: [[0, 0x40], [0x5b, 0x60], [0x7b, 0xd7ff], [0xe000, 0x10ffff]] });
    expect(ast("\\x{D800}")).toMatchObject({ ranges: [] }); // a surrogate can never occur in UTF-8
  });

  it("reads repetitions, groups and anchors", () => {
    expect(ast("a{2,5}?")).toMatchObject({ kind: "repeat", min: 2, max: 5, greedy: false });
    expect(ast("a{3,}")).toMatchObject({ kind: "repeat", min: 3, max: -1, greedy: true });
    expect(ast("(?U)a*")).toMatchObject({ kind: "repeat", greedy: false });
    expect(ast("(?P<x>a)")).toMatchObject({ kind: "group", capture: true, name: "x" });
    expect(ast("(?<x>a)")).toMatchObject({ kind: "group", capture: true, name: "x" });
    expect(ast("(?:a)")).toMatchObject({ kind: "group", capture: false });
    expect(ast("^")).toMatchObject({ kind: "assert", assert: "begin_text" });
    expect(ast("(?m)$")).toMatchObject({ kind: "assert", assert: "end_line" });
    expect(ast("(?m:^)^")).toMatchObject({ kind: "concat", items: [{ item: { assert: "begin_line" } }, { assert: "begin_text" }] });
    expect(ast("\\Qa*\\E*")).toMatchObject({ kind: "concat", items: [{ kind: "set" }, { kind: "repeat", min: 0 }] });
  });

  it("folds case with Unicode simple case folding orbits", () => {
    expect(foldOrbit(0x6b)).toEqual([0x4b, 0x6b, 0x212a]); // k K KELVIN SIGN
    expect(foldOrbit(0x73)).toEqual([0x53, 0x73, 0x17f]); // s S LONG S
    expect(foldOrbit(0x3c3)).toEqual([0x3a3, 0x3c2, 0x3c3]); // Σ ς σ
    expect(foldOrbit(0xdf)).toEqual([0xdf, 0x1e9e]); // ß ẞ
    expect(foldOrbit(0x131)).toEqual([0x131]); // dotless i folds to nothing else
    expect(foldOrbit(0x31)).toEqual([0x31]);
    expect(ast("(?i)[^k]")).toMatchObject({ ranges: [[0, 0x4a], [0x4c, 0x6a], [0x6c, 0x2129], [0x212b, 0xd7ff], [0xe000, 0x10ffff]] });
  });

  it.runIf(process.env.AEGIS_DEEP)("folds exactly as JavaScript's `iu` canonicalization, for every pair of cased code points", () => {
    const sameFold = /^(.)\1$/isu; // a backreference under `iu` compares simple case foldings
    const cased: number[] = [];
    for (let cp = 0; cp < 0x20000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const s = String.fromCodePoint(cp);
      if (s.toLowerCase() !== s || s.toUpperCase() !== s || foldOrbit(cp).length > 1) cased.push(cp);
    }
    let wrong = 0;
    for (const a of cased) for (const b of cased) {
      if (a < b && sameFold.test(String.fromCodePoint(a) + String.fromCodePoint(b)) !== foldOrbit(a).includes(b)) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it("sizes programs exactly as compileRegex lays them out", () => {
    for (const p of ["", "a", "a|b|c", "a*", "a+?", "a{3}", "a{2,5}", "(ab){2,}", "[a-z]{0,3}", "(?i)x(y|z)*", "(a{1000})"]) {
      expect(compileRegex(p).length).toBe(programBytes(ast(p)));
    }
    expect(programBytes(ast("[a-c]{1000}"))).toBeLessThanOrEqual(MAX_PROGRAM_BYTES);
  });
});

describe("compileRegex", () => {
  it("lays out a program as documented", () => {
    const program = compileRegex("a|b[c-e]*");
    expect([...program.subarray(0, 8)]).toEqual([0x41, 0x45, 0x52, 0x58, 2, 0, 0, 0]); // magic, version 2, no flags
    expect(disassembleRegex(program).map((l) => l.trim())).toEqual([
      "0  SAVE 0",
      "1  SPLIT 2, 4",
      "2  CHAR U+0061",
      "3  JMP 8",
      "4  CHAR U+0062",
      "5  SPLIT 6, 8",
      "6  RANGES [U+0063-U+0065]",
      "7  JMP 5",
      "8  SAVE 1",
      "9  MATCH",
    ]);
    expect(disassembleRegex(compileRegex("a{1,3}?")).map((l) => l.trim())).toEqual([
      "0  SAVE 0", "1  CHAR U+0061", "2  SPLIT 6, 3", "3  CHAR U+0061", "4  SPLIT 6, 5", "5  CHAR U+0061", "6  SAVE 1", "7  MATCH",
    ]);
  });

  it("reports which patterns can match empty", () => {
    expect(regexMatchesEmpty("a*")).toBe(true);
    expect(regexMatchesEmpty("\\b")).toBe(true);
    expect(regexMatchesEmpty("(x|)")).toBe(true);
    expect(regexMatchesEmpty("a+")).toBe(false);
    expect(regexMatchesEmpty("\\b[0-9]{3}\\b")).toBe(false);
    expect(() => regexMatchesEmpty("(")).toThrow("missing closing `)`");
  });
});
