// CEL conformance (../shared/testdata/cel-spec): loads the core files, turns each test's expected
// value into our value JSON (docs/engine-abi.md), and judges an implementation's result. Used by
// conformance/cel-spec.test.ts for the wasm engine and the reference interpreter alike.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const CEL_DIR = join(import.meta.dirname, "..", "..", "..", "shared", "testdata", "cel-spec");

/** The suite files that cover CONTRACT §1's features (issue 2, item 7). */
export const CORE_FILES = [
  "basic", "logic", "comparisons", "lists", "fields", "macros", "integer_math",
  "fp_math", "string", "parse", "conversions", "plumbing",
] as const;

export interface CelValue { [k: string]: unknown }
export interface CelTest {
  file: string;
  id: string;
  expr: string;
  bindings?: Record<string, CelValue>;
  disableCheck: boolean;
  expect: { value?: CelValue; eval_error?: unknown; any_eval_errors?: unknown; typed_result?: unknown; unknown?: unknown };
}

/** Every test of the core files, in file order. */
export function loadCelTests(): CelTest[] {
  const out: CelTest[] = [];
  for (const file of CORE_FILES) {
    const data = JSON.parse(readFileSync(join(CEL_DIR, `${file}.json`), "utf8"));
    for (const section of data.sections) {
      for (const t of section.tests) {
        out.push({ file, id: t.id, expr: t.expr, bindings: t.bindings, disableCheck: !!t.disable_check, expect: t.expect });
      }
    }
  }
  return out;
}

/** Our value JSON, as `eval_rule_value` and the reference's valueToJson write it. */
export type ValueJson =
  | { type: "null" } | { type: "bool"; value: boolean } | { type: "int"; value: string }
  | { type: "double"; bits: string } | { type: "string"; value: string }
  | { type: "list"; value: ValueJson[] } | { type: "map"; value: [string, ValueJson][] }
  | { type: "error"; code: string; message: string };

/** The IEEE 754 bits of `d` as 16 lower-case hex digits (value JSON's `bits`). */
export function doubleBits(d: number): string {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, d);
  return v.getBigUint64(0).toString(16).padStart(16, "0");
}

function bitsToDouble(bits: string): number {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, BigInt("0x" + bits));
  return v.getFloat64(0);
}

/**
 * Converts a suite value into ours; returns a string naming the unsupported feature when the value
 * has no counterpart (uint, bytes, types, messages, non-string map keys).
 */
export function fromCelValue(v: CelValue): ValueJson | string {
  if ("null" in v) return { type: "null" };
  if ("bool" in v) return { type: "bool", value: v.bool as boolean };
  if ("int64" in v) return { type: "int", value: String(v.int64) };
  if ("double" in v) {
    const d = v.double;
    const n = d === "NaN" ? NaN : d === "Infinity" ? Infinity : d === "-Infinity" ? -Infinity : (d as number);
    return { type: "double", bits: doubleBits(n) };
  }
  if ("string" in v) return { type: "string", value: v.string as string };
  if ("list" in v) {
    const items: ValueJson[] = [];
    for (const e of v.list as CelValue[]) {
      const c = fromCelValue(e);
      if (typeof c === "string") return c;
      items.push(c);
    }
    return { type: "list", value: items };
  }
  if ("map" in v) {
    const entries: [string, ValueJson][] = [];
    for (const [k, val] of v.map as [CelValue, CelValue][]) {
      if (!("string" in k)) return "maps with non-string keys";
      const c = fromCelValue(val);
      if (typeof c === "string") return c;
      entries.push([k.string as string, c]);
    }
    return { type: "map", value: entries };
  }
  if ("uint64" in v) return "uint";
  if ("bytes" in v) return "bytes";
  if ("type" in v) return "type values";
  return "protobuf messages, enums or other values";
}

/** CEL equality of expected and actual values (maps as sets, any NaN matches NaN). */
export function sameValue(want: ValueJson, got: ValueJson): boolean {
  if (want.type !== got.type) return false;
  switch (want.type) {
    case "double": {
      const a = bitsToDouble(want.bits), b = bitsToDouble((got as { bits: string }).bits);
      if (Number.isNaN(a)) return Number.isNaN(b);
      return want.bits === (got as { bits: string }).bits;
    }
    case "list": {
      const g = (got as { value: ValueJson[] }).value;
      return want.value.length === g.length && want.value.every((w, i) => sameValue(w, g[i]));
    }
    case "map": {
      const g = (got as { value: [string, ValueJson][] }).value;
      if (want.value.length !== g.length) return false;
      return want.value.every(([k, w]) => g.some(([gk, gv]) => gk === k && sameValue(w, gv)));
    }
    case "error": return true;
    case "null": return true;
    default: return (want as { value: unknown }).value === (got as { value: unknown }).value;
  }
}

export type Verdict = { outcome: "pass" } | { outcome: "fail"; detail: string } | { outcome: "unsupported"; reason: string };

/**
 * Judges one test. `checkErrors` are the compiler's messages when the expression was rejected
 * (then `result` is null). A rejection counts as a pass only when the suite expects an error.
 */
export function judge(test: CelTest, checkErrors: string[] | null, result: ValueJson | null): Verdict {
  const feature = unsupportedFeature(test);
  const expectsError = "eval_error" in test.expect || "any_eval_errors" in test.expect;
  if (checkErrors && checkErrors.length) {
    if (expectsError && !feature) return { outcome: "pass" };
    return feature ? { outcome: "unsupported", reason: feature } : { outcome: "fail", detail: `rejected by the checker: ${checkErrors.join("; ")}` };
  }
  if (!result) return { outcome: "fail", detail: "no result" };
  if (expectsError) {
    if (result.type === "error") return { outcome: "pass" };
    return feature ? { outcome: "unsupported", reason: feature } : { outcome: "fail", detail: `expected an error, got ${JSON.stringify(result)}` };
  }
  if (!test.expect.value) return { outcome: "unsupported", reason: feature ?? "expectation other than a value or an error" };
  const want = fromCelValue(test.expect.value);
  if (typeof want === "string") return { outcome: "unsupported", reason: want };
  if (sameValue(want, result)) return { outcome: "pass" };
  return feature ? { outcome: "unsupported", reason: feature } : { outcome: "fail", detail: `want ${JSON.stringify(want)}, got ${JSON.stringify(result)}` };
}

/**
 * `expr` with the contents of its string literals removed (quotes and prefixes such as `b`, `r`
 * kept), so the feature patterns below look only at code: `'{'` is not a map literal.
 */
export function codeOnly(expr: string): string {
  let out = "";
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c !== "'" && c !== '"') { out += c; i++; continue; }
    const raw = /(^|[^A-Za-z0-9_])([rR][bB]?|[bB][rR])$/.test(out);
    const triple = expr.startsWith(c.repeat(3), i);
    const close = triple ? c.repeat(3) : c;
    out += close;
    i += close.length;
    while (i < expr.length && !expr.startsWith(close, i)) i += !raw && expr[i] === "\\" ? 2 : 1;
    out += close;
    i += close.length;
  }
  return out;
}

const TYPE_NAMES = "int|uint|double|string|bool|bytes|list|map|null_type|type";

/** The CEL feature outside CONTRACT §1 that a test exercises, if any (used to explain skips). */
export function unsupportedFeature(t: CelTest): string | null {
  const e = codeOnly(t.expr);
  if (t.bindings && Object.keys(t.bindings).length) return "binds custom variables (Aegis has a fixed environment: agent, tool, action, params, context)";
  if (/\b\d+u\b|\buint\b|\d[uU]\b/.test(e)) return "uint is not supported";
  if (/\b[bB][rR]?["']|\b[rR][bB]["']|\bbytes\b/.test(e)) return "bytes are not supported";
  if (/\.(exists|all|exists_one|map|filter)\s*\(/.test(e)) return "comprehension macros are not supported";
  if (new RegExp(`\\b(type|dyn)\\s*\\(|\\b(${TYPE_NAMES})\\b\\s*(==|!=)|(==|!=)\\s*\\b(${TYPE_NAMES})\\b\\s*$|^\\s*(${TYPE_NAMES})\\s*$`).test(e)) return "type values and dyn() are not supported";
  if (/google\.protobuf|TestAllTypes|NestedTestAllTypes|\bproto\d?\b|\.Enum|GlobalEnum/.test(e)) return "protobuf messages are not supported";
  if (/timestamp|duration/.test(e)) return "timestamps and durations are not supported";
  if (/\{/.test(e)) return "map literals are not supported";
  if (/\bbool\s*\(/.test(e)) return "bool() conversion is not supported";
  if (/\bstring\s*\(\s*-?[0-9.]*[.eE]/.test(e) || /\bstring\s*\(\s*double/.test(e)) return "string(double) is not supported (docs/semantics.md)";
  return null;
}

/**
 * Why a test that fails for Aegis follows from a documented deviation from CEL (docs/semantics.md
 * "Deviations from CEL"), or null when nothing documented explains the failure (then it is a bug).
 * `checkErrors` and `result` are as for `judge`.
 */
export function documentedDeviation(t: CelTest, checkErrors: string[] | null, result: ValueJson | null): string | null {
  const e = codeOnly(t.expr);
  const expectsError = "eval_error" in t.expect || "any_eval_errors" in t.expect;
  if (checkErrors && checkErrors.length && t.disableCheck) {
    // CEL runs these without its type checker; its checker would reject them too.
    return "the test turns CEL's type checker off (disable_check); Aegis always checks, so an unknown variable or function or a non-bool `&&`/`||` operand is a compile error (docs/semantics.md)";
  }
  if (expectsError && result && result.type === "double" && /%/.test(e) && /\d\.\d|\d[eE]|double\(/.test(e)) {
    return "`%` on doubles is `fmod` (docs/semantics.md, deviations from CEL)";
  }
  if (expectsError && result && result.type === "double" && /[-+*/]/.test(e) && /\d\.\d|\d[eE]|double\(/.test(e) && /(^|[^.\d])\d+(?![.\deE])/.test(e)) {
    return "mixed int/double arithmetic promotes to double (docs/semantics.md, deviations from CEL)";
  }
  return null;
}
