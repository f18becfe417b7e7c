// Record stage: a double -> its ECMAScript Number::toString text (ECMA-262 §6.1.6.1.20), which is
// what RFC 8785 §3.2.2.3 prescribes for JSON numbers. Input: a finite f64. Output: at most 25
// ASCII bytes at a caller's address. Nothing is allocated.
//
// Digits: Ryu (Ulf Adams, "Ryū: fast float-to-string conversion", PLDI 2018), d2s with the small
// tables of engine/record/ryu-tables.ts: the shortest digit string that reads back as the same
// double (bounds included when the significand is even, as round-half-even reading does) and,
// among the shortest, the one nearest the exact value, ties to even. That is exactly the (k, s)
// ECMAScript asks for; Grisu-style shortcuts are not exact and would need a fallback anyway.
// Layout (ECMAScript): with s the k digits and n the decimal point position (value = 0.s x 10^n):
//   k <= n <= 21      digits then n - k zeros            123000, 100000000000000000000
//   0 < n <= 21       digits with a point after n        1.5
//   -6 < n <= 0       "0." then -n zeros then digits     0.000001
//   otherwise         d[.ddd]e(+|-)(n-1)                  1e+21, 1e-7, 1.5e-323
// -0 is written "0".
//
// wasm has no 64x64->128 multiply, so products are built from 32-bit halves.

import {
  POW5_TABLE, POW5_SPLIT2, POW5_INV_SPLIT2, POW5_OFFSETS, POW5_INV_OFFSETS,
} from "./ryu-tables";

/** Longest text formatDouble writes ("-0.0000012345678901234567" is 25 bytes). */
export const MAX_DOUBLE_TEXT: u32 = 25;

const MANTISSA_BITS: i32 = 52;
const BIAS: i32 = 1023;
const POW5_INV_BITCOUNT: i32 = 125;
const POW5_BITCOUNT: i32 = 125;
const TABLE_STEP: u32 = 26;

// ---------------------------------------------------------------------------------------------
// 128-bit helpers

/** High 64 bits of the last umul128. */
let productHigh: u64 = 0;

/** Low 64 bits of a * b; the high 64 bits go to productHigh. */
function umul128(a: u64, b: u64): u64 {
  const aLo = a & 0xffffffff, aHi = a >> 32;
  const bLo = b & 0xffffffff, bHi = b >> 32;
  const b00 = aLo * bLo, b01 = aLo * bHi, b10 = aHi * bLo, b11 = aHi * bHi;
  const mid = (b00 >> 32) + (b01 & 0xffffffff) + (b10 & 0xffffffff);
  productHigh = b11 + (b01 >> 32) + (b10 >> 32) + (mid >> 32);
  return (mid << 32) | (b00 & 0xffffffff);
}

/** Bits [dist, dist + 64) of the 128-bit hi:lo; 0 < dist < 64. */
// @ts-ignore: decorator
@inline function shiftRight128(lo: u64, hi: u64, dist: u32): u64 {
  return (hi << <u64>(64 - dist)) | (lo >> <u64>dist);
}

// The multiplier for the current conversion (125 bits, low and high words).
let mulLo: u64 = 0;
let mulHi: u64 = 0;

/** Add a small correction to mulHi:mulLo. */
// @ts-ignore: decorator
@inline function mulAdd(c: u64): void {
  const lo = mulLo + c;
  if (lo < mulLo) mulHi++;
  mulLo = lo;
}

/** 2-bit correction `i` of a packed offsets table. */
// @ts-ignore: decorator
@inline function correction(table: StaticArray<u32>, i: u32): u64 {
  return <u64>((unchecked(table[i >> 4]) >> ((i & 15) << 1)) & 3);
}

/** Set mul to Ryu's POW5(i) = floor(5^i / 2^(pow5bits(i) - 125)), i <= 325. */
function computePow5(i: u32): void {
  const base = i / TABLE_STEP;
  const base2 = base * TABLE_STEP;
  const offset = i - base2;
  const bLo = unchecked(POW5_SPLIT2[base << 1]);
  const bHi = unchecked(POW5_SPLIT2[(base << 1) + 1]);
  if (offset == 0) { mulLo = bLo; mulHi = bHi; return; }
  const m = unchecked(POW5_TABLE[offset]);
  const low1 = umul128(m, bHi);
  let high1 = productHigh;
  const low0 = umul128(m, bLo);
  const high0 = productHigh;
  const sum = high0 + low1;
  if (sum < high0) high1++;
  const delta = <u32>(pow5bits(<i32>i) - pow5bits(<i32>base2));
  mulLo = shiftRight128(low0, sum, delta);
  mulHi = shiftRight128(sum, high1, delta);
  mulAdd(correction(POW5_OFFSETS, i));
}

/** Set mul to Ryu's POW5_INV(i) = floor(2^(pow5bits(i) - 1 + 125) / 5^i) + 1, i <= 290. */
function computeInvPow5(i: u32): void {
  const base = (i + TABLE_STEP - 1) / TABLE_STEP;
  const base2 = base * TABLE_STEP;
  const offset = base2 - i;
  const bLo = unchecked(POW5_INV_SPLIT2[base << 1]);
  const bHi = unchecked(POW5_INV_SPLIT2[(base << 1) + 1]);
  if (offset == 0) { mulLo = bLo; mulHi = bHi; return; }
  const m = unchecked(POW5_TABLE[offset]);
  const low1 = umul128(m, bHi);
  let high1 = productHigh;
  // The stored value is floor + 1 (never 0 in its low word), so the floor is bLo - 1.
  const low0 = umul128(m, bLo - 1);
  const high0 = productHigh;
  const sum = high0 + low1;
  if (sum < high0) high1++;
  const delta = <u32>(pow5bits(<i32>base2) - pow5bits(<i32>i));
  mulLo = shiftRight128(low0, sum, delta);
  mulHi = shiftRight128(sum, high1, delta);
  mulAdd(1 + correction(POW5_INV_OFFSETS, i));
}

/** Tests: set the multiplier for 5^i (inverse: for 5^-i), as a conversion would. */
export function loadMultiplier(i: u32, inverse: bool): void {
  if (inverse) computeInvPow5(i); else computePow5(i);
}
/** Tests: low word of the multiplier loadMultiplier set. */
export function multiplierLow(): u64 { return mulLo; }
/** Tests: high word of the multiplier loadMultiplier set. */
export function multiplierHigh(): u64 { return mulHi; }

/** (m * mul) >> j for the current multiplier; m has at most 55 bits, 64 < j < 128. */
function mulShift64(m: u64, j: i32): u64 {
  const low1 = umul128(m, mulHi);
  let high1 = productHigh;
  umul128(m, mulLo);
  const high0 = productHigh;
  const sum = high0 + low1;
  if (sum < high0) high1++;
  return shiftRight128(sum, high1, <u32>(j - 64));
}

// ---------------------------------------------------------------------------------------------
// Ryu's integer logarithms (exact over the ranges used here)

/** Bit length of 5^e (1 for e = 0), e in [0, 3528]. */
// @ts-ignore: decorator
@inline function pow5bits(e: i32): i32 { return <i32>((<u32>e * 1217359) >> 19) + 1; }
/** floor(log10(2^e)), e in [0, 1650]. */
// @ts-ignore: decorator
@inline function log10Pow2(e: i32): i32 { return <i32>((<u32>e * 78913) >> 18); }
/** floor(log10(5^e)), e in [0, 2620]. */
// @ts-ignore: decorator
@inline function log10Pow5(e: i32): i32 { return <i32>((<u32>e * 732923) >> 20); }

/** Number of times 5 divides `value` (value > 0). */
function pow5Factor(value: u64): u32 {
  let count: u32 = 0;
  while (true) {
    const q = value / 5;
    if (value - q * 5 != 0) return count;
    value = q;
    count++;
  }
  return count;
}

// @ts-ignore: decorator
@inline function multipleOfPowerOf5(value: u64, p: u32): bool { return pow5Factor(value) >= p; }
// @ts-ignore: decorator
@inline function multipleOfPowerOf2(value: u64, p: u32): bool { return (value & ((<u64>1 << p) - 1)) == 0; }

// ---------------------------------------------------------------------------------------------
// Shortest digits

/** Result of shortestDecimal: value = decimalDigits x 10^decimalExponent. */
let decimalDigits: u64 = 0;
let decimalExponent: i32 = 0;

/** Ryu's d2d for a finite, nonzero double given as its significand and biased exponent fields. */
function shortestDecimal(ieeeMantissa: u64, ieeeExponent: u32): void {
  let e2: i32;
  let m2: u64;
  if (ieeeExponent == 0) {
    // Two extra bits so the interval bounds are integers.
    e2 = 1 - BIAS - MANTISSA_BITS - 2;
    m2 = ieeeMantissa;
  } else {
    e2 = <i32>ieeeExponent - BIAS - MANTISSA_BITS - 2;
    m2 = (<u64>1 << MANTISSA_BITS) | ieeeMantissa;
  }
  // Reading rounds half to even, so an even significand owns its interval's bounds.
  const acceptBounds = (m2 & 1) == 0;
  const mv = m2 << 2;
  // The lower neighbour is closer when the significand is a power of two (except at the bottom).
  const mmShift: u64 = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1 : 0;

  let vr: u64, vp: u64, vm: u64;
  let e10: i32;
  let vmIsTrailingZeros = false;
  let vrIsTrailingZeros = false;
  if (e2 >= 0) {
    const q = log10Pow2(e2) - (e2 > 3 ? 1 : 0);
    e10 = q;
    const k = POW5_INV_BITCOUNT + pow5bits(q) - 1;
    const i = -e2 + q + k;
    computeInvPow5(<u32>q);
    vr = mulShift64(mv, i);
    vp = mulShift64(mv + 2, i);
    vm = mulShift64(mv - 1 - mmShift, i);
    if (q <= 21) {
      // At most one of mp, mv, mm is a multiple of 5.
      if (mv % 5 == 0) {
        vrIsTrailingZeros = multipleOfPowerOf5(mv, <u32>q);
      } else if (acceptBounds) {
        vmIsTrailingZeros = multipleOfPowerOf5(mv - 1 - mmShift, <u32>q);
      } else {
        vp -= multipleOfPowerOf5(mv + 2, <u32>q) ? 1 : 0;
      }
    }
  } else {
    const q = log10Pow5(-e2) - (-e2 > 1 ? 1 : 0);
    e10 = q + e2;
    const i = -e2 - q;
    const k = pow5bits(i) - POW5_BITCOUNT;
    const j = q - k;
    computePow5(<u32>i);
    vr = mulShift64(mv, j);
    vp = mulShift64(mv + 2, j);
    vm = mulShift64(mv - 1 - mmShift, j);
    if (q <= 1) {
      // mv = 4 m2 has at least two trailing zero bits.
      vrIsTrailingZeros = true;
      if (acceptBounds) {
        vmIsTrailingZeros = mmShift == 1;
      } else {
        vp--;
      }
    } else if (q < 63) {
      vrIsTrailingZeros = multipleOfPowerOf2(mv, <u32>q);
    }
  }

  // Drop digits while the interval still holds a shorter number.
  let removed: i32 = 0;
  let lastRemovedDigit: u64 = 0;
  let output: u64;
  if (vmIsTrailingZeros || vrIsTrailingZeros) {
    // Rare: the exact value or the lower bound may end in zeros, which matters for ties.
    while (true) {
      const vpDiv10 = vp / 10;
      const vmDiv10 = vm / 10;
      if (vpDiv10 <= vmDiv10) break;
      const vmMod10 = vm - vmDiv10 * 10;
      const vrDiv10 = vr / 10;
      const vrMod10 = vr - vrDiv10 * 10;
      vmIsTrailingZeros = vmIsTrailingZeros && vmMod10 == 0;
      vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0;
      lastRemovedDigit = vrMod10;
      vr = vrDiv10; vp = vpDiv10; vm = vmDiv10;
      removed++;
    }
    if (vmIsTrailingZeros) {
      while (true) {
        const vmDiv10 = vm / 10;
        if (vm - vmDiv10 * 10 != 0) break;
        const vpDiv10 = vp / 10;
        const vrDiv10 = vr / 10;
        const vrMod10 = vr - vrDiv10 * 10;
        vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0;
        lastRemovedDigit = vrMod10;
        vr = vrDiv10; vp = vpDiv10; vm = vmDiv10;
        removed++;
      }
    }
    // Exactly halfway (....50000): round to even.
    if (vrIsTrailingZeros && lastRemovedDigit == 5 && (vr & 1) == 0) lastRemovedDigit = 4;
    output = vr + ((vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5 ? 1 : 0);
  } else {
    // Common case: no ties to worry about, so two digits at a time first.
    let roundUp = false;
    const vpDiv100 = vp / 100;
    const vmDiv100 = vm / 100;
    if (vpDiv100 > vmDiv100) {
      const vrDiv100 = vr / 100;
      const vrMod100 = vr - vrDiv100 * 100;
      roundUp = vrMod100 >= 50;
      vr = vrDiv100; vp = vpDiv100; vm = vmDiv100;
      removed += 2;
    }
    while (true) {
      const vpDiv10 = vp / 10;
      const vmDiv10 = vm / 10;
      if (vpDiv10 <= vmDiv10) break;
      const vrDiv10 = vr / 10;
      const vrMod10 = vr - vrDiv10 * 10;
      roundUp = vrMod10 >= 5;
      vr = vrDiv10; vp = vpDiv10; vm = vmDiv10;
      removed++;
    }
    output = vr + (vr == vm || roundUp ? 1 : 0);
  }
  decimalDigits = output;
  decimalExponent = e10 + removed;
}

// ---------------------------------------------------------------------------------------------
// ECMAScript layout

const digitBuffer = memory.data(24);

/** Write `count` zeros at `dst`. */
// @ts-ignore: decorator
@inline function zeros(dst: usize, count: i32): void {
  memory.fill(dst, 0x30, <usize>count);
}

/** Write the decimal exponent `e` (with its sign) at `dst`; returns the bytes written. */
function writeExponent(dst: usize, e: i32): u32 {
  store<u8>(dst, 0x65); // e
  store<u8>(dst + 1, e < 0 ? 0x2d : 0x2b);
  let a = e < 0 ? -e : e;
  let n: u32 = 2;
  if (a >= 100) { store<u8>(dst + n, <u8>(0x30 + a / 100)); n++; a %= 100; store<u8>(dst + n, <u8>(0x30 + a / 10)); n++; }
  else if (a >= 10) { store<u8>(dst + n, <u8>(0x30 + a / 10)); n++; }
  store<u8>(dst + n, <u8>(0x30 + a % 10));
  return n + 1;
}

/**
 * Write the ECMAScript Number::toString text of the finite double `value` at `dst` (at most
 * MAX_DOUBLE_TEXT bytes); returns the number of bytes written. The caller rejects NaN and
 * ±Infinity (JSON has no text for them).
 */
export function formatDouble(value: f64, dst: usize): u32 {
  const bits = reinterpret<u64>(value);
  const ieeeMantissa = bits & ((<u64>1 << MANTISSA_BITS) - 1);
  const ieeeExponent = <u32>((bits >> MANTISSA_BITS) & 0x7ff);
  if (ieeeMantissa == 0 && ieeeExponent == 0) { // ±0
    store<u8>(dst, 0x30);
    return 1;
  }
  let at = dst;
  if ((bits >> 63) != 0) { store<u8>(at, 0x2d); at++; }
  shortestDecimal(ieeeMantissa, ieeeExponent);

  // Digits, most significant first.
  let v = decimalDigits;
  let k: i32 = 0;
  while (v > 0) {
    const q = v / 10;
    store<u8>(digitBuffer + 23 - <usize>k, <u8>(0x30 + <u32>(v - q * 10)));
    v = q;
    k++;
  }
  const digits = digitBuffer + 24 - <usize>k;
  const n = decimalExponent + k;
  if (k <= n && n <= 21) {
    memory.copy(at, digits, <usize>k);
    zeros(at + <usize>k, n - k);
    at += <usize>n;
  } else if (0 < n && n <= 21) {
    memory.copy(at, digits, <usize>n);
    store<u8>(at + <usize>n, 0x2e);
    memory.copy(at + <usize>n + 1, digits + <usize>n, <usize>(k - n));
    at += <usize>k + 1;
  } else if (-6 < n && n <= 0) {
    store<u8>(at, 0x30);
    store<u8>(at + 1, 0x2e);
    zeros(at + 2, -n);
    memory.copy(at + 2 + <usize>(-n), digits, <usize>k);
    at += 2 + <usize>(-n) + <usize>k;
  } else {
    store<u8>(at, load<u8>(digits));
    at++;
    if (k > 1) {
      store<u8>(at, 0x2e);
      memory.copy(at + 1, digits + 1, <usize>(k - 1));
      at += <usize>k;
    }
    at += writeExponent(at, n - 1);
  }
  return <u32>(at - dst);
}
