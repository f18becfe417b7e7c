// Tests of the raw proxy-wasm ABI layer: header map serialization as the v0.2.1 spec lays it out
// ("Serialization": u32 count, u32 length pairs, NUL-terminated keys and values, little-endian).
// Input: pairs and byte strings; output: assertions on the exact bytes and on malformed input.
import { describe, expect, it } from "vitest";
import { deserializeHeaders, serializeHeaders } from "./abi.ts";

// The spec's example map {"a": "1"}, {"b": "22"}, written out from the layout.
const example = Uint8Array.from([
  2, 0, 0, 0,
  1, 0, 0, 0, 1, 0, 0, 0,
  1, 0, 0, 0, 2, 0, 0, 0,
  0x61, 0, 0x31, 0, 0x62, 0, 0x32, 0x32, 0,
]);

describe("header map serialization", () => {
  it("writes the spec's layout", () => {
    expect(serializeHeaders([["a", "1"], ["b", "22"]])).toEqual(example);
    expect(serializeHeaders([])).toEqual(Uint8Array.of(0, 0, 0, 0));
  });

  it("reads it back, with UTF-8 text and empty values", () => {
    expect(deserializeHeaders(example)).toEqual([["a", "1"], ["b", "22"]]);
    const pairs: [string, string][] = [["x-naïve", ""], [":path", "/tools/ünï"]];
    expect(deserializeHeaders(serializeHeaders(pairs))).toEqual(pairs);
  });

  it("accepts both spellings of an empty map", () => {
    expect(deserializeHeaders(new Uint8Array(0))).toEqual([]);
    expect(deserializeHeaders(Uint8Array.of(0))).toEqual([]);
  });

  it("rejects malformed maps instead of reading past them", () => {
    expect(deserializeHeaders(example.subarray(0, example.length - 1))).toBeNull();
    expect(deserializeHeaders(Uint8Array.of(...example, 0))).toBeNull();
    const noNul = example.slice();
    noNul[21] = 0x20;
    expect(deserializeHeaders(noNul)).toBeNull();
    expect(deserializeHeaders(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))).toBeNull();
    expect(deserializeHeaders(Uint8Array.of(1, 0))).toBeNull();
  });
});
