// Filter: HTTP -> Aegis request. Input: the request headers of one stream (read through the ABI
// while the host allows it, i.e. in proxy_on_request_headers) and the Config. Output: the request
// JSON up to its `params` (the stream's prefix) or a refusal: an HTTP status and error JSON.
//
//   {"agent":{"id":..,"tenant":..,"scopes":[..]},"tool":..,"action":..,"context":{..}
//
// Agent identity: from headers (x-agent-id, x-agent-tenant, x-agent-scopes by default), or from
// the verified JWT payload that Envoy's jwt_authn filter forwards in a header (base64url JSON,
// `forward_payload_header`). Tool and action: from the path template's placeholders or from
// headers. Context: `call_chain` from a comma-separated header; in forward-proxy mode `egress`
// from the request target (CONNECT authority or absolute-form URL). Every value is JSON-escaped;
// the engine validates the result like any other request.

import { parseJson, jsonRoot } from "../../../engine/json";
import { arenaReset } from "../../../engine/arena";
import {
  KIND_ARRAY, KIND_OBJECT, KIND_STRING, arrayElement, containerCount, nodeKind, objectGet,
  stringLen, stringPtr,
} from "../../../engine/tape";
import { MAP_HTTP_REQUEST_HEADERS, getHeader, retLen, retPtr } from "./abi";
import { ByteBuf, Bytes, decodeBase64, equalsAscii } from "./bytes";
import { Config, MODE_FORWARD_PROXY, SEGMENT_ACTION, SEGMENT_LITERAL, SEGMENT_TOOL } from "./config";

/** Set when mapping refuses the request: the HTTP status and the error JSON. */
export let refusalStatus: u32 = 0;
export const refusalBody = new ByteBuf();

/** Set the refusal to `status` with the error JSON at (`ptr`, `len`). */
export function setRefusal(status: u32, ptr: usize, len: usize): void {
  refusalStatus = status;
  refusalBody.reset();
  refusalBody.bytes(ptr, len);
}

function refuse(status: u32, code: string): ByteBuf {
  refusalStatus = status;
  refusalBody.reset();
  refusalBody.ascii("{\"error\":{\"code\":\"");
  refusalBody.ascii(code);
  refusalBody.ascii("\",\"message\":\"");
  return refusalBody;
}

function endRefusal(): bool {
  refusalBody.ascii("\"}}");
  return false;
}

/** `text` then a user value in backticks (JSON-escaped), then `tail`. */
function refuseWith(status: u32, code: string, text: string, ptr: usize, len: usize, tail: string): bool {
  const b = refuse(status, code);
  b.ascii(text);
  b.byte(0x60);
  b.jsonContent(ptr, len);
  b.byte(0x60);
  b.ascii(tail);
  return endRefusal();
}

const PATH = Bytes.ascii(":path");
const METHOD = Bytes.ascii(":method");
const AUTHORITY = Bytes.ascii(":authority");
const SCHEME = Bytes.ascii(":scheme");

/** A request header into (ptr, len) out-params; false when absent. */
let hPtr: usize = 0;
let hLen: usize = 0;
function header(name: Bytes): bool {
  if (!getHeader(MAP_HTTP_REQUEST_HEADERS, name.ptr, name.len)) return false;
  hPtr = retPtr;
  hLen = retLen;
  return true;
}

function trimmedItem(out: ByteBuf, ptr: usize, len: usize, first: bool): bool {
  let a = ptr, b = ptr + len;
  while (a < b && (load<u8>(a) == 0x20 || load<u8>(a) == 0x09)) a++;
  while (b > a && (load<u8>(b - 1) == 0x20 || load<u8>(b - 1) == 0x09)) b--;
  if (a == b) return first;
  if (!first) out.byte(0x2c);
  out.jsonString(a, b - a);
  return false;
}

/** A JSON list of the non-empty items of a header value split at `,` (and at spaces when `spaces`). */
function splitList(out: ByteBuf, ptr: usize, len: usize, spaces: bool): void {
  out.byte(0x5b);
  let first = true;
  let start = ptr;
  const end = ptr + len;
  for (let p = ptr; p <= end; p++) {
    const c = p < end ? load<u8>(p) : 0x2c;
    if (c == 0x2c || (spaces && (c == 0x20 || c == 0x09))) {
      first = trimmedItem(out, start, p - start, first);
      start = p + 1;
    }
  }
  out.byte(0x5d);
}

const payload = new ByteBuf();

function agentFromJwt(config: Config, out: ByteBuf): bool {
  const name = config.jwtPayloadHeader!;
  if (!header(name) || hLen == 0) {
    return refuseWith(401, "unauthenticated", "no verified identity: header ", name.ptr, name.len, " is missing");
  }
  payload.reset();
  arenaReset();
  if (!decodeBase64(hPtr, hLen, payload) || parseJson(payload.ptr, <u32>payload.len) != 0 || nodeKind(jsonRoot()) != KIND_OBJECT) {
    return refuseWith(401, "unauthenticated", "header ", name.ptr, name.len, " is not a base64url JSON object (a JWT payload)");
  }
  const root = jsonRoot();
  const id = objectGet(root, config.agentIdClaim.ptr, <u32>config.agentIdClaim.len);
  if (id == 0 || nodeKind(id) != KIND_STRING || stringLen(id) == 0) {
    return refuseWith(401, "unauthenticated", "the JWT payload has no string claim ", config.agentIdClaim.ptr, config.agentIdClaim.len, "");
  }
  out.ascii("{\"agent\":{\"id\":");
  out.jsonString(stringPtr(id), <usize>stringLen(id));
  const tenant = objectGet(root, config.tenantClaim.ptr, <u32>config.tenantClaim.len);
  if (tenant != 0) {
    if (nodeKind(tenant) != KIND_STRING) return refuseWith(401, "unauthenticated", "the JWT claim ", config.tenantClaim.ptr, config.tenantClaim.len, " must be a string");
    out.ascii(",\"tenant\":");
    out.jsonString(stringPtr(tenant), <usize>stringLen(tenant));
  }
  const scopes = objectGet(root, config.scopesClaim.ptr, <u32>config.scopesClaim.len);
  if (scopes != 0) {
    out.ascii(",\"scopes\":");
    if (nodeKind(scopes) == KIND_STRING) {
      // OAuth `scope`: one space-separated string (RFC 8693 section 4.2).
      splitList(out, stringPtr(scopes), <usize>stringLen(scopes), true);
    } else if (nodeKind(scopes) == KIND_ARRAY) {
      // `scp`-style: a list of strings.
      out.byte(0x5b);
      const n = containerCount(scopes);
      for (let i: u32 = 0; i < n; i++) {
        const e = arrayElement(scopes, i);
        if (nodeKind(e) != KIND_STRING) return refuseWith(401, "unauthenticated", "the JWT claim ", config.scopesClaim.ptr, config.scopesClaim.len, " must be a string or a list of strings");
        if (i > 0) out.byte(0x2c);
        out.jsonString(stringPtr(e), <usize>stringLen(e));
      }
      out.byte(0x5d);
    } else {
      return refuseWith(401, "unauthenticated", "the JWT claim ", config.scopesClaim.ptr, config.scopesClaim.len, " must be a string or a list of strings");
    }
  }
  out.byte(0x7d);
  return true;
}

function agentFromHeaders(config: Config, out: ByteBuf): bool {
  const name = config.agentIdHeader;
  if (!header(name) || hLen == 0) {
    return refuseWith(401, "unauthenticated", "no agent identity: header ", name.ptr, name.len, " is missing");
  }
  out.ascii("{\"agent\":{\"id\":");
  out.jsonString(hPtr, hLen);
  const tenant = config.tenantHeader;
  if (tenant !== null && header(tenant)) {
    out.ascii(",\"tenant\":");
    out.jsonString(hPtr, hLen);
  }
  const scopes = config.scopesHeader;
  if (scopes !== null && header(scopes)) {
    out.ascii(",\"scopes\":");
    splitList(out, hPtr, hLen, true);
  }
  out.byte(0x7d);
  return true;
}

function hexDigit(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

const segment = new ByteBuf();

/** Percent-decode a path segment into `segment` (what the upstream's router will see); false on a bad escape. */
function decodeSegment(ptr: usize, len: usize): bool {
  segment.reset();
  for (let i: usize = 0; i < len; i++) {
    const c = load<u8>(ptr + i);
    if (c != 0x25) { segment.byte(c); continue; }
    if (i + 2 >= len) return false;
    const hi = hexDigit(<u32>load<u8>(ptr + i + 1)), lo = hexDigit(<u32>load<u8>(ptr + i + 2));
    if (hi < 0 || lo < 0) return false;
    segment.byte(<u8>((hi << 4) | lo));
    i += 2;
  }
  return true;
}

const tool = new ByteBuf();
const action = new ByteBuf();

function routeFromPath(config: Config): bool {
  if (!header(PATH)) return refuseWith(404, "no_route", "the request has no path; expected ", config.templateText.ptr, config.templateText.len, "");
  const pathPtr = hPtr;
  let pathLen = hLen;
  for (let i: usize = 0; i < pathLen; i++) {
    const c = load<u8>(pathPtr + i);
    if (c == 0x3f || c == 0x23) { pathLen = i; break; }
  }
  const segments = config.template;
  let p = pathPtr + 1;
  const end = pathPtr + pathLen;
  let ok = pathLen > 0 && load<u8>(pathPtr) == 0x2f;
  for (let s = 0; ok && s < segments.length; s++) {
    if (p > end) { ok = false; break; }
    let q = p;
    while (q < end && load<u8>(q) != 0x2f) q++;
    if (!decodeSegment(p, q - p)) { ok = false; break; }
    const seg = segments[s];
    if (seg.kind == SEGMENT_LITERAL) ok = segment.len == seg.text.len && memory.compare(segment.ptr, seg.text.ptr, segment.len) == 0;
    else if (segment.len == 0) ok = false;
    else if (seg.kind == SEGMENT_TOOL) { tool.reset(); tool.bytes(segment.ptr, segment.len); }
    else if (seg.kind == SEGMENT_ACTION) { action.reset(); action.bytes(segment.ptr, segment.len); }
    p = q + 1;
  }
  if (ok && p <= end) ok = false; // path has more segments than the template
  if (!ok) {
    const b = refuse(404, "no_route");
    b.ascii("path `");
    b.jsonContent(pathPtr, pathLen);
    b.ascii("` does not match `");
    b.jsonContent(config.templateText.ptr, config.templateText.len);
    b.ascii("`");
    return endRefusal();
  }
  return true;
}

function fromHeader(name: Bytes, into: ByteBuf): bool {
  if (!header(name) || hLen == 0) return refuseWith(400, "invalid_request", "missing header ", name.ptr, name.len, "");
  into.reset();
  into.bytes(hPtr, hLen);
  return true;
}

function toolAndAction(config: Config): bool {
  tool.reset();
  action.reset();
  if (config.template.length > 0 && !routeFromPath(config)) return false;
  let hasTool = false, hasAction = false;
  for (let i = 0; i < config.template.length; i++) {
    if (config.template[i].kind == SEGMENT_TOOL) hasTool = true;
    if (config.template[i].kind == SEGMENT_ACTION) hasAction = true;
  }
  if (!hasTool && !fromHeader(config.toolHeader!, tool)) return false;
  if (!hasAction && !fromHeader(config.actionHeader!, action)) return false;
  return true;
}

const egress = new ByteBuf();

/** The forward-proxy target as a URL, and the lower-cased method as the action. */
function forwardTarget(config: Config): bool {
  if (!header(METHOD)) return refuseWith(400, "invalid_request", "the request has no ", METHOD.ptr, METHOD.len, "");
  action.reset();
  for (let i: usize = 0; i < hLen; i++) {
    const c = load<u8>(hPtr + i);
    action.byte(c - 0x41 < 26 ? c + 0x20 : c);
  }
  const connect = equalsAscii(action.ptr, action.len, "connect");
  tool.reset();
  tool.bytes(config.forwardTool.ptr, config.forwardTool.len);
  if (!header(AUTHORITY) || hLen == 0) return refuseWith(400, "invalid_request", "a forward-proxy request needs ", AUTHORITY.ptr, AUTHORITY.len, "");
  const authPtr = hPtr, authLen = hLen;
  egress.reset();
  if (connect) {
    // CONNECT host:port carries no scheme; the port does not matter to the allowlist.
    egress.ascii("https://");
    egress.bytes(authPtr, authLen);
    egress.byte(0x2f);
    return true;
  }
  if (header(SCHEME) && hLen > 0) egress.bytes(hPtr, hLen);
  else egress.ascii("http");
  egress.ascii("://");
  egress.bytes(authPtr, authLen);
  if (header(PATH) && hLen > 0 && load<u8>(hPtr) == 0x2f) egress.bytes(hPtr, hLen);
  else egress.byte(0x2f);
  return true;
}

/**
 * Write the Aegis request prefix for this stream's headers into `out`. False with
 * refusalStatus/refusalBody set when the request cannot be mapped.
 */
export function mapRequest(config: Config, out: ByteBuf): bool {
  out.reset();
  const forward = config.mode == MODE_FORWARD_PROXY;
  if (forward ? !forwardTarget(config) : !toolAndAction(config)) return false;
  const ok = config.jwtPayloadHeader !== null ? agentFromJwt(config, out) : agentFromHeaders(config, out);
  if (!ok) return false;
  out.ascii(",\"tool\":");
  out.jsonString(tool.ptr, tool.len);
  out.ascii(",\"action\":");
  out.jsonString(action.ptr, action.len);
  let contextOpen = false;
  const chain = config.callChainHeader;
  if (chain !== null && header(chain)) {
    out.ascii(",\"context\":{\"call_chain\":");
    splitList(out, hPtr, hLen, false);
    contextOpen = true;
  }
  if (forward) {
    out.ascii(contextOpen ? ",\"egress\":[" : ",\"context\":{\"egress\":[");
    out.jsonString(egress.ptr, egress.len);
    out.byte(0x5d);
    contextOpen = true;
  }
  if (contextOpen) out.byte(0x7d);
  return true;
}
