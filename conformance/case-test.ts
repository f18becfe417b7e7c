// The body of one vitest test per golden case, shared by every host's test file
// (conformance.test.ts, chromium.test.ts, component.test.ts, proxy-wasm.test.ts): run the case on
// the host's session, honour conformance/skips/<host>.yaml (a skipped case that passes fails as a
// stale skip), count, and fail with the expected and actual bytes.
import { expect } from "vitest";
import { caseId, loadSkips, type CaseResult, type CorpusCase, type CorpusFile, type CorpusSession, type Skip } from "./runner.ts";

/** Cases run, passed and skipped on one host (printed once per host). */
export interface HostTally { cases: number; passed: number; skipped: number; records: number }

/** A fresh tally. */
export function newTally(): HostTally {
  return { cases: 0, passed: 0, skipped: 0, records: 0 };
}

/** The host's skips by case id. */
export function skipsOf(hostName: string): Map<string, Skip> {
  return new Map(loadSkips(hostName).map((s) => [s.test, s]));
}

/** A failed case as the test report shows it. */
export function explainResult(r: CaseResult): string {
  return [`${r.file}: ${r.case}: ${r.message ?? "failed"}`, `  expected: ${r.expected ?? "-"}`, `  got:      ${r.got ?? "-"}`].join("\n");
}

/** The summary line of a host. */
export function tallyLine(hostName: string, tally: HostTally): string {
  return `conformance ${hostName}: ${tally.cases} cases (${tally.records} with records), ${tally.passed} passed, ${tally.skipped} skipped`;
}

/** Run case `c` of `file` on `session` inside a vitest test (`ctx` is the test context). */
export async function checkCase(
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
