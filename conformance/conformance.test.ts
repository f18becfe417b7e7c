// The conformance corpus on every host this machine can run: the Node binding (wasm engine) and
// the reference interpreter, one vitest test per case, honouring conformance/skips/<host>.yaml
// (a skipped case that passes fails as a stale skip). Policy-error files run once, through the
// compiler. Input: conformance/cases; output: test results and one summary line per host.
import { describe, it, expect, afterAll } from "vitest";
import { caseId, checkCompileErrors, CorpusSession, loadCorpus, loadSkips, type CaseResult, type ConformanceHost } from "./runner.ts";
import { createNodeHost } from "./hosts/node.ts";
import { createReferenceHost } from "./hosts/reference.ts";

const corpus = loadCorpus();

const hosts: ConformanceHost[] = [createNodeHost(), createReferenceHost()];

function explain(r: CaseResult): string {
  return [`${r.file}: ${r.case}: ${r.message ?? "failed"}`, `  expected: ${r.expected ?? "-"}`, `  got:      ${r.got ?? "-"}`].join("\n");
}

describe("conformance compiler (policy errors)", () => {
  for (const file of corpus.filter((f) => f.wantCompileErrors)) {
    it(file.path, async () => {
      const r = await checkCompileErrors(file);
      expect(r.ok, explain(r)).toBe(true);
    });
  }
});

for (const host of hosts) {
  const skips = new Map(loadSkips(host.name).map((s) => [s.test, s]));
  const session = new CorpusSession(host);
  const tally = { cases: 0, passed: 0, skipped: 0 };

  describe(`conformance ${host.name}`, () => {
    afterAll(() => {
      console.log(`conformance ${host.name}: ${tally.cases} cases, ${tally.passed} passed, ${tally.skipped} skipped`);
    });

    for (const file of corpus.filter((f) => !f.wantCompileErrors)) {
      describe(file.path, () => {
        for (const c of file.cases) {
          it(c.name, async (ctx) => {
            tally.cases++;
            const r = await session.runCase(file, c);
            const skip = skips.get(caseId(file, c));
            if (skip) {
              expect(r.ok, `stale skip in conformance/skips/${host.name}.yaml: ${skip.test} now passes; remove it`).toBe(false);
              tally.skipped++;
              ctx.skip(`${skip.reason} (${skip.issue})`);
              return;
            }
            if (r.ok) tally.passed++;
            expect(r.ok, explain(r)).toBe(true);
          });
        }
      });
    }
  });
}
