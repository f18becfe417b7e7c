// Reference stage: request bytes -> parsed JSON value -> validated request.
// Input: the request as raw bytes (or a JS string, encoded to UTF-8 first). Output: a JsonValue
// tree that keeps object key order and each number's lexeme, or a request error with the names of
// spec/bytecode.json. Written as a plain byte-level recursive-descent parser on purpose (never
// JSON.parse): it must reject what JSON.parse accepts (duplicate keys, escaped lone surrogates)
// and report byte offsets.
//
// Errors are found in one left-to-right pass, the first problem met decides, with the byte offset
// where it was met (the engine's reader, engine/json.ts, works the same way and writes the same
// messages):
//   - size > MAX_REQUEST_BYTES -> request_too_large (offset MAX_REQUEST_BYTES), before anything else;
//   - a UTF-8 BOM -> invalid_json at 0;
//   - invalid UTF-8 inside a string -> invalid_utf8 at the start of the bad sequence; any non-ASCII
//     byte outside a string is a syntax error (invalid_json), so every accepted text is valid UTF-8;
//   - a duplicate key is reported when its object closes (offset: the first repeated key), so an
//     error met earlier, e.g. inside a later member, wins;
//   - nesting deeper than MAX_JSON_DEPTH -> too_deep at the opening bracket; more than
//     MAX_JSON_NODES values -> too_many_values at the value that is one too many.
// Numbers too large for a double read as +-Infinity and tiny ones as 0 (IEEE round to nearest),
// as any double parser does; RFC 8259 leaves this to the implementation.

import { Limits } from "../generated/bytecode.ts";

/** A JSON number: its IEEE double value and the exact text the request wrote. */
export interface JsonNumber { num: number; lexeme: string }

/** A parsed JSON value. Objects are Maps so key order is the request's order. */
export type JsonValue = null | boolean | JsonNumber | string | JsonValue[] | Map<string, JsonValue>;

/** A request error: `code` is a request error name of spec/bytecode.json. */
export interface RequestError { ok: false; code: string; message: string; offset?: number }

export type ParseResult = { ok: true; value: JsonValue } | RequestError;

/** True for the JsonNumber case of a JsonValue. */
export function isJsonNumber(v: JsonValue): v is JsonNumber {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

/** True for the object case of a JsonValue. */
export function isJsonObject(v: JsonValue | undefined): v is Map<string, JsonValue> {
  return v instanceof Map;
}

/** Thrown inside the parser and turned into a RequestError at the top; never escapes. */
class ParseFailure {
  constructor(readonly code: string, readonly message: string, readonly offset: number) {}
}

/**
 * Length of the well-formed UTF-8 sequence starting at `bytes[i]` (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when it is not one.
 */
export function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i];
  if (b < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b === 0xe0) { need = 2; lo = 0xa0; }
  else if (b === 0xed) { need = 2; hi = 0x9f; }
  else if (b >= 0xe1 && b <= 0xef) need = 2;
  else if (b === 0xf0) { need = 3; lo = 0x90; }
  else if (b === 0xf4) { need = 3; hi = 0x8f; }
  else if (b >= 0xf1 && b <= 0xf3) need = 3;
  else return 0;
  if (i + need >= bytes.length) return 0;
  for (let k = 1; k <= need; k++) {
    const c = bytes[i + k];
    if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return 0;
  }
  return need + 1;
}

/** Offset of the first byte that breaks UTF-8 well-formedness, or -1 when `bytes` are valid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const n = utf8SequenceLength(bytes, i);
    if (n === 0) return i;
    i += n;
  }
  return -1;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Parse a request as strict RFC 8259 JSON within the limits of spec/bytecode.json. */
export function parseRequestJson(input: Uint8Array | string): ParseResult {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  if (bytes.length > Limits.MAX_REQUEST_BYTES) {
    return {
      ok: false, code: "request_too_large",
      message: `request is larger than ${Limits.MAX_REQUEST_BYTES} bytes`, offset: Limits.MAX_REQUEST_BYTES,
    };
  }
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { ok: false, code: "invalid_json", message: "a byte order mark is not allowed", offset: 0 };
  }
  try {
    const parser = new Parser(bytes);
    return { ok: true, value: parser.parseDocument() };
  } catch (e) {
    if (e instanceof ParseFailure) return { ok: false, code: e.code, message: e.message, offset: e.offset };
    throw e;
  }
}

/** `character `x`` for printable ASCII, else `byte 0xnn`, as the engine's messages say. */
function describeByte(b: number): string {
  if (b >= 0x20 && b < 0x7f) return `character \`${String.fromCharCode(b)}\``;
  return `byte 0x${b.toString(16).padStart(2, "0")}`;
}

function isDigitByte(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function hexDigit(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

const LITERAL_MESSAGE = "invalid literal (expected `true`, `false` or `null`)";

class Parser {
  private pos = 0;
  private values = 0;

  constructor(private readonly bytes: Uint8Array) {}

  parseDocument(): JsonValue {
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos < this.bytes.length) {
      this.fail("invalid_json", `unexpected ${describeByte(this.bytes[this.pos])} after the JSON value`, this.pos);
    }
    return value;
  }

  private fail(code: string, message: string, offset: number): never {
    throw new ParseFailure(code, message, offset);
  }

  private failEnd(): never {
    return this.fail("invalid_json", "unexpected end of input", this.bytes.length);
  }

  private skipWhitespace(): void {
    const b = this.bytes;
    while (this.pos < b.length) {
      const c = b[this.pos];
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  /** Skip whitespace, then parse one value; `depth` is the number of containers around it. */
  private parseValue(depth: number): JsonValue {
    this.skipWhitespace();
    const start = this.pos;
    if (start >= this.bytes.length) this.failEnd();
    this.values++;
    if (this.values > Limits.MAX_JSON_NODES) {
      this.fail("too_many_values", `request has more than ${Limits.MAX_JSON_NODES} values`, start);
    }
    const c = this.bytes[start];
    switch (c) {
      case 0x7b: return this.parseObject(depth + 1);
      case 0x5b: return this.parseArray(depth + 1);
      case 0x22: return this.parseString();
      case 0x74: this.expectLiteral("true"); return true;
      case 0x66: this.expectLiteral("false"); return false;
      case 0x6e: this.expectLiteral("null"); return null;
      default:
        if (c === 0x2d || isDigitByte(c)) return this.parseNumber();
        return this.fail("invalid_json", `unexpected ${describeByte(c)}`, start);
    }
  }

  private expectLiteral(word: string): void {
    for (let i = 0; i < word.length; i++) {
      if (this.bytes[this.pos + i] !== word.charCodeAt(i)) this.fail("invalid_json", LITERAL_MESSAGE, this.pos);
    }
    this.pos += word.length;
  }

  private checkDepth(depth: number): void {
    if (depth > Limits.MAX_JSON_DEPTH) {
      this.fail("too_deep", `JSON nesting is deeper than the limit of ${Limits.MAX_JSON_DEPTH}`, this.pos);
    }
  }

  /** Parse `"key" :` at `pos` (after whitespace); returns the key and its offset. */
  private parseMemberKey(): { key: string; at: number } {
    this.skipWhitespace();
    if (this.pos >= this.bytes.length) this.failEnd();
    const at = this.pos;
    if (this.bytes[at] !== 0x22) this.fail("invalid_json", "expected a string object key", at);
    const key = this.parseString();
    this.skipWhitespace();
    if (this.pos >= this.bytes.length) this.failEnd();
    if (this.bytes[this.pos] !== 0x3a) this.fail("invalid_json", "expected `:` after an object key", this.pos);
    this.pos++;
    return { key, at };
  }

  /** After a member or element: `,` (true), the closing bracket (false), or an error. */
  private separator(close: number, message: string): boolean {
    this.skipWhitespace();
    if (this.pos >= this.bytes.length) this.failEnd();
    const c = this.bytes[this.pos];
    if (c === 0x2c) { this.pos++; return true; }
    if (c === close) { this.pos++; return false; }
    return this.fail("invalid_json", message, this.pos);
  }

  private parseObject(depth: number): Map<string, JsonValue> {
    this.checkDepth(depth);
    this.pos++; // {
    const members: { key: string; at: number; value: JsonValue }[] = [];
    this.skipWhitespace();
    if (this.bytes[this.pos] === 0x7d) {
      this.pos++;
    } else {
      do {
        const { key, at } = this.parseMemberKey();
        members.push({ key, at, value: this.parseValue(depth) });
      } while (this.separator(0x7d, "expected `,` or `}` in object"));
    }
    // Duplicates are checked when the object closes; the first repeated key is reported.
    const result = new Map<string, JsonValue>();
    for (const m of members) {
      if (result.has(m.key)) this.fail("duplicate_key", `duplicate key \`${m.key}\``, m.at);
      result.set(m.key, m.value);
    }
    return result;
  }

  private parseArray(depth: number): JsonValue[] {
    this.checkDepth(depth);
    this.pos++; // [
    const elements: JsonValue[] = [];
    this.skipWhitespace();
    if (this.bytes[this.pos] === 0x5d) { this.pos++; return elements; }
    do {
      elements.push(this.parseValue(depth));
    } while (this.separator(0x5d, "expected `,` or `]` in array"));
    return elements;
  }

  private parseNumber(): JsonNumber {
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    const bad = (at: number): never => this.fail("invalid_json", "invalid number", at);
    if (b[p] === 0x2d) p++;
    if (b[p] === 0x30) p++;
    else if (isDigitByte(b[p])) { while (isDigitByte(b[p])) p++; }
    else bad(p);
    if (b[p] === 0x2e) {
      p++;
      if (!isDigitByte(b[p])) bad(p);
      while (isDigitByte(b[p])) p++;
    }
    if (b[p] === 0x65 || b[p] === 0x45) {
      p++;
      if (b[p] === 0x2b || b[p] === 0x2d) p++;
      if (!isDigitByte(b[p])) bad(p);
      while (isDigitByte(b[p])) p++;
    }
    this.pos = p;
    let lexeme = "";
    for (let i = start; i < p; i++) lexeme += String.fromCharCode(b[i]);
    // Number() of an RFC 8259 number is the correctly rounded double (overflow -> Infinity).
    return { num: Number(lexeme), lexeme };
  }

  private parseString(): string {
    const b = this.bytes;
    const open = this.pos;
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= b.length) this.fail("invalid_json", "unterminated string", open);
      const c = b[this.pos];
      if (c === 0x22) {
        // INVARIANT: the run holds only validated UTF-8, so the fatal decoder cannot throw.
        out += utf8Decoder.decode(b.subarray(runStart, this.pos));
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += utf8Decoder.decode(b.subarray(runStart, this.pos));
        out += this.parseEscape();
        runStart = this.pos;
        continue;
      }
      if (c < 0x20) {
        this.fail("invalid_json", `control character 0x${c.toString(16).padStart(2, "0")} must be escaped in a string`, this.pos);
      }
      const n = utf8SequenceLength(b, this.pos);
      if (n === 0) this.fail("invalid_utf8", "invalid UTF-8 sequence in string", this.pos);
      this.pos += n;
    }
  }

  /** Parse one escape at `pos` (the backslash); returns the text it stands for. */
  private parseEscape(): string {
    const b = this.bytes;
    const at = this.pos;
    if (at + 1 >= b.length) this.failEnd();
    const c = b[at + 1];
    const simple: Record<number, string> = { 0x22: "\"", 0x5c: "\\", 0x2f: "/", 0x62: "\b", 0x66: "\f", 0x6e: "\n", 0x72: "\r", 0x74: "\t" };
    if (simple[c] !== undefined) { this.pos += 2; return simple[c]; }
    if (c !== 0x75) {
      const message = c >= 0x20 && c < 0x7f ? `invalid escape \`\\${String.fromCharCode(c)}\`` : "invalid escape sequence";
      return this.fail("invalid_json", message, at);
    }
    const unit = this.hex4(at + 2);
    if (unit < 0) this.fail("invalid_json", "invalid unicode escape: `\\u` needs four hex digits", at);
    const lone = (): never => {
      let text = "";
      for (let i = at; i < at + 6; i++) text += String.fromCharCode(b[i]);
      return this.fail("invalid_json", `lone surrogate \`${text}\` in string`, at);
    };
    if (unit >= 0xdc00 && unit <= 0xdfff) lone();
    if (unit < 0xd800 || unit > 0xdbff) { this.pos += 6; return String.fromCharCode(unit); }
    // A high surrogate must be followed at once by an escaped low surrogate.
    if (at + 12 > b.length || b[at + 6] !== 0x5c || b[at + 7] !== 0x75) lone();
    const low = this.hex4(at + 8);
    if (low < 0xdc00 || low > 0xdfff) lone();
    this.pos += 12;
    return String.fromCharCode(unit, low);
  }

  /** The four hex digits at `at`, or -1. */
  private hex4(at: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const d = hexDigit(this.bytes[at + i]);
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }
}

/** A request that passed shape validation: the parsed root object, known to have the right shape. */
export interface ValidatedRequest {
  root: Map<string, JsonValue>;
  agent: Map<string, JsonValue>;
  agentId: string;
  tool: string;
  action: string;
  /** `{}` when the request omits it. */
  params: Map<string, JsonValue>;
  /** `{}` when the request omits it. */
  context: Map<string, JsonValue>;
}

/**
 * Check the shape of docs/semantics.md "Request validation". One pass over the members in request
 * order: each known key's value is checked where it stands (`agent`'s members likewise, in their
 * order), an unknown key fails at once; then missing `agent.id`, `agent`, `tool`, `action`.
 * Messages: `<subject> must be <requirement>` or `<subject> has unknown key `<key>``.
 */
export function validateRequestShape(v: JsonValue):
  { ok: true; request: ValidatedRequest } | RequestError {
  const mustBe = (subject: string, requirement: string): RequestError =>
    ({ ok: false, code: "invalid_request", message: `${subject} must be ${requirement}` });
  const unknownKey = (subject: string, key: string): RequestError =>
    ({ ok: false, code: "invalid_request", message: `${subject} has unknown key \`${key}\`` });
  const isNonEmptyString = (x: JsonValue): x is string => typeof x === "string" && x !== "";
  if (!isJsonObject(v)) return mustBe("request", "an object");
  let agent: Map<string, JsonValue> | undefined;
  let agentId: string | undefined;
  let tool: string | undefined;
  let action: string | undefined;
  let params = new Map<string, JsonValue>();
  let context = new Map<string, JsonValue>();
  for (const [key, x] of v) {
    if (key === "agent") {
      if (!isJsonObject(x)) return mustBe("request.agent", "an object");
      for (const [agentKey, y] of x) {
        if (agentKey === "id") {
          if (!isNonEmptyString(y)) return mustBe("request.agent.id", "a non-empty string");
          agentId = y;
        } else if (agentKey === "tenant") {
          if (typeof y !== "string") return mustBe("request.agent.tenant", "a string");
        } else if (agentKey === "scopes") {
          if (!Array.isArray(y) || y.some((s) => typeof s !== "string")) return mustBe("request.agent.scopes", "a list of strings");
        } else return unknownKey("request.agent", agentKey);
      }
      if (agentId === undefined) return mustBe("request.agent.id", "a non-empty string");
      agent = x;
    } else if (key === "tool") {
      if (!isNonEmptyString(x)) return mustBe("request.tool", "a non-empty string");
      tool = x;
    } else if (key === "action") {
      if (!isNonEmptyString(x)) return mustBe("request.action", "a non-empty string");
      action = x;
    } else if (key === "params") {
      if (!isJsonObject(x)) return mustBe("request.params", "an object");
      params = x;
    } else if (key === "context") {
      if (!isJsonObject(x)) return mustBe("request.context", "an object");
      context = x;
    } else if (key === "override_token") {
      if (typeof x !== "string") return mustBe("request.override_token", "a string");
    } else return unknownKey("request", key);
  }
  if (agent === undefined || agentId === undefined) return mustBe("request.agent", "an object");
  if (tool === undefined) return mustBe("request.tool", "a non-empty string");
  if (action === undefined) return mustBe("request.action", "a non-empty string");
  return { ok: true, request: { root: v, agent, agentId, tool, action, params, context } };
}

/** Parse and validate in one step. */
export function readRequest(input: Uint8Array | string): { ok: true; request: ValidatedRequest } | RequestError {
  const parsed = parseRequestJson(input);
  if (!parsed.ok) return parsed;
  return validateRequestShape(parsed.value);
}

/** The error JSON of docs/semantics.md: `{"error":{"code":...,"message":...,"offset":...}}`. */
export function requestErrorJson(e: { code: string; message: string; offset?: number }): string {
  const offset = e.offset === undefined ? "" : `,"offset":${e.offset}`;
  return `{"error":{"code":${JSON.stringify(e.code)},"message":${JSON.stringify(e.message)}${offset}}}`;
}
