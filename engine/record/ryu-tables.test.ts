// The generated Ryu tables (engine/record/ryu-tables.ts) are up to date with their generator, and
// every 125-bit multiplier the AssemblyScript formatter rebuilds from them (engine/record/ryu.ts)
// equals Ryu's exact definition computed here with BigInt.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { POW5_INV_MAX, POW5_MAX, RYU_TABLES_PATH, pow5, pow5Inv, ryuTablesSource } from "../../scripts/gen-ryu-tables.ts";
import { loadRecordTestModule, type RecordTestExports } from "./test-module.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");

let x: RecordTestExports;

beforeAll(async () => {
  x = await loadRecordTestModule();
});

describe("ryu tables", () => {
  it("are up to date (run `tsx scripts/gen-ryu-tables.ts`)", () => {
    expect(readFileSync(path.join(repoRoot, RYU_TABLES_PATH), "utf8")).toBe(ryuTablesSource());
  });

  it("rebuild every multiplier exactly", () => {
    const wrong: string[] = [];
    for (const [inverse, max, exact] of [[0, POW5_MAX, pow5], [1, POW5_INV_MAX, pow5Inv]] as const) {
      for (let i = 0; i <= max; i++) {
        x.multiplier(i, inverse);
        const got = (BigInt.asUintN(64, x.multiplier_high()) << 64n) | BigInt.asUintN(64, x.multiplier_low());
        if (got !== exact(i)) wrong.push(`${inverse ? "5^-" : "5^"}${i}: want ${exact(i).toString(16)}, got ${got.toString(16)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
