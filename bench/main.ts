// `npm run bench`: decision latency (p50/p99, ops/s) through the Node binding for the sample
// policies and for generated bundles of 100, 1,000 and 10,000 rules, side by side with cel-js and
// cedar-wasm in the same run; compile and load time; wasm and bundle sizes; heap growth over
// 1,000,000 decisions. Writes bench/results/latest.json, bench/results/latest.md and the table
// in bench/README.md. Targets are reported here, never asserted in tests.
import { Bench } from "tinybench";
import { readFileSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import os from "node:os";
import { compile } from "../compiler/index.ts";
import { Aegis } from "../bindings/node/index.ts";
import { syntheticRules, aegisSources, celRules, cedarPolicies, syntheticRequest } from "./generate.ts";
import { samplePolicyRequests } from "./requests.ts";
import { celEvaluator, cedarEvaluator } from "./peers.ts";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { AuditLog } from "../telemetry/log.ts";
import { verifyLog } from "../telemetry/verify.ts";
import { nodeSha256, nodeVerifySignature } from "../telemetry/log.ts";
import { buildRecord, ZERO_HASH_HEX } from "../telemetry/record.ts";
import { generateKeyPair } from "../telemetry/keys.ts";
import { benchProxyWasm } from "../bindings/proxy-wasm/bench.ts";
import { buildWeb } from "../scripts/build-web.ts";
import { buildProxyWasm } from "../scripts/build-proxy-wasm.ts";
import { buildComponent } from "../scripts/build-component.ts";

const root = join(import.meta.dirname, "..");
const quick = process.argv.includes("--quick");
const TIME_MS = quick ? 150 : 800;
const us = (ms: number) => Math.round(ms * 1000 * 1000) / 1000; // ms -> µs, 3 decimals

interface Row { name: string; p50_us: number; p99_us: number; ops_per_s: number; samples: number }
const rows: Row[] = [];
const facts: Record<string, number | string> = {};

async function measure(entries: [string, () => unknown][]): Promise<void> {
  const bench = new Bench({ time: TIME_MS, warmupTime: 100 });
  for (const [name, fn] of entries) bench.add(name, fn);
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== "completed") throw new Error(`bench ${task.name}: ${r.state} ${"error" in r ? String(r.error) : ""}`);
    rows.push({ name: task.name, p50_us: us(r.latency.p50), p99_us: us(r.latency.p99), ops_per_s: Math.round(r.throughput.mean), samples: r.latency.samples?.length ?? r.totalTime });
    console.log(`${task.name.padEnd(58)} p50 ${us(r.latency.p50).toFixed(3).padStart(9)} µs   p99 ${us(r.latency.p99).toFixed(3).padStart(9)} µs   ${Math.round(r.throughput.mean).toLocaleString("en-US").padStart(12)} ops/s`);
  }
}

function readPolicies(): { path: string; text: string }[] {
  return ["policies/procurement.yaml", "policies/retail.yaml"].map((p) => ({ path: p, text: readFileSync(join(root, p), "utf8") }));
}

async function main(): Promise<void> {
  console.log(`Aegis benchmark — node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"} x${os.cpus().length}${quick ? " (quick)" : ""}\n`);

  // 1. Sample policies through the binding: fast path (JS object) and canonical path (JSON bytes).
  const sampleBundle = compile(readPolicies());
  const aegis = await Aegis.load(sampleBundle);
  const samples = samplePolicyRequests();
  const sampleJson = samples.map((s) => JSON.stringify(s.request));
  let i = 0, j = 0;
  await measure([
    ["sample policies: evaluate(object) (fast path)", () => aegis.evaluate(samples[i++ % samples.length].request)],
    ["sample policies: evaluateBytes(json) (canonical path)", () => aegis.evaluateBytes(sampleJson[j++ % sampleJson.length])],
  ]);
  for (const s of samples) {
    const name = `sample: ${s.name} -> ${aegis.evaluate(s.request).decision}`;
    await measure([[name, () => aegis.evaluate(s.request)]]);
  }

  // 2. Scaling and peers: the same synthetic procurement rules in Aegis, cel-js and cedar-wasm.
  for (const n of [4, 100, 1000, 10000]) {
    const rules = syntheticRules(n);
    const sources = aegisSources(rules);
    const t0 = performance.now();
    const bundle = compile(sources);
    const compileMs = performance.now() - t0;
    const engine = await Aegis.load(bundle);
    const loads: number[] = [];
    for (let k = 0; k < 15; k++) { const t = performance.now(); engine.reload(bundle); loads.push(performance.now() - t); }
    loads.sort((a, b) => a - b);
    facts[`compile_ms_${n}_rules`] = Math.round(compileMs * 100) / 100;
    facts[`load_ms_${n}_rules_median`] = Math.round(loads[Math.floor(loads.length / 2)] * 1000) / 1000;
    facts[`bundle_bytes_${n}_rules`] = bundle.length;
    const request = syntheticRequest(rules);
    const decision = engine.evaluate(request);
    if (decision.decision !== "allow") throw new Error(`synthetic ${n}: expected allow, got ${JSON.stringify(decision)}`);
    const entries: [string, () => unknown][] = [[`${n} rules: aegis evaluate(object)`, () => engine.evaluate(request)]];
    if (n <= 1000) {
      const cel = celEvaluator(celRules(rules));
      if (cel(request) !== "allow") throw new Error(`cel-js ${n}: expected allow`);
      entries.push([`${n} rules: cel-js (every rule, parsed once)`, () => cel(request)]);
      const cedar = cedarEvaluator(cedarPolicies(rules), `bench-${n}`);
      if (cedar(request) !== "allow") throw new Error(`cedar ${n}: expected allow`);
      entries.push([`${n} rules: cedar-wasm (preparsed policy set)`, () => cedar(request)]);
    }
    await measure(entries);
  }

  // 3. Sizes.
  const wasm = readFileSync(join(root, "build/aegis.wasm"));
  facts.engine_wasm_bytes = wasm.length;
  facts.engine_wasm_gzip_bytes = gzipSync(wasm).length;
  facts.sample_bundle_bytes = sampleBundle.length;

  // 4. Heap growth over 1,000,000 decisions (JS heap and wasm memory), on the sample policies.
  const gc = (globalThis as { gc?: () => void }).gc;
  const N = quick ? 100_000 : 1_000_000;
  for (let k = 0; k < 10_000; k++) aegis.evaluate(samples[k % samples.length].request);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed, wasmBefore = aegis.memoryBytes;
  for (let k = 0; k < N; k++) aegis.evaluate(samples[k % samples.length].request);
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed, wasmAfter = aegis.memoryBytes;
  facts.decisions_for_heap_check = N;
  facts.js_heap_growth_bytes = heapAfter - heapBefore;
  facts.wasm_memory_growth_bytes = wasmAfter - wasmBefore;
  facts.gc_exposed = gc ? "yes" : "no";

  await telemetry(sampleBundle, samples);
  await hosts();

  report();
}

/** 6. Other hosts: the Envoy filter's per-request cost, and artefact sizes (issue: every host). */
async function hosts(): Promise<void> {
  for (const row of await benchProxyWasm(TIME_MS)) {
    rows.push({ ...row, samples: 0 });
    console.log(`${row.name.padEnd(58)} p50 ${row.p50_us.toFixed(3).padStart(9)} µs   p99 ${row.p99_us.toFixed(3).padStart(9)} µs`);
  }
  const web = await buildWeb();
  facts.browser_bundle_gzip_bytes = gzipSync(readFileSync(web.js)).length + gzipSync(readFileSync(web.wasm)).length;
  facts.proxy_wasm_filter_bytes = readFileSync((await buildProxyWasm()).filter).length;
  facts.component_bytes = readFileSync((await buildComponent()).component).length;
}

/** 5. The audit log: cost per decision, append throughput, verification throughput (docs/telemetry.md). */
async function telemetry(bundle: Uint8Array, samples: { request: object }[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "aegis-bench-audit-"));
  try {
    const key = generateKeyPair("pem");
    const plain = await Aegis.load(bundle);
    const audited = await Aegis.load(bundle, { audit: { dir: join(dir, "decisions"), key: key.seed } });
    let a = 0, b = 0;
    await measure([
      ["sample policies: evaluate(object), no audit log", () => plain.evaluate(samples[a++ % samples.length].request)],
      ["sample policies: evaluate(object) with audit log", () => audited.evaluate(samples[b++ % samples.length].request)],
    ]);
    audited.close();

    // Append throughput: records as the binding builds them, appended by one writer on one core.
    const N = quick ? 50_000 : 300_000;
    const decision = plain.evaluate(samples[0].request) as unknown as Parameters<typeof buildRecord>[0];
    const record = buildRecord(decision, { value: samples[0].request }, { seq: 0, prev: ZERO_HASH_HEX, ts: Date.now(), id: "bench", host: "node", evalNs: 1000 });
    const logDir = join(dir, "throughput");
    const log = AuditLog.open({ dir: logDir, key: key.seed, checkpointEvery: 10_000, checkpointIntervalMs: 3_600_000 });
    const t0 = performance.now();
    for (let k = 0; k < N; k++) log.append(record as unknown as { type: string });
    log.close();
    const appendMs = performance.now() - t0;
    facts.audit_records_appended = N;
    facts.audit_append_records_per_s = Math.round(N / (appendMs / 1000));

    const segments = readdirSync(logDir).filter((n) => n.endsWith(".jsonl")).sort().map((name) => ({ name, bytes: readFileSync(join(logDir, name)) }));
    const t1 = performance.now();
    const verdict = verifyLog(segments, key.publicKey, { sha256: nodeSha256, verifySignature: nodeVerifySignature() });
    const verifyMs = performance.now() - t1;
    if (!verdict.ok || verdict.leaves !== N) throw new Error(`bench log did not verify: ${JSON.stringify(verdict.findings.slice(0, 3))}`);
    facts.audit_verify_records_per_s = Math.round(N / (verifyMs / 1000));
    facts.audit_log_bytes_per_record = Math.round(segments.reduce((n, s) => n + s.bytes.length, 0) / N);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(): void {
  const get = (name: string) => rows.find((r) => r.name === name);
  const fast = get("sample policies: evaluate(object) (fast path)");
  const r10k = get("10000 rules: aegis evaluate(object)");
  const noAudit = get("sample policies: evaluate(object), no audit log");
  const withAudit = get("sample policies: evaluate(object) with audit log");
  const nodeBytes = get("node evaluateBytes (1 KB request)");
  const filterOff = get("proxy-wasm filter direct, request_body mode, records off");
  const filterRatio = nodeBytes && filterOff ? Math.round((filterOff.p50_us / nodeBytes.p50_us) * 100) / 100 : undefined;
  const auditCost = noAudit && withAudit ? Math.round((withAudit.p50_us - noAudit.p50_us) * 1000) / 1000 : undefined;
  const targets = [
    ["sample policies p50 <= 1.5 µs (fast path)", fast ? `${fast.p50_us} µs` : "n/a", fast ? fast.p50_us <= 1.5 : false],
    ["sample policies p99 <= 4 µs (fast path)", fast ? `${fast.p99_us} µs` : "n/a", fast ? fast.p99_us <= 4 : false],
    ["10,000 rules p99 <= 5 µs", r10k ? `${r10k.p99_us} µs` : "n/a", r10k ? r10k.p99_us <= 5 : false],
    ["engine .wasm <= 100 KB", `${facts.engine_wasm_bytes} bytes`, (facts.engine_wasm_bytes as number) <= 100 * 1024],
    ["10,000-rule bundle compiles in <= 2 s", `${facts.compile_ms_10000_rules} ms`, (facts.compile_ms_10000_rules as number) <= 2000],
    ["10,000-rule bundle loads in <= 20 ms", `${facts.load_ms_10000_rules_median} ms`, (facts.load_ms_10000_rules_median as number) <= 20],
    ["no wasm memory growth over the heap check", `${facts.wasm_memory_growth_bytes} bytes`, facts.wasm_memory_growth_bytes === 0],
    ["audit log adds <= 2 µs p50 to a decision", auditCost === undefined ? "n/a" : `+${auditCost} µs`, auditCost !== undefined && auditCost <= 2],
    [">= 200,000 records/s appended on one core", `${facts.audit_append_records_per_s} records/s`, (facts.audit_append_records_per_s as number) >= 200_000],
    ["proxy-wasm filter .wasm <= 150 KB", `${facts.proxy_wasm_filter_bytes} bytes`, (facts.proxy_wasm_filter_bytes as number) <= 150 * 1024],
    ["browser bundle (engine + binding) <= 150 KB gzipped", `${facts.browser_bundle_gzip_bytes} bytes`, (facts.browser_bundle_gzip_bytes as number) <= 150 * 1024],
    ["filter's engine evaluation within 2x of Node (1 KB body, records off)", filterRatio === undefined ? "n/a" : `${filterRatio}x`, filterRatio !== undefined && filterRatio <= 2],
    ["audit verify >= 500,000 records/s", `${facts.audit_verify_records_per_s} records/s`, (facts.audit_verify_records_per_s as number) >= 500_000],
  ] as const;
  const ratio = (a?: Row, b?: Row) => (a && b ? `${(b.p50_us / a.p50_us).toFixed(1)}x / ${(b.p99_us / a.p99_us).toFixed(1)}x` : "n/a");
  const peers = [4, 100, 1000].map((n) => [n, ratio(get(`${n} rules: aegis evaluate(object)`), get(`${n} rules: cel-js (every rule, parsed once)`)), ratio(get(`${n} rules: aegis evaluate(object)`), get(`${n} rules: cedar-wasm (preparsed policy set)`))]);

  let md = `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus()[0]?.model ?? "cpu"} x${os.cpus().length}, node ${process.version}; one run of \`npm run bench\`${quick ? " --quick" : ""}. Medians and p99 of per-call samples from tinybench (${TIME_MS} ms per task).\n\n`;
  md += `| benchmark | p50 µs | p99 µs | ops/s |\n| --- | ---: | ---: | ---: |\n`;
  for (const r of rows) md += `| ${r.name} | ${r.p50_us} | ${r.p99_us} | ${r.ops_per_s.toLocaleString("en-US")} |\n`;
  md += `\n**Peers, same rules, same run** (how many times slower than Aegis, p50 / p99):\n\n| rules | cel-js | cedar-wasm |\n| ---: | --- | --- |\n`;
  for (const [n, c, d] of peers) md += `| ${n} | ${c} | ${d} |\n`;
  md += `\n| fact | value |\n| --- | ---: |\n`;
  for (const [k, v] of Object.entries(facts)) md += `| ${k} | ${v} |\n`;
  md += `\n| target | measured | met |\n| --- | --- | --- |\n`;
  for (const [t, m, ok] of targets) md += `| ${t} | ${m} | ${ok ? "yes" : "**no**"} |\n`;

  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/latest.json"), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, quick, rows, facts, targets: targets.map(([t, m, ok]) => ({ target: t, measured: m, met: ok })) }, null, 2) + "\n");
  writeFileSync(join(root, "bench/results/latest.md"), md);
  const readmePath = join(root, "bench/README.md");
  const readme = readFileSync(readmePath, "utf8");
  const BEGIN = "<!-- results:begin -->", END = "<!-- results:end -->";
  const a = readme.indexOf(BEGIN), b = readme.indexOf(END);
  if (a >= 0 && b > a && !quick) writeFileSync(readmePath, readme.slice(0, a + BEGIN.length) + "\n" + md + readme.slice(b));
  console.log("\n" + md);
  void statSync;
}

await main();
