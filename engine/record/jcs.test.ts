// The AssemblyScript canonical JSON writer (engine/record/jcs.ts) and number formatter
// (engine/record/ryu.ts), run from build/record-test/record-test.wasm. Oracles: the RFC 8785 test
// data (cyberphone/json-canonicalization: es6testfile10k.txt and input/ -> output/ pairs),
// JavaScript's String(number), and telemetry/jcs.ts canonicalize (the JS hosts' writer) on random
// JSON values spelled in random ways.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { canonicalize } from "../../telemetry/jcs.ts";
import { loadRecordTestModule, type RecordTestExports } from "./test-module.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const jcsData = path.resolve(repoRoot, "../shared/testdata/jcs");

let x: RecordTestExports;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

beforeAll(async () => {
  x = await loadRecordTestModule();
});

function result(): string {
  return decoder.decode(new Uint8Array(x.memory.buffer, x.result_ptr(), x.result_len()));
}

function formatDouble(value: number): string {
  x.format_double(value);
  return result();
}

/** JCS of JSON text through the engine's reader and the AS writer; `code` -1: the reader rejected it. */
function canonical(text: string | Uint8Array): { code: number; text: string } {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const ptr = x.input_ptr(bytes.length);
  new Uint8Array(x.memory.buffer).set(bytes, ptr);
  const code = x.jcs(bytes.length);
  return { code, text: code === 0 ? result() : "" };
}

function doubleFromBits(bits: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
}

describe("number formatting (ECMAScript Number::toString)", () => {
  it("writes every double of es6testfile10k.txt as expected", () => {
    const lines = readFileSync(path.join(jcsData, "es6testfile10k.txt"), "utf8").split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(10_000);
    const wrong: string[] = [];
    for (const line of lines) {
      const [hex, want] = line.split(",");
      const got = formatDouble(doubleFromBits(BigInt("0x" + hex)));
      if (got !== want) wrong.push(`${hex}: want ${want}, got ${got}`);
    }
    expect(wrong.slice(0, 20)).toEqual([]);
  });

  it("agrees with String(x) at the layout boundaries", () => {
    const values: number[] = [0, -0, 1, -1, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, Number.MAX_VALUE,
      Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 123e18, 1e21, 999999999999999900000, 1e-6, 1e-7,
      0.000001234, 1.234e-7, 0.1, 0.2, 0.30000000000000004, 1 / 3, 4.35, 0.3, 9007199254740993, 1.5e300];
    for (let e = -324; e <= 308; e++) values.push(Number(`1e${e}`), Number(`9.999999999999999e${e}`), Number(`1.7976931348623157e${Math.min(e, 308)}`));
    for (let i = 0; i < 64; i++) values.push(2 ** i, 2 ** -i, 2 ** (i * 16), 2 ** -(i * 16) , 10 ** i + 1);
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      expect(formatDouble(v), String(v)).toBe(String(v));
      expect(formatDouble(-v), String(-v)).toBe(String(-v));
    }
  });

  it("agrees with String(x) for random doubles and random bit patterns", () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
      expect(formatDouble(v)).toBe(String(v));
    }), { numRuns: 20_000 });
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (bits) => {
      const v = doubleFromBits(bits);
      if (!Number.isFinite(v)) return;
      expect(formatDouble(v)).toBe(String(v));
    }), { numRuns: 20_000 });
  });

  it("reads the shortest spelling back as the same double", () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
      expect(Object.is(Number(formatDouble(v)), v === 0 ? 0 : v)).toBe(true);
    }), { numRuns: 5_000 });
  });
});

describe("canonical JSON (RFC 8785) over the engine's tape", () => {
  it("turns every input/*.json of the RFC 8785 test data into its output/*.json bytes", () => {
    const names = readdirSync(path.join(jcsData, "input")).filter((n) => n.endsWith(".json")).sort();
    expect(names.length).toBeGreaterThanOrEqual(6);
    for (const name of names) {
      const got = canonical(readFileSync(path.join(jcsData, "input", name)));
      expect(got.code, name).toBe(0);
      const want = readFileSync(path.join(jcsData, "output", name));
      expect(Buffer.from(encoder.encode(got.text)).equals(want), `${name}: ${got.text}`).toBe(true);
    }
  });

  it("escapes strings exactly as JSON.stringify does", () => {
    const all = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(i)).join("") + "\u0080\u00ff\u2028\u2029\ufeff\uffff\u{10ffff}😀";
    const text = JSON.stringify({ [all]: all });
    expect(canonical(text).text).toBe(text);
  });

  it("sorts keys by UTF-16 code units: surrogate pairs before U+E000..U+FFFF", () => {
    const keys = ["\ue000", "\u{10000}", "\uffff", "\u{10ffff}", "\ud7ff", "a", "", "aa", "\u00e9", "\u{1f600}", "\ufb33"];
    const value = Object.fromEntries(keys.map((k, i) => [k, i]));
    const got = canonical(JSON.stringify(value));
    expect(got.text).toBe(canonicalize(value));
    const order = Object.keys(JSON.parse(got.text) as object);
    expect(order.indexOf("\u{10ffff}")).toBeLessThan(order.indexOf("\ue000"));
  });

  it("sorts objects with many keys (merge sort path)", () => {
    const value: Record<string, number> = {};
    // Same prefixes, then a surrogate pair or a character above U+E000: UTF-8 byte order would differ.
    for (let i = 0; i < 500; i++) value[`k${Math.floor(i / 2) % 10}${i % 2 ? "\u{1f600}" : "\uffee"}${i}`] = i;
    expect(canonical(JSON.stringify(value)).text).toBe(canonicalize(value));
  });

  it("rejects numbers that are not finite doubles, as telemetry/jcs.ts does", () => {
    expect(canonical("[1e400]").code).toBe(1);
    expect(canonical('{"a":-1e400}').code).toBe(1);
    expect(() => canonicalize(JSON.parse("[1e400]"))).toThrow();
    expect(canonical("[1e308, 1e-400, -0]").text).toBe("[1e+308,0,0]");
  });

  // Keys and strings mixing the code points where UTF-8 and UTF-16 orders differ, and the ones
  // JSON escapes.
  const tricky = fc.constantFrom("a", "b", "\u00e9", "\u2028", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{1f600}",
    "\u{10ffff}", "\u0000", "\u001f", "\u007f", '"', "\\", "/", "\n");
  const unit = fc.oneof(tricky, fc.string({ unit: "binary", minLength: 1, maxLength: 1 }));
  const jsonValue = fc.jsonValue({ maxDepth: 5, stringUnit: unit });

  /** JSON text of `v` with numbers spelled in one of several ways and random whitespace. */
  function spell(v: unknown, style: number, ws: string): string {
    if (typeof v === "number") {
      switch (style % 4) {
        case 0: return String(v);
        case 1: return v.toExponential().replace("e", "E");
        case 2: return Object.is(v, -0) ? "-0.000" : v.toPrecision(21).replace("e+", "e");
        default: return Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.000e0` : String(v);
      }
    }
    if (Array.isArray(v)) return `[${ws}${v.map((e) => spell(e, style + 1, ws)).join(`,${ws}`)}]`;
    if (v !== null && typeof v === "object") {
      return `{${ws}${Object.entries(v).map(([k, e]) => `${JSON.stringify(k)}${ws}:${spell(e, style + 1, ws)}`).join(`,${ws}`)}${ws}}`;
    }
    return JSON.stringify(v);
  }

  it("equals telemetry/jcs.ts canonicalize for random JSON (fast-check)", () => {
    fc.assert(fc.property(jsonValue, fc.nat(3), fc.constantFrom("", " ", "\n\t "), (value, style, ws) => {
      const text = spell(value, style, ws);
      const got = canonical(text);
      expect(got.code).toBe(0); // unique keys, shallow: the engine's reader accepts every one
      expect(got.text).toBe(canonicalize(JSON.parse(text)));
    }), { numRuns: 1_500 });
  });
});
