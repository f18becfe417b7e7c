// Tests for the Node binding (bindings/node/index.ts) on the real engine (build/aegis.wasm) and a
// bundle compiled from a small policy: the fast path (objects -> tape, cached decisions) must give
// exactly the canonical path's decision bytes; signatures, reloads and request errors.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import * as ed from "@noble/ed25519";
import { compile } from "../../compiler/index.ts";
import { Aegis, BundleError, RequestError, type Decision } from "./index.ts";

const POLICY = `
aegis: 1
policy: shop
version: "2026.1"
default: deny
agents:
  - agent: buyer
    allowed_tools:
      - name: shop
        actions: [order]
        conditions:
          - params.amount <= 1000
        approval_needed_if:
          - params.amount > 500
      - name: shop
        actions: [pay]
        redact: [params.card]
rules:
  - id: catalog-open
    effect: allow
    tool: catalog
  - id: no-admin
    effect: deny
    action: admin
    reason: nobody administers through an agent
  - id: note-watch
    effect: deny
    mode: shadow
    when: has(params.note)
  - id: text-long
    effect: allow
    tool: text
    when: size(params.s) > 3
egress:
  allow_domains: [ok.example, "*.good.example"]
dlp:
  - name: ssn
    pattern: '\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b'
`;

const seed = new Uint8Array(32).map((_, i) => i + 1);
const otherSeed = new Uint8Array(32).map((_, i) => 200 - i);
const deep = process.env.AEGIS_DEEP === "1";
const textDecoder = new TextDecoder();

let bundle: Uint8Array;
let signed: Uint8Array;
let signedByOther: Uint8Array;
let publicKey: Uint8Array;
let aegis: Aegis;

beforeAll(async () => {
  bundle = compile(POLICY);
  signed = compile(POLICY, { privateKey: seed });
  signedByOther = compile(POLICY, { privateKey: otherSeed });
  publicKey = await ed.getPublicKeyAsync(seed);
  aegis = await Aegis.load(bundle);
});

/** The canonical answer: JSON text in, decision bytes out. */
function canonical(request: unknown): Decision {
  return JSON.parse(textDecoder.decode(aegis.evaluateBytes(JSON.stringify(request)))) as Decision;
}

const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constantFrom("123-45-6789", "ssn 987-65-4321 here", "abcd", ""));
const number = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 1200 }), weight: 3 }, fc.integer({ min: -2000, max: 2000 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(500, 500.5, 1000, 1e21, 0.1, -0));
const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null));
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: "small" }, scalar, fc.array(tie("tree"), { maxLength: 3 }), fc.dictionary(fc.string(), tie("tree"), { maxKeys: 3 })),
}));
const url = fc.constantFrom("https://ok.example/x", "https://a.good.example", "https://good.example", "http://evil.example", "not a url", "https://OK.example.:8080/");
const request = fc.record(
  {
    agent: fc.record({ id: fc.oneof({ arbitrary: fc.constant("buyer"), weight: 4 }, fc.constant("other"), fc.string({ minLength: 1 })), tenant: fc.string(), scopes: fc.array(fc.string(), { maxLength: 2 }) }, { requiredKeys: ["id"] }),
    tool: fc.constantFrom("shop", "catalog", "text", "other"),
    action: fc.constantFrom("order", "pay", "admin", "view"),
    params: fc.record({ amount: number, card: text, note: text, s: fc.oneof(text, number), extra: tree }, { requiredKeys: [] }),
    context: fc.oneof(fc.constant({}), fc.record({ egress: fc.oneof(fc.array(url, { maxLength: 3 }), tree) }, { requiredKeys: [] })),
  },
  { requiredKeys: ["agent", "tool", "action"] },
);

describe("Aegis (Node binding)", () => {
  it("replaces only the reason of a cached decision when the reason is dynamic", () => {
    const hosts = ["evil.example", "other.example", "x.evil.example", "a\"b.example"];
    for (let round = 0; round < 2; round++) {
      for (const host of hosts) {
        for (const req of [
          { agent: { id: "buyer" }, tool: "catalog", action: "view", context: { egress: [`https://${host}/p`] } },
          { agent: { id: "buyer" }, tool: "catalog", action: "view", context: { egress: [`not a url ${host}`] } },
          { agent: { id: "buyer" }, tool: "text", action: "view", params: host.length > 12 ? { s: 5 } : {} }, // fail-closed: two different error messages
        ]) {
          const want = canonical(req);
          const got = aegis.evaluate(req);
          expect(got, JSON.stringify(req)).toEqual(want);
          expect(Object.keys(got)).toEqual(Object.keys(want)); // same key order as the JSON
        }
      }
    }
    // Egress failures are dynamic; the same rule slot also serves the static decisions after them.
    expect(aegis.evaluate({ agent: { id: "buyer" }, tool: "catalog", action: "view", context: { egress: ["https://evil.example/"] } }).reason)
      .toBe(canonical({ agent: { id: "buyer" }, tool: "catalog", action: "view", context: { egress: ["https://evil.example/"] } }).reason);
    expect(aegis.evaluate({ agent: { id: "buyer" }, tool: "catalog", action: "view" })).toEqual(canonical({ agent: { id: "buyer" }, tool: "catalog", action: "view" }));
  });

  it("gives the same decision on the fast path as on the canonical path", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(request, (req) => {
        const want = canonical(req);
        const first = aegis.evaluate(req);
        expect(first).toEqual(want);
        // again: now possibly from the decision cache
        expect(aegis.evaluate(req)).toEqual(want);
        expect(aegis.evaluate(JSON.stringify(req))).toEqual(want);
        seen.add(want.decision);
      }),
      {
        numRuns: deep ? 5000 : 400,
        // One request per effect first, so every effect is covered whatever the random seed.
        examples: [
          [{ agent: { id: "buyer" }, tool: "shop", action: "order", params: { amount: 700 } }],
          [{ agent: { id: "buyer" }, tool: "shop", action: "order", params: { amount: 100 } }],
          [{ agent: { id: "buyer" }, tool: "shop", action: "pay", params: { card: "4111" } }],
          [{ agent: { id: "other" }, tool: "shop", action: "admin" }],
        ],
      },
    );
    // the generator reaches every effect
    expect([...seen].sort()).toEqual(["allow", "approval_needed", "deny", "sanitize"]);
  });

  it("treats values JSON.stringify rewrites as JSON.stringify does", () => {
    const odd = [
      { x: NaN, y: [undefined, () => 1], z: new Date(0), w: -0, v: Infinity },
      { toJSON: () => ({ agent: { id: "x" }, tool: "catalog", action: "view" }) },
    ];
    for (const value of odd) {
      const req = { agent: { id: "buyer" }, tool: "shop", action: "order", params: { amount: 1, odd: value } };
      expect(aegis.evaluate(req)).toEqual(canonical(req));
    }
    const whole = odd[1];
    expect(aegis.evaluate(whole)).toEqual(canonical(whole));
  });

  it("returns frozen, shared decisions on the cached path and fresh ones otherwise", () => {
    const req = { agent: { id: "x" }, tool: "catalog", action: "view" };
    const a = aegis.evaluate(req);
    expect(a).toMatchObject({ decision: "allow", rule: "catalog-open", enforced: true, policy: "shop", policy_version: "2026.1", bundle: aegis.digest });
    expect(Object.isFrozen(a)).toBe(true);
    expect(aegis.evaluate({ ...req, params: { other: 1 } })).toBe(a);
    const sanitized = aegis.evaluate({ agent: { id: "buyer" }, tool: "shop", action: "pay", params: { card: "4111", n: 1.50, ssn: "123-45-6789" } });
    expect(sanitized.decision).toBe("sanitize");
    expect(sanitized.params).toEqual({ card: "[REDACTED]", n: 1.5, ssn: "[REDACTED:ssn]" });
    expect(sanitized.redactions![0].path).toBe("params.card");
    expect(sanitized.redactions![1]).toEqual({ path: "params.ssn", by: "dlp:ssn" });
  });

  it("prints params numbers on the canonical path exactly as the request wrote them", () => {
    const bytes = aegis.evaluateBytes('{"agent":{"id":"buyer"},"tool":"shop","action":"pay","params":{"card":"1","n":1.50,"e":1E+2}}');
    expect(textDecoder.decode(bytes)).toContain('"n":1.50,"e":1E+2');
  });

  it("reports the digest of the loaded bundle", () => {
    expect(aegis.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(aegis.evaluate({ agent: { id: "x" }, tool: "catalog", action: "view" }).bundle).toBe(aegis.digest);
  });

  it("verifies signatures when a public key is given", async () => {
    const withKey = await Aegis.load(signed, { publicKey });
    expect(withKey.evaluate({ agent: { id: "x" }, tool: "catalog", action: "view" }).decision).toBe("allow");
    const hex = Buffer.from(publicKey).toString("hex");
    expect((await Aegis.load(signed, { publicKey: hex })).digest).toBe(withKey.digest);
    await expect(Aegis.load(bundle, { publicKey })).rejects.toMatchObject({ name: "BundleError", code: "bad_signature" });
    await expect(Aegis.load(signedByOther, { publicKey })).rejects.toMatchObject({ code: "bad_signature" });
    const tampered = signed.slice();
    tampered[tampered.length - 1] ^= 1; // inside the signature
    await expect(Aegis.load(tampered, { publicKey })).rejects.toBeInstanceOf(BundleError);
    await expect(Aegis.load(signed, { publicKey: "abc" })).rejects.toMatchObject({ code: "bad_signature" });
    // without a key, a signed bundle loads too (the engine still checks its digest)
    expect((await Aegis.load(signed)).digest).toBe(withKey.digest);
    // reload keeps checking the key
    expect(() => withKey.reload(bundle)).toThrow(BundleError);
    expect(withKey.evaluate({ agent: { id: "x" }, tool: "catalog", action: "view" }).decision).toBe("allow");
  });

  it("keeps the old bundle serving when a reload fails, and swaps on success", async () => {
    const live = await Aegis.load(bundle);
    const before = live.digest;
    const req = { agent: { id: "x" }, tool: "catalog", action: "view" };
    expect(live.evaluate(req).decision).toBe("allow");
    for (const bad of [new Uint8Array(0), new Uint8Array([1, 2, 3]), bundle.subarray(0, bundle.length - 1), Uint8Array.from(bundle, (b, i) => (i === 40 ? b ^ 0xff : b))]) {
      let error: unknown;
      try { live.reload(bad); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(BundleError);
      expect(typeof (error as BundleError).code).toBe("string");
      expect(live.digest).toBe(before);
      expect(live.evaluate(req)).toMatchObject({ decision: "allow", bundle: before });
    }
    const next = compile(POLICY.replace("version: \"2026.1\"", "version: \"2026.2\"").replace("tool: catalog", "tool: nothing"));
    live.reload(next);
    expect(live.digest).not.toBe(before);
    // the decision cache was cleared: the new bundle's digest and version are reported
    expect(live.evaluate(req)).toMatchObject({ decision: "deny", rule: "default", policy_version: "2026.2", bundle: live.digest });
  });

  it("throws RequestError with the engine's code, message and offset", () => {
    const errorOf = (req: unknown) => {
      try { aegis.evaluate(req as object); } catch (e) { expect(e).toBeInstanceOf(RequestError); return { ...(e as RequestError), message: (e as RequestError).message }; }
      throw new Error("no error");
    };
    expect(errorOf("{")).toMatchObject({ code: "invalid_json", offset: 1, message: "unexpected end of input" });
    expect(errorOf('{"agent":{"id":"a"},"agent":{"id":"b"},"tool":"t","action":"a"}')).toMatchObject({ code: "duplicate_key", offset: 20 });
    expect(errorOf(new Uint8Array([0x22, 0xff, 0x22]))).toMatchObject({ code: "invalid_utf8", offset: 1 });
    expect(errorOf({ agent: { id: "" }, tool: "t", action: "a" })).toMatchObject({ code: "invalid_request", message: "request.agent.id must be a non-empty string" });
    expect(errorOf({ agent: { id: "a" }, tool: "t", action: "a", extra: 1 })).toMatchObject({ code: "invalid_request", message: "request has unknown key `extra`" });
    const cyclic: Record<string, unknown> = { agent: { id: "a" }, tool: "t", action: "a" };
    cyclic.params = cyclic;
    expect(errorOf(cyclic).code).toBe("invalid_request");
    expect(errorOf({ agent: { id: "a" }, tool: "t", action: "a", params: { n: 1n } }).code).toBe("invalid_request");
    expect(errorOf(undefined).code).toBe("invalid_request");
    expect(errorOf(5).code).toBe("invalid_request");
    expect(errorOf("\ud800").code).toBe("invalid_utf8");
    expect(errorOf("x".repeat(2 * 1024 * 1024))).toMatchObject({ code: "request_too_large" });
    expect(errorOf(new Uint8Array(2 * 1024 * 1024))).toMatchObject({ code: "request_too_large" });
    let nested: unknown = 1;
    for (let i = 0; i < 70; i++) nested = [nested];
    expect(errorOf({ agent: { id: "a" }, tool: "t", action: "a", params: { nested } }).code).toBe("too_deep");
    expect(() => aegis.evaluateBytes("[]")).toThrow(RequestError);
  });
});
