// Canonical JSON (RFC 8785, JCS): a JSON-compatible JS value (or JSON text) -> its one canonical
// text / UTF-8 bytes. Used for decision records, checkpoint lines and request digests
// (docs/telemetry.md §1), so every host writes byte-identical output for the same value.
//
// Implementation notes:
// - Object members are sorted with the default Array sort, which compares strings by UTF-16 code
//   units: exactly the order RFC 8785 §3.2.3 asks for (not locale, not code points).
// - Numbers use `String(n)`, which is ECMAScript Number.prototype.toString, the form RFC 8785
//   §3.2.2.3 prescribes; `String(-0)` is already "0".
// - Strings: RFC 8785 §3.2.2.2 escaping is what JSON.stringify does for well-formed strings, so a
//   string with nothing to escape is quoted directly (the common case: one regex test) and any
//   other goes through JSON.stringify after a lone-surrogate check. Well-formed JSON.stringify
//   would turn a lone surrogate into `\udxxx`, which RFC 8785 forbids (it has no UTF-8 form), so
//   lone surrogates are an error instead.
// - Only own enumerable string keys count (Object.keys). Values JSON cannot hold (undefined,
//   functions, symbols, bigint, NaN, ±Infinity), cycles and non-plain objects (Date, Map, typed
//   arrays...) throw CanonicalJsonError naming the path, rather than being dropped or coerced the
//   way JSON.stringify would: a record that silently lost a member would still verify.
// - No `node:` imports: this file runs in Node, Deno and browsers.

/** Thrown for values JCS cannot represent (non-finite numbers, undefined, functions, bigint, cycles). */
export class CanonicalJsonError extends Error {
  /** Where in the value the problem is, as a JSONPath-like string (`$`, `$.a[2]`). */
  readonly path: string;
  constructor(message: string, path = "$") {
    super(message);
    this.name = "CanonicalJsonError";
    this.path = path;
  }
}

// Anything that needs escaping (controls, quote, backslash) or checking (surrogates).
const NEEDS_CARE = /[\u0000-\u001f"\\\ud800-\udfff]/;
const SURROGATE = /[\ud800-\udfff]/;
const encoder = new TextEncoder();

/** RFC 8785 canonical JSON text of a JSON-compatible value (objects: own enumerable string keys, sorted by UTF-16 code units; arrays; strings; finite numbers; booleans; null). */
export function canonicalize(value: unknown): string {
  // Records are canonicalized on every decision: try the lean writer first; anything unusual
  // (an error, a cycle, very deep nesting) is redone by the careful one, which names the path.
  const fast = writeFast(value, 0);
  return fast !== undefined ? fast : new Serializer().write(value);
}

/**
 * The canonical form of one string (a JSON string literal); throws CanonicalJsonError for a lone
 * surrogate. Given something else by mistake, it writes or refuses it exactly as canonicalize does.
 */
export function canonicalString(value: string): string {
  // For a well-formed string JSON.stringify writes exactly RFC 8785's escapes (natively, faster
  // than any check in JS); a lone surrogate has no UTF-8 form and goes to canonicalize to fail.
  if (typeof value !== "string" || !(value as WellFormed).isWellFormed()) return canonicalize(value);
  return JSON.stringify(value);
}

// String.prototype.isWellFormed: ES2024, in Node 20, Deno and current browsers; not in lib ES2022.
type WellFormed = string & { isWellFormed(): boolean };

// Deeper than this is redone by the careful writer, which tells a cycle from depth.
const FAST_DEPTH = 200;

/** The canonical text, or undefined when the careful writer must decide (it then throws or agrees). */
function writeFast(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case "string":
      return NEEDS_CARE.test(value) ? (SURROGATE.test(value) ? undefined : JSON.stringify(value)) : `"${value}"`;
    case "number":
      return Number.isFinite(value) ? String(value) : undefined;
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (depth >= FAST_DEPTH) return undefined;
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          const item = writeFast(value[i], depth + 1);
          if (item === undefined) return undefined;
          out += i === 0 ? item : "," + item;
        }
        return out + "]";
      }
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return undefined;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = "{";
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const member = writeFast(record[key], depth + 1);
        if (member === undefined) return undefined;
        const name = NEEDS_CARE.test(key) ? (SURROGATE.test(key) ? undefined : JSON.stringify(key)) : `"${key}"`;
        if (name === undefined) return undefined;
        out += (i === 0 ? name : "," + name) + ":" + member;
      }
      return out + "}";
    }
    default:
      return undefined;
  }
}

/** UTF-8 bytes of canonicalize(value). */
export function canonicalizeBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

/** Canonicalize JSON text (parsed with JSON.parse, so duplicate keys take the last value; callers validate first). */
export function canonicalizeJson(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CanonicalJsonError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return canonicalize(value);
}

class Serializer {
  // Containers currently being written: a container met again inside itself is a cycle.
  private readonly open = new Set<object>();
  // Keys / indexes from the root to the value being written, for error messages only.
  private readonly path: (string | number)[] = [];

  write(value: unknown): string {
    switch (typeof value) {
      case "string":
        return quote(value, this);
      case "number":
        if (!Number.isFinite(value)) this.fail(`cannot canonicalize the number ${String(value)}`);
        return String(value);
      case "boolean":
        return value ? "true" : "false";
      case "object":
        if (value === null) return "null";
        return Array.isArray(value) ? this.writeArray(value) : this.writeObject(value);
      default:
        // undefined, function, symbol, bigint
        return this.fail(`cannot canonicalize a value of type ${typeof value}`);
    }
  }

  private writeArray(items: readonly unknown[]): string {
    this.enter(items);
    let out = "[";
    for (let i = 0; i < items.length; i++) {
      if (i > 0) out += ",";
      this.path.push(i);
      out += this.write(items[i]);
      this.path.pop();
    }
    this.open.delete(items);
    return out + "]";
  }

  private writeObject(object: object): string {
    const tag = Object.prototype.toString.call(object);
    if (tag !== "[object Object]") this.fail(`cannot canonicalize a ${tag.slice(8, -1)} object`);
    this.enter(object);
    const record = object as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let out = "{";
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (i > 0) out += ",";
      this.path.push(key);
      out += quote(key, this) + ":" + this.write(record[key]);
      this.path.pop();
    }
    this.open.delete(object);
    return out + "}";
  }

  private enter(container: object): void {
    if (this.open.has(container)) this.fail("cannot canonicalize a cyclic structure");
    this.open.add(container);
  }

  fail(message: string): never {
    let where = "$";
    for (const step of this.path) {
      where += typeof step === "number" ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
    }
    throw new CanonicalJsonError(where === "$" ? message : `${message} at \`${where}\``, where);
  }
}

function quote(s: string, serializer: Serializer): string {
  if (!NEEDS_CARE.test(s)) return `"${s}"`;
  if (SURROGATE.test(s)) {
    for (let i = 0; i < s.length; i++) {
      const unit = s.charCodeAt(i);
      if (unit < 0xd800 || unit > 0xdfff) continue;
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      serializer.fail(`cannot canonicalize a string with a lone surrogate (\\u${unit.toString(16)})`);
    }
  }
  return JSON.stringify(s);
}
