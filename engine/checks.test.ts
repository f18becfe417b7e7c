// Tests for engine/checks.ts: IBAN (python-stdnum cases by group and every php-iban registry
// example, deviations in conformance/skips/iban.yaml), Luhn, isIP and cidr().containsIP() unit
// cases (Go netip / Kubernetes CEL behaviour), and fast-check differential tests of the
// AssemblyScript checks against the TypeScript reference (compiler/reference/checks.ts).
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import fc from "fast-check";
import { compileAssemblyScript } from "./testing/compile.ts";
import * as ref from "../compiler/reference/checks.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const ibanDir = join(repoRoot, "..", "shared", "testdata", "iban");

type Exports = Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
let wasm: Exports;
const encoder = new TextEncoder();

function put(...parts: string[]): number[] {
  const encoded = parts.map((s) => encoder.encode(s));
  const total = encoded.reduce((n, b) => n + b.length, 0);
  const p = wasm.inputPtr(total);
  let off = 0;
  for (const b of encoded) { new Uint8Array(wasm.memory.buffer, p + off, b.length).set(b); off += b.length; }
  return encoded.map((b) => b.length);
}
const isIban = (s: string) => wasm.testIsIban(put(s)[0]) === 1;
const isLuhn = (s: string) => wasm.testIsLuhn(put(s)[0]) === 1;
const isIp = (s: string) => wasm.testIsIp(put(s)[0]) === 1;
function cidrContains(c: string, ip: string): boolean | "invalid_cidr" | "invalid_ip" {
  const [cl, il] = put(c, ip);
  const r = wasm.testCidrContains(cl, il);
  return r === 1 ? true : r === 0 ? false : r === -1 ? "invalid_cidr" : "invalid_ip";
}

beforeAll(async () => {
  wasm = (await compileAssemblyScript("engine/testing/checks-entry.ts")).exports as unknown as Exports;
});

/** The IBAN cases with their expected result, as python-stdnum and php-iban give them. */
export function ibanCases(): { source: string; input: string; valid: boolean }[] {
  const stdnum = JSON.parse(readFileSync(join(ibanDir, "stdnum_iban_cases.json"), "utf8")) as {
    groups: { id: string; expect: string; cases: string[] }[];
  };
  const out: { source: string; input: string; valid: boolean }[] = [];
  for (const g of stdnum.groups) {
    // national_check_fails: valid under ISO 13616, invalid under python-stdnum's default.
    for (const c of g.cases) out.push({ source: "stdnum", input: c, valid: g.expect === "valid" });
  }
  const rows = readFileSync(join(ibanDir, "registry.txt"), "utf8").trim().split("\n").slice(1);
  for (const row of rows) out.push({ source: "registry", input: row.split("|")[7], valid: true });
  return out;
}

const ibanSkips = (parseYaml(readFileSync(join(repoRoot, "conformance", "skips", "iban.yaml"), "utf8")) as {
  skips: { source: string; case: string; reason: string }[];
}).skips;

describe("isIban", () => {
  it("python-stdnum groups and php-iban registry examples, deviations as listed", () => {
    const unexpected: string[] = [];
    const stale: string[] = [];
    let passed = 0;
    const cases = ibanCases();
    for (const c of cases) {
      const ok = isIban(c.input) === c.valid;
      const skipped = ibanSkips.some((s) => s.source === c.source && s.case === c.input);
      if (ok) passed++;
      if (ok && skipped) stale.push(c.input);
      if (!ok && !skipped) unexpected.push(`${c.source} ${c.input}: want ${c.valid}`);
    }
    console.log(`iban: ${cases.length} ran, ${passed} passed, ${ibanSkips.length} skipped`);
    expect(unexpected).toEqual([]);
    expect(stale).toEqual([]);
  });

  it("normalisation and edge cases", () => {
    expect(isIban("DE89370400440532013000")).toBe(true);
    expect(isIban("de89 3704 0044 0532 0130 00")).toBe(true);
    expect(isIban("DE89-3704.0044 0532 0130 00")).toBe(true);
    expect(isIban("DE89\t370400440532013000")).toBe(false);
    expect(isIban("DE88370400440532013000")).toBe(false);
    expect(isIban("")).toBe(false);
    expect(isIban("DE")).toBe(false);
    expect(isIban("    ")).toBe(false);
    expect(isIban("DE8937040044053201300")).toBe(false); // one short
    expect(isIban("DE89370400440532013000".repeat(300))).toBe(false);
    expect(isIban("GB82WEST12345698765432")).toBe(true);
    expect(isIban("GB82WEST1234569876543Z")).toBe(false); // letter where the format wants a digit
  });

  it("the country table is the same literal in the engine and the reference", () => {
    const source = readFileSync(join(repoRoot, "engine", "checks.ts"), "utf8");
    const literal = /const IBAN_BBAN_FORMATS = "([^"]*)";/.exec(source)![1];
    const joined = literal.replace(/\\\n/g, ""); // line continuations
    expect(joined).toBe(ref.IBAN_BBAN_FORMATS);
  });
});

describe("isLuhn", () => {
  const cases: [string, boolean][] = [
    ["79927398713", true], ["79927398710", false], ["4111111111111111", true], ["4111111111111112", false],
    ["0", false], ["00", true], ["18", true], ["", false], ["4111 1111 1111 1111", false], ["12a4", false],
    ["378282246310005", true], ["6011111111111117", true], ["5555555555554444", true], ["1234567812345670", true],
    ["٠٠", false], ["-18", false],
  ];
  it.each(cases)("%j -> %s", (s, want) => {
    expect(isLuhn(s)).toBe(want);
    expect(ref.isLuhn(s)).toBe(want);
  });
});

/** isIP unit cases: Go netip.ParseAddr without zones or IPv4-mapped IPv6 addresses (Kubernetes CEL isIP). */
export const IP_CASES: [string, boolean][] = [
  ["192.168.0.1", true], ["0.0.0.0", true], ["255.255.255.255", true], ["256.0.0.1", false], ["1.2.3", false],
  ["1.2.3.4.5", false], ["01.2.3.4", false], ["1.2.3.04", false], ["1.2.3.0", true], ["1..2.3", false], [".1.2.3", false],
  ["1.2.3.", false], ["1.2.3.4 ", false], [" 1.2.3.4", false], ["0x1.2.3.4", false], ["1.2.3.-4", false], ["1000.2.3.4", false],
  ["::", true], ["::1", true], ["1::", true], ["2001:db8::68", true], ["2001:DB8::68", true], ["2001:db8:::68", false],
  ["2001:db8::68::1", false], ["1:2:3:4:5:6:7:8", true], ["1:2:3:4:5:6:7:8:9", false], ["1:2:3:4:5:6:7", false],
  ["1:2:3:4:5:6:7::", true], ["::1:2:3:4:5:6:7", true], ["1:2:3:4::5:6:7:8", false], ["00000::1", false], ["0000::1", true],
  ["12345::1", false], ["g::1", false], [":1", false], ["1:", false], [":::", false], ["::ffff:192.168.0.1", false],
  ["::ffff:c0a8:1", false], ["::192.168.0.1", true], ["1:2:3:4:5:6:1.2.3.4", true], ["1:2:3:4:5:6:7:1.2.3.4", false],
  ["1:2:3:4:5::1.2.3.4", true], ["1:2:3:4:5:6::1.2.3.4", false], ["::1.2.3.04", false], ["::1.2.3", false],
  ["1.2.3.4::", false], ["::1.2.3.4:5", false], ["fe80::1%en0", false], ["fe80::1%", false], ["%1", false], ["", false],
  ["1", false], ["localhost", false], ["[::1]", false], ["::1/128", false], ["1.2.3.4/32", false],
  // IPv4-mapped IPv6 (Is4In6) in every spelling is rejected; neighbours of the ::ffff:0:0/96 block are not.
  ["::FFFF:10.0.0.1", false], ["0:0:0:0:0:ffff:a00:1", false], ["0000:0000:0000:0000:0000:FFFF:0A00:0001", false],
  ["::ffff:0:0", false], ["::ffff:ffff:ffff", false], ["0::ffff:1.2.3.4", false], ["::ffff:1.2.3.04", false],
  ["::fffe:1.2.3.4", true], ["::1:ffff:1.2.3.4", true], ["1::ffff:1.2.3.4", true], ["::ffff", true], ["::ffff:0", true],
  ["::ffff:0:0:0", true], ["64:ff9b::10.0.0.1", true], ["::10.0.0.1", true], ["ffff::10.0.0.1", true],
];

/** cidr(c).containsIP(ip) unit cases. */
export const CIDR_CASES: [string, string, boolean | "invalid_cidr" | "invalid_ip"][] = [
  ["192.168.0.0/24", "192.168.0.1", true], ["192.168.0.0/24", "192.168.1.1", false], ["192.168.0.1/24", "192.168.0.200", true],
  ["10.0.0.0/8", "10.255.255.255", true], ["10.0.0.0/8", "11.0.0.0", false], ["0.0.0.0/0", "1.2.3.4", true],
  ["1.2.3.4/32", "1.2.3.4", true], ["1.2.3.4/32", "1.2.3.5", false], ["1.2.3.4/33", "1.2.3.4", "invalid_cidr"],
  ["1.2.3.4/08", "1.2.3.4", "invalid_cidr"], ["1.2.3.4/", "1.2.3.4", "invalid_cidr"], ["1.2.3.4", "1.2.3.4", "invalid_cidr"],
  ["1.2.3.4/+8", "1.2.3.4", "invalid_cidr"], ["1.2.3.4/-1", "1.2.3.4", "invalid_cidr"], ["1.2.3.4/8/8", "1.2.3.4", "invalid_cidr"],
  ["fe80::1%en0/24", "fe80::1", "invalid_cidr"], ["192.168.0.0/24", "192.168.0.1.0", "invalid_ip"],
  ["192.168.0.0/24", "", "invalid_ip"], ["", "1.2.3.4", "invalid_cidr"], ["/8", "1.2.3.4", "invalid_cidr"],
  ["2001:db8::/32", "2001:db8::1", true], ["2001:db8::/32", "2001:db9::1", false], ["2001:db8::/32", "192.168.1.1", false],
  ["192.168.1.1/32", "2001:db8::1", false], ["::/0", "::1", true], ["::/0", "1.2.3.4", false], ["::1/128", "::1", true],
  ["::1/129", "::1", "invalid_cidr"], ["2001:db8::/33", "2001:db8:8000::", false],
  ["2001:db8::/33", "2001:db8:7fff::", true], ["1.2.3.4/0", "255.255.255.255", true], ["1.2.3.4/31", "1.2.3.5", true],
  ["1.2.3.4/31", "1.2.3.6", false],
  // IPv4-mapped IPv6 on either side is invalid (Kubernetes CEL), so a deny rule on 10.0.0.0/8 is not bypassed.
  ["10.0.0.0/8", "::ffff:10.0.0.1", "invalid_ip"], ["10.0.0.0/8", "::FFFF:a00:1", "invalid_ip"],
  ["::ffff:10.0.0.0/104", "::ffff:10.0.0.1", "invalid_cidr"], ["::ffff:10.0.0.0/104", "10.0.0.1", "invalid_cidr"],
  ["::ffff:0:0/96", "1.2.3.4", "invalid_cidr"], ["::ffff:0:0/96", "::ffff:1.2.3.4", "invalid_cidr"],
  ["::/0", "::ffff:1.2.3.4", "invalid_ip"], ["::/0", "::fffe:1.2.3.4", true], ["::/96", "::10.0.0.1", true],
  ["::/0", "0:0:0:0:0:ffff:102:304", "invalid_ip"], ["64:ff9b::/96", "64:ff9b::10.0.0.1", true],
];

describe("isIp and cidrContains", () => {
  it.each(IP_CASES)("isIP(%j) = %s", (s, want) => {
    expect(isIp(s)).toBe(want);
    expect(ref.isIP(s)).toBe(want);
  });
  it.each(CIDR_CASES)("cidr(%j).containsIP(%j) = %s", (c, ip, want) => {
    expect(cidrContains(c, ip)).toBe(want);
    expect(ref.cidrContains(c, ip)).toBe(want);
  });
});

/** Textual forms of an address: canonical, expanded, upper-case, compressed anywhere, mixed IPv4. */
const ipText = fc.oneof(
  fc.tuple(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 3, maxLength: 5 }), fc.boolean()).map(([parts, zero]) =>
    parts.map((p, i) => (zero && i === 0 ? "0" + p : String(p))).join(".")),
  fc.tuple(
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 6, maxLength: 9 }),
    fc.integer({ min: -1, max: 9 }), fc.integer({ min: 0, max: 8 }),
    fc.constantFrom("x", "X", "04x", "pad"), fc.option(fc.tuple(fc.integer({ min: 0, max: 256 }), fc.integer({ min: 0, max: 255 }))),
    fc.option(fc.constantFrom("%eth0", "%", "/64", " ", ":", ".")),
  ).map(([groups, cutAt, cutLen, style, v4, suffix]) => {
    const fmt = (g: number) => style === "X" ? g.toString(16).toUpperCase() : style === "pad" ? g.toString(16).padStart(5, "0").slice(-5)
      : style === "04x" ? g.toString(16).padStart(4, "0") : g.toString(16);
    let items = groups.map(fmt);
    if (v4) items = [...items.slice(0, -2), `${v4[0]}.${v4[1]}.1.2`];
    let text = items.join(":");
    if (cutAt >= 0 && cutAt < items.length) {
      const before = items.slice(0, cutAt).join(":");
      const after = items.slice(Math.min(items.length, cutAt + cutLen)).join(":");
      text = `${before}::${after}`;
    }
    return text + (suffix ?? "");
  }),
  fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.%/ "), maxLength: 24 }),
  // Near the IPv4-mapped block ::ffff:0:0/96, which random groups almost never hit.
  fc.tuple(
    fc.constantFrom("::ffff:", "::FFFF:", "0::ffff:", "0:0:0:0:0:ffff:", "0000:0:0:0:0:FfFf:", "::fffe:", "::1:ffff:", "1::ffff:", "::ffff:0:", "::"),
    fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 256 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `${a}.${b}.0.1`),
      fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => `${a.toString(16)}:${b.toString(16)}`),
      fc.integer({ min: 0, max: 0xffff }).map((a) => a.toString(16)),
    ),
  ).map(([prefix, tail]) => prefix + tail),
);

describe("differential: engine vs reference", () => {
  it("isIP and cidrContains on addresses in many textual forms", () => {
    fc.assert(fc.property(ipText, ipText, fc.integer({ min: -2, max: 140 }), (a, b, bits) => {
      expect(isIp(a), a).toBe(ref.isIP(a));
      const c = bits < 0 ? a : `${a}/${bits}`;
      expect(cidrContains(c, b), `${c} ${b}`).toBe(ref.cidrContains(c, b));
    }), { numRuns: 30000 });
  });

  it("isIP, isLuhn and isIBAN on random strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => {
      expect(isIp(s), s).toBe(ref.isIP(s));
      expect(isLuhn(s), s).toBe(ref.isLuhn(s));
      expect(isIban(s), s).toBe(ref.isIBAN(s));
    }), { numRuns: 20000 });
  });

  it("isLuhn on digit strings", () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(..."0123456789"), maxLength: 30 }), (s) => {
      expect(isLuhn(s), s).toBe(ref.isLuhn(s));
    }), { numRuns: 20000 });
  });

  it("isIBAN on IBAN-like strings with valid and broken checksums", () => {
    const formats = ref.IBAN_BBAN_FORMATS.split(" ");
    const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    /** A BBAN that follows the country's format (drawing characters from `seed`). */
    const bbanFor = (format: string, seed: number[]) => {
      let out = "", k = 0;
      for (const [, count, kind] of format.slice(2).matchAll(/(\d+)([nac])/g)) {
        for (let i = 0; i < Number(count); i++) {
          const r = seed[k++ % seed.length];
          out += kind === "n" ? String(r % 10) : kind === "a" ? ALNUM[10 + (r % 26)] : ALNUM[r % 36];
        }
      }
      return out;
    };
    const ibanLike = fc.tuple(
      fc.constantFrom(...formats), fc.array(fc.integer({ min: 0, max: 35 }), { minLength: 1, maxLength: 40 }),
      fc.constantFrom("format", "random", "unknown-country", "mutated"), fc.boolean(), fc.constantFrom("", " ", "-", ".", "lower"),
    ).map(([format, seed, shape, fix, sep]) => {
      let cc = format.slice(0, 2);
      let bban = bbanFor(format, seed);
      if (shape === "random") bban = seed.map((r) => ALNUM[r]).join("");
      if (shape === "unknown-country") cc = "Q" + ALNUM[10 + (seed[0] % 26)];
      if (shape === "mutated") bban = bban.slice(0, -1) + ALNUM[(seed[0] + 1) % 36] + (seed.length % 2 ? "1" : "");
      // Check digits that make mod 97 equal 1, or arbitrary ones.
      let check: string;
      if (fix) {
        let rest = 0;
        for (const ch of bban + cc + "00") { const v = parseInt(ch, 36); rest = v < 10 ? (rest * 10 + v) % 97 : (rest * 100 + v) % 97; }
        check = String(98 - rest).padStart(2, "0");
      } else check = String(seed[0] * 2 % 100).padStart(2, "0");
      let s = cc + check + bban;
      if (sep === "lower") s = s.toLowerCase();
      else if (sep) s = s.replace(/(.{4})/g, `$1${sep}`);
      return s;
    });
    let valid = 0;
    fc.assert(fc.property(ibanLike, (s) => {
      const want = ref.isIBAN(s);
      if (want) valid++;
      expect(isIban(s), s).toBe(want);
    }), { numRuns: 30000 });
    expect(valid).toBeGreaterThan(1000);
  });
});
