// Tests for the reference field checks (compiler/reference/checks.ts) on the shared suites: WPT
// urltestdata.json / toascii.json through Node's URL (Node's deviations are the entries of
// conformance/skips/url.yaml, which the engine shares), the IBAN data with
// conformance/skips/iban.yaml, and the egress host rule.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { cidrContains, hostAllowed, isIBAN, isIP, isLuhn, isURL, urlParts } from "./checks.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const testdata = join(repoRoot, "..", "shared", "testdata");
const SPECIAL = new Set(["http", "https", "ws", "wss", "ftp", "file"]);

const urlSkips = (parseYaml(readFileSync(join(repoRoot, "conformance", "skips", "url.yaml"), "utf8")) as {
  skips: { suite: string; input: string }[];
}).skips;

describe("urlParts (Node's WHATWG URL)", () => {
  it("urltestdata.json, absolute special-scheme cases: Node deviates only where url.yaml says", () => {
    const all = JSON.parse(readFileSync(join(testdata, "url", "urltestdata.json"), "utf8")) as (string | Record<string, string | boolean | null>)[];
    const deviations: string[] = [];
    let ran = 0;
    for (const c of all) {
      if (typeof c === "string") continue;
      const input = c.input as string;
      const stripped = input.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "").replace(/[\t\n\r]/g, "");
      const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(stripped);
      if (!m || !SPECIAL.has(m[1].toLowerCase())) continue;
      const scheme = m[1].toLowerCase();
      if (c.base) {
        const baseScheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(c.base as string)?.[1].toLowerCase();
        const authority = scheme === "file" ? /^[/\\]{2}/.test(m[2]) : m[2].startsWith("//");
        if (baseScheme === scheme && !authority) continue;
      }
      ran++;
      const want = c.failure ? null : { scheme: (c.protocol as string).slice(0, -1), host: c.hostname, port: c.port };
      const got = urlParts(input);
      expect(isURL(input)).toBe(got !== null);
      if (JSON.stringify(got) !== JSON.stringify(want)) deviations.push(input);
    }
    const listed = urlSkips.filter((s) => s.suite === "urltestdata").map((s) => s.input);
    console.log(`reference urltestdata: ${ran} ran, ${ran - deviations.length} passed, ${deviations.length} Node deviations`);
    expect(deviations.sort()).toEqual(listed.sort());
  });

  it("toascii.json via https://{input}/x: Node deviates only where url.yaml says", () => {
    const all = JSON.parse(readFileSync(join(testdata, "url", "toascii.json"), "utf8")) as (string | { input: string; output: string | null })[];
    const deviations: string[] = [];
    for (const c of all) {
      if (typeof c === "string") continue;
      const host = urlParts(`https://${c.input}/x`)?.host ?? null;
      if (host !== c.output) deviations.push(c.input);
    }
    const listed = urlSkips.filter((s) => s.suite === "toascii").map((s) => s.input);
    expect(deviations.sort()).toEqual(listed.sort());
  });

  it("non-special schemes and garbage are not URLs", () => {
    for (const s of ["mailto:a@b", "javascript:alert(1)", "data:text/plain,x", "urn:isbn:1", "", "example.com", "//x.y/"]) {
      expect(urlParts(s), s).toBeNull();
    }
    expect(urlParts("https://EXAMPLE.com:443/")).toEqual({ scheme: "https", host: "example.com", port: "" });
    expect(urlParts("http://[::1]:8080/")).toEqual({ scheme: "http", host: "[::1]", port: "8080" });
    expect(urlParts("file:///x")).toEqual({ scheme: "file", host: "", port: "" });
  });
});

describe("isIBAN on the shared data", () => {
  it("python-stdnum groups and registry examples, deviations as listed in iban.yaml", () => {
    const skips = (parseYaml(readFileSync(join(repoRoot, "conformance", "skips", "iban.yaml"), "utf8")) as {
      skips: { source: string; case: string }[];
    }).skips;
    const stdnum = JSON.parse(readFileSync(join(testdata, "iban", "stdnum_iban_cases.json"), "utf8")) as {
      groups: { expect: string; cases: string[] }[];
    };
    const cases: { source: string; input: string; valid: boolean }[] = [];
    for (const g of stdnum.groups) for (const c of g.cases) cases.push({ source: "stdnum", input: c, valid: g.expect === "valid" });
    for (const row of readFileSync(join(testdata, "iban", "registry.txt"), "utf8").trim().split("\n").slice(1)) {
      cases.push({ source: "registry", input: row.split("|")[7], valid: true });
    }
    const disagreements = cases.filter((c) => isIBAN(c.input) !== c.valid).map((c) => `${c.source}:${c.input}`);
    expect(disagreements.sort()).toEqual(skips.map((s) => `${s.source}:${s.case}`).sort());
  });
});

describe("isLuhn, isIP, cidrContains", () => {
  it("basic cases", () => {
    expect(isLuhn("79927398713")).toBe(true);
    expect(isLuhn("79927398710")).toBe(false);
    expect(isIP("::ffff:1.2.3.4")).toBe(false); // IPv4-mapped: rejected as in Kubernetes CEL
    expect(isIP("::ffff:102:304")).toBe(false);
    expect(isIP("::fffe:1.2.3.4")).toBe(true);
    expect(isIP("::1.2.3.4")).toBe(true);
    expect(isIP("01.2.3.4")).toBe(false);
    expect(isIP("fe80::1%eth0")).toBe(false);
    expect(cidrContains("10.0.0.0/8", "10.1.2.3")).toBe(true);
    expect(cidrContains("10.0.0.0/8", "::ffff:10.1.2.3")).toBe("invalid_ip");
    expect(cidrContains("::ffff:10.0.0.0/104", "::ffff:10.1.2.3")).toBe("invalid_cidr");
    expect(cidrContains("::ffff:0:0/96", "10.1.2.3")).toBe("invalid_cidr");
    expect(cidrContains("::/0", "::ffff:0:1")).toBe("invalid_ip");
    expect(cidrContains("::/0", "::fffe:0:1")).toBe(true);
    expect(cidrContains("10.0.0.0/33", "10.1.2.3")).toBe("invalid_cidr");
    expect(cidrContains("10.0.0.0/8", "10.1.2")).toBe("invalid_ip");
  });
});

describe("hostAllowed (egress)", () => {
  const entries = [
    { host: "portal.acme-supplier.com", wildcard: false },
    { host: "internal.example", wildcard: true },
    { host: "10.0.0.1", wildcard: false },
    { host: "[::1]", wildcard: false },
    { host: "0.1", wildcard: true },
  ];
  const cases: [string, boolean][] = [
    ["portal.acme-supplier.com", true], ["PORTAL.acme-supplier.com", true], ["portal.acme-supplier.com.", true],
    ["evil.portal.acme-supplier.com", false], ["acme-supplier.com", false], ["portal.acme-supplier.com.evil", false],
    ["a.internal.example", true], ["a.b.internal.example", true], ["a.internal.example.", true], ["internal.example", false],
    [".internal.example", false], ["xinternal.example", false], ["internal.example.evil", false],
    ["10.0.0.1", true], ["10.0.0.2", false], ["[::1]", true], ["[::2]", false],
    ["10.0.1", false], // wildcards never match an IPv4 literal
    ["", false], ["portal.acme-supplier.com..", false],
  ];
  it.each(cases)("%j -> %s", (host, want) => {
    expect(hostAllowed(host, entries)).toBe(want);
  });
});
