// Generator: the IDNA tables of engine/idna-tables.ts (UTS #46 mapping, NFC data, combining marks,
// bidi classes, joining types), probed code point by code point from the platform: the mapping
// and joining types from Node's url.domainToASCII/domainToUnicode (ada's UTS #46), NFC data from
// String.prototype.normalize (ICU), marks and bidi classes from RegExp Unicode properties. Input: none. Output: engine/idna-tables.ts (written when run
// as a script; `npx tsx scripts/gen-idna.ts --check` exits 1 when the committed file is stale).
// Probing keeps the engine in step with the Node parser that the reference interpreter uses.

import { domainToASCII, domainToUnicode } from "node:url";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const MAX_CP = 0x10ffff;
const ZWNJ = "\u200c";
const ZWJ = "\u200d";

/** Mapping kinds, shared with engine/idna.ts. */
export const KIND = { disallowed: 0, valid: 1, ignored: 2, alternate: 3, delta: 4, list: 5 } as const;
/** Bidi classes as the Bidi Rule groups them, shared with engine/idna.ts. */
export const BIDI = { L: 0, R: 1, AN: 2, EN: 3, N: 4, NSM: 5 } as const;
/** Joining types, shared with engine/idna.ts. */
export const JOIN = { U: 0, D: 1, L: 2, R: 3, T: 4 } as const;

const ok = (s: string): boolean => domainToASCII(s) !== "";

/**
 * Blocks left out of the engine's mapping (treated as disallowed, so a host using them fails to
 * parse: fail closed): compatibility forms that map to long strings and would double the table
 * size. They are listed in docs/field-checks.md.
 */
export const OMITTED_RANGES: [number, number][] = [
  [0x2f00, 0x2fdf],   // Kangxi radicals
  [0x3200, 0x33ff],   // enclosed CJK letters and months, CJK compatibility
  [0xf900, 0xfaff],   // CJK compatibility ideographs
  [0xfb50, 0xfdff],   // Arabic presentation forms-A
  [0xfe70, 0xfeff],   // Arabic presentation forms-B (U+FEFF, ignored, is kept)
  [0x2f800, 0x2fa1f], // CJK compatibility ideographs supplement
];

/** UTS #46 status and mapping of one code point: "X" disallowed, "I" ignored, "V" valid, else the mapping. */
function probeMapping(cp: number): string {
  if (cp >= 0xd800 && cp < 0xe000) return "X";
  if (cp !== 0xfeff && OMITTED_RANGES.some(([a, b]) => cp >= a && cp <= b)) return "X";
  if (cp === 0x200c || cp === 0x200d) return "V"; // deviation characters: valid, context-checked later
  const ch = String.fromCodePoint(cp);
  // Several contexts, because a probe fails for reasons other than the code point's status
  // (bidi rule, composition with the neighbour); any context that keeps both ends intact tells.
  for (const [a, b] of [["a", "b"], ["\u05d0", "\u05d0"], ["\u0628", "\u0628"], ["\u0915", "\u0915"], ["1", "1"]]) {
    const ascii = domainToASCII(a + ch + b);
    if (!ascii) continue;
    const u = domainToUnicode(ascii);
    if (!u.startsWith(a) || !u.endsWith(b)) continue;
    const mid = u.slice(a.length, u.length - b.length);
    return mid === "" ? "I" : mid === ch ? "V" : "M" + mid;
  }
  return "X";
}

// Bidi_Class is not exposed by JavaScript, and Node's own bidi check is not a faithful oracle, so
// the classes the Bidi Rule needs are derived from script and category properties (the way the
// Unicode defaults assign them): letters and other non-digit characters of right-to-left scripts
// are R/AL; Arabic-Indic digits and number signs are AN; European digits (and their extended
// Arabic-Indic forms) are EN; Mn/Me are NSM; punctuation, symbols, separators and Cf are neutrals.
const RTL_SCRIPTS = [
  "Hebrew", "Arabic", "Syriac", "Thaana", "Nko", "Samaritan", "Mandaic", "Adlam", "Hanifi_Rohingya",
  "Cypriot", "Imperial_Aramaic", "Phoenician", "Kharoshthi", "Old_South_Arabian", "Avestan",
  "Inscriptional_Parthian", "Inscriptional_Pahlavi", "Psalter_Pahlavi", "Old_Turkic", "Old_Hungarian",
  "Lydian", "Nabataean", "Palmyrene", "Hatran", "Manichaean", "Mende_Kikakui", "Meroitic_Cursive",
  "Meroitic_Hieroglyphs", "Old_North_Arabian", "Sogdian", "Old_Sogdian", "Elymaic", "Chorasmian",
  "Yezidi", "Old_Uyghur", "Garay", "Todhri",
].flatMap((name) => { try { return [new RegExp(`\\p{Script=${name}}`, "u")]; } catch { return []; } });
const AN_RANGES: [number, number][] = [
  [0x600, 0x605], [0x660, 0x669], [0x66b, 0x66c], [0x6dd, 0x6dd], [0x890, 0x891], [0x8e2, 0x8e2],
  [0x10d30, 0x10d39], [0x10e60, 0x10e7e],
];
const EN_RANGES: [number, number][] = [
  [0x30, 0x39], [0xb2, 0xb3], [0xb9, 0xb9], [0x6f0, 0x6f9], [0x2070, 0x2070], [0x2074, 0x2079],
  [0x2080, 0x2089], [0x2488, 0x249b], [0xff10, 0xff19], [0x102e1, 0x102fb], [0x1d7ce, 0x1d7ff],
  [0x1f100, 0x1f10a], [0x1fbf0, 0x1fbf9],
];
const inRanges = (cp: number, ranges: [number, number][]) => ranges.some(([a, b]) => cp >= a && cp <= b);

function bidiClass(cp: number): number {
  const ch = String.fromCodePoint(cp);
  if (inRanges(cp, AN_RANGES)) return BIDI.AN;
  if (inRanges(cp, EN_RANGES)) return BIDI.EN;
  if (/[\p{Mn}\p{Me}]/u.test(ch)) return BIDI.NSM;
  if (RTL_SCRIPTS.some((re) => re.test(ch)) && !/[\p{Nd}\p{Zs}]/u.test(ch)) {
    // Digits of R scripts (NKo, Adlam...) are R; Hanifi Rohingya digits are AN.
    return cp >= 0x10d30 && cp <= 0x10d39 ? BIDI.AN : BIDI.R;
  }
  if (RTL_SCRIPTS.some((re) => re.test(ch)) && /\p{Nd}/u.test(ch)) return BIDI.R;
  if (/[\p{L}\p{Mc}\p{Nd}\p{Nl}\p{Co}]/u.test(ch)) return BIDI.L;
  if (/[\p{P}\p{S}\p{Z}\p{Cf}\p{No}]/u.test(ch)) return BIDI.N;
  return BIDI.L;
}

function joiningType(ch: string, bidi: number): number {
  const partner = bidi === BIDI.R || bidi === BIDI.AN ? "\u0628" : bidi === BIDI.L ? "\u1820" : "\u0628";
  const leftJoining = ok(ch + ZWNJ + partner);
  const rightJoining = ok(partner + ZWNJ + ch);
  if (leftJoining && rightJoining) return JOIN.D;
  if (leftJoining) return JOIN.L;
  if (rightJoining) return JOIN.R;
  return JOIN.U; // T is derived from General_Category (Mn, Me, Cf) in the MARKS table

}

const nfd = (s: string): string => s.normalize("NFD");

function isNonStarter(ch: string): boolean {
  return nfd("\u0301" + ch) !== "\u0301" + ch || nfd(ch + "\u0301") !== ch + "\u0301" || nfd(ch + "\u0316") !== ch + "\u0316";
}

/** Build the generated AssemblyScript source. */
export function generateIdnaTables(): string {
  const status: string[] = [];
  for (let cp = 0; cp <= MAX_CP; cp++) status.push(cp < 0x80 ? asciiStatus(cp) : probeMapping(cp));

  // Mapping table: runs of one kind; `delta` runs map each code point by a constant offset,
  // `alternate` runs map even offsets +1 and keep odd ones, `list` runs point into POOL.
  const tok = status.map((s, cp) => {
    if (s[0] !== "M") return s;
    const m = [...s.slice(1)];
    return m.length === 1 ? "D" + (m[0].codePointAt(0)! - cp) : "P";
  });
  const starts: number[] = [];
  const data: number[] = [];
  const pool: number[] = [];
  let cp = 0;
  const isPlain = (t: string) => t === "V" || t === "X" || t === "I";
  const runEnd = (from: number) => { let e = from + 1; while (e <= MAX_CP && tok[e] === tok[from]) e++; return e; };
  const altStart = (at: number) => tok[at] === "D1" && tok[at + 1] === "V" && tok[at + 2] === "D1";
  while (cp <= MAX_CP) {
    const t = tok[cp];
    if (isPlain(t)) {
      starts.push((cp << 3) | (t === "V" ? KIND.valid : t === "X" ? KIND.disallowed : KIND.ignored));
      data.push(0);
      cp = runEnd(cp);
    } else if (altStart(cp)) {
      starts.push((cp << 3) | KIND.alternate);
      data.push(0);
      let e = cp;
      while (e + 1 <= MAX_CP && tok[e] === "D1" && tok[e + 1] === "V") e += 2;
      cp = e;
    } else if (t[0] === "D" && runEnd(cp) - cp >= 3) {
      starts.push((cp << 3) | KIND.delta);
      data.push(Number(t.slice(1)) | 0);
      cp = runEnd(cp);
    } else {
      starts.push((cp << 3) | KIND.list);
      data.push(pool.length);
      let e = cp;
      while (e <= MAX_CP) {
        const u = tok[e];
        if (isPlain(u) || altStart(e) || (u[0] === "D" && runEnd(e) - e >= 3)) break;
        const bytes = Buffer.from(status[e].slice(1), "utf8");
        pool.push(bytes.length, ...bytes);
        e++;
      }
      cp = e;
    }
  }

  // Valid code points after mapping: what NFC, bidi and joining data must cover.
  const valid = (c: number) => status[c] === "V";

  // Non-starters ranked by canonical combining class (equal class = equal rank).
  const nonStarters: number[] = [];
  for (let c = 0x300; c <= MAX_CP; c++) {
    if (c >= 0xd800 && c < 0xe000) continue;
    const ch = String.fromCodePoint(c);
    if (nfd(ch) === ch && isNonStarter(ch)) nonStarters.push(c);
  }
  const cmp = (a: number, b: number): number => {
    const x = String.fromCodePoint(a), y = String.fromCodePoint(b);
    if (nfd(x + y) !== x + y) return 1;
    if (nfd(y + x) !== y + x) return -1;
    return 0;
  };
  const sorted = [...nonStarters].sort(cmp);
  const rank = new Map<number, number>();
  let r = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || cmp(sorted[i - 1], sorted[i]) !== 0) r++;
    rank.set(sorted[i], r);
  }
  const viramaRank = rank.get(0x094d)!;
  const ccc = nonStarters.map((c) => (c << 8) | rank.get(c)!);

  // Canonical decompositions of valid code points as pairs (cp, first, second | excluded << 31):
  // decomposing `first` recursively and appending `second` gives the NFD. Only valid code points
  // can reach NFC (mapping runs first), and a valid composite always has a two-part decomposition.
  const decomp: number[] = [];
  for (let c = 0xc0; c <= MAX_CP; c++) {
    if (!valid(c) || (c >= 0xac00 && c <= 0xd7a3)) continue; // Hangul syllables: algorithmic
    const ch = String.fromCodePoint(c);
    const parts = [...nfd(ch)];
    if (parts.length === 1) continue;
    const head = parts.slice(0, -1).join("").normalize("NFC");
    if ([...head].length !== 1) throw new Error(`U+${c.toString(16)}: head does not compose`);
    const excluded = parts.join("").normalize("NFC") !== ch;
    decomp.push(c, head.codePointAt(0)!, (parts[parts.length - 1].codePointAt(0)! | (excluded ? 0x80000000 : 0)) >>> 0);
  }

  // General_Category ranges that the validity checks need, tagged: 1 Mn/Me (a mark, joining type
  // T), 2 Mc (a mark), 3 Cf other than ZWNJ/ZWJ (joining type T). Inclusive: first, last | tag << 24.
  const marks: number[] = [];
  let lastTag = 0;
  for (let c = 0; c <= MAX_CP; c++) {
    let tag = 0;
    if (!(c >= 0xd800 && c < 0xe000) && c !== 0x200c && c !== 0x200d) {
      const ch = String.fromCodePoint(c);
      tag = /[\p{Mn}\p{Me}]/u.test(ch) ? 1 : /\p{Mc}/u.test(ch) ? 2 : /\p{Cf}/u.test(ch) ? 3 : 0;
    }
    if (tag !== 0 && tag === lastTag) marks[marks.length - 1] = (c | (tag << 24)) >>> 0;
    else if (tag !== 0) marks.push(c, (c | (tag << 24)) >>> 0);
    lastTag = tag;
  }

  // Bidi classes and joining types of valid code points, as step functions (start << 3 | value).
  const bidiSteps: number[] = [];
  const joinSteps: number[] = [];
  let lastBidi = -1, lastJoin = -1;
  for (let c = 0; c <= MAX_CP; c++) {
    let b: number = BIDI.L, j: number = JOIN.U;
    if (valid(c) && c !== 0x200c && c !== 0x200d && c !== 0x2e) {
      const ch = String.fromCodePoint(c);
      b = c < 0x80 ? asciiBidi(c) : bidiClass(c);
      j = c < 0x80 ? JOIN.U : joiningType(ch, b);
    } else if (c === 0x200c || c === 0x200d) b = BIDI.N;
    if (b !== lastBidi) { bidiSteps.push((c << 3) | b); lastBidi = b; }
    if (j !== lastJoin) { joinSteps.push((c << 3) | j); lastJoin = j; }
  }

  const u32 = (xs: number[]) => xs.map((x) => String(x >>> 0)).join(",");
  const i32 = (xs: number[]) => xs.map((x) => String(x | 0)).join(",");
  return [
    "// GENERATED by scripts/gen-idna.ts from Node's UTS #46 (url.domainToASCII) and ICU normalization",
    `// (Node ${process.versions.node}, Unicode ${process.versions.unicode}). Do not edit; run \`npx tsx scripts/gen-idna.ts\`.`,
    "// Layouts are described in engine/idna.ts, which is the only reader.",
    "",
    `export const MAP_COUNT: i32 = ${starts.length};`,
    "/** Mapping runs sorted by start: start << 3 | kind. */",
    `export const MAP_STARTS: usize = memory.data<u32>([${u32(starts)}]);`,
    "/** Per run: delta (kind delta) or POOL offset (kind list), else 0. */",
    `export const MAP_DATA: usize = memory.data<i32>([${i32(data)}]);`,
    `export const POOL_LEN: i32 = ${pool.length};`,
    "/** Per mapped code point of a list run, in order: byte count, then UTF-8 bytes of its mapping. */",
    `export const POOL: usize = memory.data<u8>([${pool.join(",")}]);`,
    `export const CCC_COUNT: i32 = ${ccc.length};`,
    "/** Non-starters sorted: cp << 8 | rank of its canonical combining class (1 = lowest class). */",
    `export const CCC: usize = memory.data<u32>([${u32(ccc)}]);`,
    `export const VIRAMA_RANK: u32 = ${viramaRank};`,
    `export const DECOMP_COUNT: i32 = ${decomp.length / 3};`,
    "/** Canonical decompositions, sorted: cp, first, second | excluded-from-composition << 31. */",
    `export const DECOMP: usize = memory.data<u32>([${u32(decomp)}]);`,
    `export const MARK_COUNT: i32 = ${marks.length / 2};`,
    "/** Inclusive ranges: first, last | tag << 24 (1 Mn/Me, 2 Mc, 3 Cf; see the generator). */",
    `export const MARKS: usize = memory.data<u32>([${u32(marks)}]);`,
    `export const BIDI_COUNT: i32 = ${bidiSteps.length};`,
    "/** Bidi class step function: start << 3 | class (0 L, 1 R/AL, 2 AN, 3 EN, 4 other neutral, 5 NSM). */",
    `export const BIDI_STEPS: usize = memory.data<u32>([${u32(bidiSteps)}]);`,
    `export const JOIN_COUNT: i32 = ${joinSteps.length};`,
    "/** Joining type step function: start << 3 | type (0 U or T, 1 D, 2 L, 3 R). */",
    `export const JOIN_STEPS: usize = memory.data<u32>([${u32(joinSteps)}]);`,
    "",
  ].join("\n");
}

function asciiStatus(cp: number): string {
  if (cp >= 0x41 && cp <= 0x5a) return "M" + String.fromCharCode(cp + 32);
  return "V"; // ASCII is handled by the host parser's own rules (forbidden code points)
}

function asciiBidi(cp: number): number {
  if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a)) return BIDI.L;
  if (cp >= 0x30 && cp <= 0x39) return BIDI.EN;
  return BIDI.N;
}

const outPath = join(dirname(fileURLToPath(import.meta.url)), "..", "engine", "idna-tables.ts");

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generateIdnaTables();
  if (process.argv.includes("--check")) {
    const current = readFileSync(outPath, "utf8");
    if (current !== text) {
      console.error("engine/idna-tables.ts is stale: run `npx tsx scripts/gen-idna.ts`");
      process.exit(1);
    }
  } else {
    writeFileSync(outPath, text);
    console.log(`wrote ${outPath} (${text.length} chars)`);
  }
}
