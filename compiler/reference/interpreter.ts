// Reference stage: checked AST + request -> value / decision. The executable form of
// docs/semantics.md, written to be small and obvious rather than fast: it walks the checked AST
// (never bytecode), scans every rule linearly (never the bundle index) and keeps ints as bigints,
// so the wasm engine can be held to it byte for byte by differential tests.
// Input: a CheckedBundle (compiler/ast.ts) and request bytes. Output: decision JSON text, the
// value JSON of one rule (docs/engine-abi.md), or a request error.
// Every computed string or list, and every redaction record, is charged to the evaluation's
// EvalBudget (docs/semantics.md "Limits") in the order the engine charges it.

import type { CheckedBundle, Effect, Expr, Mode, Rule, Span, VarName } from "../ast.ts";
import { cidrContains, hostAllowed, isIBAN, isIP, isLuhn, isURL, urlParts } from "./checks.ts";
import { regexToJs } from "../regex/to-js.ts";
import { RE2JS } from "re2js";
import {
  FALSE, NULL, TRUE, bool, compareNumbers, compareStrings, double, error, fromJson, inInt64, int,
  noOverload, str, valueToJson, valuesEqual, INT64_MIN, type ErrorValue, type Value,
  EvalBudget, LIST_ELEMENT_BYTES, REDACTION_CHARGE, tooLarge, utf8Length,
} from "./values.ts";
import { readRequest, type JsonValue, type RequestError, type ValidatedRequest } from "./request.ts";
import {
  FieldRedacted, formatParamsPath, renderDecision, type PathStep, type RedactedJson,
} from "./render.ts";

/** The request variables an expression can read. */
export type Env = Record<VarName, Value>;

/** Build the variables of docs/semantics.md from a validated request. */
export function requestEnv(req: ValidatedRequest): Env {
  return {
    agent: fromJson(req.agent),
    tool: str(req.tool),
    action: str(req.action),
    params: fromJson(req.params),
    context: fromJson(req.context),
  };
}

// ---------------------------------------------------------------------------------------------
// Expressions

/** The first error among `values`, if any (operators report the leftmost error). */
function firstError(...values: Value[]): ErrorValue | null {
  for (const v of values) if (v.t === "error") return v;
  return null;
}

function intResult(v: bigint, span: Span): Value {
  return inInt64(v) ? int(v) : error("int_overflow", "integer overflow", span);
}

function toDouble(v: Value): number {
  if (v.t === "int") return Number(v.v); // round to nearest, ties to even (as f64.convert_i64_s)
  if (v.t === "double") return v.v;
  throw new Error("unreachable: toDouble of a non-number");
}

function isNumber(v: Value): boolean { return v.t === "int" || v.t === "double"; }

function arithmetic(op: "+" | "-" | "*" | "/" | "%", a: Value, b: Value, span: Span, budget: EvalBudget): Value {
  if (a.t === "int" && b.t === "int") {
    switch (op) {
      case "+": return intResult(a.v + b.v, span);
      case "-": return intResult(a.v - b.v, span);
      case "*": return intResult(a.v * b.v, span);
      case "/":
        if (b.v === 0n) return error("division_by_zero", "division by zero", span);
        return intResult(a.v / b.v, span); // BigInt division truncates toward zero
      case "%":
        if (b.v === 0n) return error("modulus_by_zero", "modulus by zero", span);
        return int(a.v % b.v); // sign of the dividend; MIN % -1 is 0
    }
  }
  if (isNumber(a) && isNumber(b)) {
    const x = toDouble(a);
    const y = toDouble(b);
    switch (op) {
      case "+": return double(x + y);
      case "-": return double(x - y);
      case "*": return double(x * y);
      case "/": return double(x / y);
      case "%": return double(x % y); // JS % on numbers is C fmod
    }
  }
  if (op === "+" && a.t === "string" && b.t === "string") {
    return budget.chargeValue(utf8Length(a.v) + utf8Length(b.v)) ? str(a.v + b.v) : tooLarge(span);
  }
  if (op === "+" && a.t === "list" && b.t === "list") {
    if (!budget.chargeValue((a.v.length + b.v.length) * LIST_ELEMENT_BYTES)) return tooLarge(span);
    return { t: "list", v: a.v.concat(b.v) };
  }
  return noOverload(op, span);
}

function ordering(op: "<" | "<=" | ">" | ">=", a: Value, b: Value, span: Span): Value {
  let c: -1 | 0 | 1 | null;
  const numeric = compareNumbers(a, b);
  if (numeric !== undefined) c = numeric;
  else if (a.t === "string" && b.t === "string") c = compareStrings(a.v, b.v);
  else if (a.t === "bool" && b.t === "bool") c = a.v === b.v ? 0 : a.v ? 1 : -1;
  else return noOverload(op, span);
  if (c === null) return FALSE; // NaN is unordered
  switch (op) {
    case "<": return bool(c < 0);
    case "<=": return bool(c <= 0);
    case ">": return bool(c > 0);
    case ">=": return bool(c >= 0);
  }
}

function noSuchKey(key: string, span: Span): ErrorValue {
  return error("no_such_key", `no such key \`${key}\``, span);
}

function selectField(m: Value, field: string, span: Span): Value {
  if (m.t === "error") return m;
  if (m.t !== "map") return noOverload(`.${field}`, span);
  const v = m.v.get(field);
  return v === undefined ? noSuchKey(field, span) : v;
}

function indexValue(operand: Value, index: Value, span: Span): Value {
  const err = firstError(operand, index);
  if (err) return err;
  if (operand.t === "list") {
    let i: bigint;
    if (index.t === "int") i = index.v;
    else if (index.t === "double" && Number.isInteger(index.v)) i = BigInt(index.v);
    else return noOverload("[]", span);
    if (i < 0n || i >= BigInt(operand.v.length)) return error("index_out_of_range", "index out of range", span);
    return operand.v[Number(i)];
  }
  if (operand.t === "map") {
    if (index.t !== "string") return noOverload("[]", span);
    const v = operand.v.get(index.v);
    return v === undefined ? noSuchKey(index.v, span) : v;
  }
  return noOverload("[]", span);
}

function inOperator(x: Value, container: Value, span: Span): Value {
  const err = firstError(x, container);
  if (err) return err;
  if (container.t === "list") return bool(container.v.some((e) => valuesEqual(x, e)));
  if (container.t === "map") return bool(x.t === "string" && container.v.has(x.v));
  return noOverload("in", span);
}

function evalBinary(expr: Extract<Expr, { kind: "binary" }>, env: Env, budget: EvalBudget): Value {
  const a = evalExpr(expr.left, env, budget);
  const b = evalExpr(expr.right, env, budget);
  const err = firstError(a, b);
  if (err) return err;
  switch (expr.op) {
    case "+": case "-": case "*": case "/": case "%":
      return arithmetic(expr.op, a, b, expr.span, budget);
    case "==": return bool(valuesEqual(a, b));
    case "!=": return bool(!valuesEqual(a, b));
    case "<": case "<=": case ">": case ">=":
      return ordering(expr.op, a, b, expr.span);
    case "in": return inOperator(a, b, expr.span);
  }
}

/** `&&` / `||` with CEL error absorption: `absorbing` (false for &&, true for ||) wins over errors. */
function evalLogical(expr: Extract<Expr, { kind: "and" | "or" }>, env: Env, budget: EvalBudget): Value {
  const absorbing = expr.kind === "or";
  const op = expr.kind === "and" ? "&&" : "||";
  const a = evalExpr(expr.left, env, budget);
  if (a.t === "bool" && a.v === absorbing) return a; // the right side is not evaluated
  const b = evalExpr(expr.right, env, budget);
  if (b.t === "bool" && b.v === absorbing) return b;
  const err = firstError(a, b);
  if (err) return err;
  if (a.t !== "bool" || b.t !== "bool") return noOverload(op, expr.span);
  return bool(!absorbing);
}

const REGEX_CACHE = new Map<string, RegExp>();

/** The JS form of an RE2-subset pattern, compiled once per pattern. */
function compiledRegex(pattern: string): RegExp {
  let re = REGEX_CACHE.get(pattern);
  if (!re) {
    const base = regexToJs(pattern);
    // A fresh, non-sticky copy with "g", so `lastIndex` is ours to drive.
    const flags = base.flags.replace(/[gy]/g, "") + "g";
    re = new RegExp(base.source, flags);
    REGEX_CACHE.set(pattern, re);
  }
  return re;
}

const RE2_CACHE = new Map<string, RE2JS>();

/**
 * Unanchored search (RE2 PartialMatch), by re2js, an independent port of RE2: linear time, so the
 * reference cannot hang on a pathological pattern, and whether a pattern matches is RE2's own
 * answer (our subset never differs from RE2 on that; docs/regex.md). DLP extents below use the
 * JS translation instead, because for loops whose body can match empty our extents follow Perl.
 */
function regexSearch(pattern: string, s: string): boolean {
  let re = RE2_CACHE.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    RE2_CACHE.set(pattern, re);
  }
  return re.matcher(s).find();
}

/**
 * Every leftmost-first, non-overlapping, non-empty match of `pattern` in `s`, as [start, end)
 * UTF-16 index pairs. After an empty match the search moves on by one code point.
 */
export function regexMatches(pattern: string, s: string): [number, number][] {
  const re = compiledRegex(pattern);
  const out: [number, number][] = [];
  re.lastIndex = 0;
  while (re.lastIndex <= s.length) {
    const m = re.exec(s);
    if (!m) break;
    if (m[0].length === 0) {
      const cp = s.codePointAt(m.index);
      re.lastIndex = m.index + (cp !== undefined && cp > 0xffff ? 2 : 1);
      continue;
    }
    out.push([m.index, m.index + m[0].length]);
    re.lastIndex = m.index + m[0].length;
  }
  re.lastIndex = 0;
  return out;
}

const DECIMAL_INT = /^-?[0-9]+$/;
// CEL double syntax for double(string): optional sign, digits with an optional fraction (or a
// fraction alone), optional exponent. No hex, no underscores, no inf/NaN words.
const DECIMAL_DOUBLE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const TWO_POW_63 = 9223372036854775808;

function invalidArgument(fn: string, span: Span): ErrorValue {
  return error("invalid_argument", `invalid argument to \`${fn}\``, span);
}

function toInt(x: Value, span: Span): Value {
  if (x.t === "int") return x;
  if (x.t === "double") {
    // CEL's range: strictly inside (-2^63, 2^63), so int(-9223372036854775808.0) is an error too.
    if (!Number.isFinite(x.v) || x.v <= -TWO_POW_63 || x.v >= TWO_POW_63) return invalidArgument("int", span);
    return int(BigInt(Math.trunc(x.v)));
  }
  if (x.t === "string") {
    if (!DECIMAL_INT.test(x.v)) return invalidArgument("int", span);
    const v = BigInt(x.v);
    return inInt64(v) ? int(v) : invalidArgument("int", span);
  }
  return noOverload("int", span);
}

function toDoubleValue(x: Value, span: Span): Value {
  if (x.t === "int") return double(Number(x.v));
  if (x.t === "double") return x;
  if (x.t === "string") {
    if (!DECIMAL_DOUBLE.test(x.v)) return invalidArgument("double", span);
    return double(Number(x.v));
  }
  return noOverload("double", span);
}

function toStringValue(x: Value, span: Span, budget: EvalBudget): Value {
  if (x.t === "string") return x;
  if (x.t === "int") {
    const text = x.v.toString();
    return budget.chargeValue(text.length) ? str(text) : tooLarge(span); // ASCII: length = bytes
  }
  if (x.t === "bool") return str(x.v ? "true" : "false");
  return noOverload("string", span);
}

function codePointCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // INVARIANT: strings are well-formed UTF-16 (the request parser rejects lone surrogates),
    // so every high surrogate starts a pair that counts once.
    if (c >= 0xd800 && c <= 0xdbff) i++;
    n++;
  }
  return n;
}

function lowerAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

/** A computed string result, charged to the budget (value_too_large when it does not fit). */
function charged(s: string, span: Span, budget: EvalBudget): Value {
  return budget.chargeValue(utf8Length(s)) ? str(s) : tooLarge(span);
}

function evalCall(expr: Extract<Expr, { kind: "call" }>, env: Env, budget: EvalBudget): Value {
  const args = expr.args.map((a) => evalExpr(a, env, budget));
  const err = firstError(...args);
  if (err) return err;
  const span = expr.span;
  const [x, y] = args;
  const stringArg = (name: string): string | ErrorValue => (x.t === "string" ? x.v : noOverload(name, span));
  switch (expr.fn) {
    case "size":
      if (x.t === "string") return int(BigInt(codePointCount(x.v)));
      if (x.t === "list") return int(BigInt(x.v.length));
      if (x.t === "map") return int(BigInt(x.v.size));
      return noOverload("size", span);
    case "startsWith": case "endsWith": case "contains": {
      if (x.t !== "string" || y.t !== "string") return noOverload(expr.fn, span);
      // On well-formed strings, UTF-16 unit comparison agrees with UTF-8 byte comparison.
      if (expr.fn === "startsWith") return bool(x.v.startsWith(y.v));
      if (expr.fn === "endsWith") return bool(x.v.endsWith(y.v));
      return bool(x.v.includes(y.v));
    }
    case "matches": {
      if (x.t !== "string") return noOverload("matches", span);
      if (expr.pattern === undefined) throw new Error("checked AST: `matches` without a pattern");
      return bool(regexSearch(expr.pattern, x.v));
    }
    case "lowerAscii": {
      const s = stringArg("lowerAscii");
      return typeof s === "string" ? charged(lowerAscii(s), span, budget) : s;
    }
    case "isIBAN": case "isLuhn": case "isURL": case "isIP": {
      const s = stringArg(expr.fn);
      if (typeof s !== "string") return s;
      const check = { isIBAN, isLuhn, isURL, isIP }[expr.fn];
      return bool(check(s));
    }
    case "url.getHost": case "url.getScheme": case "url.getPort": {
      const s = stringArg("url");
      if (typeof s !== "string") return s;
      const parts = isURL(s) ? urlParts(s) : null;
      if (!parts) return invalidArgument("url", span);
      if (expr.fn === "url.getHost") return charged(parts.host, span, budget);
      if (expr.fn === "url.getScheme") return charged(String(parts.scheme).replace(/:$/, ""), span, budget);
      const port: unknown = parts.port;
      return charged(port === null || port === undefined ? "" : String(port), span, budget);
    }
    case "cidr.containsIP": {
      if (x.t !== "string") return noOverload("cidr", span);
      if (y.t !== "string") return noOverload("containsIP", span);
      const r = cidrContains(x.v, y.v);
      if (r === "invalid_cidr") return invalidArgument("cidr", span);
      if (r === "invalid_ip") return invalidArgument("containsIP", span);
      return bool(r);
    }
    case "int": return toInt(x, span);
    case "double": return toDoubleValue(x, span);
    case "string": return toStringValue(x, span, budget);
  }
}

/**
 * Evaluate a checked expression against the request variables (docs/semantics.md "Operators").
 * `budget` is the evaluation's (one per decision); a fresh one by default.
 */
export function evalExpr(expr: Expr, env: Env, budget: EvalBudget = new EvalBudget()): Value {
  switch (expr.kind) {
    case "null": return NULL;
    case "bool": return bool(expr.value);
    case "int": return int(expr.value);
    case "double": return double(expr.value);
    case "string": return str(expr.value);
    case "list": {
      const elements = expr.elements.map((e) => evalExpr(e, env, budget));
      const err = firstError(...elements);
      if (err) return err;
      // The engine's LIST instruction has no source position of its own: the condition's is used.
      return budget.chargeValue(elements.length * LIST_ELEMENT_BYTES) ? { t: "list", v: elements } : tooLarge(null);
    }
    case "var": return env[expr.name];
    case "select": return selectField(evalExpr(expr.operand, env, budget), expr.field, expr.span);
    case "index": return indexValue(evalExpr(expr.operand, env, budget), evalExpr(expr.index, env, budget), expr.span);
    case "has": {
      const m = evalExpr(expr.operand, env, budget);
      if (m.t === "error") return m;
      if (m.t !== "map") return noOverload("has", expr.span);
      return bool(m.v.has(expr.field));
    }
    case "not": {
      const x = evalExpr(expr.operand, env, budget);
      if (x.t === "error") return x;
      return x.t === "bool" ? bool(!x.v) : noOverload("!", expr.span);
    }
    case "neg": {
      const x = evalExpr(expr.operand, env, budget);
      if (x.t === "error") return x;
      if (x.t === "int") return x.v === INT64_MIN ? error("int_overflow", "integer overflow", expr.span) : int(-x.v);
      if (x.t === "double") return double(-x.v);
      return noOverload("-", expr.span);
    }
    case "binary": return evalBinary(expr, env, budget);
    case "and": case "or": return evalLogical(expr, env, budget);
    case "cond": {
      const c = evalExpr(expr.test, env, budget);
      if (c.t === "error") return c;
      if (c.t !== "bool") return noOverload("?:", expr.span);
      return evalExpr(c.v ? expr.then : expr.else, env, budget);
    }
    case "call": return evalCall(expr, env, budget);
  }
}

// ---------------------------------------------------------------------------------------------
// Positions

/**
 * 1-based line and column of a string offset, as compiler errors and the DEBUG section count them:
 * lines end at `\n`, `\r\n` or a lone `\r`; columns count code points (a tab is one column).
 */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  const end = Math.min(Math.max(offset, 0), text.length);
  let line = 1;
  let col = 1;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) { line++; col = 1; continue; }
    if (c === 0x0d) continue; // the \r of \r\n: the \n ends the line
    // A surrogate pair is one code point: count its high half only.
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const h = text.charCodeAt(i - 1);
      if (h >= 0xd800 && h <= 0xdbff) continue;
    }
    col++;
  }
  return { line, col };
}

/** `file:line:col` of a span, with the text looked up in `bundle.sources`. */
export function formatPosition(bundle: CheckedBundle, span: Span): string {
  const source = bundle.sources.find((s) => s.path === span.file);
  const { line, col } = lineCol(source?.text ?? "", span.start);
  return `${span.file}:${line}:${col}`;
}

// ---------------------------------------------------------------------------------------------
// Decisions

const PRECEDENCE: readonly Effect[] = ["deny", "approval_needed", "sanitize", "allow"];

/** A rule (or the egress pseudo-rule) that matched, in evaluation order. */
interface Match {
  rule: string;
  effect: Effect;
  mode: Mode;
  policy: number;
  reason: string;
  /** The rule, for its redact paths; null for egress and failed rules. */
  source: Rule | null;
}

function defaultReason(effect: Effect, id: string): string {
  switch (effect) {
    case "allow": return `allowed by rule \`${id}\``;
    case "sanitize": return `allowed with redactions by rule \`${id}\``;
    case "approval_needed": return `approval needed by rule \`${id}\``;
    case "deny": return `denied by rule \`${id}\``;
  }
}

function selectorMatches(names: string[] | null, value: string): boolean {
  return names === null || names.includes("*") || names.includes(value);
}

/** Evaluate one rule; returns its match, or null when its condition is false. */
function evaluateRule(bundle: CheckedBundle, rule: Rule, env: Env, budget: EvalBudget): Match | null {
  const result = rule.when === null ? TRUE : evalExpr(rule.when, env, budget);
  const base = { rule: rule.id, mode: rule.mode, policy: rule.policy };
  if (result.t === "bool") {
    if (!result.v) return null;
    return { ...base, effect: rule.effect, reason: rule.reason || defaultReason(rule.effect, rule.id), source: rule };
  }
  let message: string;
  let span: Span;
  if (result.t === "error") {
    message = result.message;
    span = result.span ?? rule.when!.span;
  } else {
    message = "condition is not a bool";
    span = rule.when!.span;
  }
  const reason = `rule \`${rule.id}\` failed at ${formatPosition(bundle, span)}: ${message}`;
  return { ...base, effect: "deny", reason, source: null };
}

/** The egress pseudo-rule: the deny reason, or null when every URL is allowed. */
function egressFailure(bundle: CheckedBundle, context: Map<string, JsonValue>): string | null {
  const egress = bundle.egress!;
  if (!context.has("egress")) return null;
  const urls = context.get("egress");
  if (!Array.isArray(urls) || urls.some((u) => typeof u !== "string")) {
    return "egress check failed: `context.egress` must be a list of strings";
  }
  for (const url of urls as string[]) {
    const parts = isURL(url) ? urlParts(url) : null;
    if (!parts) return `egress URL \`${url}\` is not a valid URL`;
    if (!hostAllowed(parts.host, egress.entries)) return `egress to \`${parts.host}\` is not allowed`;
  }
  return null;
}

/** Deep copy of params that redaction may change. */
function copyJson(j: JsonValue): RedactedJson {
  if (Array.isArray(j)) return j.map(copyJson);
  if (j instanceof Map) {
    const m = new Map<string, RedactedJson>();
    for (const [k, x] of j) m.set(k, copyJson(x));
    return m;
  }
  return j;
}

/** Replace the value at `path` below params with `[REDACTED]`; false when the path is absent. */
function redactPath(params: Map<string, RedactedJson>, path: string[]): boolean {
  if (path.length === 0) return false;
  let node: RedactedJson = params;
  for (let i = 0; i < path.length - 1; i++) {
    if (!(node instanceof Map)) return false;
    const next: RedactedJson | undefined = node.get(path[i]);
    if (next === undefined) return false;
    node = next;
  }
  if (!(node instanceof Map) || !node.has(path[path.length - 1])) return false;
  node.set(path[path.length - 1], new FieldRedacted());
  return true;
}

/**
 * Visit every string value in document order, depth first (keys are not visited, values
 * replaced by a redact path are skipped); `visit` may return a new string to store.
 */
function forEachString(
  node: RedactedJson, steps: PathStep[], visit: (s: string, steps: PathStep[]) => string | undefined | "stop",
): boolean {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const x = node[i];
      steps.push(i);
      if (typeof x === "string") {
        const r = visit(x, steps);
        if (r === "stop") { steps.pop(); return false; }
        if (r !== undefined) node[i] = r;
      } else if (!forEachString(x, steps, visit)) { steps.pop(); return false; }
      steps.pop();
    }
  } else if (node instanceof Map) {
    for (const [k, x] of node) {
      steps.push(k);
      if (typeof x === "string") {
        const r = visit(x, steps);
        if (r === "stop") { steps.pop(); return false; }
        if (r !== undefined) node.set(k, r);
      } else if (!forEachString(x, steps, visit)) { steps.pop(); return false; }
      steps.pop();
    }
  }
  return true;
}

/** Evaluate a validated request against a bundle; returns the decision JSON text. */
export function decide(bundle: CheckedBundle, req: ValidatedRequest, digest: string): string {
  if (bundle.policies.length === 0) throw new Error("checked bundle has no policy");
  const env = requestEnv(req);
  const budget = new EvalBudget();
  const matches: Match[] = [];

  // Step 3: the egress pseudo-rule comes first in evaluation order.
  if (bundle.egress !== null) {
    const reason = egressFailure(bundle, req.context);
    if (reason !== null) {
      matches.push({ rule: "egress", effect: "deny", mode: bundle.egress.mode, policy: bundle.egress.policy, reason, source: null });
    }
  }
  // Steps 1-2: every rule whose selectors match, in bundle order (a linear scan on purpose).
  for (const rule of bundle.rules) {
    if (!selectorMatches(rule.agents, req.agentId)) continue;
    if (!selectorMatches(rule.tools, req.tool)) continue;
    if (!selectorMatches(rule.actions, req.action)) continue;
    const m = evaluateRule(bundle, rule, env, budget);
    if (m) matches.push(m);
  }

  // Steps 4-5: enforced matches decide by precedence; shadow matches are reported.
  const enforced = matches.filter((m) => m.mode === "enforce");
  const shadow = matches.filter((m) => m.mode === "shadow").map((m) => ({ rule: m.rule, effect: m.effect as string }));
  let winner: Match | undefined;
  for (const effect of PRECEDENCE) {
    winner = enforced.find((m) => m.effect === effect);
    if (winner) break;
  }

  let decision: string;
  let rule: string;
  let reason: string;
  let policy: number;
  let isEnforced = true;
  let fromDefault = false;
  if (winner) {
    decision = winner.effect;
    rule = winner.rule;
    reason = winner.reason;
    policy = winner.policy;
  } else {
    // Step 6: the default, from each policy's mode for this call.
    fromDefault = true;
    rule = "default";
    const modeOf = (i: number): Mode => {
      const p = bundle.policies[i];
      return Object.hasOwn(p.agentModes, req.agentId) ? p.agentModes[req.agentId] : p.mode;
    };
    const indices = bundle.policies.map((_, i) => i);
    const enforcing = indices.filter((i) => modeOf(i) === "enforce");
    const denying = enforcing.find((i) => bundle.policies[i].default === "deny");
    if (denying !== undefined) {
      decision = "deny"; policy = denying; reason = "no rule allows this call (default deny)";
    } else if (enforcing.length > 0) {
      decision = "allow"; policy = enforcing[0]; reason = "no rule matched (default allow)";
    } else {
      decision = "allow"; policy = 0; reason = "no enforced policy applies (shadow mode)"; isEnforced = false;
    }
  }
  const shadowDefaultDeny = fromDefault && decision !== "deny" &&
    bundle.policies.some((p, i) => p.default === "deny" && (Object.hasOwn(p.agentModes, req.agentId) ? p.agentModes[req.agentId] : p.mode) === "shadow");

  // Step 8: redaction, only for allow and sanitize.
  const params = copyJson(req.params) as Map<string, RedactedJson>;
  const redactions: { path: string; by: string }[] = [];
  if (decision === "allow" || decision === "sanitize") {
    // Redaction over the evaluation budget fails closed: a sanitize rule's paths as the rule
    // failing at its position, a DLP pattern with its own reason (docs/semantics.md "Limits").
    let failed: { rule: string; policy: number; reason: string } | null = null;
    for (const m of enforced) {
      if (m.effect !== "sanitize" || m.source === null) continue;
      for (const path of m.source.redact) {
        if (!redactPath(params, path)) continue;
        const text = formatParamsPath(path);
        if (!budget.chargeTotal(REDACTION_CHARGE + utf8Length(text))) {
          const src = m.source;
          const at = formatPosition(bundle, src.when ? src.when.span : src.span);
          failed = { rule: m.rule, policy: m.policy, reason: `rule \`${m.rule}\` failed at ${at}: value is larger than the limit` };
          break;
        }
        redactions.push({ path: text, by: m.rule });
      }
      if (failed) break;
    }
    let firstDlp: number | null = null;
    for (let i = 0; i < bundle.dlp.length && failed === null; i++) {
      const pattern = bundle.dlp[i];
      const by = `dlp:${pattern.name}`;
      if (pattern.mode === "shadow") {
        let wouldMatch = false;
        forEachString(params, [], (s) => {
          if (regexMatches(pattern.pattern, s).length === 0) return undefined;
          wouldMatch = true;
          return "stop";
        });
        if (wouldMatch) shadow.push({ rule: by, effect: "sanitize" });
        continue;
      }
      let matched = false;
      let overBudget = false;
      forEachString(params, [], (s, steps) => {
        const found = regexMatches(pattern.pattern, s);
        if (found.length === 0) return undefined;
        // Charged before building: each pass can multiply a string by the replacement's length.
        let size = utf8Length(s);
        const replacement = utf8Length(`[REDACTED:${pattern.name}]`);
        for (const [start, end] of found) size += replacement - utf8Length(s.slice(start, end));
        if (!budget.chargeValue(size)) { overBudget = true; return "stop"; }
        let out = "";
        let last = 0;
        for (const [start, end] of found) {
          out += s.slice(last, start) + `[REDACTED:${pattern.name}]`;
          last = end;
        }
        out += s.slice(last);
        const text = formatParamsPath(steps);
        if (!budget.chargeTotal(REDACTION_CHARGE + utf8Length(text))) { overBudget = true; return "stop"; }
        redactions.push({ path: text, by });
        matched = true;
        return out;
      });
      if (overBudget) {
        failed = { rule: by, policy: pattern.policy, reason: `redaction by \`${by}\` failed: value is larger than the limit` };
        break;
      }
      if (matched && firstDlp === null) firstDlp = i;
    }
    if (failed !== null) {
      decision = "deny";
      rule = failed.rule;
      policy = failed.policy;
      reason = failed.reason;
      isEnforced = true;
    } else if (decision === "allow" && redactions.length > 0 && firstDlp !== null) {
      const pattern = bundle.dlp[firstDlp];
      decision = "sanitize";
      rule = `dlp:${pattern.name}`;
      policy = pattern.policy;
      reason = `sensitive data redacted by \`dlp:${pattern.name}\``;
      isEnforced = true;
    }
  }
  if (shadowDefaultDeny) shadow.push({ rule: "default", effect: "deny" });

  const p = bundle.policies[policy];
  return renderDecision({
    decision, enforced: isEnforced, rule, reason, policy: p.name, policyVersion: p.version,
    bundle: digest.startsWith("sha256:") ? digest : `sha256:${digest}`,
    shadow, redactions, params,
  });
}

/**
 * The whole decision algorithm of docs/semantics.md: parse and validate `request`, evaluate it
 * against `bundle`, render the decision JSON. `digest` is the bundle's SHA-256 in hex (a leading
 * `sha256:` is accepted).
 */
export function evaluateReference(bundle: CheckedBundle, request: Uint8Array | string, digest: string):
  { ok: true; decision: string } | RequestError {
  const r = readRequest(request);
  if (!r.ok) return r;
  return { ok: true, decision: decide(bundle, r.request, digest) };
}

/**
 * The value of rule `ruleIndex`'s condition for `request` (`true` when it has none), as the value
 * JSON of docs/engine-abi.md: what the engine's `eval_rule_value` must return.
 */
export function evalRuleValue(bundle: CheckedBundle, ruleIndex: number, request: Uint8Array | string):
  { ok: true; value: unknown } | RequestError {
  const rule = bundle.rules[ruleIndex];
  if (!rule) throw new RangeError(`rule index ${ruleIndex} is out of range`);
  const r = readRequest(request);
  if (!r.ok) return r;
  const v = rule.when === null ? TRUE : evalExpr(rule.when, requestEnv(r.request), new EvalBudget());
  return { ok: true, value: valueToJson(v) };
}
