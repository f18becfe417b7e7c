// Random bytes as a request: random byte strings and mutated valid requests (bit flips, truncation,
// inserted bytes, duplicated keys, deep nesting, BOMs, bad UTF-8, escaped lone surrogates, huge
// numbers) through the Node binding's canonical path (`evaluateBytes`). Every input must give a
// decision JSON or a RequestError with a structured code, never another exception or a wasm trap,
// and the reference interpreter must give the same decision bytes or the same error (code,
// message, offset). Input: fast-check byte strings; output: test results and a tally by outcome.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import type { CheckedBundle } from "../compiler/ast.ts";
import { checkSources, compileChecked } from "../compiler/index.ts";
import { evaluateReference } from "../compiler/reference/interpreter.ts";
import { Limits } from "../compiler/generated/bytecode.ts";
import { Aegis, RequestError } from "../bindings/node/index.ts";
import { bundleDigest } from "./runner.ts";
import { requestJson } from "./arbitraries.ts";

const RUNS = process.env.AEGIS_DEEP ? 50_000 : 3_000;
/** Per-test timeout: the deep runs take minutes. */
const TIMEOUT = process.env.AEGIS_DEEP ? 3_600_000 : 120_000;

/**
 * Real engine/reference disagreements on request bytes, for the lead to fix: a hex reproducer each,
 * asserted to still differ. Empty when there are none.
 */
const KNOWN_DIFFERENCES: { hex: string; note: string }[] = [];

/** A policy that reads most of the request, with egress and DLP, so valid mutants go deep. */
const POLICY = `aegis: 1
policy: fuzz
version: "1"
default: deny
rules:
  - id: big
    effect: approval_needed
    tool: payments
    when: params.amount > 5000
  - id: small
    effect: allow
    when: has(params.amount) && params.amount <= 5000
  - id: note
    effect: sanitize
    when: has(params.note) && params.note.contains("secret")
    redact: [params.note]
  - id: admin
    effect: deny
    when: '"admin" in agent.scopes && !has(context.ticket)'
egress:
  allow_domains: [portal.acme-supplier.com, "*.internal.example"]
dlp:
  - name: ssn
    pattern: '\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b'
`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Byte-level mutations of a valid request's bytes. */
type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; byte: number }
  | { kind: "delete"; at: number }
  | { kind: "splice"; at: number; text: string };

const SPLICES = [
  '"tool":"t1",', '"agent":{"id":"a1"},', '"a":1,"a":2,', '"params":{},', "\uFEFF", "\\ud800", "\\udc00\\ud800", '"\\u0000"',
  "1e99999", "-", "00", "0x10", "NaN", "Infinity", "tru", "nul", "[", "]", "{", "}", ",", ":", '"', "\\", "\t", "\u2028",
  " ", "/*c*/", "'", "[".repeat(Limits.MAX_JSON_DEPTH + 1), "[".repeat(Limits.MAX_JSON_DEPTH - 3) + "]".repeat(Limits.MAX_JSON_DEPTH - 3),
];
const BAD_UTF8 = [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xe2, 0x82], [0x80], [0xf0, 0x9f, 0x98]];

function mutation(max: number): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max });
  return fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at, bit: fc.nat({ max: 7 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at }),
    fc.record({ kind: fc.constant("insert" as const), at, byte: fc.nat({ max: 255 }) }),
    fc.record({ kind: fc.constant("delete" as const), at }),
    fc.record({ kind: fc.constant("splice" as const), at, text: fc.constantFrom(...SPLICES) }),
  );
}

function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = Math.min(m.at, bytes.length);
  switch (m.kind) {
    case "flip": {
      if (bytes.length === 0) return bytes;
      const out = bytes.slice();
      out[at % bytes.length] ^= 1 << m.bit;
      return out;
    }
    case "truncate": return bytes.slice(0, at);
    case "insert": return concat(bytes.subarray(0, at), Uint8Array.of(m.byte), bytes.subarray(at));
    case "delete": return concat(bytes.subarray(0, at), bytes.subarray(at + 1));
    case "splice": return concat(bytes.subarray(0, at), encoder.encode(m.text), bytes.subarray(at));
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** A valid request with 1-4 byte-level mutations. */
const mutatedRequest: fc.Arbitrary<Uint8Array> = requestJson.chain((text) => {
  const bytes = encoder.encode(text);
  return fc.array(mutation(bytes.length), { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce(applyMutation, bytes));
});

/** Structural attacks on a valid request: duplicate keys, deep nesting, bad UTF-8 inside strings. */
const structuralRequest: fc.Arbitrary<Uint8Array> = fc.oneof(
  // A duplicate key at the top level, in agent, or deep inside params.
  fc.tuple(requestJson, fc.constantFrom('"tool":"t2"', '"action":"x"', '"params":{}', '"context":{}', '"override_token":"t"')).map(([text, dup]) =>
    encoder.encode(text.replace(/}$/, `,${dup}}`))),
  fc.tuple(requestJson, fc.constantFrom('"id":"a2"', '"tenant":"x"')).map(([text, dup]) => encoder.encode(text.replace('{"id":', `{${dup},"id":`))),
  fc.tuple(requestJson, fc.constantFrom("amount", "é", "")).map(([text, key]) =>
    encoder.encode(text.replace(/}$/, `,"params":{"n":{"${key}":1,"b":[{"${key}":2,"${key}":3}]}}`))),
  // Nesting around the limit, in params (arrays or objects).
  fc.tuple(requestJson, fc.integer({ min: Limits.MAX_JSON_DEPTH - 4, max: Limits.MAX_JSON_DEPTH + 4 }), fc.boolean()).map(([text, depth, arrays]) => {
    const request = JSON.parse(text) as { params?: Record<string, unknown> };
    request.params = { ...request.params, deep: "__DEEP__" };
    const open = arrays ? "[".repeat(depth) : '{"a":'.repeat(depth);
    const close = arrays ? "]".repeat(depth) : "}".repeat(depth);
    return encoder.encode(JSON.stringify(request).replace('"__DEEP__"', `${open}1${close}`));
  }),
  // Invalid UTF-8 inside a string value or a key.
  fc.tuple(requestJson, fc.constantFrom(...BAD_UTF8), fc.boolean()).map(([text, bad, inKey]) => {
    const marker = inKey ? '"tool"' : '"action":"';
    const i = text.indexOf(marker) + (inKey ? 2 : marker.length);
    const bytes = encoder.encode(text);
    const cut = encoder.encode(text.slice(0, i)).length;
    return concat(bytes.subarray(0, cut), Uint8Array.from(bad), bytes.subarray(cut));
  }),
);

/** The engine's answer as text: decision JSON or `error code message @offset`. */
function engineAnswer(aegis: Aegis, bytes: Uint8Array): string {
  try {
    return decoder.decode(aegis.evaluateBytes(bytes));
  } catch (e) {
    if (e instanceof RequestError) return `error ${e.code}: ${e.message} @${e.offset ?? "-"}`;
    // Anything else (a wasm RuntimeError from a trap, a TypeError in the binding) is a crash.
    throw new Error(`evaluateBytes threw ${(e as Error).name}: ${(e as Error).message}`);
  }
}

function referenceAnswer(bundle: CheckedBundle, bytes: Uint8Array, digest: string): string {
  const r = evaluateReference(bundle, bytes, digest);
  return r.ok ? r.decision : `error ${r.code}: ${r.message} @${r.offset ?? "-"}`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

describe("random bytes as a request", () => {
  let aegis: Aegis;
  let bundle: CheckedBundle;
  let digest: string;
  const tally = new Map<string, number>();
  const known = new Set(KNOWN_DIFFERENCES.map((k) => k.hex));

  beforeAll(async () => {
    const checked = checkSources([{ path: "fuzz.yaml", text: POLICY }]);
    expect(checked.errors.map((e) => e.message)).toEqual([]);
    bundle = checked.bundle!;
    const bytes = compileChecked(bundle);
    aegis = await Aegis.load(bytes);
    digest = bundleDigest(bytes);
  });

  afterAll(() => {
    console.log(`requests fuzz: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  });

  function check(bytes: Uint8Array): void {
    const engine = engineAnswer(aegis, bytes);
    const reference = referenceAnswer(bundle, bytes, digest);
    const outcome = engine.startsWith("error ") ? engine.slice(6, engine.indexOf(":")) : (JSON.parse(engine) as { decision: string }).decision;
    tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
    if (engine.startsWith("error ")) expect(engine, "a request error has a code").toMatch(/^error [a-z0-9_]+: /);
    if (known.has(hex(bytes))) return;
    expect(engine, `request bytes (hex) ${hex(bytes)}\ntext: ${JSON.stringify(decoder.decode(bytes))}`).toBe(reference);
  }

  it(`random byte strings (${RUNS} runs)`, () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ minLength: 1, maxLength: 512 }),
      fc.string({ unit: "binary-ascii", maxLength: 64 }).map((s) => encoder.encode(s)),
      fc.string({ unit: fc.constantFrom("{", "}", "[", "]", '"', ":", ",", "a", "1", " ", "\\", "u", "0", "e", "-", ".", "t", "n"), maxLength: 64 }).map((s) => encoder.encode(s)),
    );
    fc.assert(fc.property(bytes, check), { numRuns: RUNS });
  }, TIMEOUT);

  it(`mutated valid requests (${RUNS} runs)`, () => {
    fc.assert(fc.property(mutatedRequest, check), { numRuns: RUNS });
  }, TIMEOUT);

  it(`duplicate keys, deep nesting and bad UTF-8 in valid requests (${RUNS} runs)`, () => {
    fc.assert(fc.property(structuralRequest, check), { numRuns: RUNS });
  }, TIMEOUT);

  it("hand-picked hostile requests", () => {
    const cases: (string | Uint8Array)[] = [
      "", " ", "null", "[]", "{}", '{"agent":{"id":"a"},"tool":"t","action":"x"}', "\uFEFF{}",
      '{"agent":{"id":"a"},"tool":"t","action":"x","tool":"t"}', '{"agent":{"id":"a","id":"b"},"tool":"t","action":"x"}',
      '{"agent":{"id":""},"tool":"t","action":"x"}', '{"agent":{"id":"a","x":1},"tool":"t","action":"x"}',
      '{"agent":{"id":"a"},"tool":"t","action":"x","params":[]}', '{"agent":{"id":"a"},"tool":"t","action":"x","extra":1}',
      '{"agent":{"id":"a"},"tool":"t","action":"x","params":{"s":"\\ud800"}}', '{"agent":{"id":"a"},"tool":"t","action":"x","params":{"s":"\\ud83d\\ude00"}}',
      '{"agent":{"id":"a"},"tool":"t","action":"x","params":{"amount":1e400}}', '{"agent":{"id":"a"},"tool":"t","action":"x","params":{"amount":-0}}',
      '{"agent":{"id":"a"},"tool":"t","action":"x"} ', '{"agent":{"id":"a"},"tool":"t","action":"x"}x', "[".repeat(100_000),
      `{"agent":{"id":"a"},"tool":"t","action":"x","params":{"a":${"[".repeat(Limits.MAX_JSON_DEPTH)}${"]".repeat(Limits.MAX_JSON_DEPTH)}}}`,
      `{"agent":{"id":"a"},"tool":"t","action":"x","params":{"a":[${"0,".repeat(Limits.MAX_JSON_NODES)}0]}}`,
      `{"agent":{"id":"a"},"tool":"t","action":"x","params":{"a":"${"x".repeat(Limits.MAX_REQUEST_BYTES)}"}}`,
      Uint8Array.of(0x7b, 0x22, 0xc0, 0x80, 0x22, 0x3a, 0x31, 0x7d),
    ];
    for (const c of cases) check(typeof c === "string" ? encoder.encode(c) : c);
  });

  for (const k of KNOWN_DIFFERENCES) {
    it(`known difference still differs (delete once fixed): ${k.note}`, () => {
      const bytes = Uint8Array.from(Buffer.from(k.hex, "hex"));
      expect(engineAnswer(aegis, bytes), "stale KNOWN_DIFFERENCES entry").not.toBe(referenceAnswer(bundle, bytes, digest));
    });
  }
});
