// Differential tests: the wasm engine against the TypeScript reference interpreter (the executable
// form of docs/semantics.md), on random policy bundles and requests (conformance/arbitraries.ts).
// Policy level: random YAML policy files -> checkSources -> compileChecked -> the Node binding's
// canonical path (`evaluateBytes`) must return the reference decision bytes exactly, and the fast
// path (`evaluate(object)`) must return the same decision object. Expression level: random
// expressions -> `eval_rule_value` must return the reference `evalRuleValue` value JSON exactly.
// `npm test` runs >= 2,000 cases per property; `AEGIS_DEEP=1` (npm run test:deep) runs 50,000.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import type { CheckedBundle, Source } from "../compiler/ast.ts";
import { checkExpressionSource, checkSources, compileChecked } from "../compiler/index.ts";
import { evaluateReference } from "../compiler/reference/interpreter.ts";
import { Aegis, RequestError, type Decision } from "../bindings/node/index.ts";
import { bundleDigest } from "./runner.ts";
import { expressions, policyFiles, requestJson } from "./arbitraries.ts";
import { expressionBundle, MINIMAL_REQUEST, outcomeText, referenceValue, ValueEngine } from "./cel-spec/run.ts";

const DEEP = !!process.env.AEGIS_DEEP;
/** Policy-level property runs; each run is one bundle and 1-3 requests. */
const POLICY_RUNS = DEEP ? 50_000 : 2_000;
/** Expression-level property runs; each run is one expression and 1-3 requests. */
const EXPR_RUNS = DEEP ? 50_000 : 3_000;
/** Per-test timeout: the deep runs take minutes. */
const TIMEOUT = DEEP ? 3_600_000 : 120_000;

/**
 * Real engine/reference disagreements found by these properties, for the lead to fix. Each entry
 * is a minimal reproducer, at the policy level (`policy` YAML + request: decision bytes) or the
 * expression level (`expr` + request: value JSON); a fixed-example test asserts it still differs,
 * so a fixed bug makes the entry stale (delete it then). `matches` recognises other random cases
 * caused by the same bug, given the policy texts (or the expression), the request and both
 * outputs; the properties count those instead of failing on them. Never widen a matcher beyond
 * its bug: every other difference must still fail.
 */
const KNOWN_DIFFERENCES: {
  name: string;
  policy?: string;
  expr?: string;
  request: string;
  matches: (texts: string[], request: string, engine: string, reference: string) => boolean;
}[] = [
];


const textDecoder = new TextDecoder();

/** What a host returned for one request: decision text or the error code and message. */
function engineCanonical(aegis: Aegis, request: string): string {
  try {
    return textDecoder.decode(aegis.evaluateBytes(request));
  } catch (e) {
    if (e instanceof RequestError) return `error ${e.code}: ${e.message} @${e.offset ?? "-"}`;
    throw e;
  }
}

function referenceCanonical(bundle: CheckedBundle, request: string, digest: string): string {
  const r = evaluateReference(bundle, request, digest);
  return r.ok ? r.decision : `error ${r.code}: ${r.message} @${r.offset ?? "-"}`;
}

function engineFast(aegis: Aegis, request: unknown): string {
  try {
    return JSON.stringify(aegis.evaluate(request as object));
  } catch (e) {
    if (e instanceof RequestError) return `error ${e.code}`;
    throw e;
  }
}

/** A decision's kind for the tally: effect, and what decided (rule, default, egress, dlp, failed rule). */
function decisionKind(d: Decision): string {
  const by = d.rule === "default" || d.rule === "egress" ? d.rule : d.rule.startsWith("dlp:") ? "dlp"
    : d.reason.includes(" failed at ") ? "failed-rule" : "rule";
  return `${d.decision}/${by}${d.enforced ? "" : "/unenforced"}${d.shadow ? "+shadow" : ""}`;
}

function describeCase(sources: Source[], request: string): string {
  return [...sources.map((s) => `--- ${s.path}\n${s.text}`), `--- request\n${request}`].join("\n");
}

function isKnown(texts: string[], request: string, engine: string, reference: string): boolean {
  return KNOWN_DIFFERENCES.some((k) => k.matches(texts, request, engine, reference));
}

const stats = { bundles: 0, rejected: 0, requests: 0, decisions: new Map<string, number>(), known: 0 };

describe("differential: wasm engine vs reference interpreter (policies)", () => {
  let aegis: Aegis;

  beforeAll(async () => {
    const { bundle } = checkSources([{ path: "init.yaml", text: "aegis: 1\npolicy: init\nversion: \"1\"\n" }]);
    aegis = await Aegis.load(compileChecked(bundle!));
  });

  afterAll(() => {
    const d = [...stats.decisions].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ");
    console.log(`differential policies: ${stats.bundles} bundles (${stats.rejected} rejected by the checker), ${stats.requests} requests: ${d}; ${stats.known} known differences`);
  });

  /** Runs one bundle and its requests through both implementations; throws on a difference. */
  function checkBundle(sources: Source[], requests: string[]): void {
    const { bundle, errors } = checkSources(sources);
    stats.bundles++;
    if (!bundle || errors.length > 0) {
      // The generators aim at well-typed policies; a rare static type error is not a difference.
      stats.rejected++;
      return;
    }
    const bytes = compileChecked(bundle);
    aegis.reload(bytes);
    const digest = bundleDigest(bytes);
    expect(aegis.digest).toBe(digest);
    for (const request of requests) {
      stats.requests++;
      const engine = engineCanonical(aegis, request);
      const reference = referenceCanonical(bundle, request, digest);
      if (engine !== reference && isKnown(sources.map((s) => s.text), request, engine, reference)) { stats.known++; continue; }
      expect(engine, `canonical path differs from the reference\n${describeCase(sources, request)}\n--- reference\n${reference}`).toBe(reference);
      const decision = reference.startsWith("{") ? decisionKind(JSON.parse(reference) as Decision) : "error";
      stats.decisions.set(decision, (stats.decisions.get(decision) ?? 0) + 1);

      // The fast path reads a JS object, which means its JSON.stringify form (numbers lose their
      // lexemes, 1e400 becomes null): compare with the reference on exactly that text.
      const object = JSON.parse(request) as unknown;
      const canonicalText = JSON.stringify(object);
      const expected = canonicalText === request ? reference : referenceCanonical(bundle, canonicalText, digest);
      const fast = engineFast(aegis, object);
      const fastAgrees = expected.startsWith("{")
        ? fast.startsWith("{") && isDeepStrictEqual(JSON.parse(fast), JSON.parse(expected))
        : fast === expected.replace(/:.*$/s, "");
      if (!fastAgrees && isKnown(sources.map((s) => s.text), canonicalText, fast, expected)) { stats.known++; continue; }
      if (expected.startsWith("{")) {
        expect(fast.startsWith("{") ? JSON.parse(fast) : fast, `fast path differs from the reference\n${describeCase(sources, canonicalText)}`).toEqual(JSON.parse(expected));
      } else {
        expect(fast, `fast path error differs\n${describeCase(sources, canonicalText)}`).toBe(expected.replace(/:.*$/s, ""));
      }
    }
  }

  it(`agrees on ${POLICY_RUNS} random bundles with 1-3 requests each (decision bytes and fast path)`, () => {
    fc.assert(
      fc.property(policyFiles(), fc.array(requestJson, { minLength: 1, maxLength: 3 }), (sources, requests) => {
        checkBundle(sources, requests);
      }),
      { numRuns: POLICY_RUNS },
    );
  }, TIMEOUT);

  it("agrees on many requests against one larger bundle", () => {
    fc.assert(
      fc.property(policyFiles({ maxRules: 10, exprDepth: 3 }), fc.array(requestJson, { minLength: 20, maxLength: 40 }), (sources, requests) => {
        checkBundle(sources, requests);
      }),
      { numRuns: DEEP ? 2_000 : 40 },
    );
  }, TIMEOUT);

  for (const k of KNOWN_DIFFERENCES.filter((x) => x.policy !== undefined)) {
    it(`known difference still differs (delete the entry once fixed): ${k.name}`, () => {
      const sources = [{ path: "p0.yaml", text: k.policy! }];
      const { bundle, errors } = checkSources(sources);
      expect(errors).toEqual([]);
      const bytes = compileChecked(bundle!);
      aegis.reload(bytes);
      const engine = engineCanonical(aegis, k.request);
      const reference = referenceCanonical(bundle!, k.request, bundleDigest(bytes));
      expect(engine, "stale KNOWN_DIFFERENCES entry: engine and reference now agree").not.toBe(reference);
      expect(k.matches([k.policy!], k.request, engine, reference), "an entry must match its own reproducer").toBe(true);
    });
  }
});

describe("differential: eval_rule_value vs evalRuleValue (expressions)", () => {
  const engine = new ValueEngine();
  const exprs = expressions(3);
  const tally = { runs: 0, rejected: 0, known: 0, values: new Map<string, number>() };

  afterAll(() => {
    const v = [...tally.values].map(([k, n]) => `${k} ${n}`).join(", ");
    console.log(`differential expressions: ${tally.runs} expressions (${tally.rejected} rejected by the checker): ${v}; ${tally.known} known differences`);
  });

  it("writes a computed NaN as the canonical quiet NaN, as the reference does", async () => {
    for (const text of ["0.0 / 0.0", "1.0 % 0.0", "-(0.0 / 0.0)"]) {
      const { expr, errors } = checkExpressionSource(text);
      expect(errors).toEqual([]);
      const bundle = expressionBundle(text, expr!);
      const engineOut = outcomeText(await engine.evaluate(compileChecked(bundle), MINIMAL_REQUEST));
      expect(engineOut, text).toContain('"bits":"7ff8000000000000"');
      expect(engineOut, text).toBe(outcomeText(referenceValue(bundle, MINIMAL_REQUEST)));
    }
  });

  for (const k of KNOWN_DIFFERENCES.filter((x) => x.expr !== undefined)) {
    it(`known difference still differs (delete the entry once fixed): ${k.name}`, async () => {
      const { expr, errors } = checkExpressionSource(k.expr!);
      expect(errors).toEqual([]);
      const bundle = expressionBundle(k.expr!, expr!);
      const engineOut = outcomeText(await engine.evaluate(compileChecked(bundle), k.request));
      const referenceOut = outcomeText(referenceValue(bundle, k.request));
      expect(engineOut, "stale KNOWN_DIFFERENCES entry: engine and reference now agree").not.toBe(referenceOut);
      expect(k.matches([k.expr!], k.request, engineOut, referenceOut), "an entry must match its own reproducer").toBe(true);
    });
  }

  it(`agrees on ${EXPR_RUNS} random expressions`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(exprs.bool, exprs.any), fc.array(requestJson, { minLength: 1, maxLength: 3 }), async (text, requests) => {
        tally.runs++;
        const { expr, errors } = checkExpressionSource(text);
        if (!expr || errors.length > 0) { tally.rejected++; return; }
        const bundle = expressionBundle(text, expr);
        const bytes = compileChecked(bundle);
        for (const [i, request] of [MINIMAL_REQUEST, ...requests].entries()) {
          const got = i === 0 ? await engine.evaluate(bytes, request) : engine.evaluateLoaded(request);
          const want = referenceValue(bundle, request);
          if (outcomeText(got) !== outcomeText(want) && isKnown([text], request, outcomeText(got), outcomeText(want))) { tally.known++; continue; }
          expect(outcomeText(got), `expression \`${text}\`\nrequest ${request}`).toBe(outcomeText(want));
          const type = want.kind === "value" ? (want.value.type === "error" ? `error:${want.value.code}` : want.value.type) : want.kind;
          tally.values.set(type, (tally.values.get(type) ?? 0) + 1);
        }
      }),
      { numRuns: EXPR_RUNS },
    );
  }, TIMEOUT);
});
