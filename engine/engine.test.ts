// End-to-end tests of the engine wasm (engine/index.ts): bundles from hand-built CheckedBundles
// (lower + emit with the real regex compiler), decisions checked against expected JSON and, byte
// for byte, against the reference interpreter (compiler/reference); value JSON of single rules.
import { describe, it, expect, beforeAll } from "vitest";
import { EngineHost, evaluateTape } from "./testing/host.ts";
import { compileChecked } from "../compiler/index.ts";
import { makeBundle, ExprBuilder, offsetOf, type RuleSpec, type PolicySpec } from "../compiler/lower/fixtures.ts";
import { evaluateReference, evalRuleValue } from "../compiler/reference/interpreter.ts";
import { readBundle } from "../compiler/bundle/read.ts";
import type { CheckedBundle, Expr } from "../compiler/ast.ts";

const x = new ExprBuilder();
let host: EngineHost;

beforeAll(async () => { host = await EngineHost.create(); }, 120_000);

function load(bundle: CheckedBundle): { bytes: Uint8Array; digest: string } {
  const bytes = compileChecked(bundle);
  const r = host.load(bytes);
  expect(r, r.output).toMatchObject({ code: 0 });
  return { bytes, digest: readBundle(bytes).digestHex };
}

/** Evaluate on the engine and on the reference; they must agree byte for byte. */
function decide(bundle: CheckedBundle, request: object | string): Record<string, unknown> {
  const { digest } = load(bundle);
  const text = typeof request === "string" ? request : JSON.stringify(request);
  const r = host.evaluate(text);
  expect(r.code, r.output).toBe(0);
  const ref = evaluateReference(bundle, text, digest);
  expect(ref.ok).toBe(true);
  if (ref.ok) expect(r.output).toBe(ref.decision);
  return JSON.parse(r.output);
}

const req = (params: object = {}, extra: object = {}) => ({ agent: { id: "a1" }, tool: "pay", action: "create", params, ...extra });

function one(when: Expr | null, spec: Partial<RuleSpec> = {}, policy: PolicySpec = {}): CheckedBundle {
  return makeBundle({ policies: [policy], rules: [{ id: "r", effect: "allow", when, ...spec }] });
}

describe("before any bundle is loaded", () => {
  // Runs first (vitest keeps file order), while `host` has no bundle yet.
  it("answers no_bundle", () => {
    expect(host.evaluate(JSON.stringify(req()))).toMatchObject({ code: 207 });
    expect(JSON.parse(host.output())).toMatchObject({ error: { code: "no_bundle" } });
    expect(host.digest()).toBeNull();
  });
});

describe("decisions", () => {
  it("allows with the rule's default reason and reports policy, version and bundle digest", () => {
    const bundle = one(x.bin(">", x.path("params.amount"), x.int(5)), {}, { name: "p", version: "v9" });
    const { digest } = load(bundle);
    const d = decide(bundle, req({ amount: 10 }));
    expect(d).toEqual({
      decision: "allow", enforced: true, rule: "r", reason: "allowed by rule `r`", policy: "p",
      policy_version: "v9", bundle: `sha256:${digest}`,
    });
    expect(host.results()).toEqual({ effect: 0, rule: 0, policy: 0, flags: 1 });
  });

  it("falls back to the default when no rule matches", () => {
    expect(decide(one(x.bool(false)), req())).toMatchObject({ decision: "deny", rule: "default", reason: "no rule allows this call (default deny)" });
    expect(decide(one(x.bool(false), {}, { default: "allow" }), req())).toMatchObject({ decision: "allow", rule: "default", reason: "no rule matched (default allow)" });
    const shadow = decide(one(x.bool(false), {}, { default: "deny", mode: "shadow" }), req());
    expect(shadow).toMatchObject({ decision: "allow", enforced: false, reason: "no enforced policy applies (shadow mode)", shadow: [{ rule: "default", effect: "deny" }] });
    expect(host.results().flags & 1).toBe(0);
  });

  it("applies precedence deny > approval_needed > sanitize > allow, first rule within an effect", () => {
    const bundle = makeBundle({
      rules: [
        { id: "a", effect: "allow" },
        { id: "s", effect: "sanitize" },
        { id: "ap1", effect: "approval_needed", reason: "needs a human" },
        { id: "ap2", effect: "approval_needed" },
        { id: "d", effect: "deny", when: x.bin(">", x.path("params.n"), x.int(100)) },
      ],
    });
    expect(decide(bundle, req({ n: 1 }))).toMatchObject({ decision: "approval_needed", rule: "ap1", reason: "needs a human" });
    expect(decide(bundle, req({ n: 1000 }))).toMatchObject({ decision: "deny", rule: "d", reason: "denied by rule `d`" });
  });

  it("uses the index: selectors restrict candidates", () => {
    const bundle = makeBundle({
      policies: [{ default: "deny" }],
      rules: [
        { id: "other-agent", effect: "deny", agents: ["zz"] },
        { id: "pay-only", effect: "allow", tools: ["pay"], actions: ["create", "refund"] },
        { id: "refund", effect: "deny", actions: ["refund"] },
      ],
    });
    expect(decide(bundle, req())).toMatchObject({ decision: "allow", rule: "pay-only" });
    expect(decide(bundle, { ...req(), action: "refund" })).toMatchObject({ decision: "deny", rule: "refund" });
    expect(decide(bundle, { ...req(), tool: "mail" })).toMatchObject({ decision: "deny", rule: "default" });
    expect(decide(bundle, { ...req(), agent: { id: "zz" } })).toMatchObject({ decision: "deny", rule: "other-agent" });
  });

  it("reports shadow rules without letting them decide", () => {
    const bundle = makeBundle({
      rules: [
        { id: "sh", effect: "deny", mode: "shadow" },
        { id: "ok", effect: "allow" },
        { id: "sh-fail", effect: "allow", mode: "shadow", when: x.path("params.missing") },
      ],
    });
    expect(decide(bundle, req())).toMatchObject({
      decision: "allow", rule: "ok", shadow: [{ rule: "sh", effect: "deny" }, { rule: "sh-fail", effect: "deny" }],
    });
    expect(host.results().flags).toBe(1 | 2);
  });

  it("applies per-agent policy modes to the default", () => {
    const bundle = makeBundle({ policies: [{ default: "deny", agentModes: { a1: "shadow" } }], rules: [{ id: "never", when: x.bool(false) }] });
    expect(decide(bundle, req())).toMatchObject({ decision: "allow", enforced: false, shadow: [{ rule: "default", effect: "deny" }] });
    expect(decide(bundle, { ...req(), agent: { id: "a2" } })).toMatchObject({ decision: "deny", enforced: true });
  });
});

describe("fail closed", () => {
  it("names the rule, the position of the failing expression and the message", () => {
    const when = x.bin(">", x.select(x.v("params"), "amount", offsetOf(3, 7)), x.int(5), offsetOf(3, 20));
    const bundle = makeBundle({ rules: [{ id: "big", effect: "allow", when }] });
    expect(decide(bundle, req({}))).toMatchObject({ decision: "deny", rule: "big", reason: "rule `big` failed at policy.yaml:3:7: no such key `amount`" });
    expect(host.results().flags & 8).toBe(8);
    expect(decide(bundle, req({ amount: "x" }))).toMatchObject({ reason: "rule `big` failed at policy.yaml:3:20: no matching overload for `>`" });
  });

  it("reports a non-bool result at the rule's condition", () => {
    const bundle = makeBundle({ rules: [{ id: "nb", when: { ...x.path("params.amount"), span: x.at(offsetOf(4, 9)) } }] });
    expect(decide(bundle, req({ amount: 1 }))).toMatchObject({ reason: "rule `nb` failed at policy.yaml:4:9: condition is not a bool" });
  });

  it("absorbs errors in && and || as CEL does", () => {
    const missing = x.path("params.missing");
    expect(decide(one(x.or(missing, x.bool(true))), req())).toMatchObject({ decision: "allow" });
    expect(decide(one(x.and(missing, x.bool(false))), req())).toMatchObject({ decision: "deny", rule: "default" });
    expect(decide(one(x.and(x.bool(true), missing)), req())).toMatchObject({ decision: "deny", rule: "r" });
  });
});

describe("egress", () => {
  const bundle = (mode: "enforce" | "shadow" = "enforce") => makeBundle({
    policies: [{ default: "allow" }], rules: [{ id: "ok", effect: "allow" }],
    egress: { mode, hosts: ["portal.acme.com", "*.internal.example"] },
  });
  const withEgress = (egress: unknown) => req({}, { context: { egress } });

  it("allows listed hosts and subdomains of wildcards, whatever the case, port or trailing dot", () => {
    expect(decide(bundle(), withEgress(["https://PORTAL.acme.com:8443/po", "http://a.b.internal.example./x"]))).toMatchObject({ decision: "allow", rule: "ok" });
    expect(decide(bundle(), req())).toMatchObject({ decision: "allow" });
  });

  it("denies other hosts, the wildcard apex, invalid URLs and bad shapes", () => {
    expect(decide(bundle(), withEgress(["https://evil.com/"]))).toMatchObject({ decision: "deny", rule: "egress", reason: "egress to `evil.com` is not allowed" });
    expect(host.results().rule).toBe(-2);
    expect(decide(bundle(), withEgress(["https://internal.example/"]))).toMatchObject({ reason: "egress to `internal.example` is not allowed" });
    expect(decide(bundle(), withEgress(["not a url"]))).toMatchObject({ reason: "egress URL `not a url` is not a valid URL" });
    expect(decide(bundle(), withEgress("https://portal.acme.com"))).toMatchObject({ reason: "egress check failed: `context.egress` must be a list of strings" });
    expect(decide(bundle(), withEgress([1]))).toMatchObject({ reason: "egress check failed: `context.egress` must be a list of strings" });
  });

  it("reports a failing shadow egress check", () => {
    expect(decide(bundle("shadow"), withEgress(["https://evil.com/"]))).toMatchObject({ decision: "allow", shadow: [{ rule: "egress", effect: "deny" }] });
  });
});

describe("redaction and DLP", () => {
  it("redacts paths of sanitize rules and keeps number lexemes", () => {
    const bundle = makeBundle({ rules: [{ id: "s", effect: "sanitize", redact: [["contact", "email"], ["absent"]] }] });
    const d = decide(bundle, '{"agent":{"id":"a1"},"tool":"pay","action":"create","params":{"amount":1.50,"contact":{"email":"a@b.c","n":1e2}}}');
    expect(d).toMatchObject({ decision: "sanitize", rule: "s", reason: "allowed with redactions by rule `s`", redactions: [{ path: "params.contact.email", by: "s" }] });
    expect(host.output()).toContain('"params":{"amount":1.50,"contact":{"email":"[REDACTED]","n":1e2}}');
    expect(host.results().flags).toBe(1 | 4);
  });

  it("turns allow into sanitize when a DLP pattern matches, depth first in document order", () => {
    const bundle = makeBundle({
      policies: [{ default: "allow" }], rules: [],
      dlp: [{ name: "ssn", pattern: "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b" }, { name: "shadowed", pattern: "secret", mode: "shadow" }],
    });
    const d = decide(bundle, req({ note: "ssn 123-45-6789 and 987-65-4321", "x-y": ["ok", "111-22-3333"], n: 5, s: "a secret" }));
    expect(d).toMatchObject({
      decision: "sanitize", rule: "dlp:ssn", reason: "sensitive data redacted by `dlp:ssn`",
      redactions: [{ path: "params.note", by: "dlp:ssn" }, { path: 'params["x-y"][1]', by: "dlp:ssn" }],
      shadow: [{ rule: "dlp:shadowed", effect: "sanitize" }],
      params: { note: "ssn [REDACTED:ssn] and [REDACTED:ssn]", "x-y": ["ok", "[REDACTED:ssn]"], n: 5, s: "a secret" },
    });
    expect(host.results().rule).toBe(-3);
  });

  it("does not redact for deny or approval_needed", () => {
    const bundle = makeBundle({ rules: [{ id: "d", effect: "deny" }], dlp: [{ name: "ssn", pattern: "[0-9]{3}" }] });
    expect(decide(bundle, req({ note: "123" }))).toEqual(expect.not.objectContaining({ redactions: expect.anything() }));
  });
});

describe("expressions (value JSON, against the reference interpreter)", () => {
  const cases: [string, Expr][] = [
    ["int add overflow", x.bin("+", x.int(9223372036854775807n), x.int(1))],
    ["int mul", x.bin("*", x.int(-3), x.int(7))],
    ["min * -1", x.bin("*", x.int(-9223372036854775808n), x.int(-1))],
    ["min / -1", x.bin("/", x.int(-9223372036854775808n), x.int(-1))],
    ["min % -1", x.bin("%", x.int(-9223372036854775808n), x.int(-1))],
    ["div zero", x.bin("/", x.int(1), x.int(0))],
    ["mod zero", x.bin("%", x.int(1), x.int(0))],
    ["mod sign", x.bin("%", x.int(-7), x.int(3))],
    ["double div", x.bin("/", x.path("params.n"), x.int(0))],
    ["fmod", x.bin("%", x.double(5.5), x.double(-2))],
    ["exact int/double eq", x.bin("==", x.int(9007199254740993n), x.double(9007199254740992))],
    ["int/double lt", x.bin("<", x.int(9007199254740993n), x.double(9007199254740994))],
    ["nan", x.bin("<", x.bin("/", x.double(0), x.double(0)), x.int(1))],
    ["string concat", x.bin("+", x.str("ab"), x.path("params.s"))],
    ["string order", x.bin("<", x.str("é"), x.str("z"))],
    ["list concat", x.bin("+", x.list(x.int(1)), x.path("params.l"))],
    ["list eq", x.bin("==", x.list(x.double(1), x.str("a")), x.list(x.int(1), x.str("a")))],
    ["map eq", x.bin("==", x.path("params.m"), x.path("params.m2"))],
    ["in list", x.bin("in", x.int(2), x.path("params.l"))],
    ["in map", x.bin("in", x.str("k"), x.path("params.m"))],
    ["in bad", x.bin("in", x.int(2), x.int(3))],
    ["index list", x.index(x.path("params.l"), x.int(1))],
    ["index double", x.index(x.path("params.l"), x.double(1))],
    ["index frac", x.index(x.path("params.l"), x.double(1.5))],
    ["index oob", x.index(x.path("params.l"), x.int(7))],
    ["index map", x.index(x.path("params.m"), x.str("k"))],
    ["index map missing", x.index(x.path("params.m"), x.str("zz"))],
    ["field on string", x.select(x.path("params.s"), "f")],
    ["has", x.has(x.path("params.m"), "k")],
    ["has non-map", x.has(x.path("params.s"), "k")],
    ["size str", x.call("size", x.str("héllo"))],
    ["size list", x.call("size", x.path("params.l"))],
    ["size bad", x.call("size", x.int(1))],
    ["neg min", x.neg(x.int(-9223372036854775808n))],
    ["not", x.not(x.bool(false))],
    ["not bad", x.not(x.int(1))],
    ["cond", x.cond(x.path("params.b"), x.str("yes"), x.str("no"))],
    ["cond bad", x.cond(x.int(1), x.str("yes"), x.str("no"))],
    ["cond err", x.cond(x.path("params.zz"), x.str("yes"), x.str("no"))],
    ["and nmo", x.and(x.int(1), x.bool(true))],
    ["or err", x.or(x.path("params.zz"), x.bool(false))],
    ["startsWith", x.call("startsWith", x.str("hello"), x.str("he"))],
    ["endsWith", x.call("endsWith", x.str("hello"), x.str("lo"))],
    ["contains long", x.call("contains", x.str("aaaaaaaaaaaaaaaaaaaaab"), x.str("aaaaaaaaaab"))],
    ["contains bad", x.call("contains", x.str("a"), x.int(1))],
    ["matches", x.matches(x.path("params.s"), "^[a-z]+$")],
    ["lowerAscii", x.call("lowerAscii", x.str("HeLLo É"))],
    ["isIBAN", x.call("isIBAN", x.str("DE89370400440532013000"))],
    ["isLuhn", x.call("isLuhn", x.str("79927398713"))],
    ["isURL", x.call("isURL", x.str("https://a.example/x"))],
    ["url host", x.call("url.getHost", x.str("https://EXAMPLE.com:8080/x"))],
    ["url scheme", x.call("url.getScheme", x.str("https://example.com/"))],
    ["url port", x.call("url.getPort", x.str("https://example.com:8080/"))],
    ["url default port", x.call("url.getPort", x.str("https://example.com:443/"))],
    ["url bad", x.call("url.getHost", x.str("nope"))],
    ["isIP", x.call("isIP", x.str("10.0.0.1"))],
    ["cidr", x.call("cidr.containsIP", x.str("10.0.0.0/8"), x.str("10.1.2.3"))],
    ["cidr bad", x.call("cidr.containsIP", x.str("10.0.0.0/99"), x.str("10.1.2.3"))],
    ["cidr bad ip", x.call("cidr.containsIP", x.str("10.0.0.0/8"), x.str("x"))],
    ["int str", x.call("int", x.str("-9223372036854775808"))],
    ["int str overflow", x.call("int", x.str("9223372036854775808"))],
    ["int str bad", x.call("int", x.str("+1"))],
    ["int double", x.call("int", x.double(-2.9))],
    ["int double range", x.call("int", x.double(-9223372036854775808))],
    ["double str", x.call("double", x.str("1.5e3"))],
    ["double str 2", x.call("double", x.str("-.5"))],
    ["double str 3", x.call("double", x.str("007."))],
    ["double str long", x.call("double", x.str("0.1000000000000000055511151231257827021181583404541015625"))],
    ["double str bad", x.call("double", x.str("1e"))],
    ["double int", x.call("double", x.int(3))],
    ["string int", x.call("string", x.int(-42))],
    ["string bool", x.call("string", x.bool(true))],
    ["string double", x.call("string", x.double(1.5))],
    ["list literal error", x.list(x.int(1), x.path("params.zz"))],
    ["agent", x.v("agent")],
    ["tool", x.v("tool")],
    ["context empty", x.v("context")],
    ["params", x.v("params")],
  ];
  const request = JSON.stringify(req({ n: 3, s: "xyz", l: [1, 2, 3], m: { k: 1, j: [true] }, m2: { j: [true], k: 1.0 }, b: false }));

  it("match the reference for every case", () => {
    const bundle = makeBundle({ rules: cases.map(([id, when]) => ({ id: id.replace(/[^A-Za-z0-9]+/g, "-"), when })) });
    load(bundle);
    cases.forEach(([name], i) => {
      const r = host.evalRule(i, request);
      expect(r.code, `${name}: ${r.output}`).toBe(0);
      const ref = evalRuleValue(bundle, i, request);
      expect(ref.ok).toBe(true);
      if (ref.ok) expect(JSON.parse(r.output), name).toEqual(ref.value);
    });
  });

  it("reports an out-of-range rule", () => {
    load(one(null));
    expect(host.evalRule(5, JSON.stringify(req())).code).toBe(109);
  });
});

describe("request errors", () => {
  it("returns request error JSON", () => {
    load(one(null));
    expect(host.evaluate('{"agent":')).toMatchObject({ code: 201 });
    expect(host.evaluate('{"agent":{"id":""},"tool":"t","action":"a"}')).toMatchObject({ code: 206 });
  });
});

describe("tape fast path", () => {
  it("gives the same decision bytes as the JSON path", () => {
    const bundle = makeBundle({
      rules: [
        { id: "big", effect: "deny", when: x.bin(">", x.path("params.amount"), x.int(5000)) },
        { id: "s", effect: "sanitize", redact: [["email"]] },
      ],
      dlp: [{ name: "ssn", pattern: "[0-9]{3}-[0-9]{2}-[0-9]{4}" }],
    });
    load(bundle);
    for (const params of [{ amount: 10, email: "a@b.c", note: "123-45-6789" }, { amount: 9000 }, {}]) {
      const request = req(params, { context: { k: [1, "x", null, true] } });
      const viaJson = host.evaluate(JSON.stringify(request));
      const json = viaJson.output;
      const viaTape = evaluateTape(host, request);
      expect(viaTape).toEqual({ code: 0, output: json });
    }
  });

  it("rejects a tape whose root lies outside the region", () => {
    load(one(null));
    const base = host.x.tape_ptr(1024);
    expect(host.x.evaluate_tape(4096, 16)).toBe(206);
    expect(base).toBeGreaterThan(0);
  });
});

describe("YAML policies end to end", () => {
  it("decide as the reference interpreter does", async () => {
    const { checkSources } = await import("../compiler/check/check.ts");
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(new URL("../policies/procurement.yaml", import.meta.url), "utf8");
    const { bundle, errors } = checkSources([{ path: "policies/procurement.yaml", text }]);
    expect(errors).toEqual([]);
    const requests = [
      { agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount: 7200, currency: "USD", payee_iban: "DE89370400440532013000" } },
      { agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount: 100, currency: "XYZ", payee_iban: "DE89370400440532013000" } },
      { agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: {} },
      { agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount: 10, currency: "EUR", payee_iban: "DE89370400440532013000" }, context: { egress: ["https://evil.example/"] } },
      { agent: { id: "nobody" }, tool: "payments", action: "create_payment" },
    ];
    for (const r of requests) decide(bundle!, r);
  });
});
