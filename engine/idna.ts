// IDNA for the URL host parser (AssemblyScript): the URL Standard's "domain to ASCII", i.e. UTS #46
// ToASCII with CheckHyphens=false, CheckBidi=true, CheckJoiners=true, UseSTD3ASCIIRules=false,
// Transitional_Processing=false, VerifyDnsLength=false. Input: percent-decoded host bytes
// (UTF-8). Output: lower-case ASCII domain in arena memory (idnaOutPtr/idnaOutLen), or false.
// Steps: map (table) -> NFC -> per label: punycode decode `xn--` labels, validity checks (leading
// mark, joiners, bidi rule) -> punycode encode. Tables: engine/idna-tables.ts (generated).
// INVARIANT: every table and buffer access is bounds-checked by construction; any doubt fails.

import { arenaAlloc } from "./arena";
import {
  MAP_RUNS, MAP_RUNS_LEN, MAP_INDEX_COUNT, MAP_INDEX_KEYS, MAP_INDEX_OFFSETS,
  CCC_RUNS, CCC_RUNS_LEN, CCC_INDEX_COUNT, CCC_INDEX_KEYS, CCC_INDEX_OFFSETS, VIRAMA_RANK,
  MARK_RUNS, MARK_RUNS_LEN, MARK_INDEX_COUNT, MARK_INDEX_KEYS, MARK_INDEX_OFFSETS,
  BIDI_RUNS, BIDI_RUNS_LEN, BIDI_INDEX_COUNT, BIDI_INDEX_KEYS, BIDI_INDEX_OFFSETS,
  JOIN_RUNS, JOIN_RUNS_LEN, JOIN_INDEX_COUNT, JOIN_INDEX_KEYS, JOIN_INDEX_OFFSETS,
  DECOMP_COUNT, DECOMP, DECOMP_PAGE_COUNT, DECOMP_PAGES, SECOND_COUNT, SECONDS,
} from "./idna-tables";

const KIND_DISALLOWED: u32 = 0;
const KIND_VALID: u32 = 1;
const KIND_IGNORED: u32 = 2;
const KIND_ALTERNATE: u32 = 3;
const KIND_DELTA: u32 = 4;
const KIND_LIST: u32 = 5;

const BIDI_L: u32 = 0;
const BIDI_R: u32 = 1;
const BIDI_AN: u32 = 2;
const BIDI_EN: u32 = 3;
const BIDI_NSM: u32 = 5;

const JOIN_D: u32 = 1;
const JOIN_L: u32 = 2;
const JOIN_R: u32 = 3;

const HANGUL_S: u32 = 0xac00;
const HANGUL_L: u32 = 0x1100;
const HANGUL_V: u32 = 0x1161;
const HANGUL_T: u32 = 0x11a7;
const HANGUL_V_COUNT: u32 = 21;
const HANGUL_T_COUNT: u32 = 28;
const HANGUL_N: u32 = HANGUL_V_COUNT * HANGUL_T_COUNT;
const HANGUL_COUNT: u32 = 19 * HANGUL_N;

/** Longest non-ASCII input (bytes) we process; longer ones fail rather than need huge scratch buffers. */
const MAX_DOMAIN_BYTES: u32 = 1 << 16;

let outPtr: usize = 0;
let outLen: u32 = 0;

/** Address of the last successful result. */
export function idnaOutPtr(): usize { return outPtr; }
/** Length of the last successful result. */
export function idnaOutLen(): u32 { return outLen; }

// ---- table lookups ----------------------------------------------------------------------------
//
// Run tables (MAP, CCC, MARK, BIDI, JOIN) give every code point 0..10FFFF a value. Layout:
//
//   XXX_RUNS            run, run, ...   run = varint(length << valueBits | value) [payload]
//   XXX_INDEX_KEYS      u32 per indexed run (every 32nd or 64th): its first code point (the first is 0)
//   XXX_INDEX_OFFSETS   u16 per indexed run: its byte offset in XXX_RUNS
//
// Varints are LEB128 (7 bits a byte, low first, high bit = more). Only MAP runs have payloads: a
// `delta` run has varint zigzag(offset); a `list` run has, per code point (and no length, so a
// walk past it decodes it), a varint h: even h maps to base + zigzag⁻¹(h >> 1); odd h is followed
// by h >> 1 varints, the mapping's code points as zigzag offsets from the previous one (the first
// from base). base is the run's start, then 1 + the last code point of the previous mapping
// (consecutive code points tend to map to neighbours). A lookup binary-searches the index, then
// decodes at most 32 (64) runs. Reads stop at the table's end.
//
// INVARIANT: cccRank, markTag, bidiClass and joiningType are asked only about code points of mapped
// text and its NFC (valid code points, mapping targets, decomposition parts, Hangul, ASCII) or of
// punycode-decoded labels already checked valid. Their tables hold exact values only there (the
// generator's lookupDomain); elsewhere a value is whatever made the runs longest.

/** Read position of the varint reader, and the end it must not pass. */
let cursor: usize = 0;
let cursorEnd: usize = 0;

/** The LEB128 varint at cursor (advancing it); past the end (never, for generated data) it reads 0 and parks the cursor at the end. */
function readVarint(): u32 {
  let value: u32 = 0;
  for (let shift: u32 = 0; shift < 35; shift += 7) {
    if (cursor >= cursorEnd) { cursor = cursorEnd; return 0; }
    const b = <u32>load<u8>(cursor);
    cursor++;
    value |= (b & 0x7f) << shift;
    if (b < 0x80) return value;
  }
  return value;
}

@inline function unzigzag(z: u32): i32 { return <i32>(z >>> 1) ^ -<i32>(z & 1); }

/** First code point of the run the last runValue found (its payload starts at cursor). */
let runStart: u32 = 0;

/**
 * Value of the run holding cp in a run table, or 0xffffffff when cp is beyond the table. For the
 * MAP table (hasPayload), the payload of `delta` and `list` runs is skipped while walking.
 */
function runValue(runs: usize, runsLen: u32, keys: usize, offsets: usize, count: i32, cp: u32, valueBits: u32, hasPayload: bool): u32 {
  let lo = 0, hi = count - 1, found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (load<u32>(keys + (<usize>mid << 2)) <= cp) { found = mid; lo = mid + 1; }
    else hi = mid - 1;
  }
  let start = load<u32>(keys + (<usize>found << 2));
  cursor = runs + <usize>load<u16>(offsets + (<usize>found << 1));
  cursorEnd = runs + runsLen;
  const mask: u32 = (1 << valueBits) - 1;
  // INVARIANT: each pass consumes at least one byte, so the walk ends within the table.
  while (cursor < cursorEnd) {
    // Most run headers are one byte: read those inline.
    const first = <u32>load<u8>(cursor);
    let head = first;
    if (first < 0x80) cursor++; else head = readVarint();
    const value = head & mask;
    const length = head >>> valueBits;
    if (cp - start < length) { runStart = start; return value; }
    start += length;
    if (hasPayload) {
      if (value == KIND_DELTA) readVarint();
      else if (value == KIND_LIST) {
        for (let k: u32 = 0; k < length; k++) { const h = readVarint(); if (h & 1) for (let j: u32 = h >>> 1; j > 0; j--) readVarint(); }
      }
    }
  }
  return 0xffffffff;
}

/** Bidi class of cp as the Bidi Rule groups them (BIDI_*); exact only where the INVARIANT above says. Exported for the table tests. */
export function bidiClass(cp: u32): u32 {
  const v = runValue(BIDI_RUNS, BIDI_RUNS_LEN, BIDI_INDEX_KEYS, BIDI_INDEX_OFFSETS, BIDI_INDEX_COUNT, cp, 3, false);
  return v == 0xffffffff ? BIDI_L : v;
}

/** Joining type of cp: 0 U, 1 D, 2 L, 3 R, 4 T; exact only where the INVARIANT above says. Exported for the table tests. */
export function joiningType(cp: u32): u32 {
  const tag = markTag(cp);
  if (tag == 1 || tag == 3) return 4; // T
  const v = runValue(JOIN_RUNS, JOIN_RUNS_LEN, JOIN_INDEX_KEYS, JOIN_INDEX_OFFSETS, JOIN_INDEX_COUNT, cp, 2, false);
  return v == 0xffffffff ? 0 : v;
}

/** 0 none, 1 Mn/Me, 2 Mc, 3 Cf (see the generator); exact only where the INVARIANT above says. Exported for the table tests. */
export function markTag(cp: u32): u32 {
  const v = runValue(MARK_RUNS, MARK_RUNS_LEN, MARK_INDEX_KEYS, MARK_INDEX_OFFSETS, MARK_INDEX_COUNT, cp, 2, false);
  return v == 0xffffffff ? 0 : v;
}

/** Rank of the canonical combining class (0 for starters); exact only where the INVARIANT above says. Exported for the table tests. */
export function cccRank(cp: u32): u32 {
  if (cp < 0x300) return 0; // no non-starter below U+0300: keeps NFC of Latin text off the table
  const v = runValue(CCC_RUNS, CCC_RUNS_LEN, CCC_INDEX_KEYS, CCC_INDEX_OFFSETS, CCC_INDEX_COUNT, cp, 6, false);
  return v == 0xffffffff ? 0 : v;
}

// DECOMP: DECOMP_COUNT u32 records sorted by code point, grouped in pages of 256 code points:
//
//   record  bits 0-7 cp & 0xff | 8-22 zigzag(cp - first) | 23-28 index of second in SECONDS
//   page    cp >> 8 << 16 | index of the page's first record (DECOMP_PAGES, sorted)
//
// cp's canonical decomposition is the decomposition of `first` followed by `second`. Every record
// composes: no valid code point is a composition exclusion (the generator checks).

@inline function decompRecord(i: i32): u32 { return load<u32>(DECOMP + (<usize>i << 2)); }
@inline function recordSecondIndex(r: u32): u32 { return (r >>> 23) & 0x3f; }
@inline function recordFirst(r: u32, cp: u32): u32 { return <u32>(<i32>cp - unzigzag((r >>> 8) & 0x7fff)); }
@inline function pageEnd(page: i32): i32 {
  return page + 1 < DECOMP_PAGE_COUNT ? <i32>(load<u32>(DECOMP_PAGES + (<usize>(page + 1) << 2)) & 0xffff) : DECOMP_COUNT;
}

/** Index into DECOMP of cp's record, or -1. */
function decompIndex(cp: u32): i32 {
  let lo = 0, hi = DECOMP_PAGE_COUNT - 1, page = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const key = load<u32>(DECOMP_PAGES + (<usize>mid << 2)) >>> 16;
    if (key == cp >>> 8) { page = mid; break; }
    if (key < cp >>> 8) lo = mid + 1; else hi = mid - 1;
  }
  if (page < 0) return -1;
  lo = <i32>(load<u32>(DECOMP_PAGES + (<usize>page << 2)) & 0xffff);
  hi = pageEnd(page) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const key = decompRecord(mid) & 0xff;
    if (key == (cp & 0xff)) return mid;
    if (key < (cp & 0xff)) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/** Index of b in SECONDS, or -1. */
function secondIndex(b: u32): i32 {
  let lo = 0, hi = SECOND_COUNT - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const key = load<u32>(SECONDS + (<usize>mid << 2));
    if (key == b) return mid;
    if (key < b) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/** The primary composite of (a, b), or 0 (exported for the table tests). */
export function compose(a: u32, b: u32): u32 {
  if (a - HANGUL_L < 19 && b - HANGUL_V < HANGUL_V_COUNT) {
    return HANGUL_S + ((a - HANGUL_L) * HANGUL_V_COUNT + (b - HANGUL_V)) * HANGUL_T_COUNT;
  }
  if (a - HANGUL_S < HANGUL_COUNT && (a - HANGUL_S) % HANGUL_T_COUNT == 0 && b - HANGUL_T - 1 < HANGUL_T_COUNT - 1) {
    return a + (b - HANGUL_T);
  }
  const s = secondIndex(b);
  if (s < 0) return 0;
  // Linear scan: composition only runs on hosts with combining sequences, and the table is small.
  for (let page = 0; page < DECOMP_PAGE_COUNT; page++) {
    const high = (load<u32>(DECOMP_PAGES + (<usize>page << 2)) >>> 16) << 8;
    const end = pageEnd(page);
    for (let i = <i32>(load<u32>(DECOMP_PAGES + (<usize>page << 2)) & 0xffff); i < end; i++) {
      const r = decompRecord(i);
      if (recordSecondIndex(r) == <u32>s && recordFirst(r, high | (r & 0xff)) == a) return high | (r & 0xff);
    }
  }
  return 0;
}

/**
 * Append the mapping of cp to dst (or only count when dst is 0); returns code points written, or
 * -1 when cp is disallowed (exported for the table tests).
 */
export function mapCodePoint(cp: u32, dst: usize): i32 {
  if (cp < 0x80) {
    if (dst) store<u32>(dst, cp - 0x41 < 26 ? cp + 0x20 : cp);
    return 1;
  }
  const kind = runValue(MAP_RUNS, MAP_RUNS_LEN, MAP_INDEX_KEYS, MAP_INDEX_OFFSETS, MAP_INDEX_COUNT, cp, 3, true);
  if (kind == KIND_DISALLOWED) return -1;
  if (kind == KIND_IGNORED) return 0;
  if (kind == KIND_VALID) { if (dst) store<u32>(dst, cp); return 1; }
  if (kind == KIND_ALTERNATE) { if (dst) store<u32>(dst, ((cp - runStart) & 1) == 0 ? cp + 1 : cp); return 1; }
  if (kind == KIND_DELTA) { const target = <u32>(<i32>cp + unzigzag(readVarint())); if (dst) store<u32>(dst, target); return 1; }
  if (kind != KIND_LIST) return -1;
  // The payload: one entry per code point of the run; walk to cp's entry.
  let base = runStart;
  for (let k: u32 = runStart; k < cp; k++) {
    const h = readVarint();
    if ((h & 1) == 0) base = <u32>(<i32>base + unzigzag(h >>> 1)) + 1;
    else {
      let c = base;
      for (let j: u32 = h >>> 1; j > 0; j--) c = <u32>(<i32>c + unzigzag(readVarint()));
      base = c + 1;
    }
  }
  if (cursor >= cursorEnd) return -1;
  const h = readVarint();
  if ((h & 1) == 0) {
    if (dst) store<u32>(dst, <u32>(<i32>base + unzigzag(h >>> 1)));
    return 1;
  }
  // INVARIANT: at most 255 code points (the generator checks), the size of domainToAscii's scratch.
  const count = <i32>(h >>> 1);
  let c = base;
  for (let j = 0; j < count; j++) {
    c = <u32>(<i32>c + unzigzag(readVarint()));
    if (dst) store<u32>(dst + (<usize>j << 2), c);
  }
  return count;
}

// ---- UTF-8 ------------------------------------------------------------------------------------

/** Strict UTF-8 decode of [p, p+n) into dst (capacity n); count, or -1 on malformed input. */
function decodeUtf8(p: usize, n: u32, dst: usize): i32 {
  let i: u32 = 0, count = 0;
  while (i < n) {
    const b0 = <u32>load<u8>(p + i);
    let c: u32, need: u32, min: u32;
    if (b0 < 0x80) { c = b0; need = 0; min = 0; }
    else if (b0 >= 0xc2 && b0 < 0xe0) { c = b0 & 0x1f; need = 1; min = 0x80; }
    else if (b0 >= 0xe0 && b0 < 0xf0) { c = b0 & 0x0f; need = 2; min = 0x800; }
    else if (b0 >= 0xf0 && b0 < 0xf5) { c = b0 & 0x07; need = 3; min = 0x10000; }
    else return -1;
    if (need > 0 && i + need >= n) return -1;
    for (let k: u32 = 1; k <= need; k++) {
      const b = <u32>load<u8>(p + i + k);
      if ((b & 0xc0) != 0x80) return -1;
      c = (c << 6) | (b & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) return -1;
    store<u32>(dst + (<usize>count << 2), c);
    count++;
    i += need + 1;
  }
  return count;
}

// ---- NFC --------------------------------------------------------------------------------------

/** Append the full canonical decomposition of cp at dst + n*4; returns the new count (exported for the table tests). */
export function decompose(cp: u32, dst: usize, n: i32, depth: i32): i32 {
  if (cp - HANGUL_S < HANGUL_COUNT) {
    const s = cp - HANGUL_S;
    store<u32>(dst + (<usize>n << 2), HANGUL_L + s / HANGUL_N); n++;
    store<u32>(dst + (<usize>n << 2), HANGUL_V + (s % HANGUL_N) / HANGUL_T_COUNT); n++;
    const t = s % HANGUL_T_COUNT;
    if (t != 0) { store<u32>(dst + (<usize>n << 2), HANGUL_T + t); n++; }
    return n;
  }
  const i = cp < 0xc0 || depth > 8 ? -1 : decompIndex(cp);
  if (i < 0) { store<u32>(dst + (<usize>n << 2), cp); return n + 1; }
  const r = decompRecord(i);
  n = decompose(recordFirst(r, cp), dst, n, depth + 1);
  const second = load<u32>(SECONDS + (<usize>recordSecondIndex(r) << 2));
  if (second != 0) { store<u32>(dst + (<usize>n << 2), second); n++; }
  return n;
}

/** NFC of src[0..n) into dst (capacity 4n); returns the new count. */
function nfc(src: usize, n: i32, dst: usize): i32 {
  let m = 0;
  for (let i = 0; i < n; i++) m = decompose(load<u32>(src + (<usize>i << 2)), dst, m, 0);
  // Canonical ordering: stable insertion sort of each run of non-starters by class rank.
  for (let i = 1; i < m; i++) {
    const c = load<u32>(dst + (<usize>i << 2));
    const r = cccRank(c);
    if (r == 0) continue;
    let j = i;
    while (j > 0) {
      const prev = load<u32>(dst + (<usize>(j - 1) << 2));
      const pr = cccRank(prev);
      if (pr <= r) break;
      store<u32>(dst + (<usize>j << 2), prev);
      j--;
    }
    store<u32>(dst + (<usize>j << 2), c);
  }
  // Canonical composition.
  if (m == 0) return 0;
  let starterPos = -1;
  let lastRank: i32 = -1;
  let out = 0;
  for (let i = 0; i < m; i++) {
    const c = load<u32>(dst + (<usize>i << 2));
    const r = <i32>cccRank(c);
    if (starterPos >= 0) {
      // Blocked when a character in between has rank 0 (then lastRank is 0) or rank >= r.
      const blocked = lastRank != -1 && (lastRank == 0 || lastRank >= r);
      if (!blocked) {
        const composite = compose(load<u32>(dst + (<usize>starterPos << 2)), c);
        if (composite != 0) { store<u32>(dst + (<usize>starterPos << 2), composite); continue; }
      }
    }
    if (r == 0) { starterPos = out; lastRank = -1; }
    else lastRank = r;
    store<u32>(dst + (<usize>out << 2), c);
    out++;
  }
  return out;
}

// ---- punycode (RFC 3492) ------------------------------------------------------------------------

const BASE: u32 = 36, TMIN: u32 = 1, TMAX: u32 = 26, SKEW: u32 = 38, DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72, INITIAL_N: u32 = 128;

function adapt(delta: u32, numPoints: u32, first: bool): u32 {
  delta = first ? delta / DAMP : delta >> 1;
  delta += delta / numPoints;
  let k: u32 = 0;
  while (delta > ((BASE - TMIN) * TMAX) >> 1) { delta /= BASE - TMIN; k += BASE; }
  return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

@inline function digitValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 22);
  if (c - 0x41 < 26) return <i32>(c - 0x41);
  if (c - 0x61 < 26) return <i32>(c - 0x61);
  return -1;
}

/** Decode punycode cps src[0..n) (all ASCII) into dst (capacity n); count or -1. */
function punyDecode(src: usize, n: i32, dst: usize): i32 {
  let b = 0;
  for (let j = 0; j < n; j++) if (load<u32>(src + (<usize>j << 2)) == 0x2d) b = j;
  let out = 0;
  for (let j = 0; j < b; j++) { store<u32>(dst + (<usize>out << 2), load<u32>(src + (<usize>j << 2))); out++; }
  let i: u32 = 0, nn = INITIAL_N, bias = INITIAL_BIAS;
  let inPos = b > 0 ? b + 1 : 0;
  while (inPos < n) {
    const oldi = i;
    let w: u32 = 1;
    for (let k = BASE; ; k += BASE) {
      if (inPos >= n) return -1;
      const d = digitValue(load<u32>(src + (<usize>inPos << 2)));
      inPos++;
      if (d < 0) return -1;
      if (<u32>d > (0xffffffff - i) / w) return -1;
      i += <u32>d * w;
      const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
      if (<u32>d < t) break;
      if (w > 0xffffffff / (BASE - t)) return -1;
      w *= BASE - t;
    }
    const len = <u32>out + 1;
    bias = adapt(i - oldi, len, oldi == 0);
    if (i / len > 0x10ffff - nn) return -1;
    nn += i / len;
    i %= len;
    if (nn > 0x10ffff || (nn >= 0xd800 && nn < 0xe000) || nn < 0x80) return -1;
    if (out >= n) return -1;
    // Insert nn at position i.
    for (let j = out; j > <i32>i; j--) store<u32>(dst + (<usize>j << 2), load<u32>(dst + (<usize>(j - 1) << 2)));
    store<u32>(dst + (<usize>i << 2), nn);
    out++;
    i++;
  }
  return out;
}

@inline function encodeDigit(d: u32): u8 { return <u8>(d < 26 ? d + 0x61 : d + 22); }

/** Punycode-encode cps src[0..n) as bytes at dst (capacity 8n + 8); byte count or -1. */
function punyEncode(src: usize, n: i32, dst: usize): i32 {
  let out = 0;
  for (let j = 0; j < n; j++) {
    const c = load<u32>(src + (<usize>j << 2));
    if (c < 0x80) { store<u8>(dst + out, <u8>c); out++; }
  }
  let h = <u32>out;
  const basic = h;
  if (basic > 0) { store<u8>(dst + out, 0x2d); out++; }
  let nn = INITIAL_N, delta: u32 = 0, bias = INITIAL_BIAS;
  while (h < <u32>n) {
    let m: u32 = 0xffffffff;
    for (let j = 0; j < n; j++) { const c = load<u32>(src + (<usize>j << 2)); if (c >= nn && c < m) m = c; }
    if ((m - nn) > (0xffffffff - delta) / (h + 1)) return -1;
    delta += (m - nn) * (h + 1);
    nn = m;
    for (let j = 0; j < n; j++) {
      const c = load<u32>(src + (<usize>j << 2));
      if (c < nn) { delta++; if (delta == 0) return -1; }
      if (c == nn) {
        let q = delta;
        for (let k = BASE; ; k += BASE) {
          const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
          if (q < t) break;
          store<u8>(dst + out, encodeDigit(t + (q - t) % (BASE - t))); out++;
          q = (q - t) / (BASE - t);
        }
        store<u8>(dst + out, encodeDigit(q)); out++;
        bias = adapt(delta, h + 1, h == basic);
        delta = 0;
        h++;
      }
    }
    delta++;
    nn++;
  }
  return out;
}

// ---- validity ---------------------------------------------------------------------------------

/** Validity criteria 5 and 6 (leading mark, joiners) on label cps[s..e). */
function labelValid(cps: usize, s: i32, e: i32): bool {
  if (s == e) return true;
  const t0 = markTag(load<u32>(cps + (<usize>s << 2)));
  if (t0 == 1 || t0 == 2) return false;
  for (let i = s; i < e; i++) {
    const c = load<u32>(cps + (<usize>i << 2));
    if (c != 0x200c && c != 0x200d) continue;
    if (i > s && cccRank(load<u32>(cps + (<usize>(i - 1) << 2))) == VIRAMA_RANK) continue;
    if (c == 0x200d) return false;
    // ZWNJ: (L|D) T* ZWNJ T* (R|D)
    let j = i - 1;
    while (j >= s && joiningType(load<u32>(cps + (<usize>j << 2))) == 4) j--;
    if (j < s) return false;
    const left = joiningType(load<u32>(cps + (<usize>j << 2)));
    if (left != JOIN_L && left != JOIN_D) return false;
    j = i + 1;
    while (j < e && joiningType(load<u32>(cps + (<usize>j << 2))) == 4) j++;
    if (j >= e) return false;
    const right = joiningType(load<u32>(cps + (<usize>j << 2)));
    if (right != JOIN_R && right != JOIN_D) return false;
  }
  return true;
}

/** RFC 5893 Bidi Rule on label cps[s..e). */
function bidiRule(cps: usize, s: i32, e: i32): bool {
  if (s == e) return true;
  const first = bidiClass(load<u32>(cps + (<usize>s << 2)));
  if (first != BIDI_L && first != BIDI_R) return false;
  let last = e - 1;
  while (last > s && bidiClass(load<u32>(cps + (<usize>last << 2))) == BIDI_NSM) last--;
  const endClass = bidiClass(load<u32>(cps + (<usize>last << 2)));
  let hasEN = false, hasAN = false;
  for (let i = s; i < e; i++) {
    const c = bidiClass(load<u32>(cps + (<usize>i << 2)));
    if (first == BIDI_R) {
      if (c == BIDI_L) return false;
      if (c == BIDI_EN) hasEN = true;
      if (c == BIDI_AN) hasAN = true;
    } else if (c == BIDI_R || c == BIDI_AN) return false;
  }
  if (first == BIDI_R) return (endClass == BIDI_R || endClass == BIDI_EN || endClass == BIDI_AN) && !(hasEN && hasAN);
  return endClass == BIDI_L || endClass == BIDI_EN;
}

// ---- domain to ASCII --------------------------------------------------------------------------

@inline function lowerAscii(c: u32): u32 { return c - 0x41 < 26 ? c + 0x20 : c; }

function startsWithXn(p: usize, n: u32): bool {
  return n >= 4 && lowerAscii(load<u8>(p)) == 0x78 && lowerAscii(load<u8>(p + 1)) == 0x6e &&
    load<u8>(p + 2) == 0x2d && load<u8>(p + 3) == 0x2d;
}

/** Needs full processing: non-ASCII, or some label starts with `xn--` (any case). */
function needsIdna(p: usize, n: u32): bool {
  let labelStart: u32 = 0;
  for (let i: u32 = 0; i <= n; i++) {
    if (i == n || load<u8>(p + i) == 0x2e) {
      if (startsWithXn(p + labelStart, i - labelStart)) return true;
      labelStart = i + 1;
    } else if (load<u8>(p + i) >= 0x80) return true;
  }
  return false;
}

/** UTS #46 ToASCII of the UTF-8 bytes [p, p+n) with the URL Standard's flags; result via idnaOutPtr/Len. */
export function domainToAscii(p: usize, n: u32): bool {
  if (!needsIdna(p, n)) {
    const dst = arenaAlloc(<usize>n + 1);
    for (let i: u32 = 0; i < n; i++) store<u8>(dst + i, <u8>lowerAscii(load<u8>(p + i)));
    outPtr = dst;
    outLen = n;
    return n > 0;
  }
  if (n > MAX_DOMAIN_BYTES) return false;
  // Decode and map.
  const decoded = arenaAlloc((<usize>n + 1) << 2);
  const count = decodeUtf8(p, n, decoded);
  if (count < 0) return false;
  let mappedCount = 0;
  for (let i = 0; i < count; i++) {
    const w = mapCodePoint(load<u32>(decoded + (<usize>i << 2)), 0);
    if (w < 0) return false;
    mappedCount += w;
  }
  const mapped = arenaAlloc((<usize>mappedCount + 1) << 2);
  let m = 0;
  for (let i = 0; i < count; i++) m += mapCodePoint(load<u32>(decoded + (<usize>i << 2)), mapped + (<usize>m << 2));
  // Normalize (a decomposition is at most 4 code points per input code point, Hangul 3).
  const norm = arenaAlloc((<usize>m + 1) << 4);
  const k = nfc(mapped, m, norm);
  // Labels: decode `xn--` labels into `uni`, build the ASCII output alongside.
  const uni = arenaAlloc((<usize>k + 1) << 2);
  // Per code point: at most 11 punycode digits (a u32 delta, at least 10 per digit); per label
  // `xn--`, `-` and `.`: 16 bytes per code point covers the worst case.
  const ascii = arenaAlloc((<usize>k + 1) * 16);
  const scratch = arenaAlloc(256 << 2); // one code point's mapping (the generator caps it at 255 code points)
  let u = 0;
  let a = 0;
  let s = 0;
  let hasRtl = false;
  while (s <= k) {
    let e = s;
    while (e < k && load<u32>(norm + (<usize>e << 2)) != 0x2e) e++;
    const labelUniStart = u;
    const isPuny = e - s >= 4 && load<u32>(norm + (<usize>s << 2)) == 0x78 && load<u32>(norm + (<usize>(s + 1) << 2)) == 0x6e &&
      load<u32>(norm + (<usize>(s + 2) << 2)) == 0x2d && load<u32>(norm + (<usize>(s + 3) << 2)) == 0x2d;
    if (isPuny) {
      for (let i = s; i < e; i++) if (load<u32>(norm + (<usize>i << 2)) >= 0x80) return false;
      const d = punyDecode(norm + (<usize>(s + 4) << 2), e - s - 4, uni + (<usize>u << 2));
      if (d <= 0) return false; // an empty decoded label fails, as in Node 20 (newer WPT accepts it)
      // The decoded label must be valid as it stands: NFC and every code point valid unmapped.

      for (let i = 0; i < d; i++) {
        const c = load<u32>(uni + (<usize>(u + i) << 2));
        const w = mapCodePoint(c, scratch);
        if (w != 1 || load<u32>(scratch) != c) return false;
      }
      const check = arenaAlloc((<usize>d + 1) << 4);
      const nd = nfc(uni + (<usize>u << 2), d, check);
      if (nd != d) return false;
      for (let i = 0; i < d; i++) if (load<u32>(check + (<usize>i << 2)) != load<u32>(uni + (<usize>(u + i) << 2))) return false;
      u += d;
      for (let i = s; i < e; i++) { store<u8>(ascii + a, <u8>load<u32>(norm + (<usize>i << 2))); a++; }
    } else {
      let nonAscii = false;
      for (let i = s; i < e; i++) {
        const c = load<u32>(norm + (<usize>i << 2));
        if (c >= 0x80) nonAscii = true;
        store<u32>(uni + (<usize>u << 2), c);
        u++;
      }
      if (nonAscii) {
        store<u8>(ascii + a, 0x78); store<u8>(ascii + a + 1, 0x6e); store<u8>(ascii + a + 2, 0x2d); store<u8>(ascii + a + 3, 0x2d);
        a += 4;
        const w = punyEncode(norm + (<usize>s << 2), e - s, ascii + a);
        if (w < 0) return false;
        a += w;
      } else {
        for (let i = s; i < e; i++) { store<u8>(ascii + a, <u8>load<u32>(norm + (<usize>i << 2))); a++; }
      }
    }
    if (!labelValid(uni, labelUniStart, u)) return false;
    for (let i = labelUniStart; i < u; i++) {
      const b = bidiClass(load<u32>(uni + (<usize>i << 2)));
      if (b == BIDI_R || b == BIDI_AN) hasRtl = true;
    }
    if (e < k) {
      store<u32>(uni + (<usize>u << 2), 0x2e); u++;
      store<u8>(ascii + a, 0x2e); a++;
    }
    s = e + 1;
  }
  if (hasRtl) {
    let ls = 0;
    for (let i = 0; i <= u; i++) {
      if (i == u || load<u32>(uni + (<usize>i << 2)) == 0x2e) {
        if (!bidiRule(uni, ls, i)) return false;
        ls = i + 1;
      }
    }
  }
  if (a == 0) return false;
  outPtr = ascii;
  outLen = <u32>a;
  return true;
}
