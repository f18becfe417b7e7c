// Tests of the evaluation budget (docs/semantics.md "Limits"): computed strings and lists over
// MAX_VALUE_BYTES, or past MAX_EVAL_BYTES in one evaluation, are value_too_large and the rule
// fails closed; DLP rewrites and redaction records are charged too. Input: policies and requests
// that would otherwise grow engine memory past what wasm32 holds. Output: decisions from the
// engine (through the Node binding, both the JSON and the object paths) compared byte for byte
// with the reference interpreter.
import { describe, it, expect } from "vitest";
import { Aegis } from "../bindings/node/index.ts";
import { checkSources, compile, compileChecked } from "../compiler/index.ts";
import { readBundle } from "../compiler/bundle/read.ts";
import { makeBundle } from "../compiler/lower/fixtures.ts";
import { evaluateReference } from "../compiler/reference/interpreter.ts";
import { Limits } from "../compiler/generated/bytecode.ts";
import type { CheckedBundle } from "../compiler/ast.ts";

const FILE = "limits.yaml";
const TOO_LARGE = "value is larger than the limit";

/** The policy file: one rule per `when`, ids r0, r1, ...; default allow so a failure shows as deny. */
function policy(whens: string[], extra = ""): string {
  let text = "aegis: 1\npolicy: limits\nversion: \"1\"\ndefault: allow\nrules:\n";
  whens.forEach((w, i) => { text += `  - id: r${i}\n    effect: allow\n    when: '${w}'\n`; });
  return text + extra;
}

/** `params.s` doubled `k` times by `+`: ((s + s) + (s + s)) + ... (2^k leaves). */
function doubled(k: number, leaf = "params.s"): string {
  return k === 0 ? leaf : `(${doubled(k - 1, leaf)} + ${doubled(k - 1, leaf)})`;
}

/** 1-based line:col of the first occurrence of `needle` after `after` in `text` (ASCII text). */
function position(text: string, after: string, offsetInAfter: number): string {
  const at = text.indexOf(after) + offsetInAfter;
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return `${line}:${at - before.lastIndexOf("\n")}`;
}

interface Setup { aegis: Aegis; checked: CheckedBundle; digest: string }

async function setup(text: string): Promise<Setup> {
  const bytes = compile([{ path: FILE, text }]);
  const { bundle: checked, errors } = checkSources([{ path: FILE, text }]);
  if (!checked || errors.length > 0) throw new Error(errors.map((e) => e.message).join("; "));
  return { aegis: await Aegis.load(bytes), checked, digest: readBundle(bytes).digestHex };
}

async function setupChecked(checked: CheckedBundle): Promise<Setup> {
  const bytes = compileChecked(checked);
  return { aegis: await Aegis.load(bytes), checked, digest: readBundle(bytes).digestHex };
}

const request = (params: unknown) => ({ agent: { id: "a1" }, tool: "t", action: "x", params });

/**
 * Decide on the engine's JSON path, its object (tape) path, and the reference; the JSON path and
 * the reference must agree byte for byte, the object path must give the same decision.
 */
function decide(s: Setup, req: object): Record<string, unknown> {
  const text = JSON.stringify(req);
  const engineText = new TextDecoder().decode(s.aegis.evaluateBytes(text));
  const ref = evaluateReference(s.checked, text, s.digest);
  if (!ref.ok) throw new Error(ref.message);
  expect(engineText).toBe(ref.decision);
  const decision = JSON.parse(engineText) as Record<string, unknown>;
  expect(s.aegis.evaluate(req)).toEqual(decision);
  return decision;
}

describe("limits in spec/bytecode.json", () => {
  it("are 4 MiB per value and 64 MiB per evaluation", () => {
    expect(Limits.MAX_VALUE_BYTES).toBe(4 * 1024 * 1024);
    expect(Limits.MAX_EVAL_BYTES).toBe(64 * 1024 * 1024);
  });
});

describe("string concatenation", () => {
  const s256k = "a".repeat(256 * 1024);

  it("an exponentially growing concatenation of a 256 KiB string fails closed at the `+` that passes the limit", async () => {
    // 2^5 leaves: the top `+` would make 8 MiB; each half (4 MiB) is still allowed.
    const when = `size(${doubled(5)}) > 0`;
    const text = policy([when]);
    const s = await setup(text);
    const d = decide(s, request({ s: s256k }));
    // The top `+` sits right after the first half: `size(` `(` half ` `.
    const at = position(text, when, "size((".length + doubled(4).length + 1);
    expect(d).toMatchObject({ decision: "deny", rule: "r0", reason: `rule \`r0\` failed at ${FILE}:${at}: ${TOO_LARGE}` });
    // The same engine instance keeps serving: the next evaluation starts a fresh budget.
    expect(decide(s, request({ s: "ab" }))).toMatchObject({ decision: "allow", rule: "r0" });
  });

  it("much deeper growth still ends in the same error, never a trap", async () => {
    const s = await setup(policy([`size(${doubled(9)}) > 0`]));
    const d = decide(s, request({ s: s256k }));
    expect(d.decision).toBe("deny");
    expect(String(d.reason)).toContain(TOO_LARGE);
  });

  it("a result of exactly MAX_VALUE_BYTES is allowed, one byte more is not (UTF-8 bytes, not characters)", async () => {
    const s = await setup(policy([`size(${doubled(4)}) == 2097152`]));
    // 131072 two-byte characters: 256 KiB of UTF-8, so 2^4 copies are exactly 4 MiB.
    expect(decide(s, request({ s: "é".repeat(131072) }))).toMatchObject({ decision: "allow", rule: "r0" });
    const over = decide(s, request({ s: "é".repeat(131071) + "abc" }));
    expect(over).toMatchObject({ decision: "deny", rule: "r0" });
    expect(String(over.reason)).toContain(TOO_LARGE);
  });
});

describe("list concatenation", () => {
  it("counts 16 bytes per element: 2 x 131072 elements fit, 3 x do not", async () => {
    const s = await setup(policy([
      "size(params.l + params.l) == 262144",
      "size((params.l + params.l) + params.l) > 0",
    ]));
    const d = decide(s, request({ l: new Array(131072).fill(0) }));
    expect(d).toMatchObject({ decision: "deny", rule: "r1" });
    expect(String(d.reason)).toContain(TOO_LARGE);
  });
});

describe("the per-evaluation budget", () => {
  // Ten rules of seven 1 MiB concatenations: the 65th (rule r9's second) passes 64 MiB.
  const m = "x".repeat(512 * 1024);
  const perRule = Array.from({ length: 7 }, () => "size(params.m + params.m) > 0").join(" && ");
  const whens = Array.from({ length: 10 }, () => perRule);

  it("trips on many medium concatenations spread over the rules of one decision", async () => {
    const text = policy(whens);
    const s = await setup(text);
    const d = decide(s, request({ m }));
    expect(d).toMatchObject({ decision: "deny", rule: "r9" });
    // r9's second `+`: line of r9's `when`, column of that `+`.
    const line = text.split("\n").findIndex((l, i, all) => all[i - 2] === "  - id: r9") + 1;
    const col = `    when: '${perRule}`.indexOf("+", `    when: '${perRule}`.indexOf("+") + 1) + 1;
    expect(d.reason).toBe(`rule \`r9\` failed at ${FILE}:${line}:${col}: ${TOO_LARGE}`);
  });

  it("is not tripped by the same work split over evaluations", async () => {
    const s = await setup(policy(whens.slice(0, 9)));
    for (let i = 0; i < 3; i++) expect(decide(s, request({ m }))).toMatchObject({ decision: "allow", rule: "r0" });
  });

  it("charges lowerAscii, string() and list literals too", async () => {
    const big = "Q".repeat(1000 * 1000);
    const lower = Array.from({ length: 68 }, () => 'params.b.lowerAscii() != ""').join(" && ");
    const s = await setup(policy([lower, 'string(12) == "12" && [1, 2] == [1, 2]']));
    const d = decide(s, request({ b: big }));
    expect(d).toMatchObject({ decision: "deny", rule: "r0" });
    expect(String(d.reason)).toContain(TOO_LARGE);
    expect(decide(s, request({ b: "Q" }))).toMatchObject({ decision: "allow", rule: "r0" });
  });
});

describe("redaction", () => {
  it("DLP replacement strings that grow past MAX_VALUE_BYTES deny instead of allocating", async () => {
    const name = "n".repeat(100);
    const s = await setup(policy(["true"], `dlp:\n  - name: ${name}\n    pattern: '[0-9]'\n`));
    // 100000 one-byte matches, each replaced by 111 bytes: about 11 MB.
    const text = JSON.stringify(request({ digits: "7".repeat(100000) }));
    const bytes = new TextDecoder().decode(s.aegis.evaluateBytes(text));
    const d = JSON.parse(bytes);
    expect(d).toMatchObject({
      decision: "deny", rule: `dlp:${name}`, enforced: true, reason: `redaction by \`dlp:${name}\` failed: ${TOO_LARGE}`,
    });
    const ref = evaluateReference(s.checked, text, s.digest);
    expect(ref.ok && ref.decision).toBe(bytes);
    // The fast path must not serve a cached decision of another DLP pattern or rule.
    expect(s.aegis.evaluate(JSON.parse(text))).toEqual(d);
  });

  it("DLP paths under a long key over many matching strings deny instead of exhausting memory", async () => {
    // 100000 records, each with a ~500 KB path: 50 GB of path text without the budget.
    const s = await setup(policy(["true"], "dlp:\n  - name: one\n    pattern: '1'\n"));
    const key = "k".repeat(500 * 1000);
    const text = JSON.stringify(request({ [key]: new Array(100000).fill("1") }));
    const bytes = new TextDecoder().decode(s.aegis.evaluateBytes(text));
    expect(JSON.parse(bytes)).toMatchObject({
      decision: "deny", rule: "dlp:one", enforced: true, reason: `redaction by \`dlp:one\` failed: ${TOO_LARGE}`,
    });
    const ref = evaluateReference(s.checked, text, s.digest);
    expect(ref.ok && ref.decision).toBe(bytes);
    // A few such strings still sanitize normally.
    const small = JSON.stringify(request({ [key]: ["1", "2"] }));
    const ok = JSON.parse(new TextDecoder().decode(s.aegis.evaluateBytes(small)));
    expect(ok).toMatchObject({ decision: "sanitize", rule: "dlp:one" });
    expect(ok.params[key]).toEqual(["[REDACTED:one]", "2"]);
  });

  it("redact paths of many sanitize rules sharing one long key fail closed at the rule", async () => {
    const key = "k".repeat(500 * 1000);
    const rules = Array.from({ length: 200 }, (_, i) => ({ id: `s${i}`, effect: "sanitize" as const, redact: [[key]] }));
    const s = await setupChecked(makeBundle({ policies: [{ default: "allow" }], rules }));
    const d = decide(s, request({ [key]: "secret" }));
    // 64 MiB / (16 + ~500 KB path) records fit: the next rule's record fails.
    expect(d).toMatchObject({ decision: "deny", rule: "s134" });
    expect(String(d.reason)).toMatch(/^rule `s134` failed at .*: value is larger than the limit$/);
  });
});

describe("nesting of list literals", () => {
  // The compiler never nests expressions deeper than 64, so only a hand-made bundle can build a
  // list literal nested 200 deep; comparing two of them must not recurse 200 levels in the engine.
  function nested(depth: number, span: CheckedBundle["rules"][number]["span"]): NonNullable<CheckedBundle["rules"][number]["when"]> {
    let e: NonNullable<CheckedBundle["rules"][number]["when"]> = { kind: "bool", value: true, span };
    for (let i = 0; i < depth; i++) e = { kind: "list", elements: [e], span };
    return e;
  }

  it("stops a list literal nested past MAX_JSON_DEPTH with value_too_large instead of recursing", async () => {
    const { bundle } = checkSources([{ path: FILE, text: policy(["true"]) }]);
    const span = bundle!.rules[0].span;
    for (const [depth, want] of [[Limits.MAX_JSON_DEPTH, "allow"], [200, "deny"]] as const) {
      bundle!.rules[0].when = { kind: "binary", op: "==", left: nested(depth, span), right: nested(depth, span), span };
      const s = await setupChecked(bundle!);
      const d = s.aegis.evaluate(request({}));
      expect(d.decision, `depth ${depth}`).toBe(want);
      if (want === "deny") expect(d.reason).toContain(TOO_LARGE);
    }
  });
});
