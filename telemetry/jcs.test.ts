// Tests of RFC 8785 canonical JSON: the upstream JCS vectors byte for byte, the ES6 number
// serialization file, properties (idempotence, key-order independence, JSON.stringify agreement
// on well-formed strings) and the values JCS must refuse.
import { describe, it, expect } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { CanonicalJsonError, canonicalize, canonicalizeBytes, canonicalizeJson } from "./jcs.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const jcsData = resolve(repoRoot, "../shared/testdata/jcs");

describe("RFC 8785 reference vectors (cyberphone/json-canonicalization)", () => {
  const names = readdirSync(join(jcsData, "input")).filter((f) => f.endsWith(".json"));

  it("has the six upstream cases", () => {
    expect(names.sort()).toEqual(["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"]);
  });

  for (const name of names) {
    it(`${name}: canonical bytes equal output/${name}`, () => {
      const input = readFileSync(join(jcsData, "input", name), "utf8");
      const expected = new Uint8Array(readFileSync(join(jcsData, "output", name)));
      expect(canonicalizeBytes(JSON.parse(input))).toEqual(expected);
      expect(new TextEncoder().encode(canonicalizeJson(input))).toEqual(expected);
    });
  }
});

describe("number serialization (es6testfile10k.txt)", () => {
  it("prints every double as ECMAScript Number.prototype.toString does", () => {
    const lines = readFileSync(join(jcsData, "es6testfile10k.txt"), "utf8").split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(10_000);
    const view = new DataView(new ArrayBuffer(8));
    const failures: string[] = [];
    for (const line of lines) {
      const [bits, expected] = line.split(",");
      view.setBigUint64(0, BigInt("0x" + bits));
      const value = view.getFloat64(0);
      const got = canonicalize(value);
      if (got !== expected) failures.push(`${bits}: got ${got}, want ${expected}`);
    }
    expect(failures).toEqual([]);
  });

  it("prints -0 as 0 and keeps exponents where ECMAScript does", () => {
    expect(canonicalize(-0)).toBe("0");
    expect(canonicalize([1e21, 1e-7, 123456789012345680000, 0.000001, 2 ** 53])).toBe("[1e+21,1e-7,123456789012345680000,0.000001,9007199254740992]");
  });
});

describe("strings and objects", () => {
  it("escapes only what RFC 8785 escapes, lower-case hex for other controls", () => {
    expect(canonicalize("\b\t\n\f\r\"\\")).toBe('"\\b\\t\\n\\f\\r\\"\\\\"');
    expect(canonicalize("\u0000\u001f\u007f")).toBe('"\\u0000\\u001f\u007f"');
    expect(canonicalize("</script> é € 😀")).toBe('"</script> é € 😀"');
  });

  it("sorts members by UTF-16 code units, not code points or locale", () => {
    // U+FB33 sorts before U+1F600 by code point but after it by UTF-16 code unit (0xD83D).
    expect(canonicalize({ "\ufb33": 1, "\u{1f600}": 2, a: 3, B: 4, "": 5 })).toBe('{"":5,"B":4,"a":3,"😀":2,"דּ":1}');
  });

  it("writes nested structures without whitespace", () => {
    expect(canonicalize({ z: [true, false, null, { y: "1", x: [] }], a: {} })).toBe('{"a":{},"z":[true,false,null,{"x":[],"y":"1"}]}');
  });

  it("reads only own enumerable string keys", () => {
    const base = { inherited: 1 };
    const object = Object.create(base) as Record<string, unknown>;
    object.own = 2;
    Object.defineProperty(object, "hidden", { value: 3, enumerable: false });
    (object as Record<symbol, unknown>)[Symbol("s")] = 4;
    expect(canonicalize(object)).toBe('{"own":2}');
    expect(canonicalize(Object.assign(Object.create(null), { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });

  it("keeps duplicate-key JSON text's last value (JSON.parse semantics)", () => {
    expect(canonicalizeJson('{"a":1,"b":2,"a":3}')).toBe('{"a":3,"b":2}');
  });
});

describe("properties", () => {
  const json = fc.jsonValue({ stringUnit: "binary", maxDepth: 4 });

  it("is idempotent: canonicalizing the parsed canonical text gives the same text", () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalize(value);
        expect(canonicalize(JSON.parse(text))).toBe(text);
        expect(canonicalizeJson(JSON.stringify(value, null, 2))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it("does not depend on member insertion order", () => {
    const object = fc.dictionary(fc.string({ unit: "binary" }), json, { maxKeys: 12 });
    fc.assert(
      fc.property(object, (value) => {
        const reversed: Record<string, unknown> = {};
        // defineProperty, not assignment: `reversed["__proto__"] = x` would set the prototype.
        for (const key of Object.keys(value).reverse()) {
          Object.defineProperty(reversed, key, { value: value[key], enumerable: true, writable: true, configurable: true });
        }
        expect(canonicalize(reversed)).toBe(canonicalize(value));
      }),
      { numRuns: 300 },
    );
  });

  it("quotes well-formed strings exactly as JSON.stringify does and refuses the others", () => {
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(anyUnit, fc.constantFrom("\ud83d", "\ude00", "a", "\u0001")), maxLength: 12 }), (s) => {
        const wellFormed = (s as string & { isWellFormed(): boolean }).isWellFormed();
        if (wellFormed) expect(canonicalize(s)).toBe(JSON.stringify(s));
        else expect(() => canonicalize(s)).toThrow(CanonicalJsonError);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("values JCS cannot represent", () => {
  const refused: [string, unknown, RegExp][] = [
    ["NaN", NaN, /number NaN/],
    ["Infinity", Infinity, /number Infinity/],
    ["-Infinity", { a: [-Infinity] }, /number -Infinity at `\$\.a\[0\]`/],
    ["a lone high surrogate", "x\ud800", /lone surrogate/],
    ["a lone low surrogate in a key", { "\udc00": 1 }, /lone surrogate/],
    ["a reversed surrogate pair", "\ude00\ud83d", /lone surrogate/],
    ["undefined", undefined, /type undefined/],
    ["undefined in an array", [1, undefined], /type undefined at `\$\[1\]`/],
    ["a hole in an array", [1, , 3], /type undefined at `\$\[1\]`/], // eslint-disable-line no-sparse-arrays
    ["an undefined member", { ok: 1, "odd key": undefined }, /type undefined at `\$\["odd key"\]`/],
    ["a function", { f: () => 1 }, /type function at `\$\.f`/],
    ["a bigint", 1n, /type bigint/],
    ["a symbol", Symbol("s"), /type symbol/],
    ["a Date", new Date(0), /Date object/],
    ["a Map", new Map(), /Map object/],
    ["a typed array", new Uint8Array(2), /Uint8Array object/],
  ];
  for (const [what, value, message] of refused) {
    it(`refuses ${what}`, () => {
      expect(() => canonicalize(value)).toThrow(CanonicalJsonError);
      expect(() => canonicalize(value)).toThrow(message);
    });
  }

  it("refuses cycles instead of recursing forever", () => {
    const object: Record<string, unknown> = { a: 1 };
    object.self = { back: object };
    expect(() => canonicalize(object)).toThrow(/cyclic structure at `\$\.self\.back`/);
    const list: unknown[] = [];
    list.push(list);
    expect(() => canonicalize(list)).toThrow(CanonicalJsonError);
  });

  it("allows the same object twice when it is not its own ancestor", () => {
    const shared = { x: 1 };
    expect(canonicalize({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });

  it("reports invalid JSON text and escaped lone surrogates as CanonicalJsonError", () => {
    expect(() => canonicalizeJson("{")).toThrow(CanonicalJsonError);
    expect(() => canonicalizeJson('["\\ud800"]')).toThrow(/lone surrogate \(\\ud800\) at `\$\[0\]`/);
  });
});
