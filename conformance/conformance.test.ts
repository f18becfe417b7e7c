// The conformance corpus on every host this machine can run: the Node binding (wasm engine) and
// the reference interpreter, one vitest test per case, honouring conformance/skips/<host>.yaml
// (a skipped case that passes fails as a stale skip). Policy-error files run once, through the
// compiler. Input: conformance/cases; output: test results and one summary line per host.
import { describe, it, expect } from "vitest";
import { checkCompileErrors, CorpusSession, loadCorpus, type ConformanceHost } from "./runner.ts";
import { describeCorpusCases, explainResult } from "./case-test.ts";
import { createNodeHost } from "./hosts/node.ts";
import { createReferenceHost } from "./hosts/reference.ts";

const corpus = loadCorpus();

const hosts: ConformanceHost[] = [createNodeHost(), createReferenceHost()];


describe("conformance compiler (policy errors)", () => {
  for (const file of corpus.filter((f) => f.wantCompileErrors)) {
    it(file.path, async () => {
      const r = await checkCompileErrors(file);
      expect(r.ok, explainResult(r)).toBe(true);
    });
  }
});

for (const host of hosts) {
  const session = new CorpusSession(host);
  describe(`conformance ${host.name}`, () => {
    describeCorpusCases(host.name, corpus, () => session);
  });
}
