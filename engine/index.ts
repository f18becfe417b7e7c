// Engine entry point: the wasm exports of docs/engine-abi.md. Input: bundle and request bytes the
// host wrote into the input buffer (or a tape into the tape region). Output: status codes, the
// result_* accessors and JSON in the output buffer. Built to build/aegis.wasm by `npm run asbuild`.
// No imports from the host; every failure is a return code plus error JSON, never a trap.

import {
  MAX_BUNDLE_BYTES, MAX_REQUEST_BYTES, ERR_NO_BUNDLE, ERR_TRUNCATED, ERR_INVALID_REQUEST, ERR_BAD_INDEX, ERR_REQUEST_TOO_LARGE,
  errorName, errorMessage,
} from "./generated/bytecode";
import { arenaReset } from "./arena";
import { outReset, outPtr, outLen, outAscii, outJsonAscii } from "./out";
import { loadBundle, activeBundle } from "./loader";
import { parseJson, jsonRoot, writeJsonError } from "./json";
import { validateRequest, validateTape, writeRequestError, reqAgent, reqTool, reqAction, reqParams, reqContext } from "./request";
import {
  decide, clearDecision, decEffect, decRule, decPolicy, decEnforced, decReason, shadowCount,
  REASON_FAILED, REASON_DLP_FAILED, REASON_EGRESS_SHAPE, REASON_EGRESS_URL, REASON_EGRESS_HOST,
} from "./decide";
import { EFFECT_SANITIZE } from "./generated/bytecode";
import { renderDecision, renderReason, renderValue } from "./render";
import { runRule, setRequestVars } from "./vm";

/**
 * A host-written buffer that grows by doubling (from 64 KiB) and is reused: the old block is
 * abandoned, so the waste is bounded by the largest size ever asked for.
 */
class Region {
  buf: usize = 0;
  cap: u32 = 0;
  ensure(cap: u32): usize {
    if (cap > this.cap || this.buf == 0) {
      let want: u32 = this.cap == 0 ? 65536 : this.cap;
      while (want < cap) want <<= 1;
      this.buf = heap.alloc(<usize>want);
      this.cap = want;
    }
    return this.buf;
  }
}

const input = new Region();
const tape = new Region();
const VALUE: usize = memory.data(16);

function writeError(code: i32, message: string): void {
  outReset();
  outAscii("{\"error\":{\"code\":");
  outJsonAscii(errorName(code));
  outAscii(",\"message\":");
  outJsonAscii(message.length > 0 ? message : errorMessage(code));
  outAscii("}}");
}

/** Ensure the input buffer holds `cap` bytes; returns its address (0 when `cap` is over every limit). */
export function input_ptr(cap: u32): u32 {
  if (cap > MAX_BUNDLE_BYTES) return 0;
  return <u32>input.ensure(cap);
}

/** Validate and load the bundle of `len` bytes in the input buffer (0 or a bundle error code). */
export function load_bundle(len: u32): i32 {
  // The last decision points into a bundle slot that this load may reuse.
  clearDecision();
  if (len > MAX_BUNDLE_BYTES) return loadBundle(0, len); // rejected before any byte is read
  if (len > input.cap) { writeError(ERR_TRUNCATED, "bundle is larger than the input buffer"); return ERR_TRUNCATED; }
  return loadBundle(input.buf, len);
}

/** Address of the loaded bundle's 32-byte SHA-256 digest, or 0 when none is loaded. */
export function bundle_digest_ptr(): u32 {
  const b = activeBundle();
  return b === null ? 0 : <u32>b.digest;
}

/** Evaluate the request JSON of `len` bytes in the input buffer; 0 = decision JSON in the output. */
export function evaluate_json(len: u32): i32 {
  clearDecision();
  const b = activeBundle();
  if (b === null) { writeError(ERR_NO_BUNDLE, ""); return ERR_NO_BUNDLE; }
  arenaReset();
  if (len > input.cap) { writeError(ERR_REQUEST_TOO_LARGE, ""); return ERR_REQUEST_TOO_LARGE; }
  let code = parseJson(input.buf, len);
  if (code != 0) { writeJsonError(code); return code; }
  code = validateRequest(jsonRoot());
  if (code != 0) { writeRequestError(); return code; }
  decide(b);
  renderDecision();
  return 0;
}

/** Ensure the tape region holds `cap` bytes; returns its address (fast path of the bindings). */
export function tape_ptr(cap: u32): u32 {
  if (cap > MAX_REQUEST_BYTES * 64) return 0;
  return <u32>tape.ensure(cap);
}

/** Evaluate a host-written tape (`used` bytes, root Node at offset `root`); result in result_*. */
export function evaluate_tape(root: u32, used: u32): i32 {
  clearDecision();
  const b = activeBundle();
  if (b === null) { writeError(ERR_NO_BUNDLE, ""); return ERR_NO_BUNDLE; }
  arenaReset();
  if (tape.buf == 0 || used > tape.cap) { writeError(ERR_INVALID_REQUEST, "tape is larger than the tape region"); return ERR_INVALID_REQUEST; }
  const code = validateTape(tape.buf, used, root);
  if (code != 0) { writeRequestError(); return code; }
  decide(b);
  outReset();
  return 0;
}

/** Render the last decision's JSON into the output buffer; returns its length. */
export function render_decision(): u32 { return renderDecision(); }

/** Render the last decision's reason (a JSON string literal) into the output buffer; its length. */
export function render_reason(): u32 { return renderReason(); }

export function output_ptr(): u32 { return <u32>outPtr(); }
export function output_len(): u32 { return <u32>outLen(); }

/** Effect code of the last decision (0 allow, 1 sanitize, 2 approval_needed, 3 deny). */
export function result_effect(): i32 { return <i32>decEffect; }
/** Rule index of the last decision, or -1 default, -2 egress, -3 DLP. */
export function result_rule(): i32 { return decRule; }
/** Policy index of the last decision. */
export function result_policy(): i32 { return <i32>decPolicy; }
/** Bit 0 enforced; bit 1 shadow list non-empty; bit 2 redactions/params present; bit 3 dynamic reason. */
export function result_flags(): i32 {
  let f: i32 = decEnforced ? 1 : 0;
  if (shadowCount > 0) f |= 2;
  if (decEffect == EFFECT_SANITIZE) f |= 4;
  if (decReason == REASON_FAILED || decReason == REASON_DLP_FAILED || decReason == REASON_EGRESS_SHAPE || decReason == REASON_EGRESS_URL || decReason == REASON_EGRESS_HOST) f |= 8;
  return f;
}

/** Strict JSON syntax check of the `len` input bytes: 0 or a request error code (error JSON). */
export function parse_json(len: u32): i32 {
  arenaReset();
  if (len > input.cap) { writeError(ERR_REQUEST_TOO_LARGE, ""); return ERR_REQUEST_TOO_LARGE; }
  const code = parseJson(input.buf, len);
  if (code != 0) { writeJsonError(code); return code; }
  outReset();
  return 0;
}

/** Evaluate rule `rule`'s expression against the request JSON in the input; value JSON in output. */
export function eval_rule_value(rule: u32, len: u32): i32 {
  clearDecision();
  const b = activeBundle();
  if (b === null) { writeError(ERR_NO_BUNDLE, ""); return ERR_NO_BUNDLE; }
  if (rule >= b.ruleCount) { writeError(ERR_BAD_INDEX, "rule index is out of range"); return ERR_BAD_INDEX; }
  arenaReset();
  if (len > input.cap) { writeError(ERR_REQUEST_TOO_LARGE, ""); return ERR_REQUEST_TOO_LARGE; }
  let code = parseJson(input.buf, len);
  if (code != 0) { writeJsonError(code); return code; }
  code = validateRequest(jsonRoot());
  if (code != 0) { writeRequestError(); return code; }
  setRequestVars(reqAgent(), reqTool(), reqAction(), reqParams(), reqContext());
  runRule(b, rule, VALUE);
  renderValue(VALUE);
  return 0;
}
