// Engine: the tape, the in-memory form of a parsed JSON value (docs/engine-abi.md "The tape").
// Input: Node/Member addresses written by the JSON reader (engine/json.ts) or by a host
// (bindings/node/encode.ts, checked by engine/request.ts validateTape). Output: typed reads of
// those records for the VM, key lookup, and the duplicate-key check shared by both writers.
//
//   Node (16 bytes, 4-aligned)
//   +0 u8 kind | number: u32 kind | lexeme length << 8
//   +4 u32     string: bytes address   array: elements address   object: members address
//              number: lexeme address (0 = none)
//   +8         string: u32 byte length, +12 u32 code points   array/object: u32 count
//              number: f64 value
//   Member (24 bytes): +0 u32 key address | +4 u32 key length | +8 Node (value)

import { arenaAlloc, arenaMark, arenaRelease } from "./arena";

export const KIND_NULL: u8 = 0;
export const KIND_FALSE: u8 = 1;
export const KIND_TRUE: u8 = 2;
export const KIND_NUMBER: u8 = 3;
export const KIND_STRING: u8 = 4;
export const KIND_ARRAY: u8 = 5;
export const KIND_OBJECT: u8 = 6;

/** Bytes per Node. */
export const NODE_SIZE: u32 = 16;
/** Bytes per Member (key address, key length, value Node). */
export const MEMBER_SIZE: u32 = 24;

/** Kind of the Node at `node` (KIND_*). */
// @ts-ignore: decorator
@inline export function nodeKind(node: usize): u8 { return load<u8>(node); }

/** Address of a string Node's UTF-8 bytes. */
// @ts-ignore: decorator
@inline export function stringPtr(node: usize): usize { return <usize>load<u32>(node, 4); }
/** Byte length of a string Node. */
// @ts-ignore: decorator
@inline export function stringLen(node: usize): u32 { return load<u32>(node, 8); }
/** Code point count of a string Node (what `size()` returns). */
// @ts-ignore: decorator
@inline export function stringCodePoints(node: usize): u32 { return load<u32>(node, 12); }

/** Value of a number Node. */
// @ts-ignore: decorator
@inline export function numberValue(node: usize): f64 { return load<f64>(node, 8); }
/** Address of a number Node's source lexeme (0 when the writer kept none). */
// @ts-ignore: decorator
@inline export function numberLexemePtr(node: usize): usize { return <usize>load<u32>(node, 4); }
/** Byte length of a number Node's source lexeme. */
// @ts-ignore: decorator
@inline export function numberLexemeLen(node: usize): u32 { return load<u32>(node) >> 8; }

/** Address of an array's first element Node or an object's first Member. */
// @ts-ignore: decorator
@inline export function containerPtr(node: usize): usize { return <usize>load<u32>(node, 4); }
/** Element count of an array, member count of an object. */
// @ts-ignore: decorator
@inline export function containerCount(node: usize): u32 { return load<u32>(node, 8); }

/** Element `i` of an array Node (no bounds check: `i < containerCount`). */
// @ts-ignore: decorator
@inline export function arrayElement(node: usize, i: u32): usize {
  return containerPtr(node) + <usize>i * NODE_SIZE;
}
/** Member `i` of an object Node (no bounds check: `i < containerCount`). */
// @ts-ignore: decorator
@inline export function objectMember(node: usize, i: u32): usize {
  return containerPtr(node) + <usize>i * MEMBER_SIZE;
}
// @ts-ignore: decorator
@inline export function memberKeyPtr(member: usize): usize { return <usize>load<u32>(member); }
// @ts-ignore: decorator
@inline export function memberKeyLen(member: usize): u32 { return load<u32>(member, 4); }
/** The value Node inside a Member. */
// @ts-ignore: decorator
@inline export function memberValue(member: usize): usize { return member + 8; }

/** Write the fixed part of a Node. */
export function writeNode(node: usize, kind: u8, a: u32, b: u32, c: u32): void {
  store<u32>(node, <u32>kind);
  store<u32>(node, a, 4);
  store<u32>(node, b, 8);
  store<u32>(node, c, 12);
}

/** True when `n` bytes at `a` equal `n` bytes at `b`. */
export function bytesEqual(a: usize, b: usize, n: usize): bool {
  let i: usize = 0;
  while (i + 8 <= n) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < n) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}

/** Byte-wise comparison of two byte strings: negative, 0 or positive. */
export function bytesCompare(a: usize, an: usize, b: usize, bn: usize): i32 {
  const n = an < bn ? an : bn;
  for (let i: usize = 0; i < n; i++) {
    const x = <i32>load<u8>(a + i);
    const y = <i32>load<u8>(b + i);
    if (x != y) return x - y;
  }
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/**
 * Value Node of the member of object Node `obj` whose key is the `keyLen` bytes at `keyPtr`,
 * or 0 when there is none (or `obj` is not an object).
 */
export function objectGet(obj: usize, keyPtr: usize, keyLen: u32): usize {
  if (obj == 0 || nodeKind(obj) != KIND_OBJECT) return 0;
  const n = containerCount(obj);
  let m = containerPtr(obj);
  for (let i: u32 = 0; i < n; i++, m += MEMBER_SIZE) {
    if (memberKeyLen(m) == keyLen && bytesEqual(memberKeyPtr(m), keyPtr, keyLen)) return memberValue(m);
  }
  return 0;
}

/** True when string Node `node` holds exactly the ASCII literal `s` (static data). */
export function stringEqualsAscii(node: usize, s: string): bool {
  const n = <u32>s.length;
  if (stringLen(node) != n) return false;
  const p = stringPtr(node);
  for (let i: u32 = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}

// Below this many members the quadratic check is cheaper than sorting.
const SMALL_OBJECT: u32 = 16;

/**
 * Index of the first member (in member order) whose key repeats an earlier member's key, or -1.
 * `members` holds `count` records of `stride` bytes, each starting with u32 key address and u32
 * key length. O(n log n) by a stable merge sort of member indices, so an object with many keys
 * cannot make it quadratic (no hashing: an attacker could craft colliding keys).
 */
export function findDuplicateKey(members: usize, stride: u32, count: u32): i32 {
  if (count < 2) return -1;
  if (count <= SMALL_OBJECT) {
    for (let j: u32 = 1; j < count; j++) {
      const mj = members + <usize>j * stride;
      const kj = <usize>load<u32>(mj);
      const nj = load<u32>(mj, 4);
      for (let i: u32 = 0; i < j; i++) {
        const mi = members + <usize>i * stride;
        if (load<u32>(mi, 4) == nj && bytesEqual(<usize>load<u32>(mi), kj, nj)) return <i32>j;
      }
    }
    return -1;
  }
  const mark = arenaMark();
  let src = arenaAlloc(<usize>count << 2);
  let dst = arenaAlloc(<usize>count << 2);
  for (let i: u32 = 0; i < count; i++) store<u32>(src + (<usize>i << 2), i);
  // Bottom-up merge sort by (key bytes, index); ties keep index order because the merge is stable.
  for (let width: u32 = 1; width < count; width <<= 1) {
    for (let lo: u32 = 0; lo < count; lo += width << 1) {
      let mid = lo + width; if (mid > count) mid = count;
      let hi = mid + width; if (hi > count) hi = count;
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const a = load<u32>(src + (<usize>i << 2));
        const b = load<u32>(src + (<usize>j << 2));
        const ma = members + <usize>a * stride;
        const mb = members + <usize>b * stride;
        const c = bytesCompare(<usize>load<u32>(ma), load<u32>(ma, 4), <usize>load<u32>(mb), load<u32>(mb, 4));
        if (c <= 0) { store<u32>(dst + (<usize>k << 2), a); i++; }
        else { store<u32>(dst + (<usize>k << 2), b); j++; }
        k++;
      }
      while (i < mid) { store<u32>(dst + (<usize>k << 2), load<u32>(src + (<usize>i << 2))); i++; k++; }
      while (j < hi) { store<u32>(dst + (<usize>k << 2), load<u32>(src + (<usize>j << 2))); j++; k++; }
    }
    const t = src; src = dst; dst = t;
  }
  // In a run of equal keys the indices ascend; the second one is that key's first repeat.
  let best: i32 = -1;
  for (let k: u32 = 1; k < count; k++) {
    const a = load<u32>(src + (<usize>(k - 1) << 2));
    const b = load<u32>(src + (<usize>k << 2));
    const ma = members + <usize>a * stride;
    const mb = members + <usize>b * stride;
    const n = load<u32>(ma, 4);
    if (load<u32>(mb, 4) == n && bytesEqual(<usize>load<u32>(ma), <usize>load<u32>(mb), n)) {
      if (best < 0 || <i32>b < best) best = <i32>b;
    }
  }
  arenaRelease(mark);
  return best;
}
