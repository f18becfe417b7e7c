// The platform-neutral domainToASCII (domain.ts) gives exactly what Node's url.domainToASCII gives,
// which the compiler used before it had to run in browsers: on the WPT host suites (toascii.json,
// IdnaTestV2.json), on URL-syntax edge cases and on random strings. Egress hosts in bundles built
// by Node therefore keep their bytes.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, domainToASCII as nodeDomainToASCII } from "node:url";
import fc from "fast-check";
import { domainToASCII, punycodeDecode } from "./domain.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const urlData = join(repoRoot, "..", "shared", "testdata", "url");

function suiteInputs(file: string): string[] {
  const all = JSON.parse(readFileSync(join(urlData, file), "utf8")) as (string | { input: string })[];
  return all.flatMap((t) => (typeof t === "string" ? [] : [t.input]));
}

/** Inputs where a parse of "scheme://" + input would differ from the hostname setter, and IP forms. */
const EDGE_CASES = [
  "", "a", "b", "A", "x", "example.com", "Example.COM.", "a..b", ".", "..", "a.b.",
  "a?b", "a#b", "a\\b", "a/b", "a:80", "a@b", "user:pw@host", "a b", "a\tb", "a\nb", "a%41b", "a%zz",
  "%", "xn--", "xn--a", "xn--zca", "xn--ls8h", "-a", "a-", "a--b", "ab--c",
  "1.2.3.4", "0x7f.1", "0177.0.0.1", "4294967295", "4294967296", "1.2.3.4.5", "1.2.3.09", "09",
  "[::1]", "[::1", "::1]", "[1:2:3:4:5:6:7:8]", "[::ffff:1.2.3.4]", "[v1.x]", "[::1]x",
  "bücher.de", "ＥＸＡＭＰＬＥ.ｃｏｍ", "faß.de", "a\u00ad", "\u00ad", "a\u200db", "\u0661.\u0031",
  "a\ud800b", "\ufffd", "例え.テスト", "I\u0307stanbul", "a\u3002b", "a\uff0eb",
  "*", "*.a", "a*b", "a<b", "a^b", "a|b", "a[b", "a]b",
];

describe("domainToASCII", () => {
  it("equals Node's url.domainToASCII on the WPT host suites and URL-syntax edge cases", () => {
    const inputs = [...EDGE_CASES, ...suiteInputs("toascii.json"), ...suiteInputs("IdnaTestV2.json")];
    expect(inputs.length).toBeGreaterThan(1000);
    const differences = inputs
      .filter((s) => domainToASCII(s) !== nodeDomainToASCII(s))
      .map((s) => ({ input: s, got: domainToASCII(s), node: nodeDomainToASCII(s) }));
    expect(differences).toEqual([]);
  });

  it("rejects what the host parser rejects and normalises what it accepts", () => {
    expect(domainToASCII("Bücher.DE")).toBe("xn--bcher-kva.de");
    expect(domainToASCII("0x7f.1")).toBe("127.0.0.1");
    expect(domainToASCII("[0:0::1]")).toBe("[::1]");
    // The input that parses to the probe URL's own host is not mistaken for a rejection.
    expect(domainToASCII("A")).toBe("a");
    expect(domainToASCII("a b")).toBe("");
    expect(domainToASCII("1.2.3.4.5")).toBe("");
    expect(domainToASCII("xn--a")).toBe("");
  });

  it("equals Node's url.domainToASCII on random strings", () => {
    const hostChars = fc.constantFrom(..."ab-.0179xAZ:[]%@?#\\/ \t\u00df\u00fc\u00ad\u200d\u0661\u05d0\u3002\uff0e*_~");
    const arbitrary = fc.oneof(
      fc.string({ unit: hostChars, maxLength: 16 }),
      fc.string({ unit: "grapheme", maxLength: 8 }),
      fc.string({ unit: "binary", maxLength: 8 }),
    );
    fc.assert(fc.property(arbitrary, (s) => domainToASCII(s) === nodeDomainToASCII(s)), { numRuns: 3000 });
  });

  it("decodes RFC 3492 Punycode and refuses malformed payloads", () => {
    // RFC 3492 section 7.1 samples (A) Arabic and (L) Japanese, and plain ASCII payloads.
    expect(punycodeDecode("egbpdaj6bu4bxfgehfvwxn")).toBe("\u0644\u064a\u0647\u0645\u0627\u0628\u062a\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064a\u061f");
    expect(punycodeDecode("3B-ww4c5e180e575a65lsy2b")).toBe("3\u5e74B\u7d44\u91d1\u516b\u5148\u751f");
    expect(punycodeDecode("bcher-kva")).toBe("b\u00fccher");
    expect(punycodeDecode("ascii-")).toBe("ascii");
    expect(punycodeDecode("a")).toBe("\u0080"); // valid Punycode, though not a valid label
    for (const bad of ["99999999999", "\u00e9-a", "-", "zzzzzzzzzzzzzz"]) expect(punycodeDecode(bad)).toBeNull();
  });
});

