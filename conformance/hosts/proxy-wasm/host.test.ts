// Tests of the proxy-wasm test host, driven by the AS test filter in testdata/ (compiled once per
// file with asc into a temp dir). Input: HTTP streams described as data; output: assertions on what
// the host reports the filter did, checked against the ABI v0.2.1 spec and Envoy's behaviour.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { beforeAll, describe, expect, it } from "vitest";
import { ProxyWasmHost, ProxyWasmHostError, SharedState, utf8, type HeaderPair, type HostOptions } from "./host.ts";

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), "testdata");

/** Compile an AS file of testdata/ (asc's baseDir keeps the repo's asconfig.json out of it). */
async function compile(source: string, outDir: string, name: string, extra: string[]): Promise<Uint8Array> {
  const outFile = path.join(outDir, `${name}.wasm`);
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main([source, "--baseDir", testdata, "--runtime", "stub", "--noAssert", ...extra, "--outFile", outFile], {
    stderr,
  });
  if (error) throw new Error(`asc failed on ${source}: ${error.message}\n${stderr.toString()}`);
  return readFileSync(outFile);
}

let filter: Uint8Array;
let filterNeedingAbort: Uint8Array;
let noMarker: Uint8Array;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "aegis-proxy-wasm-host-"));
  try {
    filter = await compile("filter.ts", dir, "filter", ["--use", "abort="]);
    filterNeedingAbort = await compile("filter.ts", dir, "filter-abort", []);
    noMarker = await compile("no-abi-marker.ts", dir, "no-marker", ["--use", "abort="]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function request(pathname: string, more: HeaderPair[] = []): HeaderPair[] {
  return [[":method", "POST"], [":path", pathname], [":authority", "tools.local"], ...more];
}

function header(headers: HeaderPair[] | undefined, name: string): string | undefined {
  return headers?.find(([k]) => k === name)?.[1];
}

function start(options: HostOptions = {}): Promise<ProxyWasmHost> {
  return ProxyWasmHost.create(filter, { pluginConfig: "cfg", vmConfig: "vmcfg", ...options });
}

describe("startup", () => {
  it("runs vm start and configure with their configuration buffers", async () => {
    const host = await start();
    expect(host.vmStartResult).toBe(true);
    expect(host.configureResult).toBe(true);
    expect(host.logs.map((l) => l.message)).toEqual(["vm config: vmcfg", "configured: cfg"]);
  });

  it("exposes a refused configuration and serves no request until a good one arrives", async () => {
    const host = await start({ pluginConfig: "refuse" });
    expect(host.configureResult).toBe(false);
    await expect(host.httpRequest({ headers: request("/headers") })).rejects.toMatchObject({ code: "not_configured" });
    expect(await host.configure("fine")).toBe(true);
    expect((await host.httpRequest({ headers: request("/") })).status).toBe(200);
  });

  it("refuses a filter importing a function outside the ABI, naming it", async () => {
    const failure = ProxyWasmHost.create(filterNeedingAbort);
    await expect(failure).rejects.toBeInstanceOf(ProxyWasmHostError);
    await expect(failure).rejects.toMatchObject({ code: "unknown_import", message: expect.stringContaining("`env.abort`") });
  });

  it("refuses a module without the v0.2.1 marker export", async () => {
    await expect(ProxyWasmHost.create(noMarker)).rejects.toMatchObject({
      code: "missing_export",
      message: expect.stringContaining("`proxy_abi_version_0_2_1`"),
    });
  });

  it("refuses bytes that are not wasm", async () => {
    await expect(ProxyWasmHost.create(new TextEncoder().encode("not wasm"))).rejects.toMatchObject({ code: "bad_module" });
  });
});

describe("request headers", () => {
  it("lets the filter read, replace, add and remove headers before they go upstream", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/headers", [["x-in", "a"], ["X-Remove-Me", "z"]]) });
    const up = r.upstream?.headers;
    expect(header(up, "x-in")).toBe("a!");
    expect(header(up, "x-added")).toBe("1");
    expect(header(up, "x-remove-me")).toBeUndefined();
    // Counted by the filter after its edits: 3 pseudo-headers, x-in, x-added.
    expect(header(up, "x-count")).toBe("5");
    expect(header(up, "x-absent-found")).toBe("no");
    expect(r.logs.map((l) => l.message)).toContain("request /headers headers=5 eos=1");
    expect(r.status).toBe(200);
    expect(header(r.response?.headers, "x-filter")).toBe("saw-response");
    expect(r.done).toBe(true);
    expect(host.liveStreamContexts).toBe(0);
  });

  it("rejects header writes after the headers were forwarded", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/late-header"), body: "x" });
    expect(utf8(r.upstream!.body)).toBe("late:2");
    expect(header(r.upstream?.headers, "x-late")).toBeUndefined();
    expect(r.warnings.join("\n")).toContain("not writable");
  });
});

describe("local response", () => {
  it("reports the filter's reply, sends nothing upstream, and runs the response callbacks on it", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/deny"), body: "{}" });
    expect(r.localResponse).toMatchObject({ status: 403, details: "denied_by_test" });
    expect(utf8(r.localResponse!.body)).toBe("no");
    expect(r.localResponse!.grpcStatus).toBeUndefined();
    expect(header(r.localResponse!.headers, "x-why")).toBe("test");
    expect(header(r.localResponse!.headers, "content-length")).toBe("2");
    expect(r.upstream).toBeUndefined();
    expect(r.status).toBe(403);
    expect(header(r.response?.headers, "x-filter")).toBe("saw-response");
    expect(r.logs.map((l) => l.message)).toContain("log /deny 403");
  });
});

describe("bodies", () => {
  it("appends later chunks to a buffering filter's body and forwards its replacement", async () => {
    const host = await start();
    const body = "hello, buffered world";
    const r = await host.httpRequest({ headers: request("/buffer"), body, chunkSize: 8 });
    const messages = r.logs.map((l) => l.message);
    expect(messages).toContain("request /buffer headers=3 eos=0");
    expect(messages.filter((m) => m.startsWith("buffering"))).toEqual(["buffering 8", "buffering 16"]);
    expect(messages).toContain(`body: ${body}`);
    expect(utf8(r.upstream!.body)).toBe(body.toUpperCase());
  });

  it("forwards trailers after the body", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/"), body: "abc", trailers: [["X-Checksum", "1"]] });
    expect(r.upstream).toMatchObject({ trailers: [["x-checksum", "1"]] });
    expect(utf8(r.upstream!.body)).toBe("abc");
    expect(r.logs.map((l) => l.message)).toContain("request / headers=3 eos=0");
  });

  it("lets the filter rewrite a buffered response body", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/resp-body"), responseBody: "abcdef", responseChunkSize: 2 });
    expect(utf8(r.response!.body)).toBe("[abcdef]");
  });

  it("delivers the upstream's computed answer", async () => {
    const host = await start();
    const r = await host.httpRequest({
      headers: request("/"),
      body: "ping",
      upstream: (req) => ({ headers: [[":status", "201"]], body: `got ${utf8(req.body)}` }),
    });
    expect(r.status).toBe(201);
    expect(utf8(r.response!.body)).toBe("got ping");
  });
});

describe("properties", () => {
  it("serves configured and built-in properties and keeps the filter's own per stream", async () => {
    const host = await start({ pluginName: "aegis-test", properties: { "custom.value": "cv" } });
    const up = (await host.httpRequest({ headers: request("/props") })).upstream?.headers;
    expect(header(up, "x-plugin-name")).toBe("aegis-test");
    expect(header(up, "x-custom")).toBe("cv");
    expect(header(up, "x-request-path")).toBe("/props");
    expect(header(up, "x-mine")).toBe("v1");
    expect(header(up, "x-missing-status")).toBe("1");
  });
});

describe("shared data", () => {
  it("updates with the read CAS, refuses a stale CAS, and is shared between VMs", async () => {
    const shared = new SharedState();
    shared.data.set("counter", { value: new TextEncoder().encode("41"), cas: shared.nextCas() });
    const first = await start({ shared });
    const up = (await first.httpRequest({ headers: request("/shared") })).upstream?.headers;
    expect(header(up, "x-set-status")).toBe("0");
    expect(header(up, "x-stale-status")).toBe("8");
    expect(header(up, "x-counter")).toBe("42");
    expect(utf8(first.sharedData.get("counter")!.value)).toBe("42");

    const second = await start({ shared });
    const again = (await second.httpRequest({ headers: request("/shared") })).upstream?.headers;
    expect(header(again, "x-counter")).toBe("43");
  });

  it("delivers queue items to the registering VM", async () => {
    const host = await start();
    expect(host.enqueueSharedQueue("events", "hello")).toBe(true);
    await host.drain();
    expect(host.logs.map((l) => l.message)).toContain("queue: hello");
    expect(host.dequeueSharedQueue("events")).toBeUndefined();
    expect(host.enqueueSharedQueue("unknown", "x")).toBe(false);
  });
});

describe("http calls", () => {
  const authz = (req: { body: Uint8Array }) => ({ status: 200, body: utf8(req.body) === "Bearer ok" ? "allow" : "deny" });

  it("pauses the stream, answers from the cluster, and resumes with the body held meanwhile", async () => {
    const host = await start({ clusters: { authz } });
    const r = await host.httpRequest({
      headers: request("/call", [["authorization", "Bearer ok"]]),
      body: "payload",
      chunkSize: 3,
    });
    expect(r.httpCalls).toHaveLength(1);
    const call = r.httpCalls[0]!;
    expect(call.cluster).toBe("authz");
    expect(call.headers).toEqual([[":method", "POST"], [":path", "/check"], [":authority", "authz.local"], ["content-length", "9"]]);
    expect(utf8(call.body)).toBe("Bearer ok");
    expect(call.timeoutMs).toBe(5000);
    expect(call.outcome).toBe("response");
    expect(r.logs.map((l) => l.message)).toContain(`call ${call.id} status 200 body allow`);
    // The body arrived while the headers were paused: the filter gets it in one piece on resume.
    expect(r.logs.map((l) => l.message).filter((m) => m.startsWith("call body"))).toEqual(["call body 7 eos=1"]);
    expect(header(r.upstream?.headers, "x-authz")).toBe("allow");
    expect(utf8(r.upstream!.body)).toBe("payload");
    expect(r.status).toBe(200);
    expect(r.paused).toBe(false);
  });

  it("can answer calls before the next downstream event instead", async () => {
    const host = await start({ clusters: { authz } });
    const r = await host.httpRequest({
      headers: request("/call", [["authorization", "Bearer ok"]]),
      body: "payload",
      chunkSize: 3,
      settleBetweenEvents: true,
    });
    const chunks = r.logs.map((l) => l.message).filter((m) => m.startsWith("call body"));
    expect(chunks).toEqual(["call body 3 eos=0", "call body 3 eos=0", "call body 1 eos=1"]);
    expect(utf8(r.upstream!.body)).toBe("payload");
  });

  it("lets the call's answer become a local response", async () => {
    const host = await start({ clusters: { authz } });
    const r = await host.httpRequest({ headers: request("/call", [["authorization", "Bearer no"]]), body: "payload" });
    expect(r.localResponse).toMatchObject({ status: 403, details: "authz_denied" });
    expect(utf8(r.localResponse!.body)).toBe("deny");
    expect(r.upstream).toBeUndefined();
  });

  it("reports a failed call with zero headers, and an unknown cluster as BadArgument", async () => {
    const host = await start({
      clusters: {
        authz: () => {
          throw new Error("connection refused");
        },
      },
    });
    const failed = await host.httpRequest({ headers: request("/call") });
    expect(failed.localResponse).toMatchObject({ status: 503, details: "authz_failed" });
    expect(failed.httpCalls[0]!.outcome).toBe("reset");
    const unknown = await host.httpRequest({ headers: request("/call-bad-cluster") });
    expect(header(unknown.upstream?.headers, "x-call-status")).toBe("2");
    expect(unknown.warnings.join("\n")).toContain("unknown cluster `nope`");
    const incomplete = await host.httpRequest({ headers: request("/call-no-authority") });
    expect(header(incomplete.upstream?.headers, "x-call-status")).toBe("2");
    expect(incomplete.warnings.join("\n")).toContain("lack `:authority`");
  });
});

describe("logs, metrics and timers", () => {
  it("keeps logs at or above the host's level, tagged with their context", async () => {
    const host = await start({ logLevel: "info" });
    const r = await host.httpRequest({ headers: request("/buffer"), body: "abcdef", chunkSize: 2 });
    expect(r.logs.some((l) => l.message.startsWith("buffering"))).toBe(false);
    expect(r.logs.find((l) => l.message.startsWith("body:"))).toEqual({ level: "info", message: "body: abcdef", contextId: r.contextId });
    expect(host.logs.length).toBeGreaterThan(r.logs.length);
  });

  it("counts metrics the filter defined", async () => {
    const host = await start();
    await host.httpRequest({ headers: request("/") });
    await host.httpRequest({ headers: request("/") });
    expect(host.metrics.get("requests")).toMatchObject({ type: "counter", value: 2n });
  });

  it("fires proxy_on_tick only when the filter set a period", async () => {
    const idle = await start();
    expect(await idle.tick()).toBe(false);
    const host = await start({ pluginConfig: "tick" });
    expect(host.tickPeriodMs).toBe(1000);
    expect(await host.tick()).toBe(true);
    expect(await host.tick()).toBe(true);
    expect(utf8(host.sharedData.get("ticks")!.value)).toBe("2");
    expect(host.logs.map((l) => `${l.level} ${l.message}`)).toContain("debug tick 2");
  });
});

describe("stream control and failures", () => {
  it("reports a stream the filter closed", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/close"), body: "x" });
    expect(r.reset).toBe(true);
    expect(r.upstream).toBeUndefined();
    expect(r.response).toBeUndefined();
    expect(r.done).toBe(true);
  });

  it("reports a stream left paused with nothing pending, and still finalizes it", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/stall"), body: "x" });
    expect(r).toMatchObject({ paused: true, pausedIn: "request", done: true });
    expect(r.upstream).toBeUndefined();
  });

  it("answers an out-of-range guest pointer with InvalidMemoryAccess and a warning", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/oob") });
    expect(header(r.upstream?.headers, "x-oob-status")).toBe("6");
    expect(r.warnings.join("\n")).toContain("proxy_log: invalid memory access");
  });

  it("turns a trap into a 500 for that request and fails closed afterwards", async () => {
    const host = await start();
    const r = await host.httpRequest({ headers: request("/trap") });
    expect(r).toMatchObject({ trapped: true, status: 500, localResponse: { status: 500 } });
    expect(r.error).toMatch(/proxy_on_request_headers: .*unreachable/);
    expect(host.failed).toBeDefined();
    const next = await host.httpRequest({ headers: request("/headers") });
    expect(next).toMatchObject({ trapped: true, status: 500 });
    expect(next.upstream).toBeUndefined();
  });

  it("starts a fresh VM after a trap under the reload policy", async () => {
    const host = await start({ failurePolicy: "reload" });
    expect((await host.httpRequest({ headers: request("/throw") })).trapped).toBe(true);
    const next = await host.httpRequest({ headers: request("/headers", [["x-in", "b"]]) });
    expect(next.trapped).toBe(false);
    expect(header(next.upstream?.headers, "x-in")).toBe("b!");
  });
});
