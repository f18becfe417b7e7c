// Engine regex: validation and a Pike VM for programs built by compiler/regex/compile.ts.
// Input: a program (layout in docs/regex.md, numbers from spec/bytecode.json "regex") and UTF-8
// text in linear memory. Output: whether the program matches (regexSearch) or the leftmost-first
// match's byte range (regexFind).
//
// regexValidate checks every byte of a program once, when the bundle is loaded, including the
// header's prefilters (recomputed from the instructions); the VM then runs without checks of its
// own. Before the VM starts, the prefilters rule out most texts that cannot match (too short, no
// LITERAL byte); while it runs, they decide where new threads may start. The VM keeps one list
// of threads per input position, in priority order, each program counter at most once per
// position, so a search costs O(len(input) x instructions) time and O(instructions) scratch
// memory, whatever the pattern. Scratch comes from the arena between arenaMark and arenaRelease;
// nothing recurses.

import { arenaAlloc, arenaMark, arenaRelease } from "./arena";
import {
  REGEX_MAGIC, REGEX_FORMAT_VERSION, REGEX_HEADER_BYTES, REGEX_INSTRUCTION_BYTES, REGEX_RANGE_BYTES,
  REGEX_MAX_PROGRAM_BYTES, REGEX_AT_VERSION, REGEX_AT_FLAGS, REGEX_AT_COUNT, REGEX_AT_RANGE_COUNT,
  REGEX_AT_MIN_LENGTH, REGEX_AT_LITERAL, REGEX_AT_RESERVED, REGEX_AT_FIRST_BYTES, REGEX_FLAG_LITERAL,
  REGEX_FLAGS_KNOWN, REGEX_OP_MATCH, REGEX_OP_CHAR, REGEX_OP_RANGES, REGEX_OP_SPLIT, REGEX_OP_JMP,
  REGEX_OP_ASSERT, REGEX_OP_SAVE, REGEX_ASSERT_BEGIN_TEXT, REGEX_ASSERT_END_TEXT,
  REGEX_ASSERT_BEGIN_LINE, REGEX_ASSERT_END_LINE, REGEX_ASSERT_WORD_BOUNDARY, REGEX_ASSERT_MAX,
} from "./generated/bytecode";

/** Program format version this engine runs. */
export const REGEX_VERSION: u32 = REGEX_FORMAT_VERSION;
/** Largest accepted program (the compiler's limit). */
export const MAX_PROGRAM_BYTES: u32 = REGEX_MAX_PROGRAM_BYTES;

const MAX_CODE_POINT: u32 = 0x10ffff;
/** Decoded value of a byte that does not start a well-formed sequence: inside no range. */
const NOT_A_CODE_POINT: u32 = 0xffffffff;
/** MIN_LENGTH of a program that can never match (no MATCH is reachable). */
const NO_MATCH_LENGTH: u32 = 0xffffffff;
const NIL: u32 = 0xffffffff;

// @ts-ignore: decorator
@inline function insAt(prog: usize, pc: u32): usize {
  return prog + REGEX_HEADER_BYTES + <usize>pc * REGEX_INSTRUCTION_BYTES;
}

// @ts-ignore: decorator
@inline function utf8Length(cp: u32): u32 { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// @ts-ignore: decorator
@inline function leadByte(cp: u32): u32 {
  return cp < 0x80 ? cp : cp < 0x800 ? 0xc0 | (cp >> 6) : cp < 0x10000 ? 0xe0 | (cp >> 12) : 0xf0 | (cp >> 18);
}

// @ts-ignore: decorator
@inline function byteInSet(set: usize, c: u32): bool {
  return (<u32>load<u8>(set + (c >> 3)) & (<u32>1 << (c & 7))) != 0;
}

/**
 * Check a program completely: header, exact length, every opcode, operand and unused byte, every
 * jump target and fall-through inside the program, every range set sorted, disjoint and within
 * [0, 0x10FFFF]; then the prefilters: MIN_LENGTH and FIRST_BYTES must equal what the
 * instructions give, and a flagged LITERAL byte must lie on every path to MATCH. A program that
 * passes cannot make the VM read outside it or loop, and its prefilters never hide a match.
 */
export function regexValidate(prog: usize, len: u32): bool {
  if (len < REGEX_HEADER_BYTES || len > REGEX_MAX_PROGRAM_BYTES) return false;
  if (load<u32>(prog) != REGEX_MAGIC) return false;
  if (load<u16>(prog, REGEX_AT_VERSION) != REGEX_FORMAT_VERSION) return false;
  const flags = load<u16>(prog, REGEX_AT_FLAGS);
  if ((flags & ~REGEX_FLAGS_KNOWN) != 0) return false;
  for (let i: u32 = 0; i < 3; i++) if (load<u8>(prog + REGEX_AT_RESERVED + i) != 0) return false;
  if ((flags & REGEX_FLAG_LITERAL) == 0 && load<u8>(prog, REGEX_AT_LITERAL) != 0) return false;
  const count = load<u32>(prog, REGEX_AT_COUNT);
  const rangeCount = load<u32>(prog, REGEX_AT_RANGE_COUNT);
  // Both counts are bounded by len before any multiplication can overflow.
  if (count == 0 || count > len / REGEX_INSTRUCTION_BYTES || rangeCount > len / REGEX_RANGE_BYTES) return false;
  if (<u64>REGEX_HEADER_BYTES + <u64>count * REGEX_INSTRUCTION_BYTES + <u64>rangeCount * REGEX_RANGE_BYTES != <u64>len) return false;
  const pool = insAt(prog, count);
  for (let r: u32 = 0; r < rangeCount; r++) {
    const lo = load<u32>(pool + r * REGEX_RANGE_BYTES);
    const hi = load<u32>(pool + r * REGEX_RANGE_BYTES, 4);
    if (lo > hi || hi > MAX_CODE_POINT) return false;
  }
  for (let pc: u32 = 0; pc < count; pc++) {
    const at = insAt(prog, pc);
    const op = load<u8>(at);
    const arg = load<u8>(at, 1);
    const a = load<u32>(at, 4);
    const b = load<u32>(at, 8);
    if (load<u16>(at, 2) != 0) return false;
    // Instructions that continue at pc + 1 need a pc + 1.
    const fallsThrough = op == REGEX_OP_CHAR || op == REGEX_OP_RANGES || op == REGEX_OP_ASSERT || op == REGEX_OP_SAVE;
    if (fallsThrough && pc + 1 >= count) return false;
    if (op == REGEX_OP_MATCH) {
      if (arg != 0 || a != 0 || b != 0) return false;
    } else if (op == REGEX_OP_CHAR) {
      if (arg != 0 || a > MAX_CODE_POINT || b != 0) return false;
    } else if (op == REGEX_OP_RANGES) {
      if (arg != 0 || a > rangeCount || b > rangeCount - a) return false;
      // Sorted and disjoint, so the VM can binary-search.
      for (let r: u32 = 1; r < b; r++) {
        const prevHi = load<u32>(pool + (a + r - 1) * REGEX_RANGE_BYTES, 4);
        const lo = load<u32>(pool + (a + r) * REGEX_RANGE_BYTES);
        if (lo <= prevHi) return false;
      }
    } else if (op == REGEX_OP_SPLIT) {
      if (arg != 0 || a >= count || b >= count) return false;
    } else if (op == REGEX_OP_JMP) {
      if (arg != 0 || a >= count || b != 0) return false;
    } else if (op == REGEX_OP_ASSERT) {
      if (arg < 1 || arg > REGEX_ASSERT_MAX || a != 0 || b != 0) return false;
    } else if (op == REGEX_OP_SAVE) {
      if (arg > 1 || a != 0 || b != 0) return false;
    } else {
      return false;
    }
  }
  // The structure is sound: the graph walks below stay inside the program.
  const mark = arenaMark();
  let ok = computeMinLength(prog, count, pool) == load<u32>(prog, REGEX_AT_MIN_LENGTH);
  if (ok) ok = firstBytesMatch(prog, count, pool);
  if (ok && (flags & REGEX_FLAG_LITERAL) != 0) ok = literalHolds(prog, count, <u32>load<u8>(prog, REGEX_AT_LITERAL));
  arenaRelease(mark);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Prefilter analysis (docs/regex.md "Prefilters"; compile.ts computes the same on its side).
// The graph: SPLIT -> a, b; JMP -> a; ASSERT, SAVE -> pc + 1 (assertions assumed to hold) at
// cost 0; CHAR, RANGES -> pc + 1 at the UTF-8 length of their smallest code point; RANGES with no
// range and MATCH have no successor.

// Bucket queue of the shortest-path walk: entries (pc, next) in one pool, five circular buckets.
let dialDist: usize = 0;
let dialEntries: usize = 0;
let dialUsed: u32 = 0;
let dialCap: u32 = 0;
let dialPending: u32 = 0;
const DIAL_HEADS: usize = memory.data(5 * 4);

function dialRelax(pc: u32, d: u32): void {
  const at = dialDist + (<usize>pc << 2);
  if (d >= load<u32>(at)) return;
  store<u32>(at, d);
  // INVARIANT: every pc is settled once and pushes at most two entries, so dialCap (2n + 2)
  // entries suffice; the check only keeps a broken invariant from writing out of bounds.
  if (dialUsed >= dialCap) return;
  const e = dialEntries + (<usize>dialUsed << 3);
  const head = DIAL_HEADS + <usize>((d % 5) << 2);
  store<u32>(e, pc);
  store<u32>(e, load<u32>(head), 4);
  store<u32>(head, dialUsed);
  dialUsed++;
  dialPending++;
}

/**
 * The fewest bytes any match consumes (NO_MATCH_LENGTH when no MATCH is reachable): Dijkstra's
 * shortest path with a bucket queue (Dial's algorithm); costs are 0 to 4, so five circular
 * buckets hold every pending distance and the walk is linear in the program.
 */
function computeMinLength(prog: usize, n: u32, pool: usize): u32 {
  dialDist = arenaAlloc(<usize>n << 2);
  memory.fill(dialDist, 0xff, <usize>n << 2);
  dialCap = 2 * n + 2;
  dialEntries = arenaAlloc(<usize>dialCap << 3);
  dialUsed = 0;
  dialPending = 0;
  memory.fill(DIAL_HEADS, 0xff, 5 * 4);
  dialRelax(0, 0);
  for (let d: u32 = 0; dialPending > 0; d++) {
    const head = DIAL_HEADS + <usize>((d % 5) << 2);
    // Cost-0 edges push onto this same bucket while it is drained.
    while (load<u32>(head) != NIL) {
      const e = dialEntries + (<usize>load<u32>(head) << 3);
      store<u32>(head, load<u32>(e, 4));
      dialPending--;
      const pc = load<u32>(e);
      if (load<u32>(dialDist + (<usize>pc << 2)) != d) continue; // reached more cheaply since
      const at = insAt(prog, pc);
      const op = load<u8>(at);
      if (op == REGEX_OP_MATCH) return d;
      if (op == REGEX_OP_CHAR) dialRelax(pc + 1, d + utf8Length(load<u32>(at, 4)));
      else if (op == REGEX_OP_RANGES) {
        if (load<u32>(at, 8) != 0) dialRelax(pc + 1, d + utf8Length(load<u32>(pool + <usize>load<u32>(at, 4) * REGEX_RANGE_BYTES)));
      } else if (op == REGEX_OP_SPLIT) { dialRelax(load<u32>(at, 4), d); dialRelax(load<u32>(at, 8), d); }
      else if (op == REGEX_OP_JMP) dialRelax(load<u32>(at, 4), d);
      else dialRelax(pc + 1, d); // ASSERT, SAVE
    }
  }
  return NO_MATCH_LENGTH;
}

/** Add the UTF-8 lead bytes of every code point in [lo, hi] to the 32-byte set. */
function addLeadBytes(set: usize, lo: u32, hi: u32): void {
  for (let k = 0; k < 4; k++) {
    const from: u32 = k == 0 ? 0 : k == 1 ? 0x80 : k == 2 ? 0x800 : 0x10000;
    const to: u32 = k == 0 ? 0x7f : k == 1 ? 0x7ff : k == 2 ? 0xffff : MAX_CODE_POINT;
    const a = lo > from ? lo : from;
    const b = hi < to ? hi : to;
    if (a > b) continue;
    for (let c = leadByte(a); c <= leadByte(b); c++) {
      store<u8>(set + (c >> 3), load<u8>(set + (c >> 3)) | <u8>(<u32>1 << (c & 7)));
    }
  }
}

/** Whether the header's FIRST_BYTES equals the lead bytes of the epsilon closure of pc 0. */
function firstBytesMatch(prog: usize, n: u32, pool: usize): bool {
  const set = arenaAlloc(32);
  if (load<u32>(prog, REGEX_AT_MIN_LENGTH) == 0) {
    memory.fill(set, 0xff, 32); // a match may be empty: any position can start one
  } else {
    memory.fill(set, 0, 32);
    const seen = arenaAlloc(<usize>n);
    memory.fill(seen, 0, <usize>n);
    const stack = arenaAlloc((<usize>n + 1) << 2);
    store<u32>(stack, 0);
    store<u8>(seen, 1);
    let sp: u32 = 1;
    while (sp > 0) {
      sp--;
      const pc = load<u32>(stack + (<usize>sp << 2));
      const at = insAt(prog, pc);
      const op = load<u8>(at);
      if (op == REGEX_OP_CHAR) { const c = load<u32>(at, 4); addLeadBytes(set, c, c); continue; }
      if (op == REGEX_OP_RANGES) {
        const first = load<u32>(at, 4), k = load<u32>(at, 8);
        for (let r = first; r < first + k; r++) {
          const rp = pool + <usize>r * REGEX_RANGE_BYTES;
          addLeadBytes(set, load<u32>(rp), load<u32>(rp, 4));
        }
        continue;
      }
      if (op == REGEX_OP_MATCH) continue;
      // Marked when pushed: each pc enters the stack once, so it never holds more than n.
      const t1 = op == REGEX_OP_SPLIT || op == REGEX_OP_JMP ? load<u32>(at, 4) : pc + 1;
      if (load<u8>(seen + t1) == 0) { store<u8>(seen + t1, 1); store<u32>(stack + (<usize>sp << 2), t1); sp++; }
      if (op == REGEX_OP_SPLIT) {
        const t2 = load<u32>(at, 8);
        if (load<u8>(seen + t2) == 0) { store<u8>(seen + t2, 1); store<u32>(stack + (<usize>sp << 2), t2); sp++; }
      }
    }
  }
  for (let i: usize = 0; i < 32; i++) {
    if (load<u8>(set + i) != load<u8>(prog + REGEX_AT_FIRST_BYTES + i)) return false;
  }
  return true;
}

/** True when no MATCH is reachable from pc 0 without a CHAR whose UTF-8 lead byte is `byte`. */
function literalHolds(prog: usize, n: u32, byte: u32): bool {
  const seen = arenaAlloc(<usize>n);
  memory.fill(seen, 0, <usize>n);
  const stack = arenaAlloc((<usize>n + 1) << 2);
  store<u32>(stack, 0);
  store<u8>(seen, 1);
  let sp: u32 = 1;
  while (sp > 0) {
    sp--;
    const pc = load<u32>(stack + (<usize>sp << 2));
    const at = insAt(prog, pc);
    const op = load<u8>(at);
    if (op == REGEX_OP_MATCH) return false;
    let t1: u32 = NIL, t2: u32 = NIL;
    if (op == REGEX_OP_CHAR) { if (leadByte(load<u32>(at, 4)) != byte) t1 = pc + 1; }
    else if (op == REGEX_OP_RANGES) { if (load<u32>(at, 8) != 0) t1 = pc + 1; }
    else if (op == REGEX_OP_SPLIT) { t1 = load<u32>(at, 4); t2 = load<u32>(at, 8); }
    else if (op == REGEX_OP_JMP) t1 = load<u32>(at, 4);
    else t1 = pc + 1; // ASSERT, SAVE
    if (t1 != NIL && load<u8>(seen + t1) == 0) { store<u8>(seen + t1, 1); store<u32>(stack + (<usize>sp << 2), t1); sp++; }
    if (t2 != NIL && load<u8>(seen + t2) == 0) { store<u8>(seen + t2, 1); store<u32>(stack + (<usize>sp << 2), t2); sp++; }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// VM state of the current run (module globals: wasm globals are cheaper than parameters here).
//
// A thread list holds only the threads waiting on a consuming instruction or MATCH, in priority
// order: [count u32][(pc, slot 0, slot 1) x count]. Epsilon instructions are followed at once and
// recorded in `stamps`: stamps[pc] == gen means pc was already expanded at this input position
// (gen grows by one per position), so each pc is expanded at most once per position.

let vmCode: usize = 0;      // first instruction
let vmPool: usize = 0;      // range pool
let vmText: usize = 0;
let vmTextLen: u32 = 0;
let vmStamps: usize = 0;
let vmGen: u32 = 0;
let vmStack: usize = 0;

// @ts-ignore: decorator
@inline function isWordByte(c: u32): bool {
  return (c - 0x30 < 10) || ((c | 0x20) - 0x61 < 26) || c == 0x5f;
}

/** Whether ASSERT `kind` holds at byte offset `pos`. Word characters are ASCII, so bytes suffice. */
// @ts-ignore: decorator
@inline function assertHolds(kind: u32, pos: u32): bool {
  const s = vmText, n = vmTextLen;
  if (kind == REGEX_ASSERT_BEGIN_TEXT) return pos == 0;
  if (kind == REGEX_ASSERT_END_TEXT) return pos == n;
  if (kind == REGEX_ASSERT_BEGIN_LINE) return pos == 0 || load<u8>(s + pos - 1) == 0x0a;
  if (kind == REGEX_ASSERT_END_LINE) return pos == n || load<u8>(s + pos) == 0x0a;
  const before = pos > 0 && isWordByte(<u32>load<u8>(s + pos - 1));
  const after = pos < n && isWordByte(<u32>load<u8>(s + pos));
  return kind == REGEX_ASSERT_WORD_BOUNDARY ? before != after : before == after;
}

/**
 * Add the thread (pc0, slots) to `list` at input position `pos`, following epsilon instructions
 * depth-first in priority order (SPLIT's `a` before `b`), with an explicit stack.
 * INVARIANT: each pc is expanded at most once per position and pushes at most two entries, so the
 * stack never holds more than 2n + 1 entries of 3 u32.
 */
function addThread(list: usize, pc0: u32, s0: u32, s1: u32, pos: u32): void {
  const stack = vmStack;
  const gen = vmGen;
  store<u32>(stack, pc0); store<u32>(stack, s0, 4); store<u32>(stack, s1, 8);
  let sp: usize = 12;
  while (sp > 0) {
    sp -= 12;
    const e = stack + sp;
    const pc = load<u32>(e);
    const stamp = vmStamps + (<usize>pc << 2);
    if (load<u32>(stamp) == gen) continue;
    store<u32>(stamp, gen);
    let c0 = load<u32>(e, 4);
    let c1 = load<u32>(e, 8);
    const at = vmCode + <usize>pc * REGEX_INSTRUCTION_BYTES;
    const op = load<u8>(at);
    if (op == REGEX_OP_SPLIT) {
      // Push b first so a is expanded first.
      store<u32>(e, load<u32>(at, 8)); store<u32>(e, c0, 4); store<u32>(e, c1, 8);
      const t = e + 12;
      store<u32>(t, load<u32>(at, 4)); store<u32>(t, c0, 4); store<u32>(t, c1, 8);
      sp += 24;
    } else if (op == REGEX_OP_JMP) {
      store<u32>(e, load<u32>(at, 4));
      sp += 12;
    } else if (op == REGEX_OP_SAVE) {
      if (load<u8>(at, 1) == 0) store<u32>(e, pos, 4); else store<u32>(e, pos, 8);
      store<u32>(e, pc + 1);
      sp += 12;
    } else if (op == REGEX_OP_ASSERT) {
      if (assertHolds(<u32>load<u8>(at, 1), pos)) { store<u32>(e, pc + 1); sp += 12; }
    } else {
      // CHAR, RANGES and MATCH wait in the list for the step.
      const i = load<u32>(list);
      const t = list + 4 + <usize>i * 12;
      store<u32>(t, pc); store<u32>(t, c0, 4); store<u32>(t, c1, 8);
      store<u32>(list, i + 1);
    }
  }
}

/** Whether code point `cp` is in the `count` sorted ranges at `ranges`. */
function inRanges(ranges: usize, count: u32, cp: u32): bool {
  let lo: u32 = 0;
  let hi: u32 = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges + <usize>mid * REGEX_RANGE_BYTES;
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
// @ts-ignore: decorator
@inline function decodeAt(s: usize, sLen: u32, pos: u32): void {
  const b0 = <u32>load<u8>(s + pos);
  const left = sLen - pos;
  if (b0 < 0x80) { decodedCp = b0; decodedLen = 1; }
  else if (b0 >= 0xc2 && b0 < 0xe0 && left >= 2) {
    decodedCp = ((b0 & 0x1f) << 6) | (<u32>load<u8>(s + pos, 1) & 0x3f);
    decodedLen = 2;
  } else if (b0 >= 0xe0 && b0 < 0xf0 && left >= 3) {
    decodedCp = ((b0 & 0x0f) << 12) | ((<u32>load<u8>(s + pos, 1) & 0x3f) << 6) | (<u32>load<u8>(s + pos, 2) & 0x3f);
    decodedLen = 3;
  } else if (b0 >= 0xf0 && b0 < 0xf5 && left >= 4) {
    decodedCp = ((b0 & 0x07) << 18) | ((<u32>load<u8>(s + pos, 1) & 0x3f) << 12)
      | ((<u32>load<u8>(s + pos, 2) & 0x3f) << 6) | (<u32>load<u8>(s + pos, 3) & 0x3f);
    decodedLen = 4;
  } else {
    // Not reachable for validated UTF-8; step one byte so the search still ends.
    decodedCp = NOT_A_CODE_POINT;
    decodedLen = 1;
  }
}

/** Whether byte `c` occurs in the `n` bytes at `p` (eight bytes at a time). */
function containsByte(p: usize, n: u32, c: u32): bool {
  const pattern: u64 = <u64>c * 0x0101010101010101;
  let i: u32 = 0;
  while (i + 8 <= n) {
    const v = load<u64>(p + i) ^ pattern;
    // A zero byte in v (a byte equal to c) sets its high bit here (Mycroft's test).
    if (((v - 0x0101010101010101) & ~v & 0x8080808080808080) != 0) return true;
    i += 8;
  }
  while (i < n) {
    if (<u32>load<u8>(p + i) == c) return true;
    i++;
  }
  return false;
}

/** Start/end of the last run's match (when run returned true in find mode). */
let matchStart: u32 = 0;
let matchEnd: u32 = 0;

/**
 * The Pike VM. `firstOnly`: stop at the first MATCH reached (any match will do); otherwise keep
 * going until the leftmost-first match is final. Returns whether a match was found.
 * INVARIANT: from <= sLen.
 */
function run(prog: usize, s: usize, sLen: u32, from: u32, firstOnly: bool): bool {
  // Prefilters: a text that cannot hold a match never reaches the VM.
  const minLength = load<u32>(prog, REGEX_AT_MIN_LENGTH);
  if (minLength > sLen - from) return false;
  if ((load<u16>(prog, REGEX_AT_FLAGS) & REGEX_FLAG_LITERAL) != 0
    && !containsByte(s + from, sLen - from, <u32>load<u8>(prog, REGEX_AT_LITERAL))) return false;
  const n = load<u32>(prog, REGEX_AT_COUNT);
  const code = prog + REGEX_HEADER_BYTES;
  // A program that starts with `SAVE 0; ASSERT begin_text` can only match at offset 0.
  const anchored = n > 1 && load<u8>(code) == REGEX_OP_SAVE
    && load<u8>(code + REGEX_INSTRUCTION_BYTES) == REGEX_OP_ASSERT
    && load<u8>(code + REGEX_INSTRUCTION_BYTES, 1) == REGEX_ASSERT_BEGIN_TEXT;
  if (anchored && from > 0) return false;
  // New threads start only where a match could: not past lastStart, and (when every match is
  // non-empty) on a byte of FIRST_BYTES. Such a byte is never a UTF-8 continuation byte, so a
  // skip lands on a code point boundary.
  const lastStart = sLen - minLength;
  const filtered = minLength > 0;
  const firstBytes = prog + REGEX_AT_FIRST_BYTES;

  const mark = arenaMark();
  vmCode = code;
  vmPool = code + <usize>n * REGEX_INSTRUCTION_BYTES;
  vmText = s;
  vmTextLen = sLen;
  vmStamps = arenaAlloc(<usize>n << 2);
  memory.fill(vmStamps, 0, <usize>n << 2);
  vmGen = 1;
  vmStack = arenaAlloc(<usize>(2 * n + 2) * 12);
  let clist = arenaAlloc(4 + <usize>n * 12);
  let nlist = arenaAlloc(4 + <usize>n * 12);
  store<u32>(clist, 0);
  store<u32>(nlist, 0);

  let matched = false;
  let pos = from;
  for (;;) {
    if (!matched) {
      if (load<u32>(clist) == 0) {
        // Nothing alive: jump to the next position where a match can start.
        if (anchored) { if (pos != 0) break; }
        else if (filtered) {
          const before = pos;
          while (pos <= lastStart && !byteInSet(firstBytes, <u32>load<u8>(s + pos))) pos++;
          if (pos != before) vmGen++; // stamps of the skipped position must not count here
        }
        if (pos > lastStart) break;
        addThread(clist, 0, pos, pos, pos);
      } else if (pos <= lastStart && (!anchored || pos == 0) && (!filtered || byteInSet(firstBytes, <u32>load<u8>(s + pos)))) {
        // A new thread starting here has the lowest priority: leftmost wins.
        addThread(clist, 0, pos, pos, pos);
      }
    }
    const count = load<u32>(clist);
    if (count == 0 && matched) break;
    let width: u32 = 1;
    let cp: u32 = NOT_A_CODE_POINT;
    if (pos < sLen) { decodeAt(s, sLen, pos); cp = decodedCp; width = decodedLen; }
    vmGen++; // the next position's list
    for (let i: u32 = 0; i < count; i++) {
      const t = clist + 4 + <usize>i * 12;
      const pc = load<u32>(t);
      const at = code + <usize>pc * REGEX_INSTRUCTION_BYTES;
      const op = load<u8>(at);
      if (op == REGEX_OP_MATCH) {
        matched = true;
        matchStart = load<u32>(t, 4);
        matchEnd = load<u32>(t, 8);
        if (firstOnly) { arenaRelease(mark); return true; }
        // Threads after this one have lower priority: cut them.
        break;
      }
      if (pos >= sLen) continue;
      let ok = false;
      if (op == REGEX_OP_CHAR) ok = load<u32>(at, 4) == cp;
      else ok = inRanges(vmPool + <usize>load<u32>(at, 4) * REGEX_RANGE_BYTES, load<u32>(at, 8), cp);
      if (ok) addThread(nlist, pc + 1, load<u32>(t, 4), load<u32>(t, 8), pos + width);
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
  if (progLen < REGEX_HEADER_BYTES) return false;
  return run(prog, s, sLen, 0, true);
}

/**
 * The leftmost-first match starting at or after byte offset `from` (assertions still see the
 * whole text): `(i64(start) << 32) | end` in bytes, or -1 when there is none. `prog` must have
 * passed regexValidate.
 */
export function regexFind(prog: usize, progLen: u32, s: usize, sLen: u32, from: u32): i64 {
  if (progLen < REGEX_HEADER_BYTES || from > sLen) return -1;
  if (!run(prog, s, sLen, from, false)) return -1;
  return (<i64>matchStart << 32) | <i64>matchEnd;
}

/** The fewest bytes a match of validated program `prog` consumes (0xFFFFFFFF: never matches). */
export function regexMinLength(prog: usize): u32 {
  return load<u32>(prog, REGEX_AT_MIN_LENGTH);
}
