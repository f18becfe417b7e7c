// The engine as a WebAssembly component (bindings/component, scripts/build-component.ts): the
// component imports nothing and exports `aegis:policy/engine@0.1.0`; it decides the sample policy
// with the Node binding's exact bytes; a bad bundle is an `error` result and the previous bundle
// keeps serving; random bytes are an `error` result, never a trap; and the whole conformance
// corpus (decisions, request errors, decision records) runs through conformance/hosts/component.ts,
// honouring conformance/skips/component.yaml. Input: the built component (built here when missing
// or stale), policies/procurement.yaml and conformance/cases. Output: test results.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/index.ts";
import type { Aegis, BundleError, RequestError } from "../bindings/node/index.ts";
import { ComponentEngineError, instantiateComponent, type ComponentEngine } from "../bindings/component/index.ts";
import { buildComponent, type ComponentBuild } from "../scripts/build-component.ts";
import { createComponentHost } from "./hosts/component.ts";
import { bundleDigest, CorpusSession, loadCorpus } from "./runner.ts";
import { describeCorpusCases } from "./case-test.ts";
import { Limits } from "../compiler/generated/bytecode.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let built: ComponentBuild;
beforeAll(async () => {
  built = await buildComponent();
});

function procurementBundle(): Uint8Array {
  const file = path.join(repoRoot, "policies", "procurement.yaml");
  return compile([{ path: "policies/procurement.yaml", text: readFileSync(file, "utf8") }]);
}

/** The error record a call threw, or a failure naming what came instead. */
function thrownRecord(call: () => unknown): ComponentEngineError {
  try {
    call();
  } catch (e) {
    if (e instanceof ComponentEngineError) return e;
    throw new Error(`expected a ComponentEngineError, got ${String(e)}`);
  }
  throw new Error("expected an error result, the call succeeded");
}

const REQUEST_ERROR_CODES = new Set([
  "request_too_large", "invalid_json", "invalid_utf8", "duplicate_key", "too_deep", "too_many_values", "invalid_request",
]);

describe("component artefact", () => {
  it("is a component that imports nothing and exports aegis:policy/engine@0.1.0", async () => {
    const jco = await import("@bytecodealliance/jco");
    const component = new Uint8Array(readFileSync(built.component));
    const wit = await jco.componentWit(component);
    expect(wit).toContain("export aegis:policy/engine@0.1.0;");
    expect(wit).not.toMatch(/^\s*import\s/m);
    // The core module inside needs no host functions either (not even `env.abort`).
    const core = await WebAssembly.compile(readFileSync(path.join(path.dirname(built.js), "aegis.core.wasm")));
    expect(WebAssembly.Module.imports(core)).toEqual([]);
    expect(WebAssembly.Module.exports(core).map((e) => e.name).sort()).toEqual([
      "aegis:policy/engine@0.1.0#bundle-digest", "aegis:policy/engine@0.1.0#evaluate", "aegis:policy/engine@0.1.0#load",
      "cabi_realloc", "memory",
    ]);
  });

  it("is up to date after a build: a second build writes nothing", async () => {
    expect((await buildComponent()).rebuilt).toBe(false);
  });
});

describe("component engine", () => {
  let engine: ComponentEngine;
  let node: Aegis;
  const bundle = procurementBundle();
  const requests = [
    { agent: { id: "finance-agent", tenant: "acme" }, tool: "payments", action: "create_payment", params: { amount: 1200, currency: "EUR", payee_iban: "DE89370400440532013000" } },
    { agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount: 7200, currency: "USD", payee_iban: "DE89370400440532013000" } },
    { agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount: 7200, currency: "USD", payee_iban: "DE89370400440532013000" }, context: { call_chain: ["planner-agent"] } },
    { agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount: 10, currency: "USD", payee_iban: "DE89370400440532013001" } },
    { agent: { id: "sourcing-agent" }, tool: "supplier-portal", action: "fetch_quote", params: { supplier_id: "SUPP-0042" }, context: { egress: ["https://evil.example/x"] } },
    { agent: { id: "supplier-agent" }, tool: "supplier-master", action: "change_bank_details", params: { supplier_id: "SUPP-0042", new_iban: "GB82WEST12345698765432" } },
  ];

  let binding: typeof import("../bindings/node/index.ts");

  beforeAll(async () => {
    engine = await instantiateComponent();
    // Imported here, not at the top: the corpus tests below do not depend on the Node binding.
    binding = await import("../bindings/node/index.ts");
    node = await binding.Aegis.load(bundle);
  });

  it("answers no_bundle and has no digest before any load", async () => {
    const fresh = await instantiateComponent();
    expect(fresh.bundleDigest()).toBeUndefined();
    expect(thrownRecord(() => fresh.evaluate(encoder.encode(JSON.stringify(requests[0])))).code).toBe("no_bundle");
  });

  it("loads the procurement bundle and reports its sha256 digest", () => {
    engine.load(bundle);
    expect(engine.bundleDigest()).toBe(bundleDigest(bundle));
    expect(engine.bundleDigest()).toBe(node.digest);
  });

  it("decides the procurement requests with the Node binding's exact bytes", () => {
    const effects: string[] = [];
    for (const request of requests) {
      const bytes = encoder.encode(JSON.stringify(request));
      const got = engine.evaluate(bytes);
      expect(decoder.decode(got)).toBe(decoder.decode(node.evaluateBytes(bytes)));
      effects.push((JSON.parse(decoder.decode(got)) as { decision: string }).decision);
    }
    // Read from policies/procurement.yaml: <= 5,000 allowed, above approval; a planner in the call
    // chain denies; a bad IBAN fails a condition; an unlisted egress host denies; bank details need approval.
    expect(effects).toEqual(["allow", "approval_needed", "deny", "deny", "deny", "approval_needed"]);
  });

  it("reports request errors with the engine's code, message and offset, escapes decoded", () => {
    const duplicateKey = '{"agent":{"id":"a"},"tool":"t","action":"x","params":{"k\\"\\n\\u0001":1,"k\\"\\n\\u0001":2}}';
    const bad = [
      "",
      '{"tool":',
      duplicateKey,
      '{"agent":{"id":""},"tool":"t","action":"x"}',
      '{"agent":{"id":"a"},"tool":"t","action":"x","extra\\"key":1}',
      "\ufeff{}",
      "[1,2",
    ];
    for (const text of bad) {
      const bytes = encoder.encode(text);
      const got = thrownRecord(() => engine.evaluate(bytes));
      let want: RequestError | undefined;
      try { node.evaluateBytes(bytes); } catch (e) { want = e as RequestError; }
      expect(want, text).toBeInstanceOf(binding.RequestError);
      expect({ code: got.code, message: got.message, offset: got.offset }, text).toEqual({ code: want!.code, message: want!.message, offset: want!.offset });
    }
    // The duplicate key comes back as the characters it spells, not as JSON escapes.
    expect(thrownRecord(() => engine.evaluate(encoder.encode(duplicateKey))).message).toBe('duplicate key `k"\n\u0001`');
  });

  it("rejects a request over the size limit as the Node binding does", () => {
    const big = new Uint8Array(Limits.MAX_REQUEST_BYTES + 10).fill(0x20);
    const got = thrownRecord(() => engine.evaluate(big));
    let want: RequestError | undefined;
    try { node.evaluateBytes(big); } catch (e) { want = e as RequestError; }
    expect({ code: got.code, message: got.message, offset: got.offset }).toEqual({ code: want!.code, message: want!.message, offset: want!.offset });
    expect(got.code).toBe("request_too_large");
  });

  it("rejects a bad bundle with an error result and keeps serving the previous one", async () => {
    engine.load(bundle);
    const request = encoder.encode(JSON.stringify(requests[1]));
    const before = decoder.decode(engine.evaluate(request));
    const digest = engine.bundleDigest();

    const corrupt = bundle.slice();
    corrupt[0] ^= 0xff;
    const badMagic = thrownRecord(() => engine.load(corrupt));
    let nodeError: BundleError | undefined;
    try { await binding.Aegis.load(corrupt); } catch (e) { nodeError = e as BundleError; }
    expect({ code: badMagic.code, message: badMagic.message, offset: badMagic.offset })
      .toEqual({ code: nodeError!.code, message: nodeError!.message, offset: nodeError!.offset });

    const truncated = thrownRecord(() => engine.load(bundle.subarray(0, bundle.length >> 1)));
    expect(truncated.code).not.toBe("");
    expect(thrownRecord(() => engine.load(new Uint8Array(0))).code).not.toBe("");

    expect(engine.bundleDigest()).toBe(digest);
    expect(decoder.decode(engine.evaluate(request))).toBe(before);
  });

  it("rejects a bundle over the size limit without trapping and keeps serving", () => {
    engine.load(bundle);
    const request = encoder.encode(JSON.stringify(requests[0]));
    const before = decoder.decode(engine.evaluate(request));
    const huge = new Uint8Array(Limits.MAX_BUNDLE_BYTES + 1);
    expect(thrownRecord(() => engine.load(huge)).code).toBe("bundle_too_large");
    expect(decoder.decode(engine.evaluate(request))).toBe(before);
  });

  it("answers random bytes as a request with an error result, never a trap", () => {
    engine.load(bundle);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      let outcome: string;
      try {
        outcome = decoder.decode(engine.evaluate(bytes));
      } catch (e) {
        if (!(e instanceof ComponentEngineError)) throw e;
        expect(REQUEST_ERROR_CODES.has(e.code), e.code).toBe(true);
        expect(e.message).not.toBe("");
        return;
      }
      // A few byte strings are valid requests (or JSON that fails validation differently): then
      // they must decide exactly as the Node binding does.
      expect(outcome).toBe(decoder.decode(node.evaluateBytes(bytes)));
    }), { numRuns: 300, seed: 0x4e61 });
    // And it still decides afterwards.
    expect(decoder.decode(engine.evaluate(encoder.encode(JSON.stringify(requests[1]))))).toContain('"approval_needed"');
  });

  it("answers random bytes as a bundle with an error result, never a trap", () => {
    engine.load(bundle);
    const digest = engine.bundleDigest();
    // Random bytes, and the real bundle with random bytes overwritten (which gets past the header).
    const mutated = fc.tuple(fc.nat({ max: bundle.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([at, patch]) => { const b = bundle.slice(); b.set(patch.subarray(0, b.length - at), at); return b; });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated), (bytes) => {
      try {
        engine.load(bytes);
      } catch (e) {
        if (!(e instanceof ComponentEngineError)) throw e;
        expect(e.code).toMatch(/^[a-z_]+$/);
      }
    }), { numRuns: 200, seed: 0x4e62 });
    engine.load(bundle);
    expect(engine.bundleDigest()).toBe(digest);
  });
});

describe("conformance component", () => {
  const session = new CorpusSession(createComponentHost());
  describeCorpusCases("component", loadCorpus(), () => session);
});
