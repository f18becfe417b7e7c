// Tests for the fast-path encoder (bindings/node/encode.ts) against the engine's own tape checks
// (engine/request.ts validateTape, through engine/testing/json-entry.ts): every tape the encoder
// writes is accepted and reads back as JSON.parse(JSON.stringify(value)); every value it declines
// is one the JSON path must decide; corrupted tapes never trap the engine.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { compileAssemblyScript } from "../../engine/testing/compile.ts";
import { TapeEncoder, readTapeValue } from "./encode.ts";

interface Entry {
  memory: WebAssembly.Memory;
  tape_ptr(cap: number): number;
  input_ptr(cap: number): number;
  validate_tape(root: number, used: number): number;
  parse_request(len: number): number;
  output_ptr(): number;
  output_len(): number;
}

let x: Entry;
let encoder: TapeEncoder;
const deep = process.env.AEGIS_DEEP === "1";
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

beforeAll(async () => {
  x = (await compileAssemblyScript("engine/testing/json-entry.ts")).exports as unknown as Entry;
  encoder = new TapeEncoder(x);
});

function output(): string {
  return textDecoder.decode(new Uint8Array(x.memory.buffer, x.output_ptr(), x.output_len()));
}

/** Encode, validate in the engine, read back. */
function roundTrip(value: unknown): { encoded: boolean; code?: number; back?: unknown; error?: string } {
  if (!encoder.encode(value)) return { encoded: false };
  const code = x.validate_tape(encoder.root, encoder.used);
  if (code !== 0) return { encoded: true, code, error: output() };
  const base = x.tape_ptr(0);
  return { encoded: true, code, back: readTapeValue(x.memory.buffer, base + encoder.root) };
}

/** The canonical path's verdict on the same value: parse + shape check of JSON.stringify(value). */
function jsonPath(value: unknown): { code: number; error?: string } {
  const bytes = textEncoder.encode(JSON.stringify(value));
  const ptr = x.input_ptr(bytes.length);
  new Uint8Array(x.memory.buffer).set(bytes, ptr);
  const code = x.parse_request(bytes.length);
  return code === 0 ? { code } : { code, error: output() };
}

const jsonText = fc.string({ unit: "grapheme" });
const scalar = fc.oneof(jsonText, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.integer());
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: "small" }, scalar, fc.array(tie("tree"), { maxLength: 4 }), fc.dictionary(jsonText, tie("tree"), { maxKeys: 4 })),
}));
const request = fc.record(
  {
    agent: fc.record({ id: fc.string({ minLength: 1 }), tenant: fc.string(), scopes: fc.array(fc.string(), { maxLength: 3 }) }, { requiredKeys: ["id"] }),
    tool: fc.string({ minLength: 1 }),
    action: fc.string({ minLength: 1 }),
    params: fc.dictionary(jsonText, tree, { maxKeys: 6 }),
    context: fc.dictionary(jsonText, tree, { maxKeys: 3 }),
  },
  { requiredKeys: ["agent", "tool", "action"] },
);

describe("TapeEncoder", () => {
  it("writes requests the engine accepts and reads back as JSON.parse(JSON.stringify(value))", () => {
    fc.assert(
      fc.property(request, (value) => {
        const result = roundTrip(value);
        expect(result.encoded).toBe(true);
        expect(result.error).toBeUndefined();
        expect(result.back).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: deep ? 5000 : 500 },
    );
  });

  it("agrees with the JSON path on the request shape", () => {
    const anything = fc.oneof(request, fc.dictionary(fc.constantFrom("agent", "tool", "action", "params", "context", "override_token", "x"), tree));
    fc.assert(
      fc.property(anything, (value) => {
        const fast = roundTrip(value);
        const canonical = jsonPath(value);
        expect(fast.encoded).toBe(true);
        expect(fast.code).toBe(canonical.code);
        expect(fast.error).toBe(canonical.error);
      }),
      { numRuns: deep ? 5000 : 500 },
    );
  });

  it("writes Unicode strings with correct lengths and code point counts", () => {
    const value = { agent: { id: "\u00e9\ud83d\ude00\u4e2d" }, tool: "t", action: "a", params: { "k\u00e9y": "\u0000\n\"\\", "\ud83d\ude00": [1.5, -0, 1e300] } };
    expect(roundTrip(value)).toEqual({ encoded: true, code: 0, back: JSON.parse(JSON.stringify(value)) });
  });

  it("omits members JSON.stringify omits", () => {
    const value = { agent: { id: "a", tenant: undefined }, tool: "t", action: "a", params: { f: () => 1, s: Symbol("s"), ok: 1 } };
    expect(roundTrip(value).back).toEqual({ agent: { id: "a" }, tool: "t", action: "a", params: { ok: 1 } });
  });

  it("declines values the JSON path must decide", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let nested: unknown = 1;
    for (let i = 0; i < 70; i++) nested = [nested];
    const declined = [
      undefined, () => 1, Symbol("x"), 1n, { a: 1n }, { a: NaN }, { a: Infinity }, { a: [1, undefined] },
      { a: [1, , 3] }, { a: new Date(0) }, { a: new Map() }, { toJSON: () => ({}) }, { a: "\ud800" },
      { a: "x\udc00" }, { "\ud800": 1 }, cyclic, nested, { a: Array.from({ length: 200001 }, () => 0) },
      { a: "x".repeat(1048576) }, { a: new (class Point { x = 1 })() },
    ];
    for (const value of declined) expect(roundTrip(value).encoded, String(value)).toBe(false);
    // just inside the limits
    let ok: unknown = 1;
    for (let i = 0; i < 63; i++) ok = [ok];
    expect(roundTrip({ a: ok }).encoded).toBe(true);
    expect(roundTrip(Object.assign(Object.create(null), { a: 1 })).encoded).toBe(true);
  });

  it("keeps JSON.stringify's member order (integer-like keys first) at every depth", () => {
    const value = { agent: { id: "a" }, tool: "t", action: "a", params: { b: 1, 2: "x", a: { z: 1, 10: 2, y: [{ q: 1, 0: 0 }] }, 1: "y" } };
    const result = roundTrip(value);
    const want = JSON.parse(JSON.stringify(value));
    expect(JSON.stringify(result.back)).toBe(JSON.stringify(want)); // same text: same key order
  });

  it("declines every object while Object.prototype has an enumerable property", () => {
    const value = { agent: { id: "a" }, tool: "t", action: "a" };
    (Object.prototype as Record<string, unknown>).polluted = 1;
    try {
      expect(roundTrip(value).encoded).toBe(false);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(roundTrip(value).encoded).toBe(true);
  });

  it("counts the commas between members when bounding the JSON size", () => {
    // 78,000 members `"kNNNNN":null,` serialize to about 1.09 MB, over MAX_REQUEST_BYTES: the
    // JSON path rejects it, so the fast path must decline it too (without the commas its bound
    // would be about 1.01 MB and it would accept).
    const params: Record<string, null> = {};
    for (let i = 10000; i < 88000; i++) params[`k${i}`] = null;
    const value = { agent: { id: "a" }, tool: "t", action: "a", params };
    expect(JSON.stringify(value).length).toBeGreaterThan(1048576);
    expect(roundTrip(value).encoded).toBe(false);
    expect(jsonPath(value).code).toBe(200);
  });

  it("grows the tape region and retries", () => {
    const big = { agent: { id: "a" }, tool: "t", action: "a", params: { list: Array.from({ length: 20000 }, (_, i) => ({ i, s: "v" + i })) } };
    const result = roundTrip(big);
    expect(result.code).toBe(0);
    expect(result.back).toEqual(big);
  });

  it("never traps the engine on corrupted tapes", () => {
    const value = { agent: { id: "a", scopes: ["x", "y"] }, tool: "t", action: "a", params: { a: [1, "s", { b: null }], c: "\u00e9" } };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }), fc.nat(), (edits, rootShift) => {
        expect(encoder.encode(value)).toBe(true);
        const base = x.tape_ptr(0);
        const mem = new Uint8Array(x.memory.buffer);
        for (const [at, byte] of edits) mem[base + (at % encoder.used)] = byte;
        const root = rootShift % 7 === 0 ? rootShift % (encoder.used + 64) : encoder.root;
        const code = x.validate_tape(root, encoder.used);
        expect([0, 202, 203, 204, 205, 206]).toContain(code);
        if (code === 0) readTapeValue(x.memory.buffer, base + root); // consistent enough to read back
      }),
      { numRuns: deep ? 20000 : 2000 },
    );
  });

  it("rejects roots and sizes outside the tape or memory without trapping", () => {
    expect(encoder.encode({ agent: { id: "a" }, tool: "t", action: "a" })).toBe(true);
    for (const [root, used] of [[0, 0], [encoder.used, encoder.used], [2, encoder.used], [0, 0xfffffff0], [0xffffff00, 0xfffffff0], [0xfffffff0, 0xffffffff]]) {
      expect(x.validate_tape(root, used), `${root} ${used}`).toBe(206);
    }
    expect(x.validate_tape(encoder.root, encoder.used)).toBe(0);
  });

  it("rejects tapes whose records are shared into exponential trees", () => {
    // 40 levels, each an array holding the level below twice: 2^40 paths through 80 Nodes.
    const base = x.tape_ptr(4096);
    const view = new DataView(x.memory.buffer);
    for (let level = 39; level >= 0; level--) { // bottom-up: each level copies the finished one below
      const node = base + level * 48; // Node, then two element Nodes
      const child = level === 39 ? 0 : base + (level + 1) * 48;
      view.setUint32(node, 5, true);
      view.setUint32(node + 4, node + 16, true);
      view.setUint32(node + 8, 2, true);
      for (const e of [node + 16, node + 32]) {
        if (child === 0) view.setUint32(e, 0, true);
        else new Uint8Array(x.memory.buffer).copyWithin(e, child, child + 16);
      }
    }
    expect(x.validate_tape(0, 40 * 48)).toBe(205);
  });
});
