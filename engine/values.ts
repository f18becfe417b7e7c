// Engine: the value representation on the VM stack and the operations on values that do not
// depend on the bytecode (conversion from tape Nodes, element access, equality, ordering).
// Input: 16-byte value slots in raw memory. Output: slots, booleans and comparison results.
// Nothing here allocates except arena memory for sorted key orders of large maps.
//
//   Slot (16 bytes)
//   +0 u8 tag | +1 u8 op name (error) | +2 u16 error code | +4 u32 pc (error: raising instruction)
//   +8  bool: u32 0/1   int: i64   double: f64   string: u32 address, +12 u32 byte length
//       list (tape): u32 array Node address   list (values): u32 address of slots, +12 u32 count
//       map: u32 object Node address (0 = the empty map)   error: u32 key address, +12 u32 key length
//
// Strings point into the bundle, the request tape or the arena; all stay valid for the whole call.

import {
  KIND_NULL, KIND_FALSE, KIND_TRUE, KIND_NUMBER, KIND_STRING, KIND_ARRAY, KIND_OBJECT,
  nodeKind, stringPtr, stringLen, numberValue, containerCount, containerPtr, arrayElement,
  objectMember, memberKeyPtr, memberKeyLen, memberValue, bytesEqual, bytesCompare, objectGet, MEMBER_SIZE,
} from "./tape";
import { arenaAlloc, arenaMark, arenaRelease } from "./arena";

export const SLOT: usize = 16;

export const TAG_NULL: u8 = 0;
export const TAG_BOOL: u8 = 1;
export const TAG_INT: u8 = 2;
export const TAG_DOUBLE: u8 = 3;
export const TAG_STRING: u8 = 4;
/** A list backed by a tape array Node. */
export const TAG_LIST: u8 = 5;
/** A list backed by an arena array of slots (list literals, concatenations). */
export const TAG_VLIST: u8 = 6;
export const TAG_MAP: u8 = 7;
export const TAG_ERROR: u8 = 8;

// @ts-ignore: decorator
@inline export function tagOf(s: usize): u8 { return load<u8>(s); }
// @ts-ignore: decorator
@inline export function boolOf(s: usize): bool { return load<u32>(s, 8) != 0; }
// @ts-ignore: decorator
@inline export function intOf(s: usize): i64 { return load<i64>(s, 8); }
// @ts-ignore: decorator
@inline export function doubleOf(s: usize): f64 { return load<f64>(s, 8); }
// @ts-ignore: decorator
@inline export function strPtrOf(s: usize): usize { return <usize>load<u32>(s, 8); }
// @ts-ignore: decorator
@inline export function strLenOf(s: usize): u32 { return load<u32>(s, 12); }
// @ts-ignore: decorator
@inline export function nodeOf(s: usize): usize { return <usize>load<u32>(s, 8); }
// @ts-ignore: decorator
@inline export function isError(s: usize): bool { return load<u8>(s) == TAG_ERROR; }
// @ts-ignore: decorator
@inline export function errorCode(s: usize): i32 { return <i32>load<u16>(s, 2); }
// @ts-ignore: decorator
@inline export function errorOp(s: usize): u8 { return load<u8>(s, 1); }
// @ts-ignore: decorator
@inline export function errorPc(s: usize): u32 { return load<u32>(s, 4); }

// @ts-ignore: decorator
@inline export function setNull(s: usize): void { store<u64>(s, 0); store<u64>(s, 0, 8); }
// @ts-ignore: decorator
@inline export function setBool(s: usize, b: bool): void { store<u64>(s, <u64>TAG_BOOL); store<u64>(s, b ? 1 : 0, 8); }
// @ts-ignore: decorator
@inline export function setInt(s: usize, v: i64): void { store<u64>(s, <u64>TAG_INT); store<i64>(s, v, 8); }
// @ts-ignore: decorator
@inline export function setDouble(s: usize, v: f64): void { store<u64>(s, <u64>TAG_DOUBLE); store<f64>(s, v, 8); }
// @ts-ignore: decorator
@inline export function setString(s: usize, ptr: usize, len: u32): void {
  store<u64>(s, <u64>TAG_STRING); store<u32>(s, <u32>ptr, 8); store<u32>(s, len, 12);
}
// @ts-ignore: decorator
@inline export function setVList(s: usize, ptr: usize, count: u32, depth: u32 = 1): void {
  store<u64>(s, <u64>TAG_VLIST); store<u32>(s, depth, 4); store<u32>(s, <u32>ptr, 8); store<u32>(s, count, 12);
}
/**
 * How deeply list literals are nested inside a computed list (+4 of its slot); 0 for any other
 * value. INVARIANT: at most MAX_JSON_DEPTH, so the recursive equality and rendering of values
 * (request lists are themselves at most that deep) stay shallow even for a hand-made bundle.
 */
// @ts-ignore: decorator
@inline export function vlistDepth(s: usize): u32 { return load<u8>(s) == TAG_VLIST ? load<u32>(s, 4) : 0; }
// @ts-ignore: decorator
@inline export function setMap(s: usize, node: usize): void {
  store<u64>(s, <u64>TAG_MAP); store<u64>(s, <u64>node, 8);
}
/** An error value: `code` (300-307), op name id (OPN_*), raising pc, and an optional key. */
export function setError(s: usize, code: i32, op: u8, pc: u32, keyPtr: usize, keyLen: u32): void {
  store<u8>(s, TAG_ERROR); store<u8>(s, op, 1); store<u16>(s, <u16>code, 2); store<u32>(s, pc, 4);
  store<u32>(s, <u32>keyPtr, 8); store<u32>(s, keyLen, 12);
}
// @ts-ignore: decorator
@inline export function copySlot(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src)); store<u64>(dst, load<u64>(src, 8), 8);
}

/** The value of tape Node `node`. */
export function fromNode(s: usize, node: usize): void {
  const k = nodeKind(node);
  if (k == KIND_NULL) setNull(s);
  else if (k == KIND_FALSE) setBool(s, false);
  else if (k == KIND_TRUE) setBool(s, true);
  else if (k == KIND_NUMBER) setDouble(s, numberValue(node));
  else if (k == KIND_STRING) setString(s, stringPtr(node), stringLen(node));
  else if (k == KIND_ARRAY) { store<u64>(s, <u64>TAG_LIST); store<u64>(s, <u64>node, 8); }
  else setMap(s, node);
}

/** Element count of a list value. */
export function listCount(s: usize): u32 {
  return tagOf(s) == TAG_LIST ? containerCount(nodeOf(s)) : load<u32>(s, 12);
}

/** Write element `i` (< listCount) of list value `s` into `dst`. */
export function listGet(s: usize, i: u32, dst: usize): void {
  if (tagOf(s) == TAG_LIST) fromNode(dst, arrayElement(nodeOf(s), i));
  else copySlot(dst, nodeOf(s) + <usize>i * SLOT);
}

/** Member count of a map value. */
export function mapCount(s: usize): u32 {
  const n = nodeOf(s);
  return n == 0 ? 0 : containerCount(n);
}

/** The value Node under key (`ptr`, `len`) of map value `s`, or 0. */
export function mapGet(s: usize, ptr: usize, len: u32): usize {
  return objectGet(nodeOf(s), ptr, len);
}

/** Exact comparison of an int with a double: -1, 0, 1, or 2 when `d` is NaN. */
export function compareIntDouble(i: i64, d: f64): i32 {
  if (isNaN(d)) return 2;
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  const t = Math.trunc(d);
  const ti = <i64>t;
  if (i < ti) return -1;
  if (i > ti) return 1;
  const frac = d - t;
  return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

function compareDoubles(a: f64, b: f64): i32 {
  if (isNaN(a) || isNaN(b)) return 2;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Ordering of two non-error values: -1, 0, 1; 2 when unordered (NaN); 3 when the types have no
 * ordering (no_matching_overload).
 */
export function compareValues(a: usize, b: usize): i32 {
  const ta = tagOf(a), tb = tagOf(b);
  if (ta == TAG_INT) {
    if (tb == TAG_INT) { const x = intOf(a), y = intOf(b); return x < y ? -1 : x > y ? 1 : 0; }
    if (tb == TAG_DOUBLE) return compareIntDouble(intOf(a), doubleOf(b));
    return 3;
  }
  if (ta == TAG_DOUBLE) {
    if (tb == TAG_DOUBLE) return compareDoubles(doubleOf(a), doubleOf(b));
    if (tb == TAG_INT) { const c = compareIntDouble(intOf(b), doubleOf(a)); return c == 2 ? 2 : -c; }
    return 3;
  }
  if (ta == TAG_STRING && tb == TAG_STRING) {
    const c = bytesCompare(strPtrOf(a), strLenOf(a), strPtrOf(b), strLenOf(b));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (ta == TAG_BOOL && tb == TAG_BOOL) {
    const x = <i32>boolOf(a), y = <i32>boolOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return 3;
}

// Scratch slots for element-wise comparisons, taken from the arena per comparison so recursion
// into nested lists and maps never shares them.
function scratch2(): usize { return arenaAlloc(SLOT << 1); }

/** Heterogeneous equality of two non-error values (docs/semantics.md "Equality"). */
export function valuesEqual(a: usize, b: usize): bool {
  const ta = tagOf(a), tb = tagOf(b);
  if (ta == TAG_INT || ta == TAG_DOUBLE) {
    if (tb != TAG_INT && tb != TAG_DOUBLE) return false;
    return compareValues(a, b) == 0;
  }
  if (ta == TAG_STRING) {
    if (tb != TAG_STRING) return false;
    const n = strLenOf(a);
    return n == strLenOf(b) && bytesEqual(strPtrOf(a), strPtrOf(b), n);
  }
  if (ta == TAG_NULL) return tb == TAG_NULL;
  if (ta == TAG_BOOL) return tb == TAG_BOOL && boolOf(a) == boolOf(b);
  if (ta == TAG_LIST || ta == TAG_VLIST) {
    if (tb != TAG_LIST && tb != TAG_VLIST) return false;
    const n = listCount(a);
    if (n != listCount(b)) return false;
    const mark = arenaMark();
    const x = scratch2();
    const y = x + SLOT;
    let eq = true;
    for (let i: u32 = 0; i < n && eq; i++) {
      listGet(a, i, x);
      listGet(b, i, y);
      eq = valuesEqual(x, y);
    }
    arenaRelease(mark);
    return eq;
  }
  if (ta == TAG_MAP) {
    if (tb != TAG_MAP) return false;
    return mapsEqual(nodeOf(a), nodeOf(b));
  }
  return false;
}

// Up to this many members a map lookup per key is cheaper than sorting both key sets.
const SMALL_MAP: u32 = 16;

/** Same key set and equal values. Keys are unique (the request reader rejects duplicates). */
function mapsEqual(a: usize, b: usize): bool {
  const n: u32 = a == 0 ? 0 : containerCount(a);
  const m: u32 = b == 0 ? 0 : containerCount(b);
  if (n != m) return false;
  if (n == 0) return true;
  const mark = arenaMark();
  const x = scratch2();
  const y = x + SLOT;
  let eq = true;
  if (n <= SMALL_MAP) {
    for (let i: u32 = 0; i < n && eq; i++) {
      const ma = objectMember(a, i);
      const vb = objectGet(b, memberKeyPtr(ma), memberKeyLen(ma));
      if (vb == 0) { eq = false; break; }
      fromNode(x, memberValue(ma));
      fromNode(y, vb);
      eq = valuesEqual(x, y);
    }
  } else {
    // Sort both member lists by key so the comparison is O(n log n) whatever the keys are.
    const sa = sortedMembers(a, n);
    const sb = sortedMembers(b, n);
    for (let i: u32 = 0; i < n && eq; i++) {
      const ma = <usize>load<u32>(sa + (<usize>i << 2));
      const mb = <usize>load<u32>(sb + (<usize>i << 2));
      const kl = memberKeyLen(ma);
      if (kl != memberKeyLen(mb) || !bytesEqual(memberKeyPtr(ma), memberKeyPtr(mb), kl)) { eq = false; break; }
      fromNode(x, memberValue(ma));
      fromNode(y, memberValue(mb));
      eq = valuesEqual(x, y);
    }
  }
  arenaRelease(mark);
  return eq;
}

/** Arena array of the member addresses of object `obj` (n members), sorted by key bytes. */
function sortedMembers(obj: usize, n: u32): usize {
  let src = arenaAlloc(<usize>n << 2);
  let dst = arenaAlloc(<usize>n << 2);
  const base = containerPtr(obj);
  for (let i: u32 = 0; i < n; i++) store<u32>(src + (<usize>i << 2), <u32>(base + <usize>i * MEMBER_SIZE));
  for (let width: u32 = 1; width < n; width <<= 1) {
    for (let lo: u32 = 0; lo < n; lo += width << 1) {
      let mid = lo + width; if (mid > n) mid = n;
      let hi = mid + width; if (hi > n) hi = n;
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const p = <usize>load<u32>(src + (<usize>i << 2));
        const q = <usize>load<u32>(src + (<usize>j << 2));
        if (bytesCompare(memberKeyPtr(p), memberKeyLen(p), memberKeyPtr(q), memberKeyLen(q)) <= 0) {
          store<u32>(dst + (<usize>k << 2), <u32>p); i++;
        } else { store<u32>(dst + (<usize>k << 2), <u32>q); j++; }
        k++;
      }
      while (i < mid) { store<u32>(dst + (<usize>k << 2), load<u32>(src + (<usize>i << 2))); i++; k++; }
      while (j < hi) { store<u32>(dst + (<usize>k << 2), load<u32>(src + (<usize>j << 2))); j++; k++; }
    }
    const t = src; src = dst; dst = t;
  }
  return src;
}
