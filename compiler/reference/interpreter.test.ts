// Tests for the reference interpreter, written from docs/semantics.md: every operator (with its
// error cases and exact messages) and every step of the decision algorithm. Expressions are parsed
// with the real CEL parser (compiler/parse/expr.ts) and turned into checked AST by a small
// converter below, so each case reads as a policy author would write it.
import { describe, it, expect } from "vitest";
import type { CheckedBundle, Effect, Expr, FnName, Mode, Span, VarName } from "../ast.ts";
import { parseExpression, type RawExpr } from "../parse/expr.ts";
import { evalExpr, evalRuleValue, evaluateReference, lineCol, regexMatches, requestEnv } from "./interpreter.ts";
import { readRequest } from "./request.ts";
import {
  compareIntDouble, compareStrings, doubleBits, valueToJson, EvalBudget, MAX_EVAL_BYTES, MAX_VALUE_BYTES, utf8Length, type Value,
} from "./values.ts";

// ---------------------------------------------------------------------------------------------
// Helpers: RawExpr -> checked Expr, bundles, requests

const FILE = "p.yaml";
const VARS = new Set(["agent", "tool", "action", "params", "context"]);

function toChecked(raw: RawExpr): Expr {
  const span: Span = { file: FILE, start: raw.span.at, end: raw.span.end };
  switch (raw.kind) {
    case "null": return { kind: "null", span };
    case "bool": return { kind: "bool", value: raw.value, span };
    case "int": return { kind: "int", value: raw.value, span };
    case "double": return { kind: "double", value: raw.value, span };
    case "string": return { kind: "string", value: raw.value, span };
    case "list": return { kind: "list", elements: raw.elements.map(toChecked), span };
    case "ident":
      if (!VARS.has(raw.name)) throw new Error(`unknown variable ${raw.name}`);
      return { kind: "var", name: raw.name as VarName, span };
    case "select": return { kind: "select", operand: toChecked(raw.operand), field: raw.field, span };
    case "index":
      if (raw.index.kind === "string") return { kind: "select", operand: toChecked(raw.operand), field: raw.index.value, span };
      return { kind: "index", operand: toChecked(raw.operand), index: toChecked(raw.index), span };
    case "unary": return { kind: raw.op === "!" ? "not" : "neg", operand: toChecked(raw.operand), span };
    case "binary":
      if (raw.op === "&&") return { kind: "and", left: toChecked(raw.left), right: toChecked(raw.right), span };
      if (raw.op === "||") return { kind: "or", left: toChecked(raw.left), right: toChecked(raw.right), span };
      return { kind: "binary", op: raw.op, left: toChecked(raw.left), right: toChecked(raw.right), span };
    case "cond": return { kind: "cond", test: toChecked(raw.test), then: toChecked(raw.then), else: toChecked(raw.else), span };
    case "call": {
      const args = raw.args.map(toChecked);
      if (raw.name === "has") {
        const sel = raw.args[0];
        if (sel.kind !== "select") throw new Error("has() needs a field selection");
        return { kind: "has", operand: toChecked(sel.operand), field: sel.field, span };
      }
      if (raw.name === "matches") {
        const all = raw.target ? [raw.target, ...raw.args] : raw.args;
        const pattern = all[1];
        if (pattern.kind !== "string") throw new Error("matches() needs a literal pattern");
        return { kind: "call", fn: "matches", args: [toChecked(all[0])], pattern: pattern.value, span };
      }
      if (raw.target && raw.target.kind === "call" && (raw.target.name === "url" || raw.target.name === "cidr")) {
        const fn = `${raw.target.name}.${raw.name}` as FnName;
        return { kind: "call", fn, args: [...raw.target.args.map(toChecked), ...args], span };
      }
      const fn = raw.name as FnName;
      return { kind: "call", fn, args: raw.target ? [toChecked(raw.target), ...args] : args, span };
    }
  }
}

/** Parse `text` placed at `offset` of a file. */
function expr(text: string, offset = 0): Expr {
  const parsed = parseExpression(text, FILE, offset);
  if (!parsed.expr) throw new Error(`bad test expression ${text}: ${parsed.errors.map((e) => e.message).join("; ")}`);
  return toChecked(parsed.expr);
}

const BASE_REQUEST = {
  agent: { id: "a1", tenant: "acme", scopes: ["payments:write"] },
  tool: "payments",
  action: "create",
  params: {
    amount: 7200, big: 9007199254740992, s: "héllo😀", list: [10, 20, 30], empty: "",
    nested: { "x-y": 1, inner: { k: "v" } }, nul: null, nan_text: "NaN", t: true,
  },
  context: { cost: 0.5 },
};

function env(request: unknown = BASE_REQUEST) {
  const r = readRequest(JSON.stringify(request));
  if (!r.ok) throw new Error(r.message);
  return requestEnv(r.request);
}

/** A compact, exact rendering of a value for assertions. */
function show(v: Value): string {
  switch (v.t) {
    case "null": return "null";
    case "bool": return String(v.v);
    case "int": return `int:${v.v}`;
    case "double": return Number.isNaN(v.v) ? "double:NaN" : Object.is(v.v, -0) ? "double:-0" : `double:${v.v}`;
    case "string": return `string:${v.v}`;
    case "list": return `[${v.v.map(show).join(",")}]`;
    case "map": return `{${[...v.v].map(([k, x]) => `${k}:${show(x)}`).join(",")}}`;
    case "error": return `error:${v.code}:${v.message}`;
  }
}

const ev = (text: string, request?: unknown) => show(evalExpr(expr(text), env(request)));

interface RuleSpec {
  id: string; effect?: Effect; mode?: Mode; policy?: number; when?: string;
  agents?: string[]; tools?: string[]; actions?: string[]; reason?: string; redact?: string[][];
}
interface PolicySpec { name?: string; version?: string; mode?: Mode; default?: "allow" | "deny"; agentModes?: Record<string, Mode> }

/**
 * A CheckedBundle whose source text holds each rule's `when` on its own line
 * (`  when: <expr>` on line 2i+2), so fail-closed positions are real file positions.
 */
function bundle(opts: {
  policies?: PolicySpec[]; rules?: RuleSpec[];
  egress?: { mode?: Mode; policy?: number; hosts: string[] };
  dlp?: { name: string; pattern: string; policy?: number; mode?: Mode }[];
}): CheckedBundle {
  let text = "";
  const rules = (opts.rules ?? []).map((r) => {
    const ruleStart = text.length;
    text += `- id: ${r.id}\n`;
    let when: Expr | null = null;
    if (r.when !== undefined) {
      text += "  when: ";
      when = expr(r.when, text.length);
      text += r.when + "\n";
    } else {
      text += "\n";
    }
    return {
      id: r.id, effect: r.effect ?? "allow", mode: r.mode ?? "enforce", policy: r.policy ?? 0,
      agents: r.agents ?? null, tools: r.tools ?? null, actions: r.actions ?? null,
      when, reason: r.reason ?? "", redact: r.redact ?? [],
      span: { file: FILE, start: ruleStart, end: ruleStart + 1 },
    };
  });
  const span: Span = { file: FILE, start: 0, end: 0 };
  return {
    sources: [{ path: FILE, text }],
    policies: (opts.policies ?? [{}]).map((p, i) => ({
      name: p.name ?? `pol${i}`, version: p.version ?? `v${i}`, file: FILE, mode: p.mode ?? "enforce",
      default: p.default ?? "deny", agentModes: p.agentModes ?? {}, span,
    })),
    rules,
    egress: opts.egress ? {
      mode: opts.egress.mode ?? "enforce", policy: opts.egress.policy ?? 0,
      entries: opts.egress.hosts.map((h) => ({
        host: h.startsWith("*.") ? h.slice(2) : h, wildcard: h.startsWith("*."), policy: opts.egress!.policy ?? 0, span,
      })),
    } : null,
    dlp: (opts.dlp ?? []).map((d) => ({ name: d.name, pattern: d.pattern, policy: d.policy ?? 0, mode: d.mode ?? "enforce", span })),
  };
}

const DIGEST = "ab".repeat(32);

function decide(b: CheckedBundle, request: unknown = BASE_REQUEST): Record<string, unknown> {
  const text = typeof request === "string" ? request : JSON.stringify(request);
  const r = evaluateReference(b, text, DIGEST);
  if (!r.ok) throw new Error(`request error ${r.code}: ${r.message}`);
  return JSON.parse(r.decision);
}

function decisionText(b: CheckedBundle, request: unknown = BASE_REQUEST): string {
  const r = evaluateReference(b, typeof request === "string" ? request : JSON.stringify(request), DIGEST);
  if (!r.ok) throw new Error(r.message);
  return r.decision;
}

const withParams = (params: unknown, context?: unknown) => ({ ...BASE_REQUEST, params, ...(context === undefined ? {} : { context }) });

// ---------------------------------------------------------------------------------------------
// Values

describe("exact numeric comparison", () => {
  it("compares ints with doubles without rounding", () => {
    expect(compareIntDouble(9007199254740993n, 9007199254740992)).toBe(1);
    expect(compareIntDouble(9007199254740992n, 9007199254740992)).toBe(0);
    expect(compareIntDouble((1n << 63n) - 1n, 2 ** 63)).toBe(-1);
    expect(compareIntDouble(-(1n << 63n), -(2 ** 63))).toBe(0);
    expect(compareIntDouble(2n, 2.5)).toBe(-1);
    expect(compareIntDouble(3n, 2.5)).toBe(1);
    expect(compareIntDouble(-3n, -2.5)).toBe(-1);
    expect(compareIntDouble(-2n, -2.5)).toBe(1);
    expect(compareIntDouble(0n, -0)).toBe(0);
    expect(compareIntDouble(0n, NaN)).toBe(null);
    expect(compareIntDouble((1n << 63n) - 1n, Infinity)).toBe(-1);
    expect(compareIntDouble(-(1n << 63n), -Infinity)).toBe(1);
  });

  it("orders strings by code point, not UTF-16 unit", () => {
    expect(compareStrings("\uffff", "\u{10000}")).toBe(-1);
    expect(compareStrings("\u{10000}", "\uffff")).toBe(1);
    expect(compareStrings("a", "ab")).toBe(-1);
    expect(compareStrings("b", "ab")).toBe(1);
    expect(compareStrings("x", "x")).toBe(0);
  });

  it("writes double bits with one canonical NaN", () => {
    expect(doubleBits(1.5)).toBe("3ff8000000000000");
    expect(doubleBits(-0)).toBe("8000000000000000");
    expect(doubleBits(NaN)).toBe("7ff8000000000000");
    expect(doubleBits(-Infinity)).toBe("fff0000000000000");
  });
});

describe("value JSON", () => {
  it("writes every kind as docs/engine-abi.md says", () => {
    const e = env();
    expect(valueToJson(evalExpr(expr("[null, true, -12, 1.5, 'a']"), e))).toEqual({
      type: "list", value: [
        { type: "null" }, { type: "bool", value: true }, { type: "int", value: "-12" },
        { type: "double", bits: "3ff8000000000000" }, { type: "string", value: "a" },
      ],
    });
    expect(valueToJson(evalExpr(expr("params.nested"), e))).toEqual({
      type: "map", value: [["x-y", { type: "double", bits: "3ff0000000000000" }], ["inner", { type: "map", value: [["k", { type: "string", value: "v" }]] }]],
    });
    expect(valueToJson(evalExpr(expr("params.nope"), e))).toEqual({ type: "error", code: "no_such_key", message: "no such key `nope`" });
  });
});

// ---------------------------------------------------------------------------------------------
// Operators

describe("request variables", () => {
  it("reads every variable; JSON numbers are doubles", () => {
    expect(ev("agent.id")).toBe("string:a1");
    expect(ev("agent.scopes")).toBe("[string:payments:write]");
    expect(ev("tool + '/' + action")).toBe("string:payments/create");
    expect(ev("params.amount")).toBe("double:7200");
    expect(ev("context.cost")).toBe("double:0.5");
    expect(ev("agent.tenant", { agent: { id: "x" }, tool: "t", action: "a" })).toBe("error:no_such_key:no such key `tenant`");
  });

  it("gives empty maps for absent params and context", () => {
    const minimal = { agent: { id: "x" }, tool: "t", action: "a" };
    expect(ev("size(params) + size(context)", minimal)).toBe("int:0");
    expect(ev("has(context.call_chain)", minimal)).toBe("false");
  });
});

describe("field, index, has", () => {
  it("selects fields and reports missing keys", () => {
    expect(ev("params.nested.inner.k")).toBe("string:v");
    expect(ev('params.nested["x-y"]')).toBe("double:1");
    expect(ev("params.missing")).toBe("error:no_such_key:no such key `missing`");
    expect(ev("params.nul")).toBe("null");
  });

  it("needs a map to select from", () => {
    expect(ev("params.s.length")).toBe("error:no_matching_overload:no matching overload for `.length`");
    expect(ev("params.nul.x")).toBe("error:no_matching_overload:no matching overload for `.x`");
  });

  it("indexes lists by int and by integral double", () => {
    expect(ev("params.list[0]")).toBe("double:10");
    expect(ev("params.list[2]")).toBe("double:30");
    expect(ev("params.list[1.0]")).toBe("double:20");
    expect(ev("params.list[3]")).toBe("error:index_out_of_range:index out of range");
    expect(ev("params.list[-1]")).toBe("error:index_out_of_range:index out of range");
    expect(ev("params.list[1e300]")).toBe("error:index_out_of_range:index out of range");
    expect(ev("params.list[1.5]")).toBe("error:no_matching_overload:no matching overload for `[]`");
    // A literal string key is a field selection, so a list gives `.0`.
    expect(ev("params.list['0']")).toBe("error:no_matching_overload:no matching overload for `.0`");
    expect(ev("params.list[true]")).toBe("error:no_matching_overload:no matching overload for `[]`");
  });

  it("indexes maps by computed string keys", () => {
    expect(ev("params.nested['x-' + 'y']")).toBe("double:1");
    expect(ev("params.nested['zz' + '']")).toBe("error:no_such_key:no such key `zz`");
    expect(ev("params.nested[1]")).toBe("error:no_matching_overload:no matching overload for `[]`");
    expect(ev("params.s[0]")).toBe("error:no_matching_overload:no matching overload for `[]`");
  });

  it("reports the operand's error before the index's", () => {
    expect(ev("params.a[params.b]")).toBe("error:no_such_key:no such key `a`");
    expect(ev("params.list[params.b]")).toBe("error:no_such_key:no such key `b`");
  });

  it("has() tests presence, even of null values", () => {
    expect(ev("has(params.amount)")).toBe("true");
    expect(ev("has(params.nul)")).toBe("true");
    expect(ev("has(params.zzz)")).toBe("false");
    expect(ev("has(params.nested.inner)")).toBe("true");
    expect(ev("has(params.s.x)")).toBe("error:no_matching_overload:no matching overload for `has`");
    expect(ev("has(params.zzz.y)")).toBe("error:no_such_key:no such key `zzz`");
  });
});

describe("arithmetic", () => {
  it("int arithmetic with overflow at the exact 64-bit bounds", () => {
    expect(ev("9223372036854775806 + 1")).toBe("int:9223372036854775807");
    expect(ev("9223372036854775807 + 1")).toBe("error:int_overflow:integer overflow");
    expect(ev("-9223372036854775807 - 1")).toBe("int:-9223372036854775808");
    expect(ev("-9223372036854775808 - 1")).toBe("error:int_overflow:integer overflow");
    expect(ev("4611686018427387904 * 2")).toBe("error:int_overflow:integer overflow");
    expect(ev("-4611686018427387904 * 2")).toBe("int:-9223372036854775808");
    expect(ev("3037000499 * 3037000499")).toBe("int:9223372030926249001");
    expect(ev("-(-9223372036854775808)")).toBe("error:int_overflow:integer overflow");
    expect(ev("-(-9223372036854775807)")).toBe("int:9223372036854775807");
    expect(ev("-9223372036854775808 / -1")).toBe("error:int_overflow:integer overflow");
    expect(ev("-9223372036854775808 % -1")).toBe("int:0");
  });

  it("int division truncates; modulus takes the dividend's sign", () => {
    expect(ev("7 / 2")).toBe("int:3");
    expect(ev("-7 / 2")).toBe("int:-3");
    expect(ev("7 / -2")).toBe("int:-3");
    expect(ev("7 % 3")).toBe("int:1");
    expect(ev("-7 % 3")).toBe("int:-1");
    expect(ev("7 % -3")).toBe("int:1");
    expect(ev("1 / 0")).toBe("error:division_by_zero:division by zero");
    expect(ev("1 % 0")).toBe("error:modulus_by_zero:modulus by zero");
  });

  it("doubles follow IEEE 754; an int operand is converted", () => {
    expect(ev("1 + 1.5")).toBe("double:2.5");
    expect(ev("params.amount * 2")).toBe("double:14400");
    expect(ev("1.0 / 0.0")).toBe("double:Infinity");
    expect(ev("-1 / 0.0")).toBe("double:-Infinity");
    expect(ev("0.0 / 0.0")).toBe("double:NaN");
    expect(ev("7.5 % 2")).toBe("double:1.5");
    expect(ev("-7.5 % 2.0")).toBe("double:-1.5");
    expect(ev("1.0 % 0.0")).toBe("double:NaN");
    expect(ev("-(0.0)")).toBe("double:-0");
    expect(ev("9223372036854775807 + 0.0")).toBe("double:9223372036854776000");
  });

  it("concatenates strings and lists; rejects everything else", () => {
    expect(ev("'ab' + 'cd'")).toBe("string:abcd");
    expect(ev("[1] + [2.0, 'x']")).toBe("[int:1,double:2,string:x]");
    expect(ev("'a' + 1")).toBe("error:no_matching_overload:no matching overload for `+`");
    expect(ev("[1] - [1]")).toBe("error:no_matching_overload:no matching overload for `-`");
    expect(ev("true * 2")).toBe("error:no_matching_overload:no matching overload for `*`");
    expect(ev("'a' / 'b'")).toBe("error:no_matching_overload:no matching overload for `/`");
    expect(ev("null % 1")).toBe("error:no_matching_overload:no matching overload for `%`");
    expect(ev("-'a'")).toBe("error:no_matching_overload:no matching overload for `-`");
  });

  it("returns the leftmost error operand", () => {
    expect(ev("params.a + params.b")).toBe("error:no_such_key:no such key `a`");
    expect(ev("1 + params.b")).toBe("error:no_such_key:no such key `b`");
    expect(ev("(1 / 0) + params.b")).toBe("error:division_by_zero:division by zero");
    expect(ev("[1, params.q, 1 / 0]")).toBe("error:no_such_key:no such key `q`");
  });
});

describe("equality", () => {
  it("compares int and double exactly", () => {
    expect(ev("params.amount == 7200")).toBe("true");
    expect(ev("5000 == 5000.0")).toBe("true");
    expect(ev("9007199254740993 == 9007199254740992.0")).toBe("false");
    expect(ev("9007199254740992 == 9007199254740992.0")).toBe("true");
    expect(ev("9007199254740993 == params.big")).toBe("false");
    expect(ev("9223372036854775807 == 9223372036854775808.0")).toBe("false");
    expect(ev("-9223372036854775808 == -9223372036854775808.0")).toBe("true");
    expect(ev("9007199254740993 != 9007199254740992.0")).toBe("true");
  });

  it("is false across types and for NaN, never an error", () => {
    expect(ev("1 == '1'")).toBe("false");
    expect(ev("null == null")).toBe("true");
    expect(ev("null == false")).toBe("false");
    expect(ev("1 != 'a'")).toBe("true");
    expect(ev("0.0 / 0.0 == 0.0 / 0.0")).toBe("false");
    expect(ev("0.0 / 0.0 != 0.0 / 0.0")).toBe("true");
    expect(ev("[0.0 / 0.0] == [0.0 / 0.0]")).toBe("false");
    expect(ev("params.a == 1")).toBe("error:no_such_key:no such key `a`");
  });

  it("compares lists elementwise and maps by key set", () => {
    expect(ev("[1, 2.0, 'a'] == [1.0, 2, 'a']")).toBe("true");
    expect(ev("[1, 2] == [1, 2, 3]")).toBe("false");
    expect(ev("params.list == [10, 20, 30]")).toBe("true");
    const r = { ...BASE_REQUEST, params: { m1: { a: 1, b: [true] }, m2: { b: [true], a: 1.0 }, m3: { a: 1 }, m4: { a: 1, c: [true] } } };
    expect(ev("params.m1 == params.m2", r)).toBe("true");
    expect(ev("params.m1 == params.m3", r)).toBe("false");
    expect(ev("params.m1 == params.m4", r)).toBe("false");
  });
});

describe("ordering", () => {
  it("orders mixed numbers exactly near 2^53 and 2^63", () => {
    expect(ev("9007199254740993 > 9007199254740992.0")).toBe("true");
    expect(ev("9007199254740993 < 9007199254740994.0")).toBe("true");
    expect(ev("9007199254740992.0 < 9007199254740993")).toBe("true");
    expect(ev("9007199254740992.0 >= 9007199254740993")).toBe("false");
    expect(ev("9223372036854775807 < 9223372036854775808.0")).toBe("true");
    expect(ev("9223372036854775808.0 > 9223372036854775807")).toBe("true");
    expect(ev("-9223372036854775808 <= -9223372036854775808.0")).toBe("true");
    expect(ev("-9223372036854775808 > -9223372036854777856.0")).toBe("true");
    expect(ev("2 < 2.5 && 3 > 2.5 && -2 > -2.5 && -3 < -2.5")).toBe("true");
    expect(ev("params.amount <= 7200 && params.amount >= 7200 && params.amount < 7201")).toBe("true");
  });

  it("is false for every comparison with NaN", () => {
    for (const op of ["<", "<=", ">", ">="]) {
      expect(ev(`0.0 / 0.0 ${op} 1`)).toBe("false");
      expect(ev(`1 ${op} 0.0 / 0.0`)).toBe("false");
    }
  });

  it("orders strings by code point and bools false < true", () => {
    expect(ev("'a' < 'b'")).toBe("true");
    expect(ev("'\\uffff' < '\\U00010000'")).toBe("true");
    expect(ev("'abc' >= 'abd'")).toBe("false");
    expect(ev("false < true")).toBe("true");
    expect(ev("true <= false")).toBe("false");
  });

  it("rejects other types", () => {
    expect(ev("1 < 'a'")).toBe("error:no_matching_overload:no matching overload for `<`");
    expect(ev("null >= null")).toBe("error:no_matching_overload:no matching overload for `>=`");
    expect(ev("[1] > [0]")).toBe("error:no_matching_overload:no matching overload for `>`");
    expect(ev("true <= 1")).toBe("error:no_matching_overload:no matching overload for `<=`");
  });
});

describe("in", () => {
  it("tests list membership by == and map keys by string", () => {
    expect(ev("2 in [1, 2.0]")).toBe("true");
    expect(ev("'c' in ['a', 'b']")).toBe("false");
    expect(ev("10 in params.list")).toBe("true");
    expect(ev("'amount' in params")).toBe("true");
    expect(ev("'x-y' in params.nested")).toBe("true");
    expect(ev("'nope' in params")).toBe("false");
    expect(ev("1 in params")).toBe("false");
    expect(ev("'a' in 'abc'")).toBe("error:no_matching_overload:no matching overload for `in`");
    expect(ev("params.q in [1]")).toBe("error:no_such_key:no such key `q`");
    expect(ev("1 in params.q")).toBe("error:no_such_key:no such key `q`");
  });
});

describe("&& and || with error absorption", () => {
  // t, f, e1/e2 (two distinct errors), n (a non-bool).
  const operands: Record<string, string> = { t: "true", f: "false", e1: "params.e1", e2: "params.e2", n: "1" };
  const err = (k: string) => `error:no_such_key:no such key \`${k}\``;
  const andNB = "error:no_matching_overload:no matching overload for `&&`";
  const orNB = "error:no_matching_overload:no matching overload for `||`";
  const andTable: Record<string, string> = {
    "t t": "true", "t f": "false", "t e2": err("e2"), "t n": andNB,
    "f t": "false", "f f": "false", "f e2": "false", "f n": "false",
    "e1 t": err("e1"), "e1 f": "false", "e1 e2": err("e1"), "e1 n": err("e1"),
    "n t": andNB, "n f": "false", "n e2": err("e2"), "n n": andNB,
  };
  const orTable: Record<string, string> = {
    "t t": "true", "t f": "true", "t e2": "true", "t n": "true",
    "f t": "true", "f f": "false", "f e2": err("e2"), "f n": orNB,
    "e1 t": "true", "e1 f": err("e1"), "e1 e2": err("e1"), "e1 n": err("e1"),
    "n t": "true", "n f": orNB, "n e2": err("e2"), "n n": orNB,
  };
  for (const [key, want] of Object.entries(andTable)) {
    const [l, r] = key.split(" ");
    it(`${l} && ${r}`, () => expect(ev(`${operands[l]} && ${operands[r]}`)).toBe(want));
  }
  for (const [key, want] of Object.entries(orTable)) {
    const [l, r] = key.split(" ");
    it(`${l} || ${r}`, () => expect(ev(`${operands[l]} || ${operands[r]}`)).toBe(want));
  }

  it("absorbs errors from nested expressions", () => {
    expect(ev("params.missing > 5 && false")).toBe("false");
    expect(ev("true || 1 / 0 == 0")).toBe("true");
    expect(ev("!(params.missing > 5) || true")).toBe("true");
  });
});

describe("! and ?:", () => {
  it("negates bools only", () => {
    expect(ev("!true")).toBe("false");
    expect(ev("!!false")).toBe("false");
    expect(ev("!1")).toBe("error:no_matching_overload:no matching overload for `!`");
    expect(ev("!params.q")).toBe("error:no_such_key:no such key `q`");
  });

  it("evaluates only the chosen branch", () => {
    expect(ev("true ? 1 : 1 / 0")).toBe("int:1");
    expect(ev("false ? 1 / 0 : 'b'")).toBe("string:b");
    expect(ev("params.q ? 1 : 2")).toBe("error:no_such_key:no such key `q`");
    expect(ev("1 ? 2 : 3")).toBe("error:no_matching_overload:no matching overload for `?:`");
    expect(ev("params.amount > 5000 ? 'big' : 'small'")).toBe("string:big");
  });
});

describe("string functions", () => {
  it("size counts code points, list and map elements", () => {
    expect(ev("size(params.s)")).toBe("int:6");
    expect(ev("params.s.size()")).toBe("int:6");
    expect(ev("size('')")).toBe("int:0");
    expect(ev("size(params.list)")).toBe("int:3");
    expect(ev("size(params.nested)")).toBe("int:2");
    expect(ev("size(1)")).toBe("error:no_matching_overload:no matching overload for `size`");
    expect(ev("size(params.q)")).toBe("error:no_such_key:no such key `q`");
  });

  it("startsWith, endsWith, contains", () => {
    expect(ev("params.s.startsWith('hé')")).toBe("true");
    expect(ev("params.s.endsWith('😀')")).toBe("true");
    expect(ev("params.s.contains('llo')")).toBe("true");
    expect(ev("params.s.contains('')")).toBe("true");
    expect(ev("'abc'.startsWith('b')")).toBe("false");
    expect(ev("'abc'.startsWith(1)")).toBe("error:no_matching_overload:no matching overload for `startsWith`");
    expect(ev("params.amount.endsWith('0')")).toBe("error:no_matching_overload:no matching overload for `endsWith`");
    expect(ev("[1].contains(1)")).toBe("error:no_matching_overload:no matching overload for `contains`");
  });

  it("lowerAscii maps only A-Z", () => {
    expect(ev("'ÀBc-Z'.lowerAscii()")).toBe("string:Àbc-z");
    expect(ev("lowerAscii(1)")).toBe("error:no_matching_overload:no matching overload for `lowerAscii`");
  });

  it("matches is an unanchored search", () => {
    expect(ev("'SUPP-1234'.matches('^SUPP-[0-9]{4}$')")).toBe("true");
    expect(ev("'xSUPP-1234'.matches('^SUPP-[0-9]{4}$')")).toBe("false");
    expect(ev("'abc'.matches('b')")).toBe("true");
    expect(ev("'abc'.matches('')")).toBe("true");
    expect(ev("params.s.matches('^h.llo.$')")).toBe("true");
    expect(ev("params.amount.matches('7')")).toBe("error:no_matching_overload:no matching overload for `matches`");
  });
});

describe("field checks", () => {
  it("isIBAN, isLuhn, isURL, isIP", () => {
    expect(ev("isIBAN('DE89370400440532013000')")).toBe("true");
    expect(ev("isIBAN('DE89370400440532013001')")).toBe("false");
    expect(ev("isLuhn('79927398713')")).toBe("true");
    expect(ev("isLuhn('79927398710')")).toBe("false");
    expect(ev("isURL('https://example.com/x')")).toBe("true");
    expect(ev("isURL('mailto:a@b.c')")).toBe("false");
    expect(ev("isIP('10.0.0.1') && isIP('::1') && !isIP('010.0.0.1')")).toBe("true");
    expect(ev("isIBAN(1)")).toBe("error:no_matching_overload:no matching overload for `isIBAN`");
    expect(ev("isIP(null)")).toBe("error:no_matching_overload:no matching overload for `isIP`");
  });

  it("url() parts", () => {
    expect(ev("url('HTTPS://Example.COM:443/a').getHost()")).toBe("string:example.com");
    expect(ev("url('HTTPS://Example.COM:443/a').getScheme()")).toBe("string:https");
    expect(ev("url('HTTPS://Example.COM:443/a').getPort()")).toBe("string:");
    expect(ev("url('http://example.com:8080').getPort()")).toBe("string:8080");
    expect(ev("url('not a url').getHost()")).toBe("error:invalid_argument:invalid argument to `url`");
    expect(ev("url('mailto:x@y.z').getScheme()")).toBe("error:invalid_argument:invalid argument to `url`");
    expect(ev("url(1).getPort()")).toBe("error:no_matching_overload:no matching overload for `url`");
  });

  it("cidr().containsIP()", () => {
    expect(ev("cidr('10.0.0.0/8').containsIP('10.1.2.3')")).toBe("true");
    expect(ev("cidr('10.0.0.0/8').containsIP('11.0.0.1')")).toBe("false");
    expect(ev("cidr('10.0.0.0/8').containsIP('::1')")).toBe("false");
    expect(ev("cidr('x').containsIP('10.0.0.1')")).toBe("error:invalid_argument:invalid argument to `cidr`");
    expect(ev("cidr('10.0.0.0/8').containsIP('x')")).toBe("error:invalid_argument:invalid argument to `containsIP`");
    expect(ev("cidr(1).containsIP('x')")).toBe("error:no_matching_overload:no matching overload for `cidr`");
    expect(ev("cidr('10.0.0.0/8').containsIP(1)")).toBe("error:no_matching_overload:no matching overload for `containsIP`");
  });
});

describe("conversions", () => {
  it("int()", () => {
    expect(ev("int(42)")).toBe("int:42");
    expect(ev("int(-7.9)")).toBe("int:-7");
    expect(ev("int(11.5)")).toBe("int:11");
    expect(ev("int(params.amount)")).toBe("int:7200");
    expect(ev("int(9223372036854774784.0)")).toBe("int:9223372036854774784");
    expect(ev("int(9223372036854775807.0)")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int(-9223372036854775808.0)")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int(1.0 / 0.0)")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int(0.0 / 0.0)")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int('-12')")).toBe("int:-12");
    expect(ev("int('9223372036854775807')")).toBe("int:9223372036854775807");
    expect(ev("int('9223372036854775808')")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int('1.5')")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int('+1')")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int('')")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int(' 1')")).toBe("error:invalid_argument:invalid argument to `int`");
    expect(ev("int(true)")).toBe("error:no_matching_overload:no matching overload for `int`");
  });

  it("double()", () => {
    expect(ev("double(9223372036854775807)")).toBe("double:9223372036854776000");
    expect(ev("double(1.5)")).toBe("double:1.5");
    expect(ev("double('6.02214e23')")).toBe("double:6.02214e+23");
    expect(ev("double('-0.0')")).toBe("double:-0");
    expect(ev("double('.5')")).toBe("double:0.5");
    expect(ev("double('1e400')")).toBe("double:Infinity");
    expect(ev("double('abc')")).toBe("error:invalid_argument:invalid argument to `double`");
    expect(ev("double('NaN')")).toBe("error:invalid_argument:invalid argument to `double`");
    expect(ev("double('0x10')")).toBe("error:invalid_argument:invalid argument to `double`");
    expect(ev("double('')")).toBe("error:invalid_argument:invalid argument to `double`");
    expect(ev("double(null)")).toBe("error:no_matching_overload:no matching overload for `double`");
  });

  it("string()", () => {
    expect(ev("string(-456)")).toBe("string:-456");
    expect(ev("string(true)")).toBe("string:true");
    expect(ev("string('x')")).toBe("string:x");
    expect(ev("string(1.5)")).toBe("error:no_matching_overload:no matching overload for `string`");
    expect(ev("string(params.amount)")).toBe("error:no_matching_overload:no matching overload for `string`");
  });
});

describe("regex match iteration (DLP)", () => {
  it("finds leftmost-first, non-overlapping, non-empty matches", () => {
    expect(regexMatches("a+", "baaab aa")).toEqual([[1, 4], [6, 8]]);
    expect(regexMatches("x*", "axxb")).toEqual([[1, 3]]);
    expect(regexMatches("a|ab", "abab")).toEqual([[0, 1], [2, 3]]);
    expect(regexMatches("", "abc")).toEqual([]);
    expect(regexMatches("b?", "😀b")).toEqual([[2, 3]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Decisions

describe("positions", () => {
  it("turns offsets into 1-based line:col", () => {
    expect(lineCol("ab\ncd\n", 0)).toEqual({ line: 1, col: 1 });
    expect(lineCol("ab\ncd\n", 4)).toEqual({ line: 2, col: 2 });
    expect(lineCol("ab\r\ncd", 4)).toEqual({ line: 2, col: 1 });
    expect(lineCol("ab\r\ncd", 3)).toEqual({ line: 1, col: 3 });
    expect(lineCol("ab\rcd", 4)).toEqual({ line: 2, col: 2 });
    expect(lineCol("a😀\tb", 4)).toEqual({ line: 1, col: 4 }); // code points; a tab is one column
  });
});

describe("decisions: matching and precedence", () => {
  it("an allow rule decides with its reason, policy and bundle digest", () => {
    const b = bundle({ policies: [{ name: "procurement", version: "2026.11.21-1" }], rules: [{ id: "ok", when: "params.amount < 10000", reason: "small enough" }] });
    expect(decisionText(b)).toBe(
      `{"decision":"allow","enforced":true,"rule":"ok","reason":"small enough","policy":"procurement","policy_version":"2026.11.21-1","bundle":"sha256:${DIGEST}"}`,
    );
  });

  it("uses default reasons for rules without one", () => {
    const reasonOf = (effect: Effect) => decide(bundle({ rules: [{ id: "r", effect }] })).reason;
    expect(reasonOf("allow")).toBe("allowed by rule `r`");
    expect(reasonOf("sanitize")).toBe("allowed with redactions by rule `r`");
    expect(reasonOf("approval_needed")).toBe("approval needed by rule `r`");
    expect(reasonOf("deny")).toBe("denied by rule `r`");
  });

  it("orders effects deny > approval_needed > sanitize > allow, first rule within an effect", () => {
    const run = (effects: Effect[]) => {
      const d = decide(bundle({ rules: effects.map((effect, i) => ({ id: `r${i}`, effect })) }));
      return `${d.decision}:${d.rule}`;
    };
    expect(run(["allow", "deny"])).toBe("deny:r1");
    expect(run(["deny", "allow"])).toBe("deny:r0");
    expect(run(["allow", "approval_needed", "sanitize"])).toBe("approval_needed:r1");
    expect(run(["sanitize", "allow"])).toBe("sanitize:r0");
    expect(run(["allow", "sanitize"])).toBe("sanitize:r1");
    expect(run(["allow", "allow"])).toBe("allow:r0");
    expect(run(["approval_needed", "deny", "deny"])).toBe("deny:r1");
    expect(run(["approval_needed", "approval_needed"])).toBe("approval_needed:r0");
  });

  it("approval_needed stands on its own without an allow rule", () => {
    const d = decide(bundle({ policies: [{ default: "deny" }], rules: [{ id: "pay-over-5k", effect: "approval_needed", when: "params.amount > 5000" }] }));
    expect([d.decision, d.rule]).toEqual(["approval_needed", "pay-over-5k"]);
  });

  it("only rules whose agent, tool and action selectors match are candidates", () => {
    const b = bundle({
      rules: [
        { id: "other-agent", effect: "deny", agents: ["a2"] },
        { id: "other-tool", effect: "deny", tools: ["mail"], when: "params.missing" },
        { id: "other-action", effect: "deny", actions: ["delete", "update"] },
        { id: "star", effect: "approval_needed", agents: ["*"], tools: ["payments"] },
        { id: "all", effect: "allow", agents: ["a0", "a1"], tools: ["payments"], actions: ["create"] },
      ],
    });
    const d = decide(b);
    expect([d.decision, d.rule]).toEqual(["approval_needed", "star"]);
    // The non-candidate with an erroring `when` was never evaluated (no fail-closed deny).
    expect(d.shadow).toBeUndefined();
  });

  it("a false condition does not match", () => {
    const d = decide(bundle({ policies: [{ default: "allow" }], rules: [{ id: "big", effect: "deny", when: "params.amount > 100000" }] }));
    expect([d.decision, d.rule]).toEqual(["allow", "default"]);
  });
});

describe("decisions: fail closed", () => {
  it("an erroring rule denies, naming the rule, the position of the failing expression and the error", () => {
    const b = bundle({ policies: [{ default: "allow" }], rules: [{ id: "a", effect: "allow" }, { id: "typo", effect: "approval_needed", when: "params.ammount > 5000" }] });
    const d = decide(b);
    // Line 4 is `  when: params.ammount > 5000`; the select `.ammount` is at column 15.
    expect(d).toMatchObject({ decision: "deny", rule: "typo", reason: "rule `typo` failed at p.yaml:4:15: no such key `ammount`", policy: "pol0" });
  });

  it("a non-bool result fails at the position of the rule's `when`", () => {
    const d = decide(bundle({ rules: [{ id: "nb", when: "params.amount + 1" }] }));
    expect(d.reason).toBe("rule `nb` failed at p.yaml:2:23: condition is not a bool"); // the `+`
  });

  it("an error absorbed by && / || does not fail the rule", () => {
    const d = decide(bundle({ rules: [{ id: "ok", when: "has(params.q) && params.q > 1 || params.amount > 1" }] }));
    expect([d.decision, d.rule]).toEqual(["allow", "ok"]);
  });

  it("a failing shadow rule is reported as a shadow deny", () => {
    const d = decide(bundle({ rules: [{ id: "s", mode: "shadow", when: "1 / 0 == 1" }, { id: "ok" }] }));
    expect(d).toMatchObject({ decision: "allow", rule: "ok", shadow: [{ rule: "s", effect: "deny" }] });
  });

  it("a fail-closed deny wins over an earlier approval", () => {
    const d = decide(bundle({ rules: [{ id: "appr", effect: "approval_needed" }, { id: "bad", effect: "allow", when: "int('x') == 1" }] }));
    expect(d).toMatchObject({ decision: "deny", rule: "bad", reason: "rule `bad` failed at p.yaml:4:9: invalid argument to `int`" });
  });
});

describe("decisions: default", () => {
  it("default deny and default allow", () => {
    expect(decide(bundle({ policies: [{ name: "p", default: "deny" }] }))).toMatchObject({
      decision: "deny", enforced: true, rule: "default", policy: "p", reason: "no rule allows this call (default deny)",
    });
    expect(decide(bundle({ policies: [{ name: "p", default: "allow" }] }))).toMatchObject({
      decision: "allow", enforced: true, rule: "default", policy: "p", reason: "no rule matched (default allow)",
    });
  });

  it("with several policies any enforcing default deny wins; else the first enforcing policy allows", () => {
    const d1 = decide(bundle({ policies: [{ name: "a", default: "allow" }, { name: "b", default: "deny" }, { name: "c", default: "deny" }] }));
    expect([d1.decision, d1.policy]).toEqual(["deny", "b"]);
    const d2 = decide(bundle({ policies: [{ name: "a", default: "deny", mode: "shadow" }, { name: "b", default: "allow" }, { name: "c", default: "allow" }] }));
    expect(d2).toMatchObject({ decision: "allow", policy: "b", enforced: true, shadow: [{ rule: "default", effect: "deny" }] });
  });

  it("when every policy is in shadow the call is allowed, not enforced", () => {
    const d = decide(bundle({ policies: [{ name: "a", mode: "shadow", default: "allow" }, { name: "b", mode: "shadow", default: "deny" }] }));
    expect(d).toMatchObject({
      decision: "allow", enforced: false, rule: "default", policy: "a", reason: "no enforced policy applies (shadow mode)",
      shadow: [{ rule: "default", effect: "deny" }],
    });
    const quiet = decide(bundle({ policies: [{ mode: "shadow", default: "allow" }] }));
    expect(quiet.shadow).toBeUndefined();
    expect(quiet.enforced).toBe(false);
  });

  it("per-agent modes override the policy mode for that agent's calls only", () => {
    const b = bundle({ policies: [{ name: "p", default: "deny", agentModes: { a1: "shadow" } }] });
    expect(decide(b)).toMatchObject({ decision: "allow", enforced: false, shadow: [{ rule: "default", effect: "deny" }] });
    const other = { ...BASE_REQUEST, agent: { id: "a2" } };
    expect(decide(b, other)).toMatchObject({ decision: "deny", enforced: true, rule: "default" });
    const enforcedForA1 = bundle({ policies: [{ name: "p", default: "deny", mode: "shadow", agentModes: { a1: "enforce" } }] });
    expect(decide(enforcedForA1)).toMatchObject({ decision: "deny", enforced: true });
    // Agent ids that are Object.prototype keys are not modes.
    expect(decide(b, { ...BASE_REQUEST, agent: { id: "constructor" } })).toMatchObject({ decision: "deny", enforced: true });
  });

  it("a shadow default deny is not reported when the decision is a deny", () => {
    const d = decide(bundle({ policies: [{ default: "deny" }, { default: "deny", mode: "shadow" }] }));
    expect(d.decision).toBe("deny");
    expect(d.shadow).toBeUndefined();
  });

  it("the shadow default entry is not added when a rule decided", () => {
    const d = decide(bundle({ policies: [{ default: "allow" }, { default: "deny", mode: "shadow" }], rules: [{ id: "ok" }] }));
    expect(d.rule).toBe("ok");
    expect(d.shadow).toBeUndefined();
  });
});

describe("decisions: shadow rules", () => {
  it("shadow matches never decide and are listed in evaluation order", () => {
    const b = bundle({
      policies: [{ default: "allow" }],
      rules: [
        { id: "s1", effect: "deny", mode: "shadow" },
        { id: "e1", effect: "allow" },
        { id: "s2", effect: "approval_needed", mode: "shadow" },
        { id: "s3", effect: "allow", mode: "shadow", when: "false" },
      ],
    });
    expect(decisionText(b)).toBe(
      `{"decision":"allow","enforced":true,"rule":"e1","reason":"allowed by rule \`e1\`","policy":"pol0","policy_version":"v0","bundle":"sha256:${DIGEST}","shadow":[{"rule":"s1","effect":"deny"},{"rule":"s2","effect":"approval_needed"}]}`,
    );
  });

  it("a shadow deny over the default is reported with the default's decision", () => {
    const d = decide(bundle({ policies: [{ default: "allow" }], rules: [{ id: "s", effect: "deny", mode: "shadow" }] }));
    expect(d).toMatchObject({ decision: "allow", rule: "default", enforced: true, shadow: [{ rule: "s", effect: "deny" }] });
  });
});

describe("decisions: egress", () => {
  const egressBundle = (mode: Mode = "enforce") => bundle({
    policies: [{ name: "main", default: "allow" }, { name: "net" }],
    rules: [{ id: "ok" }],
    egress: { mode, policy: 1, hosts: ["portal.acme-supplier.com", "*.internal.example"] },
  });
  const withEgress = (egress: unknown) => ({ ...BASE_REQUEST, context: { egress } });

  it("passes when context.egress is absent or every URL is allowed", () => {
    expect(decide(egressBundle()).rule).toBe("ok");
    expect(decide(egressBundle(), withEgress([
      "https://portal.acme-supplier.com/po", "http://a.b.internal.example:8080/x", "https://PORTAL.acme-supplier.com./",
    ])).rule).toBe("ok");
    expect(decide(egressBundle(), withEgress([])).rule).toBe("ok");
  });

  it("denies the first URL that fails, with the egress section's policy", () => {
    expect(decide(egressBundle(), withEgress(["https://portal.acme-supplier.com", "https://evil.example/x", "nope"]))).toMatchObject({
      decision: "deny", rule: "egress", policy: "net", policy_version: "v1", reason: "egress to `evil.example` is not allowed",
    });
    expect(decide(egressBundle(), withEgress(["not a url", "https://evil.example"])).reason).toBe("egress URL `not a url` is not a valid URL");
    expect(decide(egressBundle(), withEgress(["https://internal.example/"])).reason).toBe("egress to `internal.example` is not allowed");
    expect(decide(egressBundle(), withEgress(["mailto:x@portal.acme-supplier.com"])).reason).toBe("egress URL `mailto:x@portal.acme-supplier.com` is not a valid URL");
  });

  it("denies when context.egress is not a list of strings", () => {
    const reason = "egress check failed: `context.egress` must be a list of strings";
    expect(decide(egressBundle(), withEgress("https://portal.acme-supplier.com")).reason).toBe(reason);
    expect(decide(egressBundle(), withEgress(["https://portal.acme-supplier.com", 1])).reason).toBe(reason);
    expect(decide(egressBundle(), withEgress(null)).reason).toBe(reason);
  });

  it("comes first among denies", () => {
    const b = bundle({ rules: [{ id: "no", effect: "deny" }], egress: { hosts: [] } });
    expect(decide(b, withEgress(["https://x.example"])).rule).toBe("egress");
  });

  it("in shadow mode is only reported", () => {
    const d = decide(egressBundle("shadow"), withEgress(["https://evil.example"]));
    expect(d).toMatchObject({ decision: "allow", rule: "ok", shadow: [{ rule: "egress", effect: "deny" }] });
  });

  it("is not checked without an egress section", () => {
    expect(decide(bundle({ rules: [{ id: "ok" }] }), withEgress(["https://evil.example"])).rule).toBe("ok");
  });
});

describe("decisions: redaction", () => {
  it("sanitize rules redact their paths in rule then path order; absent paths are skipped", () => {
    const b = bundle({
      rules: [
        { id: "s1", effect: "sanitize", redact: [["contact", "email"], ["nope"], ["x-y"]] },
        { id: "a", effect: "allow" },
        { id: "s2", effect: "sanitize", redact: [["note"]] },
      ],
    });
    const request = JSON.stringify(withParams({ note: "hi", contact: { email: "a@b.c", phone: 0 }, "x-y": [1] })).replace('"phone":0', '"phone":1.50');
    const text = decisionText(b, request);
    expect(text).toBe(
      `{"decision":"sanitize","enforced":true,"rule":"s1","reason":"allowed with redactions by rule \`s1\`","policy":"pol0","policy_version":"v0","bundle":"sha256:${DIGEST}",` +
      `"redactions":[{"path":"params.contact.email","by":"s1"},{"path":"params[\\"x-y\\"]","by":"s1"},{"path":"params.note","by":"s2"}],` +
      `"params":{"note":"[REDACTED]","contact":{"email":"[REDACTED]","phone":1.50},"x-y":"[REDACTED]"}}`,
    );
  });

  it("a sanitize decision with nothing to redact still carries redactions and params", () => {
    const request = '{"agent":{"id":"a1"},"tool":"t","action":"x","params":{"n":1e2}}';
    const text = decisionText(bundle({ rules: [{ id: "s", effect: "sanitize", redact: [["zzz"]] }] }), request);
    expect(text.endsWith(`"redactions":[],"params":{"n":1e2}}`)).toBe(true);
  });

  it("does not redact when the decision is a deny or approval", () => {
    const b = bundle({ rules: [{ id: "s", effect: "sanitize", redact: [["a"]] }, { id: "d", effect: "approval_needed" }], dlp: [{ name: "ssn", pattern: "[0-9]{3}-[0-9]{2}-[0-9]{4}" }] });
    const d = decide(b, withParams({ a: "123-45-6789" }));
    expect(d.decision).toBe("approval_needed");
    expect(d.redactions).toBeUndefined();
    expect(d.params).toBeUndefined();
  });

  it("DLP turns an allow into a sanitize, naming the first pattern that matched", () => {
    const b = bundle({
      policies: [{ name: "main" }, { name: "privacy", version: "7" }],
      rules: [{ id: "ok" }],
      dlp: [
        { name: "card", pattern: "\\b[0-9]{16}\\b", policy: 1 },
        { name: "ssn", pattern: "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b", policy: 1 },
        { name: "email", pattern: "[a-z]+@[a-z]+\\.com", policy: 0 },
      ],
    });
    const params = { note: "ssn 123-45-6789 and 987-65-4321", "first name": "x", items: [{ mail: "bob@acme.com" }, 5, "4111111111111111"], key123_45_6789: 0 };
    const text = decisionText(b, withParams(params));
    expect(text).toBe(
      `{"decision":"sanitize","enforced":true,"rule":"dlp:card","reason":"sensitive data redacted by \`dlp:card\`","policy":"privacy","policy_version":"7","bundle":"sha256:${DIGEST}",` +
      `"redactions":[{"path":"params.items[2]","by":"dlp:card"},{"path":"params.note","by":"dlp:ssn"},{"path":"params.items[0].mail","by":"dlp:email"}],` +
      `"params":{"note":"ssn [REDACTED:ssn] and [REDACTED:ssn]","first name":"x","items":[{"mail":"[REDACTED:email]"},5,"[REDACTED:card]"],"key123_45_6789":0}}`,
    );
  });

  it("DLP adds to a sanitize rule's redactions and skips values the rule replaced", () => {
    const b = bundle({ rules: [{ id: "s", effect: "sanitize", redact: [["secret"]], reason: "cleaned" }], dlp: [{ name: "r", pattern: "REDACTED|x" }] });
    const d = decide(b, withParams({ secret: "x", other: "axb" }));
    expect(d).toMatchObject({
      decision: "sanitize", rule: "s", reason: "cleaned",
      redactions: [{ path: "params.secret", by: "s" }, { path: "params.other", by: "dlp:r" }],
      params: { secret: "[REDACTED]", other: "a[REDACTED:r]b" },
    });
  });

  it("shadow DLP patterns report a would-be match and change nothing", () => {
    const b = bundle({
      policies: [{ default: "allow" }],
      dlp: [{ name: "ssn", pattern: "[0-9]{3}-[0-9]{2}-[0-9]{4}", mode: "shadow" }, { name: "none", pattern: "zzz", mode: "shadow" }],
    });
    const d = decide(b, withParams({ a: "123-45-6789" }));
    expect(d).toMatchObject({ decision: "allow", rule: "default", shadow: [{ rule: "dlp:ssn", effect: "sanitize" }] });
    expect(d.params).toBeUndefined();
  });

  it("a shadow default deny comes after shadow DLP entries", () => {
    const b = bundle({
      policies: [{ default: "allow" }, { default: "deny", mode: "shadow" }],
      rules: [{ id: "s", effect: "deny", mode: "shadow" }],
      dlp: [{ name: "d", pattern: "x", mode: "shadow" }],
    });
    expect(decide(b, withParams({ a: "x" })).shadow).toEqual([
      { rule: "s", effect: "deny" }, { rule: "dlp:d", effect: "sanitize" }, { rule: "default", effect: "deny" },
    ]);
  });

  it("records a path once per pattern and never scans keys", () => {
    const b = bundle({ rules: [{ id: "ok" }], dlp: [{ name: "d", pattern: "[0-9]" }] });
    const d = decide(b, withParams({ "k1": "a1b2c3", "9": "none" }));
    expect(d.redactions).toEqual([{ path: "params.k1", by: "dlp:d" }]);
    expect(d.params).toEqual({ k1: "a[REDACTED:d]b[REDACTED:d]c[REDACTED:d]", "9": "none" });
  });

  it("keeps number lexemes and escapes strings as JSON.stringify does", () => {
    const b = bundle({ rules: [{ id: "s", effect: "sanitize" }] });
    const raw = '{"agent":{"id":"a1"},"tool":"payments","action":"create","params":{"n":[1.0,-0,2E+3,100000000000000000000],"s":"\\u0001\\u001f\\"\\\\\\/\\b\\f\\n\\r\\t\\u007f\\u2028é😀"}}';
    const text = decisionText(b, raw);
    expect(text.endsWith(`"params":{"n":[1.0,-0,2E+3,100000000000000000000],"s":${JSON.stringify("\u0001\u001f\"\\/\b\f\n\r\t\u007f\u2028é😀")}}}`)).toBe(true);
    expect(text).toContain('"s":"\\u0001\\u001f\\"\\\\/\\b\\f\\n\\r\\t\u007f\u2028é😀"');
  });
});

describe("evaluateReference and evalRuleValue", () => {
  it("returns request errors instead of decisions", () => {
    const b = bundle({ rules: [{ id: "ok" }] });
    expect(evaluateReference(b, '{"a":1,"a":2}', DIGEST)).toMatchObject({ ok: false, code: "duplicate_key", offset: 7 });
    expect(evaluateReference(b, '{"agent":{"id":"a"},"tool":"t"}', DIGEST)).toMatchObject({ ok: false, code: "invalid_request" });
  });

  it("accepts bytes as well as strings, and a digest with its sha256: prefix", () => {
    const b = bundle({ policies: [{ default: "allow" }] });
    const bytes = new TextEncoder().encode(JSON.stringify(BASE_REQUEST));
    const r = evaluateReference(b, bytes, `sha256:${DIGEST}`);
    expect(r.ok && JSON.parse(r.decision).bundle).toBe(`sha256:${DIGEST}`);
  });

  it("gives the value of one rule's condition as value JSON", () => {
    const b = bundle({ rules: [{ id: "a", when: "params.amount * 2" }, { id: "b" }, { id: "c", when: "params.zz" }] });
    const req = JSON.stringify(BASE_REQUEST);
    expect(evalRuleValue(b, 0, req)).toEqual({ ok: true, value: { type: "double", bits: doubleBits(14400) } });
    expect(evalRuleValue(b, 1, req)).toEqual({ ok: true, value: { type: "bool", value: true } });
    expect(evalRuleValue(b, 2, req)).toEqual({ ok: true, value: { type: "error", code: "no_such_key", message: "no such key `zz`" } });
    expect(evalRuleValue(b, 0, "[")).toMatchObject({ ok: false, code: "invalid_json" });
  });
});

describe("limits: value_too_large", () => {
  const doubled = (k: number): string => (k === 0 ? "params.s" : `(${doubled(k - 1)} + ${doubled(k - 1)})`);
  const s256k = "a".repeat(256 * 1024);

  it("measures strings in UTF-8 bytes", () => {
    expect(utf8Length("")).toBe(0);
    expect(utf8Length("aé€😀")).toBe(1 + 2 + 3 + 4);
  });

  it("charges values and totals, and refuses without charging", () => {
    const b = new EvalBudget();
    expect(b.chargeValue(MAX_VALUE_BYTES)).toBe(true);
    expect(b.chargeValue(MAX_VALUE_BYTES + 1)).toBe(false);
    expect(b.used).toBe(MAX_VALUE_BYTES);
    expect(b.chargeTotal(MAX_EVAL_BYTES - MAX_VALUE_BYTES)).toBe(true);
    expect(b.chargeTotal(1)).toBe(false);
    expect(b.chargeValue(0)).toBe(true);
    expect(b.used).toBe(MAX_EVAL_BYTES);
  });

  it("an exponential concatenation is an error at the `+` that passes MAX_VALUE_BYTES", () => {
    const request = withParams({ s: s256k });
    expect(ev(`size(${doubled(4)})`, request)).toBe("int:4194304");
    expect(ev(`size(${doubled(5)})`, request)).toBe("error:value_too_large:value is larger than the limit");
    expect(ev(`size(${doubled(12)})`, request)).toBe("error:value_too_large:value is larger than the limit");
    const text = `size(${doubled(5)}) > 0`;
    const d = decide(bundle({ policies: [{ default: "allow" }], rules: [{ id: "grow", when: text }] }), request);
    const col = "  when: size((".length + doubled(4).length + 2; // the top-level `+`
    expect(d).toMatchObject({ decision: "deny", rule: "grow", reason: `rule \`grow\` failed at p.yaml:2:${col}: value is larger than the limit` });
  });

  it("lists count 16 bytes per element", () => {
    const request = withParams({ l: new Array(131072).fill(0) });
    expect(ev("size(params.l + params.l)", request)).toBe("int:262144");
    expect(ev("size(params.l + params.l + params.l)", request)).toBe("error:value_too_large:value is larger than the limit");
  });

  it("one evaluation's total passes MAX_EVAL_BYTES on many medium values; a fresh evaluation starts at zero", () => {
    const request = withParams({ m: "x".repeat(512 * 1024) });
    const sixtyFour = Array.from({ length: 64 }, () => "params.m + params.m != \"\"").join(" && ");
    expect(ev(sixtyFour, request)).toBe("true");
    expect(ev(`${sixtyFour} && params.m.lowerAscii() != ""`, request)).toBe("error:value_too_large:value is larger than the limit");
    expect(ev(`${sixtyFour} && string(1) == "1"`, request)).toBe("error:value_too_large:value is larger than the limit");
    expect(ev(`${sixtyFour} && [1] == [1]`, request)).toBe("error:value_too_large:value is larger than the limit");
    expect(ev(`${sixtyFour} && true`, request)).toBe("true");
    // The budget spans every rule of a decision.
    const b = bundle({ policies: [{ default: "allow" }], rules: [{ id: "a", when: sixtyFour }, { id: "b", when: "params.m + \"!\" != \"\"" }] });
    expect(decide(b, request)).toMatchObject({ decision: "deny", rule: "b" });
    expect(decide(b, withParams({ m: "x" }))).toMatchObject({ decision: "allow", rule: "a" });
  });

  it("a DLP rewrite over the limit denies with the pattern, keeping the shadow report", () => {
    const b = bundle({
      policies: [{ default: "allow" }, { name: "privacy" }],
      rules: [{ id: "watch", mode: "shadow" }, { id: "ok" }],
      dlp: [{ name: "d", pattern: "[0-9]", policy: 1 }, { name: "later", pattern: "x", mode: "shadow" }],
    });
    const d = decide(b, withParams({ n: "7".repeat(400000) })); // 400000 x 12 bytes
    expect(d).toEqual({
      decision: "deny", enforced: true, rule: "dlp:d", reason: "redaction by `dlp:d` failed: value is larger than the limit",
      policy: "privacy", policy_version: "v1", bundle: `sha256:${DIGEST}`, shadow: [{ rule: "watch", effect: "allow" }],
    });
    expect(decide(b, withParams({ n: "7", x: "x" }))).toMatchObject({ decision: "sanitize", rule: "dlp:d", shadow: [{ rule: "watch", effect: "allow" }, { rule: "dlp:later", effect: "sanitize" }] });
  });

  it("redaction records over the total fail closed at the sanitize rule", () => {
    const key = "k".repeat(500 * 1000);
    const rules = Array.from({ length: 140 }, (_, i) => ({ id: `s${i}`, effect: "sanitize" as const, redact: [[key]] }));
    const d = decide(bundle({ rules }), withParams({ [key]: "secret" }));
    // (16 + 500007 bytes) per record: 134 fit in 64 MiB. Rule s134 is on line 269.
    expect(d).toMatchObject({ decision: "deny", rule: "s134", reason: "rule `s134` failed at p.yaml:269:1: value is larger than the limit" });
  });
});
