// Engine stage `render`: decision state (engine/decide.ts) and VM values -> JSON bytes in the
// output buffer (engine/out.ts). Decision JSON per docs/semantics.md "Decision JSON" (fixed key
// order, JSON.stringify escaping, params in request order with number lexemes kept); value JSON
// per docs/engine-abi.md (used by eval_rule_value). Nothing is allocated except arena scratch.

import {
  EFFECT_SANITIZE, ERR_NO_SUCH_KEY, ERR_NO_MATCHING_OVERLOAD, ERR_INVALID_ARGUMENT, ERR_NOT_A_BOOL,
  errorName, errorMessage, effectName,
} from "./generated/bytecode";
import { outReset, outByte, outBytes, outAscii, outJsonString, outJsonAscii, outU64, outI64, outDoubleBits, outLen } from "./out";
import { outJsonStringContent } from "./out";
import {
  Bundle, NONE, ruleRec, policyRec, strAddr, strLength, findSite,
  R_ID, R_REASON, R_EFFECT, R_DBG_FILE, R_DBG_LINE, R_DBG_COL, P_NAME, P_VERSION,
} from "./loader";
import {
  decEffect, decRule, decRef, decPolicy, decEnforced, decReason, decBundle, decParams,
  egressTextPtr, egressTextLen, FAILED_ERROR, shadowPtr, shadowCount, redactionPtr, redactionCount,
  REDACTION_SIZE, KIND_REDACTED, RULE_DEFAULT, RULE_EGRESS, RULE_DLP,
  REASON_RULE, REASON_FAILED, REASON_EGRESS_SHAPE, REASON_EGRESS_URL, REASON_EGRESS_HOST,
  REASON_DEFAULT_DENY, REASON_DEFAULT_ALLOW, REASON_DEFAULT_SHADOW, REASON_DLP, REASON_DLP_FAILED,
  SHADOW_RULE, SHADOW_EGRESS, SHADOW_DLP,
} from "./decide";
import { OPN_FIELD, opName } from "./vm";
import {
  SLOT, TAG_NULL, TAG_BOOL, TAG_INT, TAG_DOUBLE, TAG_STRING, TAG_LIST, TAG_VLIST, TAG_MAP,
  tagOf, boolOf, intOf, doubleOf, strPtrOf, strLenOf, nodeOf, errorCode, errorOp, errorPc,
  listCount, listGet, fromNode,
} from "./values";
import {
  KIND_NULL, KIND_FALSE, KIND_TRUE, KIND_NUMBER, KIND_STRING, KIND_ARRAY, KIND_OBJECT, nodeKind,
  stringPtr, stringLen, numberValue, numberLexemePtr, numberLexemeLen, containerCount, arrayElement,
  objectMember, memberKeyPtr, memberKeyLen, memberValue,
} from "./tape";
import { arenaAlloc, arenaMark, arenaRelease } from "./arena";

const HEX = "0123456789abcdef";

/** The text of an evaluation error's message (inside a JSON string: no quotes). */
export function outErrorMessage(err: usize): void {
  const code = errorCode(err);
  if (code == ERR_NO_SUCH_KEY) {
    outAscii("no such key `");
    outJsonStringContent(<usize>load<u32>(err, 8), load<u32>(err, 12));
    outByte(0x60);
  } else if (code == ERR_NO_MATCHING_OVERLOAD) {
    outAscii("no matching overload for `");
    outAscii(opName(errorOp(err)));
    if (errorOp(err) == OPN_FIELD) outJsonStringContent(<usize>load<u32>(err, 8), load<u32>(err, 12));
    outByte(0x60);
  } else if (code == ERR_INVALID_ARGUMENT) {
    outAscii("invalid argument to `");
    outAscii(opName(errorOp(err)));
    outByte(0x60);
  } else {
    outAscii(errorMessage(code));
  }
}

function outBundleString(b: Bundle, s: u32): void {
  outJsonStringContent(strAddr(b, s), strLength(b, s));
}

function outRuleName(b: Bundle, rule: i32, ref: u32): void {
  outByte(0x22);
  if (rule == RULE_DEFAULT) outAscii("default");
  else if (rule == RULE_EGRESS) outAscii("egress");
  else if (rule == RULE_DLP) { outAscii("dlp:"); outBundleString(b, load<u32>(b.dlpBase + <usize>ref * 11)); }
  else outBundleString(b, load<u32>(ruleRec(b, <u32>rule) + R_ID));
  outByte(0x22);
}

function outReason(b: Bundle): void {
  outByte(0x22);
  if (decReason == REASON_RULE) {
    const rec = ruleRec(b, <u32>decRule);
    const reason = load<u32>(rec + R_REASON);
    if (reason != NONE && strLength(b, reason) > 0) outBundleString(b, reason);
    else {
      const e = load<u8>(rec + R_EFFECT);
      outAscii(e == 0 ? "allowed by rule `" : e == 1 ? "allowed with redactions by rule `" : e == 2 ? "approval needed by rule `" : "denied by rule `");
      outBundleString(b, load<u32>(rec + R_ID));
      outByte(0x60);
    }
  } else if (decReason == REASON_FAILED) {
    outFailedReason(b, <u32>decRule, FAILED_ERROR);
  } else if (decReason == REASON_EGRESS_SHAPE) {
    outAscii("egress check failed: `context.egress` must be a list of strings");
  } else if (decReason == REASON_EGRESS_URL) {
    outAscii("egress URL `"); outJsonStringContent(egressTextPtr, egressTextLen); outAscii("` is not a valid URL");
  } else if (decReason == REASON_EGRESS_HOST) {
    outAscii("egress to `"); outJsonStringContent(egressTextPtr, egressTextLen); outAscii("` is not allowed");
  } else if (decReason == REASON_DEFAULT_DENY) {
    outAscii("no rule allows this call (default deny)");
  } else if (decReason == REASON_DEFAULT_ALLOW) {
    outAscii("no rule matched (default allow)");
  } else if (decReason == REASON_DEFAULT_SHADOW) {
    outAscii("no enforced policy applies (shadow mode)");
  } else if (decReason == REASON_DLP) {
    outAscii("sensitive data redacted by `dlp:");
    outBundleString(b, load<u32>(b.dlpBase + <usize>decRef * 11));
    outByte(0x60);
  } else if (decReason == REASON_DLP_FAILED) {
    outAscii("redaction by `dlp:");
    outBundleString(b, load<u32>(b.dlpBase + <usize>decRef * 11));
    outAscii("` failed: value is larger than the limit");
  }
  outByte(0x22);
}

/** ``rule `{id}` failed at {file}:{line}:{col}: {message}`` (without DEBUG: ``failed: ``). */
function outFailedReason(b: Bundle, r: u32, err: usize): void {
  const rec = ruleRec(b, r);
  outAscii("rule `");
  outBundleString(b, load<u32>(rec + R_ID));
  outAscii("` failed");
  const file = load<u32>(rec + R_DBG_FILE);
  if (file != NONE) {
    let line = load<u32>(rec + R_DBG_LINE), col = load<u32>(rec + R_DBG_COL);
    if (errorCode(err) != ERR_NOT_A_BOOL) {
      const site = findSite(b, r, errorPc(err));
      if (site != 0) { line = load<u32>(site, 8); col = load<u32>(site, 12); }
    }
    outAscii(" at ");
    outBundleString(b, file);
    outByte(0x3a); outU64(<u64>line); outByte(0x3a); outU64(<u64>col);
  }
  outAscii(": ");
  outErrorMessage(err);
}

/**
 * Render only the last decision's reason, as a JSON string literal, into the output buffer;
 * returns its length. With flags bits 1 and 2 clear, the reason is the one part of the decision
 * JSON not fixed by (effect, rule, policy, enforced): a host that cached the rest needs only this.
 */
export function renderReason(): u32 {
  outReset();
  const b = decBundle;
  if (b === null) return 0;
  outReason(b);
  return <u32>outLen();
}

/** Render the last decision's JSON into the output buffer; returns its length. */
export function renderDecision(): u32 {
  outReset();
  const b = decBundle;
  if (b === null) return 0;
  outAscii("{\"decision\":\"");
  outAscii(effectName(decEffect));
  outAscii("\",\"enforced\":");
  outAscii(decEnforced ? "true" : "false");
  outAscii(",\"rule\":");
  outRuleName(b, decRule, decRef);
  outAscii(",\"reason\":");
  outReason(b);
  const pol = policyRec(b, decPolicy);
  outAscii(",\"policy\":\"");
  outBundleString(b, load<u32>(pol + P_NAME));
  outAscii("\",\"policy_version\":\"");
  outBundleString(b, load<u32>(pol + P_VERSION));
  outAscii("\",\"bundle\":\"sha256:");
  for (let i: usize = 0; i < 32; i++) {
    const c = load<u8>(b.digest + i);
    outByte(<u8>HEX.charCodeAt(c >> 4)); outByte(<u8>HEX.charCodeAt(c & 15));
  }
  outByte(0x22);
  if (shadowCount > 0) {
    outAscii(",\"shadow\":[");
    for (let i: u32 = 0; i < shadowCount; i++) {
      const e = shadowPtr + (<usize>i << 3);
      if (i > 0) outByte(0x2c);
      outAscii("{\"rule\":");
      const kind = load<u8>(e, 4);
      const ref = load<u32>(e);
      if (kind == SHADOW_RULE) outRuleName(b, <i32>ref, 0);
      else if (kind == SHADOW_EGRESS) outRuleName(b, RULE_EGRESS, 0);
      else if (kind == SHADOW_DLP) outRuleName(b, RULE_DLP, ref);
      else outRuleName(b, RULE_DEFAULT, 0);
      outAscii(",\"effect\":\"");
      outAscii(effectName(load<u8>(e, 5)));
      outAscii("\"}");
    }
    outByte(0x5d);
  }
  if (decEffect == EFFECT_SANITIZE) {
    outAscii(",\"redactions\":[");
    for (let i: u32 = 0; i < redactionCount; i++) {
      const e = redactionPtr + <usize>i * REDACTION_SIZE;
      if (i > 0) outByte(0x2c);
      outAscii("{\"path\":");
      outJsonString(<usize>load<u32>(e), load<u32>(e, 4));
      outAscii(",\"by\":");
      if (load<u32>(e, 12) == 0) outRuleName(b, <i32>load<u32>(e, 8), 0);
      else outRuleName(b, RULE_DLP, load<u32>(e, 8));
      outByte(0x7d);
    }
    outAscii("],\"params\":");
    if (decParams == 0) outAscii("{}"); else outTapeJson(decParams, 0);
  }
  outByte(0x7d);
  return <u32>outLen();
}

/** Write a tape value as JSON: request key order, number lexemes as written, redactions applied. */
function outTapeJson(node: usize, depth: u32): void {
  const k = nodeKind(node);
  if (k == KIND_NULL) outAscii("null");
  else if (k == KIND_FALSE) outAscii("false");
  else if (k == KIND_TRUE) outAscii("true");
  else if (k == KIND_NUMBER) {
    const lp = numberLexemePtr(node);
    if (lp != 0) outBytes(lp, numberLexemeLen(node));
    else outNumberWithoutLexeme(numberValue(node));
  } else if (k == KIND_STRING || k == KIND_REDACTED) outJsonString(stringPtr(node), stringLen(node));
  else if (depth > 80) outAscii("null"); // unreachable: tapes are at most MAX_JSON_DEPTH deep
  else if (k == KIND_ARRAY) {
    outByte(0x5b);
    const n = containerCount(node);
    for (let i: u32 = 0; i < n; i++) {
      if (i > 0) outByte(0x2c);
      outTapeJson(arrayElement(node, i), depth + 1);
    }
    outByte(0x5d);
  } else {
    outByte(0x7b);
    const n = containerCount(node);
    for (let i: u32 = 0; i < n; i++) {
      const m = objectMember(node, i);
      if (i > 0) outByte(0x2c);
      outJsonString(memberKeyPtr(m), memberKeyLen(m));
      outByte(0x3a);
      outTapeJson(memberValue(m), depth + 1);
    }
    outByte(0x7d);
  }
}

/**
 * A number a host wrote into a tape without its lexeme (docs/engine-abi.md: only when rendering
 * is never needed). Integers up to 2^53 print exactly; anything else falls back to the runtime's
 * shortest round-trip formatting.
 */
function outNumberWithoutLexeme(d: f64): void {
  if (isFinite(d) && Math.trunc(d) == d && Math.abs(d) <= 9007199254740992.0) {
    if (d == 0 && 1 / d < 0) { outAscii("-0"); return; }
    outI64(<i64>d);
    return;
  }
  if (!isFinite(d)) { outAscii("null"); return; }
  outAscii(d.toString());
}

// ---- value JSON ---------------------------------------------------------------------------------

/** Write value slot `v` as value JSON (docs/engine-abi.md). */
export function outValueJson(v: usize, depth: u32): void {
  const t = tagOf(v);
  if (t == TAG_NULL) outAscii("{\"type\":\"null\"}");
  else if (t == TAG_BOOL) outAscii(boolOf(v) ? "{\"type\":\"bool\",\"value\":true}" : "{\"type\":\"bool\",\"value\":false}");
  else if (t == TAG_INT) { outAscii("{\"type\":\"int\",\"value\":\""); outI64(intOf(v)); outAscii("\"}"); }
  else if (t == TAG_DOUBLE) { outAscii("{\"type\":\"double\",\"bits\":\""); outDoubleBits(doubleOf(v)); outAscii("\"}"); }
  else if (t == TAG_STRING) { outAscii("{\"type\":\"string\",\"value\":"); outJsonString(strPtrOf(v), strLenOf(v)); outByte(0x7d); }
  else if (t == TAG_LIST || t == TAG_VLIST) {
    outAscii("{\"type\":\"list\",\"value\":[");
    const n = listCount(v);
    const mark = arenaMark();
    const tmp = arenaAlloc(SLOT);
    for (let i: u32 = 0; i < n; i++) {
      if (i > 0) outByte(0x2c);
      listGet(v, i, tmp);
      outValueJson(tmp, depth + 1);
    }
    arenaRelease(mark);
    outAscii("]}");
  } else if (t == TAG_MAP) {
    outAscii("{\"type\":\"map\",\"value\":[");
    const node = nodeOf(v);
    const n: u32 = node == 0 ? 0 : containerCount(node);
    const mark = arenaMark();
    const tmp = arenaAlloc(SLOT);
    for (let i: u32 = 0; i < n; i++) {
      const m = objectMember(node, i);
      if (i > 0) outByte(0x2c);
      outByte(0x5b);
      outJsonString(memberKeyPtr(m), memberKeyLen(m));
      outByte(0x2c);
      fromNode(tmp, memberValue(m));
      outValueJson(tmp, depth + 1);
      outByte(0x5d);
    }
    arenaRelease(mark);
    outAscii("]}");
  } else {
    outAscii("{\"type\":\"error\",\"code\":");
    outJsonAscii(errorName(errorCode(v)));
    outAscii(",\"message\":\"");
    outErrorMessage(v);
    outAscii("\"}");
  }
}

/** Reset the output and write value JSON of `v`. */
export function renderValue(v: usize): void {
  outReset();
  outValueJson(v, 0);
}
