// Engine stage `decide`: the decision algorithm of docs/semantics.md "Decisions".
// Input: the active Bundle and a validated request (engine/request.ts accessors). Output: the
// last decision's state below (effect, rule, policy, reason, shadow list, redactions, and the
// params tape with redactions applied in place), read by engine/render.ts and the result_*
// exports. Steps: candidates from the INDEX (merge of up to 8 ascending lists), egress, rule
// evaluation (engine/vm.ts), precedence, default, shadow report, redaction and DLP.
//
// INVARIANT: everything allocated here is arena memory of the current call; the params tape is
// modified in place only after every rule ran (redacted values become KIND_REDACTED Nodes, DLP
// rewrites a string Node's bytes), so evaluation never sees a redacted value.
//
// INVARIANT: redaction is charged to the evaluation budget (arena.ts): every DLP-rewritten string
// with chargeValue, every redaction record with chargeTotal(REDACTION_CHARGE + path bytes). Paths
// repeat every ancestor key, so without the charge a request with a long key above many matching
// strings would ask for far more memory than wasm32 has. Over the budget the decision fails
// closed (docs/semantics.md "Limits").

import {
  EFFECT_ALLOW, EFFECT_SANITIZE, EFFECT_DENY, MODE_SHADOW, MODE_ENFORCE, ERR_NOT_A_BOOL,
  ERR_VALUE_TOO_LARGE,
} from "./generated/bytecode";
import {
  Bundle, NONE, ruleRec, policyRec, strAddr, strLength, symbolOf, keyEntry,
  R_EFFECT, R_MODE, R_POLICY, R_REDACT, P_MODE, P_DEFAULT, P_AGENT_MODES, P_AGENT_MODE_COUNT,
} from "./loader";
import { runRule, setRequestVars } from "./vm";
import { TAG_BOOL, TAG_ERROR, tagOf, boolOf, copySlot, setError } from "./values";
import { arenaAlloc, chargeValue, chargeTotal } from "./arena";
import {
  KIND_STRING, KIND_ARRAY, KIND_OBJECT, nodeKind, stringPtr, stringLen, containerCount,
  arrayElement, objectMember, memberKeyPtr, memberKeyLen, memberValue, objectGet, bytesEqual,
} from "./tape";
import { reqAgent, reqAgentId, reqTool, reqAction, reqParams, reqContext } from "./request";
import { urlParse, urlHostPtr, urlHostLen } from "./url";
import { regexFind, regexMinLength } from "./regex";
import { utf8CountCodePoints } from "./utf8";

/** Node kind of a value replaced by a `redact` path (renders as "[REDACTED]"). */
export const KIND_REDACTED: u8 = 7;

// result_rule values for pseudo-rules.
export const RULE_DEFAULT: i32 = -1;
export const RULE_EGRESS: i32 = -2;
export const RULE_DLP: i32 = -3;

// Reason kinds of the last decision.
export const REASON_RULE: i32 = 0;          // the rule's reason or its default reason
export const REASON_FAILED: i32 = 1;        // fail-closed: rule + error in FAILED_ERROR
export const REASON_EGRESS_SHAPE: i32 = 2;
export const REASON_EGRESS_URL: i32 = 3;    // egressTextPtr/Len: the URL
export const REASON_EGRESS_HOST: i32 = 4;   // egressTextPtr/Len: the host
export const REASON_DEFAULT_DENY: i32 = 5;
export const REASON_DEFAULT_ALLOW: i32 = 6;
export const REASON_DEFAULT_SHADOW: i32 = 7;
export const REASON_DLP: i32 = 8;           // decRef: the DLP pattern
/** Deny: DLP pattern decRef went over the evaluation budget (``redaction by `dlp:{name}` failed: ...``). */
export const REASON_DLP_FAILED: i32 = 9;

// Shadow entry kinds (entry: u32 ref, u8 kind, u8 effect; 8 bytes).
export const SHADOW_RULE: u8 = 0;
export const SHADOW_EGRESS: u8 = 1;
export const SHADOW_DLP: u8 = 2;
export const SHADOW_DEFAULT: u8 = 3;

// Redaction entry (16 bytes): u32 path address, u32 path length, u32 ref, u32 kind (0 rule, 1 DLP).
export const REDACTION_SIZE: usize = 16;
/** What one redaction record costs the evaluation budget besides its path's bytes (docs/semantics.md). */
export const REDACTION_CHARGE: u64 = 16;

// ---- the last decision --------------------------------------------------------------------------

export let decEffect: u8 = 0;
/** Rule index, or RULE_DEFAULT / RULE_EGRESS / RULE_DLP. */
export let decRule: i32 = 0;
/** DLP pattern index when decRule == RULE_DLP. */
export let decRef: u32 = 0;
export let decPolicy: u32 = 0;
export let decEnforced: bool = true;
export let decReason: i32 = 0;
export let egressTextPtr: usize = 0;
export let egressTextLen: u32 = 0;
/** The error value of the deciding fail-closed rule (REASON_FAILED). */
export const FAILED_ERROR: usize = memory.data(16);
export let shadowPtr: usize = 0;
export let shadowCount: u32 = 0;
export let redactionPtr: usize = 0;
export let redactionCount: u32 = 0;
let redactionCap: u32 = 0;
/** The params object Node (possibly redacted in place), or 0 when the request had none. */
export let decParams: usize = 0;
/** The bundle the last decision came from. */
export let decBundle: Bundle | null = null;

const RESULT: usize = memory.data(16);
const EGRESS_KEY: usize = memory.data<u8>([0x65, 0x67, 0x72, 0x65, 0x73, 0x73]); // "egress"

function addShadow(ref: u32, kind: u8, effect: u8): void {
  const e = shadowPtr + (<usize>shadowCount << 3);
  store<u32>(e, ref);
  store<u8>(e, kind, 4);
  store<u8>(e, effect, 5);
  shadowCount++;
}

function addRedaction(pathPtr: usize, pathLen: u32, ref: u32, kind: u32): void {
  if (redactionCount == redactionCap) {
    const cap = redactionCap == 0 ? <u32>16 : redactionCap << 1;
    const fresh = arenaAlloc(<usize>cap * REDACTION_SIZE);
    if (redactionCount > 0) memory.copy(fresh, redactionPtr, <usize>redactionCount * REDACTION_SIZE);
    redactionPtr = fresh;
    redactionCap = cap;
  }
  const e = redactionPtr + <usize>redactionCount * REDACTION_SIZE;
  store<u32>(e, <u32>pathPtr);
  store<u32>(e, pathLen, 4);
  store<u32>(e, ref, 8);
  store<u32>(e, kind, 12);
  redactionCount++;
}

// ---- candidates ---------------------------------------------------------------------------------

const SYMS: usize = memory.data(24);
const LISTS: usize = memory.data(8 * 8); // up to 8 (address, count) rule lists
const CURSORS: usize = memory.data(8 * 4);

/**
 * The candidate rules of this call in ascending order, from the INDEX keys (a|any, t|any, x|any).
 * Returns the count; the rule indexes are at `candidates`.
 */
let candidates: usize = 0;
function collectCandidates(b: Bundle): u32 {
  const idNode = reqAgentId(), toolNode = reqTool(), actionNode = reqAction();
  store<u32>(SYMS, symbolOf(b, stringPtr(idNode), stringLen(idNode)));
  store<u32>(SYMS, NONE, 4);
  store<u32>(SYMS, symbolOf(b, stringPtr(toolNode), stringLen(toolNode)), 8);
  store<u32>(SYMS, NONE, 12);
  store<u32>(SYMS, symbolOf(b, stringPtr(actionNode), stringLen(actionNode)), 16);
  store<u32>(SYMS, NONE, 20);
  let lists = 0;
  let total: u32 = 0;
  for (let i = 0; i < 2; i++) {
    const a = load<u32>(SYMS + (<usize>i << 2));
    if (i == 0 && a == NONE) continue;
    for (let j = 0; j < 2; j++) {
      const t = load<u32>(SYMS + 8 + (<usize>j << 2));
      if (j == 0 && t == NONE) continue;
      for (let k = 0; k < 2; k++) {
        const x = load<u32>(SYMS + 16 + (<usize>k << 2));
        if (k == 0 && x == NONE) continue;
        const e = keyEntry(b, a, t, x);
        if (e == 0) continue;
        const count = load<u32>(e, 16);
        if (count == 0) continue;
        store<u32>(LISTS + (<usize>lists << 3), load<u32>(e, 12));
        store<u32>(LISTS + (<usize>lists << 3), count, 4);
        store<u32>(CURSORS + (<usize>lists << 2), 0);
        total += count;
        lists++;
      }
    }
  }
  // One list (a rule set keyed on one selector combination) is already the answer: the INDEX
  // lists are ascending and, within one list, free of repeats (the loader checks both).
  if (lists == 1) {
    candidates = <usize>load<u32>(LISTS);
    return total;
  }
  candidates = arenaAlloc(<usize>total << 2);
  // k-way merge of ascending lists; a rule listed under two keys (only in a hand-made bundle)
  // is taken once.
  let n: u32 = 0;
  let last: i64 = -1;
  while (true) {
    let best: u32 = NONE;
    let bestList = -1;
    for (let l = 0; l < lists; l++) {
      const c = load<u32>(CURSORS + (<usize>l << 2));
      if (c >= load<u32>(LISTS + (<usize>l << 3), 4)) continue;
      const r = load<u32>(<usize>load<u32>(LISTS + (<usize>l << 3)) + (<usize>c << 2));
      if (bestList < 0 || r < best) { best = r; bestList = l; }
    }
    if (bestList < 0) break;
    store<u32>(CURSORS + (<usize>bestList << 2), load<u32>(CURSORS + (<usize>bestList << 2)) + 1);
    if (<i64>best != last) { store<u32>(candidates + (<usize>n << 2), best); n++; last = <i64>best; }
  }
  return n;
}

// ---- egress ---------------------------------------------------------------------------------------

/** ASCII case-insensitive equality of two byte strings. */
function equalsIgnoreCase(a: usize, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) {
    let x = load<u8>(a + i), y = load<u8>(b + i);
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x != y) return false;
  }
  return true;
}

/** An IP literal host: bracketed IPv6, or a last label of digits only (IPv4). */
function isIpHost(p: usize, n: u32): bool {
  if (n == 0) return false;
  if (load<u8>(p) == 0x5b) return true;
  let i = n;
  while (i > 0 && load<u8>(p + i - 1) >= 0x30 && load<u8>(p + i - 1) <= 0x39) i--;
  return i < n && (i == 0 || load<u8>(p + i - 1) == 0x2e);
}

function hostAllowed(b: Bundle, p: usize, n: u32): bool {
  if (n > 0 && load<u8>(p + n - 1) == 0x2e) n--;
  const ip = isIpHost(p, n);
  for (let i: u32 = 0; i < b.egressCount; i++) {
    const e = b.egressBase + <usize>i * 5;
    const s = load<u32>(e, 1);
    const hp = strAddr(b, s), hn = strLength(b, s);
    if (load<u8>(e) == 0) {
      if (hn == n && equalsIgnoreCase(p, hp, n)) return true;
    } else if (hn > 0 && !ip && n > hn + 1 && load<u8>(p + n - hn - 1) == 0x2e && equalsIgnoreCase(p + n - hn, hp, hn)) {
      return true;
    }
  }
  return false;
}

/** 0 when egress passes, else the REASON_EGRESS_* of the first failure. */
function checkEgress(context: usize): i32 {
  const list = objectGet(context, EGRESS_KEY, 6);
  if (list == 0) return 0;
  if (nodeKind(list) != KIND_ARRAY) return REASON_EGRESS_SHAPE;
  const n = containerCount(list);
  for (let i: u32 = 0; i < n; i++) {
    if (nodeKind(arrayElement(list, i)) != KIND_STRING) return REASON_EGRESS_SHAPE;
  }
  const b = decBundle!;
  for (let i: u32 = 0; i < n; i++) {
    const u = arrayElement(list, i);
    const p = stringPtr(u), len = stringLen(u);
    if (!urlParse(p, len)) { egressTextPtr = p; egressTextLen = len; return REASON_EGRESS_URL; }
    const hp = urlHostPtr(), hn = urlHostLen();
    if (!hostAllowed(b, hp, hn)) {
      // The URL parser reuses its buffers: keep a copy of the host for the reason.
      const copy = arenaAlloc(<usize>hn);
      memory.copy(copy, hp, hn);
      egressTextPtr = copy; egressTextLen = hn;
      return REASON_EGRESS_HOST;
    }
  }
  return 0;
}

// ---- modes ----------------------------------------------------------------------------------------

/** The mode of policy `p` for this call: the per-agent mode of the request's agent id, else its own. */
function policyModeForCall(b: Bundle, p: u32): u8 {
  const rec = policyRec(b, p);
  const idNode = reqAgentId();
  const ip = stringPtr(idNode), il = stringLen(idNode);
  const n = load<u32>(rec + P_AGENT_MODE_COUNT);
  let m = <usize>load<u32>(rec + P_AGENT_MODES);
  for (let i: u32 = 0; i < n; i++, m += 5) {
    const s = load<u32>(m);
    if (strLength(b, s) == il && bytesEqual(strAddr(b, s), ip, il)) return load<u8>(m, 4);
  }
  return load<u8>(rec + P_MODE);
}

// ---- the decision ---------------------------------------------------------------------------------

/**
 * Decide the validated request against bundle `b`. The result is in the dec* state.
 */
export function decide(b: Bundle): void {
  decBundle = b;
  const params = reqParams();
  const context = reqContext();
  setRequestVars(reqAgent(), reqTool(), reqAction(), params, context);
  decParams = params;
  shadowCount = 0;
  redactionCount = 0;
  redactionCap = 0;
  redactionPtr = 0;
  egressTextPtr = 0;
  egressTextLen = 0;

  const n = collectCandidates(b);
  shadowPtr = arenaAlloc((<usize>n + <usize>b.dlpCount + 2) << 3);
  // Enforced sanitize rules that matched, for redaction (rule order).
  const sanitizers = arenaAlloc(<usize>n << 2);
  let sanitizerCount: u32 = 0;

  let hasBest = false;
  let bestEffect: u8 = 0;
  decRule = RULE_DEFAULT;
  decRef = 0;
  decPolicy = 0;
  decEnforced = true;
  decReason = REASON_RULE;

  // Egress, first in evaluation order.
  if (b.hasEgress) {
    const why = checkEgress(context);
    if (why != 0) {
      if (b.egressMode == MODE_SHADOW) addShadow(0, SHADOW_EGRESS, EFFECT_DENY);
      else {
        hasBest = true; bestEffect = EFFECT_DENY;
        decRule = RULE_EGRESS; decPolicy = b.egressPolicy; decReason = why;
      }
    }
  }

  for (let i: u32 = 0; i < n; i++) {
    const r = load<u32>(candidates + (<usize>i << 2));
    runRule(b, r, RESULT);
    const rec = ruleRec(b, r);
    let effect = load<u8>(rec + R_EFFECT);
    let failed = false;
    if (tagOf(RESULT) == TAG_BOOL) {
      if (!boolOf(RESULT)) continue;
    } else {
      failed = true;
      effect = EFFECT_DENY;
      if (tagOf(RESULT) != TAG_ERROR) setError(RESULT, ERR_NOT_A_BOOL, 255, 0xffffffff, 0, 0);
    }
    if (load<u8>(rec + R_MODE) == MODE_SHADOW) { addShadow(r, SHADOW_RULE, effect); continue; }
    if (!failed && effect == EFFECT_SANITIZE) { store<u32>(sanitizers + (<usize>sanitizerCount << 2), r); sanitizerCount++; }
    if (!hasBest || effect > bestEffect) {
      hasBest = true;
      bestEffect = effect;
      decRule = <i32>r;
      decPolicy = <u32>load<u16>(rec + R_POLICY);
      decReason = failed ? REASON_FAILED : REASON_RULE;
      if (failed) copySlot(FAILED_ERROR, RESULT);
    }
  }

  let fromDefault = false;
  if (hasBest) {
    decEffect = bestEffect;
  } else {
    fromDefault = true;
    decRule = RULE_DEFAULT;
    let firstEnforcing: i64 = -1;
    let denying: i64 = -1;
    for (let p: u32 = 0; p < b.policyCount; p++) {
      if (policyModeForCall(b, p) != MODE_ENFORCE) continue;
      if (firstEnforcing < 0) firstEnforcing = p;
      if (denying < 0 && load<u8>(policyRec(b, p) + P_DEFAULT) == EFFECT_DENY) denying = p;
    }
    if (denying >= 0) { decEffect = EFFECT_DENY; decPolicy = <u32>denying; decReason = REASON_DEFAULT_DENY; }
    else if (firstEnforcing >= 0) { decEffect = EFFECT_ALLOW; decPolicy = <u32>firstEnforcing; decReason = REASON_DEFAULT_ALLOW; }
    else { decEffect = EFFECT_ALLOW; decPolicy = 0; decReason = REASON_DEFAULT_SHADOW; decEnforced = false; }
  }
  let shadowDefaultDeny = false;
  if (fromDefault && decEffect != EFFECT_DENY) {
    for (let p: u32 = 0; p < b.policyCount; p++) {
      if (load<u8>(policyRec(b, p) + P_DEFAULT) == EFFECT_DENY && policyModeForCall(b, p) == MODE_SHADOW) { shadowDefaultDeny = true; break; }
    }
  }

  if (decEffect == EFFECT_ALLOW || decEffect == EFFECT_SANITIZE) {
    let failedRule: i64 = -1;
    for (let i: u32 = 0; i < sanitizerCount; i++) {
      const r = load<u32>(sanitizers + (<usize>i << 2));
      if (!applyRedactPaths(b, r)) { failedRule = r; break; }
    }
    let firstDlp: i64 = -1;
    let failedDlp: i64 = -1;
    dlpFailed = false;
    for (let d: u32 = 0; d < b.dlpCount && failedRule < 0; d++) {
      const rec = b.dlpBase + <usize>d * 11;
      const rx = b.regexTab + (<usize>load<u32>(rec, 4) << 3);
      dlpProg = <usize>load<u32>(rx);
      dlpProgLen = load<u32>(rx, 4);
      dlpMinLength = regexMinLength(dlpProg);
      const nameStr = load<u32>(rec);
      dlpName = strAddr(b, nameStr);
      dlpNameLen = strLength(b, nameStr);
      dlpIndex = d;
      dlpMatched = false;
      if (load<u8>(rec, 10) == MODE_SHADOW) {
        dlpShadow = true;
        if (params != 0) walkStrings(params, 0);
        if (dlpMatched) addShadow(d, SHADOW_DLP, EFFECT_SANITIZE);
      } else {
        dlpShadow = false;
        if (params != 0) walkStrings(params, 0);
        if (dlpFailed) { failedDlp = d; break; }
        if (dlpMatched && firstDlp < 0) firstDlp = d;
      }
    }
    if (failedRule >= 0) {
      // Fail closed like a rule whose condition errs, at the rule's position.
      const rec = ruleRec(b, <u32>failedRule);
      decEffect = EFFECT_DENY;
      decRule = <i32>failedRule;
      decPolicy = <u32>load<u16>(rec + R_POLICY);
      decReason = REASON_FAILED;
      decEnforced = true;
      setError(FAILED_ERROR, ERR_VALUE_TOO_LARGE, 255, 0xffffffff, 0, 0);
    } else if (failedDlp >= 0) {
      const rec = b.dlpBase + <usize>failedDlp * 11;
      decEffect = EFFECT_DENY;
      decRule = RULE_DLP;
      decRef = <u32>failedDlp;
      decPolicy = <u32>load<u16>(rec, 8);
      decReason = REASON_DLP_FAILED;
      decEnforced = true;
    } else if (decEffect == EFFECT_ALLOW && redactionCount > 0 && firstDlp >= 0) {
      const rec = b.dlpBase + <usize>firstDlp * 11;
      decEffect = EFFECT_SANITIZE;
      decRule = RULE_DLP;
      decRef = <u32>firstDlp;
      decPolicy = <u32>load<u16>(rec, 8);
      decReason = REASON_DLP;
      decEnforced = true;
    }
  }
  if (shadowDefaultDeny) addShadow(0, SHADOW_DEFAULT, EFFECT_DENY);
}

// ---- redaction --------------------------------------------------------------------------------------

const REDACTED_TEXT: usize = memory.data<u8>([0x5b, 0x52, 0x45, 0x44, 0x41, 0x43, 0x54, 0x45, 0x44, 0x5d]); // [REDACTED]

/**
 * Replace the value at each redact path of rule `r` (if present) and record it. False when a
 * record does not fit in the evaluation budget (the decision then fails closed).
 */
function applyRedactPaths(b: Bundle, r: u32): bool {
  const params = decParams;
  let p = <usize>load<u32>(ruleRec(b, r) + R_REDACT);
  const count = <u32>load<u16>(p);
  p += 2;
  for (let i: u32 = 0; i < count; i++) {
    const segs = <u32>load<u16>(p);
    const first = p + 2;
    p = first + (<usize>segs << 2);
    if (segs == 0 || params == 0) continue;
    let node = params;
    let found = true;
    for (let s: u32 = 0; s < segs; s++) {
      const str = load<u32>(first + (<usize>s << 2));
      const next = objectGet(node, strAddr(b, str), strLength(b, str));
      if (next == 0) { found = false; break; }
      node = next;
    }
    if (!found) continue;
    // INVARIANT: objectGet returned a member's value Node, which we overwrite in place.
    store<u32>(node, <u32>KIND_REDACTED);
    store<u32>(node, <u32>REDACTED_TEXT, 4);
    store<u32>(node, 10, 8);
    store<u32>(node, 10, 12);
    // Path text: params.a["x-y"]...
    pathReset();
    for (let s: u32 = 0; s < segs; s++) {
      const str = load<u32>(first + (<usize>s << 2));
      pathKey(strAddr(b, str), strLength(b, str));
    }
    if (!chargeTotal(REDACTION_CHARGE + <u64>pathLen)) return false;
    addRedaction(pathBuf, pathLen, r, 0);
  }
  return true;
}

// Path text under construction: "params" + steps. Rebuilt from the step stack when needed.
let pathBuf: usize = 0;
let pathLen: u32 = 0;
let pathCap: u32 = 0;

function pathReserve(extra: u32): void {
  if (pathLen + extra <= pathCap) return;
  let cap = pathCap == 0 ? <u32>256 : pathCap << 1;
  while (cap < pathLen + extra) cap <<= 1;
  const fresh = arenaAlloc(<usize>cap);
  if (pathLen > 0) memory.copy(fresh, pathBuf, pathLen);
  pathBuf = fresh;
  pathCap = cap;
}
function pathByte(c: u8): void { pathReserve(1); store<u8>(pathBuf + pathLen, c); pathLen++; }
function pathReset(): void {
  // A fresh buffer per recorded path: recorded paths keep pointing at their own bytes.
  pathBuf = 0; pathLen = 0; pathCap = 0;
  pathReserve(64);
  const s = "params";
  for (let i = 0; i < s.length; i++) pathByte(<u8>s.charCodeAt(i));
}

function isIdentifier(p: usize, n: u32): bool {
  if (n == 0) return false;
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(p + i);
    const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
    if (!alpha && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

const HEX_DIGITS = "0123456789abcdef";
const DIGITS: usize = memory.data(12);

/** Append `.key` or `["key"]` (the key escaped as JSON.stringify does). */
function pathKey(p: usize, n: u32): void {
  if (isIdentifier(p, n)) {
    pathByte(0x2e);
    pathReserve(n);
    memory.copy(pathBuf + pathLen, p, n);
    pathLen += n;
    return;
  }
  pathByte(0x5b); pathByte(0x22);
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(p + i);
    if (c == 0x22 || c == 0x5c) { pathByte(0x5c); pathByte(c); }
    else if (c < 0x20) {
      pathByte(0x5c);
      if (c == 0x08) pathByte(0x62);
      else if (c == 0x0c) pathByte(0x66);
      else if (c == 0x0a) pathByte(0x6e);
      else if (c == 0x0d) pathByte(0x72);
      else if (c == 0x09) pathByte(0x74);
      else {
        pathByte(0x75); pathByte(0x30); pathByte(0x30);
        pathByte(<u8>HEX_DIGITS.charCodeAt(c >> 4)); pathByte(<u8>HEX_DIGITS.charCodeAt(c & 15));
      }
    } else pathByte(c);
  }
  pathByte(0x22); pathByte(0x5d);
}

function pathIndex(i: u32): void {
  pathByte(0x5b);
  let k = 0;
  let v = i;
  do { store<u8>(DIGITS + k, <u8>(0x30 + v % 10)); k++; v /= 10; } while (v > 0);
  while (k > 0) { k--; pathByte(load<u8>(DIGITS + k)); }
  pathByte(0x5d);
}

// The DLP walk: the current pattern, and the step stack (u32 kind 0 key / 1 index, u32 a, u32 b).
let dlpProg: usize = 0;
let dlpProgLen: u32 = 0;
/** The pattern's MIN_LENGTH prefilter: shorter strings cannot hold a match. */
let dlpMinLength: u32 = 0;
let dlpName: usize = 0;
let dlpNameLen: u32 = 0;
let dlpIndex: u32 = 0;
let dlpShadow = false;
let dlpMatched = false;
/** Set when the current (enforced) pattern went over the evaluation budget: the walk stops. */
let dlpFailed = false;
const STEPS: usize = memory.data(12 * 80);

/** Visit every string value below `node` in document order, depth first. */
function walkStrings(node: usize, depth: u32): void {
  // INVARIANT: tapes are at most MAX_JSON_DEPTH deep (reader and validateTape check it).
  if (depth >= 78) return;
  const k = nodeKind(node);
  if (k == KIND_OBJECT) {
    const n = containerCount(node);
    for (let i: u32 = 0; i < n; i++) {
      if ((dlpShadow && dlpMatched) || dlpFailed) return;
      const m = objectMember(node, i);
      const s = STEPS + <usize>depth * 12;
      store<u32>(s, 0); store<u32>(s, <u32>memberKeyPtr(m), 4); store<u32>(s, memberKeyLen(m), 8);
      visit(memberValue(m), depth + 1);
    }
  } else if (k == KIND_ARRAY) {
    const n = containerCount(node);
    for (let i: u32 = 0; i < n; i++) {
      if ((dlpShadow && dlpMatched) || dlpFailed) return;
      const s = STEPS + <usize>depth * 12;
      store<u32>(s, 1); store<u32>(s, i, 4);
      visit(arrayElement(node, i), depth + 1);
    }
  }
}

function visit(node: usize, depth: u32): void {
  const k = nodeKind(node);
  if (k == KIND_STRING) scanString(node, depth);
  else if (k == KIND_OBJECT || k == KIND_ARRAY) walkStrings(node, depth);
}

/** Length of the UTF-8 sequence starting with byte `c` (1 for ASCII and stray bytes). */
function seqLen(c: u8): u32 { return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4; }

/** Next non-empty match at or after `from`, as (start << 32 | end), or -1. */
function nextMatch(s: usize, n: u32, from: u32): i64 {
  let pos = from;
  while (pos <= n) {
    const r = regexFind(dlpProg, dlpProgLen, s, n, pos);
    if (r < 0) return -1;
    const start = <u32>(r >>> 32), end = <u32>(r & 0xffffffff);
    if (end > start) return r;
    if (start >= n) return -1;
    pos = start + seqLen(load<u8>(s + start));
  }
  return -1;
}

function scanString(node: usize, depth: u32): void {
  const s = stringPtr(node), n = stringLen(node);
  if (n < dlpMinLength) return; // what regexFind would find out, without the call chain
  let r = nextMatch(s, n, 0);
  if (r < 0) return;
  dlpMatched = true;
  if (dlpShadow) return;
  // Two passes: size the result, then write it. Replacement: "[REDACTED:" name "]".
  const repl = 11 + dlpNameLen;
  let outLen: u64 = 0;
  let last: u32 = 0;
  while (r >= 0) {
    const start = <u32>(r >>> 32), end = <u32>(r & 0xffffffff);
    outLen += <u64>(start - last) + <u64>repl;
    last = end;
    r = nextMatch(s, n, end);
  }
  outLen += <u64>(n - last);
  // Charged before allocating: each pass can multiply a string's length by the replacement's.
  if (!chargeValue(outLen)) { dlpFailed = true; return; }
  const dst = arenaAlloc(<usize>outLen);
  let w: usize = 0;
  last = 0;
  r = nextMatch(s, n, 0);
  while (r >= 0) {
    const start = <u32>(r >>> 32), end = <u32>(r & 0xffffffff);
    memory.copy(dst + w, s + last, start - last); w += start - last;
    const prefix = "[REDACTED:";
    for (let i = 0; i < prefix.length; i++) store<u8>(dst + w + i, <u8>prefix.charCodeAt(i));
    w += 10;
    memory.copy(dst + w, dlpName, dlpNameLen); w += dlpNameLen;
    store<u8>(dst + w, 0x5d); w++;
    last = end;
    r = nextMatch(s, n, end);
  }
  memory.copy(dst + w, s + last, n - last); w += n - last;
  store<u32>(node, <u32>dst, 4);
  store<u32>(node, <u32>w, 8);
  store<u32>(node, <u32>utf8CountCodePoints(dst, w), 12);
  // Record the path of this value once for this pattern.
  pathReset();
  for (let d: u32 = 0; d < depth; d++) {
    const st = STEPS + <usize>d * 12;
    if (load<u32>(st) == 0) pathKey(<usize>load<u32>(st, 4), load<u32>(st, 8));
    else pathIndex(load<u32>(st, 4));
  }
  if (!chargeTotal(REDACTION_CHARGE + <u64>pathLen)) { dlpFailed = true; return; }
  addRedaction(pathBuf, pathLen, dlpIndex, 1);
}

/** Shorthand used by render: the effect name code of the decision. */
export function decisionEffect(): u8 { return decEffect; }

/** Reset the decision state after a failed call, so result_* never report a stale decision. */
export function clearDecision(): void {
  decEffect = EFFECT_DENY; decRule = RULE_DEFAULT; decPolicy = 0; decEnforced = true;
  decReason = REASON_DEFAULT_DENY; shadowCount = 0; redactionCount = 0; decParams = 0; decBundle = null;
  setError(FAILED_ERROR, ERR_NOT_A_BOOL, 255, 0, 0, 0);
}
