// Structure of the conformance corpus, checked without any engine: every case file parses and
// validates, ids are unique, every topic the corpus promises is present, and the corpus is large
// enough. Input: conformance/cases; output: test failures naming the offending file.
import { describe, it, expect } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { casesDir, caseCount, caseId, loadCorpus, loadSkips, parseCorpusFile } from "./runner.ts";

const TOPICS = [
  "effects", "precedence", "default", "shadow", "agents", "selectors", "expressions", "fail-closed", "egress",
  "dlp", "redact", "regex", "field-checks", "requests", "policy-errors",
];

describe("conformance corpus", () => {
  const files = readdirSync(casesDir, { recursive: true }).map(String).filter((f) => f.endsWith(".yaml")).sort();

  for (const f of files) {
    it(`${f} is a valid case file`, () => {
      const rel = f.split(path.sep).join("/");
      const file = parseCorpusFile(rel, readFileSync(path.join(casesDir, f), "utf8"));
      expect(file.cases.length + (file.wantCompileErrors ? 1 : 0)).toBeGreaterThan(0);
    });
  }

  it("has every topic, at least 220 cases and unique case ids", () => {
    const corpus = loadCorpus();
    const topics = new Set(corpus.map((f) => f.path.split("/")[0]));
    for (const t of TOPICS) expect(topics.has(t), `topic ${t}`).toBe(true);
    expect(caseCount(corpus)).toBeGreaterThanOrEqual(220);
    const ids = corpus.flatMap((f) => f.cases.map((c) => caseId(f, c)));
    expect(new Set(ids).size).toBe(ids.length);
    for (const f of corpus) {
      if (f.path.startsWith("policy-errors/")) expect(f.wantCompileErrors, f.path).toBeDefined();
      else expect(f.wantCompileErrors, f.path).toBeUndefined();
    }
  });

  it("skip files name existing cases", () => {
    const ids = new Set(loadCorpus().flatMap((f) => (f.wantCompileErrors ? [caseId(f, "compile errors")] : f.cases.map((c) => caseId(f, c)))));
    for (const host of ["node", "reference"]) {
      for (const s of loadSkips(host)) expect(ids.has(s.test), `${host}: ${s.test}`).toBe(true);
    }
  });

  it("rejects malformed case files with their path", () => {
    const policy = "policy: |-\n  aegis: 1\n";
    expect(() => parseCorpusFile("x/bad.yaml", "- 1")).toThrow(/^x\/bad\.yaml: /);
    expect(() => parseCorpusFile("x/bad.yaml", `${policy}cases:\n  - name: a\n    request: {}\n`)).toThrow(/exactly one of want, want_error/);
    expect(() => parseCorpusFile("x/bad.yaml", `${policy}cases:\n  - name: a\n    request: {}\n    want_error: {code: nope}\n`)).toThrow(/not a request error code/);
    expect(() => parseCorpusFile("x/bad.yaml", `${policy}cases:\n  - name: a\n    request: {}\n    wnat: {}\n`)).toThrow(/unknown key `wnat`/);
    const want = "{decision: allow, enforced: true, rule: r, reason: x, policy: p, policy_version: '1'}";
    expect(() => parseCorpusFile("x/bad.yaml", `${policy}cases:\n  - name: a\n    request: {}\n    want: ${want}\n  - name: a\n    request: {}\n    want: ${want}\n`)).toThrow(/duplicate case name/);
    expect(() => parseCorpusFile("x/bad.yaml", `${policy}cases:\n  - name: a\n    request: {}\n    want: {decision: sanitize, enforced: true, rule: r, reason: x, policy: p, policy_version: '1'}\n`)).toThrow(/redactions is required/);
    expect(() => parseCorpusFile("x/bad.yaml", `${policy}cases:\n  - name: a\n    request: {}\n    want: {decision: allow, enforced: true, rule: r, reason: x, policy: p, policy_version: '1', params: {}}\n`)).toThrow(/only belong to sanitize/);
  });
});
