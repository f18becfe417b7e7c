// Tests of the conformance runner itself, with fake hosts: that expected bytes follow the canonical
// key order, that any byte difference, wrong error code or offset fails a case, that raw request
// bytes decode as documented, and that the bundle digest is found by walking section headers.
import { describe, it, expect } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  bundleDigest, checkCompileErrors, compileCorpusFile, CorpusSession, decodeRequestBytes, errorJsonBytes, expectedBytes,
  loadSkips, parseCorpusFile, runCorpus, type ConformanceHost, type CorpusCase,
} from "./runner.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

const POLICY = `policy: |-
  aegis: 1
  policy: p
  version: "1"
  rules:
    - id: r
      effect: allow
      tool: t
`;

/** A host that answers every request with the bytes `reply` computes. */
function fakeHost(reply: (request: Uint8Array) => Uint8Array | Error): ConformanceHost & { loads: number } {
  return {
    name: "fake",
    loads: 0,
    async load() { this.loads++; },
    async evaluate(request) {
      const r = reply(request);
      if (r instanceof Error) throw r;
      return r;
    },
  };
}

describe("decodeRequestBytes", () => {
  it("keeps UTF-8 and turns \\xHH into single bytes", () => {
    expect([...decodeRequestBytes("a\\xffé\\\\")]).toEqual([0x61, 0xff, 0xc3, 0xa9, 0x5c]);
    expect([...decodeRequestBytes("😀")]).toEqual([0xf0, 0x9f, 0x98, 0x80]);
  });
  it("rejects other escapes", () => {
    expect(() => decodeRequestBytes("\\n")).toThrow(/bad escape/);
  });
});

describe("expectedBytes", () => {
  const base = { decision: "allow", enforced: true, rule: "r", reason: "ok \"q\"", policy: "p", policy_version: "1" } as const;
  it("writes the keys in canonical order and leaves out empty shadow lists", () => {
    const c: CorpusCase = { name: "x", request: new Uint8Array(), want: { ...base } };
    expect(text(expectedBytes(c, "sha256:ab"))).toBe(
      '{"decision":"allow","enforced":true,"rule":"r","reason":"ok \\"q\\"","policy":"p","policy_version":"1","bundle":"sha256:ab"}');
  });
  it("adds shadow, redactions and params for sanitize, and splices params_json verbatim", () => {
    const c: CorpusCase = {
      name: "x", request: new Uint8Array(),
      want: { ...base, decision: "sanitize", shadow: [{ rule: "s", effect: "deny" }], redactions: [], params_json: '{"n":1.50}' },
    };
    expect(text(expectedBytes(c, "d"))).toBe(
      '{"decision":"sanitize","enforced":true,"rule":"r","reason":"ok \\"q\\"","policy":"p","policy_version":"1","bundle":"d",' +
      '"shadow":[{"rule":"s","effect":"deny"}],"redactions":[],"params":{"n":1.50}}');
  });
});

describe("bundleDigest", () => {
  function bundle(sections: [number, Uint8Array][]): Uint8Array {
    const parts: number[] = [0x41, 0x45, 0x47, 0x53, 1, 0, 0, 0, 0, 0, 0, 0, sections.length, 0, 0, 0];
    for (const [id, payload] of sections) {
      parts.push(id, 0, 0, 0, payload.length & 0xff, (payload.length >> 8) & 0xff, 0, 0, ...payload);
    }
    return new Uint8Array(parts);
  }
  const digest = new Uint8Array(32).map((_, i) => i);
  it("finds the DIGEST section after other sections", () => {
    expect(bundleDigest(bundle([[1, new Uint8Array(5)], [14, digest]]))).toBe("sha256:" + Buffer.from(digest).toString("hex"));
  });
  it("throws on a missing or truncated DIGEST section", () => {
    expect(() => bundleDigest(bundle([[1, new Uint8Array(5)]]))).toThrow(/no DIGEST/);
    expect(() => bundleDigest(bundle([[14, digest]]).subarray(0, 40))).toThrow(/truncated/);
  });
});

describe("CorpusSession", () => {
  const file = parseCorpusFile("t/fake.yaml", `${POLICY}cases:
  - name: allowed
    request: {agent: {id: a}, tool: t, action: x}
    want: {decision: allow, enforced: true, rule: r, reason: "allowed by rule \`r\`", policy: p, policy_version: "1"}
  - name: bad json
    request_raw: "{"
    want_error: {code: invalid_json, offset: 1}
`);
  const [allowed, badJson] = file.cases;

  it("passes exact bytes and fails on any difference", async () => {
    const { digest } = await compileCorpusFile(file);
    const good = expectedBytes(allowed, digest);
    expect((await new CorpusSession(fakeHost(() => good)).runCase(file, allowed)).ok).toBe(true);
    const spaced = new TextEncoder().encode(text(good).replace(",", ", "));
    const r = await new CorpusSession(fakeHost(() => spaced)).runCase(file, allowed);
    expect(r.ok).toBe(false);
    expect(r.message).toBe("decision bytes differ");
  });

  it("checks the error code, the offset and the error JSON shape", async () => {
    const run = async (bytes: Uint8Array) => (await new CorpusSession(fakeHost(() => bytes)).runCase(file, badJson));
    expect((await run(errorJsonBytes("invalid_json", "unexpected end", 1))).ok).toBe(true);
    expect((await run(errorJsonBytes("invalid_utf8", "x", 1))).message).toMatch(/error code/);
    expect((await run(errorJsonBytes("invalid_json", "x", 0))).message).toMatch(/offset 0, want 1/);
    expect((await run(errorJsonBytes("invalid_json", "x"))).message).toMatch(/offset undefined/);
    expect((await run(new TextEncoder().encode('{"error":{"message":"x","code":"invalid_json","offset":1}}'))).ok).toBe(false);
    expect((await run(new TextEncoder().encode('{"decision":"allow"}'))).ok).toBe(false);
  });

  it("reports a throwing host as a failure and loads each file once", async () => {
    const host = fakeHost(() => new Error("boom"));
    const results = await runCorpus(host, [file]);
    expect(results.failed).toBe(2);
    expect(results.results[0].message).toBe("the host threw: boom");
    expect(host.loads).toBe(1);
  });
});

describe("checkCompileErrors", () => {
  const broken = (want: string) => parseCorpusFile("t/broken.yaml", `policy: |-
  aegis: 1
  policy: p
  version: "1"
  rules:
    - id: r
      effect: permit
want_compile_errors:
  - ${want}
`);
  it("accepts the reported error and rejects a wrong position or message", async () => {
    expect((await checkCompileErrors(broken('{line: 6, col: 13, message: "`permit`"}'))).ok).toBe(true);
    expect((await checkCompileErrors(broken("{line: 5}"))).ok).toBe(false);
    expect((await checkCompileErrors(broken("{line: 6, col: 12}"))).ok).toBe(false);
    expect((await checkCompileErrors(broken('{line: 6, message: "no such thing"}'))).ok).toBe(false);
  });
});

describe("loadSkips", () => {
  it("reads {test, reason, issue} entries and rejects other keys", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "skips-"));
    writeFileSync(path.join(dir, "h.yaml"), "- {test: 'a.yaml: b', reason: r, issue: '#1'}\n");
    expect(loadSkips("h", dir)).toEqual([{ test: "a.yaml: b", reason: "r", issue: "#1" }]);
    writeFileSync(path.join(dir, "bad.yaml"), "- {test: x, why: r}\n");
    expect(() => loadSkips("bad", dir)).toThrow(/unknown key `why`/);
    expect(loadSkips("missing", dir)).toEqual([]);
  });
});
