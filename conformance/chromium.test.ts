// The conformance corpus in real headless Chromium: each case file is compiled here in Node, its
// bundle and requests go to a page that evaluates them with `Aegis` from the browser bundle
// (build/web/aegis.js + aegis.wasm) and builds decision records there, and the runner compares the
// page's bytes with the golden ones exactly as for the Node host (CorpusSession). One vitest test
// per case, honouring conformance/skips/chromium.yaml (a skipped case that passes fails as stale).
// Skipped as a whole only when /usr/bin/chromium is missing and CI is unset. Input:
// conformance/cases; output: test results and one summary line.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, startChromium, type ChromiumSession } from "./hosts/chromium/host.ts";
import { compileCorpusFile, CorpusSession, loadCorpus } from "./runner.ts";
import { describeCorpusCases } from "./case-test.ts";

const corpus = loadCorpus().filter((f) => !f.wantCompileErrors);
const runnable = existsSync(CHROMIUM_PATH) || Boolean(process.env.CI);
if (!runnable) console.warn(`conformance chromium: skipped, \`${CHROMIUM_PATH}\` is missing (apt-get install -y chromium); CI runs it`);


describe.skipIf(!runnable)("conformance chromium", () => {
  let browser: ChromiumSession;
  let session: CorpusSession;

  beforeAll(async () => {
    browser = await startChromium();
    session = new CorpusSession(browser.host);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("fetches the engine from aegis.wasm beside aegis.js, without page errors", async () => {
    const { bundle, digest } = await compileCorpusFile(corpus[0]);
    await browser.host.load(bundle);
    expect(browser.host.loadedDigest).toBe(digest);
    expect(browser.served).toContain("/aegis.wasm");
    expect(browser.pageErrors).toEqual([]);
  });

  describeCorpusCases("chromium", corpus, () => session, async (file) => {
    // One page round trip for the bundle and one for all the file's requests; a failure here
    // shows up in every case of the file, through the runner.
    const { bundle } = await compileCorpusFile(file);
    await browser.host.load(bundle);
    await browser.host.prime(file.cases.map((c) => ({ request: c.request, record: c.record })));
  });
});
