// Conformance host "proxy-wasm": the Aegis Envoy filter (build/proxy-wasm/aegis-filter.wasm, built
// from bindings/proxy-wasm/ by scripts/build-proxy-wasm.ts) in the proxy-wasm test host
// (conformance/hosts/proxy-wasm/host.ts), in `request_body` mode: the HTTP body is the Aegis
// request itself, so every golden case runs through the filter unchanged. Input: bundle bytes and
// request bytes. Output: the exact bytes the filter exposes for the decision:
//   - deny, approval_needed, a request error, no bundle: the local response's body;
//   - allow, sanitize: the `x-aegis-decision-json` response header (base64 of the decision JSON,
//     enabled by `decision_header`), after checking that a sanitize decision's params are what
//     went upstream in place of the request's params.
// Decision records (`record`): a fresh filter VM configured with the record inputs (`telemetry`
// seq_start, prev, host, include_params), the test host's clock answering ts then ts + eval_ns,
// and `x-request-id` as the id; the output is the record of the `aegis.record ` log line.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parse as parseYaml } from "yaml";
import type { ConformanceHost } from "../runner.ts";
import type { RecordMeta } from "../../telemetry/record.ts";
import { buildProxyWasm } from "../../scripts/build-proxy-wasm.ts";
import { ProxyWasmHost, type HeaderPair, type HostOptions, type HttpResult } from "./proxy-wasm/host.ts";

let filterBytes: Promise<Uint8Array> | null = null;
let filterModule: Promise<WebAssembly.Module> | null = null;

/** The filter's wasm bytes, built first when missing or stale (once per process). */
export function filterWasm(): Promise<Uint8Array> {
  filterBytes ??= buildProxyWasm().then((b) => new Uint8Array(readFileSync(b.filter)));
  return filterBytes;
}

/** The filter compiled once per process, for tests that start many VMs. */
export function filterModuleOnce(): Promise<WebAssembly.Module> {
  filterModule ??= filterWasm().then((b) => WebAssembly.compile(b as Uint8Array<ArrayBuffer>));
  return filterModule;
}

/** The value of header `name` in `headers` (names are lower-case in the test host). */
export function headerOf(headers: readonly HeaderPair[] | undefined, name: string): string | undefined {
  return headers?.find(([k]) => k === name)?.[1];
}

/** Log lines whose message starts with `prefix`, in order. */
export function logsWith(result: { logs: { message: string }[] }, prefix: string): string[] {
  return result.logs.filter((l) => l.message.startsWith(prefix)).map((l) => l.message);
}

/**
 * The outcome of a configure: the filter logs `aegis: bundle loaded: ...` or a line saying what
 * was rejected. Returns that line's message when the bundle did not load.
 */
function configureOutcome(host: ProxyWasmHost, from: number): string | null {
  const lines = host.logs.slice(from).map((l) => l.message);
  if (lines.some((m) => m.startsWith("aegis: bundle loaded"))) return null;
  return lines.find((m) => m.includes(" rejected: ")) ?? "the filter did not load the bundle";
}

/** The request-body-mode plugin configuration for a bundle. */
export function requestBodyConfig(bundle: Uint8Array, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ mode: "request_body", bundle: Buffer.from(bundle).toString("base64"), decision_header: true, ...extra });
}

/** The filter's `telemetry` configuration that makes its record inputs those of `meta` (all but the clock and the id). */
export function telemetryConfig(meta: RecordMeta): Record<string, unknown> {
  return { host: meta.host, include_params: meta.includeParams ?? false, seq_start: meta.seq, prev: meta.prev };
}

/** Longest `x-request-id` the filter takes as the record id (bindings/proxy-wasm/assembly/telemetry.ts). */
const MAX_REQUEST_ID_BYTES = 128;

/** The `aegis.record ` line of a result, without the prefix; throws unless there is exactly one. */
export function recordLine(r: HttpResult): string {
  const lines = logsWith(r, "aegis.record ");
  if (lines.length !== 1) {
    throw new Error(`want one aegis.record log line, got ${lines.length} (logs: ${JSON.stringify(r.logs.map((l) => l.message))})`);
  }
  return lines[0]!.slice("aegis.record ".length);
}

/** The proxy-wasm filter as a conformance host. */
export class ProxyWasmConformanceHost implements ConformanceHost {
  readonly name = "proxy-wasm";
  private host: ProxyWasmHost | null = null;
  private bundle: Uint8Array | null = null;
  private readonly options: HostOptions;

  constructor(options: HostOptions = {}) {
    // Keep info and above: the decision lines are info; the host's default keeps trace, which
    // costs nothing here but makes every result carry more.
    this.options = { logLevel: "info", ...options };
  }

  async load(bundle: Uint8Array): Promise<void> {
    this.bundle = null;
    const config = requestBodyConfig(bundle);
    if (!this.host) {
      this.host = await ProxyWasmHost.create(await filterWasm(), { ...this.options, pluginConfig: config });
      const failure = configureOutcome(this.host, 0);
      if (failure) {
        this.host = null;
        throw new Error(failure);
      }
      this.bundle = bundle;
      return;
    }
    const from = this.host.logs.length;
    await this.host.configure(config);
    const failure = configureOutcome(this.host, from);
    if (failure) throw new Error(failure);
    this.bundle = bundle;
  }

  /** One POST whose body is the request; the decision or error bytes the filter exposed. */
  async evaluate(request: Uint8Array): Promise<Uint8Array> {
    if (!this.host) throw new Error("no bundle is loaded");
    const r = await this.host.httpRequest({
      headers: [[":method", "POST"], [":path", "/aegis/evaluate"], [":authority", "tools.local"], ["content-type", "application/json"], ["content-length", String(request.length)]],
      body: request,
    });
    return decisionBytes(r, request);
  }

  /**
   * The record line the filter logs for `request` with record inputs `meta`. A fresh VM, so the
   * chain starts where `meta` says (a VM keeps `seq` and `prev` across requests): its `telemetry`
   * configuration gives seq, prev, host and include_params; its clock reads `ts` ms before the
   * engine call and `ts` ms + `eval_ns` ns after it; `x-request-id` is the id.
   */
  async record(request: Uint8Array, meta: RecordMeta): Promise<Uint8Array> {
    if (!this.bundle) throw new Error("no bundle is loaded");
    const idBytes = Buffer.byteLength(meta.id);
    if (idBytes === 0 || idBytes > MAX_REQUEST_ID_BYTES || /[\x00-\x1f\x7f]/.test(meta.id)) {
      throw new Error(`record id \`${meta.id}\` cannot travel as x-request-id (1 to ${MAX_REQUEST_ID_BYTES} bytes, no controls)`);
    }
    const start = BigInt(meta.ts) * 1_000_000n;
    const end = start + BigInt(meta.evalNs);
    if (end >= 1n << 64n) throw new Error(`record time ${meta.ts} ms is beyond the proxy-wasm clock (u64 ns)`);
    const readings: bigint[] = [];
    const fallback = this.options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    const host = await ProxyWasmHost.create(await filterModuleOnce(), {
      ...this.options,
      pluginConfig: requestBodyConfig(this.bundle, { telemetry: telemetryConfig(meta) }),
      now: () => readings.shift() ?? fallback(),
    });
    const failure = configureOutcome(host, 0);
    if (failure) throw new Error(failure);
    readings.push(start, end);
    const r = await host.httpRequest({
      headers: [
        [":method", "POST"], [":path", "/aegis/evaluate"], [":authority", "tools.local"], ["content-type", "application/json"],
        ["content-length", String(request.length)], ["x-request-id", meta.id],
      ],
      body: request,
    });
    if (r.trapped) throw new Error(`the filter trapped: ${r.error}`);
    if (readings.length !== 0) throw new Error("the filter did not read the clock before and after the engine call");
    return new TextEncoder().encode(recordLine(r));
  }
}

/**
 * The decision or error bytes of one request-body-mode exchange. Throws when the filter's behaviour
 * does not fit the decision (a trap, a paused stream, a sanitize whose upstream body does not carry
 * the redacted params, a decision header that does not match what the request got).
 */
export function decisionBytes(r: HttpResult, request: Uint8Array): Uint8Array {
  if (r.trapped) throw new Error(`the filter trapped: ${r.error}`);
  if (r.paused) throw new Error(`the filter left the stream paused in the ${r.pausedIn}`);
  if (r.localResponse) {
    if (r.upstream && r.upstream.body.length > 0) throw new Error("a request answered locally still sent its body upstream");
    return r.localResponse.body;
  }
  const encoded = headerOf(r.response?.headers, "x-aegis-decision-json");
  if (encoded === undefined) throw new Error("the request went upstream without an x-aegis-decision-json response header");
  const bytes = new Uint8Array(Buffer.from(encoded, "base64"));
  const decision = JSON.parse(new TextDecoder().decode(bytes)) as { decision: string; params?: unknown };
  if (decision.decision !== "allow" && decision.decision !== "sanitize") {
    throw new Error(`a \`${decision.decision}\` decision went upstream`);
  }
  if (!r.upstream) throw new Error("an allowed request did not reach the upstream");
  const sent = JSON.parse(new TextDecoder().decode(request)) as Record<string, unknown>;
  const forwarded = JSON.parse(new TextDecoder().decode(r.upstream.body)) as Record<string, unknown>;
  if (decision.decision === "sanitize" && "params" in sent) sent.params = decision.params;
  if (JSON.stringify(forwarded) !== JSON.stringify(sent)) {
    throw new Error(`the upstream got ${new TextDecoder().decode(r.upstream.body)}, want the request${decision.decision === "sanitize" ? " with the redacted params" : ""}`);
  }
  return bytes;
}

/** A fresh proxy-wasm conformance host (the test host and filter are created on the first load). */
export function createProxyWasmHost(options: HostOptions = {}): ConformanceHost {
  return new ProxyWasmConformanceHost(options);
}

// ---- HTTP mapping cases (conformance/http-mapping/*.yaml) ----------------------------------------

/** One request of an HTTP mapping case, as the YAML spells it. */
export interface MappingRequest {
  method?: string;
  /** `:path`; null leaves it out (CONNECT). Default `/`. */
  path?: string | null;
  authority?: string;
  scheme?: string;
  headers?: Record<string, string>;
  /** A verified JWT payload, forwarded base64url-encoded in `header` (jwt_authn's forward_payload_header). */
  jwt?: { header: string; payload: unknown };
  body?: string;
  body_json?: unknown;
  chunk_size?: number;
  /** Send Content-Length with a body (default true). */
  content_length?: boolean;
}

/** What one HTTP mapping case expects. */
export interface MappingWant {
  /** The status the client got (a local response's, or the upstream's 200). */
  status: number;
  /** Members the decision JSON must have (from the local body or the x-aegis-decision-json response header). */
  decision?: Record<string, unknown>;
  /** A refusal's error JSON: its code, and text its message must contain. */
  error?: { code: string; message?: string };
  /** Response headers (null: must be absent; `$record.<member>`: that string member of the record). */
  response_headers?: Record<string, string | null>;
  /** Members the decision record (the `aegis.record ` log line) must have (null: must be absent). */
  record?: Record<string, unknown>;
  /** false: nothing reached the upstream. Otherwise headers (null: absent) and the exact body. */
  upstream?: false | { headers?: Record<string, string | null>; body?: string; body_json?: unknown };
  /** Each must be the start of some log line. */
  logs?: string[];
}

export interface MappingCase {
  name: string;
  description?: string;
  /** The filter configuration without `bundle` (the runner adds it, and `decision_header: true` unless given). */
  config: Record<string, unknown>;
  request: MappingRequest;
  want: MappingWant;
}

export interface MappingFile {
  path: string;
  description?: string;
  policy: string;
  cases: MappingCase[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function only(file: string, where: string, v: Obj, keys: string[]): void {
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw new Error(`${file}: ${where}: unknown key \`${k}\``);
}

/** Read and check every HTTP mapping case file under `dir`, sorted by name. */
export function loadMappingFiles(dir: string): MappingFile[] {
  return readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort().map((name) => {
    const doc = parseYaml(readFileSync(path.join(dir, name), "utf8"), { uniqueKeys: true }) as unknown;
    if (!isObj(doc)) throw new Error(`${name}: a mapping file must be a map`);
    only(name, "file", doc, ["description", "policy", "config", "cases"]);
    if (typeof doc.policy !== "string") throw new Error(`${name}: policy must be a string`);
    const base = doc.config ?? {};
    if (!isObj(base)) throw new Error(`${name}: config must be a map`);
    if (!Array.isArray(doc.cases) || doc.cases.length === 0) throw new Error(`${name}: cases must be a non-empty list`);
    const cases = doc.cases.map((c: unknown, i: number): MappingCase => {
      if (!isObj(c) || typeof c.name !== "string") throw new Error(`${name}: cases[${i}] must be a map with a name`);
      only(name, c.name, c, ["name", "description", "config", "request", "want"]);
      if (c.config !== undefined && !isObj(c.config)) throw new Error(`${name}: ${c.name}: config must be a map`);
      if (!isObj(c.request)) throw new Error(`${name}: ${c.name}: request must be a map`);
      only(name, `${c.name}: request`, c.request, ["method", "path", "authority", "scheme", "headers", "jwt", "body", "body_json", "chunk_size", "content_length"]);
      if (!isObj(c.want) || typeof c.want.status !== "number") throw new Error(`${name}: ${c.name}: want must be a map with a status`);
      only(name, `${c.name}: want`, c.want, ["status", "decision", "error", "response_headers", "record", "upstream", "logs"]);
      return {
        name: c.name,
        description: typeof c.description === "string" ? c.description : undefined,
        config: { ...base, ...(c.config as Obj | undefined) },
        request: c.request as MappingRequest,
        want: c.want as unknown as MappingWant,
      };
    });
    return { path: name, description: typeof doc.description === "string" ? doc.description : undefined, policy: doc.policy, cases };
  });
}

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}

/** The test host's request for a mapping case. */
export function mappingRequest(r: MappingRequest): { headers: HeaderPair[]; body?: string; chunkSize?: number } {
  const headers: HeaderPair[] = [[":method", r.method ?? "POST"]];
  if (r.path !== null) headers.push([":path", r.path ?? "/"]);
  headers.push([":authority", r.authority ?? "tools.local"]);
  if (r.scheme !== undefined) headers.push([":scheme", r.scheme]);
  for (const [k, v] of Object.entries(r.headers ?? {})) headers.push([k.toLowerCase(), v]);
  if (r.jwt) headers.push([r.jwt.header, base64url(JSON.stringify(r.jwt.payload))]);
  const body = r.body_json !== undefined ? JSON.stringify(r.body_json) : r.body;
  if (body !== undefined && body.length > 0 && r.content_length !== false) headers.push(["content-length", String(Buffer.byteLength(body))]);
  return { headers, body, chunkSize: r.chunk_size };
}

/** Why the result does not match `want`, or null. */
export function checkMapping(want: MappingWant, r: HttpResult): string | null {
  const problems: string[] = [];
  if (r.trapped) return `the filter trapped: ${r.error}`;
  if (r.paused) return `the stream was left paused in the ${r.pausedIn}`;
  if (r.status !== want.status) problems.push(`status ${r.status}, want ${want.status}`);
  const headers = r.response?.headers ?? [];
  let record: Obj | undefined;
  const recordLines = logsWith(r, "aegis.record ");
  if (recordLines.length === 1) {
    try { record = JSON.parse(recordLines[0]!.slice("aegis.record ".length)) as Obj; } catch { record = undefined; }
  }
  const needsRecord = want.record !== undefined || Object.values(want.response_headers ?? {}).some((v) => v?.startsWith("$record."));
  if (needsRecord && !record) problems.push(`want one aegis.record log line holding a JSON object, got ${JSON.stringify(recordLines)}`);
  for (const [k, v] of Object.entries(want.response_headers ?? {})) {
    const got = headerOf(headers, k);
    const fromRecord = v?.startsWith("$record.") ? record?.[v.slice("$record.".length)] : undefined;
    if (v?.startsWith("$record.") && typeof fromRecord !== "string") { problems.push(`response header ${k}: the record has no string \`${v.slice(8)}\``); continue; }
    const wanted = fromRecord ?? v ?? undefined;
    if (got !== wanted) problems.push(`response header ${k}: ${JSON.stringify(got)}, want ${JSON.stringify(wanted)}${wanted !== v ? ` (${v})` : ""}`);
  }
  if (record) {
    for (const [k, v] of Object.entries(want.record ?? {})) {
      // Records are JCS (members sorted): compare values, not member order.
      const differs = v === null ? k in record : !isDeepStrictEqual(record[k], v);
      if (differs) problems.push(`record.${k}: ${JSON.stringify(record[k])}, want ${v === null ? "absent" : JSON.stringify(v)}`);
    }
  }
  const bodyText = r.localResponse ? new TextDecoder().decode(r.localResponse.body) : undefined;
  if (want.decision) {
    let decision: Obj | undefined;
    try {
      if (bodyText !== undefined) decision = JSON.parse(bodyText) as Obj;
      else {
        const encoded = headerOf(headers, "x-aegis-decision-json");
        if (encoded !== undefined) decision = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as Obj;
      }
    } catch {
      decision = undefined;
    }
    if (!decision) problems.push("no decision JSON (local body or x-aegis-decision-json)");
    else {
      for (const [k, v] of Object.entries(want.decision)) {
        if (JSON.stringify(decision[k]) !== JSON.stringify(v)) problems.push(`decision.${k}: ${JSON.stringify(decision[k])}, want ${JSON.stringify(v)}`);
      }
    }
  }
  if (want.error) {
    let error: Obj | undefined;
    try { error = (JSON.parse(bodyText ?? "") as { error?: Obj }).error; } catch { error = undefined; }
    if (!error) problems.push(`no error JSON in the local response (body ${JSON.stringify(bodyText)})`);
    else {
      if (error.code !== want.error.code) problems.push(`error.code ${JSON.stringify(error.code)}, want ${JSON.stringify(want.error.code)}`);
      if (want.error.message !== undefined && !String(error.message).includes(want.error.message)) {
        problems.push(`error.message ${JSON.stringify(error.message)} lacks ${JSON.stringify(want.error.message)}`);
      }
    }
  }
  if (want.upstream === false) {
    if (r.upstream && r.upstream.body.length > 0) problems.push("the body reached the upstream");
    if (!r.localResponse) problems.push("the request was not answered locally");
  } else if (want.upstream) {
    if (!r.upstream) problems.push("nothing reached the upstream");
    else {
      for (const [k, v] of Object.entries(want.upstream.headers ?? {})) {
        const got = headerOf(r.upstream.headers, k);
        if (got !== (v ?? undefined)) problems.push(`upstream header ${k}: ${JSON.stringify(got)}, want ${JSON.stringify(v)}`);
      }
      const body = want.upstream.body_json !== undefined ? JSON.stringify(want.upstream.body_json) : want.upstream.body;
      const got = new TextDecoder().decode(r.upstream.body);
      if (body !== undefined && got !== body) problems.push(`upstream body ${JSON.stringify(got)}, want ${JSON.stringify(body)}`);
    }
  }
  for (const prefix of want.logs ?? []) {
    if (!r.logs.some((l) => l.message.startsWith(prefix))) problems.push(`no log line starting with ${JSON.stringify(prefix)} (logs: ${JSON.stringify(r.logs.map((l) => l.message))})`);
  }
  return problems.length === 0 ? null : problems.join("; ");
}
