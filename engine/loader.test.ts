// Bundle validation in the engine (engine/loader.ts): malformed bundles are rejected with the
// right error code and error JSON, a bad bundle leaves the previous one serving, and no input at
// all (random bytes; valid bundles flipped, truncated, extended; structurally mutated bundles
// with a recomputed digest) makes the engine trap.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { EngineHost } from "./testing/host.ts";
import { compileChecked } from "../compiler/index.ts";
import { makeBundle, ExprBuilder } from "../compiler/lower/fixtures.ts";
import { readBundle } from "../compiler/bundle/read.ts";
import { Op, Section, ErrorCode } from "../compiler/generated/bytecode.ts";

const x = new ExprBuilder();
let host: EngineHost;

beforeAll(async () => { host = await EngineHost.create(); }, 120_000);

const sample = compileChecked(makeBundle({
  policies: [{ name: "p", default: "deny", agentModes: { a9: "shadow" } }],
  rules: [
    { id: "big", effect: "deny", agents: ["a1"], tools: ["pay"], when: x.bin(">", x.path("params.amount"), x.int(5000)) },
    { id: "ok", effect: "allow", tools: ["pay"], when: x.and(x.matches(x.path("params.id"), "^S-[0-9]+$"), x.cond(x.has(x.v("params"), "c"), x.bin("in", x.path("params.c"), x.list(x.str("USD"), x.str("EUR"))), x.bool(false))) },
    { id: "s", effect: "sanitize", redact: [["email"]], when: x.or(x.call("isURL", x.path("context.u")), x.bin("==", x.call("size", x.path("params.l")), x.double(2))) },
  ],
  egress: { hosts: ["example.com", "*.internal.example"] },
  dlp: [{ name: "ssn", pattern: "[0-9]{3}-[0-9]{2}-[0-9]{4}" }],
}));

const REQUEST = JSON.stringify({
  agent: { id: "a1" }, tool: "pay", action: "create",
  params: { amount: 10, id: "S-12", c: "USD", l: [1, 2], email: "a@b.c", note: "123-45-6789" },
  context: { u: "https://example.com/", egress: ["https://x.internal.example/"] },
});

interface Sec { id: number; payload: Uint8Array }

function split(bytes: Uint8Array): Sec[] {
  return readBundle(bytes).sections
    .filter((s) => s.id !== Section.DIGEST && s.id !== Section.SIGNATURE)
    .map((s) => ({ id: s.id, payload: bytes.slice(s.offset, s.offset + s.length) }));
}

/** Header + sections + a correct DIGEST, so only the structural checks can reject it. */
function assemble(sections: Sec[], headerPatch?: (h: DataView) => void): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = sample.slice(0, 16);
  new DataView(header.buffer).setUint32(12, sections.length + 1, true);
  headerPatch?.(new DataView(header.buffer));
  parts.push(header);
  for (const s of sections) {
    const h = new Uint8Array(8);
    h[0] = s.id;
    new DataView(h.buffer).setUint32(4, s.payload.length, true);
    parts.push(h, s.payload);
  }
  const body = Buffer.concat(parts);
  const digest = createHash("sha256").update(body).digest();
  const dh = new Uint8Array(8);
  dh[0] = Section.DIGEST;
  new DataView(dh.buffer).setUint32(4, 32, true);
  return new Uint8Array(Buffer.concat([body, dh, digest]));
}

/** Recompute the digest of a bundle whose bytes before DIGEST were changed in place. */
function redigest(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const count = view.getUint32(12, true);
  let pos = 16;
  for (let i = 0; i < count && pos + 8 <= out.length; i++) {
    const len = view.getUint32(pos + 4, true);
    if (out[pos] === Section.DIGEST && len === 32 && pos + 40 <= out.length) {
      out.set(createHash("sha256").update(out.subarray(0, pos)).digest(), pos + 8);
      return out;
    }
    pos += 8 + len;
  }
  return out;
}

function codeOf(bytes: Uint8Array): number {
  const r = host.load(bytes);
  if (r.code !== 0) {
    const err = JSON.parse(r.output).error;
    expect(ErrorCode[err.code as keyof typeof ErrorCode]).toBe(r.code);
    expect(typeof err.message).toBe("string");
    expect(Number.isInteger(err.offset)).toBe(true);
  }
  return r.code;
}

const withPayload = (id: number, f: (p: Uint8Array) => Uint8Array) =>
  assemble(split(sample).map((s) => (s.id === id ? { id, payload: f(s.payload.slice()) } : s)));

describe("bundle validation", () => {
  it("loads the sample, reports its digest, and evaluates", () => {
    expect(codeOf(sample)).toBe(0);
    expect(host.digest()).toEqual(readBundle(sample).digest);
    expect(host.evaluate(REQUEST).code).toBe(0);
  });

  it("rejects header problems", () => {
    const patch = (at: number, v: number) => { const b = sample.slice(); b[at] = v; return b; };
    expect(codeOf(new Uint8Array(0))).toBe(ErrorCode.bad_magic);
    expect(codeOf(patch(0, 0x58))).toBe(ErrorCode.bad_magic);
    expect(codeOf(sample.subarray(0, 10))).toBe(ErrorCode.truncated);
    expect(codeOf(patch(4, 2))).toBe(ErrorCode.bad_version);
    expect(codeOf(patch(8, sample[8] ^ 1))).toBe(ErrorCode.opcode_table_mismatch);
  });

  it("rejects framing problems", () => {
    expect(codeOf(sample.subarray(0, sample.length - 3))).toBe(ErrorCode.truncated);
    expect(codeOf(new Uint8Array([...sample, 0]))).toBe(ErrorCode.trailing_bytes);
    const secs = split(sample);
    expect(codeOf(assemble([secs[1], secs[0], ...secs.slice(2)]))).toBe(ErrorCode.bad_section);
    expect(codeOf(assemble([secs[0], secs[0], ...secs.slice(1)]))).toBe(ErrorCode.bad_section);
    expect(codeOf(assemble([...secs, { id: 12, payload: new Uint8Array(0) }]))).toBe(ErrorCode.bad_section);
    expect(codeOf(assemble(secs.filter((s) => s.id !== Section.INDEX)))).toBe(ErrorCode.missing_section);
    const flipped = sample.slice();
    flipped[40] ^= 1;
    expect(codeOf(flipped)).toBe(ErrorCode.bad_digest);
  });

  it("rejects bad values, indexes, code and regex programs", () => {
    // A string that is not UTF-8.
    expect(codeOf(withPayload(Section.STRINGS, (p) => { const i = p.indexOf(0x61 /* a */); p[i] = 0xff; return p; }))).toBe(ErrorCode.bad_value);
    // A constant of unknown kind.
    expect(codeOf(withPayload(Section.CONSTS, (p) => { p[4] = 9; return p; }))).toBe(ErrorCode.bad_value);
    // A policy name index out of range.
    expect(codeOf(withPayload(Section.POLICIES, (p) => { new DataView(p.buffer).setUint32(4, 99999, true); return p; }))).toBe(ErrorCode.bad_index);
    // An unknown opcode in the first rule's code.
    expect(codeOf(withPayload(Section.CODE, (p) => { p[0] = 200; return p; }))).toBe(ErrorCode.bad_code);
    // A RET too early: stack depth at RET is not 1 / unreachable code.
    expect(codeOf(withPayload(Section.CODE, (p) => { p[0] = Op.RET; return p; }))).toBe(ErrorCode.bad_code);
    // A corrupt regex program.
    expect(codeOf(withPayload(Section.REGEX, (p) => { p.fill(0xee, 8); return p; }))).toBe(ErrorCode.bad_regex);
    // Trailing bytes inside a section.
    expect(codeOf(withPayload(Section.CONSTS, (p) => new Uint8Array([...p, 0])))).toBe(ErrorCode.bad_value);
  });

  it("rejects a jump into the middle of an instruction and a backward jump", () => {
    const info = readBundle(sample);
    const rule = info.rules[1];
    const sc = rule.instructions.find((i) => i.op.name === "AND_SC")!;
    const patchTarget = (target: number) => withPayload(Section.CODE, (p) => {
      new DataView(p.buffer).setUint32(rule.codeOffset + sc.pc + 1, target, true); return p;
    });
    expect(codeOf(patchTarget(sc.operands[0] - 1))).toBe(ErrorCode.bad_code);
    expect(codeOf(patchTarget(0))).toBe(ErrorCode.bad_code);
    expect(codeOf(patchTarget(rule.codeLength))).toBe(ErrorCode.bad_code);
  });

  it("keeps the previous bundle serving after a failed load", () => {
    expect(codeOf(sample)).toBe(0);
    const before = host.evaluate(REQUEST).output;
    expect(codeOf(sample.subarray(0, 20))).toBe(ErrorCode.truncated);
    expect(host.evaluate(REQUEST).output).toBe(before);
    expect(host.digest()).toEqual(readBundle(sample).digest);
  });
});

describe("no input traps the loader or the VM (property)", () => {
  const runs = process.env.AEGIS_DEEP ? 20_000 : 1_500;
  const isLoadCode = (c: number) => c === 0 || (c >= 100 && c <= 113);

  /** Load; when accepted, evaluating a request must give a decision or a request error. */
  function loadAndRun(bytes: Uint8Array): void {
    const code = host.load(bytes).code;
    expect(isLoadCode(code)).toBe(true);
    if (code === 0) {
      const r = host.evaluate(REQUEST);
      expect(r.code === 0 || (r.code >= 200 && r.code <= 207)).toBe(true);
      if (r.code === 0) JSON.parse(r.output);
    }
  }

  it("random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => { expect(isLoadCode(codeOf(b))).toBe(true); }), { numRuns: runs });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
      const withHeader = new Uint8Array([...sample.subarray(0, 16), ...b]);
      loadAndRun(withHeader);
    }), { numRuns: runs });
  });

  it("valid bundles with bytes flipped, truncated or extended", () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(sample.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.oneof(fc.constant(0), fc.integer({ min: -20, max: 20 })),
      (flips, resize) => {
        let b = sample.slice();
        for (const [at, v] of flips) b[at] ^= v;
        if (resize < 0) b = b.subarray(0, b.length + resize);
        if (resize > 0) b = new Uint8Array([...b, ...new Uint8Array(resize).fill(resize)]);
        loadAndRun(b);
      },
    ), { numRuns: runs });
  });

  it("structurally mutated bundles with a recomputed digest", () => {
    const digestAt = readBundle(sample).sections.find((s) => s.id === Section.DIGEST)!.offset - 8;
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 16, max: digestAt - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      (sets) => {
        const b = sample.slice();
        for (const [at, v] of sets) b[at] = v;
        loadAndRun(redigest(b));
      },
    ), { numRuns: runs });
  });

  it("mutated rule code with a recomputed digest", () => {
    const code = readBundle(sample).sections.find((s) => s.id === Section.CODE)!;
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(code.length - 1), fc.integer({ min: 0, max: 60 })), { minLength: 1, maxLength: 3 }),
      (sets) => {
        const b = sample.slice();
        for (const [at, v] of sets) b[code.offset + at] = v;
        loadAndRun(redigest(b));
      },
    ), { numRuns: runs });
  });
});
