// Generator: the IDNA tables of engine/idna-tables.ts (UTS #46 mapping, NFC data, combining marks,
// bidi classes, joining types), probed code point by code point from the platform: the mapping
// and joining types from Node's url.domainToASCII/domainToUnicode (ada's UTS #46), NFC data from
// String.prototype.normalize (ICU), marks and bidi classes from RegExp Unicode properties.
// Probing keeps the engine in step with the Node parser that the reference interpreter uses.
// Stages: probeIdna (per code point data) -> generateIdnaTables (compact encoding: varint run
// tables with a sparse index, paged decomposition records; about 12 KB of wasm data).
// Input: none. Output: engine/idna-tables.ts (written when run as a script;
// `npx tsx scripts/gen-idna.ts --check` exits 1 when the committed file is stale).

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

/** What the probes found: the data the engine's tables must reproduce exactly. */
export interface IdnaData {
  /** Per code point: "X" disallowed, "I" ignored, "V" valid, else "M" + its mapping. */
  status: string[];
  /** Non-starters (canonical combining class > 0) with the rank of their class (1 = lowest). */
  cccRank: Map<number, number>;
  /** Rank of the virama class (ccc 9), for the ContextJ rule. */
  viramaRank: number;
  /** Canonical decompositions of valid code points, by code point: NFD = NFD(first) + second. */
  decomp: { cp: number; first: number; second: number; excluded: boolean }[];
  /** Inclusive ranges of General_Category tags: 1 Mn/Me (mark, joining type T), 2 Mc (mark), 3 Cf other than ZWNJ/ZWJ (T). */
  marks: { first: number; last: number; tag: number }[];
  /** Bidi class step function over all code points: [start, class], first start 0. */
  bidiSteps: [number, number][];
  /** Joining type step function over all code points: [start, type], first start 0. */
  joinSteps: [number, number][];
}

let probed: IdnaData | undefined;

/** Probe the platform once per process (about 20 s); the result is shared by the generator and tests. */
export function probeIdna(): IdnaData {
  if (probed) return probed;
  const status: string[] = [];
  for (let cp = 0; cp <= MAX_CP; cp++) status.push(cp < 0x80 ? asciiStatus(cp) : probeMapping(cp));
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
  const cccRank = new Map<number, number>();
  let r = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || cmp(sorted[i - 1], sorted[i]) !== 0) r++;
    cccRank.set(sorted[i], r);
  }
  const viramaRank = cccRank.get(0x094d)!;

  // Canonical decompositions of valid code points as (cp, first, second, excluded): decomposing
  // `first` recursively and appending `second` gives the NFD. Only valid code points can reach
  // NFC (mapping runs first), and a valid composite always has a two-part decomposition.
  const decomp: IdnaData["decomp"] = [];
  for (let c = 0xc0; c <= MAX_CP; c++) {
    if (!valid(c) || (c >= 0xac00 && c <= 0xd7a3)) continue; // Hangul syllables: algorithmic
    const ch = String.fromCodePoint(c);
    const parts = [...nfd(ch)];
    if (parts.length === 1) continue;
    const head = parts.slice(0, -1).join("").normalize("NFC");
    if ([...head].length !== 1) throw new Error(`U+${c.toString(16)}: head does not compose`);
    const excluded = parts.join("").normalize("NFC") !== ch;
    decomp.push({ cp: c, first: head.codePointAt(0)!, second: parts[parts.length - 1].codePointAt(0)!, excluded });
  }

  // General_Category ranges that the validity checks need (see IdnaData.marks).
  const marks: IdnaData["marks"] = [];
  let lastTag = 0;
  for (let c = 0; c <= MAX_CP; c++) {
    let tag = 0;
    if (!(c >= 0xd800 && c < 0xe000) && c !== 0x200c && c !== 0x200d) {
      const ch = String.fromCodePoint(c);
      tag = /[\p{Mn}\p{Me}]/u.test(ch) ? 1 : /\p{Mc}/u.test(ch) ? 2 : /\p{Cf}/u.test(ch) ? 3 : 0;
    }
    if (tag !== 0 && tag === lastTag) marks[marks.length - 1].last = c;
    else if (tag !== 0) marks.push({ first: c, last: c, tag });
    lastTag = tag;
  }

  // Bidi classes and joining types of valid code points, as step functions.
  const bidiSteps: [number, number][] = [];
  const joinSteps: [number, number][] = [];
  let lastBidi = -1, lastJoin = -1;
  for (let c = 0; c <= MAX_CP; c++) {
    let b: number = BIDI.L, j: number = JOIN.U;
    if (valid(c) && c !== 0x200c && c !== 0x200d && c !== 0x2e) {
      const ch = String.fromCodePoint(c);
      b = c < 0x80 ? asciiBidi(c) : bidiClass(c);
      j = c < 0x80 ? JOIN.U : joiningType(ch, b);
    } else if (c === 0x200c || c === 0x200d) b = BIDI.N;
    if (b !== lastBidi) { bidiSteps.push([c, b]); lastBidi = b; }
    if (j !== lastJoin) { joinSteps.push([c, j]); lastJoin = j; }
  }
  probed = { status, cccRank, viramaRank, decomp, marks, bidiSteps, joinSteps };
  return probed;
}

// ---- encoding ---------------------------------------------------------------------------------

/**
 * Runs between two entries of a run table's index: a lookup decodes at most this many runs. The
 * tables read for every code point of a host (mapping, combining class, bidi) are indexed densely;
 * the mark and joining tables, read once a label or next to a joiner, sparsely.
 */
export const RUN_INDEX_STRIDE = { hot: 32, cold: 64 } as const;

/** A run of code points [start, start + length) sharing one value, with optional payload bytes. */
interface Run { start: number; length: number; value: number; payload?: number[] }

/** LEB128: 7 bits per byte, low bits first, high bit set on all but the last byte. */
function pushVarint(out: number[], x: number): void {
  if (!(Number.isInteger(x) && x >= 0 && x < 2 ** 32)) throw new Error(`varint out of range: ${x}`);
  while (x >= 0x80) { out.push((x & 0x7f) | 0x80); x = Math.floor(x / 128); }
  out.push(x);
}
const zigzag = (x: number): number => (x >= 0 ? 2 * x : -2 * x - 1);

/**
 * Encode runs covering [0, MAX_CP] as a run table: the byte stream (per run: varint
 * `length << valueBits | value`, then its payload) and an index of every `stride`-th run (its
 * start code point, its byte offset).
 */
function encodeRuns(runs: Run[], valueBits: number, stride: number): { bytes: number[]; keys: number[]; offsets: number[] } {
  const bytes: number[] = [];
  const keys: number[] = [];
  const offsets: number[] = [];
  let next = 0;
  runs.forEach((run, i) => {
    if (run.start !== next || run.length < 1 || run.value < 0 || run.value >= 1 << valueBits) {
      throw new Error(`bad run at U+${run.start.toString(16)}`);
    }
    if (i % stride === 0) { keys.push(run.start); offsets.push(bytes.length); }
    pushVarint(bytes, run.length * 2 ** valueBits + run.value);
    if (run.payload) bytes.push(...run.payload);
    next = run.start + run.length;
  });
  if (next !== MAX_CP + 1) throw new Error("runs do not cover every code point");
  if (bytes.length > 0xffff) throw new Error("run table too long for u16 offsets");
  return { bytes, keys, offsets };
}

/**
 * The code points the combining class, mark, bidi and joining lookups can be asked about. The
 * engine applies them only to mapped text and its NFC (valid code points, mapping targets, parts
 * of canonical decompositions, Hangul jamo and syllables, ASCII) and to punycode-decoded labels
 * whose code points were all checked valid; elsewhere the tables may hold any value, and the
 * encoder picks whatever merges runs.
 */
export function lookupDomain(data: IdnaData): Uint8Array {
  const domain = new Uint8Array(MAX_CP + 1);
  domain.fill(1, 0, 0x80);
  domain.fill(1, 0x1100, 0x1200);
  domain.fill(1, 0xac00, 0xd7a4);
  data.status.forEach((s, cp) => {
    if (s === "V") domain[cp] = 1;
    else if (s[0] === "M") for (const ch of s.slice(1)) domain[ch.codePointAt(0)!] = 1;
  });
  for (const d of data.decomp) domain[d.first] = domain[d.second] = 1;
  return domain;
}

/** Runs of per-code-point values; a code point outside `domain` joins the run before it. */
function valueRuns(values: Uint8Array, domain: Uint8Array): Run[] {
  const runs: Run[] = [];
  for (let cp = 0; cp <= MAX_CP; cp++) {
    const last = runs[runs.length - 1];
    if (last && (domain[cp] === 0 || values[cp] === last.value)) last.length++;
    else runs.push({ start: cp, length: 1, value: values[cp] });
  }
  return runs;
}

/** Per-code-point values of a step function ([start, value], first start 0). */
function stepValues(steps: [number, number][]): Uint8Array {
  const values = new Uint8Array(MAX_CP + 1);
  steps.forEach(([start, value], i) => values.fill(value, start, i + 1 < steps.length ? steps[i + 1][0] : MAX_CP + 1));
  return values;
}

/** Per-code-point tags of the mark ranges (0 outside). */
export function markValues(marks: IdnaData["marks"]): Uint8Array {
  const values = new Uint8Array(MAX_CP + 1);
  for (const m of marks) values.fill(m.tag, m.first, m.last + 1);
  return values;
}

/** Build the generated AssemblyScript source. */
export function generateIdnaTables(): string {
  const data = probeIdna();
  const { status, cccRank, viramaRank, decomp, marks, bidiSteps, joinSteps } = data;

  // Mapping runs: maximal runs of valid, disallowed or ignored code points; `alternate` runs map
  // even offsets +1 and keep odd ones; `delta` runs (3 or more code points) map each code point
  // by one offset (payload: varint zigzag(offset)); `list` runs hold each code point's mapping
  // (payload, with no length, so a walk past the run decodes it: per code point a varint h; even
  // h maps to base + zigzag⁻¹(h / 2); odd h is followed by (h - 1) / 2 varints, the mapping's code
  // points as zigzag offsets, each from the previous one, the first from base; base is the run's
  // start, then 1 + the last code point of the previous mapping).
  const tok = status.map((s, cp) => {
    if (s[0] !== "M") return s;
    const m = [...s.slice(1)];
    return m.length === 1 ? "D" + (m[0].codePointAt(0)! - cp) : "P";
  });
  const mapRuns: Run[] = [];
  let cp = 0;
  const isPlain = (t: string) => t === "V" || t === "X" || t === "I";
  const runEnd = (from: number) => { let e = from + 1; while (e <= MAX_CP && tok[e] === tok[from]) e++; return e; };
  const altStart = (at: number) => tok[at] === "D1" && tok[at + 1] === "V" && tok[at + 2] === "D1";
  while (cp <= MAX_CP) {
    const t = tok[cp];
    if (isPlain(t)) {
      const e = runEnd(cp);
      mapRuns.push({ start: cp, length: e - cp, value: t === "V" ? KIND.valid : t === "X" ? KIND.disallowed : KIND.ignored });
      cp = e;
    } else if (altStart(cp)) {
      let e = cp;
      while (e + 1 <= MAX_CP && tok[e] === "D1" && tok[e + 1] === "V") e += 2;
      mapRuns.push({ start: cp, length: e - cp, value: KIND.alternate });
      cp = e;
    } else if (t[0] === "D" && runEnd(cp) - cp >= 3) {
      const e = runEnd(cp);
      const payload: number[] = [];
      pushVarint(payload, zigzag(Number(t.slice(1))));
      mapRuns.push({ start: cp, length: e - cp, value: KIND.delta, payload });
      cp = e;
    } else {
      const entries: number[] = [];
      let e = cp;
      let base = cp; // consecutive code points tend to map to neighbouring targets
      while (e <= MAX_CP) {
        const u = tok[e];
        if (isPlain(u) || altStart(e) || (u[0] === "D" && runEnd(e) - e >= 3)) break;
        const targets = [...status[e].slice(1)].map((ch) => ch.codePointAt(0)!);
        if (targets.length === 1) pushVarint(entries, 2 * zigzag(targets[0] - base));
        else {
          if (targets.length > 255) throw new Error(`U+${e.toString(16)}: mapping longer than the engine's scratch buffer`);
          pushVarint(entries, 2 * targets.length + 1);
          let prev = base;
          for (const target of targets) { pushVarint(entries, zigzag(target - prev)); prev = target; }
        }
        base = targets[targets.length - 1] + 1;
        e++;
      }
      mapRuns.push({ start: cp, length: e - cp, value: KIND.list, payload: entries });
      cp = e;
    }
  }
  const map = encodeRuns(mapRuns, 3, RUN_INDEX_STRIDE.hot);

  const domain = lookupDomain(data);
  const cccValues = new Uint8Array(MAX_CP + 1);
  for (const [c, rank] of cccRank) cccValues[c] = rank;
  const ccc = encodeRuns(valueRuns(cccValues, domain), 6, RUN_INDEX_STRIDE.hot);
  const mark = encodeRuns(valueRuns(markValues(marks), domain), 2, RUN_INDEX_STRIDE.cold);
  const bidi = encodeRuns(valueRuns(stepValues(bidiSteps), domain), 3, RUN_INDEX_STRIDE.hot);
  const join = encodeRuns(valueRuns(stepValues(joinSteps), domain), 2, RUN_INDEX_STRIDE.cold);

  // Decompositions: u32 records (cp & 0xff, zigzag(cp - first) << 8, index of `second` in
  // SECONDS << 23) in pages of 256 code points (cp >> 8 << 16 | index of the first record). No
  // valid code point is a composition exclusion (UTS #46 maps or disallows them all), so every
  // record composes.
  const seconds = [...new Set(decomp.map((d) => d.second))].sort((a, b) => a - b);
  if (seconds.length > 64) throw new Error("more than 64 distinct second parts of decompositions");
  const decompRecords: number[] = [];
  const decompPages: number[] = [];
  decomp.forEach((d, i) => {
    const diff = zigzag(d.cp - d.first);
    if (d.excluded) throw new Error(`U+${d.cp.toString(16)}: a valid composition exclusion needs an excluded bit`);
    if (diff >= 1 << 15) throw new Error(`U+${d.cp.toString(16)}: first part too far for a decomposition record`);
    if (i === 0 || d.cp >> 8 !== decomp[i - 1].cp >> 8) decompPages.push(((d.cp >> 8) << 16) | i);
    decompRecords.push(((d.cp & 0xff) | (diff << 8) | (seconds.indexOf(d.second) << 23)) >>> 0);
  });
  if (decomp.length > 0xffff) throw new Error("too many decompositions for u16 page starts");

  const table = (name: string, doc: string, t: { bytes: number[]; keys: number[]; offsets: number[] }) => [
    `/** ${doc} */`,
    `export const ${name}_RUNS: usize = memory.data<u8>([${t.bytes.join(",")}]);`,
    `export const ${name}_RUNS_LEN: u32 = ${t.bytes.length};`,
    `export const ${name}_INDEX_COUNT: i32 = ${t.keys.length};`,
    `export const ${name}_INDEX_KEYS: usize = memory.data<u32>([${t.keys.join(",")}]);`,
    `export const ${name}_INDEX_OFFSETS: usize = memory.data<u16>([${t.offsets.join(",")}]);`,
  ];
  return [
    "// GENERATED by scripts/gen-idna.ts from Node's UTS #46 (url.domainToASCII) and ICU normalization",
    `// (Node ${process.versions.node}, Unicode ${process.versions.unicode}). Do not edit; run \`npx tsx scripts/gen-idna.ts\`.`,
    "// Layouts are described in engine/idna.ts, which is the only reader. Each run table XXX has",
    "// XXX_RUNS (per run: varint length << value bits | value, then payload) and an index of every",
    `// ${RUN_INDEX_STRIDE.hot}th (MAP, CCC, BIDI) or ${RUN_INDEX_STRIDE.cold}th run: XXX_INDEX_KEYS (its first code point) and XXX_INDEX_OFFSETS (its byte offset).`,
    "",
    ...table("MAP", "Mapping runs, value = kind (3 bits): 0 disallowed, 1 valid, 2 ignored, 3 alternate, 4 delta, 5 list.", map),
    ...table("CCC", "Rank of the canonical combining class (6 bits; 0 for starters, 1 = lowest class).", ccc),
    `export const VIRAMA_RANK: u32 = ${viramaRank};`,
    ...table("MARK", "General_Category tag (2 bits): 0 none, 1 Mn/Me, 2 Mc, 3 Cf other than ZWNJ/ZWJ.", mark),
    ...table("BIDI", "Bidi class (3 bits): 0 L, 1 R/AL, 2 AN, 3 EN, 4 other neutral, 5 NSM.", bidi),
    ...table("JOIN", "Joining type (2 bits): 0 U or T, 1 D, 2 L, 3 R.", join),
    `export const DECOMP_COUNT: i32 = ${decomp.length};`,
    "/** Canonical decompositions sorted by code point: cp & 0xff | zigzag(cp - first) << 8 | second index << 23. */",
    `export const DECOMP: usize = memory.data<u32>([${decompRecords.join(",")}]);`,
    `export const DECOMP_PAGE_COUNT: i32 = ${decompPages.length};`,
    "/** Pages of DECOMP: cp >> 8 << 16 | index of the page's first record. */",
    `export const DECOMP_PAGES: usize = memory.data<u32>([${decompPages.join(",")}]);`,
    `export const SECOND_COUNT: i32 = ${seconds.length};`,
    "/** The distinct second parts of decompositions, sorted. */",
    `export const SECONDS: usize = memory.data<u32>([${seconds.join(",")}]);`,
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
