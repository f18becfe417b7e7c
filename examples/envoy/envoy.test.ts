// The Envoy example (examples/envoy/envoy.yaml) is valid YAML with the shape docs/envoy.md
// describes (no Envoy binary here to load it): jwt_authn before the Aegis wasm filter before the
// router, the filter's code path, distinct vm_ids, every cluster the filter names defined. Each
// filter's `configuration` JSON is then run through the real filter in the proxy-wasm test host,
// with the bundle cluster served by a fake that returns a bundle signed for the test.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { compile } from "../../compiler/index.ts";
import { publicKeyFromSeed } from "../../compiler/emit/sign.ts";
import { filterWasm, headerOf } from "../../conformance/hosts/proxy-wasm.ts";
import { ProxyWasmHost } from "../../conformance/hosts/proxy-wasm/host.ts";

type Obj = Record<string, any>; // Envoy configuration is untyped YAML: walked as it is

const text = readFileSync(path.join(import.meta.dirname, "envoy.yaml"), "utf8");
const envoy = parseYaml(text, { uniqueKeys: true }) as Obj;
const listeners = envoy.static_resources.listeners as Obj[];
const clusters = new Set((envoy.static_resources.clusters as Obj[]).map((c) => c.name as string));

function httpFilters(listener: string): Obj[] {
  const l = listeners.find((x) => x.name === listener)!;
  const hcm = l.filter_chains[0].filters[0];
  expect(hcm.name).toBe("envoy.filters.network.http_connection_manager");
  return hcm.typed_config.http_filters as Obj[];
}

function wasmConfig(listener: string): { vmId: string; config: Obj } {
  const wasm = httpFilters(listener).find((f) => f.name === "envoy.filters.http.wasm")!;
  expect(wasm.typed_config["@type"]).toBe("type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm");
  const c = wasm.typed_config.config;
  expect(c.vm_config.runtime).toBe("envoy.wasm.runtime.v8");
  expect(c.vm_config.code.local.filename).toMatch(/\/aegis-filter\.wasm$/);
  expect(c.configuration["@type"]).toBe("type.googleapis.com/google.protobuf.StringValue");
  return { vmId: c.vm_config.vm_id, config: JSON.parse(c.configuration.value) as Obj };
}

const seed = new Uint8Array(32).fill(3);
const POLICY = `aegis: 1
policy: example
version: "1"
default: deny
rules:
  - id: finance-pays
    effect: allow
    agent: finance-agent
    tool: payments
    action: create_payment
    when: agent.tenant == "acme"
  - id: browse
    effect: allow
    tool: http
egress:
  allow_domains: [portal.acme-supplier.com]
`;
let module: WebAssembly.Module;

beforeAll(async () => {
  module = await WebAssembly.compile((await filterWasm()) as Uint8Array<ArrayBuffer>);
});

/** The example's filter configuration with the test's key, served a bundle signed with it. */
async function hostFor(config: Obj): Promise<ProxyWasmHost> {
  const bundle = compile(POLICY, { privateKey: seed });
  const ours = { ...config, public_key: Buffer.from(publicKeyFromSeed(seed)).toString("hex") };
  const host = await ProxyWasmHost.create(module, {
    pluginConfig: JSON.stringify(ours),
    clusters: {
      [config.bundle_url.cluster]: (req) => (headerOf(req.headers, ":path") === config.bundle_url.path ? { status: 200, body: bundle } : { status: 404 }),
      ...(config.collector ? { [config.collector.cluster]: () => ({ status: 204 }) } : {}),
    },
  });
  expect(host.logs.map((l) => l.message)).toContainEqual(expect.stringMatching(/^aegis: bundle loaded/));
  return host;
}

describe("examples/envoy/envoy.yaml", () => {
  it("chains jwt_authn, the Aegis filter and the router on the tools listener", () => {
    expect(httpFilters("tools").map((f) => f.name)).toEqual(["envoy.filters.http.jwt_authn", "envoy.filters.http.wasm", "envoy.filters.http.router"]);
    const jwt = httpFilters("tools")[0]!.typed_config;
    const provider = Object.values(jwt.providers)[0] as Obj;
    expect(provider.forward_payload_header).toBe(wasmConfig("tools").config.jwt_payload_header);
    // Every /tools/ request must carry a verified JWT, so the payload header cannot be forged.
    expect(jwt.rules[0].requires.provider_name).toBe(Object.keys(jwt.providers)[0]);
    expect(jwt.rules[0].requires.allow_missing).toBeUndefined();
  });

  it("checks egress before dynamic_forward_proxy resolves the host on the egress listener", () => {
    expect(httpFilters("egress").map((f) => f.name)).toEqual(["envoy.filters.http.wasm", "envoy.filters.http.dynamic_forward_proxy", "envoy.filters.http.router"]);
    expect(wasmConfig("egress").config.mode).toBe("forward_proxy");
  });

  it("gives each Aegis filter its own VM and defines every cluster it names", () => {
    const tools = wasmConfig("tools"), egress = wasmConfig("egress");
    expect(tools.vmId).not.toBe(egress.vmId);
    for (const { config } of [tools, egress]) {
      expect(clusters.has(config.bundle_url.cluster), config.bundle_url.cluster).toBe(true);
      if (config.collector) expect(clusters.has(config.collector.cluster), config.collector.cluster).toBe(true);
      expect(config.public_key).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("the tools filter's configuration works in the filter: JWT identity, path, body", async () => {
    const host = await hostFor(wasmConfig("tools").config);
    const payload = Buffer.from(JSON.stringify({ sub: "finance-agent", tenant: "acme", scope: "payments:write" })).toString("base64url");
    const r = await host.httpRequest({
      headers: [[":method", "POST"], [":path", "/tools/payments/create_payment"], [":authority", "tools.example.com"], ["x-jwt-payload", payload]],
      body: '{"amount": 10}',
    });
    expect(r.status).toBe(200);
    expect(headerOf(r.response?.headers, "x-aegis-rule")).toBe("finance-pays");
    const denied = await host.httpRequest({
      headers: [[":method", "POST"], [":path", "/tools/payments/create_payment"], [":authority", "tools.example.com"], ["x-jwt-payload", Buffer.from('{"sub":"finance-agent","tenant":"globex"}').toString("base64url")]],
      body: '{"amount": 10}',
    });
    expect(denied.status).toBe(403);
  });

  it("the egress filter's configuration works in the filter: CONNECT allowed and denied", async () => {
    const host = await hostFor(wasmConfig("egress").config);
    const connect = (authority: string) => host.httpRequest({ headers: [[":method", "CONNECT"], [":authority", authority], ["x-agent-id", "research-agent"]] });
    expect((await connect("portal.acme-supplier.com:443")).status).toBe(200);
    expect((await connect("pastebin.example:443")).status).toBe(403);
  });
});
