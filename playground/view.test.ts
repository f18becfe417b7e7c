// The playground's text helpers (view.ts): the pretty decision JSON keeps the engine's exact
// tokens, the decision value is found for highlighting, and engine byte offsets land on the right
// character and caret in the request text.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { caretAt, decisionValueRange, lineOfIndex, prettyJson, utf8OffsetToIndex } from "./view.ts";

/** The JSON text with the whitespace between tokens removed (strings kept whole). */
function compact(json: string): string {
  return json.replace(/"(?:[^"\\]|\\.)*"|\s+/g, (m) => (m.startsWith('"') ? m : ""));
}

describe("prettyJson", () => {
  it("indents objects and arrays, keeps empty ones on one line", () => {
    expect(prettyJson('{"a":[1,{"b":{}}],"c":[],"d":"x"}')).toBe(
      '{\n  "a": [\n    1,\n    {\n      "b": {}\n    }\n  ],\n  "c": [],\n  "d": "x"\n}',
    );
  });

  it("keeps strings with quotes, escapes and JSON punctuation intact", () => {
    const json = '{"reason":"a \\"quoted\\" {x: [1, 2]}, \\\\ done","p":"\\u00e9"}';
    const pretty = prettyJson(json);
    expect(JSON.parse(pretty)).toEqual(JSON.parse(json));
    expect(pretty).toContain('"a \\"quoted\\" {x: [1, 2]}, \\\\ done"');
  });

  it("keeps number spellings that a parse and stringify would change", () => {
    const json = '{"n":1.50,"big":12345678901234567890,"e":1E+2,"neg":-0.0}';
    expect(compact(prettyJson(json))).toBe(json);
  });

  it("only moves whitespace: any JSON value comes back byte for byte", () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const json = JSON.stringify(value);
      const pretty = prettyJson(json);
      expect(compact(pretty)).toBe(json);
      expect(JSON.parse(pretty)).toEqual(JSON.parse(json));
    }), { numRuns: 300 });
  });
});

describe("decisionValueRange", () => {
  it("finds the top-level decision value, not a nested one", () => {
    const pretty = prettyJson('{"decision":"approval_needed","enforced":true,"params":{"decision":"allow"}}');
    const range = decisionValueRange(pretty)!;
    expect(pretty.slice(range.start, range.end)).toBe('"approval_needed"');
    expect(decisionValueRange(prettyJson('{"params":{"decision":"allow"}}'))).toBeNull();
  });
});

describe("positions", () => {
  it("maps UTF-8 byte offsets to string indexes", () => {
    const text = 'a\u00e9\u20ac\ud83d\ude00b'; // 1 + 2 + 3 + 4 + 1 bytes
    expect([0, 1, 3, 6, 10, 11].map((o) => utf8OffsetToIndex(text, o))).toEqual([0, 1, 2, 3, 5, 6]);
    expect(utf8OffsetToIndex(text, 2)).toBe(1); // inside é: its start
    expect(utf8OffsetToIndex(text, 8)).toBe(3); // inside the emoji: its start
    expect(utf8OffsetToIndex(text, 99)).toBe(text.length);
  });

  it("gives the line and a caret under the character", () => {
    const text = '{\n  "a": \u00e9x\n}';
    const index = text.indexOf("x");
    expect(lineOfIndex(text, index)).toBe(2);
    expect(caretAt(text, index)).toBe(' |   "a": \u00e9x\n | ........^'); // é is one column
    expect(caretAt("\nabc", 0)).toBe(" | \n | ^");
    expect(caretAt("abc", 3)).toBe(" | abc\n | ...^");
  });
});
