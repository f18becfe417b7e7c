// Smoke entry: compiles the shared engine utilities on their own (used by engine/testing tests).
import { arenaAlloc, arenaReset } from "../arena";
import { outReset, outI64, outLen, outJsonString, outPtr } from "../out";
export function smoke(v: i64): u32 { arenaReset(); const p = arenaAlloc(4); store<u8>(p, 0x61); outReset(); outI64(v); outJsonString(p, 1); return <u32>outLen(); }
export function smokePtr(): usize { return outPtr(); }
