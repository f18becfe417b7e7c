// Tests of cli/input.ts: how `aegis eval` splits its input into requests (one document or JSON Lines).
import { describe, it, expect } from "vitest";
import { splitRequests } from "./input.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const texts = (s: string, force = false) =>
  splitRequests(enc(s), force).map((r) => ({ text: new TextDecoder().decode(r.bytes), line: r.line }));

describe("splitRequests", () => {
  it("reads a pretty-printed document as one request, bytes untouched", () => {
    const doc = '{\n  "agent": {"id": "a"},\n  "tool": "t",\n  "action": "x"\n}\n';
    expect(texts(doc)).toEqual([{ text: doc, line: null }]);
  });

  it("reads a single line as one request", () => {
    expect(texts('{"a":1}\n')).toEqual([{ text: '{"a":1}\n', line: null }]);
  });

  it("reads JSON Lines with line numbers, skipping blank lines, keeping bad lines", () => {
    expect(texts('{"a":1}\n\n  \nnot json\r\n{"b":2}')).toEqual([
      { text: '{"a":1}', line: 1 },
      { text: "not json\r", line: 4 },
      { text: '{"b":2}', line: 5 },
    ]);
  });

  it("treats a broken first line as one (invalid) document unless --lines is given", () => {
    expect(texts('{"a":\n{"b":2}\n')).toHaveLength(1);
    expect(texts('{"a":\n{"b":2}\n', true)).toEqual([{ text: '{"a":', line: 1 }, { text: '{"b":2}', line: 2 }]);
  });

  it("returns nothing for empty or blank input", () => {
    expect(texts("")).toEqual([]);
    expect(texts(" \n\t\n")).toEqual([]);
  });
});
