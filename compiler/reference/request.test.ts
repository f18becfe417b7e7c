// Tests for the reference request reader: strict JSON (JSONTestSuite plus our own limits) and the
// request shape of docs/semantics.md "Request validation".
import { describe, it, expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  firstInvalidUtf8, isJsonNumber, parseRequestJson, readRequest, requestErrorJson,
  validateRequestShape, type JsonValue,
} from "./request.ts";

const repoRoot = join(import.meta.dirname, "..", "..");
const suiteDir = join(repoRoot, "..", "shared", "testdata", "json", "test_parsing");

function parseError(input: Uint8Array | string): { code: string; offset?: number; message: string } {
  const r = parseRequestJson(input);
  if (r.ok) throw new Error("expected a parse error");
  return r;
}

describe("JSONTestSuite", () => {
  const files = readdirSync(suiteDir).sort();
  // Grammatically valid, rejected on purpose (a proxy and a tool reading different values is a bypass).
  const duplicateKeyFiles = new Set(["y_object_duplicated_key.json", "y_object_duplicated_key_and_value.json"]);
  // Our pinned choice for every implementation-defined case.
  const implementationDefined: Record<string, string> = {
    "i_number_double_huge_neg_exp.json": "ok",
    "i_number_huge_exp.json": "ok",
    "i_number_neg_int_huge_exp.json": "ok",
    "i_number_pos_double_huge_exp.json": "ok",
    "i_number_real_neg_overflow.json": "ok",
    "i_number_real_pos_overflow.json": "ok",
    "i_number_real_underflow.json": "ok",
    "i_number_too_big_neg_int.json": "ok",
    "i_number_too_big_pos_int.json": "ok",
    "i_number_very_big_negative_int.json": "ok",
    "i_object_key_lone_2nd_surrogate.json": "invalid_json",
    "i_string_1st_surrogate_but_2nd_missing.json": "invalid_json",
    "i_string_1st_valid_surrogate_2nd_invalid.json": "invalid_json",
    "i_string_UTF-16LE_with_BOM.json": "invalid_json", // 0xFF outside a string
    "i_string_UTF-8_invalid_sequence.json": "invalid_utf8",
    "i_string_UTF8_surrogate_U+D800.json": "invalid_utf8",
    "i_string_incomplete_surrogate_and_escape_valid.json": "invalid_json",
    "i_string_incomplete_surrogate_pair.json": "invalid_json",
    "i_string_incomplete_surrogates_escape_valid.json": "invalid_json",
    "i_string_invalid_lonely_surrogate.json": "invalid_json",
    "i_string_invalid_surrogate.json": "invalid_json",
    "i_string_invalid_utf-8.json": "invalid_utf8",
    "i_string_inverted_surrogates_U+1D11E.json": "invalid_json",
    "i_string_iso_latin_1.json": "invalid_utf8",
    "i_string_lone_second_surrogate.json": "invalid_json",
    "i_string_lone_utf8_continuation_byte.json": "invalid_utf8",
    "i_string_not_in_unicode_range.json": "invalid_utf8",
    "i_string_overlong_sequence_2_bytes.json": "invalid_utf8",
    "i_string_overlong_sequence_6_bytes.json": "invalid_utf8",
    "i_string_overlong_sequence_6_bytes_null.json": "invalid_utf8",
    "i_string_truncated-utf-8.json": "invalid_utf8",
    "i_string_utf16BE_no_BOM.json": "invalid_json", // NUL outside a string
    "i_string_utf16LE_no_BOM.json": "invalid_json",
    "i_structure_500_nested_arrays.json": "too_deep",
    "i_structure_UTF-8_BOM_empty_object.json": "invalid_json",
  };

  it("holds all 318 cases", () => {
    expect(files.length).toBe(318);
    expect(files.filter((f) => f.startsWith("i_")).sort()).toEqual(Object.keys(implementationDefined).sort());
  });

  for (const file of files) {
    it(file, () => {
      const r = parseRequestJson(new Uint8Array(readFileSync(join(suiteDir, file))));
      const outcome = r.ok ? "ok" : r.code;
      if (duplicateKeyFiles.has(file)) expect(outcome).toBe("duplicate_key");
      else if (file.startsWith("y_")) expect(outcome).toBe("ok");
      else if (file.startsWith("n_")) expect(outcome).not.toBe("ok");
      else expect(outcome).toBe(implementationDefined[file]);
    });
  }
});

describe("parseRequestJson", () => {
  it("keeps key order and number lexemes", () => {
    const r = parseRequestJson('{"b":1.50,"a":[-0,1e3,5000]}');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const root = r.value as Map<string, JsonValue>;
    expect([...root.keys()]).toEqual(["b", "a"]);
    expect(root.get("b")).toEqual({ num: 1.5, lexeme: "1.50" });
    const list = root.get("a") as JsonValue[];
    expect(list.map((n) => (isJsonNumber(n) ? n.lexeme : null))).toEqual(["-0", "1e3", "5000"]);
    expect(Object.is((list[0] as { num: number }).num, -0)).toBe(true);
  });

  it("reads huge numbers as infinities and tiny ones as zero", () => {
    const r = parseRequestJson("[1e400,-1e400,1e-400]");
    expect(r.ok && (r.value as { num: number }[]).map((n) => n.num)).toEqual([Infinity, -Infinity, 0]);
  });

  it("rejects duplicate keys, also when spelled with escapes, with the repeated key's offset", () => {
    expect(parseError('{"a":1,"a":2}')).toEqual({ ok: false, code: "duplicate_key", message: "duplicate key `a`", offset: 7 });
    expect(parseError('{"a":1,"\\u0061":2}')).toMatchObject({ code: "duplicate_key", offset: 7 });
    expect(parseError('{"x":{"k":1,"k":1}}')).toMatchObject({ code: "duplicate_key", offset: 12 });
    expect(parseError('{"a":1,"b":1,"b":2,"a":2}')).toMatchObject({ message: "duplicate key `b`", offset: 13 });
    // The same key in different objects is fine.
    expect(parseRequestJson('{"a":{"a":1},"b":{"a":2}}').ok).toBe(true);
  });

  it("reports a duplicate key when its object closes, so an earlier-closing problem wins", () => {
    expect(parseError('{"a":1,"a":2')).toMatchObject({ code: "invalid_json", message: "unexpected end of input", offset: 12 });
    expect(parseError('{"a":1,"a":{"b":1,"b":2}}')).toMatchObject({ code: "duplicate_key", message: "duplicate key `b`", offset: 18 });
  });

  it("decodes escapes and surrogate pairs, and rejects escaped lone surrogates", () => {
    const r = parseRequestJson('"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"');
    expect(r.ok && r.value).toBe("\"\\/\b\f\n\r\t\u00e9\u{1F600}");
    expect(parseError('"\\ud800"')).toEqual({ ok: false, code: "invalid_json", message: "lone surrogate `\\ud800` in string", offset: 1 });
    for (const bad of ['"\\uDC00"', '"\\ud800\\u0041"', '"\\ud800x"', '"\\ude00\\ud83d"', '"\\ud800\\uzzzz"']) {
      expect(parseError(bad)).toMatchObject({ code: "invalid_json", offset: 1 });
    }
    expect(parseError('"\\u12"')).toMatchObject({ message: "invalid unicode escape: `\\u` needs four hex digits", offset: 1 });
    expect(parseError('"\\q"')).toMatchObject({ message: "invalid escape `\\q`", offset: 1 });
    expect(parseError('"\\')).toMatchObject({ message: "unexpected end of input", offset: 2 });
  });

  it("gives each syntax error a message and the offset where it was met", () => {
    const cases: [string, string, number][] = [
      ["", "unexpected end of input", 0],
      ["  ", "unexpected end of input", 2],
      ["{} x", "unexpected character `x` after the JSON value", 3],
      ["\u00a0{}", "unexpected byte 0xc2", 0],
      ['"a\tb"', "control character 0x09 must be escaped in a string", 2],
      ['"abc', "unterminated string", 0],
      ["[tru]", "invalid literal (expected `true`, `false` or `null`)", 1],
      ["[01]", "expected `,` or `]` in array", 2],
      ["-x", "invalid number", 1],
      ["1.e3", "invalid number", 2],
      ["1e+", "invalid number", 3],
      ["[1,]", "unexpected character `]`", 3],
      ['{"a" 1}', "expected `:` after an object key", 5],
      ["{,}", "expected a string object key", 1],
      ['{"a":1 "b"}', "expected `,` or `}` in object", 7],
      ["[1", "unexpected end of input", 2],
    ];
    for (const [text, message, offset] of cases) {
      expect(parseError(text), text).toEqual({ ok: false, code: "invalid_json", message, offset });
    }
  });

  it("rejects a BOM before anything else", () => {
    expect(parseError(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toEqual({ ok: false, code: "invalid_json", message: "a byte order mark is not allowed", offset: 0 });
  });

  it("reports invalid UTF-8 in strings at the start of the bad sequence; outside strings it is a syntax error", () => {
    expect(parseError(new Uint8Array([0x22, 0x61, 0xc3, 0x28, 0x22]))).toEqual({ ok: false, code: "invalid_utf8", message: "invalid UTF-8 sequence in string", offset: 2 });
    expect(parseError(new Uint8Array([0x5b, 0xff, 0x5d]))).toMatchObject({ code: "invalid_json", message: "unexpected byte 0xff", offset: 1 });
    expect(firstInvalidUtf8(new Uint8Array([0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]))).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array([0xc0, 0x80]))).toBe(0); // overlong
    expect(firstInvalidUtf8(new Uint8Array([0x41, 0xed, 0xa0, 0x80]))).toBe(1); // surrogate
    expect(firstInvalidUtf8(new Uint8Array([0xf4, 0x90, 0x80, 0x80]))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(new Uint8Array([0x41, 0x42, 0xe2, 0x82]))).toBe(2); // truncated
  });

  it("allows depth 64 and rejects depth 65 at the opening bracket", () => {
    expect(parseRequestJson("[".repeat(64) + "]".repeat(64)).ok).toBe(true);
    expect(parseError("[".repeat(65) + "]".repeat(65))).toEqual({ ok: false, code: "too_deep", message: "JSON nesting is deeper than the limit of 64", offset: 64 });
    expect(parseRequestJson('{"a":'.repeat(64) + "1" + "}".repeat(64)).ok).toBe(true);
    expect(parseError('{"a":'.repeat(65) + "1" + "}".repeat(65))).toMatchObject({ code: "too_deep", offset: 64 * 5 });
    // 100000 opening brackets: an error, not a stack overflow.
    expect(parseError("[".repeat(100000))).toMatchObject({ code: "too_deep" });
  });

  it("allows 200,000 values and rejects one more", () => {
    const zeros = (n: number) => "[" + Array(n).fill("0").join(",") + "]";
    expect(parseRequestJson(zeros(199_999)).ok).toBe(true); // + the array itself = 200,000
    expect(parseError(zeros(200_000))).toEqual({ ok: false, code: "too_many_values", message: "request has more than 200000 values", offset: 1 + 2 * 199_999 });
  });

  it("rejects more than 1 MiB before looking at the bytes", () => {
    const big = new Uint8Array(1024 * 1024 + 1).fill(0xff);
    expect(parseError(big)).toEqual({ ok: false, code: "request_too_large", message: "request is larger than 1048576 bytes", offset: 1048576 });
    const exact = '"' + "a".repeat(1024 * 1024 - 2) + '"';
    expect(parseRequestJson(exact).ok).toBe(true);
  });

  it("writes error JSON as docs/semantics.md shows", () => {
    expect(requestErrorJson(parseError('{"a":1,"a":2}'))).toBe('{"error":{"code":"duplicate_key","message":"duplicate key `a`","offset":7}}');
    expect(requestErrorJson({ code: "invalid_request", message: "request.tool must be a non-empty string" }))
      .toBe('{"error":{"code":"invalid_request","message":"request.tool must be a non-empty string"}}');
  });
});

describe("validateRequestShape", () => {
  const shapeError = (json: string) => {
    const r = readRequest(json);
    if (r.ok) throw new Error("expected a shape error");
    expect(r.code).toBe("invalid_request");
    expect(r.offset).toBeUndefined();
    return r.message;
  };

  it("accepts the contract's example and fills in empty params and context", () => {
    const r = readRequest('{"agent":{"id":"a","tenant":"t","scopes":["s"]},"tool":"t","action":"x","params":{"n":1},"context":{},"override_token":"o"}');
    expect(r.ok).toBe(true);
    const minimal = readRequest('{"agent":{"id":"a"},"tool":"t","action":"x"}');
    expect(minimal.ok && minimal.request.params.size).toBe(0);
    expect(minimal.ok && minimal.request.context.size).toBe(0);
    expect(minimal.ok && [minimal.request.agentId, minimal.request.tool, minimal.request.action]).toEqual(["a", "t", "x"]);
  });

  it("names the offending key", () => {
    const ok = '"agent":{"id":"a"},"tool":"t","action":"x"';
    expect(shapeError("[]")).toBe("request must be an object");
    expect(shapeError(`{${ok},"extra":1}`)).toBe("request has unknown key `extra`");
    expect(shapeError('{"tool":"t","action":"x"}')).toBe("request.agent must be an object");
    expect(shapeError('{"agent":"a","tool":"t","action":"x"}')).toBe("request.agent must be an object");
    expect(shapeError('{"agent":{"id":"a","role":"x"},"tool":"t","action":"x"}')).toBe("request.agent has unknown key `role`");
    expect(shapeError('{"agent":{"id":""},"tool":"t","action":"x"}')).toBe("request.agent.id must be a non-empty string");
    expect(shapeError('{"agent":{"id":1},"tool":"t","action":"x"}')).toBe("request.agent.id must be a non-empty string");
    expect(shapeError('{"agent":{"tenant":"t"},"tool":"t","action":"x"}')).toBe("request.agent.id must be a non-empty string");
    expect(shapeError('{"agent":{"id":"a","tenant":null},"tool":"t","action":"x"}')).toBe("request.agent.tenant must be a string");
    expect(shapeError('{"agent":{"id":"a","scopes":["x",1]},"tool":"t","action":"x"}')).toBe("request.agent.scopes must be a list of strings");
    expect(shapeError('{"agent":{"id":"a"},"tool":"","action":"x"}')).toBe("request.tool must be a non-empty string");
    expect(shapeError('{"agent":{"id":"a"},"tool":"t"}')).toBe("request.action must be a non-empty string");
    expect(shapeError(`{${ok},"params":[]}`)).toBe("request.params must be an object");
    expect(shapeError(`{${ok},"params":null}`)).toBe("request.params must be an object");
    expect(shapeError(`{${ok},"context":"c"}`)).toBe("request.context must be an object");
    expect(shapeError(`{${ok},"override_token":5}`)).toBe("request.override_token must be a string");
  });

  it("checks members in request order, then what is missing", () => {
    expect(shapeError('{"zzz":1}')).toBe("request has unknown key `zzz`");
    expect(shapeError('{"tool":"","zzz":1}')).toBe("request.tool must be a non-empty string");
    expect(shapeError('{"zzz":1,"tool":""}')).toBe("request has unknown key `zzz`");
    expect(shapeError('{"agent":{"x":1,"id":""}}')).toBe("request.agent has unknown key `x`");
    expect(shapeError('{"action":"a","tool":"t"}')).toBe("request.agent must be an object");
    expect(shapeError('{"agent":{"id":"a"},"action":"a"}')).toBe("request.tool must be a non-empty string");
  });

  it("is a separate step usable on any parsed value", () => {
    expect(validateRequestShape(null)).toMatchObject({ ok: false, code: "invalid_request" });
  });
});

describe("properties", () => {
  it("accepts what JSON.stringify writes and renders it back byte for byte", async () => {
    const fc = (await import("fast-check")).default;
    const { renderJson } = await import("./render.ts");
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const text = JSON.stringify(v);
      const r = parseRequestJson(text);
      expect(r.ok).toBe(true);
      if (r.ok) expect(renderJson(r.value)).toBe(text);
    }), { numRuns: 500 });
  });

  it("agrees with JSON.parse on acceptance for arbitrary short strings without duplicate keys", async () => {
    const fc = (await import("fast-check")).default;
    const alphabet = fc.constantFrom(..."{}[]:,\"\\ 0123456789-+.eEtrufalsn\u00e9\t\nabu".split(""));
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 24 }).map((cs) => cs.join("")), (text) => {
      let native = true;
      try { JSON.parse(text); } catch { native = false; }
      const r = parseRequestJson(text);
      // JSON.parse accepts duplicate keys and escaped lone surrogates, which we reject on purpose.
      if (!r.ok && (r.code === "duplicate_key" || /\\u[dD][89a-fA-F]/.test(text))) return;
      expect(r.ok).toBe(native);
    }), { numRuns: 5000 });
  });
});
