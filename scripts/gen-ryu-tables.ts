// Generator: the power-of-five tables of the Ryu double formatter (engine/record/ryu.ts), computed
// with BigInt, -> engine/record/ryu-tables.ts (AssemblyScript). Ryu's "small table" variant: instead
// of all 668 128-bit multipliers (10.7 KB) the engine keeps every 26th one, the powers 5^0..5^25,
// and a 2-bit correction per exponent; ryu.ts rebuilds any multiplier with one 64x128-bit product.
// The corrections are found here by running that exact reconstruction in BigInt, so this file is
// the one source of truth for both the exact values and what the engine computes from them.
// `--check` writes nothing and exits 1 when the generated file is stale (a test does the same).
//
// Definitions (Ryu, Adams 2018, d2s_full_table.h), with B = 125 bits of precision:
//   POW5(i)     = floor(5^i / 2^(bitlen(5^i) - B))           i in [0, 325]  (binary exponent < 0)
//   POW5_INV(i) = floor(2^(bitlen(5^i) - 1 + B) / 5^i) + 1    i in [0, 290]  (binary exponent >= 0)
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Path of the generated file, relative to the repo root. */
export const RYU_TABLES_PATH = "engine/record/ryu-tables.ts";

/** Bits of precision of every multiplier. */
export const POW5_BITCOUNT = 125;
/** Powers 5^0 .. 5^(STEP-1) are kept; every STEP-th multiplier is stored whole. */
export const STEP = 26;
/** Largest i for which ryu.ts asks for POW5(i): 1076 (the smallest binary exponent) - 751. */
export const POW5_MAX = 325;
/** Largest i for which ryu.ts asks for POW5_INV(i): log10(2^969) - 1. */
export const POW5_INV_MAX = 290;

const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

/** Ryu's pow5bits: bitlen(5^e) for e >= 1 (and 1 for e = 0), by a fixed-point log2(5). */
export function pow5bits(e: number): number {
  return Math.floor((e * 1217359) / 2 ** 19) + 1;
}

/** The exact 125-bit multiplier for 5^i. */
export function pow5(i: number): bigint {
  const p = 5n ** BigInt(i);
  const shift = bitLength(p) - POW5_BITCOUNT;
  return shift >= 0 ? p >> BigInt(shift) : p << BigInt(-shift);
}

/** The exact 125-bit multiplier for 5^-i (rounded up). */
export function pow5Inv(i: number): bigint {
  const p = 5n ** BigInt(i);
  return (1n << BigInt(bitLength(p) - 1 + POW5_BITCOUNT)) / p + 1n;
}

/** What ryu.ts computes for POW5(i) before adding the correction (mirrors computePow5). */
export function pow5Approx(i: number): bigint {
  const base2 = Math.floor(i / STEP) * STEP;
  const offset = i - base2;
  if (offset === 0) return pow5(i);
  const delta = pow5bits(i) - pow5bits(base2);
  return ((5n ** BigInt(offset) * pow5(base2)) >> BigInt(delta)) & MASK128;
}

/** What ryu.ts computes for POW5_INV(i) before adding the correction (mirrors computeInvPow5). */
export function pow5InvApprox(i: number): bigint {
  const base2 = Math.ceil(i / STEP) * STEP;
  const offset = base2 - i;
  if (offset === 0) return pow5Inv(i);
  const delta = pow5bits(base2) - pow5bits(i);
  // The stored multiplier is floor(...) + 1; the product uses the floor so it never overshoots.
  return (((5n ** BigInt(offset) * (pow5Inv(base2) - 1n)) >> BigInt(delta)) & MASK128) + 1n;
}

/** 2-bit corrections `exact - approx`, 16 per u32, lowest bits first. */
function corrections(max: number, exact: (i: number) => bigint, approx: (i: number) => bigint): number[] {
  const words: number[] = [];
  for (let i = 0; i <= max; i++) {
    const c = exact(i) - approx(i);
    if (c < 0n || c > 3n) throw new Error(`ryu tables: correction ${c} for i = ${i} does not fit in 2 bits`);
    const w = i >> 4;
    words[w] = ((words[w] ?? 0) | (Number(c) << ((i & 15) * 2))) >>> 0;
  }
  return words;
}

function hex64(n: bigint): string {
  return "0x" + (n & MASK64).toString(16).padStart(16, "0");
}

function hex32(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

/** Lines of `perLine` items each, indented two spaces, every item followed by a comma. */
function rows(items: string[], perLine: number): string {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += perLine) out.push("  " + items.slice(i, i + perLine).join(", ") + ",");
  return out.join("\n");
}

/** The text of engine/record/ryu-tables.ts. */
export function ryuTablesSource(): string {
  const pow5Table = Array.from({ length: STEP }, (_, i) => hex64(5n ** BigInt(i)));
  const split = (v: bigint): string[] => [hex64(v), hex64(v >> 64n)];
  const pos: string[] = [];
  for (let b = 0; b * STEP <= POW5_MAX; b++) pos.push(...split(pow5(b * STEP)));
  const inv: string[] = [];
  for (let b = 0; (b - 1) * STEP < POW5_INV_MAX; b++) inv.push(...split(pow5Inv(b * STEP)));
  const posOffsets = corrections(POW5_MAX, pow5, pow5Approx).map(hex32);
  const invOffsets = corrections(POW5_INV_MAX, pow5Inv, pow5InvApprox).map(hex32);
  return `// GENERATED by scripts/gen-ryu-tables.ts (BigInt). Do not edit; run \`tsx scripts/gen-ryu-tables.ts\`.
// Engine data for engine/record/ryu.ts: Ryu's small tables (${POW5_BITCOUNT}-bit multipliers for powers of
// five, every ${STEP}th stored as (low, high) u64 words, rebuilt in between from 5^0..5^${STEP - 1} and a
// 2-bit correction per exponent, 16 corrections per u32, lowest bits first).

/** 5^i for i in [0, ${STEP - 1}]. */
export const POW5_TABLE: StaticArray<u64> = [
${rows(pow5Table, 4)}
];

/** POW5(${STEP}b) for b = 0, 1, ...: low word at 2b, high word at 2b + 1. */
export const POW5_SPLIT2: StaticArray<u64> = [
${rows(pos, 2)}
];

/** POW5_INV(${STEP}b) for b = 0, 1, ...: low word at 2b, high word at 2b + 1. */
export const POW5_INV_SPLIT2: StaticArray<u64> = [
${rows(inv, 2)}
];

/** Corrections for POW5(i), i in [0, ${POW5_MAX}]. */
export const POW5_OFFSETS: StaticArray<u32> = [
${rows(posOffsets, 6)}
];

/** Corrections for POW5_INV(i), i in [0, ${POW5_INV_MAX}]. */
export const POW5_INV_OFFSETS: StaticArray<u32> = [
${rows(invOffsets, 6)}
];
`;
}

const thisScript = fileURLToPath(import.meta.url);
if (process.argv[1] && resolve(process.argv[1]) === thisScript) {
  const file = join(root, RYU_TABLES_PATH);
  const text = ryuTablesSource();
  if (process.argv.includes("--check")) {
    let current = "";
    try { current = readFileSync(file, "utf8"); } catch { /* missing counts as stale */ }
    if (current !== text) {
      console.error(`${RYU_TABLES_PATH} is stale: run \`tsx scripts/gen-ryu-tables.ts\``);
      process.exit(1);
    }
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${RYU_TABLES_PATH}`);
  }
}
