// Conformance host "chromium": real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core, never downloaded) running the browser bundle build/web/aegis.js + aegis.wasm
// from a static server on 127.0.0.1. Input: bundle and request bytes from the runner (in Node);
// output: the bytes the page's `Aegis` returned, and record lines built in the page by
// telemetry/record.ts. A file's requests go to the page in one batch (prime) so the corpus costs
// two page round trips per file, not one per case. The page script is harness.ts.
import { build, type Plugin } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildWeb, webDir } from "../../../scripts/build-web.ts";
import type { RecordMeta } from "../../../telemetry/record.ts";
import { errorJsonBytes, type ConformanceHost } from "../../runner.ts";
import type { Harness, PageJob, PageOutcome, PageResult } from "./harness.ts";

/** Debian's Chromium; the only browser these tests use. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

const here = path.dirname(fileURLToPath(import.meta.url));
const webEntry = path.resolve(here, "../../../bindings/web/index.ts");

const PAGE_HTML = `<!doctype html>
<meta charset="utf-8">
<title>Aegis conformance</title>
<link rel="icon" href="data:,">
<script type="module" src="./harness.js"></script>
`;

/** The harness bundled for the page, importing the browser bundle as `./aegis.js`. */
async function bundleHarness(): Promise<string> {
  const useWebBundle: Plugin = {
    name: "use-web-bundle",
    setup(b) {
      b.onResolve({ filter: /bindings\/web\/index\.ts$/ }, (args) =>
        path.resolve(args.resolveDir, args.path) === webEntry ? { path: "./aegis.js", external: true } : undefined);
    },
  };
  const result = await build({
    entryPoints: [path.join(here, "harness.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
    plugins: [useWebBundle],
  });
  return result.outputFiles[0].text;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Serve the page, the harness and build/web/ on 127.0.0.1 (a free port); also logs each path served. */
async function serve(harnessJs: string, served: string[]): Promise<Server> {
  const files: Record<string, { type: string; body: () => string | Uint8Array }> = {
    "/": { type: "text/html; charset=utf-8", body: () => PAGE_HTML },
    "/harness.js": { type: "text/javascript", body: () => harnessJs },
    "/aegis.js": { type: "text/javascript", body: () => readFileSync(path.join(webDir, "aegis.js")) },
    "/aegis.wasm": { type: "application/wasm", body: () => readFileSync(path.join(webDir, "aegis.wasm")) },
  };
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    served.push(pathname);
    const file = files[pathname];
    if (!file || req.method !== "GET") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return server;
}

/** The Chromium page as a conformance host. */
export class ChromiumHost implements ConformanceHost {
  readonly name = "chromium";
  private readonly page: Page;
  private bundle: Uint8Array | null = null;
  private digest = "";
  /** Results of primed requests for the loaded bundle, by request (and record inputs). */
  private readonly outcomes = new Map<string, PageOutcome>();
  private readonly records = new Map<string, NonNullable<PageResult["record"]>>();

  constructor(page: Page) {
    this.page = page;
  }

  /**
   * Load `bundle` in the page. Loading the bundle that is loaded already (the same bytes object)
   * keeps it and its primed results, so a runner may call load before every file's first case.
   */
  async load(bundle: Uint8Array): Promise<void> {
    if (bundle === this.bundle) return;
    this.bundle = null;
    this.outcomes.clear();
    this.records.clear();
    const loaded = await this.page.evaluate((b) => (globalThis as unknown as { aegisHarness: Harness }).aegisHarness.load(b), toBase64(bundle));
    if (!loaded.ok) throw new Error(`${loaded.name}${loaded.code ? ` ${loaded.code}` : ""}: ${loaded.message}`);
    this.bundle = bundle;
    this.digest = loaded.digest;
  }

  /** `sha256:<hex>` of the bundle loaded in the page, as the page's Aegis reports it. */
  get loadedDigest(): string {
    return this.digest;
  }

  /** Evaluate these requests (and build their records) in the page in one round trip, for later calls. */
  async prime(jobs: { request: Uint8Array; record?: RecordMeta }[]): Promise<void> {
    const results = await this.run(jobs);
    jobs.forEach((job, i) => {
      this.outcomes.set(requestKey(job.request), results[i].outcome);
      if (job.record && results[i].record) this.records.set(recordKey(job.request, job.record), results[i].record!);
    });
  }

  async evaluate(request: Uint8Array): Promise<Uint8Array> {
    const outcome = this.outcomes.get(requestKey(request)) ?? (await this.run([{ request }]))[0].outcome;
    if ("bytes" in outcome) return Buffer.from(outcome.bytes, "base64");
    if ("error" in outcome) return errorJsonBytes(outcome.error.code, outcome.error.message, outcome.error.offset);
    throw new Error(`the page threw: ${outcome.thrown}`);
  }

  async record(request: Uint8Array, meta: RecordMeta): Promise<Uint8Array> {
    const record = this.records.get(recordKey(request, meta)) ?? (await this.run([{ request, record: meta }]))[0].record;
    if (!record) throw new Error("the page returned no record");
    if ("thrown" in record) throw new Error(`the page threw writing the record: ${record.thrown}`);
    return new TextEncoder().encode(record.line);
  }

  private run(jobs: { request: Uint8Array; record?: RecordMeta }[]): Promise<PageResult[]> {
    const pageJobs: PageJob[] = jobs.map((j) => (j.record ? { request: toBase64(j.request), record: j.record } : { request: toBase64(j.request) }));
    return this.page.evaluate((js) => (globalThis as unknown as { aegisHarness: Harness }).aegisHarness.run(js), pageJobs);
  }
}

function requestKey(request: Uint8Array): string {
  return toBase64(request);
}

function recordKey(request: Uint8Array, meta: RecordMeta): string {
  return `${toBase64(request)} ${JSON.stringify(meta)}`;
}

/** A running browser with the conformance page open. */
export interface ChromiumSession {
  host: ChromiumHost;
  page: Page;
  /** Paths the server was asked for, in order (e.g. `/aegis.wasm` once the first bundle loaded). */
  served: string[];
  /** Uncaught page errors and console errors seen so far. */
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Build the browser bundle if it is stale, serve it, launch Chromium with a fresh temporary
 * profile and open the conformance page. Throws when /usr/bin/chromium is missing.
 */
export async function startChromium(): Promise<ChromiumSession> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`\`${CHROMIUM_PATH}\` is missing: install it with \`apt-get install -y chromium\``);
  await buildWeb();
  const served: string[] = [];
  const pageErrors: string[] = [];
  const server = await serve(await bundleHarness(), served);
  let browser: Browser | null = null;
  try {
    // launch() gives every browser a fresh temporary profile and deletes it on close.
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => "aegisHarness" in globalThis, undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`the conformance page did not start: ${pageErrors.join("; ") || "no page error"}`);
    });
    const opened = browser;
    return {
      host: new ChromiumHost(page),
      page,
      served,
      pageErrors,
      async close() {
        await opened.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  } catch (e) {
    await browser?.close();
    server.close();
    throw e;
  }
}
