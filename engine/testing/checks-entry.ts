// Test entry for the field checks: exposes engine/url.ts and engine/checks.ts over a scratch input
// buffer so vitest can drive them (engine/url.test.ts, engine/checks.test.ts).
import { arenaReset } from "../arena";
import { urlParse, urlHostLen, urlHostPtr, urlPortLen, urlPortPtr, urlSchemeLen, urlSchemePtr } from "../url";
import { isIban, isLuhn, isIp, cidrContains } from "../checks";

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
