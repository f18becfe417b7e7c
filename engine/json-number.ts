// Engine stage: JSON number lexemes -> IEEE 754 doubles, correctly rounded (round half to even),
// bit for bit what JavaScript's JSON.parse returns, including overflow to ±Infinity and underflow
// to ±0. Input: a lexeme in memory. Output: its f64 value. Nothing is allocated.
//
// Three tiers, each exact:
// 1. Clinger's fast path: at most 19 significant digits, mantissa <= 2^53, |exponent| <= 22 —
//    one IEEE multiply or divide of two exact doubles.
// 2. Eisel-Lemire with fast_float's 128-bit powers of five (engine/json-pow5.ts): exact for any
//    mantissa of at most 19 digits (Mushtak and Lemire, "Fast Number Parsing Without Fallback").
//    Longer mantissas are truncated to 19 digits w; when w and w+1 give the same double, so does
//    every value between them.
// 3. Otherwise (rare, or crafted): the answer is b = the double of w or the next one up, decided
//    by comparing the exact value with the halfway point between them in big-integer arithmetic
//    (fast_float's digit comparison). At most 769 digits take part, plus a "nonzero digits were
//    dropped" flag: a halfway point has at most 767 significant digits. The cost is bounded by a
//    few thousand limb operations per number, so crafted requests full of hard numbers stay fast.

import { POW5_128, POW5_MIN_Q, POW5_MAX_Q } from "./json-pow5";

// ---------------------------------------------------------------------------------------------
// Grammar

/** Set by scanNumber when it returns 0: address of the byte that broke the grammar. */
export let numberErrorAt: usize = 0;

// @ts-ignore: decorator
@inline function isDigit(c: u32): bool { return c - 0x30 < 10; }

/**
 * Match RFC 8259 `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at `p` (before `end`).
 * Returns the address just after the number, or 0 (and sets numberErrorAt) when it is malformed.
 * The byte after the number is not examined: "01" matches "0".
 */
export function scanNumber(p: usize, end: usize): usize {
  if (p < end && load<u8>(p) == 0x2d) p++;
  if (p >= end || !isDigit(load<u8>(p))) { numberErrorAt = p; return 0; }
  if (load<u8>(p) == 0x30) p++;
  else while (p < end && isDigit(load<u8>(p))) p++;
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    if (p >= end || !isDigit(load<u8>(p))) { numberErrorAt = p; return 0; }
    while (p < end && isDigit(load<u8>(p))) p++;
  }
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    if (p >= end || !isDigit(load<u8>(p))) { numberErrorAt = p; return 0; }
    while (p < end && isDigit(load<u8>(p))) p++;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Value

const EXACT_POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/**
 * The double nearest to the number lexeme of `len` bytes at `ptr` (which must match scanNumber).
 */
export function parseNumberValue(ptr: usize, len: usize): f64 {
  const end = ptr + len;
  let p = ptr;
  const negative = load<u8>(p) == 0x2d;
  if (negative) p++;
  let w: u64 = 0;
  let significant = 0;
  let seenNonZero = false;
  let truncated = false;
  let q: i64 = 0; // value = w * 10^q (before truncation)
  while (p < end && isDigit(load<u8>(p))) {
    const d = <u64>(load<u8>(p) - 0x30);
    if (d != 0 || seenNonZero) {
      seenNonZero = true;
      if (significant < 19) { w = w * 10 + d; significant++; }
      else { q++; if (d != 0) truncated = true; }
    }
    p++;
  }
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    while (p < end && isDigit(load<u8>(p))) {
      const d = <u64>(load<u8>(p) - 0x30);
      if (d != 0 || seenNonZero) {
        seenNonZero = true;
        if (significant < 19) { w = w * 10 + d; significant++; q--; }
        else if (d != 0) truncated = true;
      } else q--;
      p++;
    }
  }
  if (p < end) { // exponent
    p++;
    let expNegative = false;
    if (load<u8>(p) == 0x2d) { expNegative = true; p++; }
    else if (load<u8>(p) == 0x2b) p++;
    let e: i64 = 0;
    while (p < end) {
      // Saturate: past 10^7 every nonzero mantissa is already ±Infinity or ±0.
      if (e < 10000000) e = e * 10 + <i64>(load<u8>(p) - 0x30);
      p++;
    }
    q += expNegative ? -e : e;
  }
  if (w == 0) return negative ? -0.0 : 0.0;

  let bits: u64;
  if (!truncated && q >= -22 && q <= 22 && w <= (<u64>1 << 53)) {
    let v = <f64>w;
    if (q < 0) v /= unchecked(EXACT_POW10[<i32>-q]);
    else v *= unchecked(EXACT_POW10[<i32>q]);
    return negative ? -v : v;
  }
  bits = eiselLemire(q, w);
  // Truncated: the value lies between w * 10^q and (w + 1) * 10^q, so its double is `bits` or the
  // next one up; when those two agree there is nothing to decide.
  if (truncated && eiselLemire(q, w + 1) != bits) bits = decideByBigInt(ptr, len, bits);
  if (negative) bits |= <u64>1 << 63;
  return reinterpret<f64>(bits);
}

// ---------------------------------------------------------------------------------------------
// Eisel-Lemire (fast_float's compute_float for binary64)

const INFINITY_BITS: u64 = 0x7ff0000000000000;

let productHigh: u64 = 0;
let productLow: u64 = 0;

/** productHigh:productLow = a * b (full 128-bit product). */
function multiply128(a: u64, b: u64): void {
  const aLo = a & 0xffffffff, aHi = a >> 32;
  const bLo = b & 0xffffffff, bHi = b >> 32;
  const p0 = aLo * bLo;
  const p1 = aLo * bHi;
  const p2 = aHi * bLo;
  const p3 = aHi * bHi;
  const mid = (p0 >> 32) + (p1 & 0xffffffff) + (p2 & 0xffffffff);
  productHigh = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
  productLow = a * b;
}

/**
 * Bits of the (unsigned) double nearest to w * 10^q, w != 0. The two-word product is always
 * precise enough (Mushtak and Lemire's proof; fast_float has had no fallback here since 2023).
 */
function eiselLemire(q: i64, w: u64): u64 {
  if (q < <i64>POW5_MIN_Q) return 0;
  if (q > <i64>POW5_MAX_Q) return INFINITY_BITS;
  const qi = <i32>q;
  const lz = <i32>clz(w);
  w <<= <u64>lz;
  const index = (qi - POW5_MIN_Q) << 1;
  const powHigh = unchecked(POW5_128[index]);
  const powLow = unchecked(POW5_128[index + 1]);
  multiply128(w, powHigh);
  let high = productHigh;
  let low = productLow;
  if ((high & 0x1ff) == 0x1ff) {
    multiply128(w, powLow);
    const secondHigh = productHigh;
    low += secondHigh;
    if (secondHigh > low) high++;
  }
  const upperBit = <i32>(high >> 63);
  const shift = <u64>(upperBit + 9);
  let mantissa = high >> shift;
  // power(q) = floor(q * log2(10)) + 63, as fast_float computes it
  let power2 = (((152170 + 65536) * qi) >> 16) + 63 + upperBit - lz + 1023;
  if (power2 <= 0) { // subnormal or zero
    if (-power2 + 1 >= 64) return 0;
    mantissa >>= <u64>(-power2 + 1);
    mantissa += mantissa & 1;
    mantissa >>= 1;
    // Rounding up may have produced the smallest normal number.
    power2 = mantissa < (<u64>1 << 52) ? 0 : 1;
    return (<u64>power2 << 52) | (mantissa & ((<u64>1 << 52) - 1));
  }
  // Exactly halfway between two doubles (only possible for small q): round to even.
  if (low <= 1 && qi >= -4 && qi <= 23 && (mantissa & 3) == 1) {
    if ((mantissa << shift) == high) mantissa &= ~(<u64>1);
  }
  mantissa += mantissa & 1;
  mantissa >>= 1;
  if (mantissa >= (<u64>2 << 52)) {
    mantissa = <u64>1 << 52;
    power2++;
  }
  mantissa &= ~(<u64>1 << 52);
  if (power2 >= 0x7ff) return INFINITY_BITS;
  return (<u64>power2 << 52) | mantissa;
}

// ---------------------------------------------------------------------------------------------
// Big-integer comparison with the halfway point
//
// Fixed-capacity unsigned big integers: little-endian u32 limbs in static memory, normalized (no
// zero top limb). INVARIANT: no operand exceeds ~4,700 bits (769 digits shifted by at most 1,383
// bits, or (2m+1) * 5^1092 shifted by at most 2,062 bits), well inside LIMBS.

const LIMBS: i32 = 320;
const MAX_DIGITS: i32 = 769;
const bigX = memory.data(LIMBS * 4, 8);
const bigY = memory.data(LIMBS * 4, 8);
let overflowed = false;

// @ts-ignore: decorator
@inline function limb(p: usize, i: i32): u32 { return load<u32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setLimb(p: usize, i: i32, v: u32): void { store<u32>(p + (<usize>i << 2), v); }

/** p := p * m + add; returns the new length. */
function bigMulSmall(p: usize, len: i32, m: u32, add: u32): i32 {
  let carry = <u64>add;
  for (let i = 0; i < len; i++) {
    const t = <u64>limb(p, i) * <u64>m + carry;
    setLimb(p, i, <u32>t);
    carry = t >> 32;
  }
  if (carry != 0) {
    if (len >= LIMBS) { overflowed = true; return len; }
    setLimb(p, len, <u32>carry);
    len++;
  }
  return len;
}

const POW5_SMALL: StaticArray<u32> = [1, 5, 25, 125, 625, 3125, 15625, 78125, 390625, 1953125, 9765625, 48828125, 244140625, 1220703125];

/** p := p * 5^n. */
function bigMulPow5(p: usize, len: i32, n: i32): i32 {
  while (n >= 13) { len = bigMulSmall(p, len, 1220703125, 0); n -= 13; }
  if (n > 0) len = bigMulSmall(p, len, unchecked(POW5_SMALL[n]), 0);
  return len;
}

/** p := p << bits. */
function bigShiftLeft(p: usize, len: i32, bits: i32): i32 {
  if (len == 0) return 0;
  const words = bits >> 5;
  const rest = <u32>(bits & 31);
  const top = len + words + 1;
  if (top > LIMBS) { overflowed = true; return len; }
  setLimb(p, top - 1, 0);
  for (let i = len - 1; i >= 0; i--) {
    const v = limb(p, i);
    if (rest != 0) setLimb(p, i + words + 1, limb(p, i + words + 1) | (v >> (32 - rest)));
    setLimb(p, i + words, v << rest);
  }
  for (let i = 0; i < words; i++) setLimb(p, i, 0);
  let n = top;
  while (n > 0 && limb(p, n - 1) == 0) n--;
  return n;
}

function bigCompare(a: usize, alen: i32, b: usize, blen: i32): i32 {
  if (alen != blen) return alen > blen ? 1 : -1;
  for (let i = alen - 1; i >= 0; i--) {
    const x = limb(a, i), y = limb(b, i);
    if (x != y) return x > y ? 1 : -1;
  }
  return 0;
}

const POW10_SMALL: StaticArray<u32> = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/**
 * Given `bits`, the double of the lexeme's first 19 significant digits, return the double nearest
 * to the whole lexeme: `bits` or `bits + 1` (the next double up; from the largest finite double
 * that is Infinity, as IEEE rounding requires).
 */
function decideByBigInt(ptr: usize, len: usize, bits: u64): u64 {
  // D = the first MAX_DIGITS significant digits; value = D * 10^E (+ a little when `sticky`).
  const end = ptr + len;
  let p = ptr;
  if (load<u8>(p) == 0x2d) p++;
  let xLen = 0;
  let taken = 0;
  let chunk: u32 = 0;
  let chunkDigits = 0;
  let sticky = false;
  let seenNonZero = false;
  let e: i64 = 0;
  let inFraction = false;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c == 0x2e) { inFraction = true; p++; continue; }
    if (c - 0x30 >= 10) break; // exponent marker
    const d = c - 0x30;
    if (d != 0 || seenNonZero) {
      seenNonZero = true;
      if (taken < MAX_DIGITS) {
        chunk = chunk * 10 + d;
        chunkDigits++;
        taken++;
        if (chunkDigits == 9) { xLen = bigMulSmall(bigX, xLen, 1000000000, chunk); chunk = 0; chunkDigits = 0; }
        if (inFraction) e--;
      } else {
        if (d != 0) sticky = true;
        if (!inFraction) e++;
      }
    } else if (inFraction) e--;
    p++;
  }
  if (chunkDigits > 0) xLen = bigMulSmall(bigX, xLen, unchecked(POW10_SMALL[chunkDigits]), chunk);
  if (p < end) { // exponent
    p++;
    let negative = false;
    if (load<u8>(p) == 0x2d) { negative = true; p++; }
    else if (load<u8>(p) == 0x2b) p++;
    let x: i64 = 0;
    while (p < end) { if (x < 10000000) x = x * 10 + <i64>(load<u8>(p) - 0x30); p++; }
    e += negative ? -x : x;
  }
  // The halfway point between bits and bits + 1: (2m + 1) * 2^(e2 - 1).
  const field = <i32>(bits >> 52);
  let m = bits & ((<u64>1 << 52) - 1);
  let e2: i32 = -1074;
  if (field != 0) { m |= <u64>1 << 52; e2 = field - 1075; }
  const h = (m << 1) | 1;
  setLimb(bigY, 0, <u32>h);
  setLimb(bigY, 1, <u32>(h >> 32));
  let yLen = (h >> 32) != 0 ? 2 : 1;
  overflowed = false;
  // Compare D * 5^E * 2^E with (2m + 1) * 2^(e2 - 1), moving 5^|E| to the side where it is positive.
  const ei = <i32>e; // |E| <= 1,111 here: both neighbours were finite and nonzero candidates
  if (ei >= 0) xLen = bigMulPow5(bigX, xLen, ei);
  else yLen = bigMulPow5(bigY, yLen, -ei);
  const shift = ei - (e2 - 1);
  if (shift >= 0) xLen = bigShiftLeft(bigX, xLen, shift);
  else yLen = bigShiftLeft(bigY, yLen, -shift);
  if (overflowed) return bits; // unreachable by the INVARIANT above
  let cmp = bigCompare(bigX, xLen, bigY, yLen);
  if (cmp == 0 && sticky) cmp = 1;
  if (cmp > 0 || (cmp == 0 && (m & 1) == 1)) return bits + 1;
  return bits;
}

/**
 * Test hook: the big-integer decision on its own. The candidate is the double of the first 19
 * significant digits, the decision is made even when the fast tiers would not need it.
 */
export function parseNumberSlow(ptr: usize, len: usize): f64 {
  const end = ptr + len;
  let p = ptr;
  const negative = load<u8>(p) == 0x2d;
  if (negative) p++;
  let w: u64 = 0;
  let significant = 0;
  let seenNonZero = false;
  let q: i64 = 0;
  let inFraction = false;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c == 0x2e) { inFraction = true; p++; continue; }
    if (c - 0x30 >= 10) break;
    const d = <u64>(c - 0x30);
    if (d != 0 || seenNonZero) {
      seenNonZero = true;
      if (significant < 19) { w = w * 10 + d; significant++; if (inFraction) q--; }
      else if (!inFraction) q++;
    } else if (inFraction) q--;
    p++;
  }
  if (p < end) {
    p++;
    let expNegative = false;
    if (load<u8>(p) == 0x2d) { expNegative = true; p++; }
    else if (load<u8>(p) == 0x2b) p++;
    let x: i64 = 0;
    while (p < end) { if (x < 10000000) x = x * 10 + <i64>(load<u8>(p) - 0x30); p++; }
    q += expNegative ? -x : x;
  }
  let bits: u64 = 0;
  if (w != 0) {
    bits = eiselLemire(q, w);
    if (bits != INFINITY_BITS && (bits != 0 || eiselLemire(q, w + 1) != 0)) bits = decideByBigInt(ptr, len, bits);
  }
  if (negative) bits |= <u64>1 << 63;
  return reinterpret<f64>(bits);
}
