// Engine regex: validation and a Pike VM for programs built by compiler/regex/compile.ts.
// Input: a program (layout in docs/regex.md) and UTF-8 text in linear memory. Output: whether the
// program matches (regexSearch) or the leftmost-first match's byte range (regexFind).
//
// regexValidate checks every byte of a program once, when the bundle is loaded; the VM then runs
// without checks of its own. The VM keeps one list of threads per input position, in priority
// order, each program counter at most once per list, so a search costs
// O(len(input) x instructions) time and O(instructions) scratch memory, whatever the pattern.
// Scratch comes from the arena between arenaMark and arenaRelease; nothing recurses.

import { arenaAlloc, arenaMark, arenaRelease } from "./arena";

// Same numbers as compiler/regex/compile.ts (a test compares them through regex-entry.ts).
export const REGEX_VERSION: u32 = 1;
const MAGIC: u32 = 0x58524541; // "AERX" little-endian
const HEADER_BYTES: u32 = 16;
const INSTRUCTION_BYTES: u32 = 12;
const RANGE_BYTES: u32 = 8;
/** Largest accepted program (the compiler's limit). */
export const MAX_PROGRAM_BYTES: u32 = 65536;

export const OP_MATCH: u8 = 1;
export const OP_CHAR: u8 = 2;
export const OP_RANGES: u8 = 3;
export const OP_SPLIT: u8 = 4;
export const OP_JMP: u8 = 5;
export const OP_ASSERT: u8 = 6;
export const OP_SAVE: u8 = 7;

export const ASSERT_BEGIN_TEXT: u8 = 1;
export const ASSERT_END_TEXT: u8 = 2;
export const ASSERT_BEGIN_LINE: u8 = 3;
export const ASSERT_END_LINE: u8 = 4;
export const ASSERT_WORD_BOUNDARY: u8 = 5;
export const ASSERT_NOT_WORD_BOUNDARY: u8 = 6;

const MAX_CODE_POINT: u32 = 0x10ffff;
/** Decoded value of a byte that does not start a well-formed sequence: inside no range. */
const NOT_A_CODE_POINT: u32 = 0xffffffff;

/**
 * Check a program completely: header, exact length, every opcode, operand and unused byte, every
 * jump target and fall-through inside the program, every range set sorted, disjoint and within
 * [0, 0x10FFFF]. A program that passes cannot make the VM read outside it or loop.
 */
export function regexValidate(prog: usize, len: u32): bool {
  if (len < HEADER_BYTES || len > MAX_PROGRAM_BYTES) return false;
  if (load<u32>(prog) != MAGIC) return false;
  if (load<u16>(prog, 4) != <u16>REGEX_VERSION || load<u16>(prog, 6) != 0) return false;
  const count = load<u32>(prog, 8);
  const rangeCount = load<u32>(prog, 12);
  // Both counts are bounded by len before any multiplication can overflow.
  if (count == 0 || count > len / INSTRUCTION_BYTES || rangeCount > len / RANGE_BYTES) return false;
  if (<u64>HEADER_BYTES + <u64>count * INSTRUCTION_BYTES + <u64>rangeCount * RANGE_BYTES != <u64>len) return false;
  const pool = prog + HEADER_BYTES + count * INSTRUCTION_BYTES;
  for (let r: u32 = 0; r < rangeCount; r++) {
    const lo = load<u32>(pool + r * RANGE_BYTES);
    const hi = load<u32>(pool + r * RANGE_BYTES, 4);
    if (lo > hi || hi > MAX_CODE_POINT) return false;
  }
  for (let pc: u32 = 0; pc < count; pc++) {
    const at = prog + HEADER_BYTES + pc * INSTRUCTION_BYTES;
    const op = load<u8>(at);
    const arg = load<u8>(at, 1);
    const a = load<u32>(at, 4);
    const b = load<u32>(at, 8);
    if (load<u16>(at, 2) != 0) return false;
    // Instructions that continue at pc + 1 need a pc + 1.
    const fallsThrough = op == OP_CHAR || op == OP_RANGES || op == OP_ASSERT || op == OP_SAVE;
    if (fallsThrough && pc + 1 >= count) return false;
    if (op == OP_MATCH) {
      if (arg != 0 || a != 0 || b != 0) return false;
    } else if (op == OP_CHAR) {
      if (arg != 0 || a > MAX_CODE_POINT || b != 0) return false;
    } else if (op == OP_RANGES) {
      if (arg != 0 || a > rangeCount || b > rangeCount - a) return false;
      // Sorted and disjoint, so the VM can binary-search.
      for (let r: u32 = 1; r < b; r++) {
        const prevHi = load<u32>(pool + (a + r - 1) * RANGE_BYTES, 4);
        const lo = load<u32>(pool + (a + r) * RANGE_BYTES);
        if (lo <= prevHi) return false;
      }
    } else if (op == OP_SPLIT) {
      if (arg != 0 || a >= count || b >= count) return false;
    } else if (op == OP_JMP) {
      if (arg != 0 || a >= count || b != 0) return false;
    } else if (op == OP_ASSERT) {
      if (arg < ASSERT_BEGIN_TEXT || arg > ASSERT_NOT_WORD_BOUNDARY || a != 0 || b != 0) return false;
    } else if (op == OP_SAVE) {
      if (arg > 1 || a != 0 || b != 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Thread lists: a sparse set of program counters in insertion (= priority) order, each with its
// two capture slots. `sparse[pc]` may hold garbage (arena memory is not zeroed); membership is
// `sparse[pc] < count && dense[sparse[pc]] == pc`, which garbage cannot fake.
//
// List layout (all u32): [count][dense pc x n][slot0 x n][slot1 x n][sparse x n]

@inline function listCount(list: usize): u32 { return load<u32>(list); }
@inline function listPc(list: usize, i: u32): u32 { return load<u32>(list + 4 + (<usize>i << 2)); }

@inline function listContains(list: usize, n: u32, pc: u32): bool {
  const i = load<u32>(list + 4 + ((<usize>3 * n + pc) << 2));
  return i < load<u32>(list) && load<u32>(list + 4 + (<usize>i << 2)) == pc;
}

@inline function listInsert(list: usize, n: u32, pc: u32, s0: u32, s1: u32): void {
  const i = load<u32>(list);
  store<u32>(list + 4 + (<usize>i << 2), pc);
  store<u32>(list + 4 + ((<usize>n + i) << 2), s0);
  store<u32>(list + 4 + ((<usize>2 * n + i) << 2), s1);
  store<u32>(list + 4 + ((<usize>3 * n + pc) << 2), i);
  store<u32>(list, i + 1);
}

@inline function listSlot(list: usize, n: u32, i: u32, slot: u32): u32 {
  return load<u32>(list + 4 + ((<usize>(slot + 1) * n + i) << 2));
}

function listAlloc(n: u32): usize {
  const list = arenaAlloc(4 + (<usize>n << 4));
  store<u32>(list, 0);
  return list;
}

// ---------------------------------------------------------------------------------------------
// VM

@inline function isWordByte(c: u32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}

/** Whether ASSERT `kind` holds at byte offset `pos` of `s`. Word characters are ASCII, so bytes suffice. */
function assertHolds(kind: u32, s: usize, sLen: u32, pos: u32): bool {
  if (kind == ASSERT_BEGIN_TEXT) return pos == 0;
  if (kind == ASSERT_END_TEXT) return pos == sLen;
  if (kind == ASSERT_BEGIN_LINE) return pos == 0 || load<u8>(s + pos - 1) == 0x0a;
  if (kind == ASSERT_END_LINE) return pos == sLen || load<u8>(s + pos) == 0x0a;
  const before = pos > 0 && isWordByte(load<u8>(s + pos - 1));
  const after = pos < sLen && isWordByte(load<u8>(s + pos));
  return kind == ASSERT_WORD_BOUNDARY ? before != after : before == after;
}

/**
 * Add the thread (pc, slots) to `list` at input position `pos`, following epsilon instructions
 * depth-first in priority order (SPLIT's `a` before `b`), with an explicit stack.
 * INVARIANT: each pc is expanded at most once per list and pushes at most two entries, so the
 * stack never holds more than 2n + 1 entries of 3 u32.
 */
function addThread(prog: usize, n: u32, list: usize, stack: usize, pc0: u32, s0: u32, s1: u32, s: usize, sLen: u32, pos: u32): void {
  let sp: usize = 0;
  store<u32>(stack, pc0); store<u32>(stack, s0, 4); store<u32>(stack, s1, 8);
  sp = 1;
  while (sp > 0) {
    sp--;
    const e = stack + sp * 12;
    const pc = load<u32>(e);
    let c0 = load<u32>(e, 4);
    let c1 = load<u32>(e, 8);
    if (listContains(list, n, pc)) continue;
    listInsert(list, n, pc, c0, c1);
    const at = prog + HEADER_BYTES + pc * INSTRUCTION_BYTES;
    const op = load<u8>(at);
    if (op == OP_JMP) {
      const t = stack + sp * 12;
      store<u32>(t, load<u32>(at, 4)); store<u32>(t, c0, 4); store<u32>(t, c1, 8);
      sp++;
    } else if (op == OP_SPLIT) {
      // Push b first so a is expanded first.
      let t = stack + sp * 12;
      store<u32>(t, load<u32>(at, 8)); store<u32>(t, c0, 4); store<u32>(t, c1, 8);
      t += 12;
      store<u32>(t, load<u32>(at, 4)); store<u32>(t, c0, 4); store<u32>(t, c1, 8);
      sp += 2;
    } else if (op == OP_ASSERT) {
      if (assertHolds(load<u8>(at, 1), s, sLen, pos)) {
        const t = stack + sp * 12;
        store<u32>(t, pc + 1); store<u32>(t, c0, 4); store<u32>(t, c1, 8);
        sp++;
      }
    } else if (op == OP_SAVE) {
      if (load<u8>(at, 1) == 0) c0 = pos; else c1 = pos;
      const t = stack + sp * 12;
      store<u32>(t, pc + 1); store<u32>(t, c0, 4); store<u32>(t, c1, 8);
      sp++;
    }
    // CHAR, RANGES and MATCH stay in the list for the step.
  }
}

/** Whether code point `cp` is in the `count` sorted ranges at `ranges`. */
function inRanges(ranges: usize, count: u32, cp: u32): bool {
  let lo: u32 = 0;
  let hi: u32 = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges + mid * RANGE_BYTES;
    if (cp < load<u32>(r)) hi = mid;
    else if (cp > load<u32>(r, 4)) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Result of the last decode: code point and its byte length. */
let decodedCp: u32 = 0;
let decodedLen: u32 = 0;

/** Decode the code point at `pos < sLen`; never reads past `sLen`. */
@inline function decodeAt(s: usize, sLen: u32, pos: u32): void {
  const b0 = <u32>load<u8>(s + pos);
  const left = sLen - pos;
  if (b0 < 0x80) { decodedCp = b0; decodedLen = 1; return; }
  if (b0 >= 0xc2 && b0 < 0xe0 && left >= 2) {
    decodedCp = ((b0 & 0x1f) << 6) | (<u32>load<u8>(s + pos, 1) & 0x3f);
    decodedLen = 2;
    return;
  }
  if (b0 >= 0xe0 && b0 < 0xf0 && left >= 3) {
    decodedCp = ((b0 & 0x0f) << 12) | ((<u32>load<u8>(s + pos, 1) & 0x3f) << 6) | (<u32>load<u8>(s + pos, 2) & 0x3f);
    decodedLen = 3;
    return;
  }
  if (b0 >= 0xf0 && b0 < 0xf5 && left >= 4) {
    decodedCp = ((b0 & 0x07) << 18) | ((<u32>load<u8>(s + pos, 1) & 0x3f) << 12)
      | ((<u32>load<u8>(s + pos, 2) & 0x3f) << 6) | (<u32>load<u8>(s + pos, 3) & 0x3f);
    decodedLen = 4;
    return;
  }
  // Not reachable for validated UTF-8; step one byte so the search still ends.
  decodedCp = NOT_A_CODE_POINT;
  decodedLen = 1;
}

/** Start/end of the last run's match (when run returned true in find mode). */
let matchStart: u32 = 0;
let matchEnd: u32 = 0;

/**
 * The Pike VM. `firstOnly`: stop at the first MATCH reached (any match will do); otherwise keep
 * going until the leftmost-first match is final. Returns whether a match was found.
 */
function run(prog: usize, s: usize, sLen: u32, from: u32, firstOnly: bool): bool {
  const n = load<u32>(prog, 8);
  const mark = arenaMark();
  let clist = listAlloc(n);
  let nlist = listAlloc(n);
  const stack = arenaAlloc(<usize>(2 * n + 2) * 12);
  const rangePool = prog + HEADER_BYTES + n * INSTRUCTION_BYTES;
  // A program that starts with `SAVE 0; ASSERT begin_text` can only match at offset 0.
  const anchored = load<u8>(prog + HEADER_BYTES) == OP_SAVE && n > 1
    && load<u8>(prog + HEADER_BYTES + INSTRUCTION_BYTES) == OP_ASSERT
    && load<u8>(prog + HEADER_BYTES + INSTRUCTION_BYTES, 1) == ASSERT_BEGIN_TEXT;
  // A program that starts with `SAVE 0; CHAR c` can only start a match where c's first UTF-8
  // byte is: skip to it while no thread is alive (that byte is never a continuation byte, so
  // the scan stops only at code point boundaries).
  let firstByte: i32 = -1;
  if (!anchored && n > 1 && load<u8>(prog + HEADER_BYTES) == OP_SAVE && load<u8>(prog + HEADER_BYTES + INSTRUCTION_BYTES) == OP_CHAR) {
    const c = load<u32>(prog + HEADER_BYTES + INSTRUCTION_BYTES, 4);
    firstByte = c < 0x80 ? <i32>c : c < 0x800 ? <i32>(0xc0 | (c >> 6)) : c < 0x10000 ? <i32>(0xe0 | (c >> 12)) : <i32>(0xf0 | (c >> 18));
  }
  let matched = false;
  let pos = from;
  for (;;) {
    if (firstByte >= 0 && !matched && listCount(clist) == 0) {
      while (pos < sLen && <i32>load<u8>(s + pos) != firstByte) pos++;
      if (pos >= sLen) break;
    }
    // A new thread starting here has the lowest priority: leftmost wins.
    if (!matched && (!anchored || pos == 0)) addThread(prog, n, clist, stack, 0, pos, pos, s, sLen, pos);
    const count = listCount(clist);
    if (count == 0 && (matched || (anchored && pos > 0))) break;
    let width: u32 = 1;
    let cp: u32 = NOT_A_CODE_POINT;
    if (pos < sLen) { decodeAt(s, sLen, pos); cp = decodedCp; width = decodedLen; }
    for (let i: u32 = 0; i < count; i++) {
      const pc = listPc(clist, i);
      const at = prog + HEADER_BYTES + pc * INSTRUCTION_BYTES;
      const op = load<u8>(at);
      if (op == OP_MATCH) {
        matched = true;
        matchStart = listSlot(clist, n, i, 0);
        matchEnd = listSlot(clist, n, i, 1);
        if (firstOnly) { arenaRelease(mark); return true; }
        // Threads after this one have lower priority: cut them.
        break;
      }
      if (pos >= sLen) continue;
      let ok = false;
      if (op == OP_CHAR) ok = load<u32>(at, 4) == cp;
      else if (op == OP_RANGES) ok = inRanges(rangePool + load<u32>(at, 4) * RANGE_BYTES, load<u32>(at, 8), cp);
      if (ok) addThread(prog, n, nlist, stack, pc + 1, listSlot(clist, n, i, 0), listSlot(clist, n, i, 1), s, sLen, pos + width);
    }
    if (pos >= sLen) break;
    pos += width;
    const t = clist; clist = nlist; nlist = t;
    store<u32>(nlist, 0);
  }
  arenaRelease(mark);
  return matched;
}

/**
 * Unanchored search (CEL `matches`, RE2 PartialMatch): does the program match anywhere in the
 * `sLen` UTF-8 bytes at `s`? `prog` must have passed regexValidate.
 */
export function regexSearch(prog: usize, progLen: u32, s: usize, sLen: u32): bool {
  if (progLen < HEADER_BYTES) return false;
  return run(prog, s, sLen, 0, true);
}

/**
 * The leftmost-first match starting at or after byte offset `from` (assertions still see the
 * whole text): `(i64(start) << 32) | end` in bytes, or -1 when there is none. `prog` must have
 * passed regexValidate.
 */
export function regexFind(prog: usize, progLen: u32, s: usize, sLen: u32, from: u32): i64 {
  if (progLen < HEADER_BYTES || from > sLen) return -1;
  if (!run(prog, s, sLen, from, false)) return -1;
  return (<i64>matchStart << 32) | <i64>matchEnd;
}
