// Benchmark of the Envoy filter's per-request cost against the Node binding, for one request with a
// 1 KB JSON body (the sample procurement policy). Input: build/proxy-wasm/aegis-filter.wasm (built
// when missing), policies/procurement.yaml. Output: p50/p99 latencies and the filter/Node ratio on
// stdout (and as the return value of benchProxyWasm for bench/main.ts).
//   - node evaluateBytes: the binding's canonical byte path (engine evaluation plus copies);
//   - filter direct: the filter's callbacks driven by a minimal in-process host that answers
//     hostcalls from prepared bytes, so the figure is the filter's own work per request (copy the
//     body, build the request, evaluate, decision record and its log line, decision headers), and
//     once more with records off (`log_records: false`, no collector) to show what the record costs;
//   - filter in test host: the same through conformance/hosts/proxy-wasm/host.ts, whose JS
//     bookkeeping dominates (informational only).
// Run: `tsx bindings/proxy-wasm/bench.ts [--quick]`. Targets are reported, never asserted in tests.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import { compile } from "../../compiler/index.ts";
import { Aegis } from "../node/index.ts";
import { buildProxyWasm } from "../../scripts/build-proxy-wasm.ts";
import { ProxyWasmHost } from "../../conformance/hosts/proxy-wasm/host.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** One benchmark row (latencies in µs). */
export interface ProxyWasmBenchRow { name: string; p50_us: number; p99_us: number; ops_per_s: number }

/** The request: a payment by finance-agent whose params are about 1 KB of JSON. */
function sampleRequest(): { request: Uint8Array; params: Uint8Array } {
  const params = {
    amount: 1200,
    currency: "EUR",
    payee_iban: "DE89370400440532013000",
    invoice: "INV-2026-0042",
    memo: "Quarterly maintenance for line 3; see PO 4471 and the signed acceptance note. ".repeat(11),
  };
  const request = { agent: { id: "finance-agent", tenant: "acme", scopes: ["payments:write"] }, tool: "payments", action: "create_payment", params };
  return { request: new TextEncoder().encode(JSON.stringify(request)), params: new TextEncoder().encode(JSON.stringify(params)) };
}

const STATUS_OK = 0;
const STATUS_NOT_FOUND = 1;

/**
 * The filter with a minimal host: every import answers from prepared bytes (headers of one request,
 * its body); nothing is recorded. Enough for the callbacks one request takes, nothing more.
 */
async function directFilter(wasm: Uint8Array, config: string, headers: Record<string, string>, body: Uint8Array): Promise<() => number> {
  const module = await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  let memory!: WebAssembly.Memory;
  let allocate!: (n: number) => number;
  let phase: "configure" | "request" = "configure";
  const configBytes = new TextEncoder().encode(config);
  const headerBytes = new Map(Object.entries(headers).map(([k, v]) => [k, new TextEncoder().encode(v)]));
  const decoder = new TextDecoder();
  const copyOut = (bytes: Uint8Array, ptrPtr: number, sizePtr: number): number => {
    const ptr = bytes.length > 0 ? allocate(bytes.length) : 0;
    new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    const view = new DataView(memory.buffer);
    view.setUint32(ptrPtr, ptr, true);
    view.setUint32(sizePtr, bytes.length, true);
    return STATUS_OK;
  };
  const env: Record<string, (...args: number[]) => number> = {};
  for (const i of WebAssembly.Module.imports(module)) env[i.name] = () => STATUS_OK;
  env.proxy_get_buffer_bytes = (type, start, max, ptrPtr, sizePtr) =>
    copyOut(phase === "configure" ? configBytes : body.subarray(start, start + max), ptrPtr, sizePtr);
  env.proxy_get_header_map_value = (_map, keyPtr, keyLen, ptrPtr, sizePtr) => {
    const value = headerBytes.get(decoder.decode(new Uint8Array(memory.buffer, keyPtr, keyLen)));
    return value ? copyOut(value, ptrPtr, sizePtr) : STATUS_NOT_FOUND;
  };
  // The record's clock readings: a real wall clock, so the timestamp and eval_ns take their usual work.
  const epoch = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  env.proxy_get_current_time_nanoseconds = (ptr) => {
    new DataView(memory.buffer).setBigUint64(ptr, epoch + process.hrtime.bigint(), true);
    return STATUS_OK;
  };
  const instance = await WebAssembly.instantiate(module, { env });
  const x = instance.exports as Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
  memory = x.memory;
  allocate = x.proxy_on_memory_allocate;
  x._initialize();
  x.proxy_on_context_create(1, 0);
  x.proxy_on_vm_start(1, 0);
  x.proxy_on_configure(1, configBytes.length);
  phase = "request";
  let id = 2;
  return () => {
    const ctx = id++;
    x.proxy_on_context_create(ctx, 1);
    x.proxy_on_request_headers(ctx, 4, 0);
    const action = x.proxy_on_request_body(ctx, body.length, 1);
    x.proxy_on_response_headers(ctx, 1, 0);
    x.proxy_on_done(ctx);
    x.proxy_on_delete(ctx);
    return action;
  };
}

/** Run the benchmark; `timeMs` per task. */
export async function benchProxyWasm(timeMs = 800): Promise<ProxyWasmBenchRow[]> {
  const bundle = compile(["policies/procurement.yaml", "policies/retail.yaml"].map((p) => ({ path: p, text: readFileSync(path.join(repoRoot, p), "utf8") })));
  const { request, params } = sampleRequest();
  const wasm = new Uint8Array(readFileSync((await buildProxyWasm()).filter));
  const base64 = Buffer.from(bundle).toString("base64");

  const aegis = await Aegis.load(bundle);
  const expected = JSON.parse(new TextDecoder().decode(aegis.evaluateBytes(request))).decision as string;

  const requestBody = await directFilter(wasm, JSON.stringify({ mode: "request_body", bundle: base64 }), {}, request);
  const noRecords = await directFilter(wasm, JSON.stringify({ mode: "request_body", bundle: base64, log_records: false }), {}, request);
  const http = await directFilter(
    wasm,
    JSON.stringify({ mode: "http", bundle: base64 }),
    { ":path": "/tools/payments/create_payment", "x-agent-id": "finance-agent", "x-agent-tenant": "acme", "x-agent-scopes": "payments:write" },
    params,
  );
  const host = await ProxyWasmHost.create(wasm, { pluginConfig: JSON.stringify({ mode: "request_body", bundle: base64, decision_header: true }), logLevel: "warn" });
  const hostRequest = {
    headers: [[":method", "POST"], [":path", "/aegis"], [":authority", "tools.local"], ["content-length", String(request.length)]] as [string, string][],
    body: request,
  };
  const check = await host.httpRequest(hostRequest);
  const got = check.localResponse ? JSON.parse(new TextDecoder().decode(check.localResponse.body)).decision : "allow-or-sanitize";
  if (expected !== "allow" && expected !== "sanitize" && got !== expected) throw new Error(`filter decided ${got}, node ${expected}`);

  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  bench.add("node evaluateBytes (1 KB request)", () => aegis.evaluateBytes(request));
  bench.add("proxy-wasm filter direct, request_body mode (1 KB body)", requestBody);
  bench.add("proxy-wasm filter direct, request_body mode, records off", noRecords);
  bench.add("proxy-wasm filter direct, http mode (1 KB params body)", http);
  bench.add("proxy-wasm filter in the JS test host (1 KB body)", async () => { await host.httpRequest(hostRequest); });
  await bench.run();
  const us = (ms: number) => Math.round(ms * 1_000_000) / 1000;
  return bench.tasks.map((t) => {
    const r = t.result;
    if (r.state !== "completed") throw new Error(`bench ${t.name}: ${r.state}`);
    return { name: t.name, p50_us: us(r.latency.p50!), p99_us: us(r.latency.p99!), ops_per_s: Math.round(r.throughput.mean) };
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await benchProxyWasm(process.argv.includes("--quick") ? 200 : 800);
  for (const r of rows) {
    console.log(`${r.name.padEnd(58)} p50 ${r.p50_us.toFixed(3).padStart(9)} µs   p99 ${r.p99_us.toFixed(3).padStart(9)} µs   ${r.ops_per_s.toLocaleString("en-US").padStart(10)} ops/s`);
  }
  const node = rows[0]!.p50_us;
  for (const r of rows.filter((row) => row.name.startsWith("proxy-wasm filter direct"))) console.log(`${r.name}: ${(r.p50_us / node).toFixed(2)}x node evaluateBytes (p50)`);
}
