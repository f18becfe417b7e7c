// Reference stage: the values of docs/semantics.md and the operations on them that do not depend
// on the expression tree (equality, ordering, conversion from request JSON, value JSON of
// docs/engine-abi.md). Input: Values; output: Values, booleans, JSON. Ints are bigints and every
// int/double comparison is exact (no lossy conversion), so the engine is held to the exact answer.

import type { Span } from "../ast.ts";
import { isJsonNumber, type JsonValue } from "./request.ts";
import { Limits } from "../generated/bytecode.ts";

/** An evaluation error value; `span` is the expression that raised it. */
export interface ErrorValue { t: "error"; code: string; message: string; span: Span | null }

/** A value of the expression language: null, bool, int, double, string, list, map, or an error. */
export type Value =
  | { t: "null" }
  | { t: "bool"; v: boolean }
  | { t: "int"; v: bigint }
  | { t: "double"; v: number }
  | { t: "string"; v: string }
  | { t: "list"; v: Value[] }
  | { t: "map"; v: Map<string, Value> }
  | ErrorValue;

/** docs/semantics.md "Limits": the largest computed value and one evaluation's total (spec/bytecode.json). */
export const MAX_VALUE_BYTES = Limits.MAX_VALUE_BYTES;
export const MAX_EVAL_BYTES = Limits.MAX_EVAL_BYTES;
/** The size of one list element for the budget (the engine's value slot). */
export const LIST_ELEMENT_BYTES = 16;
/** What one redaction record costs the budget besides its path's UTF-8 bytes. */
export const REDACTION_CHARGE = 16;

/** UTF-8 byte length of a well-formed string (a surrogate pair is one 4-byte code point). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/**
 * The evaluation budget of one decision (or one eval_rule_value): every computed string or list
 * and every redaction record is charged before it exists, as the engine charges its arena.
 */
export class EvalBudget {
  used = 0;
  /** Charge a computed value; false (nothing charged) when it is over either limit. */
  chargeValue(bytes: number): boolean {
    if (bytes > MAX_VALUE_BYTES || this.used + bytes > MAX_EVAL_BYTES) return false;
    this.used += bytes;
    return true;
  }
  /** Charge the total only (redaction records); false (nothing charged) when it would pass it. */
  chargeTotal(bytes: number): boolean {
    if (this.used + bytes > MAX_EVAL_BYTES) return false;
    this.used += bytes;
    return true;
  }
}

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

export const NULL: Value = { t: "null" };
export const TRUE: Value = { t: "bool", v: true };
export const FALSE: Value = { t: "bool", v: false };

/** A bool value. */
export function bool(b: boolean): Value { return b ? TRUE : FALSE; }
/** An int value (the caller guarantees the 64-bit range). */
export function int(v: bigint): Value { return { t: "int", v }; }
/** A double value. */
export function double(v: number): Value { return { t: "double", v }; }
/** A string value. */
export function str(v: string): Value { return { t: "string", v }; }

/** An error value with its exact message (docs/semantics.md "Errors"). */
export function error(code: string, message: string, span: Span | null): ErrorValue {
  return { t: "error", code, message, span };
}

/** `value_too_large`: a computed value over MAX_VALUE_BYTES or the evaluation's budget. */
export function tooLarge(span: Span | null): ErrorValue {
  return error("value_too_large", "value is larger than the limit", span);
}

/** `no_matching_overload` for operator or function `op`. */
export function noOverload(op: string, span: Span | null): ErrorValue {
  return error("no_matching_overload", `no matching overload for \`${op}\``, span);
}

/** True when `v` fits in a signed 64-bit integer. */
export function inInt64(v: bigint): boolean { return v >= INT64_MIN && v <= INT64_MAX; }

/** Convert a parsed request value: every JSON number is a double, objects keep key order. */
export function fromJson(j: JsonValue): Value {
  if (j === null) return NULL;
  if (typeof j === "boolean") return bool(j);
  if (typeof j === "string") return str(j);
  if (Array.isArray(j)) return { t: "list", v: j.map(fromJson) };
  if (j instanceof Map) {
    const m = new Map<string, Value>();
    for (const [k, x] of j) m.set(k, fromJson(x));
    return { t: "map", v: m };
  }
  if (isJsonNumber(j)) return double(j.num);
  throw new Error("unreachable: unknown JSON value");
}

/**
 * Exact comparison of an int with a double: -1, 0, 1, or null when `d` is NaN.
 * Works on the exact rational values (no conversion of the int to double).
 */
export function compareIntDouble(i: bigint, d: number): -1 | 0 | 1 | null {
  if (Number.isNaN(d)) return null;
  if (d === Infinity) return -1;
  if (d === -Infinity) return 1;
  const floor = Math.floor(d);
  // A finite double's floor is an integer, so BigInt() of it is exact.
  const f = BigInt(floor);
  if (i < f) return -1;
  if (i > f) return 1;
  return d === floor ? 0 : -1;
}

/** Compare two strings by code point (the same as UTF-8 byte order). */
export function compareStrings(a: string, b: string): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point order only where a surrogate meets U+E000..U+FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Numeric comparison of two numbers (int or double), exact: -1, 0, 1, or null when unordered
 * (NaN). Returns undefined when either value is not a number.
 */
export function compareNumbers(a: Value, b: Value): -1 | 0 | 1 | null | undefined {
  if (a.t === "int" && b.t === "int") return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  if (a.t === "double" && b.t === "double") {
    if (Number.isNaN(a.v) || Number.isNaN(b.v)) return null;
    return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  }
  if (a.t === "int" && b.t === "double") return compareIntDouble(a.v, b.v);
  if (a.t === "double" && b.t === "int") {
    const c = compareIntDouble(b.v, a.v);
    return c === null ? null : c === 0 ? 0 : c === 1 ? -1 : 1;
  }
  return undefined;
}

/** Heterogeneous equality of two non-error values (docs/semantics.md "Equality"). */
export function valuesEqual(a: Value, b: Value): boolean {
  const numeric = compareNumbers(a, b);
  if (numeric !== undefined) return numeric === 0;
  if (a.t !== b.t) return false;
  switch (a.t) {
    case "null": return true;
    case "bool": return a.v === (b as typeof a).v;
    case "string": return a.v === (b as typeof a).v;
    case "list": {
      const bl = (b as typeof a).v;
      if (a.v.length !== bl.length) return false;
      for (let i = 0; i < a.v.length; i++) if (!valuesEqual(a.v[i], bl[i])) return false;
      return true;
    }
    case "map": {
      const bm = (b as typeof a).v;
      if (a.v.size !== bm.size) return false;
      for (const [k, x] of a.v) {
        const y = bm.get(k);
        if (y === undefined || !valuesEqual(x, y)) return false;
      }
      return true;
    }
    default:
      // Errors never reach equality: operators return error operands before comparing.
      return false;
  }
}

/** The 16 lower-case hex digits of a double's IEEE 754 bits; every NaN is written as 7ff8000000000000. */
export function doubleBits(d: number): string {
  if (Number.isNaN(d)) return "7ff8000000000000";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  return view.getBigUint64(0).toString(16).padStart(16, "0");
}

/** The value JSON of docs/engine-abi.md (as a JS value; JSON.stringify gives the wire form). */
export function valueToJson(v: Value): unknown {
  switch (v.t) {
    case "null": return { type: "null" };
    case "bool": return { type: "bool", value: v.v };
    case "int": return { type: "int", value: v.v.toString() };
    case "double": return { type: "double", bits: doubleBits(v.v) };
    case "string": return { type: "string", value: v.v };
    case "list": return { type: "list", value: v.v.map(valueToJson) };
    case "map": return { type: "map", value: [...v.v].map(([k, x]) => [k, valueToJson(x)]) };
    case "error": return { type: "error", code: v.code, message: v.message };
  }
}
