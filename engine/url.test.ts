// Tests for engine/url.ts and engine/idna.ts: the web-platform-tests URL suites (urltestdata.json,
// toascii.json), IdnaTestV2.json against Node's parser, the skip list conformance/skips/url.yaml
// (unlisted failures and stale skips both fail), a fuzz that the engine never traps and never
// accepts a URL Node rejects or serializes a host differently, and the staleness of the
// generated IDNA tables.
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, domainToUnicode } from "node:url";
import { parse as parseYaml } from "yaml";
import fc from "fast-check";
import { compileAssemblyScript } from "./testing/compile.ts";
import { urlParts } from "../compiler/reference/checks.ts";
import { generateIdnaTables, probeIdna, lookupDomain, markValues, OMITTED_RANGES } from "../scripts/gen-idna.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = join(repoRoot, "..", "shared", "testdata", "url");
const SPECIAL = new Set(["http", "https", "ws", "wss", "ftp", "file"]);

type Parts = { scheme: string; host: string; port: string } | null;
type Exports = Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
let wasm: Exports;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function engineParseBytes(bytes: Uint8Array): Parts {
  const p = wasm.inputPtr(bytes.length);
  new Uint8Array(wasm.memory.buffer, p, bytes.length).set(bytes);
  if (!wasm.testUrlParse(bytes.length)) return null;
  const text = (ptr: number, len: number) => decoder.decode(new Uint8Array(wasm.memory.buffer, ptr, len));
  return {
    scheme: text(wasm.testUrlSchemePtr(), wasm.testUrlSchemeLen()),
    host: text(wasm.testUrlHostPtr(), wasm.testUrlHostLen()),
    port: text(wasm.testUrlPortPtr(), wasm.testUrlPortLen()),
  };
}
const engineParse = (s: string): Parts => engineParseBytes(encoder.encode(s));

interface UrlCase { input: string; base?: string | null; failure?: boolean; protocol?: string; hostname?: string; port?: string }

/**
 * The urltestdata.json cases that apply to `url()` (no base): the input must be an absolute URL
 * with a special scheme. A case with a base counts only when the base cannot influence the result:
 * its scheme differs from the input's, or the input continues with `//` after the scheme (for
 * `file:`, two slashes of either kind). Other inputs with a base are relative references.
 */
function selectUrlCases(): { input: string; want: Parts }[] {
  const all = JSON.parse(readFileSync(join(dataDir, "urltestdata.json"), "utf8")) as (string | UrlCase)[];
  const out: { input: string; want: Parts }[] = [];
  for (const c of all) {
    if (typeof c === "string") continue;
    const stripped = c.input.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "").replace(/[\t\n\r]/g, "");
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(stripped);
    if (!m) continue;
    const scheme = m[1].toLowerCase();
    if (!SPECIAL.has(scheme)) continue;
    if (c.base) {
      const baseScheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(c.base)?.[1].toLowerCase();
      const rest = m[2];
      const authority = scheme === "file" ? /^[/\\]{2}/.test(rest) : rest.startsWith("//");
      if (baseScheme === scheme && !authority) continue;
    }
    const want: Parts = c.failure ? null : { scheme: c.protocol!.slice(0, -1), host: c.hostname!, port: c.port! };
    out.push({ input: c.input, want });
  }
  return out;
}

interface Skip { suite: string; input: string; reason: string }
const skips = (parseYaml(readFileSync(join(repoRoot, "conformance", "skips", "url.yaml"), "utf8")) as { skips: Skip[] }).skips;
const skipped = (suite: string, input: string) => skips.some((s) => s.suite === suite && s.input === input);

/** Run a suite; returns failures that are not skipped and skips that now pass. */
function runSuite(suite: string, cases: { input: string; want: Parts }[], run: (input: string) => Parts) {
  let passed = 0, skippedCount = 0;
  const unexpected: string[] = [];
  const stale: string[] = [];
  for (const c of cases) {
    const got = run(c.input);
    const ok = JSON.stringify(got) === JSON.stringify(c.want);
    const isSkipped = skipped(suite, c.input);
    if (isSkipped) skippedCount++;
    if (ok) passed++;
    if (ok && isSkipped) stale.push(c.input);
    if (!ok && !isSkipped) unexpected.push(`${JSON.stringify(c.input)}: got ${JSON.stringify(got)}, want ${JSON.stringify(c.want)}`);
  }
  console.log(`${suite}: ${cases.length} ran, ${passed} passed, ${skippedCount} skipped`);
  return { unexpected, stale };
}

beforeAll(async () => {
  wasm = (await compileAssemblyScript("engine/testing/checks-entry.ts")).exports as unknown as Exports;
});

describe("urlParse on the WPT suites", () => {
  it("urltestdata.json: every absolute special-scheme case", () => {
    const cases = selectUrlCases();
    expect(cases.length).toBeGreaterThan(450);
    const { unexpected, stale } = runSuite("urltestdata", cases, engineParse);
    expect(unexpected).toEqual([]);
    expect(stale).toEqual([]);
  });

  it("toascii.json via https://{input}/x", () => {
    const all = JSON.parse(readFileSync(join(dataDir, "toascii.json"), "utf8")) as (string | { input: string; output: string | null })[];
    const cases = all.filter((c) => typeof c !== "string").map((c) => c as { input: string; output: string | null });
    const { unexpected, stale } = runSuite("toascii", cases.map((c) => ({
      input: c.input,
      want: c.output === null ? null : { scheme: "https", host: c.output, port: "" },
    })), (input) => engineParse(`https://${input}/x`));
    expect(unexpected).toEqual([]);
    expect(stale).toEqual([]);
  });

  it("every skip names a case of a suite", () => {
    const urlInputs = new Set(selectUrlCases().map((c) => c.input));
    const toascii = JSON.parse(readFileSync(join(dataDir, "toascii.json"), "utf8")) as ({ input: string } | string)[];
    const toasciiInputs = new Set(toascii.filter((c) => typeof c !== "string").map((c) => (c as { input: string }).input));
    for (const s of skips) {
      expect(s.reason.length).toBeGreaterThan(10);
      expect(s.suite === "urltestdata" ? urlInputs.has(s.input) : s.suite === "toascii" ? toasciiInputs.has(s.input) : false, s.input).toBe(true);
    }
  });

  it("IdnaTestV2.json: the engine agrees with Node's URL parser (except the omitted blocks)", () => {
    const all = JSON.parse(readFileSync(join(dataDir, "IdnaTestV2.json"), "utf8")) as (string | { input: string; output: string | null })[];
    let ran = 0, matchesExpected = 0, agreesWithNode = 0;
    const disagreements: string[] = [];
    for (const c of all) {
      if (typeof c === "string") continue;
      ran++;
      const url = `https://${c.input}/x`;
      const got = engineParse(url)?.host ?? null;
      const node = urlParts(url)?.host ?? null;
      if (got === c.output) matchesExpected++;
      if (got === node) agreesWithNode++;
      else if (!(got === null && usesOmittedBlock(c.input))) disagreements.push(`${JSON.stringify(c.input)}: engine ${got}, node ${node}`);
    }
    console.log(`IdnaTestV2: ${ran} ran, ${matchesExpected} match the expected output, ${agreesWithNode} agree with Node`);
    expect(disagreements).toEqual([]);
  });
});

function usesOmittedBlock(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (OMITTED_RANGES.some(([a, b]) => cp >= a && cp <= b)) return true;
  }
  return false;
}

/** R, AL or AN code points make a bidi domain; Node 20's bidi check is laxer than UTS #46. */
const BIDI_CHARS = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe]|[\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;

describe("urlParse against Node's URL", () => {
  it("unit cases: parts as new URL gives them", () => {
    const cases = [
      "https://Example.COM:443/x", "http://example.com:8080", "HTTP://a.b/", "ws://x:80", "wss://x:443", "ftp://x:21",
      "file:///etc/passwd", "file://localhost/x", "file://HOST/x", "http://0x7f.1/", "http://[0:0::1]/", "http://[::ffff:1.2.3.4]:81",
      "http://user:pw@host.example/", "http://a@b@c/", "https://xn--bcher-kva.de/", "https://Bücher.de/", "http:\\\\x\\y",
      "http://192.168.0.257/", "http://1.2.3.4.5/", "http://0.0.0.0x100/", "https://faß.ExAmPlE/", "http://%41.com/",
      "http://a%2eb/", "http://[1::2::3]/", "http://host:65536/", "http://host:0000080/", "javascript:alert(1)", "mailto:x@y",
      "http://", "http://@x", "http://x@", " \t http://x.y/ \n", "h\ttt\np://x.y/", "http://a..b/", "http://a.b./", "file://C:/x",
    ];
    for (const s of cases) expect(engineParse(s), s).toEqual(urlParts(s));
  });

  it("random URLs: never a trap; a success agrees with Node; a failure where Node succeeds only for bidi domains", () => {
    const pieces = [
      "http://", "https://", "ws:", "file://", "FTP:/", "\\", "/", "@", ":", "[", "]", "::", "1", "0x", "0", "255", ".", "%",
      "%41", "%zz", "%e2%80%8c", "xn--", "a", "B", "é", "ß", "\u0301", "\u05d0", "\u0628", "\u200c", "\u200d", "\u094d", "\uff21",
      "\u3002", "?", "#", " ", "\t", "\u0000", "\u00ad", "65536", "80", "443", "💩", "e\u0301", "ǅ", "İ", "\u1e9e", "xn--zca",
      "xn--a", "[::1]", "[1:2::3]", "1.2.3.4", "0x7f.1", "\u0660", "9", "\u06f0", "\u1820",
    ];
    fc.assert(fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 10 }), (parts) => {
      const s = parts.join("");
      const got = engineParse(s);
      const want = urlParts(s);
      if (got !== null) expect(got, s).toEqual(want);
      else if (want !== null) expect(BIDI_CHARS.test(domainToUnicode(want.host)) || usesOmittedBlock(s), s).toBe(true);
    }), { numRuns: 20000 });
  });

  it("random bytes (including invalid UTF-8) never trap", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom("http://", "file://", "https://x/", ""), (bytes, prefix) => {
      const full = new Uint8Array([...encoder.encode(prefix), ...bytes]);
      const got = engineParseBytes(full);
      if (got !== null) expect(SPECIAL.has(got.scheme)).toBe(true);
    }), { numRuns: 20000 });
  });

  it("long hosts and many labels", () => {
    const long = "a".repeat(70000);
    expect(engineParse(`http://${long}/`)?.host.length).toBe(70000);
    expect(engineParse(`http://${"é".repeat(40000)}/`)).toBeNull(); // beyond the IDNA input limit: fails closed
    const labels = Array.from({ length: 500 }, (_, i) => `ü${i}`).join(".");
    expect(engineParse(`https://${labels}/`)).toEqual(urlParts(`https://${labels}/`));
  });
});

describe("generated IDNA tables", () => {
  it("engine/idna-tables.ts is what scripts/gen-idna.ts generates", () => {
    const committed = readFileSync(join(repoRoot, "engine", "idna-tables.ts"), "utf8");
    expect(committed === generateIdnaTables(), "engine/idna-tables.ts is stale: run `npx tsx scripts/gen-idna.ts`").toBe(true);
  });

  it("the engine's lookups decode to the probed data at every code point", () => {
    // The tables are a compressed encoding of what scripts/gen-idna.ts probes; decoding must lose nothing.
    const data = probeIdna();
    const MAX_CP = 0x10ffff;
    const perCp = (steps: [number, number][]) => {
      const out = new Uint8Array(MAX_CP + 1);
      steps.forEach(([start, value], i) => out.fill(value, start, i + 1 < steps.length ? steps[i + 1][0] : MAX_CP + 1));
      return out;
    };
    const bidi = perCp(data.bidiSteps), join = perCp(data.joinSteps), mark = markValues(data.marks);
    // The class lookups are exact on the code points they can be asked about (see lookupDomain).
    const domain = lookupDomain(data);
    let domainSize = 0;
    const decomp = new Map(data.decomp.map((d) => [d.cp, d]));
    const decompose = (cp: number, depth: number): number[] => {
      if (cp >= 0xac00 && cp <= 0xd7a3) return [...String.fromCodePoint(cp).normalize("NFD")].map((c) => c.codePointAt(0)!);
      const d = cp < 0xc0 || depth > 8 ? undefined : decomp.get(cp);
      return d ? [...decompose(d.first, depth + 1), d.second] : [cp];
    };
    const buf = wasm.inputPtr(1024);
    const out = (n: number) => [...new Uint32Array(wasm.memory.buffer, buf, n)];
    const wrong: string[] = [];
    const check = (what: string, cp: number, got: unknown, want: unknown) => {
      if (wrong.length < 20 && JSON.stringify(got) !== JSON.stringify(want)) {
        wrong.push(`${what} U+${cp.toString(16)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    };
    for (let cp = 0; cp <= MAX_CP; cp++) {
      const status = data.status[cp];
      const n = wasm.testIdnaMap(cp);
      const want = status === "X" ? -1 : status === "I" ? [] : status === "V" ? [cp] : [...status.slice(1)].map((c) => c.codePointAt(0)!);
      check("mapping", cp, n < 0 ? n : out(n), want);
      if (cp >= 0xc0) check("decomposition", cp, out(wasm.testIdnaDecompose(cp)), decompose(cp, 0));
      if (!domain[cp]) continue;
      domainSize++;
      check("ccc rank", cp, wasm.testIdnaCccRank(cp), data.cccRank.get(cp) ?? 0);
      check("mark tag", cp, wasm.testIdnaMarkTag(cp), mark[cp]);
      check("bidi class", cp, wasm.testIdnaBidiClass(cp), bidi[cp]);
      check("joining type", cp, wasm.testIdnaJoiningType(cp), mark[cp] === 1 || mark[cp] === 3 ? 4 : join[cp]);
    }
    expect(domainSize).toBeGreaterThan(100_000);
    // Composition: every decomposition pair (the first record wins, exclusions never compose), and
    // pairs that do not compose.
    const composite = new Map<string, number>();
    for (const d of [...data.decomp].reverse()) if (!d.excluded) composite.set(`${d.first},${d.second}`, d.cp);
    const firsts = [...new Set(data.decomp.map((d) => d.first))];
    const seconds = [...new Set(data.decomp.map((d) => d.second))];
    const pairs = [...data.decomp.map((d) => [d.first, d.second]), ...firsts.flatMap((a, i) => seconds.filter((_, j) => (i + j) % 7 === 0).map((b) => [a, b])),
      [0x61, 0x61], [0x61, 0x10ffff], [0x10ffff, 0x301]];
    for (const [a, b] of pairs) check(`compose U+${b.toString(16)} after`, a, wasm.testIdnaCompose(a, b), composite.get(`${a},${b}`) ?? 0);
    expect(wrong).toEqual([]);
  });
});
