// Record stage: canonical JSON (RFC 8785, JCS) of a parsed JSON value, byte for byte what
// telemetry/jcs.ts writes for the same value. Input: a Node of the engine's tape (engine/tape.ts,
// as engine/json.ts writes it: valid UTF-8 strings, no duplicate keys, depth <= MAX_JSON_DEPTH).
// Output: the canonical bytes appended to a ByteSink.
//
// - Object members are sorted by the UTF-16 code units of their keys. Tape keys are UTF-8, whose
//   byte order is code point order; the two orders differ only between a supplementary character
//   (a surrogate pair, D800..DFFF in UTF-16) and a BMP character in E000..FFFF, so keys are
//   compared byte-wise and only the first differing code point is decoded and mapped.
// - Strings get JSON.stringify's escapes: \b \t \n \f \r \" \\, other C0 controls as \u00xx (lower
//   case), everything else (DEL, U+2028, U+2029, non-ASCII) as its UTF-8 bytes.
// - Numbers: the double's ECMAScript Number::toString (engine/record/ryu.ts); NaN and ±Infinity
//   (a JSON number too large for a double) cannot be canonicalised: JCS_NOT_FINITE.
// Sorting uses index arrays from the engine arena, released when the object is written; the sink
// grows geometrically and is reused, so steady-state calls allocate nothing.

import { arenaAlloc, arenaMark, arenaRelease } from "../arena";
import {
  KIND_ARRAY, KIND_FALSE, KIND_NULL, KIND_NUMBER, KIND_STRING, KIND_TRUE, MEMBER_SIZE, NODE_SIZE,
  containerCount, containerPtr, memberKeyLen, memberKeyPtr, memberValue, nodeKind, numberValue, stringLen, stringPtr,
} from "../tape";
import { MAX_DOUBLE_TEXT, formatDouble } from "./ryu";

/** A number that is NaN or ±Infinity: JSON cannot hold it, JCS cannot write it. */
export const JCS_NOT_FINITE: i32 = 1;

/**
 * A growable byte buffer. Memory comes from heap.alloc and is kept: growth doubles, and the old
 * block is abandoned (the stub runtime never frees), so waste is bounded by the largest output.
 */
export class ByteSink {
  /** Address of the bytes. */
  ptr: usize = 0;
  /** Bytes written since the last reset. */
  len: usize = 0;
  private cap: usize = 0;

  /** Start a new output (keeps the memory). */
  reset(): void { this.len = 0; }

  /** Make room for `n` more bytes; returns the address to write them at (len is not advanced). */
  reserve(n: usize): usize {
    if (this.len + n > this.cap) {
      let want = this.cap == 0 ? <usize>1024 : this.cap << 1;
      while (want < this.len + n) want <<= 1;
      const fresh = heap.alloc(want);
      if (this.len > 0) memory.copy(fresh, this.ptr, this.len);
      this.ptr = fresh;
      this.cap = want;
    }
    return this.ptr + this.len;
  }

  /** Append one byte. */
  byte(b: u32): void {
    const at = this.reserve(1);
    store<u8>(at, <u8>b);
    this.len++;
  }

  /** Append `n` bytes from `src`. */
  bytes(src: usize, n: usize): void {
    const at = this.reserve(n);
    memory.copy(at, src, n);
    this.len += n;
  }

  /** An ASCII string literal (static data; nothing is allocated). */
  ascii(s: string): void {
    const n = <usize>s.length;
    const at = this.reserve(n);
    const src = changetype<usize>(s);
    for (let i: usize = 0; i < n; i++) store<u8>(at + i, <u8>load<u16>(src + (i << 1)));
    this.len += n;
  }
}

const HEX_DIGITS = "0123456789abcdef";

/**
 * Append the escape of ASCII character `c` if JSON.stringify escapes it (controls, `"`, `\`);
 * returns false (nothing written) when `c` is written as itself.
 */
export function writeJcsEscape(sink: ByteSink, c: u32): bool {
  if (c >= 0x20 && c != 0x22 && c != 0x5c) return false;
  sink.byte(0x5c);
  if (c == 0x22 || c == 0x5c) sink.byte(c);
  else if (c == 0x08) sink.byte(0x62);
  else if (c == 0x09) sink.byte(0x74);
  else if (c == 0x0a) sink.byte(0x6e);
  else if (c == 0x0c) sink.byte(0x66);
  else if (c == 0x0d) sink.byte(0x72);
  else {
    sink.ascii("u00");
    sink.byte(HEX_DIGITS.charCodeAt(<i32>(c >> 4)));
    sink.byte(HEX_DIGITS.charCodeAt(<i32>(c & 15)));
  }
  return true;
}

/** Append valid UTF-8 text (`n` bytes at `ptr`) as a canonical JSON string literal. */
export function writeJcsString(sink: ByteSink, ptr: usize, n: usize): void {
  sink.byte(0x22);
  let run = ptr; // start of the bytes not yet copied
  const end = ptr + n;
  for (let p = ptr; p < end; p++) {
    const c = <u32>load<u8>(p);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    sink.bytes(run, p - run);
    writeJcsEscape(sink, c);
    run = p + 1;
  }
  sink.bytes(run, end - run);
  sink.byte(0x22);
}

/** Append the canonical text of a finite double; false (nothing written) for NaN and ±Infinity. */
export function writeJcsNumber(sink: ByteSink, value: f64): bool {
  if (!isFinite(value)) return false;
  const at = sink.reserve(<usize>MAX_DOUBLE_TEXT);
  sink.len += <usize>formatDouble(value, at);
  return true;
}

/**
 * Where the code point starting at `p` sorts in UTF-16 code unit order: BMP below the surrogates
 * as itself, supplementary characters (surrogate pairs) as themselves (above D7FF, ordered as
 * their pairs are), E000..FFFF above all of them.
 */
function utf16Rank(p: usize): u32 {
  const b0 = <u32>load<u8>(p);
  if (b0 < 0x80) return b0;
  if (b0 < 0xe0) return ((b0 & 0x1f) << 6) | (<u32>load<u8>(p + 1) & 0x3f);
  if (b0 < 0xf0) {
    const cp = ((b0 & 0x0f) << 12) | ((<u32>load<u8>(p + 1) & 0x3f) << 6) | (<u32>load<u8>(p + 2) & 0x3f);
    return cp >= 0xe000 ? cp + 0x110000 : cp;
  }
  return ((b0 & 0x07) << 18) | ((<u32>load<u8>(p + 1) & 0x3f) << 12)
    | ((<u32>load<u8>(p + 2) & 0x3f) << 6) | (<u32>load<u8>(p + 3) & 0x3f);
}

/**
 * Compare two valid UTF-8 strings by their UTF-16 code units (negative, 0, positive): the order
 * of RFC 8785 §3.2.3 and of JavaScript's default sort.
 */
export function compareUtf16(a: usize, an: usize, b: usize, bn: usize): i32 {
  const n = an < bn ? an : bn;
  let i: usize = 0;
  while (i < n && load<u8>(a + i) == load<u8>(b + i)) i++;
  if (i == n) return an < bn ? -1 : an > bn ? 1 : 0;
  // Back up to the start of the code point that differs (the prefix is equal, so it is the same
  // position in both strings).
  while (i > 0 && (load<u8>(a + i) & 0xc0) == 0x80) i--;
  const x = utf16Rank(a + i), y = utf16Rank(b + i);
  return x < y ? -1 : 1;
}

// @ts-ignore: decorator
@inline function memberAt(members: usize, index: u32): usize {
  return members + <usize>index * MEMBER_SIZE;
}

// @ts-ignore: decorator
@inline function keyLess(members: usize, x: u32, y: u32): bool {
  const a = memberAt(members, x), b = memberAt(members, y);
  return compareUtf16(memberKeyPtr(a), memberKeyLen(a), memberKeyPtr(b), memberKeyLen(b)) < 0;
}

// Below this many members insertion sort is cheaper than merging.
const SMALL_OBJECT: u32 = 12;

/**
 * Indices 0..count-1 of `members` in key order, as u32s in arena memory. Keys are distinct (the
 * JSON reader rejects duplicates), so stability does not matter; merge sort keeps crafted objects
 * with many keys at O(n log n).
 */
function sortedMemberOrder(members: usize, count: u32): usize {
  let order = arenaAlloc(<usize>count << 2);
  for (let i: u32 = 0; i < count; i++) store<u32>(order + (<usize>i << 2), i);
  if (count <= SMALL_OBJECT) {
    for (let i: u32 = 1; i < count; i++) {
      const x = load<u32>(order + (<usize>i << 2));
      let j = i;
      while (j > 0 && keyLess(members, x, load<u32>(order + (<usize>(j - 1) << 2)))) {
        store<u32>(order + (<usize>j << 2), load<u32>(order + (<usize>(j - 1) << 2)));
        j--;
      }
      store<u32>(order + (<usize>j << 2), x);
    }
    return order;
  }
  let spare = arenaAlloc(<usize>count << 2);
  for (let width: u32 = 1; width < count; width <<= 1) {
    for (let lo: u32 = 0; lo < count; lo += width << 1) {
      let mid = lo + width; if (mid > count) mid = count;
      let hi = mid + width; if (hi > count) hi = count;
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const a = load<u32>(order + (<usize>i << 2));
        const b = load<u32>(order + (<usize>j << 2));
        if (keyLess(members, b, a)) { store<u32>(spare + (<usize>k << 2), b); j++; }
        else { store<u32>(spare + (<usize>k << 2), a); i++; }
        k++;
      }
      while (i < mid) { store<u32>(spare + (<usize>k << 2), load<u32>(order + (<usize>i << 2))); i++; k++; }
      while (j < hi) { store<u32>(spare + (<usize>k << 2), load<u32>(order + (<usize>j << 2))); j++; k++; }
    }
    const t = order; order = spare; spare = t;
  }
  return order;
}

/**
 * Append the canonical JSON of the tape value at `node`. Returns 0, or JCS_NOT_FINITE when a
 * number in it is not finite (the sink then holds a partial value). Recursion depth is the
 * value's nesting depth, which the JSON reader bounds.
 */
export function writeJcsValue(sink: ByteSink, node: usize): i32 {
  const kind = nodeKind(node);
  if (kind == KIND_NULL) { sink.ascii("null"); return 0; }
  if (kind == KIND_FALSE) { sink.ascii("false"); return 0; }
  if (kind == KIND_TRUE) { sink.ascii("true"); return 0; }
  if (kind == KIND_NUMBER) return writeJcsNumber(sink, numberValue(node)) ? 0 : JCS_NOT_FINITE;
  if (kind == KIND_STRING) { writeJcsString(sink, stringPtr(node), <usize>stringLen(node)); return 0; }
  const count = containerCount(node);
  const first = containerPtr(node);
  if (kind == KIND_ARRAY) {
    sink.byte(0x5b);
    for (let i: u32 = 0; i < count; i++) {
      if (i > 0) sink.byte(0x2c);
      const code = writeJcsValue(sink, first + <usize>i * NODE_SIZE);
      if (code != 0) return code;
    }
    sink.byte(0x5d);
    return 0;
  }
  // An object: members in key order.
  sink.byte(0x7b);
  const mark = arenaMark();
  const order = sortedMemberOrder(first, count);
  let code = 0;
  for (let i: u32 = 0; i < count; i++) {
    if (i > 0) sink.byte(0x2c);
    const m = memberAt(first, load<u32>(order + (<usize>i << 2)));
    writeJcsString(sink, memberKeyPtr(m), <usize>memberKeyLen(m));
    sink.byte(0x3a);
    code = writeJcsValue(sink, memberValue(m));
    if (code != 0) break;
  }
  arenaRelease(mark);
  if (code != 0) return code;
  sink.byte(0x7d);
  return 0;
}
