// Test entry for the field checks: exposes engine/url.ts, engine/checks.ts and the IDNA table
// lookups of engine/idna.ts over a scratch input buffer so vitest can drive them
// (engine/url.test.ts, engine/checks.test.ts).
import { arenaReset } from "../arena";
import { urlParse, urlHostLen, urlHostPtr, urlPortLen, urlPortPtr, urlSchemeLen, urlSchemePtr } from "../url";
import { isIban, isLuhn, isIp, cidrContains } from "../checks";
import { mapCodePoint, cccRank, markTag, bidiClass, joiningType, decompose, compose } from "../idna";

let input: usize = 0;
let inputCap: usize = 0;

/** Ensure the input buffer holds `cap` bytes; returns its address. */
export function inputPtr(cap: u32): usize {
  if (<usize>cap > inputCap) {
    inputCap = <usize>cap + 64;
    input = heap.alloc(inputCap);
  }
  return input;
}

export function testUrlParse(len: u32): bool { arenaReset(); return urlParse(input, len); }
export function testUrlHostPtr(): usize { return urlHostPtr(); }
export function testUrlHostLen(): u32 { return urlHostLen(); }
export function testUrlSchemePtr(): usize { return urlSchemePtr(); }
export function testUrlSchemeLen(): u32 { return urlSchemeLen(); }
export function testUrlPortPtr(): usize { return urlPortPtr(); }
export function testUrlPortLen(): u32 { return urlPortLen(); }
export function testIsIban(len: u32): bool { arenaReset(); return isIban(input, len); }
export function testIsLuhn(len: u32): bool { arenaReset(); return isLuhn(input, len); }
export function testIsIp(len: u32): bool { arenaReset(); return isIp(input, len); }
/** The input holds the cidr bytes then the ip bytes. */
export function testCidrContains(cidrLen: u32, ipLen: u32): i32 { arenaReset(); return cidrContains(input, cidrLen, input + cidrLen, ipLen); }

/** IDNA table lookups, one code point at a time; code point outputs go to the input buffer (>= 1 KB). */
export function testIdnaMap(cp: u32): i32 { return mapCodePoint(cp, input); }
export function testIdnaCccRank(cp: u32): u32 { return cccRank(cp); }
export function testIdnaMarkTag(cp: u32): u32 { return markTag(cp); }
export function testIdnaBidiClass(cp: u32): u32 { return bidiClass(cp); }
export function testIdnaJoiningType(cp: u32): u32 { return joiningType(cp); }
export function testIdnaDecompose(cp: u32): i32 { return decompose(cp, input, 0, 0); }
export function testIdnaCompose(a: u32, b: u32): u32 { return compose(a, b); }
