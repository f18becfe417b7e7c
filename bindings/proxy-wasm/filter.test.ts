// The Aegis Envoy filter (build/proxy-wasm/aegis-filter.wasm) in the proxy-wasm test host
// (conformance/hosts/proxy-wasm/host.ts): the module's shape (ABI imports only, size), its
// lifecycle (bundle inline or fetched, signature checks, fail closed, reconfiguration), telemetry,
// trailers, header safety and memory. Request mapping and decisions per HTTP case are golden data
// in conformance/http-mapping/ (run by conformance/proxy-wasm.test.ts).
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { publicKeyFromSeed } from "../../compiler/emit/sign.ts";
import { filterWasm, headerOf, logsWith } from "../../conformance/hosts/proxy-wasm.ts";
import { ProxyWasmHost, type ClusterHandler, type HeaderPair, type HttpResult } from "../../conformance/hosts/proxy-wasm/host.ts";
import { canonicalize } from "../../telemetry/jcs.ts";

const POLICY_ALLOW = `aegis: 1
policy: lifecycle
version: "1"
default: deny
rules:
  - id: read
    effect: allow
    tool: erp
    action: read
`;
const POLICY_DENY = `aegis: 1
policy: lifecycle
version: "2"
default: deny
rules:
  - id: no-reads
    effect: deny
    tool: erp
    action: read
    reason: reads are closed
`;

const POLICY_APPROVAL = `aegis: 1
policy: approvals
version: "1"
default: deny
rules:
  - id: pay-needs-approval
    effect: approval_needed
    tool: erp
    action: pay
`;

const seedA = new Uint8Array(32).fill(7);
const seedB = new Uint8Array(32).fill(9);
const keyA = publicKeyFromSeed(seedA);

const allowBundle = compile(POLICY_ALLOW);
const denyBundle = compile(POLICY_DENY);
const signedByA = compile(POLICY_ALLOW, { privateKey: seedA });
const signedByB = compile(POLICY_ALLOW, { privateKey: seedB });

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

let wasm: Uint8Array;
let module: WebAssembly.Module;

beforeAll(async () => {
  wasm = await filterWasm();
  module = await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
});

function start(config: unknown, clusters: Record<string, ClusterHandler> = {}): Promise<ProxyWasmHost> {
  return ProxyWasmHost.create(module, { pluginConfig: typeof config === "string" ? config : JSON.stringify(config), clusters });
}

const READ: HeaderPair[] = [[":method", "GET"], [":path", "/tools/erp/read"], [":authority", "tools.local"], ["x-agent-id", "a1"]];

function read(host: ProxyWasmHost): Promise<HttpResult> {
  return host.httpRequest({ headers: READ });
}

function bodyJson(r: HttpResult): { decision?: string; rule?: string; bundle?: string; error?: { code: string; message: string } } {
  return JSON.parse(new TextDecoder().decode(r.localResponse?.body ?? new Uint8Array()));
}

function messages(host: ProxyWasmHost): string[] {
  return host.logs.map((l) => l.message);
}

function errorLines(host: ProxyWasmHost): string[] {
  return host.logs.filter((l) => l.level === "error").map((l) => l.message);
}

describe("proxy-wasm filter module", () => {
  it("imports nothing but proxy-wasm ABI functions from `env`", () => {
    const imports = WebAssembly.Module.imports(module);
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) {
      expect(i.module, `${i.module}.${i.name}`).toBe("env");
      expect(i.name, `${i.module}.${i.name}`).toMatch(/^proxy_[a-z_]+$/);
      expect(i.kind).toBe("function");
    }
  });

  it("exports the ABI marker, the allocator and the callbacks Envoy calls", () => {
    const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    for (const name of [
      "memory", "_initialize", "proxy_abi_version_0_2_1", "proxy_on_memory_allocate", "proxy_on_context_create",
      "proxy_on_vm_start", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_request_body",
      "proxy_on_request_trailers", "proxy_on_response_headers", "proxy_on_done", "proxy_on_delete",
      "proxy_on_http_call_response", "proxy_on_tick",
    ]) expect(exports.has(name), name).toBe(true);
  });

  it("is at most 150 KB", () => {
    console.log(`proxy-wasm filter: ${wasm.length} bytes`);
    expect(wasm.length).toBeLessThanOrEqual(150 * 1024);
  });
});

describe("proxy-wasm filter bundles", () => {
  it("serves an inline bundle and names it in every decision", async () => {
    const host = await start({ bundle: b64(allowBundle), decision_header: true });
    expect(host.configureResult).toBe(true);
    expect(messages(host)).toContainEqual(expect.stringMatching(/^aegis: bundle loaded: sha256:[0-9a-f]{64}, \d+ bytes$/));
    const r = await read(host);
    expect(r.status).toBe(200);
    const decision = JSON.parse(Buffer.from(headerOf(r.response?.headers, "x-aegis-decision-json")!, "base64").toString("utf8"));
    expect(decision).toMatchObject({ decision: "allow", rule: "read", policy_version: "1" });
    expect(messages(host).find((m) => m.includes("bundle loaded"))).toContain(decision.bundle.slice("sha256:".length));
  });

  it("fails closed when the bundle does not load: 503 with a JSON reason and an error log line", async () => {
    const broken = allowBundle.slice();
    broken[broken.length - 1] ^= 0xff; // the DIGEST no longer matches the contents
    const host = await start({ bundle: b64(broken) });
    expect(host.configureResult).toBe(true); // the filter stays in the chain and refuses requests itself
    expect(errorLines(host)).toEqual([expect.stringMatching(/^aegis: bundle rejected: bundle rejected by the engine: .*; every request is refused with 503 until a bundle loads$/)]);
    const r = await read(host);
    expect(r.status).toBe(503);
    expect(r.upstream).toBeUndefined();
    const body = bodyJson(r);
    expect(body.error?.code).toBe("no_bundle");
    expect(body.error?.message).toMatch(/^no bundle is loaded: bundle rejected by the engine: /);
  });

  it("fails closed on a configuration that is not valid, naming the key", async () => {
    const host = await start({ bundle: b64(allowBundle), public_kye: hex(keyA) });
    expect(errorLines(host)).toEqual(["aegis: configuration rejected: unknown configuration key `public_kye`; every request is refused with 503 until a bundle loads"]);
    const r = await read(host);
    expect(r.status).toBe(503);
    expect(bodyJson(r).error?.message).toBe("no bundle is loaded: unknown configuration key `public_kye`");
  });

  it.each([
    ["not JSON", "{bundle", "the plugin configuration is not valid JSON"],
    ["empty", "", "the plugin configuration is empty"],
    ["both sources", { bundle: b64(allowBundle), bundle_url: { cluster: "c", path: "/b" } }, "give exactly one of `bundle` (base64) and `bundle_url`"],
    ["no source", { mode: "http" }, "give exactly one of `bundle` (base64) and `bundle_url`"],
    ["bad base64", { bundle: "!!" }, "configuration key `bundle` must be the bundle bytes in base64"],
    ["short key", { bundle: b64(allowBundle), public_key: "abcd" }, "configuration key `public_key` must be an Ed25519 public key"],
    ["bad mode", { bundle: b64(allowBundle), mode: "grpc" }, "configuration key `mode` must be `http`, `request_body` or `forward_proxy`"],
    ["bad template", { bundle: b64(allowBundle), path_template: "tools/{tool}" }, "configuration key `path_template` must be a path template starting with `/`"],
    ["no action", { bundle: b64(allowBundle), path_template: "/t/{tool}" }, "http mode needs the tool and the action"],
    ["bad status", { bundle: b64(allowBundle), approval_status: 99 }, "configuration key `approval_status` must be an HTTP status code"],
    ["bad header", { bundle: b64(allowBundle), agent_id_header: "x agent" }, "configuration key `agent_id_header` must be a header name"],
    ["bundle_url key", { bundle_url: { cluster: "c", path: "/b", timeout: 5 } }, "unknown configuration key `bundle_url.timeout`"],
    ["telemetry key", { bundle: b64(allowBundle), telemetry: { hots: "x" } }, "unknown configuration key `telemetry.hots`"],
    ["telemetry prev", { bundle: b64(allowBundle), telemetry: { prev: "00" } }, "configuration key `prev` must be a leaf hash (64 hex digits)"],
    ["telemetry seq_start", { bundle: b64(allowBundle), telemetry: { seq_start: 1.5 } }, "configuration key `seq_start` must be an integer from 0 to 9007199254740991"],
    ["telemetry host", { bundle: b64(allowBundle), telemetry: { host: "" } }, "configuration key `host` must be a non-empty string"],
    ["telemetry include_params", { bundle: b64(allowBundle), telemetry: { include_params: "yes" } }, "configuration key `include_params` must be true or false"],
  ])("rejects a configuration: %s", async (_name, config, message) => {
    const host = await start(config);
    expect(errorLines(host)[0]).toContain(message);
    expect((await read(host)).status).toBe(503);
  });

  it("accepts a bundle signed by the configured key, given in hex or base64", async () => {
    for (const key of [hex(keyA), b64(keyA)]) {
      const host = await start({ bundle: b64(signedByA), public_key: key });
      expect(errorLines(host)).toEqual([]);
      expect((await read(host)).status).toBe(200);
    }
  });

  it.each([
    ["signed by another key", () => signedByB, "bundle is signed by a different key"],
    ["unsigned", () => allowBundle, "bundle is not signed"],
    ["with a changed signature byte", () => {
      const b = signedByA.slice();
      b[b.length - 1] ^= 1; // the SIGNATURE section is last
      return b;
    }, "bundle signature is invalid"],
  ])("refuses a bundle %s when a public key is configured", async (_name, bundle, reason) => {
    const host = await start({ bundle: b64(bundle()), public_key: hex(keyA) });
    expect(errorLines(host)).toEqual([`aegis: bundle rejected: ${reason}; every request is refused with 503 until a bundle loads`]);
    const r = await read(host);
    expect(r.status).toBe(503);
    expect(bodyJson(r).error?.message).toBe(`no bundle is loaded: ${reason}`);
  });

  it("keeps the previous bundle serving when a new configuration or bundle is bad, and takes a later good one", async () => {
    const host = await start({ bundle: b64(allowBundle) });
    expect((await read(host)).status).toBe(200);

    await host.configure(JSON.stringify({ bundle: b64(signedByB), public_key: hex(keyA) }));
    expect(errorLines(host).at(-1)).toBe("aegis: bundle rejected: bundle is signed by a different key; the previous bundle keeps serving");
    expect((await read(host)).status).toBe(200);

    await host.configure("{not json");
    expect(errorLines(host).at(-1)).toMatch(/^aegis: configuration rejected: .*; the previous bundle keeps serving$/);
    const still = await read(host);
    expect(still.status).toBe(200);
    expect(headerOf(still.response?.headers, "x-aegis-policy-version")).toBe("1");

    await host.configure(JSON.stringify({ bundle: b64(denyBundle) }));
    const denied = await read(host);
    expect(denied.status).toBe(403);
    expect(bodyJson(denied)).toMatchObject({ decision: "deny", rule: "no-reads" });
  });
});

describe("proxy-wasm filter bundle_url", () => {
  const source = { cluster: "bundles", authority: "bundles.internal", path: "/lifecycle.aegis" };

  it("fetches the bundle from the cluster at configure time and verifies it", async () => {
    const seen: HeaderPair[][] = [];
    const host = await start({ bundle_url: source, public_key: hex(keyA) }, {
      bundles: (req) => {
        seen.push(req.headers);
        return { status: 200, body: signedByA };
      },
    });
    expect(seen).toHaveLength(1);
    expect(headerOf(seen[0], ":method")).toBe("GET");
    expect(headerOf(seen[0], ":path")).toBe("/lifecycle.aegis");
    expect(headerOf(seen[0], ":authority")).toBe("bundles.internal");
    expect(host.httpCalls[0]!.timeoutMs).toBe(5000);
    expect(messages(host)).toContainEqual(expect.stringMatching(/^aegis: bundle loaded: /));
    expect((await read(host)).status).toBe(200);
    expect(host.tickPeriodMs).toBe(0); // loaded, no polling configured
  });

  it("fails closed until a fetch succeeds, retrying on the timer", async () => {
    let up = false;
    const host = await start({ bundle_url: { ...source, retry_ms: 250 } }, {
      bundles: () => (up ? { status: 200, body: allowBundle } : { status: 404, body: "no such bundle" }),
    });
    expect(errorLines(host)).toEqual(["aegis: bundle fetch rejected: the bundle fetch from cluster `bundles` returned status `404` (it is retried); every request is refused with 503 until a bundle loads"]);
    expect(host.tickPeriodMs).toBe(250);
    const r = await read(host);
    expect(r.status).toBe(503);
    expect(bodyJson(r).error?.message).toContain("returned status `404`");

    up = true;
    expect(await host.tick()).toBe(true);
    expect((await read(host)).status).toBe(200);
    expect(host.tickPeriodMs).toBe(0);
  });

  it("treats a reset connection like a failed fetch", async () => {
    const host = await start({ bundle_url: source }, { bundles: () => "reset" });
    expect(errorLines(host)[0]).toContain("the bundle fetch from cluster `bundles` failed (no response; it is retried)");
    expect((await read(host)).status).toBe(503);
  });

  it("refuses fetched bytes whose SHA-256 is not the pinned one", async () => {
    const pin = "00".repeat(32);
    const host = await start({ bundle_url: { ...source, sha256: pin } }, { bundles: () => ({ status: 200, body: allowBundle }) });
    expect(errorLines(host)[0]).toContain("the fetched bundle's SHA-256 is not the configured `sha256`");
    expect((await read(host)).status).toBe(503);
  });

  it("polls the URL and swaps in a changed bundle, skipping an unchanged one", async () => {
    let current = allowBundle;
    const host = await start({ bundle_url: { ...source, poll_ms: 60000 } }, { bundles: () => ({ status: 200, body: current }) });
    expect(host.tickPeriodMs).toBe(60000);
    expect((await read(host)).status).toBe(200);
    const loads = () => messages(host).filter((m) => m.startsWith("aegis: bundle loaded")).length;
    expect(loads()).toBe(1);
    await host.tick();
    expect(loads()).toBe(1); // same bytes: not reloaded
    current = denyBundle;
    await host.tick();
    expect(loads()).toBe(2);
    expect((await read(host)).status).toBe(403);
  });

  it("keeps the serving bundle when a poll returns a bad one", async () => {
    let current: Uint8Array | string = allowBundle;
    const host = await start({ bundle_url: { ...source, poll_ms: 1000 } }, { bundles: () => ({ status: 200, body: current }) });
    current = "garbage";
    await host.tick();
    expect(errorLines(host).at(-1)).toMatch(/^aegis: bundle rejected: .*; the previous bundle keeps serving$/);
    expect((await read(host)).status).toBe(200);
  });
});

describe("proxy-wasm filter telemetry", () => {
  const ZEROS = "0".repeat(64);
  /** The leaf hash of a record line (docs/telemetry.md §3), computed here with node:crypto. */
  const leafHashOf = (line: string): string => createHash("sha256").update(Buffer.concat([Buffer.from([0]), Buffer.from(line)])).digest("hex");
  const records = (r: HttpResult): Record<string, unknown>[] => logsWith(r, "aegis.record ").map((m) => JSON.parse(m.slice("aegis.record ".length)));
  /** A request_body-mode request for the `erp` tool; `body` is the whole Aegis request. */
  const call = (host: ProxyWasmHost, body: string, headers: HeaderPair[] = []): Promise<HttpResult> =>
    host.httpRequest({ headers: [[":method", "POST"], [":path", "/aegis"], [":authority", "t"], ...headers], body });
  const READ_REQUEST = '{"agent":{"id":"a1","tenant":"acme"},"tool":"erp","action":"read","params":{"n":1}}';

  it("logs one JCS record per decision at info, with the engine's exact bytes at debug", async () => {
    const host = await start({ bundle: b64(denyBundle) });
    const r = await read(host);
    const decisionLine = r.logs.find((l) => l.message.startsWith("aegis.decision "))!;
    expect(decisionLine.message).toBe(`aegis.decision ${new TextDecoder().decode(r.localResponse!.body)}`);
    expect(decisionLine.level).toBe("debug");
    const lines = r.logs.filter((l) => l.message.startsWith("aegis.record "));
    expect(lines.map((l) => l.level)).toEqual(["info"]);
    const line = lines[0]!.message.slice("aegis.record ".length);
    const record = JSON.parse(line) as Record<string, unknown>;
    expect(canonicalize(record)).toBe(line);
    const decision = bodyJson(r);
    expect(record).toMatchObject({
      type: "decision", v: 1, seq: 0, prev: ZEROS, host: "proxy-wasm", agent: { id: "a1" }, tool: "erp", action: "read",
      decision: "deny", enforced: true, rule: "no-reads", reason: "reads are closed", bundle: decision.bundle,
      policy: { name: "lifecycle", version: "2" },
    });
  });

  it("chains records over requests: seq counts up, prev is the leaf hash of the record before, a bad request included", async () => {
    const host = await start({ mode: "request_body", bundle: b64(allowBundle) });
    const lines: string[] = [];
    const statuses: number[] = [];
    for (const body of [READ_REQUEST, '{"tool":"erp",', READ_REQUEST, '{"agent":{"id":"a1"},"action":"read"}', READ_REQUEST]) {
      const r = await call(host, body);
      statuses.push(r.status!);
      const got = logsWith(r, "aegis.record ");
      expect(got, body).toHaveLength(1);
      lines.push(got[0]!.slice("aegis.record ".length));
    }
    expect(statuses).toEqual([200, 400, 200, 400, 200]);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(parsed[0]!.prev).toBe(ZEROS);
    for (let i = 1; i < lines.length; i++) expect(parsed[i]!.prev, `record ${i}`).toBe(leafHashOf(lines[i - 1]!));
    // The request errors are deny records with the error and the digest of the raw bytes.
    expect(parsed[1]).toMatchObject({ decision: "deny", enforced: true, rule: "", error: { code: "invalid_json" } });
    expect(parsed[1]!.request).toBe(`sha256:${createHash("sha256").update('{"tool":"erp",').digest("hex")}`);
    expect(parsed[3]).toMatchObject({ decision: "deny", error: { code: "invalid_request" }, agent: { id: "a1" }, action: "read" });
    // A decision's digest is over the JCS form of the request.
    expect(parsed[0]!.request).toBe(`sha256:${createHash("sha256").update(canonicalize(JSON.parse(READ_REQUEST))).digest("hex")}`);
  });

  it("posts the same record line to the collector as it logs", async () => {
    const posted: { headers: HeaderPair[]; body: string }[] = [];
    const host = await start(
      { bundle: b64(allowBundle), collector: { cluster: "collector", authority: "otel.internal", path: "/v1/aegis", timeout_ms: 250 } },
      { collector: (req) => { posted.push({ headers: req.headers, body: new TextDecoder().decode(req.body) }); return { status: 204 }; } },
    );
    const first = await read(host);
    const second = await read(host);
    expect([first.status, second.status]).toEqual([200, 200]);
    const logged = [...logsWith(first, "aegis.record "), ...logsWith(second, "aegis.record ")].map((m) => m.slice("aegis.record ".length));
    expect(logged).toHaveLength(2);
    expect(posted.map((p) => p.body)).toEqual(logged.map((l) => `${l}\n`));
    expect(headerOf(posted[0]!.headers, ":method")).toBe("POST");
    expect(headerOf(posted[0]!.headers, ":path")).toBe("/v1/aegis");
    expect(headerOf(posted[0]!.headers, ":authority")).toBe("otel.internal");
    expect(headerOf(posted[0]!.headers, "content-type")).toBe("application/json");
    expect(first.httpCalls[0]!.timeoutMs).toBe(250);
    expect(JSON.parse(logged[1]!).prev).toBe(leafHashOf(logged[0]!));
  });

  it("posts records without logging them when log_records is false, and keeps the chain", async () => {
    const posted: string[] = [];
    const host = await start(
      { bundle: b64(allowBundle), log_records: false, collector: { cluster: "collector", path: "/v1/aegis" } },
      { collector: (req) => { posted.push(new TextDecoder().decode(req.body)); return { status: 204 }; } },
    );
    const r = await read(host);
    await read(host);
    expect(r.status).toBe(200);
    expect(logsWith(r, "aegis.record ")).toEqual([]);
    expect(logsWith(r, "aegis.decision ")).toEqual([]);
    expect(posted).toHaveLength(2);
    const [a, b] = posted.map((p) => p.slice(0, -1));
    expect(JSON.parse(b!)).toMatchObject({ seq: 1, prev: leafHashOf(a!) });
  });

  it("keeps serving when the collector is down", async () => {
    const host = await start(
      { bundle: b64(allowBundle), collector: { cluster: "collector", path: "/v1/aegis" } },
      { collector: () => "reset" },
    );
    expect((await read(host)).status).toBe(200);
    expect((await read(host)).status).toBe(200);
  });

  it("takes ts and eval_ns from the proxy clock around the engine call, and the id from x-request-id", async () => {
    const readings = [1_795_312_539_123_456_789n, 1_795_312_539_123_470_000n];
    const host = await ProxyWasmHost.create(module, {
      pluginConfig: JSON.stringify({ mode: "request_body", bundle: b64(allowBundle) }),
      now: () => readings.shift() ?? 0n,
    });
    readings.splice(0, readings.length, 1_795_312_539_123_456_789n, 1_795_312_539_123_470_000n);
    const r = await call(host, READ_REQUEST, [["x-request-id", "edge-7f3a"]]);
    expect(readings).toEqual([]);
    expect(records(r)[0]).toMatchObject({ ts: "2026-11-22T01:55:39.123Z", eval_ns: 13_211, id: "edge-7f3a" });
  });

  it("makes a UUIDv7 from the clock when there is no usable x-request-id", async () => {
    const host = await start({ mode: "request_body", bundle: b64(allowBundle) });
    const ids: string[] = [];
    for (const headers of [[], [], [["x-request-id", "x".repeat(129)]]] as HeaderPair[][]) {
      const before = Date.now();
      const record = records(await call(host, READ_REQUEST, headers))[0]!;
      const id = String(record.id);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const ms = parseInt(id.replace(/-/g, "").slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBe(Date.parse(String(record.ts)));
      ids.push(id);
    }
    expect(new Set(ids).size).toBe(3);
  });

  it("writes telemetry.host, include_params, seq_start and prev into the records", async () => {
    const prev = "6E340B9CFFB37A989CA544E6BB780A2C78901D3FB33738768511A30617AFA01D";
    const host = await start({ mode: "request_body", bundle: b64(allowBundle), telemetry: { host: "edge-eu1", include_params: true, seq_start: 1000, prev } });
    const record = records(await call(host, READ_REQUEST))[0]!;
    expect(record).toMatchObject({ host: "edge-eu1", params: { n: 1 }, seq: 1000, prev: prev.toLowerCase() });
  });

  it("restarts the chain when a configuration changes its start, and continues it when only something else changes", async () => {
    const config = { mode: "request_body", bundle: b64(allowBundle), telemetry: { seq_start: 5 } };
    const host = await start(config);
    const first = logsWith(await call(host, READ_REQUEST), "aegis.record ")[0]!.slice("aegis.record ".length);
    await host.configure(JSON.stringify({ ...config, telemetry: { seq_start: 5, host: "renamed" } }));
    const second = records(await call(host, READ_REQUEST))[0]!;
    expect(second).toMatchObject({ seq: 6, prev: leafHashOf(first), host: "renamed" });
    await host.configure(JSON.stringify({ ...config, telemetry: { seq_start: 0 } }));
    expect(records(await call(host, READ_REQUEST))[0]).toMatchObject({ seq: 0, prev: ZEROS });
    // A rejected configuration changes nothing.
    await host.configure(JSON.stringify({ ...config, telemetry: { seq_start: -1 } }));
    expect(records(await call(host, READ_REQUEST))[0]).toMatchObject({ seq: 1 });
  });

  it("names the pending approval in x-aegis-approval with the record's approval id", async () => {
    const host = await start({ mode: "request_body", bundle: b64(compile(POLICY_APPROVAL)), log_records: false });
    const r = await call(host, '{"agent":{"id":"a1"},"tool":"erp","action":"pay","params":{"amount":7}}');
    expect(r.status).toBe(403);
    const decision = bodyJson(r) as { bundle: string; rule: string };
    const digest = `sha256:${createHash("sha256").update(canonicalize({ agent: { id: "a1" }, tool: "erp", action: "pay", params: { amount: 7 } })).digest("hex")}`;
    const want = `apr-${createHash("sha256").update(`${decision.bundle}\n${decision.rule}\n${digest}`).digest("hex").slice(0, 32)}`;
    expect(headerOf(r.response?.headers, "x-aegis-approval")).toBe(want);
    expect(logsWith(r, "aegis.record ")).toEqual([]); // the id without a record kept
  });

  it("answers `required` and logs the decision as an error when no record can be written", async () => {
    const host = await start({ mode: "request_body", bundle: b64(compile(POLICY_APPROVAL)) });
    const r = await call(host, '{"agent":{"id":"a1"},"tool":"erp","action":"pay","params":{"amount":1e400}}');
    expect(r.status).toBe(403);
    expect(headerOf(r.response?.headers, "x-aegis-approval")).toBe("required");
    expect(logsWith(r, "aegis.record ")).toEqual([]);
    expect(r.logs.filter((l) => l.level === "error").map((l) => l.message)).toEqual([
      `aegis: no decision record: a value of the request has no canonical JSON form (a number beyond a double, a lone surrogate); the decision: ${new TextDecoder().decode(r.localResponse!.body)}`,
    ]);
    // No leaf was added: the next record is still leaf 0.
    expect(records(await call(host, '{"agent":{"id":"a1"},"tool":"erp","action":"pay","params":{}}'))[0]).toMatchObject({ seq: 0, prev: ZEROS });
  });
});

describe("proxy-wasm filter streams", () => {
  const SANITIZE = `aegis: 1
policy: dlp
version: "1"
default: deny
rules:
  - id: notes
    effect: allow
    tool: erp
    action: note
dlp:
  - name: ssn
    pattern: '[0-9]{3}-[0-9]{2}-[0-9]{4}'
`;

  it("decides a body that ends with trailers once the trailers arrive", async () => {
    const host = await start({ bundle: b64(compile(SANITIZE)) });
    const r = await host.httpRequest({
      headers: [[":method", "POST"], [":path", "/tools/erp/note"], [":authority", "t"], ["x-agent-id", "a1"]],
      body: '{"text":"ssn 123-45-6789"}',
      trailers: [["x-checksum", "1"]],
    });
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(r.upstream!.body)).toBe('{"text":"ssn [REDACTED:ssn]"}');
    expect(r.warnings).toEqual([]);
  });

  it("writes decision headers header-safe: controls, `%` and non-ASCII are percent-encoded", async () => {
    const policy = POLICY_ALLOW.replace('version: "1"', 'version: "v1 % ü\\t"');
    const host = await start({ bundle: b64(compile(policy)) });
    const r = await read(host);
    expect(headerOf(r.upstream?.headers, "x-aegis-policy-version")).toBe("v1 %25 %C3%BC%09");
    expect(headerOf(r.response?.headers, "x-aegis-policy-version")).toBe("v1 %25 %C3%BC%09");
  });

  it("does not grow its memory over many requests once warm", async () => {
    const host = await start({ bundle: b64(compile(SANITIZE)) });
    const memory = (host as unknown as { memory: WebAssembly.Memory }).memory; // the host keeps it private
    const send = () => host.httpRequest({
      headers: [[":method", "POST"], [":path", "/tools/erp/note"], [":authority", "t"], ["x-agent-id", "a1"]],
      body: JSON.stringify({ text: "ssn 123-45-6789 ".repeat(40) }),
    });
    for (let i = 0; i < 50; i++) await send();
    const warm = memory.buffer.byteLength;
    for (let i = 0; i < 1500; i++) {
      const r = await send();
      if (r.status !== 200) throw new Error(`request ${i}: status ${r.status}`);
    }
    expect(memory.buffer.byteLength).toBe(warm);
    expect(host.liveStreamContexts).toBe(0);
  });
});

describe("proxy-wasm filter interleaved streams", () => {
  // Envoy runs many streams through one VM, their callbacks interleaved; the test host runs one
  // stream at a time, so this drives the callbacks directly with a minimal host of its own.
  it("keeps each stream's identity and route until its body arrives", async () => {
    const policy = `aegis: 1
policy: streams
version: "1"
default: deny
rules:
  - id: alice-reads
    effect: allow
    agent: alice
    tool: erp
    action: read
`;
    const config = new TextEncoder().encode(JSON.stringify({ bundle: b64(compile(policy)) }));
    const headers = new Map<number, Map<string, string>>();
    const bodies = new Map<number, Uint8Array>();
    const replies = new Map<number, number>();
    let current = 1;
    let memory!: WebAssembly.Memory;
    let allocate!: (n: number) => number;
    const text = (ptr: number, len: number) => new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, len));
    const copyOut = (bytes: Uint8Array, ptrPtr: number, sizePtr: number): number => {
      const ptr = bytes.length > 0 ? allocate(bytes.length) : 0;
      new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
      new DataView(memory.buffer).setUint32(ptrPtr, ptr, true);
      new DataView(memory.buffer).setUint32(sizePtr, bytes.length, true);
      return 0;
    };
    const env: Record<string, (...args: number[]) => number> = {};
    for (const i of WebAssembly.Module.imports(module)) env[i.name] = () => 0;
    env.proxy_get_buffer_bytes = (type, start, max, ptrPtr, sizePtr) =>
      copyOut(type === 7 ? config : bodies.get(current)!.subarray(start, start + max), ptrPtr, sizePtr);
    env.proxy_get_header_map_value = (_map, keyPtr, keyLen, ptrPtr, sizePtr) => {
      const value = headers.get(current)?.get(text(keyPtr, keyLen));
      return value === undefined ? 1 : copyOut(new TextEncoder().encode(value), ptrPtr, sizePtr);
    };
    env.proxy_send_local_response = (status) => { replies.set(current, status); return 0; };
    const { exports } = await WebAssembly.instantiate(module, { env });
    const x = exports as Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
    memory = x.memory;
    allocate = x.proxy_on_memory_allocate;
    x._initialize();
    x.proxy_on_context_create(1, 0);
    x.proxy_on_configure(1, config.length);

    const streams = [
      { id: 2, agent: "alice", path: "/tools/erp/read" },
      { id: 3, agent: "mallory", path: "/tools/erp/read" },
      { id: 4, agent: "alice", path: "/tools/erp/delete" },
    ];
    for (const s of streams) {
      current = s.id;
      headers.set(s.id, new Map([[":path", s.path], ["x-agent-id", s.agent]]));
      bodies.set(s.id, new TextEncoder().encode('{"doc": 1}'));
      x.proxy_on_context_create(s.id, 1);
      expect(x.proxy_on_request_headers(s.id, 2, 0)).toBe(0); // continue: the body decides
    }
    for (const s of [...streams].reverse()) {
      current = s.id;
      headers.delete(s.id); // Envoy no longer serves the headers once they went on
      x.proxy_on_request_body(s.id, bodies.get(s.id)!.length, 1);
    }
    expect(replies.get(2)).toBeUndefined();
    expect(replies.get(3)).toBe(403);
    expect(replies.get(4)).toBe(403);
  });
});
