// Tests of engine/regex.ts (compiled through engine/testing/regex-entry.ts) against programs from
// compile.ts: unit cases, differential properties against JavaScript RegExp, pathological
// patterns, and validator robustness on corrupted programs.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { compileAssemblyScript } from "../../engine/testing/compile.ts";
import {
  compileRegex, encodeRegexProgram, readRegexPrefilters, RegexOp, RegexAssert, REGEX_FORMAT_VERSION, NO_MATCH_LENGTH,
} from "./compile.ts";
import { RegexHeader, RegexFlag } from "../generated/bytecode.ts";
import { regexToJs } from "./to-js.ts";
import { MAX_PROGRAM_BYTES } from "./parse.ts";

const RUNS = process.env.AEGIS_DEEP ? 50_000 : 2_000;

interface Exports {
  memory: WebAssembly.Memory;
  programBuffer(cap: number): number;
  textBuffer(cap: number): number;
  validate(progLen: number): number;
  search(progLen: number, textLen: number): number;
  find(progLen: number, textLen: number, from: number): bigint;
  formatConstant(i: number): number;
}

let wasm: Exports;
beforeAll(async () => {
  wasm = (await compileAssemblyScript("engine/testing/regex-entry.ts")).exports as unknown as Exports;
});

const encoder = new TextEncoder();

function loadProgram(program: Uint8Array): void {
  const at = wasm.programBuffer(program.length);
  new Uint8Array(wasm.memory.buffer, at, program.length).set(program);
}

function loadText(text: string | Uint8Array): number {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const at = wasm.textBuffer(bytes.length);
  new Uint8Array(wasm.memory.buffer, at, bytes.length).set(bytes);
  return bytes.length;
}

/** Compile, validate and run: search result and leftmost-first match (byte offsets) from `from`. */
function vm(pattern: string, text: string, from = 0): { search: boolean; find: [number, number] | null } {
  const program = compileRegex(pattern);
  loadProgram(program);
  if (!wasm.validate(program.length)) throw new Error(`compiled program for \`${pattern}\` failed validation`);
  const len = loadText(text);
  const search = wasm.search(program.length, len) === 1;
  const r = wasm.find(program.length, len, from);
  return { search, find: r < 0n ? null : [Number(r >> 32n), Number(r & 0xffffffffn)] };
}

/** UTF-8 byte offset of UTF-16 index `i` in `s`. */
function byteOffset(s: string, i: number): number {
  return encoder.encode(s.slice(0, i)).length;
}

/** What a JavaScript RegExp says, in the VM's terms (byte offsets), searching from byte `from`. */
function js(re: RegExp, text: string, fromUtf16 = 0): { search: boolean; find: [number, number] | null } {
  const g = new RegExp(re.source, re.flags.replace("g", "") + "g");
  g.lastIndex = fromUtf16;
  const m = g.exec(text);
  return {
    search: new RegExp(re.source, re.flags.replace("g", "")).test(text),
    find: m ? [byteOffset(text, m.index), byteOffset(text, m.index + m[0].length)] : null,
  };
}

/** Code point boundaries of `s` as UTF-16 indices (including the end). */
function boundaries(s: string): number[] {
  const out: number[] = [];
  let i = 0;
  for (const ch of s) { out.push(i); i += ch.length; }
  out.push(i);
  return out;
}

describe("format constants", () => {
  it("engine and compiler agree on every number of the program format", () => {
    const expected = [
      REGEX_FORMAT_VERSION, MAX_PROGRAM_BYTES,
      RegexOp.MATCH, RegexOp.CHAR, RegexOp.RANGES, RegexOp.SPLIT, RegexOp.JMP, RegexOp.ASSERT, RegexOp.SAVE,
      RegexAssert.begin_text, RegexAssert.end_text, RegexAssert.begin_line, RegexAssert.end_line,
      RegexAssert.word_boundary, RegexAssert.not_word_boundary,
    ];
    expect(expected.map((_, i) => wasm.formatConstant(i))).toEqual(expected);
  });
});

describe("regexSearch / regexFind unit cases", () => {
  const cases: [pattern: string, text: string, find: [number, number] | null][] = [
    // literals and unanchored search
    ["abc", "xxabcxx", [2, 5]],
    ["abc", "ab", null],
    ["", "", [0, 0]],
    ["", "abc", [0, 0]],
    // anchors: ^ and $ are whole-text, \A \z likewise; (?m) makes them line anchors
    ["^abc", "xabc", null],
    ["^abc", "abcx", [0, 3]],
    ["abc$", "abc\n", null],
    ["abc$", "xabc", [1, 4]],
    ["\\Aab\\z", "ab", [0, 2]],
    ["\\Aab\\z", "ab\n", null],
    ["(?m)^b$", "a\nb\nc", [2, 3]],
    ["(?m)^$", "a\n\nb", [2, 2]],
    ["(?m)a$", "a\n", [0, 1]],
    ["^", "abc", [0, 0]],
    ["$", "abc", [3, 3]],
    // newlines and dot
    ["a.c", "a\nc", null],
    ["(?s)a.c", "a\nc", [0, 3]],
    ["a.c", "a\rc", [0, 3]],
    ["a[^x]c", "a\nc", [0, 3]],
    // Unicode: multi-byte code points in literals, classes and dot
    ["é", "café", [3, 5]],
    ["caf.", "café", [0, 5]],
    ["[à-ü]+", "xxéèy", [2, 6]],
    ["[^a]", "😀", [0, 4]],
    ["^.$", "😀", [0, 4]],
    ["^..$", "😀", null],
    ["[😀-😂]", "a😁", [1, 5]],
    ["\\x{1F600}", "😀", [0, 4]],
    ["€+", "€€€", [0, 9]],
    // Perl classes are ASCII
    ["\\d+", "٣12", [2, 4]],
    ["\\w+", "éab_9-", [2, 6]],
    ["\\s+", "a \t\n\f\rb", [1, 6]],
    ["\\s", "\v", null],
    ["[[:space:]]", "\v", [0, 1]],
    ["\\S+", "  é! ", [2, 5]],
    // word boundaries (ASCII word characters; é is not one)
    ["\\bfoo\\b", "a foo b", [2, 5]],
    ["\\bfoo\\b", "afoo", null],
    ["\\bfoo", "éfoo", [2, 5]],
    ["\\B", "ab", [1, 1]],
    ["\\b", "", null],
    ["\\B", "", [0, 0]],
    // empty matches
    ["a*", "bbb", [0, 0]],
    ["a*", "aab", [0, 2]],
    ["x*$", "ab", [2, 2]],
    ["(|a)", "a", [0, 0]],
    ["(a|)", "a", [0, 1]],
    // greedy vs lazy extents
    ["a+", "aaa", [0, 3]],
    ["a+?", "aaa", [0, 1]],
    ["a*?b", "aaab", [0, 4]],
    ["<.*>", "<a><b>", [0, 6]],
    ["<.*?>", "<a><b>", [0, 3]],
    ["a{2,4}", "aaaaa", [0, 4]],
    ["a{2,4}?", "aaaaa", [0, 2]],
    ["a{2,}", "aaaaa", [0, 5]],
    ["a{2,}?", "aaaaa", [0, 2]],
    ["a{3}", "aa", null],
    ["a??b", "ab", [0, 2]],
    ["(?U)a+", "aaa", [0, 1]],
    ["(?U)a+?", "aaa", [0, 3]],
    // leftmost-first alternation (not leftmost-longest)
    ["a|ab", "ab", [0, 1]],
    ["ab|a", "ab", [0, 2]],
    ["(a|ab)(c|bcd)", "abcd", [0, 4]],
    ["b|abc", "abc", [0, 3]],
    // case folding
    ["(?i)abc", "xAbC", [1, 4]],
    ["(?i)k", "\u212a", [0, 3]],
    ["(?i)\u212a", "k", [0, 1]],
    ["(?i)s", "ſ", [0, 2]],
    ["(?i)σ+", "ΣσςΣ", [0, 8]],
    ["(?i)é", "É", [0, 2]],
    ["(?i)[a-c]+", "ABCd", [0, 3]],
    ["(?i)[^k]", "K\u212ak", null],
    ["(?i)ı", "i", null],
    ["a(?i)b", "aB", [0, 2]],
    ["a(?i)b", "AB", null],
    ["(?i:a)b", "Ab", [0, 2]],
    ["(?i:a)b", "AB", null],
    ["(?i)a(?-i)b", "Ab", [0, 2]],
    ["(?i)a(?-i)b", "AB", null],
    ["((?i)a)b", "AB", null],
    ["(?i)\\w", "\u017f", [0, 2]],
    ["(?i)\\W", "sS\u017fk\u212a", null],
    ["(?i)[\\W]", "sS\u017fk\u212a", null],
    ["(?i)[[:^lower:]]+", "aZ\u212a1", [5, 6]],
    ["(?i)\\b", "\u017f", null],
    // escapes
    ["\\t\\n\\r\\f\\v\\a", "\t\n\r\f\v\x07", [0, 6]],
    ["\\x41\\x{42}", "AB", [0, 2]],
    ["\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\", ".*+?()[]{}|^$\\", [0, 14]],
    ["\\Qa.b*\\E+", "a.b**", [0, 5]],
    ["\\0", "\0", [0, 1]],
    ["a{", "a{", [0, 2]],
    ["a{,2}", "a{,2}", [0, 5]],
    ["[]a]+", "]a]", [0, 3]],
    ["[a-]+", "-a-", [0, 3]],
    // groups of every kind
    ["(?P<year>\\d{4})-(?<m>\\d\\d)", "on 2024-05", [3, 10]],
    ["(?:ab)+", "ababa", [0, 4]],
    // quantified assertions and empty loops terminate
    ["(?:^)*a", "a", [0, 1]],
    ["(a*)*b", "aab", [0, 3]],
    ["(a*)+$", "aa", [0, 2]],
    ["(?:a?)*?b", "ab", [0, 2]],
    ["(a|b|)*c", "abc", [0, 3]],
    // unbounded loops never take an empty iteration past their minimum (as Perl and JavaScript;
    // RE2 matches "" in the first three), optional parts may match empty (as RE2 and Perl)
    ["(|a)*", "aa", [0, 2]],
    ["(|a)+", "aa", [0, 2]],
    ["(?:a*|1)+", "1", [0, 1]],
    ["(|a){2,}", "aaa", [0, 3]],
    ["(|a)?", "a", [0, 0]],
    ["(|a){0,2}", "aa", [0, 0]],
    ["(a|){1,2}", "aa", [0, 2]],
    ["(?:a*?)*", "aa", [0, 2]],
    ["(?:a*?b?)*?c", "aabac", [0, 5]],
    ["(?:\\b|a)*", "aa", [0, 2]],
    ["(?:(?:a*)*b)*", "aabab", [0, 5]],
  ];
  for (const [pattern, text, want] of cases) {
    it(`\`${pattern}\` on ${JSON.stringify(text)}`, () => {
      const got = vm(pattern, text);
      expect(got.find).toEqual(want);
      expect(got.search).toBe(want !== null);
      // The translation used by the reference interpreter agrees.
      expect(js(regexToJs(pattern), text)).toEqual(got);
    });
  }

  it("finds from a byte offset, with assertions seeing the whole text", () => {
    expect(vm("a", "abca", 1).find).toEqual([3, 4]);
    expect(vm("^a", "abca", 1).find).toBeNull();
    expect(vm("\\bb", "ab b", 1).find).toEqual([3, 4]);
    expect(vm("b*", "abbb", 1).find).toEqual([1, 4]);
    expect(vm("x*", "abc", 3).find).toEqual([3, 3]);
    expect(vm("x*", "abc", 4).find).toBeNull();
    expect(vm("é", "éé", 2).find).toEqual([2, 4]);
  });

  it("replaces every non-empty match in a DLP-style loop", () => {
    const text = "ssn 123-45-6789 and 987-65-4321.";
    const program = compileRegex("\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b");
    loadProgram(program);
    const len = loadText(text);
    const found: [number, number][] = [];
    let from = 0;
    for (;;) {
      const r = wasm.find(program.length, len, from);
      if (r < 0n) break;
      const [s, e] = [Number(r >> 32n), Number(r & 0xffffffffn)];
      found.push([s, e]);
      from = e > s ? e : e + 1;
    }
    expect(found).toEqual([[4, 15], [20, 31]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Differential properties

/** Characters the generators draw from: ASCII, multi-byte, astral, and newline. */
const ALPHABET = ["a", "b", "c", "x", "0", "1", "_", " ", "-", ".", "\n", "é", "€", "😀", "Z"];
const regexChar = (c: string): string => (/[.\\+*?()[\]{}|^$]/.test(c) ? "\\" + c : c === "\n" ? "\\n" : c);
const classChar = (c: string): string => (/[\\\]^[-]/.test(c) ? "\\" + c : c === "\n" ? "\\n" : c);

interface Gen { pattern: string; nullable: boolean }

/**
 * Patterns on which RE2 and JavaScript (flag `u`) agree: no \s (JavaScript's is Unicode), no
 * nullable body under `?` or `{n,m}` (JavaScript's empty-iteration check), dot only on text without
 * \r, U+2028, U+2029.
 */
function agreeingPattern(extended: boolean): fc.Arbitrary<Gen> {
  const { tree } = fc.letrec<{ tree: Gen; atom: Gen }>((tie) => ({
    atom: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...ALPHABET).map((c) => ({ pattern: regexChar(c), nullable: false })) },
      { weight: 1, arbitrary: fc.constantFrom(".", "\\d", "\\w", "\\D", "\\W", "[abc]", "[^a]", "[a-c0-1]", "[é-😀]", "[^\\n]").map((p) => ({ pattern: p, nullable: false })) },
      { weight: 1, arbitrary: fc.constantFrom("^", "$", "\\b", "\\B").map((p) => ({ pattern: p, nullable: true })) },
      {
        weight: 1,
        arbitrary: fc.uniqueArray(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 4 })
          .chain((cs) => fc.boolean().map((neg) => ({ pattern: `[${neg ? "^" : ""}${cs.map(classChar).join("")}]`, nullable: false }))),
      },
      ...(extended
        ? [{ weight: 1, arbitrary: fc.constantFrom("(?i)", "(?s)", "(?m)^", "(?m)$", "\\s", "\\S", "[[:alpha:]]", "\\A", "\\z", "(?:)", "(?U)").map((p) => ({ pattern: p, nullable: !/^\\[sS]$|^\[\[/.test(p) })) }]
        : []),
      { weight: 2, arbitrary: fc.tuple(tie("tree"), fc.boolean()).map(([t, cap]) => ({ pattern: `(${cap ? "" : "?:"}${t.pattern})`, nullable: t.nullable })) },
    ),
    tree: fc.oneof(
      { weight: 3, arbitrary: tie("atom") as fc.Arbitrary<Gen> },
      {
        weight: 3,
        arbitrary: fc.array(tie("atom") as fc.Arbitrary<Gen>, { minLength: 2, maxLength: 4 })
          .map((items) => ({ pattern: items.map((i) => i.pattern).join(""), nullable: items.every((i) => i.nullable) })),
      },
      {
        weight: 1,
        arbitrary: fc.array(tie("atom") as fc.Arbitrary<Gen>, { minLength: 2, maxLength: 3 })
          .map((items) => ({ pattern: items.map((i) => i.pattern).join("|"), nullable: items.some((i) => i.nullable) })),
      },
      {
        weight: 3,
        arbitrary: fc.tuple(tie("atom") as fc.Arbitrary<Gen>, fc.constantFrom("*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}"), fc.boolean())
          .map(([a, q, lazy]) => {
            const bounded = q === "?" || q === "{1,3}" || q === "{0,2}";
            // An assertion cannot be quantified in JavaScript; a nullable body under a bounded
            // optional part is where backtracking and the Pike VM differ (to-js.ts), unless extended.
            const body = /^(\^|\$|\\[bBAz]|\(\?[ismU]+\)|\(\?m\)[$^])$/.test(a.pattern) ? `(?:${a.pattern})` : a.pattern;
            if (bounded && a.nullable && !extended) return { pattern: `${body}*`, nullable: true };
            return { pattern: `${body}${q}${lazy ? "?" : ""}`, nullable: a.nullable || q === "*" || q === "?" || q === "{0,2}" };
          }),
      },
    ),
  }));
  return tree;
}

/** Strings mostly over the alphabet, sometimes with the pattern's own literal characters. */
const text = fc.array(fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ALPHABET, "A", "B", "É", "\t") },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 2 }) },
), { maxLength: 24 }).map((parts) => parts.join("").replace(/[\r\u2028\u2029]/g, ""));

describe("differential properties", () => {
  it("regexSearch and regexFind equal JavaScript RegExp (flag u) where RE2 and JavaScript agree", () => {
    fc.assert(fc.property(agreeingPattern(false), text, fc.nat(), (gen, s, fromPick) => {
      // The guard keeps V8 from reporting an empty match inside a surrogate pair (to-js.ts).
      const re = new RegExp(`(?=[^]|$)(?:${gen.pattern})`, "u");
      const got = vm(gen.pattern, s);
      expect(got).toEqual(js(re, s));
      const bs = boundaries(s);
      const from = bs[fromPick % bs.length];
      expect(vm(gen.pattern, s, byteOffset(s, from)).find).toEqual(js(re, s, from).find);
    }), { numRuns: RUNS });
  });

  it("regexToJs has exactly the engine's semantics on the extended syntax", () => {
    fc.assert(fc.property(agreeingPattern(true), text, fc.nat(), (gen, s, fromPick) => {
      const re = regexToJs(gen.pattern);
      const bs = boundaries(s);
      const from = bs[fromPick % bs.length];
      expect(vm(gen.pattern, s)).toEqual(js(re, s));
      expect(vm(gen.pattern, s, byteOffset(s, from)).find).toEqual(js(re, s, from).find);
    }), { numRuns: RUNS });
  });

  it("(?i) folds like JavaScript's `iu` flag", () => {
    const foldAlphabet = ["k", "K", "\u212a", "s", "S", "ſ", "ß", "ẞ", "σ", "ς", "Σ", "µ", "μ", "Μ", "ǅ", "ǆ", "Ǆ", "é", "É", "i", "I", "ı", "İ", "a", "Ω", "ω", "Ω"];
    const piece = fc.oneof(
      fc.constantFrom(...foldAlphabet),
      fc.uniqueArray(fc.constantFrom(...foldAlphabet), { minLength: 1, maxLength: 3 }).chain((cs) =>
        fc.boolean().map((neg) => `[${neg ? "^" : ""}${cs.join("")}]`)),
      fc.constantFrom("[a-z]", "[A-Z]", "[^a-z]", "[α-ω]"),
    );
    const pattern = fc.array(fc.tuple(piece, fc.constantFrom("", "+", "*")), { minLength: 1, maxLength: 4 })
      .map((ps) => ps.map(([p, q]) => p + q).join(""));
    const foldText = fc.array(fc.constantFrom(...foldAlphabet, "b", "Z", "x"), { maxLength: 10 }).map((a) => a.join(""));
    fc.assert(fc.property(pattern, foldText, (p, s) => {
      expect(vm(`(?i)${p}`, s)).toEqual(js(new RegExp(p, "iu"), s));
    }), { numRuns: RUNS });
  });
});

describe("arbitrary pattern text", () => {
  it("either fails to parse, or compiles to a valid program whose matches regexToJs reproduces", () => {
    const pieces = ["(", ")", "(?:", "(?i)", "(?s:", "(?m)", "(?P<n>", "[", "[^", "]", "{", "}", "{2}", "{1,3}", ",", "\\", "?", "*", "+", "|",
      "^", "$", "-", "a", "b", "é", "😀", ".", "\\b", "\\B", "\\d", "\\w", "\\s", "\\S", "\\Q", "\\E", "[:alpha:]", "\\x{263A}", "\\n", "\n"];
    const anyPattern = fc.array(fc.constantFrom(...pieces), { maxLength: 14 }).map((p) => p.join(""));
    let valid = 0;
    fc.assert(fc.property(anyPattern, text, (pattern, s) => {
      let program: Uint8Array;
      try { program = compileRegex(pattern); } catch (e) {
        expect((e as { offset: number }).offset).toBeGreaterThanOrEqual(0);
        expect(() => regexToJs(pattern)).toThrow((e as Error).message);
        return;
      }
      valid++;
      loadProgram(program);
      expect(wasm.validate(program.length)).toBe(1);
      expect(vm(pattern, s)).toEqual(js(regexToJs(pattern), s));
    }), { numRuns: RUNS });
    expect(valid).toBeGreaterThan(RUNS / 20);
  });
});

describe("pathological patterns finish", () => {
  const big = "a".repeat(100_000);
  const xs = "x".repeat(100_000);
  it("(a+)+$ on 100 KB without a match", () => {
    expect(vm("(a+)+$", big + "b").search).toBe(false);
    expect(vm("(a+)+$", big).find).toEqual([0, 100_000]);
  });
  it("(a|a)*b on 100 KB", () => {
    expect(vm("(a|a)*b", big).search).toBe(false);
    expect(vm("(a|a)*b", big).find).toBeNull();
  });
  it("(x+x+)+y on 100 KB", () => {
    expect(vm("(x+x+)+y", xs).find).toBeNull();
    expect(vm("(x+x+)+y", xs + "y").find).toEqual([0, 100_001]);
  });
  it("nested counted repetitions and empty loops on 100 KB", () => {
    expect(vm("(a{1,20}){1,20}b", big.slice(0, 20_000)).search).toBe(false);
    expect(vm("(a*)*(a*)*c", big).search).toBe(false);
    expect(vm("(?:a?){500}a{500}", "a".repeat(500)).find).toEqual([0, 500]);
  });
});

describe("regexValidate", () => {
  it("accepts every compiled program", () => {
    for (const p of ["a", "", "(a|b)*c{2,5}?", "[^\\x00-\\x{10FFFF}]", "(?i)straße", "\\b\\B^$(?m)^$", "x{1000}"]) {
      const program = compileRegex(p);
      loadProgram(program);
      expect(wasm.validate(program.length)).toBe(1);
    }
  });

  /** A hand-built program (header and prefilters by encodeRegexProgram), optionally patched. */
  function build(ins: [number, number, number, number][], ranges: [number, number][] = [], patch?: (v: DataView) => void): Uint8Array {
    const bytes = encodeRegexProgram(ins.map(([op, arg, a, b]) => ({ op, arg, a, b })), ranges);
    patch?.(new DataView(bytes.buffer));
    return bytes;
  }
  const H = RegexHeader.FIRST_BYTES + 32; // first instruction
  const valid = (p: Uint8Array): boolean => { loadProgram(p); return wasm.validate(p.length) === 1; };
  const { MATCH, CHAR, RANGES, SPLIT, JMP, ASSERT, SAVE } = RegexOp;

  it("rejects each kind of malformed program", () => {
    expect(valid(build([[CHAR, 0, 0x61, 0], [MATCH, 0, 0, 0]]))).toBe(true);
    expect(valid(build([[RANGES, 0, 0, 2], [MATCH, 0, 0, 0]], [[0x30, 0x39], [0x61, 0x7a]]))).toBe(true);
    expect(valid(build([[JMP, 0, 0, 0]]))).toBe(true); // a loop with no way out: harmless, never matches
    expect(valid(new Uint8Array(0))).toBe(false);
    expect(valid(build([]))).toBe(false); // no instructions
    expect(valid(build([[MATCH, 0, 0, 0]], [], (v) => v.setUint8(0, 0x42)))).toBe(false); // magic
    expect(valid(build([[MATCH, 0, 0, 0]], [], (v) => v.setUint16(4, 1, true)))).toBe(false); // version
    expect(valid(build([[MATCH, 0, 0, 0]], [], (v) => v.setUint16(6, 2, true)))).toBe(false); // flags
    expect(valid(build([[MATCH, 0, 0, 0]], [], (v) => v.setUint8(RegexHeader.RESERVED + 1, 1)))).toBe(false); // reserved
    expect(valid(build([[MATCH, 0, 0, 0]], [], (v) => v.setUint32(8, 2, true)))).toBe(false); // count vs length
    expect(valid(build([[MATCH, 0, 0, 0]], [], (v) => v.setUint32(8, 0x40000000, true)))).toBe(false); // overflow
    expect(valid(build([[MATCH, 0, 0, 0]], [], (v) => v.setUint32(12, 0x20000001, true)))).toBe(false);
    expect(valid(build([[0, 0, 0, 0], [MATCH, 0, 0, 0]]))).toBe(false); // unknown opcode
    expect(valid(build([[8, 0, 0, 0], [MATCH, 0, 0, 0]]))).toBe(false);
    expect(valid(build([[MATCH, 0, 0, 0]], [], (v) => v.setUint16(H + 2, 1, true)))).toBe(false); // padding
    expect(valid(build([[CHAR, 0, 0x110000, 0], [MATCH, 0, 0, 0]]))).toBe(false); // code point
    expect(valid(build([[CHAR, 0, 0x61, 0]]))).toBe(false); // falls off the end
    expect(valid(build([[SAVE, 0, 0, 0]]))).toBe(false);
    expect(valid(build([[SAVE, 2, 0, 0], [MATCH, 0, 0, 0]]))).toBe(false); // slot
    expect(valid(build([[ASSERT, 0, 0, 0], [MATCH, 0, 0, 0]]))).toBe(false); // assert kind
    expect(valid(build([[ASSERT, 7, 0, 0], [MATCH, 0, 0, 0]]))).toBe(false);
    expect(valid(build([[SPLIT, 0, 0, 2], [MATCH, 0, 0, 0]]))).toBe(false); // target
    expect(valid(build([[JMP, 0, 5, 0], [MATCH, 0, 0, 0]]))).toBe(false);
    expect(valid(build([[JMP, 0, 1, 1], [MATCH, 0, 0, 0]]))).toBe(false); // unused operand
    expect(valid(build([[RANGES, 0, 0, 2], [MATCH, 0, 0, 0]], [[0x30, 0x39]]))).toBe(false); // past the pool
    expect(valid(build([[RANGES, 0, 1, 0xffffffff], [MATCH, 0, 0, 0]], [[0x30, 0x39]]))).toBe(false);
    expect(valid(build([[RANGES, 0, 0, 1], [MATCH, 0, 0, 0]], [[0x39, 0x30]]))).toBe(false); // lo > hi
    expect(valid(build([[RANGES, 0, 0, 1], [MATCH, 0, 0, 0]], [[0x30, 0x110000]]))).toBe(false);
    expect(valid(build([[RANGES, 0, 0, 2], [MATCH, 0, 0, 0]], [[0x61, 0x7a], [0x30, 0x39]]))).toBe(false); // unsorted
    expect(valid(build([[RANGES, 0, 0, 2], [MATCH, 0, 0, 0]], [[0x30, 0x39], [0x39, 0x40]]))).toBe(false); // overlap
    const tooBig = build(Array.from({ length: 5462 }, () => [MATCH, 0, 0, 0] as [number, number, number, number]));
    expect(valid(tooBig)).toBe(false);
  });

  it("never traps on corrupted programs, and whatever it accepts runs to completion", () => {
    const seeds = ["(a|b)*c{2,5}?", "[^a-z]+\\b", "(?i)k+$", "a*?(x|yz)+"].map(compileRegex);
    fc.assert(fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: -8, max: 8 }),
      text,
      (seed, edits, resize, s) => {
        const length = Math.max(0, seed.length + resize);
        const program = new Uint8Array(length);
        program.set(seed.subarray(0, length));
        for (const [at, byte] of edits) if (length > 0) program[at % length] = byte;
        loadProgram(program);
        if (wasm.validate(program.length) !== 1) return;
        const len = loadText(s);
        wasm.search(program.length, len);
        wasm.find(program.length, len, 0);
      },
    ), { numRuns: RUNS });
  });

  it("runs on text that is not valid UTF-8 without trapping", () => {
    const program = compileRegex("[^a]+$");
    loadProgram(program);
    for (const bytes of [[0xff], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x80, 0x80, 0x61], [0xc3]]) {
      const len = loadText(new Uint8Array(bytes));
      wasm.search(program.length, len);
      wasm.find(program.length, len, 0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Prefilters (docs/regex.md "Prefilters")

const utf8 = (s: string): Uint8Array => encoder.encode(s);
const hasFirstByte = (set: Uint8Array, b: number): boolean => (set[b >> 3] & (1 << (b & 7))) !== 0;
const firstByteChars = (set: Uint8Array): string => {
  let out = "";
  for (let b = 0; b < 128; b++) if (hasFirstByte(set, b)) out += String.fromCharCode(b);
  return out;
};

describe("prefilters", () => {
  it("computes the minimum length, first bytes and literal of known patterns", () => {
    const ssn = readRegexPrefilters(compileRegex("\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b"));
    expect(ssn.minLength).toBe(11);
    expect(String.fromCharCode(ssn.literal)).toBe("-");
    expect(firstByteChars(ssn.firstBytes)).toBe("0123456789");
    const email = readRegexPrefilters(compileRegex("[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}"));
    expect(email.minLength).toBe(6);
    expect(String.fromCharCode(email.literal)).toBe("@");
    const card = readRegexPrefilters(compileRegex("\\b[0-9]{4}(?:[ -]?[0-9]{4}){3}\\b"));
    expect(card.minLength).toBe(16);
    expect(card.literal).toBe(-1); // the separators are optional
    expect(readRegexPrefilters(compileRegex("a|bc")).minLength).toBe(1);
    expect(readRegexPrefilters(compileRegex("é+x")).minLength).toBe(3);
    expect(readRegexPrefilters(compileRegex("😀")).minLength).toBe(4);
    expect([...readRegexPrefilters(compileRegex("é|b")).firstBytes].flatMap((v, i) => [0, 1, 2, 3, 4, 5, 6, 7].filter((k) => v & (1 << k)).map((k) => i * 8 + k))).toEqual([0x62, 0xc3]);
    expect(firstByteChars(readRegexPrefilters(compileRegex("(?i)k")).firstBytes)).toBe("Kk"); // and U+212A's 0xE2
    expect(hasFirstByte(readRegexPrefilters(compileRegex("(?i)k")).firstBytes, 0xe2)).toBe(true);
    expect(firstByteChars(readRegexPrefilters(compileRegex("(?:^|x)\\by")).firstBytes)).toBe("xy");
    // Nullable patterns: no length bound, every byte may start a match.
    for (const p of ["a*", "", "\\b", "(a|)", "x?y?"]) {
      const pf = readRegexPrefilters(compileRegex(p));
      expect(pf.minLength, p).toBe(0);
      expect([...pf.firstBytes].every((b) => b === 0xff), p).toBe(true);
    }
    expect(readRegexPrefilters(compileRegex("[^\\x00-\\x{10FFFF}]")).minLength).toBe(NO_MATCH_LENGTH);
    expect(readRegexPrefilters(compileRegex("a[^\\x00-\\x{10FFFF}]|b")).minLength).toBe(1);
  });

  it("chooses a rare literal byte that every match must contain, or none", () => {
    const literal = (p: string): string | null => {
      const l = readRegexPrefilters(compileRegex(p)).literal;
      return l < 0 ? null : String.fromCharCode(l);
    };
    expect(literal("^SUPP-[0-9]{4}$")).toBe("-"); // punctuation before upper-case letters
    expect(literal("abc")).toBe("a");
    expect(literal("a|b")).toBeNull();
    expect(literal("(?:xa|ya)z")).toBe("a");
    expect(literal("x(?:a|b)*y")).toBe("x");
    expect(literal("a*b")).toBe("b");
    expect(literal("[ab]")).toBeNull();
    expect(literal("(?i)a")).toBeNull();
  });

  it("never rule out a real match (JavaScript finds every match the engine must report)", () => {
    fc.assert(fc.property(agreeingPattern(true), text, (gen, s) => {
      const program = compileRegex(gen.pattern);
      const pf = readRegexPrefilters(program);
      const re = regexToJs(gen.pattern, "g");
      // The leftmost match from every code point boundary.
      for (const from of boundaries(s)) {
        re.lastIndex = from;
        const m = re.exec(s);
        if (!m) continue;
        const bytes = utf8(m[0]);
        expect(bytes.length).toBeGreaterThanOrEqual(pf.minLength);
        if (pf.minLength > 0) expect(hasFirstByte(pf.firstBytes, bytes[0])).toBe(true);
        if (pf.literal >= 0) expect(bytes.includes(pf.literal)).toBe(true);
      }
    }), { numRuns: RUNS });
  });

  it("skip to the right place: finds near the end of the text and after long non-starting runs", () => {
    expect(vm("ab", "xxab", 3).find).toBeNull();
    expect(vm("ab", "xxab", 2).find).toEqual([2, 4]);
    expect(vm("ab", "xxa", 0).find).toBeNull();
    expect(vm("[0-9]{3}-", "abc 12-123-", 0).find).toEqual([7, 11]);
    expect(vm("b+", "a".repeat(1000) + "bb", 0).find).toEqual([1000, 1002]);
    expect(vm("\\bé", "xé é", 0).find).toEqual([1, 3]); // x is a word character, é is not
    expect(vm("x*y", "aaay", 0).find).toEqual([3, 4]);
    expect(vm("(?:a|b)x|c", "zzbcx", 0).find).toEqual([3, 4]);
    expect(vm("@", "no at sign here", 0).search).toBe(false);
    expect(vm("a@b", "a@b", 1).find).toBeNull();
  });

  it("are checked by the validator: a header that disagrees with the instructions is rejected", () => {
    const valid = (p: Uint8Array): boolean => { loadProgram(p); return wasm.validate(p.length) === 1; };
    for (const pattern of ["\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b", "a|bc", "é+x", "[a-c]*@", "x?y?"]) {
      const program = compileRegex(pattern);
      expect(valid(program), pattern).toBe(true);
      const pf = readRegexPrefilters(program);
      const patched = (f: (v: DataView, bytes: Uint8Array) => void): Uint8Array => {
        const copy = program.slice();
        f(new DataView(copy.buffer), copy);
        return copy;
      };
      expect(valid(patched((v) => v.setUint32(RegexHeader.MIN_LENGTH, pf.minLength + 1, true))), pattern).toBe(false);
      if (pf.minLength > 0) expect(valid(patched((v) => v.setUint32(RegexHeader.MIN_LENGTH, pf.minLength - 1, true))), pattern).toBe(false);
      for (const bit of [0, 0x30, 0x61, 0xc3, 0xff]) {
        expect(valid(patched((_, b) => { b[RegexHeader.FIRST_BYTES + (bit >> 3)] ^= 1 << (bit & 7); })), `${pattern} bit ${bit}`).toBe(false);
      }
      // A literal that is not on every path, a literal byte without the flag, an unflagged literal.
      expect(valid(patched((v) => { v.setUint16(RegexHeader.FLAGS, RegexFlag.LITERAL, true); v.setUint8(RegexHeader.LITERAL, 0x7e); })), pattern).toBe(false);
      if (pf.literal >= 0) {
        expect(valid(patched((v) => v.setUint16(RegexHeader.FLAGS, 0, true))), pattern).toBe(false);
        expect(valid(patched((v) => { v.setUint16(RegexHeader.FLAGS, 0, true); v.setUint8(RegexHeader.LITERAL, 0); })), pattern).toBe(true);
      }
    }
  });
});
