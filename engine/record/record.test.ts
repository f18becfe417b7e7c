// The AssemblyScript decision record (engine/record/record.ts renderRecordLine) and timestamps
// (engine/record/rfc3339.ts), run from build/record-test/record-test.wasm. Oracles: the golden
// record vectors of conformance/cases (expectedRecordLine, with the decision bytes of the Node
// binding), telemetry/record.ts recordLine (what every JS host writes) on random decisions,
// request errors and raw request bytes, and Date.prototype.toISOString.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createNodeHost } from "../../conformance/hosts/node.ts";
import { compileCorpusFile, errorJsonBytes, expectedRecordLine, loadCorpus } from "../../conformance/runner.ts";
import { recordLine, type RecordMeta } from "../../telemetry/record.ts";
import { loadRecordTestModule, type RecordTestExports } from "./test-module.ts";

let x: RecordTestExports;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

beforeAll(async () => {
  x = await loadRecordTestModule();
});

const RECORD_BAD_OUTCOME = 1;
const RECORD_BAD_REQUEST = 2;
const RECORD_NOT_CANONICAL = 3;
const RECORD_BAD_INPUT = 4;

type Bytes = Uint8Array | string;
const bytesOf = (b: Bytes): Uint8Array => (typeof b === "string" ? encoder.encode(b) : b);

/** renderRecordLine on the given inputs: its code and, when 0, the line. */
function render(outcome: Bytes, request: Bytes, meta: RecordMeta, bundle: string, id: Bytes = meta.id): { code: number; line: string } {
  const parts = [bytesOf(outcome), bytesOf(request), encoder.encode(meta.prev), bytesOf(id), encoder.encode(meta.host), encoder.encode(bundle)];
  const offsets: number[] = [];
  let total = 0;
  for (const p of parts) { offsets.push(total); total += p.length; }
  const base = x.input_ptr(total);
  const mem = new Uint8Array(x.memory.buffer);
  parts.forEach((p, i) => mem.set(p, base + offsets[i]));
  const code = x.record(offsets[0], parts[0].length, offsets[1], parts[1].length, BigInt(meta.seq), offsets[2], BigInt(meta.ts),
    offsets[3], parts[3].length, offsets[4], parts[4].length, BigInt(meta.evalNs), meta.includeParams ? 1 : 0, offsets[5], parts[5].length);
  const line = decoder.decode(new Uint8Array(x.memory.buffer, x.record_ptr(), x.record_len()));
  if (code !== 0) expect(line).toBe(""); // a failed call leaves no partial line
  return { code, line };
}

/** What telemetry/record.ts writes, or null when it throws. */
function reference(outcome: Bytes, request: Bytes, meta: RecordMeta, bundle: string): string | null {
  try {
    return recordLine(bytesOf(outcome), bytesOf(request), meta, bundle);
  } catch {
    return null;
  }
}

/** Both writers agree: the same line, or both refuse. */
function expectSameRecord(outcome: Bytes, request: Bytes, meta: RecordMeta, bundle: string): void {
  const want = reference(outcome, request, meta, bundle);
  const got = render(outcome, request, meta, bundle);
  if (want === null) expect(got.code, `want a refusal, got ${got.line}`).not.toBe(0);
  else {
    expect(got.code).toBe(0);
    expect(got.line).toBe(want);
  }
}

const ZERO = "0".repeat(64);
const BUNDLE = "sha256:" + "ab".repeat(32);
const META: RecordMeta = { seq: 3, prev: ZERO, ts: 1795312539123, id: "req-1", host: "proxy-wasm", evalNs: 1234 };
const DECISION = JSON.stringify({
  decision: "allow", enforced: true, rule: "r", reason: "ok", policy: "p", policy_version: "1", bundle: BUNDLE,
});
const errorJson = (code: string, message: string): Uint8Array => errorJsonBytes(code, message);

describe("golden record vectors (conformance/cases, `record:` cases)", () => {
  it("writes want_record byte for byte for every case, from the Node binding's decision bytes", async () => {
    const corpus = loadCorpus();
    const host = createNodeHost();
    let checked = 0;
    for (const file of corpus) {
      const cases = file.cases.filter((c) => c.record);
      if (cases.length === 0) continue;
      const { bundle, digest } = await compileCorpusFile(file);
      await host.load(bundle, file.sources);
      for (const c of cases) {
        const meta = c.record!;
        const outcome = await host.evaluate(c.request);
        const got = render(outcome, c.request, meta, digest);
        expect(got.code, `${file.path}: ${c.name}`).toBe(0);
        expect(got.line, `${file.path}: ${c.name}`).toBe(expectedRecordLine(c, digest));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(9);
  });
});

describe("timestamps (new Date(ms).toISOString())", () => {
  function timestamp(ms: number): string {
    x.timestamp(BigInt(ms));
    return decoder.decode(new Uint8Array(x.memory.buffer, x.result_ptr(), x.result_len()));
  }

  it("matches at calendar edges: epoch, leap days, centuries, year 0, four digit and expanded years", () => {
    const dates = ["1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "2000-02-29T12:00:00.001Z", "1900-03-01T00:00:00.000Z",
      "2100-02-28T23:59:59.999Z", "0000-01-01T00:00:00.000Z", "0000-02-29T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
      "2026-11-22T01:55:39.123Z", "1600-12-31T00:00:00.000Z"];
    const ms = dates.map((d) => Date.parse(d));
    ms.push(Date.parse("0000-01-01T00:00:00.000Z") - 1, Date.parse("9999-12-31T23:59:59.999Z") + 1, 8.64e15, -8.64e15, -1, 1);
    for (const m of ms) expect(timestamp(m), String(m)).toBe(new Date(m).toISOString());
  });

  it("matches for random times over the whole Date range", () => {
    fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (m) => {
      expect(timestamp(m)).toBe(new Date(m).toISOString());
    }), { numRuns: 20_000 });
    fc.assert(fc.property(fc.integer({ min: -62167219200000 - 1e10, max: 253402300799999 + 1e10 }), (m) => {
      expect(timestamp(m)).toBe(new Date(m).toISOString());
    }), { numRuns: 5_000 });
  });

  it("refuses times no Date holds (toISOString throws)", () => {
    expect(timestamp(8.64e15 + 1)).toBe("");
    expect(timestamp(-8.64e15 - 1)).toBe("");
    expect(() => new Date(8.64e15 + 1).toISOString()).toThrow(RangeError);
    expect(render(DECISION, '{"tool":"t"}', { ...META, ts: 8.64e15 + 1 }, BUNDLE).code).toBe(RECORD_BAD_INPUT);
  });
});

describe("records of request errors: identity as JSON.parse reads the raw bytes", () => {
  const invalid = errorJson("invalid_json", "unexpected end of input");
  const cases: [string, Bytes][] = [
    ["duplicate keys: the last one wins", '{"tool":"a","agent":{"id":"x","tenant":"t"},"tool":"b","agent":{"id":"y"},"action":"go","action":7}'],
    ["a later non-object agent removes the agent", '{"agent":{"id":"x"},"agent":"y","tool":"t"}'],
    ["duplicate id inside agent", '{"agent":{"id":"x","id":5,"tenant":"t"}}'],
    ["escaped keys and values", '{"t\\u006fol":"caf\\u00e9 \\ud83d\\ude00 \\t\\"\\\\\\/","\\u0061ction":"\\u2028\\u0001"}'],
    ["a byte order mark before the JSON", "\ufeff{\"tool\":\"t\",\"agent\":{\"id\":\"a\"}}"],
    ["nesting deeper than the engine allows", `{"tool":"t","deep":${"[".repeat(200)}${"]".repeat(200)},"agent":{"id":"a","x":${"{\"a\":".repeat(100)}1${"}".repeat(100)},"tenant":"z"}}`],
    ["identity nested deeper is not identity", '{"params":{"tool":"no","agent":{"id":"no"}},"x":[{"tool":"no"}]}'],
    ["a top-level array", '[{"tool":"t"}]'],
    ["truncated JSON: no identity", '{"tool":"t","agent":{"id":"a"}'],
    ["trailing garbage: no identity", '{"tool":"t"} x'],
    ["invalid UTF-8: no identity", Uint8Array.from([...encoder.encode('{"tool":"t","x":"'), 0xff, ...encoder.encode('"}')])],
    ["an unescaped control character: no identity", '{"tool":"t\u0001"}'],
    ["a lone surrogate outside the identity is fine", '{"tool":"t","note":"\\ud800"}'],
    ["a lone surrogate key matches nothing", '{"\\ud800":"x","tool":"t"}'],
    ["wrong types", '{"tool":1,"action":null,"agent":{"id":["a"],"tenant":"t"}}'],
    ["tenant without id", '{"agent":{"tenant":"t"},"tool":"x"}'],
    ["a number that is no double", '{"tool":"t","n":1e400}'],
    ["empty input", ""],
    ["whitespace only", " \n"],
  ];
  for (const [name, request] of cases) {
    it(name, () => {
      expectSameRecord(invalid, request, META, BUNDLE);
      const line = render(invalid, request, META, BUNDLE).line;
      expect(line).toContain('"error":{"code":"invalid_json","message":"unexpected end of input"}');
      expect(line).not.toContain('"policy"');
    });
  }

  it("refuses an identity string holding a lone surrogate, as the JS hosts do", () => {
    for (const request of ['{"tool":"a\\ud800"}', '{"agent":{"id":"\\udc00x"}}', '{"action":"\\ud83d\\u0041"}']) {
      expect(reference(invalid, request, META, BUNDLE)).toBeNull();
      expect(render(invalid, request, META, BUNDLE).code).toBe(RECORD_NOT_CANONICAL);
    }
  });
});

describe("records of decisions", () => {
  it("refuses outcomes and requests the JS hosts cannot record", () => {
    const request = '{"tool":"t","params":{}}';
    expect(render("{nope", request, META, BUNDLE).code).toBe(RECORD_BAD_OUTCOME);
    expect(render("[1]", request, META, BUNDLE).code).toBe(RECORD_BAD_OUTCOME);
    expect(render('{"decision":"allow"}', request, META, BUNDLE).code).toBe(RECORD_BAD_OUTCOME);
    expect(render('{"error":"x"}', request, META, BUNDLE).code).toBe(RECORD_BAD_OUTCOME);
    expect(render(DECISION, "[1]", META, BUNDLE).code).toBe(RECORD_BAD_REQUEST);
    expect(render(DECISION, "{", META, BUNDLE).code).toBe(RECORD_BAD_REQUEST);
    expect(render(DECISION, '{"tool":"t","params":{"n":1e400}}', META, BUNDLE).code).toBe(RECORD_NOT_CANONICAL);
    expect(render(DECISION, request, META, BUNDLE, Uint8Array.from([0x61, 0xff])).code).toBe(RECORD_BAD_INPUT);
    for (const [outcome, req] of [["{nope", request], ["[1]", request], ['{"decision":"allow"}', request], ['{"error":"x"}', request],
      [DECISION, "[1]"], [DECISION, "{"], [DECISION, '{"tool":"t","params":{"n":1e400}}']]) {
      expect(reference(outcome, req, META, BUNDLE), `${outcome} ${req}`).toBeNull();
    }
  });

  it("uses the request's params (or {}) with includeParams when the decision has none", () => {
    const meta = { ...META, includeParams: true };
    for (const request of ['{"tool":"t","params":{"b":[1.50,"x"],"a":null}}', '{"tool":"t"}', '{"tool":"t","params":null}', '{"tool":"t","params":"s"}']) {
      expectSameRecord(DECISION, request, meta, BUNDLE);
    }
    expect(render(DECISION, '{"tool":"t"}', meta, BUNDLE).line).toContain('"params":{}');
  });

  it("keeps the ids and host the caller gives, escaped", () => {
    expectSameRecord(DECISION, '{"tool":"t"}', { ...META, id: 'a"b\\c\n\u0000é😀', host: "\u2028host" }, BUNDLE);
  });
});

describe("random records agree with telemetry/record.ts (fast-check)", () => {
  const unit = fc.oneof(fc.constantFrom("a", "é", "\u2028", "\ue000", "\u{1f600}", "\u0000", '"', "\\", "\n"), fc.string({ unit: "binary", minLength: 1, maxLength: 1 }));
  const text = fc.string({ unit, maxLength: 8 });
  const json = fc.jsonValue({ maxDepth: 3, stringUnit: unit });
  const maybeString = fc.oneof(text, text, json);
  const meta: fc.Arbitrary<RecordMeta> = fc.record({
    seq: fc.nat(),
    prev: fc.stringMatching(/^[0-9a-f]{64}$/),
    ts: fc.integer({ min: -8.64e15, max: 8.64e15 }),
    id: text,
    host: text,
    evalNs: fc.oneof(fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
    includeParams: fc.boolean(),
  });
  const request = fc.record({
    agent: fc.oneof(fc.record({ id: maybeString, tenant: maybeString, role: json }, { requiredKeys: [] }), json),
    tool: maybeString,
    action: maybeString,
    params: fc.oneof(fc.dictionary(text, json, { maxKeys: 4 }), json),
    override_token: maybeString,
    context: json,
  }, { requiredKeys: [] });
  const effect = fc.constantFrom("allow", "deny", "sanitize", "approval_needed");
  const decision = fc.record({
    decision: effect,
    enforced: fc.boolean(),
    rule: text,
    reason: text,
    policy: text,
    policy_version: text,
    bundle: fc.constantFrom(BUNDLE, "sha256:" + "0".repeat(64)),
    shadow: fc.array(fc.record({ rule: text, effect }), { maxLength: 2 }),
    redactions: fc.array(fc.record({ path: text, by: text }), { maxLength: 2 }),
    params: json,
  }, { requiredKeys: ["decision", "enforced", "rule", "reason", "policy", "policy_version", "bundle"] });

  it("for decisions", () => {
    fc.assert(fc.property(decision, request, meta, fc.boolean(), (d, r, m, dropOne) => {
      const outcome: Record<string, unknown> = { ...d };
      if (dropOne) delete outcome[["decision", "rule", "policy", "bundle"][m.seq % 4]];
      expectSameRecord(JSON.stringify(outcome), JSON.stringify(r), m, BUNDLE);
    }), { numRuns: 800 });
  });

  // Raw request text: members may repeat, keys may be escaped, values may hold escapes and lone
  // surrogates, the text may start with a BOM, nest deeply or be cut short.
  const escapeAll = (s: string): string => [...s].map((ch) => {
    let out = "";
    for (let i = 0; i < ch.length; i++) out += "\\u" + ch.charCodeAt(i).toString(16).padStart(4, "0");
    return out;
  }).join("");
  const keyText = (...names: string[]): fc.Arbitrary<string> => fc.tuple(fc.constantFrom(...names), fc.nat(2))
    .map(([k, how]) => (how === 0 ? JSON.stringify(k) : how === 1 ? `"${escapeAll(k)}"` : `"${escapeAll(k[0])}${k.slice(1)}"`));
  const anyKey = keyText("agent", "tool", "action", "id", "tenant", "params", "x");
  const leafText = fc.oneof(
    text.map((s) => JSON.stringify(s)),
    text.map((s) => `"${escapeAll(s)}"`),
    fc.constantFrom('"\\ud800"', '"a\\udc00"', "1", "-0.5e3", "true", "null", "[]", "{}", "[1,{\"id\":\"n\"}]", "1e400"),
  );
  const objectText = (member: fc.Arbitrary<[string, string]>): fc.Arbitrary<string> =>
    fc.array(member, { maxLength: 5 }).map((members) => `{${members.map(([k, v]) => `${k}:${v}`).join(",")}}`);
  // An agent object made mostly of `id` and `tenant` members, so agents are found often.
  const agentMember = fc.tuple(keyText("agent"), objectText(fc.tuple(keyText("id", "tenant", "id", "tenant", "x"), leafText)));
  const valueText = fc.oneof(leafText, leafText, objectText(fc.tuple(anyKey, leafText)));
  const topMember = fc.oneof(fc.tuple(anyKey, valueText), fc.tuple(anyKey, valueText), agentMember);
  const rawRequest = fc.tuple(objectText(topMember), fc.nat(9), fc.nat(200)).map(([body, how, n]) => {
    switch (how) {
      case 0: return "\ufeff" + body;
      case 1: return body.slice(0, Math.max(0, body.length - 1 - (n % 4)));
      case 2: return body.replace("{", `{"deep":${"[".repeat(n)}${"]".repeat(n)},`).replace(",}", "}");
      case 3: return `[${body}]`;
      case 4: return ` ${body} `;
      default: return body;
    }
  });
  const errorCode = fc.constantFrom("invalid_json", "duplicate_key", "too_deep", "invalid_request", "request_too_large");

  it("for request errors, on raw request bytes", () => {
    fc.assert(fc.property(errorCode, text, rawRequest, meta, fc.option(fc.nat()), (code, message, raw, m, offset) => {
      expectSameRecord(errorJsonBytes(code, message, offset ?? undefined), raw, m, BUNDLE);
    }), { numRuns: 1_500 });
  });
});
