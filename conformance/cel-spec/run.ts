// CEL conformance runner: cel-spec test -> check -> one-rule bundle -> value from the wasm engine
// (`eval_rule_value`) and from the reference interpreter (`evalRuleValue`) -> a verdict for each.
// Input: the tests of conformance/cel-spec/suite.ts. Output: one CelRun per test, used by
// conformance/cel-spec.test.ts and scripts/gen-cel-skips.ts (which must see the same results).
// Also exports the expression-level helpers (one-rule bundles, a raw engine that returns value
// JSON) that the differential and cel-js tests share.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { CheckedBundle, Expr } from "../../compiler/ast.ts";
import { checkExpressionSource, compileChecked } from "../../compiler/index.ts";
import { evalRuleValue } from "../../compiler/reference/interpreter.ts";
import { Engine } from "../../bindings/node/wasm.ts";
import { documentedDeviation, doubleBits, fromCelValue, judge, loadCelTests, sameValue, unsupportedFeature, type CelTest, type CelValue, type ValueJson, type Verdict } from "./suite.ts";

/** The smallest valid request: every cel-spec expression is evaluated against it. */
export const MINIMAL_REQUEST = '{"agent":{"id":"a"},"tool":"t","action":"x"}';

/** Path of the pseudo-file that holds a standalone expression (checkExpressionSource uses it). */
export const EXPR_FILE = "<expr>";

/**
 * A bundle of one enforcing policy with one allow rule whose `when` is `expr` (checked from
 * `text`, which becomes the source file `<expr>` so error positions resolve).
 */
export function expressionBundle(text: string, expr: Expr): CheckedBundle {
  const span = { file: EXPR_FILE, start: 0, end: text.length };
  return {
    sources: [{ path: EXPR_FILE, text }],
    policies: [{ name: "cel", version: "1", file: EXPR_FILE, mode: "enforce", default: "deny", agentModes: {}, span }],
    rules: [{
      id: "expr", effect: "allow", mode: "enforce", policy: 0, agents: null, tools: null, actions: null,
      when: expr, reason: "", redact: [], span,
    }],
    egress: null,
    dlp: [],
  };
}

/** What one implementation produced: a value, a request error, or a crash (trap, exception). */
export type ValueOutcome =
  | { kind: "value"; value: ValueJson }
  | { kind: "request_error"; code: string; message: string }
  | { kind: "crash"; message: string };

/** The text form of an outcome, for exact comparison and for failure messages. */
export function outcomeText(o: ValueOutcome): string {
  if (o.kind === "value") return JSON.stringify(o.value);
  if (o.kind === "request_error") return `request error ${o.code}: ${o.message}`;
  return `crash: ${o.message}`;
}

const textEncoder = new TextEncoder();

/**
 * A raw wasm engine that loads one-rule bundles and returns `eval_rule_value` results. After a
 * trap the instance's memory may be inconsistent, so the next call starts a fresh instance.
 */
export class ValueEngine {
  private engine: Engine | null = null;

  private async instance(): Promise<Engine> {
    this.engine ??= await Engine.create();
    return this.engine;
  }

  /** Load `bundleBytes` and evaluate rule `rule` against `request` (JSON text or bytes). */
  async evaluate(bundleBytes: Uint8Array, request: string | Uint8Array, rule = 0): Promise<ValueOutcome> {
    const engine = await this.instance();
    try {
      const loaded = engine.exports.load_bundle(engine.writeInput(bundleBytes));
      if (loaded !== 0) return { kind: "crash", message: `load_bundle returned ${loaded}: ${engine.outputText()}` };
      return this.evaluateLoaded(request, rule);
    } catch (e) {
      this.engine = null;
      return { kind: "crash", message: `engine threw: ${(e as Error).message}` };
    }
  }

  /** Evaluate rule `rule` of the bundle loaded last (synchronous; call `evaluate` first). */
  evaluateLoaded(request: string | Uint8Array, rule = 0): ValueOutcome {
    const engine = this.engine;
    if (!engine) return { kind: "crash", message: "no engine instance" };
    try {
      const bytes = typeof request === "string" ? textEncoder.encode(request) : request;
      const code = engine.exports.eval_rule_value(rule, engine.writeInput(bytes));
      const text = engine.outputText();
      if (code !== 0) {
        const parsed = JSON.parse(text) as { error: { code: string; message: string } };
        return { kind: "request_error", code: parsed.error.code, message: parsed.error.message };
      }
      return { kind: "value", value: JSON.parse(text) as ValueJson };
    } catch (e) {
      this.engine = null;
      return { kind: "crash", message: `engine threw: ${(e as Error).message}` };
    }
  }
}

/** The reference interpreter's value for rule `rule` of `bundle` and `request`. */
export function referenceValue(bundle: CheckedBundle, request: string | Uint8Array, rule = 0): ValueOutcome {
  try {
    const r = evalRuleValue(bundle, rule, request);
    if (!r.ok) return { kind: "request_error", code: r.code, message: r.message };
    return { kind: "value", value: r.value as ValueJson };
  } catch (e) {
    return { kind: "crash", message: `reference threw: ${(e as Error).message}` };
  }
}

/**
 * `expr` with every string literal's contents replaced by `x`, so offsets still match `expr` and
 * brackets, commas and colons inside strings are not seen as syntax.
 */
function maskStrings(expr: string): string {
  let out = "";
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c !== "'" && c !== '"') { out += c; i++; continue; }
    const raw = /(^|[^A-Za-z0-9_])([rR][bB]?|[bB][rR])$/.test(out);
    const close = expr.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
    out += close;
    i += close.length;
    while (i < expr.length && !expr.startsWith(close, i)) {
      const step = !raw && expr[i] === "\\" ? 2 : 1;
      out += "x".repeat(Math.min(step, expr.length - i));
      i += step;
    }
    out += expr.slice(i, i + close.length);
    i += close.length;
  }
  return out;
}

/** Splits `masked.slice(from, to)` at top-level occurrences of `sep`; returns [start, end) pairs. */
function splitTopLevel(masked: string, from: number, to: number, sep: string): [number, number][] {
  const parts: [number, number][] = [];
  let depth = 0, start = from;
  for (let i = from; i < to; i++) {
    const c = masked[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === sep && depth === 0) { parts.push([start, i]); start = i + 1; }
  }
  parts.push([start, to]);
  return parts;
}

interface Hoisted { json: string; hasInt: boolean }

/** The JSON of a literal expression (null, bool, int, double, string, list of those), or null. */
function literalJson(e: Expr): Hoisted | null {
  switch (e.kind) {
    case "null": return { json: "null", hasInt: false };
    case "bool": return { json: String(e.value), hasInt: false };
    case "int": return { json: e.value.toString(), hasInt: true };
    case "double": return Number.isFinite(e.value) ? { json: Object.is(e.value, -0) ? "-0.0" : JSON.stringify(e.value), hasInt: false } : null;
    case "string": return { json: JSON.stringify(e.value), hasInt: false };
    case "neg": {
      const inner = literalJson(e.operand);
      return inner && (e.operand.kind === "int" || e.operand.kind === "double") && !inner.json.startsWith("-") ? { json: `-${inner.json}`, hasInt: inner.hasInt } : null;
    }
    case "list": {
      const items = e.elements.map(literalJson);
      if (items.some((x) => x === null)) return null;
      return { json: `[${items.map((x) => x!.json).join(",")}]`, hasInt: items.some((x) => x!.hasInt) };
    }
    default: return null;
  }
}

/** The JSON of the map literal `expr.slice(start, end)` (braces included), when every key is a string and every value a literal. */
function mapLiteralJson(expr: string, masked: string, start: number, end: number): Hoisted | null {
  const entries = splitTopLevel(masked, start + 1, end - 1, ",");
  if (entries.length > 0 && expr.slice(...entries[entries.length - 1]).trim() === "") entries.pop();
  const keys = new Set<string>();
  const members: string[] = [];
  let hasInt = false;
  for (const [a, b] of entries) {
    const kv = splitTopLevel(masked, a, b, ":");
    if (kv.length !== 2) return null;
    const key = checkExpressionSource(expr.slice(...kv[0]).trim()).expr;
    if (!key || key.kind !== "string" || keys.has(key.value)) return null;
    keys.add(key.value);
    const valueText = expr.slice(...kv[1]);
    const lead = kv[1][0] + (valueText.length - valueText.trimStart().length);
    const trail = kv[1][1] - (valueText.length - valueText.trimEnd().length);
    let value: Hoisted | null;
    if (masked[lead] === "{" && masked[trail - 1] === "}") value = mapLiteralJson(expr, masked, lead, trail);
    else {
      const checked = checkExpressionSource(valueText.trim());
      value = checked.expr ? literalJson(checked.expr) : null;
    }
    if (!value) return null;
    hasInt ||= value.hasInt;
    members.push(`${JSON.stringify(key.value)}:${value.json}`);
  }
  return { json: `{${members.join(",")}}`, hasInt };
}

/** The JSON of a bound value of the suite, or null when JSON cannot carry it. */
function bindingJson(v: CelValue): Hoisted | null {
  if ("null" in v) return { json: "null", hasInt: false };
  if ("bool" in v) return { json: String(v.bool), hasInt: false };
  if ("int64" in v) return { json: String(v.int64), hasInt: true };
  if ("double" in v) return typeof v.double === "number" && Number.isFinite(v.double) ? { json: JSON.stringify(v.double), hasInt: false } : null;
  if ("string" in v) return { json: JSON.stringify(v.string), hasInt: false };
  if ("list" in v) {
    const items = (v.list as CelValue[]).map(bindingJson);
    if (items.some((x) => x === null)) return null;
    return { json: `[${items.map((x) => x!.json).join(",")}]`, hasInt: items.some((x) => x!.hasInt) };
  }
  if ("map" in v) {
    const members: string[] = [];
    let hasInt = false;
    for (const [k, val] of v.map as [CelValue, CelValue][]) {
      const value = bindingJson(val);
      if (!("string" in k) || !value) return null;
      hasInt ||= value.hasInt;
      members.push(`${JSON.stringify(k.string)}:${value.json}`);
    }
    return { json: `{${members.join(",")}}`, hasInt };
  }
  return null;
}

const RESERVED_NAMES = new Set(["true", "false", "null", "agent", "tool", "action", "params", "context", "in"]);

/**
 * A test whose data Aegis cannot write as an expression (map literals, bound variables) rewritten
 * so the data comes from the request instead: each outermost map literal with string keys and
 * literal values becomes `params.m<N>`, each bound variable `x` becomes `params.x`, and `request`
 * carries the values as JSON. `hasInt` is true when an int went into the JSON, where it reads back
 * as a double (docs/semantics.md: JSON numbers are doubles). Null when the test is not adaptable.
 */
export function adaptCelTest(t: CelTest): { test: CelTest; request: string; hasInt: boolean } | null {
  const bindings = Object.entries(t.bindings ?? {});
  const masked = maskStrings(t.expr);
  if (bindings.length === 0 && !masked.includes("{")) return null;
  const edits: { start: number; end: number; text: string }[] = [];
  const params: string[] = [];
  let hasInt = false;
  for (const [name, value] of bindings) {
    const json = bindingJson(value);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || RESERVED_NAMES.has(name) || !json) return null;
    params.push(`${JSON.stringify(name)}:${json.json}`);
    hasInt ||= json.hasInt;
    for (const m of masked.matchAll(new RegExp(`(?<![.\\w\\\`])${name}(?![\\w\\\`]|\\s*\\()`, "g"))) {
      edits.push({ start: m.index, end: m.index + name.length, text: `params.${name}` });
    }
  }
  for (let i = 0, n = 0; i < masked.length; i++) {
    if (masked[i] !== "{") continue;
    if (/[\w.]\s*$/.test(masked.slice(0, i))) return null; // message construction `T{...}`
    let depth = 0, j = i;
    for (; j < masked.length; j++) {
      if (masked[j] === "{") depth++;
      else if (masked[j] === "}" && --depth === 0) break;
    }
    if (j >= masked.length) return null;
    const json = mapLiteralJson(t.expr, masked, i, j + 1);
    if (!json) return null;
    const key = `m${n++}`;
    if (t.bindings && key in t.bindings) return null;
    params.push(`${JSON.stringify(key)}:${json.json}`);
    hasInt ||= json.hasInt;
    edits.push({ start: i, end: j + 1, text: `params.${key}` });
    i = j;
  }
  edits.sort((a, b) => a.start - b.start);
  if (edits.some((e, k) => k > 0 && e.start < edits[k - 1].end)) return null;
  let expr = t.expr;
  for (const e of [...edits].reverse()) expr = expr.slice(0, e.start) + e.text + expr.slice(e.end);
  const request = `{"agent":{"id":"a"},"tool":"t","action":"x","params":{${params.join(",")}}}`;
  return { test: { ...t, expr, bindings: undefined }, request, hasInt };
}

/** One cel-spec test run through both implementations. */
export interface CelRun {
  test: CelTest;
  /** `file/id`: the key of conformance/skips/cel-spec.yaml. */
  key: string;
  /** The checker's messages when it rejected the expression, else null. */
  checkErrors: string[] | null;
  engine: ValueOutcome | null;
  reference: ValueOutcome | null;
  engineVerdict: Verdict;
  referenceVerdict: Verdict;
  /** Set when the test's map literals or bound variables were moved into the request (adaptCelTest). */
  adapted: { expr: string; request: string; hasInt: boolean } | null;
}

/** The skip-file key of a test. */
export function celKey(test: CelTest): string {
  return `${test.file}/${test.id}`;
}

function verdictOf(test: CelTest, checkErrors: string[] | null, outcome: ValueOutcome | null): Verdict {
  if (outcome && outcome.kind !== "value") return { outcome: "fail", detail: outcomeText(outcome) };
  return judge(test, checkErrors, outcome ? outcome.value : null);
}

/** Run one test through the checker, the compiler, the wasm engine and the reference. */
export async function runCelTest(original: CelTest, engine: ValueEngine): Promise<CelRun> {
  const key = celKey(original);
  // Map literals and bound variables are data Aegis reads from the request: move them there when
  // nothing else in the test is unsupported.
  const feature = unsupportedFeature(original);
  const adaptation = feature && /custom variables|map literals/.test(feature) ? adaptCelTest(original) : null;
  const test = adaptation ? adaptation.test : original;
  const request = adaptation ? adaptation.request : MINIMAL_REQUEST;
  const adapted = adaptation ? { expr: adaptation.test.expr, request, hasInt: adaptation.hasInt } : null;
  const base = { test: original, key, adapted };
  const fail = (detail: string): CelRun => {
    const v: Verdict = { outcome: "fail", detail };
    return { ...base, checkErrors: null, engine: null, reference: null, engineVerdict: v, referenceVerdict: v };
  };
  let checked: ReturnType<typeof checkExpressionSource>;
  try {
    checked = checkExpressionSource(test.expr);
  } catch (e) {
    return fail(`the checker threw: ${(e as Error).message}`);
  }
  if (!checked.expr || checked.errors.length > 0) {
    const errors = checked.errors.map((e) => e.message);
    if (errors.length === 0) errors.push("rejected without a message");
    const v = judge(test, errors, null);
    return { ...base, checkErrors: errors, engine: null, reference: null, engineVerdict: v, referenceVerdict: v };
  }
  const bundle = expressionBundle(test.expr, checked.expr);
  let bytes: Uint8Array;
  try {
    bytes = compileChecked(bundle);
  } catch (e) {
    return fail(`compileChecked threw: ${(e as Error).message}`);
  }
  const engineOut = await engine.evaluate(bytes, request);
  const referenceOut = referenceValue(bundle, request);
  return {
    ...base, checkErrors: null, engine: engineOut, reference: referenceOut,
    engineVerdict: verdictOf(test, null, engineOut),
    referenceVerdict: verdictOf(test, null, referenceOut),
  };
}

/** Run every test of the core files (suite.ts CORE_FILES), in file order. */
export async function runCelSuite(tests: CelTest[] = loadCelTests()): Promise<CelRun[]> {
  const engine = new ValueEngine();
  const runs: CelRun[] = [];
  for (const t of tests) runs.push(await runCelTest(t, engine));
  return runs;
}

/** How a test that did not pass is explained, or why it cannot be (then it is a bug to report). */
export type SkipClass =
  | { status: "pass" }
  | { status: "skip"; reason: string }
  | { status: "bug"; detail: string };

/** Reason for an adapted test that fails only because ints in its data became JSON doubles. */
export const INT_AS_DOUBLE_REASON = "the test's map literal or bound variable is read from request JSON, whose numbers are doubles (docs/semantics.md, deviations from CEL: JSON numbers are doubles)";

function explainFailure(run: CelRun, verdict: Verdict, outcome: ValueOutcome | null): string | null {
  if (verdict.outcome === "unsupported") return verdict.reason;
  if (outcome && outcome.kind !== "value") return null; // a request error or a crash is never a deviation
  const value = outcome ? outcome.value : null;
  const deviation = documentedDeviation(run.test, run.checkErrors, value);
  if (deviation) return deviation;
  // Explained only when the result is exactly the expected value with its ints read as doubles;
  // anything else in an adapted test is still a failure to explain.
  if (run.adapted?.hasInt && value && run.test.expect.value) {
    const want = fromCelValue(run.test.expect.value);
    if (typeof want !== "string" && sameValue(intsAsDoubles(want), value)) return INT_AS_DOUBLE_REASON;
  }
  return null;
}

/** `v` with every int replaced by the double of the same value, as a JSON round trip does. */
function intsAsDoubles(v: ValueJson): ValueJson {
  switch (v.type) {
    case "int": return { type: "double", bits: doubleBits(Number(v.value)) };
    case "list": return { type: "list", value: v.value.map(intsAsDoubles) };
    case "map": return { type: "map", value: v.value.map(([k, x]) => [k, intsAsDoubles(x)] as [string, ValueJson]) };
    default: return v;
  }
}

/**
 * Classify a run for conformance/skips/cel-spec.yaml: both implementations pass, or both fail for a
 * recognised reason (an unsupported feature, a documented deviation), or it is a bug (one of them
 * passes and the other does not, or nothing documented explains the failure).
 */
export function classifyRun(run: CelRun): SkipClass {
  const e = run.engineVerdict, r = run.referenceVerdict;
  if (e.outcome === "pass" && r.outcome === "pass") return { status: "pass" };
  if (e.outcome === "pass" || r.outcome === "pass") {
    return { status: "bug", detail: `engine ${verdictText(e)}, reference ${verdictText(r)}` };
  }
  const engineReason = explainFailure(run, e, run.engine);
  const referenceReason = explainFailure(run, r, run.reference);
  if (engineReason && engineReason === referenceReason) return { status: "skip", reason: engineReason };
  return { status: "bug", detail: `engine ${verdictText(e)}, reference ${verdictText(r)}` };
}

/** A verdict as one line of text. */
export function verdictText(v: Verdict): string {
  if (v.outcome === "pass") return "passes";
  if (v.outcome === "unsupported") return `unsupported (${v.reason})`;
  return `fails: ${v.detail}`;
}

/** conformance/skips/cel-spec.yaml: every cel-spec test that does not pass, with its reason. */
export const CEL_SKIPS_FILE = join(import.meta.dirname, "..", "skips", "cel-spec.yaml");

/** One entry of the skip file. */
export interface CelSkip { test: string; reason: string }

/** Read the skip file (a missing file is an empty list). Throws on a malformed one. */
export function loadCelSkips(file: string = CEL_SKIPS_FILE): Map<string, CelSkip> {
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch { return new Map(); }
  const doc = parseYaml(text, { uniqueKeys: true }) as { skips?: unknown } | null;
  const list = doc?.skips ?? [];
  if (!Array.isArray(list)) throw new Error("conformance/skips/cel-spec.yaml: `skips` must be a list");
  const out = new Map<string, CelSkip>();
  for (const [i, s] of list.entries()) {
    const entry = s as Partial<CelSkip>;
    if (typeof entry?.test !== "string" || typeof entry.reason !== "string" || !entry.reason) {
      throw new Error(`conformance/skips/cel-spec.yaml: skips[${i}] needs a string \`test\` and a non-empty \`reason\``);
    }
    if (out.has(entry.test)) throw new Error(`conformance/skips/cel-spec.yaml: \`${entry.test}\` is listed twice`);
    out.set(entry.test, { test: entry.test, reason: entry.reason });
  }
  return out;
}
