// Record stage: the decision record line of docs/telemetry.md §2 (RFC 8785 JSON, no newline), byte
// for byte what telemetry/record.ts recordLine writes in the JavaScript hosts, for hosts without JavaScript
// (the proxy-wasm filter). Input: the decision JSON or request error JSON the engine wrote, the
// request bytes, and the record inputs (seq, prev, ts, id, host, eval_ns, includeParams, and the
// loaded bundle's digest for error records). Output: the line in this module's own buffer
// (recordLinePtr / recordLineLen), not engine/out.ts's, so the outcome bytes may live there.
//
// For the filter:
//
//   renderRecordLine(outcomePtr: usize, outcomeLen: u32, requestPtr: usize, requestLen: u32,
//                    seq: u64, prevPtr: usize, tsMs: i64, idPtr: usize, idLen: u32,
//                    hostPtr: usize, hostLen: u32, evalNs: u64, includeParams: bool,
//                    bundlePtr: usize, bundleLen: u32): i32
//
//   - outcome: the engine's output for the request: decision JSON, or `{"error":{...}}`.
//   - prevPtr: the 64 lower-case hex digits of the previous leaf hash (64 `0`s for leaf 0).
//   - tsMs: the clock in ms since the epoch; id, host: UTF-8 (any text; JCS escapes it).
//   - bundle: the loaded bundle's `sha256:<hex>`, used by error records only (error JSON does not
//     carry it; a decision's own `bundle` member is used for decisions).
//   - returns RECORD_OK (the line is at recordLinePtr(), recordLineLen() bytes, until the next
//     call), or a RECORD_* code when no line can be written (the JavaScript hosts throw for the
//     same inputs): then recordLineLen() is 0.
//
// Call it once the engine's state for the request is no longer needed (the decision or error JSON
// is rendered): it runs the engine's JSON reader (so jsonRoot() and the reader's last error
// change) and takes scratch memory from the engine arena, released before it returns (or at the
// next arenaReset). Its own buffers grow to the largest record and are reused: steady-state calls
// allocate nothing. The outcome goes through the engine's JSON reader, so an outcome larger than
// MAX_REQUEST_BYTES (1 MiB) is RECORD_BAD_OUTCOME.
//
// Semantics (telemetry/record.ts buildRecord): for a decision, `request` is SHA-256 of the JCS
// form of the request, identity comes from the request, `policy` from the decision, `approval`
// for approval_needed, `override_token` as its hash, `params` with includeParams (the decision's
// params when it has them, else the request's, else {}), `shadow` and `redactions` when non-empty.
// For a request error: `decision` deny, `enforced` true, `rule` "", `reason` and `error` from the
// error JSON, no `policy`, `request` = SHA-256 of the raw bytes, and the identity members only as
// JavaScript's JSON.parse would find them (engine/record/identity.ts).

import { arenaAlloc, arenaMark, arenaRelease } from "../arena";
import { jsonRoot, parseJson } from "../json";
import { sha256 } from "../sha256";
import {
  KIND_ARRAY, KIND_NULL, KIND_OBJECT, KIND_STRING, MEMBER_SIZE, containerCount, containerPtr,
  memberKeyLen, memberKeyPtr, memberValue, nodeKind, stringLen, stringPtr,
} from "../tape";
import { utf8CountCodePoints } from "../utf8";
import {
  IDENTITY_ACTION, IDENTITY_AGENT_ID, IDENTITY_AGENT_TENANT, IDENTITY_TOOL, identityAgentIsObject,
  identitySpanEnd, identitySpanStart, scanIdentity, writeJcsEscapedContents,
} from "./identity";
import { ByteSink, writeJcsNumber, writeJcsString, writeJcsValue } from "./jcs";
import { writeTimestamp } from "./rfc3339";

/** The line was written. */
export const RECORD_OK: i32 = 0;
/** The outcome is not JSON, not an object, or lacks a member the record copies. */
export const RECORD_BAD_OUTCOME: i32 = 1;
/** A decision's request is not a JSON object. */
export const RECORD_BAD_REQUEST: i32 = 2;
/** A value JCS cannot write: a number that is not a finite double, a lone surrogate. */
export const RECORD_NOT_CANONICAL: i32 = 3;
/** id, host, prev or bundle is not UTF-8, or the time is outside what a Date holds. */
export const RECORD_BAD_INPUT: i32 = 4;

const line = new ByteSink();
const scratch = new ByteSink();
// "sha256:" + 64 hex digits.
const requestDigest = memory.data(71);
const digest = memory.data(32);
const timestamp = memory.data(32); // MAX_TIMESTAMP_TEXT bytes
const HEX_DIGITS = "0123456789abcdef";

/** Address of the last record line. */
export function recordLinePtr(): usize { return line.ptr; }
/** Length of the last record line (0 after a failure). */
export function recordLineLen(): usize { return line.len; }

/** Write the 64 hex digits of the 32 bytes at `digest` at `dst`. */
function writeHex(dst: usize, count: usize): void {
  for (let i: usize = 0; i < count; i++) {
    const b = <i32>load<u8>(digest + (i >> 1));
    store<u8>(dst + i, <u8>HEX_DIGITS.charCodeAt((i & 1) == 0 ? b >> 4 : b & 15));
  }
}

/** SHA-256 of `n` bytes as "sha256:<hex>" in requestDigest. */
function digestInto(ptr: usize, n: usize): void {
  sha256(ptr, n, digest);
  const prefix = "sha256:";
  for (let i = 0; i < 7; i++) store<u8>(requestDigest + <usize>i, <u8>prefix.charCodeAt(i));
  writeHex(requestDigest + 7, 64);
}

/** Value Node of member `name` (ASCII) of object Node `obj`, or 0. */
function member(obj: usize, name: string): usize {
  const n = <u32>name.length;
  const count = containerCount(obj);
  let m = containerPtr(obj);
  for (let i: u32 = 0; i < count; i++, m += MEMBER_SIZE) {
    if (memberKeyLen(m) != n) continue;
    const k = memberKeyPtr(m);
    let same = true;
    for (let j: u32 = 0; j < n; j++) {
      if (<u32>load<u8>(k + j) != <u32>name.charCodeAt(j)) { same = false; break; }
    }
    if (same) return memberValue(m);
  }
  return 0;
}

/** Member `name` of `obj` when it is a string, else 0. */
function stringMember(obj: usize, name: string): usize {
  const v = member(obj, name);
  return v != 0 && nodeKind(v) == KIND_STRING ? v : 0;
}

/** Whether string Node `node` is the ASCII text `s`. */
function stringIs(node: usize, s: string): bool {
  const n = <u32>s.length;
  if (stringLen(node) != n) return false;
  const p = stringPtr(node);
  for (let i: u32 = 0; i < n; i++) if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  return true;
}

/** `value && value.length > 0` in JavaScript, for the decision's lists. */
function nonEmptyList(node: usize): bool {
  if (node == 0) return false;
  const kind = nodeKind(node);
  if (kind == KIND_ARRAY) return containerCount(node) > 0;
  if (kind == KIND_STRING) return stringLen(node) > 0;
  return false;
}

// Writing the record object: members go out in JCS order, each after a comma but the first.
let firstMember = true;

function key(name: string): void {
  if (!firstMember) line.byte(0x2c);
  firstMember = false;
  line.byte(0x22);
  line.ascii(name);
  line.ascii("\":");
}

/** A text the caller gave (checked UTF-8) as a JSON string. */
function textMember(name: string, ptr: usize, n: usize): void {
  key(name);
  writeJcsString(line, ptr, n);
}

function numberMember(name: string, value: f64): void {
  key(name);
  writeJcsNumber(line, value); // finite: it came from an integer
}

function stringNodeValue(node: usize): void {
  writeJcsString(line, stringPtr(node), <usize>stringLen(node));
}

/** Whether `n` bytes at `ptr` are UTF-8. */
function isUtf8(ptr: usize, n: usize): bool {
  return utf8CountCodePoints(ptr, n) >= 0;
}

/** See the header. */
export function renderRecordLine(
  outcomePtr: usize, outcomeLen: u32, requestPtr: usize, requestLen: u32,
  seq: u64, prevPtr: usize, tsMs: i64, idPtr: usize, idLen: u32, hostPtr: usize, hostLen: u32,
  evalNs: u64, includeParams: bool, bundlePtr: usize, bundleLen: u32,
): i32 {
  line.reset();
  if (!isUtf8(prevPtr, 64) || !isUtf8(idPtr, idLen) || !isUtf8(hostPtr, hostLen) || !isUtf8(bundlePtr, bundleLen)) {
    return RECORD_BAD_INPUT;
  }
  const tsLen = writeTimestamp(tsMs, timestamp);
  if (tsLen == 0) return RECORD_BAD_INPUT;

  arenaAlloc(0); // make sure the arena has a chunk, so the mark below can be released
  const mark = arenaMark();
  const code = writeRecord(outcomePtr, outcomeLen, requestPtr, requestLen, seq, prevPtr, timestamp, tsLen,
    idPtr, idLen, hostPtr, hostLen, evalNs, includeParams, bundlePtr, bundleLen);
  arenaRelease(mark);
  if (code != RECORD_OK) line.reset();
  return code;
}

function writeRecord(
  outcomePtr: usize, outcomeLen: u32, requestPtr: usize, requestLen: u32,
  seq: u64, prevPtr: usize, tsText: usize, tsLen: u32, idPtr: usize, idLen: u32, hostPtr: usize, hostLen: u32,
  evalNs: u64, includeParams: bool, bundlePtr: usize, bundleLen: u32,
): i32 {
  if (parseJson(outcomePtr, outcomeLen) != 0) return RECORD_BAD_OUTCOME;
  const outcome = jsonRoot();
  if (nodeKind(outcome) != KIND_OBJECT) return RECORD_BAD_OUTCOME;
  const error = member(outcome, "error");

  // Everything the record copies from the outcome, checked before anything is written.
  let errorCode: usize = 0, errorMessage: usize = 0;
  let decision: usize = 0, enforced: usize = 0, rule: usize = 0, reason: usize = 0;
  let policy: usize = 0, policyVersion: usize = 0, bundle: usize = 0;
  let shadow: usize = 0, redactions: usize = 0, params: usize = 0;
  let request: usize = 0;
  let tool: usize = 0, action: usize = 0, agentId: usize = 0, agentTenant: usize = 0;
  let overrideToken: usize = 0;
  let approval = false;
  let identityFound = false;
  if (error != 0) {
    if (nodeKind(error) != KIND_OBJECT) return RECORD_BAD_OUTCOME;
    errorCode = member(error, "code");
    errorMessage = member(error, "message");
    if (errorCode == 0 || errorMessage == 0) return RECORD_BAD_OUTCOME;
    // No canonical form of bytes the engine rejected: the digest is of the bytes themselves.
    digestInto(requestPtr, requestLen);
    identityFound = scanIdentity(requestPtr, requestLen);
  } else {
    decision = member(outcome, "decision");
    enforced = member(outcome, "enforced");
    rule = member(outcome, "rule");
    reason = member(outcome, "reason");
    policy = member(outcome, "policy");
    policyVersion = member(outcome, "policy_version");
    bundle = member(outcome, "bundle");
    if (decision == 0 || enforced == 0 || rule == 0 || reason == 0 || policy == 0 || policyVersion == 0 || bundle == 0) {
      return RECORD_BAD_OUTCOME;
    }
    shadow = member(outcome, "shadow");
    redactions = member(outcome, "redactions");
    if (includeParams) params = member(outcome, "params");
    approval = nodeKind(decision) == KIND_STRING && stringIs(decision, "approval_needed");
    // The approval id hashes `<bundle>\n<rule>\n<request>` as text.
    if (approval && (nodeKind(bundle) != KIND_STRING || nodeKind(rule) != KIND_STRING)) return RECORD_BAD_OUTCOME;

    if (parseJson(requestPtr, requestLen) != 0) return RECORD_BAD_REQUEST;
    request = jsonRoot();
    if (nodeKind(request) != KIND_OBJECT) return RECORD_BAD_REQUEST;
    scratch.reset();
    if (writeJcsValue(scratch, request) != 0) return RECORD_NOT_CANONICAL;
    digestInto(scratch.ptr, scratch.len);
    tool = stringMember(request, "tool");
    action = stringMember(request, "action");
    const agent = member(request, "agent");
    if (agent != 0 && nodeKind(agent) == KIND_OBJECT) {
      agentId = stringMember(agent, "id");
      if (agentId != 0) agentTenant = stringMember(agent, "tenant");
    }
    overrideToken = stringMember(request, "override_token");
    if (includeParams && params == 0) {
      params = member(request, "params");
      if (params != 0 && nodeKind(params) == KIND_NULL) params = 0; // `?? {}`
    }
  }

  // The members, in JCS order (UTF-16 order of their names).
  line.reset();
  firstMember = true;
  line.byte(0x7b);
  if (error != 0) {
    const e = identitySpanEnd(IDENTITY_ACTION);
    if (identityFound && e != 0) {
      key("action");
      if (!writeJcsEscapedContents(line, identitySpanStart(IDENTITY_ACTION), e)) return RECORD_NOT_CANONICAL;
    }
    const idEnd = identitySpanEnd(IDENTITY_AGENT_ID);
    if (identityFound && identityAgentIsObject() && idEnd != 0) {
      key("agent");
      line.ascii("{\"id\":");
      if (!writeJcsEscapedContents(line, identitySpanStart(IDENTITY_AGENT_ID), idEnd)) return RECORD_NOT_CANONICAL;
      const tenantEnd = identitySpanEnd(IDENTITY_AGENT_TENANT);
      if (tenantEnd != 0) {
        line.ascii(",\"tenant\":");
        if (!writeJcsEscapedContents(line, identitySpanStart(IDENTITY_AGENT_TENANT), tenantEnd)) return RECORD_NOT_CANONICAL;
      }
      line.byte(0x7d);
    }
    textMember("bundle", bundlePtr, bundleLen);
    key("decision"); line.ascii("\"deny\"");
    key("enforced"); line.ascii("true");
    key("error");
    line.ascii("{\"code\":");
    if (writeJcsValue(line, errorCode) != 0) return RECORD_NOT_CANONICAL;
    line.ascii(",\"message\":");
    if (writeJcsValue(line, errorMessage) != 0) return RECORD_NOT_CANONICAL;
    line.byte(0x7d);
  } else {
    if (action != 0) { key("action"); stringNodeValue(action); }
    if (agentId != 0) {
      key("agent");
      line.ascii("{\"id\":");
      stringNodeValue(agentId);
      if (agentTenant != 0) { line.ascii(",\"tenant\":"); stringNodeValue(agentTenant); }
      line.byte(0x7d);
    }
    if (approval) {
      // "apr-" + the first 32 hex digits of SHA-256("<bundle>\n<rule>\n<request digest>").
      scratch.reset();
      scratch.bytes(stringPtr(bundle), <usize>stringLen(bundle));
      scratch.byte(0x0a);
      scratch.bytes(stringPtr(rule), <usize>stringLen(rule));
      scratch.byte(0x0a);
      scratch.bytes(requestDigest, 71);
      sha256(scratch.ptr, scratch.len, digest);
      key("approval");
      line.ascii("\"apr-");
      writeHex(line.reserve(32), 32);
      line.len += 32;
      line.byte(0x22);
    }
    key("bundle"); if (writeJcsValue(line, bundle) != 0) return RECORD_NOT_CANONICAL;
    key("decision"); if (writeJcsValue(line, decision) != 0) return RECORD_NOT_CANONICAL;
    key("enforced"); if (writeJcsValue(line, enforced) != 0) return RECORD_NOT_CANONICAL;
  }
  numberMember("eval_ns", <f64>evalNs);
  textMember("host", hostPtr, hostLen);
  textMember("id", idPtr, idLen);
  if (error == 0) {
    if (overrideToken != 0) {
      sha256(stringPtr(overrideToken), <usize>stringLen(overrideToken), digest);
      key("override_token");
      line.ascii("\"sha256:");
      writeHex(line.reserve(64), 64);
      line.len += 64;
      line.byte(0x22);
    }
    if (includeParams) {
      key("params");
      if (params == 0) line.ascii("{}");
      else if (writeJcsValue(line, params) != 0) return RECORD_NOT_CANONICAL;
    }
    key("policy");
    line.ascii("{\"name\":");
    if (writeJcsValue(line, policy) != 0) return RECORD_NOT_CANONICAL;
    line.ascii(",\"version\":");
    if (writeJcsValue(line, policyVersion) != 0) return RECORD_NOT_CANONICAL;
    line.byte(0x7d);
  }
  textMember("prev", prevPtr, 64);
  key("reason");
  if (writeJcsValue(line, error != 0 ? errorMessage : reason) != 0) return RECORD_NOT_CANONICAL;
  if (error == 0 && nonEmptyList(redactions)) {
    key("redactions");
    if (writeJcsValue(line, redactions) != 0) return RECORD_NOT_CANONICAL;
  }
  textMember("request", requestDigest, 71);
  key("rule");
  if (error != 0) line.ascii("\"\"");
  else if (writeJcsValue(line, rule) != 0) return RECORD_NOT_CANONICAL;
  numberMember("seq", <f64>seq);
  if (error == 0 && nonEmptyList(shadow)) {
    key("shadow");
    if (writeJcsValue(line, shadow) != 0) return RECORD_NOT_CANONICAL;
  }
  if (error != 0) {
    const e = identitySpanEnd(IDENTITY_TOOL);
    if (identityFound && e != 0) {
      key("tool");
      if (!writeJcsEscapedContents(line, identitySpanStart(IDENTITY_TOOL), e)) return RECORD_NOT_CANONICAL;
    }
  } else if (tool != 0) {
    key("tool");
    stringNodeValue(tool);
  }
  key("ts");
  line.byte(0x22);
  line.bytes(tsText, <usize>tsLen);
  line.byte(0x22);
  key("type"); line.ascii("\"decision\"");
  key("v"); line.ascii("1");
  line.byte(0x7d);
  return RECORD_OK;
}
