// One vitest test per golden case for a host, shared by every host's test file
// (conformance.test.ts, chromium.test.ts, component.test.ts, proxy-wasm.test.ts): run the case on
// the host's session, honour conformance/skips/<host>.yaml (a skipped case that passes fails as a
// stale skip), count, fail with the expected and actual bytes, and print one summary line per host.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caseId, loadSkips, type CaseResult, type CorpusCase, type CorpusFile, type CorpusSession, type Skip } from "./runner.ts";

/**
 * Register, inside the current describe block, one describe per case file and one test per case
 * of `corpus` on the host `session()` gives (a getter: a browser host exists only after its
 * beforeAll). `beforeFile` runs once before a file's cases (a host that batches a file's requests).
 */
export function describeCorpusCases(
  hostName: string,
  corpus: CorpusFile[],
  session: () => CorpusSession,
  beforeFile?: (file: CorpusFile) => Promise<void>,
): void {
  const skips = skipsOf(hostName);
  const tally = newTally();
  afterAll(() => {
    console.log(tallyLine(hostName, tally));
  });
  for (const file of corpus.filter((f) => !f.wantCompileErrors)) {
    describe(file.path, () => {
      if (beforeFile) beforeAll(() => beforeFile(file));
      for (const c of file.cases) {
        it(c.name, async (ctx) => {
          await checkCase(session(), skips, file, c, ctx, tally);
        });
      }
    });
  }
}

/** Cases run, passed and skipped on one host (printed once per host). */
interface HostTally { cases: number; passed: number; skipped: number; records: number }

/** A fresh tally. */
function newTally(): HostTally {
  return { cases: 0, passed: 0, skipped: 0, records: 0 };
}

/** The host's skips by case id. */
function skipsOf(hostName: string): Map<string, Skip> {
  return new Map(loadSkips(hostName).map((s) => [s.test, s]));
}

/** A failed case as the test report shows it. */
export function explainResult(r: CaseResult): string {
  return [`${r.file}: ${r.case}: ${r.message ?? "failed"}`, `  expected: ${r.expected ?? "-"}`, `  got:      ${r.got ?? "-"}`].join("\n");
}

/** The summary line of a host. */
function tallyLine(hostName: string, tally: HostTally): string {
  return `conformance ${hostName}: ${tally.cases} cases (${tally.records} with records), ${tally.passed} passed, ${tally.skipped} skipped`;
}

/** Run case `c` of `file` on `session` inside a vitest test (`ctx` is the test context). */
async function checkCase(
  session: CorpusSession,
  skips: Map<string, Skip>,
  file: CorpusFile,
  c: CorpusCase,
  ctx: { skip(note?: string): void },
  tally: HostTally,
): Promise<void> {
  tally.cases++;
  if (c.record) tally.records++;
  const r = await session.runCase(file, c);
  const skip = skips.get(caseId(file, c));
  if (skip) {
    expect(r.ok, `stale skip in conformance/skips/${session.host.name}.yaml: ${skip.test} now passes; remove it`).toBe(false);
    tally.skipped++;
    ctx.skip(`${skip.reason} (${skip.issue})`);
    return;
  }
  if (r.ok) tally.passed++;
  expect(r.ok, explainResult(r)).toBe(true);
}
