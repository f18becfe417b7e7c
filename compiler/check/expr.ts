// Stage check (expressions): RawExpr (from parse-expr) -> Expr (compiler/ast.ts) plus its static
// type. Resolves the five request variables, normalises calls to the canonical FnName forms
// (receiver first), turns `m["key"]` with a literal key into a field select, validates `matches`
// patterns with the regex parser, and reports every definite type error (an operation that would
// fail on every request). Types that depend on the request (`params.*`, `context.*`) are `dyn`
// and are only checked at run time. Errors point at the offending operator, `.`, `[` or name.
import type { BinaryOp, Expr, FnName, Span, VarName } from "../ast.ts";
import { PolicyError } from "../errors.ts";
import type { RawExpr, RawSpan } from "../parse/expr.ts";
import { parseExpressionSource } from "../parse/expr.ts";
import { parseRegex } from "../regex/parse.ts";
import { didYouMean } from "./hints.ts";

/** A static type; `dyn` means "known only at run time". `agent` is the request's agent map. */
export type StaticType =
  | { k: "dyn" }
  | { k: "null" }
  | { k: "bool" }
  | { k: "int" }
  | { k: "double" }
  | { k: "string" }
  | { k: "list"; elem: StaticType }
  | { k: "map" }
  | { k: "agent" };

const DYN: StaticType = { k: "dyn" };
const BOOL: StaticType = { k: "bool" };
const INT: StaticType = { k: "int" };
const DOUBLE: StaticType = { k: "double" };
const STRING: StaticType = { k: "string" };
const MAP: StaticType = { k: "map" };

/** Fields of the `agent` variable and their types. */
const AGENT_FIELDS: Record<string, StaticType> = {
  id: STRING,
  tenant: STRING,
  scopes: { k: "list", elem: STRING },
};

const VARIABLES: Record<VarName, StaticType> = {
  agent: { k: "agent" },
  tool: STRING,
  action: STRING,
  params: MAP,
  context: MAP,
};
const VARIABLE_NAMES = Object.keys(VARIABLES);

/** Global functions and their argument counts. */
const GLOBAL_FUNCTIONS: Record<string, number> = {
  size: 1, has: 1, isIBAN: 1, isLuhn: 1, isURL: 1, isIP: 1, int: 1, double: 1, string: 1,
  matches: 2, url: 1, cidr: 1,
};
/** Receiver-style functions (`x.f(...)`) and their argument counts, not counting the receiver. */
const RECEIVER_FUNCTIONS: Record<string, number> = {
  size: 0, startsWith: 1, endsWith: 1, contains: 1, matches: 1, lowerAscii: 0,
  getHost: 0, getScheme: 0, getPort: 0, containsIP: 1,
};
const ALL_FUNCTION_NAMES = [...new Set([...Object.keys(GLOBAL_FUNCTIONS), ...Object.keys(RECEIVER_FUNCTIONS)])];

/** CEL features deliberately left out, with the reason given to the user. */
const UNSUPPORTED_FUNCTIONS: Record<string, string> = {
  all: "comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`) are not supported",
  exists: "comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`) are not supported",
  exists_one: "comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`) are not supported",
  map: "comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`) are not supported",
  filter: "comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`) are not supported",
  type: "`type` is not supported",
  dyn: "`dyn` is not supported",
  uint: "unsigned integers (`uint`) are not supported",
  bytes: "bytes (`bytes`) are not supported",
  timestamp: "timestamps are not supported",
  duration: "durations are not supported",
};

/** The result of checking one expression: `expr` is null exactly when `errors` is non-empty. */
export interface CheckedExpression {
  expr: Expr | null;
  type: StaticType;
  errors: PolicyError[];
}

/** Human name of a static type, for messages. */
export function typeName(t: StaticType): string {
  switch (t.k) {
    case "list": return "list";
    case "agent": return "map";
    default: return t.k;
  }
}

/** The type name with its indefinite article, for messages (`an int`, `a string`). */
export function aTypeName(t: StaticType): string {
  const n = typeName(t);
  return /^[aeiou]/.test(n) ? `an ${n}` : `a ${n}`;
}

/** True when a value of type `t` may be a bool at run time. */
export function maybeBool(t: StaticType): boolean {
  return t.k === "bool" || t.k === "dyn";
}

/**
 * Checks a parsed expression. `file` and `fileText` locate errors (the RawExpr offsets are
 * already file offsets); `fileText` may be null when unknown (positions then print as 1:1).
 */
export function checkExpression(raw: RawExpr, file: string, fileText: string | null): CheckedExpression {
  const checker = new ExprChecker(file, fileText);
  const result = checker.check(raw);
  if (checker.errors.length > 0 || result === null) {
    return { expr: null, type: DYN, errors: checker.errors };
  }
  return { expr: result.expr, type: result.type, errors: [] };
}

/** Parses and checks a standalone expression (file `<expr>`, offsets are string indices). */
export function checkExpressionSource(text: string): { expr: Expr | null; errors: PolicyError[] } {
  const parsed = parseExpressionSource(text);
  if (parsed.expr === null) return { expr: null, errors: parsed.errors };
  const { expr, errors } = checkExpression(parsed.expr, "<expr>", text);
  return { expr, errors };
}

interface Typed { expr: Expr; type: StaticType }

function isNum(t: StaticType): boolean {
  return t.k === "int" || t.k === "double";
}
function isDyn(t: StaticType): boolean {
  return t.k === "dyn";
}
function isMapLike(t: StaticType): boolean {
  return t.k === "map" || t.k === "agent";
}
function sameType(a: StaticType, b: StaticType): boolean {
  if (a.k !== b.k) return false;
  if (a.k === "list" && b.k === "list") return sameType(a.elem, b.elem);
  return true;
}

/** A short source-like rendering of a variable path (`params.a.b`), or null for other shapes. */
function pathOf(raw: RawExpr): string | null {
  if (raw.kind === "ident") return raw.name;
  if (raw.kind === "select") {
    const base = pathOf(raw.operand);
    return base === null ? null : `${base}.${raw.field}`;
  }
  return null;
}

class ExprChecker {
  errors: PolicyError[] = [];

  constructor(private file: string, private fileText: string | null) {}

  private span(s: RawSpan): Span {
    return { file: this.file, start: s.at, end: s.end };
  }

  private error(at: number, end: number, message: string): null {
    this.errors.push(new PolicyError(this.file, this.fileText, at, end, message));
    return null;
  }

  private errorAt(raw: RawExpr, message: string): null {
    return this.error(raw.span.at, raw.span.end, message);
  }

  check(raw: RawExpr): Typed | null {
    switch (raw.kind) {
      case "null":
        return { expr: { kind: "null", span: this.span(raw.span) }, type: { k: "null" } };
      case "bool":
        return { expr: { kind: "bool", value: raw.value, span: this.span(raw.span) }, type: BOOL };
      case "int":
        return { expr: { kind: "int", value: raw.value, span: this.span(raw.span) }, type: INT };
      case "double":
        return { expr: { kind: "double", value: raw.value, span: this.span(raw.span) }, type: DOUBLE };
      case "string":
        return { expr: { kind: "string", value: raw.value, span: this.span(raw.span) }, type: STRING };
      case "list":
        return this.list(raw);
      case "ident":
        return this.ident(raw);
      case "select":
        return this.select(raw);
      case "index":
        return this.index(raw);
      case "call":
        return this.call(raw);
      case "unary":
        return this.unary(raw);
      case "binary":
        return this.binary(raw);
      case "cond":
        return this.cond(raw);
    }
  }

  private list(raw: Extract<RawExpr, { kind: "list" }>): Typed | null {
    const elements: Expr[] = [];
    let elem: StaticType | null = null;
    let ok = true;
    for (const e of raw.elements) {
      const t = this.check(e);
      if (t === null) {
        ok = false;
        continue;
      }
      elements.push(t.expr);
      elem = elem === null ? t.type : sameType(elem, t.type) ? elem : DYN;
    }
    if (!ok) return null;
    return { expr: { kind: "list", elements, span: this.span(raw.span) }, type: { k: "list", elem: elem ?? DYN } };
  }

  private ident(raw: Extract<RawExpr, { kind: "ident" }>): Typed | null {
    if (Object.prototype.hasOwnProperty.call(VARIABLES, raw.name)) {
      const name = raw.name as VarName;
      return { expr: { kind: "var", name, span: this.span(raw.span) }, type: VARIABLES[name] };
    }
    const hint = didYouMean(raw.name, VARIABLE_NAMES);
    const tail = hint !== ""
      ? hint
      : "; the variables are `agent`, `tool`, `action`, `params` and `context`, and strings need quotes";
    return this.errorAt(raw, `unknown variable \`${raw.name}\`${tail}`);
  }

  /** Field access on an operand of type `t`; `where` is the raw node for error positions. */
  private field(operand: Typed, operandRaw: RawExpr, field: string, where: RawExpr): StaticType | null {
    const t = operand.type;
    if (t.k === "agent") {
      if (!Object.prototype.hasOwnProperty.call(AGENT_FIELDS, field)) {
        return this.errorAt(where, `unknown field \`agent.${field}\`; \`agent\` has \`id\`, \`tenant\` and \`scopes\`${didYouMean(field, Object.keys(AGENT_FIELDS))}`);
      }
      return AGENT_FIELDS[field];
    }
    if (t.k === "map" || t.k === "dyn") return DYN;
    const path = pathOf(operandRaw);
    const what = path === null ? `${aTypeName(t)}` : `\`${path}\` (${aTypeName(t)})`;
    return this.errorAt(where, `cannot select field \`${field}\` from ${what}; only maps have fields`);
  }

  private select(raw: Extract<RawExpr, { kind: "select" }>): Typed | null {
    const operand = this.check(raw.operand);
    if (operand === null) return null;
    const type = this.field(operand, raw.operand, raw.field, raw);
    if (type === null) return null;
    return { expr: { kind: "select", operand: operand.expr, field: raw.field, span: this.span(raw.span) }, type };
  }

  private index(raw: Extract<RawExpr, { kind: "index" }>): Typed | null {
    const operand = this.check(raw.operand);
    const index = this.check(raw.index);
    if (operand === null || index === null) return null;
    const t = operand.type;
    const span = this.span(raw.span);
    // `m["key"]` with a literal key is a field select: one canonical form for later stages.
    if (raw.index.kind === "string" && (isMapLike(t) || isDyn(t))) {
      const type = this.field(operand, raw.operand, raw.index.value, raw);
      if (type === null) return null;
      return { expr: { kind: "select", operand: operand.expr, field: raw.index.value, span }, type };
    }
    const it = index.type;
    if (t.k === "list") {
      if (!isNum(it) && !isDyn(it)) {
        return this.errorAt(raw, `a list index must be a number, not ${aTypeName(it)}`);
      }
      return { expr: { kind: "index", operand: operand.expr, index: index.expr, span }, type: t.elem };
    }
    if (isMapLike(t)) {
      if (it.k !== "string" && !isDyn(it)) {
        return this.errorAt(raw, `a map key must be a string, not ${aTypeName(it)}`);
      }
      return { expr: { kind: "index", operand: operand.expr, index: index.expr, span }, type: DYN };
    }
    if (isDyn(t)) {
      if (!isNum(it) && it.k !== "string" && !isDyn(it)) {
        return this.errorAt(raw, `an index must be a number or a string, not ${aTypeName(it)}`);
      }
      return { expr: { kind: "index", operand: operand.expr, index: index.expr, span }, type: DYN };
    }
    return this.errorAt(raw, `cannot index ${aTypeName(t)}; only lists and maps can be indexed`);
  }

  private unary(raw: Extract<RawExpr, { kind: "unary" }>): Typed | null {
    const operand = this.check(raw.operand);
    if (operand === null) return null;
    const t = operand.type;
    const span = this.span(raw.span);
    if (raw.op === "!") {
      if (!maybeBool(t)) return this.errorAt(raw, `\`!\` needs a bool, not ${aTypeName(t)}`);
      return { expr: { kind: "not", operand: operand.expr, span }, type: BOOL };
    }
    if (!isNum(t) && !isDyn(t)) return this.errorAt(raw, `unary \`-\` needs a number, not ${aTypeName(t)}`);
    return { expr: { kind: "neg", operand: operand.expr, span }, type: isDyn(t) ? DYN : t };
  }

  private cond(raw: Extract<RawExpr, { kind: "cond" }>): Typed | null {
    const test = this.check(raw.test);
    const then = this.check(raw.then);
    const otherwise = this.check(raw.else);
    if (test === null || then === null || otherwise === null) return null;
    if (!maybeBool(test.type)) {
      return this.errorAt(raw, `the condition of \`?:\` must be a bool, not ${aTypeName(test.type)}`);
    }
    const type = sameType(then.type, otherwise.type) ? then.type : DYN;
    return { expr: { kind: "cond", test: test.expr, then: then.expr, else: otherwise.expr, span: this.span(raw.span) }, type };
  }

  private binary(raw: Extract<RawExpr, { kind: "binary" }>): Typed | null {
    const left = this.check(raw.left);
    const right = this.check(raw.right);
    if (left === null || right === null) return null;
    const span = this.span(raw.span);
    const a = left.type;
    const b = right.type;
    const mismatch = () =>
      this.errorAt(raw, `cannot apply \`${raw.op}\` to ${typeName(a)} and ${typeName(b)}`);

    if (raw.op === "&&" || raw.op === "||") {
      if (!maybeBool(a) || !maybeBool(b)) {
        const bad = maybeBool(a) ? b : a;
        return this.errorAt(raw, `\`${raw.op}\` needs bool operands, not ${aTypeName(bad)}`);
      }
      return { expr: { kind: raw.op === "&&" ? "and" : "or", left: left.expr, right: right.expr, span }, type: BOOL };
    }
    const op: BinaryOp = raw.op;
    const make = (type: StaticType): Typed => ({ expr: { kind: "binary", op, left: left.expr, right: right.expr, span }, type });
    switch (op) {
      case "==":
      case "!=":
        return make(BOOL);
      case "in":
        if (b.k === "list" || isMapLike(b) || isDyn(b)) return make(BOOL);
        return this.errorAt(raw, `the right side of \`in\` must be a list or a map, not ${aTypeName(b)}`);
      case "<":
      case "<=":
      case ">":
      case ">=": {
        const orderable = (t: StaticType) => isNum(t) || t.k === "string" || t.k === "bool" || isDyn(t);
        if (!orderable(a) || !orderable(b)) return mismatch();
        if (isDyn(a) || isDyn(b)) return make(BOOL);
        if ((isNum(a) && isNum(b)) || a.k === b.k) return make(BOOL);
        return mismatch();
      }
      case "+": {
        const addable = (t: StaticType) => isNum(t) || t.k === "string" || t.k === "list" || isDyn(t);
        if (!addable(a) || !addable(b)) return mismatch();
        if (isDyn(a) && isDyn(b)) return make(DYN);
        if (isDyn(a) || isDyn(b)) {
          const known = isDyn(a) ? b : a;
          if (known.k === "string") return make(STRING);
          if (known.k === "list") return make({ k: "list", elem: DYN });
          return make(DYN);
        }
        if (isNum(a) && isNum(b)) return make(a.k === "int" && b.k === "int" ? INT : DOUBLE);
        if (a.k === "string" && b.k === "string") return make(STRING);
        if (a.k === "list" && b.k === "list") return make(sameType(a, b) ? a : { k: "list", elem: DYN });
        return mismatch();
      }
      case "-":
      case "*":
      case "/":
      case "%": {
        if ((!isNum(a) && !isDyn(a)) || (!isNum(b) && !isDyn(b))) return mismatch();
        if (isDyn(a) || isDyn(b)) return make(DYN);
        return make(a.k === "int" && b.k === "int" ? INT : DOUBLE);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Calls

  private call(raw: Extract<RawExpr, { kind: "call" }>): Typed | null {
    const name = raw.name;
    if (Object.prototype.hasOwnProperty.call(UNSUPPORTED_FUNCTIONS, name)) {
      return this.errorAt(raw, UNSUPPORTED_FUNCTIONS[name]);
    }
    if (raw.target === null) return this.globalCall(raw);
    return this.receiverCall(raw, raw.target);
  }

  private arity(raw: Extract<RawExpr, { kind: "call" }>, expected: number, shape: string): boolean {
    if (raw.args.length === expected) return true;
    const what = expected === 0 ? "no arguments" : expected === 1 ? "1 argument" : `${expected} arguments`;
    this.errorAt(raw, `\`${raw.name}\` takes ${what} (\`${shape}\`), found ${raw.args.length}`);
    return false;
  }

  private unknownFunction(raw: Extract<RawExpr, { kind: "call" }>): null {
    return this.errorAt(raw, `unknown function \`${raw.name}\`${didYouMean(raw.name, ALL_FUNCTION_NAMES)}`);
  }

  /** Checks that an argument may be a string; reports `fn` needs a string otherwise. */
  private wantString(fn: string, what: string, t: Typed, at: RawExpr): boolean {
    if (t.type.k === "string" || isDyn(t.type)) return true;
    // An argument is pointed at from its start; a receiver error points at the call's `.`.
    const offset = what === "argument" ? at.span.start : at.span.at;
    this.error(offset, at.span.end, `\`${fn}\` needs a string ${what}, not ${aTypeName(t.type)}`);
    return false;
  }

  private callExpr(fn: FnName, args: Expr[], raw: RawExpr, type: StaticType, pattern?: string): Typed {
    const expr: Expr = pattern === undefined
      ? { kind: "call", fn, args, span: this.span(raw.span) }
      : { kind: "call", fn, args, pattern, span: this.span(raw.span) };
    return { expr, type };
  }

  private checkArgs(args: RawExpr[]): Typed[] | null {
    const out: Typed[] = [];
    let ok = true;
    for (const a of args) {
      const t = this.check(a);
      if (t === null) ok = false;
      else out.push(t);
    }
    return ok ? out : null;
  }

  private globalCall(raw: Extract<RawExpr, { kind: "call" }>): Typed | null {
    const name = raw.name;
    if (!Object.prototype.hasOwnProperty.call(GLOBAL_FUNCTIONS, name)) {
      if (Object.prototype.hasOwnProperty.call(RECEIVER_FUNCTIONS, name)) {
        return this.errorAt(raw, `\`${name}\` is a method; call it on a value, like \`s.${name}(...)\``);
      }
      return this.unknownFunction(raw);
    }
    switch (name) {
      case "has":
        return this.has(raw);
      case "url":
        return this.errorAt(raw, "`url(s)` is only allowed as `url(s).getHost()`, `url(s).getScheme()` or `url(s).getPort()`");
      case "cidr":
        return this.errorAt(raw, "`cidr(c)` is only allowed as `cidr(c).containsIP(ip)`");
      case "matches": {
        if (!this.arity(raw, 2, "matches(s, pattern)")) return null;
        return this.matches(raw, raw.args[0], raw.args[1]);
      }
    }
    if (!this.arity(raw, 1, `${name}(x)`)) return null;
    const args = this.checkArgs(raw.args);
    if (args === null) return null;
    const [x] = args;
    const t = x.type;
    switch (name) {
      case "size":
        if (t.k !== "string" && t.k !== "list" && !isMapLike(t) && !isDyn(t)) {
          return this.errorAt(raw, `\`size\` needs a string, list or map, not ${aTypeName(t)}`);
        }
        return this.callExpr("size", [x.expr], raw, INT);
      case "isIBAN":
      case "isLuhn":
      case "isURL":
      case "isIP":
        if (!this.wantString(name, "argument", x, raw.args[0])) return null;
        return this.callExpr(name, [x.expr], raw, BOOL);
      case "int":
        if (!isNum(t) && t.k !== "string" && !isDyn(t)) {
          return this.errorAt(raw, `\`int\` converts a number or a string, not ${aTypeName(t)}`);
        }
        return this.callExpr("int", [x.expr], raw, INT);
      case "double":
        if (!isNum(t) && t.k !== "string" && !isDyn(t)) {
          return this.errorAt(raw, `\`double\` converts a number or a string, not ${aTypeName(t)}`);
        }
        return this.callExpr("double", [x.expr], raw, DOUBLE);
      case "string":
        if (t.k === "double") {
          return this.errorAt(raw, "`string` of a double is not supported (hosts print doubles differently); convert with `int` first");
        }
        if (t.k !== "string" && t.k !== "int" && t.k !== "bool" && !isDyn(t)) {
          return this.errorAt(raw, `\`string\` converts a string, int or bool, not ${aTypeName(t)}`);
        }
        return this.callExpr("string", [x.expr], raw, STRING);
    }
    return this.unknownFunction(raw);
  }

  private has(raw: Extract<RawExpr, { kind: "call" }>): Typed | null {
    if (!this.arity(raw, 1, "has(m.f)")) return null;
    const arg = raw.args[0];
    if (arg.kind !== "select") {
      const hint = arg.kind === "index" && arg.index.kind === "string"
        ? `; write \`has(${pathOf(arg.operand) ?? "m"}.\`${arg.index.value}\`)\` for a key that is not an identifier`
        : "";
      return this.errorAt(raw, `\`has\` needs a field selection like \`has(params.x)\`${hint}`);
    }
    const operand = this.check(arg.operand);
    if (operand === null) return null;
    if (this.field(operand, arg.operand, arg.field, arg) === null) return null;
    return {
      expr: { kind: "has", operand: operand.expr, field: arg.field, span: this.span(raw.span) },
      type: BOOL,
    };
  }

  private matches(raw: Extract<RawExpr, { kind: "call" }>, subjectRaw: RawExpr, patternRaw: RawExpr): Typed | null {
    const subject = this.check(subjectRaw);
    if (subject === null) return null;
    if (!this.wantString("matches", "subject", subject, raw)) return null;
    if (patternRaw.kind !== "string") {
      return this.error(patternRaw.span.start, patternRaw.span.end, "the pattern of `matches` must be a string literal, like `s.matches(\"^[0-9]+$\")`");
    }
    const pattern = patternRaw.value;
    const result = parseRegex(pattern);
    if (!result.ok) {
      const at = patternRaw.offsets[Math.max(0, Math.min(result.offset, patternRaw.offsets.length - 1))];
      return this.error(at, at + 1, `invalid regex: ${result.message}`);
    }
    return this.callExpr("matches", [subject.expr], raw, BOOL, pattern);
  }

  private receiverCall(raw: Extract<RawExpr, { kind: "call" }>, target: RawExpr): Typed | null {
    const name = raw.name;
    if (!Object.prototype.hasOwnProperty.call(RECEIVER_FUNCTIONS, name)) {
      if (Object.prototype.hasOwnProperty.call(GLOBAL_FUNCTIONS, name)) {
        return this.errorAt(raw, `\`${name}\` is a function, not a method; write \`${name}(x)\``);
      }
      return this.unknownFunction(raw);
    }
    // url(s).getHost() / getScheme() / getPort() and cidr(c).containsIP(ip): the constructor call
    // is only valid as this receiver, so it is checked here, not as a value.
    if (name === "getHost" || name === "getScheme" || name === "getPort") {
      if (target.kind !== "call" || target.name !== "url" || target.target !== null) {
        return this.errorAt(raw, `\`${name}\` must be called on \`url(s)\`, like \`url(s).${name}()\``);
      }
      if (!this.arity(raw, 0, `url(s).${name}()`)) return null;
      if (!this.arity(target, 1, "url(s)")) return null;
      const args = this.checkArgs(target.args);
      if (args === null) return null;
      if (!this.wantString("url", "argument", args[0], target.args[0])) return null;
      const fn: FnName = name === "getHost" ? "url.getHost" : name === "getScheme" ? "url.getScheme" : "url.getPort";
      return this.callExpr(fn, [args[0].expr], raw, STRING);
    }
    if (name === "containsIP") {
      if (target.kind !== "call" || target.name !== "cidr" || target.target !== null) {
        return this.errorAt(raw, "`containsIP` must be called on `cidr(c)`, like `cidr(\"10.0.0.0/8\").containsIP(ip)`");
      }
      if (!this.arity(raw, 1, "cidr(c).containsIP(ip)")) return null;
      if (!this.arity(target, 1, "cidr(c)")) return null;
      const args = this.checkArgs([target.args[0], raw.args[0]]);
      if (args === null) return null;
      if (!this.wantString("cidr", "argument", args[0], target.args[0])) return null;
      if (!this.wantString("containsIP", "argument", args[1], raw.args[0])) return null;
      return this.callExpr("cidr.containsIP", [args[0].expr, args[1].expr], raw, BOOL);
    }
    if (name === "matches") {
      if (!this.arity(raw, 1, "s.matches(pattern)")) return null;
      return this.matches(raw, target, raw.args[0]);
    }
    const expected = RECEIVER_FUNCTIONS[name];
    const shape = expected === 0 ? `x.${name}()` : `s.${name}(x)`;
    if (!this.arity(raw, expected, shape)) return null;
    const receiver = this.check(target);
    const args = this.checkArgs(raw.args);
    if (receiver === null || args === null) return null;
    const t = receiver.type;
    switch (name) {
      case "size":
        if (t.k !== "string" && t.k !== "list" && !isMapLike(t) && !isDyn(t)) {
          return this.errorAt(raw, `\`size\` needs a string, list or map, not ${aTypeName(t)}`);
        }
        return this.callExpr("size", [receiver.expr], raw, INT);
      case "lowerAscii":
        if (!this.wantString("lowerAscii", "receiver", receiver, raw)) return null;
        return this.callExpr("lowerAscii", [receiver.expr], raw, STRING);
      case "startsWith":
      case "endsWith":
      case "contains":
        if (!this.wantString(name, "receiver", receiver, raw)) return null;
        if (!this.wantString(name, "argument", args[0], raw.args[0])) return null;
        return this.callExpr(name, [receiver.expr, args[0].expr], raw, BOOL);
    }
    return this.unknownFunction(raw);
  }
}
