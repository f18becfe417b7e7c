// Filter: decision records. Input: the engine's output for one request (decision JSON or request
// error JSON), the request bytes as evaluated, the clock readings around the engine call and the
// request's `x-request-id`. Output: the decision record of docs/telemetry.md §2, written by
// engine/record/record.ts (the bytes every other host writes for the same inputs), as one proxy log
// line `aegis.record <record>` (info; the engine's raw bytes follow as `aegis.decision <json>` at
// debug) and, with a collector, POSTed to it with proxy_http_call (fire and forget: a slow
// collector never holds a request). The VM keeps the chain: `seq` counts records, `prev` is the
// leaf hash (SHA-256 of 0x00 ‖ line) of the last one. docs/envoy.md "Telemetry" is the guide.

import { bundle_digest_ptr } from "../../../engine/index";
import { sha256 } from "../../../engine/sha256";
import { utf8CountCodePoints } from "../../../engine/utf8";
import {
  RECORD_BAD_INPUT, RECORD_BAD_OUTCOME, RECORD_BAD_REQUEST, RECORD_OK, recordLineLen, recordLinePtr,
  renderRecordLine,
} from "../../../engine/record/record";
import { LOG_DEBUG, LOG_ERROR, LOG_INFO, httpCall, log } from "./abi";
import { ByteBuf, HeaderMap } from "./bytes";
import { Config } from "./config";

const HEX = "0123456789abcdef";

/** Longest `x-request-id` taken as the record id; a longer one gets a generated id instead. */
const MAX_REQUEST_ID_BYTES: usize = 128;

// ---- the chain ------------------------------------------------------------------------------

let seq: u64 = 0;
/** `prev` of the next record: 64 lower-case hex digits. */
const prev: usize = memory.data(64);
// The configured start of the running chain: a configuration with the same start continues it.
let chainStarted = false;
let chainSeqStart: u64 = 0;
const chainPrevStart: usize = memory.data(64);
const leafHash: usize = memory.data(32);

/**
 * `config` starts serving. Its `seq_start` and `prev` restart the chain when they differ from the
 * start of the running chain (or none runs yet); otherwise the chain goes on, so a configuration
 * update that changes something else (a new bundle URL, a header name) leaves no gap or repeat.
 */
export function startChain(config: Config): void {
  const start = config.prevStart;
  if (chainStarted && config.seqStart == chainSeqStart && memory.compare(start.ptr, chainPrevStart, 64) == 0) return;
  chainStarted = true;
  chainSeqStart = config.seqStart;
  memory.copy(chainPrevStart, start.ptr, 64);
  seq = config.seqStart;
  memory.copy(prev, start.ptr, 64);
}

// ---- record ids -----------------------------------------------------------------------------

// Generated ids are UUIDv7 (RFC 9562): the ms clock, then 12 bits of sub-ms clock (§6.2 method 3),
// then 62 bits: 30 of a per-VM seed and a 32-bit per-VM counter. No WASI, no random source: the
// counter keeps one VM's ids apart, the seed (a hash of the clock when the VM started) keeps
// Envoy's worker VMs apart. Unique, not unpredictable: nothing secret depends on them.
let idSeed: u32 = 0;
let idSeeded = false;
let idCounter: u32 = 0;
const idBytes: usize = memory.data(16);
const seedInput: usize = memory.data(8, 8);
const seedHash: usize = memory.data(32);

/** Seed the generated ids from a clock reading (ns); the first call wins. */
export function seedIds(ns: u64): void {
  if (idSeeded) return;
  idSeeded = true;
  store<u64>(seedInput, ns);
  sha256(seedInput, 8, seedHash);
  idSeed = load<u32>(seedHash);
}

const generatedId = new ByteBuf();

function generateId(ns: u64): void {
  seedIds(ns);
  const ms = ns / 1000000;
  const subMs = <u32>(((ns % 1000000) << 12) / 1000000);
  for (let i = 0; i < 6; i++) store<u8>(idBytes + <usize>i, <u8>(ms >> <u64>(40 - 8 * i)));
  store<u8>(idBytes + 6, <u8>(0x70 | (subMs >> 8)));
  store<u8>(idBytes + 7, <u8>subMs);
  const tail: u64 = (<u64>(idSeed & 0x3fffffff) << 32) | <u64>idCounter;
  idCounter++;
  store<u8>(idBytes + 8, <u8>(0x80 | <u32>(tail >> 56)));
  for (let i = 9; i < 16; i++) store<u8>(idBytes + <usize>i, <u8>(tail >> <u64>(8 * (15 - i))));
  const out = generatedId;
  out.reset();
  for (let i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.byte(0x2d);
    const b = load<u8>(idBytes + <usize>i);
    out.byte(<u8>HEX.charCodeAt(b >> 4));
    out.byte(<u8>HEX.charCodeAt(b & 15));
  }
}

// ---- the record -----------------------------------------------------------------------------

/** The record's approval id (`apr-` + 32 hex digits) of the last approval_needed decision, else empty. */
export const approvalId = new ByteBuf();

const APPROVAL_MEMBER = "\"approval\":\"";
const RECORD_PREFIX = "aegis.record ";
const out = new ByteBuf();
const debugLine = new ByteBuf();
const bundleText = new ByteBuf();
const headers = new HeaderMap();

/** The approval id in the record line: the value of its `approval` member. */
function findApproval(ptr: usize, len: usize): void {
  approvalId.reset();
  // `"approval":"` cannot occur inside a string of the line (its quotes would be escaped), and no
  // nested object of a record has an `approval` key: the first occurrence is the member.
  const n = <usize>APPROVAL_MEMBER.length;
  for (let i: usize = 0; i + n + 36 <= len; i++) {
    let same = true;
    for (let j: usize = 0; j < n; j++) {
      if (<u32>load<u8>(ptr + i + j) != <u32>APPROVAL_MEMBER.charCodeAt(<i32>j)) { same = false; break; }
    }
    if (same) { approvalId.bytes(ptr + i + n, 36); return; }
  }
}

function whyNoRecord(code: i32): string {
  if (code == RECORD_BAD_OUTCOME) return "the engine's output is not a decision or error the record can copy";
  if (code == RECORD_BAD_REQUEST) return "the request is not a JSON object";
  if (code == RECORD_BAD_INPUT) return "the clock is outside the range of a timestamp";
  return "a value of the request has no canonical JSON form (a number beyond a double, a lone surrogate)";
}

/**
 * Record one decision (or request error). `outPtr`/`outLen`: the engine's output; `reqPtr`/`reqLen`:
 * the request bytes it evaluated; `startNs`/`endNs`: the clock before and after the engine call;
 * `requestId`: the `x-request-id` header (empty when absent). `approval`: the decision is
 * approval_needed and its id is wanted (in `approvalId`) even when no record is kept.
 */
export function emitDecision(
  config: Config, outPtr: usize, outLen: usize, reqPtr: usize, reqLen: usize,
  startNs: u64, endNs: u64, requestId: ByteBuf, approval: bool,
): void {
  approvalId.reset();
  const keep = config.logRecords || config.collector !== null;
  if (!keep && !approval) return;
  if (config.logRecords) {
    debugLine.reset();
    debugLine.ascii("aegis.decision ");
    debugLine.bytes(outPtr, outLen);
    log(LOG_DEBUG, debugLine.ptr, debugLine.len);
  }

  let idPtr = requestId.ptr, idLen = requestId.len;
  if (idLen == 0 || idLen > MAX_REQUEST_ID_BYTES || utf8CountCodePoints(idPtr, idLen) < 0) {
    generateId(startNs);
    idPtr = generatedId.ptr;
    idLen = generatedId.len;
  }
  bundleText.reset();
  bundleText.ascii("sha256:");
  bundleText.hex(<usize>bundle_digest_ptr(), 32);
  const evalNs: u64 = endNs > startNs ? endNs - startNs : 0;
  const code = renderRecordLine(
    outPtr, <u32>outLen, reqPtr, <u32>reqLen, seq, prev, <i64>(startNs / 1000000),
    idPtr, <u32>idLen, config.recordHost.ptr, <u32>config.recordHost.len, evalNs, config.includeParams,
    bundleText.ptr, <u32>bundleText.len,
  );
  if (code != RECORD_OK) {
    if (!keep) return;
    // No leaf: the chain stays where it was. The decision still goes into the log, as evidence.
    out.reset();
    out.ascii("aegis: no decision record: ");
    out.ascii(whyNoRecord(code));
    out.ascii("; the decision: ");
    out.bytes(outPtr, outLen);
    log(LOG_ERROR, out.ptr, out.len);
    return;
  }
  const linePtr = recordLinePtr(), lineLen = recordLineLen();
  if (approval) findApproval(linePtr, lineLen);
  if (!keep) return;

  out.reset();
  out.ascii(RECORD_PREFIX);
  out.bytes(linePtr, lineLen);
  out.byte(0x0a);
  if (config.logRecords) log(LOG_INFO, out.ptr, out.len - 1);
  const c = config.collector;
  if (c !== null) {
    headers.reset();
    headers.addAscii(":method", "POST");
    headers.add(":path", c.path.ptr, c.path.len);
    headers.add(":authority", c.authority.ptr, c.authority.len);
    headers.addAscii("content-type", "application/json");
    const h = headers.serialize();
    // The body is the record itself, one JSON line with its newline.
    const prefix = <usize>RECORD_PREFIX.length;
    httpCall(c.cluster.ptr, c.cluster.len, h.ptr, h.len, out.ptr + prefix, out.len - prefix, c.timeoutMs);
  }

  // Advance the chain: prev = SHA-256(0x00 ‖ line). The byte before the line (the prefix's space)
  // is the 0x00 for the moment of hashing, so the line is not copied again.
  const before = out.ptr + <usize>RECORD_PREFIX.length - 1;
  store<u8>(before, 0);
  sha256(before, lineLen + 1, leafHash);
  store<u8>(before, 0x20);
  for (let i: usize = 0; i < 32; i++) {
    const b = load<u8>(leafHash + i);
    store<u8>(prev + 2 * i, <u8>HEX.charCodeAt(b >> 4));
    store<u8>(prev + 2 * i + 1, <u8>HEX.charCodeAt(b & 15));
  }
  seq++;
}
