// Filter: plugin configuration. Input: the JSON the proxy passes to proxy_on_configure (the Envoy
// `configuration` value; reference in docs/envoy.md "Configuration"). Output: a Config, or an error
// message naming the bad key. Parsed with the engine's strict JSON reader (engine/json.ts), so a
// configuration obeys the same rules as a request: UTF-8, no duplicate keys, at most 1 MiB.
// Unknown keys are errors: a misspelt `public_key` must not silently turn verification off.

import { parseJson, jsonRoot } from "../../../engine/json";
import { arenaReset } from "../../../engine/arena";
import {
  KIND_FALSE, KIND_NUMBER, KIND_OBJECT, KIND_STRING, KIND_TRUE, MEMBER_SIZE,
  containerCount, containerPtr, memberKeyLen, memberKeyPtr, memberValue, nodeKind, numberValue,
  stringLen, stringPtr,
} from "../../../engine/tape";
import { utf8CountCodePoints } from "../../../engine/utf8";
import { ByteBuf, Bytes, decodeBase64, decodeHex, equalsAscii } from "./bytes";

/** How a request becomes an Aegis request (docs/envoy.md "Modes"). */
export const MODE_HTTP: i32 = 0;
export const MODE_REQUEST_BODY: i32 = 1;
export const MODE_FORWARD_PROXY: i32 = 2;

/** A path template segment: literal text, or the tool or action placeholder. */
export const SEGMENT_LITERAL: i32 = 0;
export const SEGMENT_TOOL: i32 = 1;
export const SEGMENT_ACTION: i32 = 2;

export class Segment {
  constructor(public kind: i32, public text: Bytes) {}
}

/** Where the bundle comes from when it is fetched: an HTTP GET to a cluster the proxy knows. */
export class BundleSource {
  cluster: Bytes = new Bytes(0, 0);
  authority: Bytes = new Bytes(0, 0);
  path: Bytes = new Bytes(0, 0);
  timeoutMs: u32 = 5000;
  /** Re-fetch period once loaded (0: fetch once). Failed fetches are retried every retryMs. */
  pollMs: u32 = 0;
  retryMs: u32 = 5000;
  /** Expected SHA-256 of the fetched bytes (32 bytes), when pinned. */
  sha256: Bytes | null = null;
}

/** Where decision records go besides the proxy log. */
export class Collector {
  cluster: Bytes = new Bytes(0, 0);
  authority: Bytes = new Bytes(0, 0);
  path: Bytes = new Bytes(0, 0);
  timeoutMs: u32 = 1000;
}

/** 64 `0`s: the `prev` of leaf 0. */
export const ZERO_HASH = Bytes.ascii("0000000000000000000000000000000000000000000000000000000000000000");

export class Config {
  mode: i32 = MODE_HTTP;
  /** Never block: every request passes and the would-be decision is logged. */
  shadow: bool = false;
  maxBodyBytes: u32 = 1048576;
  /** Inline bundle bytes (decoded from base64), or null when `bundle_url` is used. */
  bundle: Bytes | null = null;
  bundleSource: BundleSource | null = null;
  /** Trusted Ed25519 public key (32 bytes); when set, only bundles it signed load. */
  publicKey: Bytes | null = null;

  agentIdHeader: Bytes = Bytes.ascii("x-agent-id");
  tenantHeader: Bytes | null = Bytes.ascii("x-agent-tenant");
  scopesHeader: Bytes | null = Bytes.ascii("x-agent-scopes");
  /** Header with the verified JWT payload (base64url JSON), e.g. jwt_authn's forward_payload_header. */
  jwtPayloadHeader: Bytes | null = null;
  agentIdClaim: Bytes = Bytes.ascii("sub");
  tenantClaim: Bytes = Bytes.ascii("tenant");
  scopesClaim: Bytes = Bytes.ascii("scope");
  callChainHeader: Bytes | null = Bytes.ascii("x-agent-call-chain");

  /** Path template segments (after the leading `/`); empty when tool and action come from headers. */
  template: Segment[] = [];
  templateText: Bytes = Bytes.ascii("/tools/{tool}/{action}");
  toolHeader: Bytes | null = null;
  actionHeader: Bytes | null = null;
  /** The `tool` of every forward-proxy request. */
  forwardTool: Bytes = Bytes.ascii("http");

  approvalStatus: u32 = 403;
  /** Add `x-aegis-decision-json` (base64 of the decision JSON) where decision headers go. */
  decisionHeader: bool = false;
  /** Log one record per decision (proxy_log, info). */
  logRecords: bool = true;
  collector: Collector | null = null;
  /** The decision records' `host` member. */
  recordHost: Bytes = Bytes.ascii("proxy-wasm");
  /** Put the request's (or a sanitize decision's redacted) params into every record. */
  includeParams: bool = false;
  /** `seq` of the first record of a chain this configuration starts. */
  seqStart: u64 = 0;
  /** `prev` of that first record: 64 lower-case hex digits (ASCII). */
  prevStart: Bytes = ZERO_HASH;
}

/** Why the last parseConfig failed (lowercase, user input in backticks). */
export const configError = new ByteBuf();

function fail(message: string): Config | null {
  configError.reset();
  configError.ascii(message);
  return null;
}

function unknownKey(parent: string, keyPtr: usize, keyLen: usize): void {
  bad = true;
  configError.reset();
  configError.ascii("unknown configuration key `");
  configError.ascii(parent);
  configError.bytes(keyPtr, keyLen);
  configError.byte(0x60);
}

// The member being read, for messages: `key` must be ...
let curKeyPtr: usize = 0;
let curKeyLen: usize = 0;
let bad: bool = false;

function mustBe(what: string): void {
  if (bad) return;
  bad = true;
  configError.reset();
  configError.ascii("configuration key `");
  configError.bytes(curKeyPtr, curKeyLen);
  configError.ascii("` must be ");
  configError.ascii(what);
}

function str(v: usize): Bytes {
  if (nodeKind(v) != KIND_STRING || stringLen(v) == 0) { mustBe("a non-empty string"); return new Bytes(0, 0); }
  return Bytes.copy(stringPtr(v), <usize>stringLen(v));
}

/** A header name: lower-cased, as proxies store them. */
function headerName(v: usize): Bytes {
  const b = str(v);
  for (let i: usize = 0; i < b.len; i++) {
    const c = load<u8>(b.ptr + i);
    if (c - 0x41 < 26) store<u8>(b.ptr + i, c + 0x20);
    else if (c <= 0x20 || c >= 0x7f || c == 0x3a) { mustBe("a header name"); break; }
  }
  return b;
}

/** A header name, or null for JSON null / "" (turns the header off). */
function optionalHeader(v: usize): Bytes | null {
  if (nodeKind(v) == 0 || (nodeKind(v) == KIND_STRING && stringLen(v) == 0)) return null;
  return headerName(v);
}

function flag(v: usize): bool {
  const k = nodeKind(v);
  if (k == KIND_TRUE) return true;
  if (k != KIND_FALSE) mustBe("true or false");
  return false;
}

function uint(v: usize, lo: u32, hi: u32, what: string): u32 {
  if (nodeKind(v) != KIND_NUMBER) { mustBe(what); return lo; }
  const d = numberValue(v);
  if (!(d >= <f64>lo && d <= <f64>hi) || d != Math.floor(d)) { mustBe(what); return lo; }
  return <u32>d;
}

/** Bytes from hex or base64 text that must decode to exactly `size` bytes. */
function fixedBytes(v: usize, size: usize, what: string): Bytes | null {
  if (nodeKind(v) != KIND_STRING) { mustBe(what); return null; }
  const out = new ByteBuf();
  const p = stringPtr(v), n = <usize>stringLen(v);
  if (n == size * 2 ? decodeHex(p, n, out) : decodeBase64(p, n, out)) {
    if (out.len == size) return new Bytes(out.ptr, out.len);
  }
  mustBe(what);
  return null;
}

function parseTemplate(config: Config, b: Bytes): void {
  config.templateText = b;
  config.template = [];
  if (b.len == 0 || load<u8>(b.ptr) != 0x2f) { mustBe("a path template starting with `/`"); return; }
  let start: usize = 1;
  let tools = 0, actions = 0;
  for (let i: usize = 1; i <= b.len; i++) {
    if (i < b.len && load<u8>(b.ptr + i) != 0x2f) continue;
    const p = b.ptr + start, n = i - start;
    if (equalsAscii(p, n, "{tool}")) { config.template.push(new Segment(SEGMENT_TOOL, new Bytes(p, n))); tools++; }
    else if (equalsAscii(p, n, "{action}")) { config.template.push(new Segment(SEGMENT_ACTION, new Bytes(p, n))); actions++; }
    else {
      for (let j: usize = 0; j < n; j++) {
        const c = load<u8>(p + j);
        if (c == 0x7b || c == 0x7d || c == 0x3f || c == 0x23) { mustBe("a path template with only `{tool}` and `{action}` placeholders"); return; }
      }
      config.template.push(new Segment(SEGMENT_LITERAL, new Bytes(p, n)));
    }
    start = i + 1;
  }
  if (tools > 1 || actions > 1) mustBe("a path template naming `{tool}` and `{action}` at most once each");
}

function parseBundleSource(v: usize): BundleSource | null {
  if (nodeKind(v) != KIND_OBJECT) { mustBe("an object"); return null; }
  const s = new BundleSource();
  const n = containerCount(v);
  let m = containerPtr(v);
  for (let i: u32 = 0; i < n && !bad; i++, m += MEMBER_SIZE) {
    const k = memberKeyPtr(m), kl = <usize>memberKeyLen(m), x = memberValue(m);
    curKeyPtr = k; curKeyLen = kl;
    if (equalsAscii(k, kl, "cluster")) s.cluster = str(x);
    else if (equalsAscii(k, kl, "authority")) s.authority = str(x);
    else if (equalsAscii(k, kl, "path")) s.path = str(x);
    else if (equalsAscii(k, kl, "timeout_ms")) s.timeoutMs = uint(x, 1, 600000, "a timeout in milliseconds (1 to 600000)");
    else if (equalsAscii(k, kl, "poll_ms")) s.pollMs = uint(x, 0, 86400000, "a period in milliseconds (0 to 86400000)");
    else if (equalsAscii(k, kl, "retry_ms")) s.retryMs = uint(x, 100, 86400000, "a period in milliseconds (100 to 86400000)");
    else if (equalsAscii(k, kl, "sha256")) s.sha256 = fixedBytes(x, 32, "a SHA-256 digest (64 hex digits)");
    else unknownKey("bundle_url.", k, kl);
  }
  if (!bad && (s.cluster.len == 0 || s.path.len == 0)) { bad = true; fail("`bundle_url` needs `cluster` and `path`"); }
  if (!bad && s.authority.len == 0) s.authority = s.cluster;
  return s;
}

function parseCollector(v: usize): Collector | null {
  if (nodeKind(v) != KIND_OBJECT) { mustBe("an object"); return null; }
  const c = new Collector();
  const n = containerCount(v);
  let m = containerPtr(v);
  for (let i: u32 = 0; i < n && !bad; i++, m += MEMBER_SIZE) {
    const k = memberKeyPtr(m), kl = <usize>memberKeyLen(m), x = memberValue(m);
    curKeyPtr = k; curKeyLen = kl;
    if (equalsAscii(k, kl, "cluster")) c.cluster = str(x);
    else if (equalsAscii(k, kl, "authority")) c.authority = str(x);
    else if (equalsAscii(k, kl, "path")) c.path = str(x);
    else if (equalsAscii(k, kl, "timeout_ms")) c.timeoutMs = uint(x, 1, 600000, "a timeout in milliseconds (1 to 600000)");
    else unknownKey("collector.", k, kl);
  }
  if (!bad && (c.cluster.len == 0 || c.path.len == 0)) { bad = true; fail("`collector` needs `cluster` and `path`"); }
  if (!bad && c.authority.len == 0) c.authority = c.cluster;
  return c;
}

/** The `telemetry` object: what the decision records carry besides the decision. */
function parseTelemetry(config: Config, v: usize): void {
  if (nodeKind(v) != KIND_OBJECT) { mustBe("an object"); return; }
  const n = containerCount(v);
  let m = containerPtr(v);
  for (let i: u32 = 0; i < n && !bad; i++, m += MEMBER_SIZE) {
    const k = memberKeyPtr(m), kl = <usize>memberKeyLen(m), x = memberValue(m);
    curKeyPtr = k; curKeyLen = kl;
    if (equalsAscii(k, kl, "host")) {
      const b = str(x);
      // The record writer refuses a host that is not UTF-8 (an escaped lone surrogate): say so now.
      if (!bad && utf8CountCodePoints(b.ptr, b.len) < 0) mustBe("a UTF-8 string");
      config.recordHost = b;
    } else if (equalsAscii(k, kl, "include_params")) config.includeParams = flag(x);
    else if (equalsAscii(k, kl, "seq_start")) {
      const d = nodeKind(x) == KIND_NUMBER ? numberValue(x) : -1.0;
      // Records are JSON numbers: beyond 2^53 - 1 consecutive seqs would print the same.
      if (!(d >= 0 && d <= 9007199254740991.0) || d != Math.floor(d)) mustBe("an integer from 0 to 9007199254740991");
      else config.seqStart = <u64>d;
    } else if (equalsAscii(k, kl, "prev")) {
      const hash = fixedBytes(x, 32, "a leaf hash (64 hex digits)");
      if (hash !== null) {
        if (nodeKind(x) != KIND_STRING || stringLen(x) != 64) mustBe("a leaf hash (64 hex digits)");
        else {
          // Records carry lower-case hex; the chain must match what audit verify recomputes.
          const text = new ByteBuf();
          text.hex(hash.ptr, 32);
          config.prevStart = new Bytes(text.ptr, text.len);
        }
      }
    } else unknownKey("telemetry.", k, kl);
  }
}

/** Parse `len` bytes of configuration JSON; null with configError set when it is not valid. */
export function parseConfig(ptr: usize, len: usize): Config | null {
  bad = false;
  arenaReset();
  if (len == 0) return fail("the plugin configuration is empty: give at least `bundle` or `bundle_url`");
  if (parseJson(ptr, <u32>len) != 0) return fail("the plugin configuration is not valid JSON (strict RFC 8259, at most 1 MiB)");
  const root = jsonRoot();
  if (nodeKind(root) != KIND_OBJECT) return fail("the plugin configuration must be a JSON object");
  const config = new Config();
  const n = containerCount(root);
  let m = containerPtr(root);
  let sawTemplate = false;
  for (let i: u32 = 0; i < n && !bad; i++, m += MEMBER_SIZE) {
    const k = memberKeyPtr(m), kl = <usize>memberKeyLen(m), v = memberValue(m);
    curKeyPtr = k; curKeyLen = kl;
    if (equalsAscii(k, kl, "mode")) {
      if (nodeKind(v) == KIND_STRING && equalsAscii(stringPtr(v), stringLen(v), "http")) config.mode = MODE_HTTP;
      else if (nodeKind(v) == KIND_STRING && equalsAscii(stringPtr(v), stringLen(v), "request_body")) config.mode = MODE_REQUEST_BODY;
      else if (nodeKind(v) == KIND_STRING && equalsAscii(stringPtr(v), stringLen(v), "forward_proxy")) config.mode = MODE_FORWARD_PROXY;
      else mustBe("`http`, `request_body` or `forward_proxy`");
    } else if (equalsAscii(k, kl, "shadow")) config.shadow = flag(v);
    else if (equalsAscii(k, kl, "max_body_bytes")) config.maxBodyBytes = uint(v, 1, 1048576, "a byte count from 1 to 1048576");
    else if (equalsAscii(k, kl, "bundle")) {
      if (nodeKind(v) != KIND_STRING) { mustBe("the bundle bytes in base64"); break; }
      const out = new ByteBuf();
      if (!decodeBase64(stringPtr(v), <usize>stringLen(v), out) || out.len == 0) { mustBe("the bundle bytes in base64"); break; }
      config.bundle = new Bytes(out.ptr, out.len);
    } else if (equalsAscii(k, kl, "bundle_url")) config.bundleSource = parseBundleSource(v);
    else if (equalsAscii(k, kl, "public_key")) config.publicKey = fixedBytes(v, 32, "an Ed25519 public key (32 bytes in hex or base64)");
    else if (equalsAscii(k, kl, "agent_id_header")) config.agentIdHeader = headerName(v);
    else if (equalsAscii(k, kl, "tenant_header")) config.tenantHeader = optionalHeader(v);
    else if (equalsAscii(k, kl, "scopes_header")) config.scopesHeader = optionalHeader(v);
    else if (equalsAscii(k, kl, "jwt_payload_header")) config.jwtPayloadHeader = optionalHeader(v);
    else if (equalsAscii(k, kl, "agent_id_claim")) config.agentIdClaim = str(v);
    else if (equalsAscii(k, kl, "tenant_claim")) config.tenantClaim = str(v);
    else if (equalsAscii(k, kl, "scopes_claim")) config.scopesClaim = str(v);
    else if (equalsAscii(k, kl, "call_chain_header")) config.callChainHeader = optionalHeader(v);
    else if (equalsAscii(k, kl, "path_template")) {
      if (nodeKind(v) == 0 || (nodeKind(v) == KIND_STRING && stringLen(v) == 0)) { config.template = []; config.templateText = new Bytes(0, 0); }
      else {
        const b = str(v);
        if (!bad) parseTemplate(config, b);
      }
      sawTemplate = true;
    } else if (equalsAscii(k, kl, "tool_header")) config.toolHeader = optionalHeader(v);
    else if (equalsAscii(k, kl, "action_header")) config.actionHeader = optionalHeader(v);
    else if (equalsAscii(k, kl, "forward_proxy_tool")) config.forwardTool = str(v);
    else if (equalsAscii(k, kl, "approval_status")) config.approvalStatus = uint(v, 200, 599, "an HTTP status code (200 to 599)");
    else if (equalsAscii(k, kl, "decision_header")) config.decisionHeader = flag(v);
    else if (equalsAscii(k, kl, "log_records")) config.logRecords = flag(v);
    else if (equalsAscii(k, kl, "collector")) config.collector = parseCollector(v);
    else if (equalsAscii(k, kl, "telemetry")) parseTelemetry(config, v);
    else unknownKey("", k, kl);
  }
  if (bad) return null;
  if (!sawTemplate) parseTemplate(config, config.templateText);
  if ((config.bundle === null) == (config.bundleSource === null)) {
    return fail("give exactly one of `bundle` (base64) and `bundle_url`");
  }
  if (config.mode == MODE_HTTP) {
    let hasTool = config.toolHeader !== null, hasAction = config.actionHeader !== null;
    for (let i = 0; i < config.template.length; i++) {
      if (config.template[i].kind == SEGMENT_TOOL) hasTool = true;
      if (config.template[i].kind == SEGMENT_ACTION) hasAction = true;
    }
    if (!hasTool || !hasAction) return fail("http mode needs the tool and the action: put `{tool}` and `{action}` in `path_template` or set `tool_header` and `action_header`");
  }
  return config;
}
