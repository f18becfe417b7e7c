// Filter: Ed25519 signature verification (RFC 8032, strict), for bundle signatures checked inside
// the proxy (signature.ts). Input: a 32-byte public key, a 64-byte signature and the message, all
// as addresses in memory. Output: valid or not. A port of TweetNaCl's crypto_sign_open (field
// elements as 16 signed 16-bit limbs in i64) plus the checks TweetNaCl leaves out: S must be
// below the group order L (no malleable signatures), and the public key and R must be canonical
// encodings (y < p), so every verifier agrees on which signatures are valid (Wycheproof).
//
// Verification runs at configure time only, so the code favours size over speed. Nothing is
// allocated: every temporary is a static block, and no function recurses, so each function owns
// its temporaries.

import { sha512Init, sha512Update, sha512Final } from "./sha512";

const GF: usize = 128; // 16 limbs x 8 bytes
const PT: usize = 512; // extended point (X, Y, Z, T)

const GF0: usize = memory.data(128, 8);
const GF1: usize = memory.data<i64>([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
const D: usize = memory.data<i64>([0x78a3, 0x1359, 0x4dca, 0x75eb, 0xd8ab, 0x4141, 0x0a4d, 0x0070, 0xe898, 0x7779, 0x4079, 0x8cc7, 0xfe73, 0x2b6f, 0x6cee, 0x5203], 8);
const D2: usize = memory.data<i64>([0xf159, 0x26b2, 0x9b94, 0xebd6, 0xb156, 0x8283, 0x149a, 0x00e0, 0xd130, 0xeef3, 0x80f2, 0x198e, 0xfce7, 0x56df, 0xd9dc, 0x2406], 8);
const BX: usize = memory.data<i64>([0xd51a, 0x8f25, 0x2d60, 0xc956, 0xa7b2, 0x9525, 0xc760, 0x692c, 0xdc5c, 0xfdd6, 0xe231, 0xc0a4, 0x53fe, 0xcd6e, 0x36d3, 0x2169], 8);
const BY: usize = memory.data<i64>([0x6658, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666, 0x6666], 8);
const SQRTM1: usize = memory.data<i64>([0xa0b0, 0x4a0e, 0x1b27, 0xc4ee, 0xe478, 0xad2f, 0x1806, 0x2f43, 0xd7a7, 0x3dfb, 0x0099, 0x2b4d, 0xdf0b, 0x4fc1, 0x2480, 0x2b83], 8);
// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian bytes.
const L: usize = memory.data<i64>([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
], 8);

// @ts-ignore: decorator
@inline function limb(o: usize, i: i32): i64 { return load<i64>(o + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function setLimb(o: usize, i: i32, v: i64): void { store<i64>(o + (<usize>i << 3), v); }

function set(o: usize, a: usize): void { memory.copy(o, a, GF); }

function carry(o: usize): void {
  for (let i = 0; i < 16; i++) {
    const v = limb(o, i) + (<i64>1 << 16);
    const c = v >> 16;
    if (i < 15) setLimb(o, i + 1, limb(o, i + 1) + c - 1);
    else setLimb(o, 0, limb(o, 0) + 38 * (c - 1));
    setLimb(o, i, v - (c << 16));
  }
}

/** Swap p and q when b is 1, in constant time. */
function select(p: usize, q: usize, b: i64): void {
  const c = ~(b - 1);
  for (let i = 0; i < 16; i++) {
    const t = c & (limb(p, i) ^ limb(q, i));
    setLimb(p, i, limb(p, i) ^ t);
    setLimb(q, i, limb(q, i) ^ t);
  }
}

const PACK_T: usize = memory.data(128, 8);
const PACK_M: usize = memory.data(128, 8);

/** The canonical 32-byte little-endian encoding of a field element. */
function pack25519(o: usize, n: usize): void {
  const t = PACK_T, m = PACK_M;
  set(t, n);
  carry(t); carry(t); carry(t);
  for (let j = 0; j < 2; j++) {
    setLimb(m, 0, limb(t, 0) - 0xffed);
    for (let i = 1; i < 15; i++) {
      setLimb(m, i, limb(t, i) - 0xffff - ((limb(m, i - 1) >> 16) & 1));
      setLimb(m, i - 1, limb(m, i - 1) & 0xffff);
    }
    setLimb(m, 15, limb(t, 15) - 0x7fff - ((limb(m, 14) >> 16) & 1));
    const b = (limb(m, 15) >> 16) & 1;
    setLimb(m, 14, limb(m, 14) & 0xffff);
    select(t, m, 1 - b);
  }
  for (let i = 0; i < 16; i++) {
    store<u8>(o + <usize>(2 * i), <u8>(limb(t, i) & 0xff));
    store<u8>(o + <usize>(2 * i + 1), <u8>(limb(t, i) >> 8));
  }
}

function bytesEqual32(a: usize, b: usize): bool {
  let d: u32 = 0;
  for (let i: usize = 0; i < 32; i++) d |= <u32>(load<u8>(a + i) ^ load<u8>(b + i));
  return d == 0;
}

const NEQ_A: usize = memory.data(32);
const NEQ_B: usize = memory.data(32);

function neq25519(a: usize, b: usize): bool {
  pack25519(NEQ_A, a);
  pack25519(NEQ_B, b);
  return !bytesEqual32(NEQ_A, NEQ_B);
}

const PAR_D: usize = memory.data(32);

function par25519(a: usize): i64 {
  pack25519(PAR_D, a);
  return <i64>(load<u8>(PAR_D) & 1);
}

function unpack25519(o: usize, n: usize): void {
  for (let i = 0; i < 16; i++) setLimb(o, i, <i64>load<u8>(n + <usize>(2 * i)) + (<i64>load<u8>(n + <usize>(2 * i + 1)) << 8));
  setLimb(o, 15, limb(o, 15) & 0x7fff);
}

function add(o: usize, a: usize, b: usize): void { for (let i = 0; i < 16; i++) setLimb(o, i, limb(a, i) + limb(b, i)); }
function sub(o: usize, a: usize, b: usize): void { for (let i = 0; i < 16; i++) setLimb(o, i, limb(a, i) - limb(b, i)); }

const MUL_T: usize = memory.data(31 * 8, 8);

function mul(o: usize, a: usize, b: usize): void {
  const t = MUL_T;
  memory.fill(t, 0, 31 * 8);
  for (let i = 0; i < 16; i++) {
    const ai = limb(a, i);
    for (let j = 0; j < 16; j++) setLimb(t, i + j, limb(t, i + j) + ai * limb(b, j));
  }
  for (let i = 0; i < 15; i++) setLimb(t, i, limb(t, i) + 38 * limb(t, i + 16));
  memory.copy(o, t, GF);
  carry(o); carry(o);
}

function square(o: usize, a: usize): void { mul(o, a, a); }

const INV_C: usize = memory.data(128, 8);

function inv25519(o: usize, i: usize): void {
  const c = INV_C;
  set(c, i);
  for (let a = 253; a >= 0; a--) {
    square(c, c);
    if (a != 2 && a != 4) mul(c, c, i);
  }
  set(o, c);
}

const POW_C: usize = memory.data(128, 8);

function pow2523(o: usize, i: usize): void {
  const c = POW_C;
  set(c, i);
  for (let a = 250; a >= 0; a--) {
    square(c, c);
    if (a != 1) mul(c, c, i);
  }
  set(o, c);
}

const ADD_TMP: usize = memory.data(9 * 128, 8);

/** p := p + q (extended coordinates). */
function pointAdd(p: usize, q: usize): void {
  const a = ADD_TMP, b = a + GF, c = b + GF, d = c + GF, t = d + GF, e = t + GF, f = e + GF, g = f + GF, h = g + GF;
  sub(a, p + GF, p); sub(t, q + GF, q); mul(a, a, t);
  add(b, p, p + GF); add(t, q, q + GF); mul(b, b, t);
  mul(c, p + 3 * GF, q + 3 * GF); mul(c, c, D2);
  mul(d, p + 2 * GF, q + 2 * GF); add(d, d, d);
  sub(e, b, a); sub(f, d, c); add(g, d, c); add(h, b, a);
  mul(p, e, f); mul(p + GF, h, g); mul(p + 2 * GF, g, f); mul(p + 3 * GF, e, h);
}

function pointSwap(p: usize, q: usize, b: i64): void {
  for (let i: usize = 0; i < 4; i++) select(p + i * GF, q + i * GF, b);
}

const PACK_TX: usize = memory.data(128, 8);
const PACK_TY: usize = memory.data(128, 8);
const PACK_ZI: usize = memory.data(128, 8);

function pointPack(r: usize, p: usize): void {
  inv25519(PACK_ZI, p + 2 * GF);
  mul(PACK_TX, p, PACK_ZI);
  mul(PACK_TY, p + GF, PACK_ZI);
  pack25519(r, PACK_TY);
  store<u8>(r + 31, load<u8>(r + 31) ^ <u8>(par25519(PACK_TX) << 7));
}

/** p := s * q for the 32-byte little-endian scalar at `s` (q is clobbered). */
function scalarMult(p: usize, q: usize, s: usize): void {
  set(p, GF0); set(p + GF, GF1); set(p + 2 * GF, GF1); set(p + 3 * GF, GF0);
  for (let i = 255; i >= 0; i--) {
    const b = <i64>((load<u8>(s + <usize>(i >> 3)) >> <u8>(i & 7)) & 1);
    pointSwap(p, q, b);
    pointAdd(q, p);
    pointAdd(p, p);
    pointSwap(p, q, b);
  }
}

const BASE_Q: usize = memory.data(512, 8);

function scalarBase(p: usize, s: usize): void {
  const q = BASE_Q;
  set(q, BX); set(q + GF, BY); set(q + 2 * GF, GF1); mul(q + 3 * GF, BX, BY);
  scalarMult(p, q, s);
}

const MODL_X: usize = memory.data(64 * 8, 8);

/** r := the 64-byte little-endian number at `r` reduced mod L (32 bytes). */
function reduce(r: usize): void {
  const x = MODL_X;
  for (let i = 0; i < 64; i++) setLimb(x, i, <i64>load<u8>(r + <usize>i));
  memory.fill(r, 0, 64);
  for (let i = 63; i >= 32; i--) {
    let c: i64 = 0;
    let j = i - 32;
    for (; j < i - 12; j++) {
      const v = limb(x, j) + c - 16 * limb(x, i) * limb(L, j - (i - 32));
      c = (v + 128) >> 8;
      setLimb(x, j, v - (c << 8));
    }
    setLimb(x, j, limb(x, j) + c);
    setLimb(x, i, 0);
  }
  let c: i64 = 0;
  for (let j = 0; j < 32; j++) {
    const v = limb(x, j) + c - (limb(x, 31) >> 4) * limb(L, j);
    c = v >> 8;
    setLimb(x, j, v & 255);
  }
  for (let j = 0; j < 32; j++) setLimb(x, j, limb(x, j) - c * limb(L, j));
  for (let i = 0; i < 32; i++) {
    setLimb(x, i + 1, limb(x, i + 1) + (limb(x, i) >> 8));
    store<u8>(r + <usize>i, <u8>(limb(x, i) & 255));
  }
}

const UN_T: usize = memory.data(7 * 128, 8);

/** r := -P for the encoded point P at `p`; false when `p` is not a point. */
function unpackNeg(r: usize, p: usize): bool {
  const t = UN_T, chk = t + GF, num = chk + GF, den = num + GF, den2 = den + GF, den4 = den2 + GF, den6 = den4 + GF;
  set(r + 2 * GF, GF1);
  unpack25519(r + GF, p);
  square(num, r + GF);
  mul(den, num, D);
  sub(num, num, r + 2 * GF);
  add(den, r + 2 * GF, den);
  square(den2, den);
  square(den4, den2);
  mul(den6, den4, den2);
  mul(t, den6, num);
  mul(t, t, den);
  pow2523(t, t);
  mul(t, t, num);
  mul(t, t, den);
  mul(t, t, den);
  mul(r, t, den);
  square(chk, r);
  mul(chk, chk, den);
  if (neq25519(chk, num)) mul(r, r, SQRTM1);
  square(chk, r);
  mul(chk, chk, den);
  if (neq25519(chk, num)) return false;
  if (par25519(r) == <i64>(load<u8>(p + 31) >> 7)) sub(r, GF0, r);
  mul(r + 3 * GF, r, r + GF);
  return true;
}

/** True when the 32 little-endian bytes at `p` are a canonical field element encoding (y < 2^255 - 19). */
function canonicalY(p: usize): bool {
  // y >= p exactly when the low 255 bits are 2^255 - 19 .. 2^255 - 1: bytes 1..30 all 0xff,
  // byte 31 (sign bit cleared) 0x7f and byte 0 at least 0xed.
  if ((load<u8>(p + 31) & 0x7f) != 0x7f) return true;
  for (let i: usize = 1; i < 31; i++) if (load<u8>(p + i) != 0xff) return true;
  return load<u8>(p) < 0xed;
}

/** True when the 32 little-endian bytes at `s` are below L. */
function scalarBelowL(s: usize): bool {
  for (let i = 31; i >= 0; i--) {
    const a = <i64>load<u8>(s + <usize>i), b = limb(L, i);
    if (a < b) return true;
    if (a > b) return false;
  }
  return false; // equal to L
}

const P: usize = memory.data(512, 8);
const Q: usize = memory.data(512, 8);
const HASH: usize = memory.data(64);
const CHECK: usize = memory.data(32);

/**
 * Verify the 64-byte Ed25519 signature at `sig` over `msgLen` bytes at `msg` with the 32-byte
 * public key at `pk`. Strict: S >= L, a non-canonical key or R, or a key that is not a point fail.
 */
export function ed25519Verify(pk: usize, sig: usize, msg: usize, msgLen: usize): bool {
  if (!scalarBelowL(sig + 32)) return false;
  if (!canonicalY(pk) || !canonicalY(sig)) return false;
  if (!unpackNeg(Q, pk)) return false;
  sha512Init();
  sha512Update(sig, 32);
  sha512Update(pk, 32);
  sha512Update(msg, msgLen);
  sha512Final(HASH);
  reduce(HASH);
  scalarMult(P, Q, HASH);
  scalarBase(Q, sig + 32);
  pointAdd(P, Q);
  pointPack(CHECK, P);
  return bytesEqual32(CHECK, sig);
}
