// The conformance corpus on real Deno: `deno test -A conformance/hosts/deno/conformance_test.ts`.
// Every file of conformance/cases/** (policy-error files aside: they test the compiler, once, in
// conformance.test.ts) is compiled here, in Deno, by compiler/index.ts, and each case runs through
// the Deno host with the runner's own comparison; one Deno test per file, one step per case,
// honouring conformance/skips/deno.yaml (a skipped case that passes fails as stale). Output: test
// results and a last line `conformance deno: N cases, P passed, S skipped, F failed` that
// conformance/deno.test.ts checks against the corpus size. With AEGIS_BUNDLE_DIGESTS naming a JSON
// file of {"<file path>": "sha256:..."} (bundles compiled by Node), each bundle compiled in Deno
// must have the same digest: one bundle, every host.
import { caseId, CorpusSession, compileCorpusFile, loadCorpus, loadSkips, type CaseResult } from "../../runner.ts";
import { DenoHost } from "./host.ts";

// Only what this file uses of the Deno namespace, so that tsc (without Deno's types) checks it too.
interface TestStep { step(name: string, fn: () => Promise<void> | void): Promise<boolean> }
declare const Deno: {
  test(name: string, fn: (t: TestStep) => Promise<void> | void): void;
  env: { get(name: string): string | undefined };
  readTextFileSync(path: string): string;
};

const corpus = loadCorpus().filter((f) => !f.wantCompileErrors);
const skips = new Map(loadSkips("deno").map((s) => [s.test, s]));
const session = new CorpusSession(new DenoHost());
const tally = { cases: 0, passed: 0, skipped: 0, failed: 0 };
const digestsFile = Deno.env.get("AEGIS_BUNDLE_DIGESTS");
const nodeDigests: Record<string, string> | null = digestsFile ? JSON.parse(Deno.readTextFileSync(digestsFile)) : null;

function explain(r: CaseResult): string {
  return [`${r.file}: ${r.case}: ${r.message ?? "failed"}`, `  expected: ${r.expected ?? "-"}`, `  got:      ${r.got ?? "-"}`].join("\n");
}

for (const file of corpus) {
  Deno.test(file.path, async (t) => {
    if (nodeDigests) {
      const { digest } = await compileCorpusFile(file);
      if (nodeDigests[file.path] !== digest) {
        throw new Error(`${file.path}: the bundle compiled in Deno has digest ${digest}, Node's has ${nodeDigests[file.path] ?? "none"}`);
      }
    }
    for (const c of file.cases) {
      await t.step(c.name, async () => {
        tally.cases++;
        const r = await session.runCase(file, c);
        const skip = skips.get(caseId(file, c));
        if (skip) {
          if (r.ok) {
            tally.failed++;
            throw new Error(`stale skip in conformance/skips/deno.yaml: ${skip.test} now passes; remove it`);
          }
          tally.skipped++;
          return;
        }
        if (!r.ok) {
          tally.failed++;
          throw new Error(explain(r));
        }
        tally.passed++;
      });
    }
  });
}

Deno.test("summary", () => {
  console.log(`conformance deno: ${tally.cases} cases, ${tally.passed} passed, ${tally.skipped} skipped, ${tally.failed} failed`);
});
