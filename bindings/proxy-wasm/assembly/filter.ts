// Filter entry point: the Aegis policy engine as an Envoy (proxy-wasm ABI v0.2.1) HTTP filter.
// Built to build/proxy-wasm/aegis-filter.wasm by scripts/build-proxy-wasm.ts. Input: the plugin
// configuration (JSON, config.ts), the bundle (inline or fetched from a cluster) and each HTTP
// stream's headers and body. Output: per request, a decision by the engine compiled in from
// engine/ (the same code as build/aegis.wasm, so the same decision bytes): the request continues
// (allow, sanitize with its body rewritten) or gets a local JSON response (deny, approval needed,
// bad request, no bundle), and a decision record (telemetry.ts) for every decision the engine made.
// docs/envoy.md is the user's guide; this file holds no policy logic.
//
// Envoy forwards request headers before the filter sees the body (proxy-wasm-cpp-host turns a
// paused header callback into "stop all", which would also stop the body callbacks), so:
//   - headers are read in proxy_on_request_headers only (identity, tool, action, context);
//   - a request without a body, and every forward-proxy request, is decided there, and its
//     decision headers (x-aegis-decision, x-aegis-rule, x-aegis-policy-version) go upstream;
//   - a request with a body continues at once (Content-Length removed, so a sanitized body of
//     another length can follow), its body is buffered to the end, and the decision is made then:
//     deny and friends reset the upstream with a local response, sanitize rewrites the body;
//   - the agent sees the decision headers on the response in both cases.

import {
  input_ptr, load_bundle, evaluate_json, output_ptr, output_len, bundle_digest_ptr, result_effect,
} from "../../../engine/index";
import { parseJson, jsonRoot, writeJsonError } from "../../../engine/json";
import { arenaReset } from "../../../engine/arena";
import { sha256 } from "../../../engine/sha256";
import {
  KIND_OBJECT, KIND_STRING, MEMBER_SIZE, containerCount, containerPtr, memberKeyLen, memberKeyPtr,
  nodeKind, objectGet, stringLen, stringPtr,
} from "../../../engine/tape";
import {
  ACTION_CONTINUE, ACTION_PAUSE, BUFFER_HTTP_CALL_RESPONSE_BODY, BUFFER_HTTP_REQUEST_BODY,
  BUFFER_PLUGIN_CONFIGURATION, LOG_ERROR, LOG_INFO, MAP_HTTP_CALL_RESPONSE_HEADERS,
  MAP_HTTP_REQUEST_HEADERS, MAP_HTTP_RESPONSE_HEADERS, getBuffer, getHeader, hostAlloc, httpCall,
  log, nowNs, removeHeader, replaceHeader, resetHostScratch, retLen, retPtr, sendLocalResponse,
  setBuffer, setTickPeriod,
} from "./abi";
import { ByteBuf, Bytes, HeaderMap, equalsAscii } from "./bytes";
import { Config, MODE_FORWARD_PROXY, MODE_REQUEST_BODY, configError, parseConfig } from "./config";
import { mapRequest, refusalBody, refusalStatus, setRefusal } from "./mapping";
import { checkBundleSignature } from "./signature";
import { PHASE_BODY, PHASE_PASSED, PHASE_REPLIED, Stream, closeStream, getStream, openStream } from "./streams";
import { approvalId, emitDecision, seedIds, startChain } from "./telemetry";

const EFFECT_ALLOW: i32 = 0;
const EFFECT_SANITIZE: i32 = 1;
const EFFECT_APPROVAL: i32 = 2;

// ---- state of the VM ----------------------------------------------------------------------------

/** The configuration serving traffic; set only once its bundle is loaded. */
let active: Config | null = null;
/** A configuration waiting for its bundle to be fetched. */
let pending: Config | null = null;
/** Why no bundle serves (plain text), for 503 bodies. */
const loadError = new ByteBuf();
/** SHA-256 of the bundle file that serves, to skip reloading an unchanged poll result. */
const loadedFileHash: usize = memory.data(32);
let fetchToken: i64 = -1;
let fetchFor: Config | null = null;

const message = new ByteBuf();

function logLine(level: u32): void { log(level, message.ptr, message.len); }

// ---- configuration and bundles --------------------------------------------------------------

/** Verify (when a key is configured) and load a bundle; false with the reason in `message`. */
function installBundle(config: Config, ptr: usize, len: usize): bool {
  const key = config.publicKey;
  if (key !== null) {
    const reason = checkBundleSignature(ptr, len, key.ptr);
    if (reason !== null) {
      message.reset();
      message.ascii(reason);
      return false;
    }
  }
  const dst = <usize>input_ptr(<u32>len);
  if (dst == 0) {
    message.reset();
    message.ascii("bundle is larger than the limit");
    return false;
  }
  memory.copy(dst, ptr, len);
  if (load_bundle(<u32>len) != 0) {
    // The engine's error JSON; its message is the reason (the previous bundle keeps serving).
    message.reset();
    message.ascii("bundle rejected by the engine: ");
    message.bytes(<usize>output_ptr(), <usize>output_len());
    return false;
  }
  sha256(ptr, len, loadedFileHash);
  return true;
}

function logLoaded(len: usize): void {
  message.reset();
  message.ascii("aegis: bundle loaded: sha256:");
  message.hex(<usize>bundle_digest_ptr(), 32);
  message.ascii(", ");
  message.decimal(<u64>len);
  message.ascii(" bytes");
  logLine(LOG_INFO);
}

/** Log a rejected configuration or bundle (the reason is in `message`) and say what serves now. */
const rejectedLine = new ByteBuf();

function logRejected(what: string): void {
  const reason = new Bytes(message.ptr, message.len);
  const line = rejectedLine;
  line.reset();
  line.ascii("aegis: ");
  line.ascii(what);
  line.ascii(" rejected: ");
  line.bytes(reason.ptr, reason.len);
  if (active !== null) line.ascii("; the previous bundle keeps serving");
  else {
    line.ascii("; every request is refused with 503 until a bundle loads");
    loadError.reset();
    loadError.bytes(reason.ptr, reason.len);
  }
  log(LOG_ERROR, line.ptr, line.len);
}

const fetchHeaders = new HeaderMap();

function startFetch(config: Config): void {
  const src = config.bundleSource!;
  const headers = fetchHeaders;
  headers.reset();
  headers.addAscii(":method", "GET");
  headers.add(":path", src.path.ptr, src.path.len);
  headers.add(":authority", src.authority.ptr, src.authority.len);
  headers.addAscii("accept", "application/octet-stream");
  const h = headers.serialize();
  fetchToken = httpCall(src.cluster.ptr, src.cluster.len, h.ptr, h.len, 0, 0, src.timeoutMs);
  fetchFor = config;
  if (fetchToken < 0) {
    message.reset();
    message.ascii("the bundle fetch from cluster `");
    message.bytes(src.cluster.ptr, src.cluster.len);
    message.ascii("` could not be started (unknown cluster?)");
    logRejected("bundle fetch");
    fetchFor = null;
  }
}

/** Called when the host starts the VM: the configuration carries everything but the id seed. */
export function proxy_on_vm_start(root: u32, size: u32): u32 {
  seedIds(nowNs());
  return 1;
}

/**
 * A new plugin configuration. Returns true even when the configuration or its bundle is bad: the
 * filter then keeps serving the previous bundle, or refuses every request with 503 (fail closed),
 * where returning false could make a proxy configured to fail open skip the filter.
 */
export function proxy_on_configure(root: u32, size: u32): u32 {
  resetHostScratch();
  let config: Config | null = null;
  if (size > 0 && getBuffer(BUFFER_PLUGIN_CONFIGURATION, 0, size)) config = parseConfig(retPtr, retLen);
  else {
    configError.reset();
    configError.ascii("the plugin configuration is empty: give at least `bundle` or `bundle_url`");
  }
  if (config === null) {
    message.reset();
    message.bytes(configError.ptr, configError.len);
    logRejected("configuration");
    return 1;
  }
  const inline = config.bundle;
  if (inline !== null) {
    if (!installBundle(config, inline.ptr, inline.len)) { logRejected("bundle"); return 1; }
    active = config;
    startChain(config);
    pending = null;
    fetchToken = -1;
    fetchFor = null;
    setTickPeriod(0);
    logLoaded(inline.len);
    return 1;
  }
  pending = config;
  if (active === null) {
    loadError.reset();
    loadError.ascii("the bundle is being fetched");
  }
  startFetch(config);
  setTickPeriod(config.bundleSource!.retryMs);
  return 1;
}

/** Retry a failed fetch, or poll the bundle URL of the serving configuration. */
export function proxy_on_tick(root: u32): void {
  resetHostScratch();
  if (fetchToken >= 0) return; // a fetch is in flight
  const p = pending;
  if (p !== null) { startFetch(p); return; }
  const a = active;
  if (a !== null && a.bundleSource !== null && a.bundleSource!.pollMs > 0) startFetch(a);
}

const STATUS_HEADER = Bytes.ascii(":status");

export function proxy_on_http_call_response(root: u32, token: u32, headers: u32, bodySize: u32, trailers: u32): void {
  resetHostScratch();
  if (fetchToken < 0 || <u32>fetchToken != token) return; // a collector POST: nothing to do
  fetchToken = -1;
  const config = fetchFor!;
  fetchFor = null;
  const src = config.bundleSource!;
  message.reset();
  if (headers == 0) {
    message.ascii("the bundle fetch from cluster `");
    message.bytes(src.cluster.ptr, src.cluster.len);
    message.ascii("` failed (no response; it is retried)");
    logRejected("bundle fetch");
    return;
  }
  if (!getHeader(MAP_HTTP_CALL_RESPONSE_HEADERS, STATUS_HEADER.ptr, STATUS_HEADER.len) || !equalsAscii(retPtr, retLen, "200")) {
    message.ascii("the bundle fetch from cluster `");
    message.bytes(src.cluster.ptr, src.cluster.len);
    message.ascii("` returned status `");
    message.bytes(retPtr, retLen);
    message.ascii("` (it is retried)");
    logRejected("bundle fetch");
    return;
  }
  if (bodySize == 0 || !getBuffer(BUFFER_HTTP_CALL_RESPONSE_BODY, 0, bodySize)) {
    message.ascii("the bundle fetch returned an empty body");
    logRejected("bundle");
    return;
  }
  const ptr = retPtr, len = retLen;
  const hash = hostAlloc(32);
  sha256(ptr, len, hash);
  const pin = src.sha256;
  if (pin !== null && memory.compare(hash, pin.ptr, 32) != 0) {
    message.ascii("the fetched bundle's SHA-256 is not the configured `sha256`");
    logRejected("bundle");
    return;
  }
  if (config === active && memory.compare(hash, loadedFileHash, 32) == 0) return; // poll: unchanged
  if (!installBundle(config, ptr, len)) { logRejected("bundle"); return; }
  logLoaded(len);
  if (config === pending) {
    active = config;
    startChain(config);
    pending = null;
    setTickPeriod(src.pollMs);
  }
}

// ---- requests ---------------------------------------------------------------------------------

const request = new ByteBuf();
const rewritten = new ByteBuf();
const localHeaders = new HeaderMap();
const headerValue = new ByteBuf();
const reply = new ByteBuf();

const CONTENT_LENGTH = Bytes.ascii("content-length");
const REQUEST_ID = Bytes.ascii("x-request-id");
const OWN_HEADERS: Bytes[] = [
  Bytes.ascii("x-aegis-decision"), Bytes.ascii("x-aegis-rule"), Bytes.ascii("x-aegis-policy-version"),
  Bytes.ascii("x-aegis-decision-json"), Bytes.ascii("x-aegis-approval"),
];

function sendLocal(s: Stream, status: u32, bodyPtr: usize, bodyLen: usize): u32 {
  const h = localHeaders.serialize();
  sendLocalResponse(status, 0, 0, bodyPtr, bodyLen, h.ptr, h.len);
  s.phase = PHASE_REPLIED;
  return ACTION_PAUSE;
}

/** A local response whose body is an error JSON (no decision headers). */
function replyError(s: Stream, status: u32, bodyPtr: usize, bodyLen: usize): u32 {
  localHeaders.reset();
  localHeaders.addAscii("content-type", "application/json");
  return sendLocal(s, status, bodyPtr, bodyLen);
}

function replyNoBundle(s: Stream): u32 {
  reply.reset();
  reply.ascii("{\"error\":{\"code\":\"no_bundle\",\"message\":\"no bundle is loaded: ");
  reply.jsonContent(loadError.ptr, loadError.len);
  reply.ascii("\"}}");
  return replyError(s, 503, reply.ptr, reply.len);
}

const KEY_DECISION = Bytes.ascii("decision");
const KEY_RULE = Bytes.ascii("rule");
const KEY_POLICY_VERSION = Bytes.ascii("policy_version");
const H_DECISION = Bytes.ascii("x-aegis-decision");
const H_RULE = Bytes.ascii("x-aegis-rule");
const H_POLICY_VERSION = Bytes.ascii("x-aegis-policy-version");
const H_DECISION_JSON = Bytes.ascii("x-aegis-decision-json");

function putHeader(map: u32, local: bool, name: Bytes, value: ByteBuf): void {
  if (local) localHeaders.addBytes(name.ptr, name.len, value.ptr, value.len);
  else replaceHeader(map, name.ptr, name.len, value.ptr, value.len);
}

/** One string member of the decision as a header-safe header value. */
function putField(root: usize, key: Bytes, map: u32, local: bool, name: Bytes): void {
  const v = objectGet(root, key.ptr, <u32>key.len);
  headerValue.reset();
  if (v != 0 && nodeKind(v) == KIND_STRING) headerValue.headerSafe(stringPtr(v), <usize>stringLen(v));
  putHeader(map, local, name, headerValue);
}

/**
 * Add the decision headers of the decision JSON at (`ptr`, `len`) to header map `map`, or to the
 * local response's headers when `local`: x-aegis-decision, x-aegis-rule, x-aegis-policy-version
 * (values made header-safe), and x-aegis-decision-json (base64 of the exact bytes) when configured.
 */
function decisionHeaders(config: Config, ptr: usize, len: usize, map: u32, local: bool): void {
  arenaReset();
  if (parseJson(ptr, <u32>len) != 0) return;
  const root = jsonRoot();
  putField(root, KEY_DECISION, map, local, H_DECISION);
  putField(root, KEY_RULE, map, local, H_RULE);
  putField(root, KEY_POLICY_VERSION, map, local, H_POLICY_VERSION);
  if (config.decisionHeader) {
    headerValue.reset();
    headerValue.base64(ptr, len);
    putHeader(map, local, H_DECISION_JSON, headerValue);
  }
}

/** Byte range of the top-level `params` value in validated request JSON; false when absent. */
let paramsStart: usize = 0;
let paramsEnd: usize = 0;

function skipWs(p: usize, end: usize): usize {
  while (p < end) {
    const c = load<u8>(p);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
    p++;
  }
  return p;
}

/** `p` at an opening quote: the address after the closing quote. */
function skipString(p: usize, end: usize): usize {
  p++;
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x5c) p += 2;
    else if (c == 0x22) return p + 1;
    else p++;
  }
  return end;
}

/** `p` at a value: the address after it (the JSON is known to be valid). */
function skipValue(p: usize, end: usize): usize {
  const c = load<u8>(p);
  if (c == 0x22) return skipString(p, end);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (p < end) {
      const d = load<u8>(p);
      if (d == 0x22) { p = skipString(p, end); continue; }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) { depth--; if (depth == 0) return p + 1; }
      p++;
    }
    return end;
  }
  while (p < end) {
    const d = load<u8>(p);
    if (d == 0x2c || d == 0x7d || d == 0x5d || d == 0x20 || d == 0x09 || d == 0x0a || d == 0x0d) break;
    p++;
  }
  return p;
}

/**
 * Find `params` in the request at (`ptr`, `len`) that the engine just validated: the tape's
 * members are in text order and hold the unescaped keys, so member i of the tape names the i-th
 * key of the text however it was escaped.
 */
function findParams(ptr: usize, len: usize, root: usize): bool {
  if (nodeKind(root) != KIND_OBJECT) return false;
  const end = ptr + len;
  let p = skipWs(ptr, end) + 1; // past `{`
  const n = containerCount(root);
  let m = containerPtr(root);
  for (let i: u32 = 0; i < n; i++, m += MEMBER_SIZE) {
    p = skipWs(p, end);
    p = skipString(p, end);
    p = skipWs(p, end) + 1; // past `:`
    p = skipWs(p, end);
    const valueEnd = skipValue(p, end);
    if (equalsAscii(memberKeyPtr(m), <usize>memberKeyLen(m), "params")) {
      paramsStart = p;
      paramsEnd = valueEnd;
      return true;
    }
    p = skipWs(valueEnd, end) + 1; // past `,` or `}`
  }
  return false;
}

const PARAMS_MEMBER = Bytes.ascii(",\"params\":");

/** The `params` value of a sanitize decision JSON: always its last member. */
function decisionParams(ptr: usize, len: usize): bool {
  // `,"params":` cannot occur inside an earlier string (its quote would be escaped), and no
  // earlier member has an object with a `params` key, so the first occurrence is the member.
  const pat = PARAMS_MEMBER;
  for (let i: usize = 0; i + pat.len < len; i++) {
    if (load<u8>(ptr + i) == 0x2c && memory.compare(ptr + i, pat.ptr, pat.len) == 0) {
      paramsStart = ptr + i + pat.len;
      paramsEnd = ptr + len - 1;
      return true;
    }
  }
  return false;
}

/** Replace the request body (`bodyLen` bytes buffered) with the sanitized params. */
function rewriteBody(config: Config, bodyPtr: usize, bodyLen: usize, requestRoot: usize): void {
  const outPtr = <usize>output_ptr(), outLen = <usize>output_len();
  rewritten.reset();
  if (config.mode == MODE_REQUEST_BODY) {
    if (!findParams(bodyPtr, bodyLen, requestRoot)) return; // no params to redact
    const start = paramsStart, end = paramsEnd;
    if (!decisionParams(outPtr, outLen)) return;
    rewritten.bytes(bodyPtr, start - bodyPtr);
    rewritten.bytes(paramsStart, paramsEnd - paramsStart);
    rewritten.bytes(end, bodyPtr + bodyLen - end);
  } else {
    if (bodyLen == 0 || !decisionParams(outPtr, outLen)) return;
    rewritten.bytes(paramsStart, paramsEnd - paramsStart);
  }
  setBuffer(BUFFER_HTTP_REQUEST_BODY, 0, bodyLen, rewritten.ptr, rewritten.len);
}

/**
 * True when the `len` bytes at `ptr` are, structurally, one object: `{`, then brackets balanced
 * outside strings up to a matching `}`, then only whitespace. For any input the engine's strict
 * parser accepts, its object ends exactly where this scan says, so the body cannot close `params`
 * early and add request members; anything else the engine rejects when it parses the request.
 */
function oneObject(ptr: usize, len: usize): bool {
  const end = ptr + len;
  let p = skipWs(ptr, end);
  if (p >= end || load<u8>(p) != 0x7b) return false;
  let depth = 0;
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x22) {
      p++;
      while (p < end) {
        const d = load<u8>(p);
        if (d == 0x5c) p += 2;
        else if (d == 0x22) break;
        else p++;
      }
      if (p >= end) return false;
    } else if (c == 0x7b || c == 0x5b) depth++;
    else if (c == 0x7d || c == 0x5d) {
      depth--;
      if (depth == 0) return skipWs(p + 1, end) == end;
    }
    p++;
  }
  return false;
}

/**
 * Decide one request. `bodyPtr`/`bodyLen`: the whole body (0 when none). `headersOpen`: the request
 * headers can still be changed (decision made in proxy_on_request_headers).
 */
function decide(s: Stream, config: Config, bodyPtr: usize, bodyLen: usize, headersOpen: bool): u32 {
  let code: i32 = 0;
  let reqPtr: usize, reqLen: usize;
  if (config.mode == MODE_REQUEST_BODY) {
    reqPtr = bodyPtr;
    reqLen = bodyLen;
  } else {
    request.reset();
    request.bytes(s.prefix.ptr, s.prefix.len);
    if (bodyLen > 0) {
      // The body must be one JSON object on its own: spliced in unchecked, `{}, "x": 1` would add
      // members to the request. The engine parses the whole request strictly anyway.
      if (!oneObject(bodyPtr, bodyLen)) {
        arenaReset();
        code = parseJson(bodyPtr, <u32>bodyLen);
        if (code != 0) writeJsonError(code);
        else {
          code = -1;
          reply.reset();
          reply.ascii("{\"error\":{\"code\":\"invalid_request\",\"message\":\"the request body must be a JSON object (the tool call's params)\"}}");
        }
      }
      request.ascii(",\"params\":");
      request.bytes(bodyPtr, bodyLen);
    }
    request.byte(0x7d);
    reqPtr = request.ptr;
    reqLen = request.len;
  }
  const startNs = nowNs();
  if (code == 0) {
    const dst = <usize>input_ptr(<u32>reqLen);
    if (dst != 0) memory.copy(dst, reqPtr, reqLen);
    code = evaluate_json(dst == 0 ? 0xffffffff : <u32>reqLen);
    if (code != 0 && config.mode != MODE_REQUEST_BODY && bodyLen > 0) {
      // Point a JSON error at the body the client sent, not at the request built around it.
      arenaReset();
      // When the body alone is fine the engine's error stands (still in its output buffer): it is
      // the request's, e.g. an identity header that is not UTF-8.
      const bodyCode = parseJson(bodyPtr, <u32>bodyLen);
      if (bodyCode != 0) { writeJsonError(bodyCode); code = bodyCode; }
    }
  }
  const endNs = nowNs();
  let outPtr = <usize>output_ptr(), outLen = <usize>output_len();
  if (code == -1) { outPtr = reply.ptr; outLen = reply.len; }
  // Read before the record is written: it runs the engine's JSON reader (the tape stays valid).
  const requestRoot = jsonRoot();
  const effect = code == 0 ? result_effect() : -1;
  emitDecision(config, outPtr, outLen, reqPtr, reqLen, startNs, endNs, s.requestId, !config.shadow && effect == EFFECT_APPROVAL);
  if (code != 0) {
    if (config.shadow) { s.phase = PHASE_PASSED; return ACTION_CONTINUE; }
    if (code != -1) { reply.reset(); reply.bytes(outPtr, outLen); }
    return replyError(s, 400, reply.ptr, reply.len);
  }
  if (config.shadow) { s.phase = PHASE_PASSED; return ACTION_CONTINUE; }
  if (effect == EFFECT_ALLOW || effect == EFFECT_SANITIZE) {
    if (effect == EFFECT_SANITIZE && bodyLen > 0) rewriteBody(config, bodyPtr, bodyLen, requestRoot);
    // Kept for the response headers; the output buffer is reused by the next evaluation.
    s.decision.reset();
    s.decision.bytes(<usize>output_ptr(), <usize>output_len());
    s.hasDecision = true;
    if (headersOpen) decisionHeaders(config, s.decision.ptr, s.decision.len, MAP_HTTP_REQUEST_HEADERS, false);
    s.phase = PHASE_PASSED;
    return ACTION_CONTINUE;
  }
  // deny or approval_needed: the decision JSON is the response body.
  reply.reset();
  reply.bytes(outPtr, outLen);
  localHeaders.reset();
  localHeaders.addAscii("content-type", "application/json");
  decisionHeaders(config, reply.ptr, reply.len, 0, true);
  if (effect == EFFECT_APPROVAL) {
    // The record's approval id names the pending approval; `required` when no record could be written.
    if (approvalId.len > 0) localHeaders.add("x-aegis-approval", approvalId.ptr, approvalId.len);
    else localHeaders.addAscii("x-aegis-approval", "required");
  }
  const h = localHeaders.serialize();
  sendLocalResponse(effect == EFFECT_APPROVAL ? config.approvalStatus : 403, 0, 0, reply.ptr, reply.len, h.ptr, h.len);
  s.phase = PHASE_REPLIED;
  return ACTION_PAUSE;
}

function logRefusal(): void {
  message.reset();
  message.ascii("aegis.refused ");
  message.decimal(<u64>refusalStatus);
  message.byte(0x20);
  message.bytes(refusalBody.ptr, refusalBody.len);
  logLine(LOG_INFO);
}

/** The Content-Length request header as a number (-1 when absent or not a number). */
function contentLength(): i64 {
  if (!getHeader(MAP_HTTP_REQUEST_HEADERS, CONTENT_LENGTH.ptr, CONTENT_LENGTH.len) || retLen == 0 || retLen > 15) return -1;
  let v: i64 = 0;
  for (let i: usize = 0; i < retLen; i++) {
    const c = <u32>load<u8>(retPtr + i) - 0x30;
    if (c >= 10) return -1;
    v = v * 10 + <i64>c;
  }
  return v;
}

function tooLarge(s: Stream, config: Config): u32 {
  reply.reset();
  reply.ascii("{\"error\":{\"code\":\"body_too_large\",\"message\":\"the request body is larger than ");
  reply.decimal(<u64>config.maxBodyBytes);
  reply.ascii(" bytes\"}}");
  setRefusal(413, reply.ptr, reply.len);
  logRefusal();
  if (config.shadow) { s.phase = PHASE_PASSED; return ACTION_CONTINUE; }
  return replyError(s, 413, reply.ptr, reply.len);
}

export function proxy_on_context_create(id: u32, parent: u32): void {}

export function proxy_on_request_headers(id: u32, headers: u32, endOfStream: u32): u32 {
  resetHostScratch();
  const s = openStream(id);
  const config = active;
  if (config === null) {
    const p = pending;
    if (p !== null && p.shadow) { s.phase = PHASE_PASSED; return ACTION_CONTINUE; }
    return replyNoBundle(s);
  }
  // Headers the filter owns: an upstream must be able to trust them.
  for (let i = 0; i < OWN_HEADERS.length; i++) removeHeader(MAP_HTTP_REQUEST_HEADERS, OWN_HEADERS[i].ptr, OWN_HEADERS[i].len);
  // Read now: the decision may come in a body callback. Envoy sets it (a UUID) unless configured not to.
  if (getHeader(MAP_HTTP_REQUEST_HEADERS, REQUEST_ID.ptr, REQUEST_ID.len)) s.requestId.bytes(retPtr, retLen);
  if (config.mode != MODE_REQUEST_BODY && !mapRequest(config, s.prefix)) {
    logRefusal();
    if (config.shadow) { s.phase = PHASE_PASSED; return ACTION_CONTINUE; }
    return replyError(s, refusalStatus, refusalBody.ptr, refusalBody.len);
  }
  if (endOfStream != 0 || config.mode == MODE_FORWARD_PROXY) return decide(s, config, 0, 0, true);
  if (contentLength() > <i64>config.maxBodyBytes) return tooLarge(s, config);
  if (!config.shadow) removeHeader(MAP_HTTP_REQUEST_HEADERS, CONTENT_LENGTH.ptr, CONTENT_LENGTH.len);
  s.phase = PHASE_BODY;
  return ACTION_CONTINUE;
}

export function proxy_on_request_body(id: u32, size: u32, endOfStream: u32): u32 {
  resetHostScratch();
  const s = getStream(id);
  const config = active;
  if (s === null || s.phase != PHASE_BODY || config === null) return s !== null && s.phase == PHASE_REPLIED ? ACTION_PAUSE : ACTION_CONTINUE;
  if (size > config.maxBodyBytes) return tooLarge(s, config);
  if (endOfStream == 0) return ACTION_PAUSE; // buffer until the whole body is here
  if (size > 0 && !getBuffer(BUFFER_HTTP_REQUEST_BODY, 0, size)) {
    reply.reset();
    reply.ascii("{\"error\":{\"code\":\"invalid_request\",\"message\":\"the request body could not be read\"}}");
    return replyError(s, 500, reply.ptr, reply.len);
  }
  return decide(s, config, size > 0 ? retPtr : 0, size > 0 ? retLen : 0, false);
}

/** Trailers end a body that never had end_of_stream: decide on what was buffered. */
export function proxy_on_request_trailers(id: u32, trailers: u32): u32 {
  resetHostScratch();
  const s = getStream(id);
  const config = active;
  if (s === null || s.phase != PHASE_BODY || config === null) return s !== null && s.phase == PHASE_REPLIED ? ACTION_PAUSE : ACTION_CONTINUE;
  if (!getBuffer(BUFFER_HTTP_REQUEST_BODY, 0, <usize>config.maxBodyBytes + 1)) return decide(s, config, 0, 0, false);
  if (retLen > <usize>config.maxBodyBytes) return tooLarge(s, config);
  return decide(s, config, retPtr, retLen, false);
}

/** The agent sees the decision of a request that went upstream on the response. */
export function proxy_on_response_headers(id: u32, headers: u32, endOfStream: u32): u32 {
  resetHostScratch();
  const s = getStream(id);
  const config = active;
  if (s === null || !s.hasDecision || config === null) return ACTION_CONTINUE;
  decisionHeaders(config, s.decision.ptr, s.decision.len, MAP_HTTP_RESPONSE_HEADERS, false);
  return ACTION_CONTINUE;
}

export function proxy_on_done(id: u32): u32 { return 1; }

export function proxy_on_delete(id: u32): void {
  closeStream(id);
}

/** Memory the host writes results into: per-callback scratch (abi.ts). */
export function proxy_on_memory_allocate(size: usize): usize {
  return hostAlloc(size);
}

/** ABI marker: this module speaks proxy-wasm v0.2.1. */
export function proxy_abi_version_0_2_1(): void {}
