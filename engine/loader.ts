// Engine stage `decode`: bundle bytes -> a validated, loaded Bundle (docs/bytecode.md).
// Input: the bytes of a `.aegis` bundle in memory. Output: 0 and a Bundle whose tables the VM and
// the decision code read without further checks, or a bundle error code (100-113) with error JSON
// `{"error":{"code":...,"message":...,"offset":N}}` in the output buffer.
//
// Every byte is validated: header, section framing, digest, UTF-8 of strings, constant kinds,
// every index, each rule's code (by abstract interpretation: opcodes, operands, forward jump
// targets on instruction boundaries, one stack depth per instruction, depth 1 at RET), regex
// programs (regexValidate) and the index tables. Loading happens in a staging slot; the active
// bundle changes only when everything validated, so a bad bundle leaves the previous one serving.
//
// INVARIANT: reads go through the bounds-checked cursor below; after a failed read every value is
// 0 and the first error is kept, and nothing uses a value as an address or size before the error
// flag was checked.

import {
  FORMAT_VERSION, MAGIC, OPCODE_TABLE_HASH, MAX_BUNDLE_BYTES, MAX_STACK, MAX_RULES,
  SECTION_STRINGS, SECTION_CONSTS, SECTION_POLICIES, SECTION_RULES, SECTION_INDEX, SECTION_CODE,
  SECTION_REGEX, SECTION_EGRESS, SECTION_DLP, SECTION_DEBUG, SECTION_DIGEST, SECTION_SIGNATURE,
  ERR_BUNDLE_TOO_LARGE, ERR_BAD_MAGIC, ERR_BAD_VERSION, ERR_OPCODE_TABLE_MISMATCH, ERR_TRUNCATED,
  ERR_BAD_SECTION, ERR_MISSING_SECTION, ERR_BAD_DIGEST, ERR_BAD_INDEX, ERR_BAD_CODE, ERR_BAD_REGEX,
  ERR_BAD_VALUE, ERR_TRAILING_BYTES,
  OP_RET, OP_INT, OP_DOUBLE, OP_STR, OP_VAR, OP_FIELD, OP_HAS, OP_LIST, OP_AND_SC, OP_OR_SC,
  OP_COND, OP_JMP, OP_MATCHES, opLength, opPop, opPush, errorName, errorMessage,
} from "./generated/bytecode";
import { arenaAlloc, arenaReset } from "./arena";
import { outReset, outAscii, outJsonAscii, outU64 } from "./out";
import { sha256 } from "./sha256";
import { utf8CountCodePoints } from "./utf8";
import { bytesEqual } from "./tape";
import { regexValidate } from "./regex";

/** "none" / "any" marker for optional string indexes and index-key symbols. */
export const NONE: u32 = 0xffffffff;

// Rule table record (RULE_SIZE bytes per rule).
export const RULE_SIZE: usize = 56;
export const R_ID: usize = 0;        // u32 string index
export const R_EFFECT: usize = 4;    // u8
export const R_MODE: usize = 5;      // u8
export const R_POLICY: usize = 6;    // u16
export const R_REASON: usize = 8;    // u32 string index or NONE
export const R_CODE: usize = 12;     // u32 absolute code address
export const R_CODE_LEN: usize = 16; // u32
export const R_REDACT: usize = 20;   // u32 absolute address of the redact list (u16 count first)
export const R_DBG_FILE: usize = 24; // u32 string index of the file, or NONE without DEBUG
export const R_DBG_LINE: usize = 28;
export const R_DBG_COL: usize = 32;
export const R_SITE_START: usize = 36; // u32 first debug site of this rule
export const R_SITE_END: usize = 40;   // u32 one past its last debug site

// Policy table record.
export const POLICY_SIZE: usize = 24;
export const P_NAME: usize = 0;
export const P_VERSION: usize = 4;
export const P_FILE: usize = 8;
export const P_MODE: usize = 12;     // u8
export const P_DEFAULT: usize = 13;  // u8
export const P_AGENT_MODES: usize = 16; // u32 absolute address of (u32 str, u8 mode) records
export const P_AGENT_MODE_COUNT: usize = 20;

/** A loaded bundle: the bytes plus decoded tables, all in one slot's memory. */
export class Bundle {
  base: usize = 0;
  len: u32 = 0;
  strCount: u32 = 0;
  strTab: usize = 0;      // strCount x (u32 address, u32 length)
  constCount: u32 = 0;
  constBase: usize = 0;   // constCount x (u8 kind, 8 bytes), in the bundle bytes
  policyCount: u32 = 0;
  policyTab: usize = 0;
  ruleCount: u32 = 0;
  ruleTab: usize = 0;
  symCount: u32 = 0;
  symTab: usize = 0;      // symCount x u32 string index
  symHash: usize = 0;     // open addressing: u32 (symbol + 1), 0 = empty
  symMask: u32 = 0;
  keyHash: usize = 0;     // open addressing: 24-byte entries (agent, tool, action, list, count, used)
  keyMask: u32 = 0;
  regexCount: u32 = 0;
  regexTab: usize = 0;    // regexCount x (u32 address, u32 length)
  hasEgress: bool = false;
  egressMode: u8 = 0;
  egressPolicy: u32 = 0;
  egressCount: u32 = 0;
  egressBase: usize = 0;  // egressCount x (u8 kind, u32 str), in the bundle bytes
  dlpCount: u32 = 0;
  dlpBase: usize = 0;     // dlpCount x (u32 name, u32 regex, u16 policy, u8 mode), in the bundle bytes
  hasDebug: bool = false;
  siteBase: usize = 0;    // site records (u32 rule, u32 pc, u32 line, u32 col)
  digest: usize = 0;      // 32 bytes
  // Slot memory (a bump region that is reused when this slot stages the next bundle).
  memStart: usize = 0;
  memEnd: usize = 0;
  memTop: usize = 0;
  memUsed: usize = 0;
  memGrew: bool = false;
}

const SLOT_A = new Bundle();
const SLOT_B = new Bundle();
let active: Bundle | null = null;

/** The bundle that is serving, or null before the first successful load. */
export function activeBundle(): Bundle | null { return active; }

function slotReset(b: Bundle, want: usize): void {
  let need = want > b.memUsed ? want : b.memUsed;
  if (b.memStart == 0 || b.memGrew || b.memEnd - b.memStart < need) {
    need = (need + 65535) & ~(<usize>65535);
    b.memStart = heap.alloc(need);
    b.memEnd = b.memStart + need;
  }
  b.memTop = b.memStart;
  b.memUsed = 0;
  b.memGrew = false;
}

function slotAlloc(b: Bundle, size: usize): usize {
  let p = (b.memTop + 7) & ~(<usize>7);
  if (p + size > b.memEnd) {
    // Continue in a fresh block; earlier tables stay where they are. The next reset of this slot
    // takes one block large enough for everything.
    let cap = (b.memEnd - b.memStart) << 1;
    if (cap < size + 64) cap = size + 64;
    b.memStart = heap.alloc(cap);
    b.memEnd = b.memStart + cap;
    b.memGrew = true;
    p = (b.memStart + 7) & ~(<usize>7);
  }
  b.memTop = p + size;
  b.memUsed += size + 8;
  return p;
}

// ---- error state and bounds-checked cursor ------------------------------------------------------

let errCode: i32 = 0;
let errOffset: usize = 0;
let errMessage: string = "";
let bundleBase: usize = 0;
let cur: usize = 0;
let curEnd: usize = 0;

function fail(code: i32, at: usize, message: string): void {
  if (errCode != 0) return;
  errCode = code;
  errOffset = at - bundleBase;
  errMessage = message;
}

function rdU8(): u32 {
  if (cur + 1 > curEnd) { fail(ERR_TRUNCATED, cur, "section payload is truncated"); cur = curEnd; return 0; }
  const v = <u32>load<u8>(cur); cur += 1; return v;
}
function rdU16(): u32 {
  if (cur + 2 > curEnd) { fail(ERR_TRUNCATED, cur, "section payload is truncated"); cur = curEnd; return 0; }
  const v = <u32>load<u16>(cur); cur += 2; return v;
}
function rdU32(): u32 {
  if (cur + 4 > curEnd) { fail(ERR_TRUNCATED, cur, "section payload is truncated"); cur = curEnd; return 0; }
  const v = load<u32>(cur); cur += 4; return v;
}
/** A count of items of at least `minSize` bytes each; 0 (and an error) when they cannot fit. */
function rdCount(minSize: u32, wide: bool): u32 {
  const at = cur;
  const n = wide ? rdU32() : rdU16();
  if (<u64>n * <u64>minSize > <u64>(curEnd - cur)) { fail(ERR_TRUNCATED, at, "count is larger than the section"); return 0; }
  return n;
}
function rdStr(b: Bundle): u32 {
  const at = cur;
  const i = rdU32();
  if (i >= b.strCount) { fail(ERR_BAD_INDEX, at, "string index is out of range"); return 0; }
  return i;
}
function rdMode(): u8 {
  const at = cur;
  const m = rdU8();
  if (m > 1) fail(ERR_BAD_VALUE, at, "invalid mode");
  return <u8>m;
}
function rdPolicy(b: Bundle): u32 {
  const at = cur;
  const p = rdU16();
  if (p >= b.policyCount) fail(ERR_BAD_INDEX, at, "policy index is out of range");
  return p;
}
function enter(id: i32): void {
  cur = bundleBase + <usize>load<u32>(SEC_OFF + (<usize>id << 2));
  curEnd = cur + <usize>load<u32>(SEC_LEN + (<usize>id << 2));
}
function done(): void {
  if (cur != curEnd) fail(ERR_BAD_VALUE, cur, "section has bytes after its content");
}

// Section framing: payload offset (from the bundle start) and length per id; present flags.
const SEC_OFF: usize = memory.data(64);
const SEC_LEN: usize = memory.data(64);
const SEC_SEEN: usize = memory.data(16);
const DIGEST_SCRATCH: usize = memory.data(32);

function hasSection(id: i32): bool { return load<u8>(SEC_SEEN + <usize>id) != 0; }

// ---- public accessors used by the VM and the decision code -------------------------------------

// @ts-ignore: decorator
@inline export function strAddr(b: Bundle, i: u32): usize { return <usize>load<u32>(b.strTab + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline export function strLength(b: Bundle, i: u32): u32 { return load<u32>(b.strTab + (<usize>i << 3), 4); }
// @ts-ignore: decorator
@inline export function ruleRec(b: Bundle, r: u32): usize { return b.ruleTab + <usize>r * RULE_SIZE; }
// @ts-ignore: decorator
@inline export function policyRec(b: Bundle, p: u32): usize { return b.policyTab + <usize>p * POLICY_SIZE; }

function fnv(ptr: usize, len: u32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < len; i++) h = (h ^ <u32>load<u8>(ptr + i)) * 0x01000193;
  return h;
}

/** Symbol index of the name (`ptr`, `len`), or NONE when no selector mentions it. */
export function symbolOf(b: Bundle, ptr: usize, len: u32): u32 {
  if (b.symCount == 0) return NONE;
  let h = fnv(ptr, len) & b.symMask;
  while (true) {
    const e = load<u32>(b.symHash + (<usize>h << 2));
    if (e == 0) return NONE;
    const s = load<u32>(b.symTab + (<usize>(e - 1) << 2));
    if (strLength(b, s) == len && bytesEqual(strAddr(b, s), ptr, len)) return e - 1;
    h = (h + 1) & b.symMask;
  }
  return NONE;
}

function keyHashOf(a: u32, t: u32, x: u32): u32 {
  let h = a * 0x9e3779b1;
  h = (h ^ (h >>> 15) ^ t) * 0x85ebca6b;
  h = (h ^ (h >>> 13) ^ x) * 0xc2b2ae35;
  return h ^ (h >>> 16);
}

/** Entry of INDEX key (a, t, x), or 0. Entry: +12 u32 rule list address, +16 u32 count. */
export function keyEntry(b: Bundle, a: u32, t: u32, x: u32): usize {
  if (b.keyHash == 0) return 0;
  let h = keyHashOf(a, t, x) & b.keyMask;
  while (true) {
    const e = b.keyHash + <usize>h * 24;
    if (load<u32>(e, 20) == 0) return 0;
    if (load<u32>(e) == a && load<u32>(e, 4) == t && load<u32>(e, 8) == x) return e;
    h = (h + 1) & b.keyMask;
  }
  return 0;
}

// ---- loading ------------------------------------------------------------------------------------

function writeError(): void {
  outReset();
  outAscii("{\"error\":{\"code\":");
  outJsonAscii(errorName(errCode));
  outAscii(",\"message\":");
  outJsonAscii(errMessage.length > 0 ? errMessage : errorMessage(errCode));
  outAscii(",\"offset\":");
  outU64(<u64>errOffset);
  outAscii("}}");
}

/** Power of two >= 2n (at least 8). */
function tableSize(n: u32): u32 {
  let s: u32 = 8;
  while (s < (n << 1) && s < 0x40000000) s <<= 1;
  return s;
}

/**
 * Validate and load the `len` bundle bytes at `ptr` (which the caller may overwrite afterwards).
 * 0 = loaded and active; otherwise a bundle error code and error JSON in the output buffer, and
 * the previously loaded bundle stays active.
 */
export function loadBundle(ptr: usize, len: u32): i32 {
  errCode = 0; errOffset = 0; errMessage = "";
  arenaReset();
  if (len > MAX_BUNDLE_BYTES) { bundleBase = 0; fail(ERR_BUNDLE_TOO_LARGE, 0, ""); writeError(); return errCode; }
  const b = active === SLOT_A ? SLOT_B : SLOT_A;
  slotReset(b, <usize>len + 1024);
  const base = slotAlloc(b, <usize>len);
  memory.copy(base, ptr, len);
  bundleBase = base;
  b.base = base;
  b.len = len;
  if (!parse(b, base, len)) { writeError(); return errCode; }
  active = b;
  outReset();
  return 0;
}

function parse(b: Bundle, base: usize, len: u32): bool {
  const end = base + len;
  // Header
  if (len >= 4 && load<u32>(base) != MAGIC) { fail(ERR_BAD_MAGIC, base, ""); return false; }
  if (len < 16) { fail(len < 4 ? ERR_BAD_MAGIC : ERR_TRUNCATED, base + len, ""); return false; }
  if (load<u16>(base, 4) != FORMAT_VERSION) { fail(ERR_BAD_VERSION, base + 4, ""); return false; }
  if (load<u16>(base, 6) != 0) { fail(ERR_BAD_VALUE, base + 6, "reserved header bytes must be zero"); return false; }
  if (load<u32>(base, 8) != OPCODE_TABLE_HASH) { fail(ERR_OPCODE_TABLE_MISMATCH, base + 8, ""); return false; }
  const sectionCount = load<u32>(base, 12);

  // Framing
  memory.fill(SEC_SEEN, 0, 16);
  let p = base + 16;
  let last: u32 = 0;
  let digestHeader: usize = 0;
  for (let i: u32 = 0; i < sectionCount; i++) {
    if (p + 8 > end) { fail(ERR_TRUNCATED, p, "section header is truncated"); return false; }
    const id = <u32>load<u8>(p);
    const known = (id >= 1 && id <= 10) || id == 14 || id == 15;
    if (!known || id <= last || load<u8>(p, 1) != 0 || load<u16>(p, 2) != 0) { fail(ERR_BAD_SECTION, p, ""); return false; }
    const slen = load<u32>(p, 4);
    if (<u64>slen > <u64>(end - p - 8)) { fail(ERR_TRUNCATED, p + 4, "section is truncated"); return false; }
    if (id == SECTION_DIGEST) digestHeader = p;
    store<u32>(SEC_OFF + (<usize>id << 2), <u32>(p + 8 - base));
    store<u32>(SEC_LEN + (<usize>id << 2), slen);
    store<u8>(SEC_SEEN + <usize>id, 1);
    last = id;
    p += 8 + <usize>slen;
  }
  if (p != end) { fail(ERR_TRAILING_BYTES, p, ""); return false; }
  const required: StaticArray<i32> = [SECTION_STRINGS, SECTION_CONSTS, SECTION_POLICIES, SECTION_RULES, SECTION_INDEX, SECTION_CODE, SECTION_DIGEST];
  for (let i = 0; i < required.length; i++) {
    if (!hasSection(unchecked(required[i]))) { fail(ERR_MISSING_SECTION, end, ""); return false; }
  }

  // Digest
  enter(SECTION_DIGEST);
  if (curEnd - cur != 32) { fail(ERR_BAD_VALUE, cur, "DIGEST section must have 32 bytes"); return false; }
  sha256(base, digestHeader - base, DIGEST_SCRATCH);
  if (!bytesEqual(DIGEST_SCRATCH, cur, 32)) { fail(ERR_BAD_DIGEST, cur, ""); return false; }
  b.digest = cur;
  if (hasSection(SECTION_SIGNATURE)) {
    enter(SECTION_SIGNATURE);
    if (curEnd - cur != 96) { fail(ERR_BAD_VALUE, cur, "SIGNATURE section must have 96 bytes"); return false; }
  }

  return parseStrings(b) && parseConsts(b) && parsePolicies(b) && parseRegex(b) && parseRules(b)
    && parseIndex(b) && parseEgress(b) && parseDlp(b) && parseDebug(b);
}

function parseStrings(b: Bundle): bool {
  enter(SECTION_STRINGS);
  const n = rdCount(4, true);
  if (errCode != 0) return false;
  b.strCount = n;
  b.strTab = slotAlloc(b, <usize>n << 3);
  for (let i: u32 = 0; i < n; i++) {
    const at = cur;
    const len = rdU32();
    if (errCode != 0) return false;
    if (<u64>len > <u64>(curEnd - cur)) { fail(ERR_TRUNCATED, at, "string is truncated"); return false; }
    if (utf8CountCodePoints(cur, len) < 0) { fail(ERR_BAD_VALUE, cur, "string is not valid UTF-8"); return false; }
    store<u32>(b.strTab + (<usize>i << 3), <u32>cur);
    store<u32>(b.strTab + (<usize>i << 3), len, 4);
    cur += len;
  }
  done();
  if (errCode == 0 && (n == 0 || strLength(b, 0) != 0)) fail(ERR_BAD_VALUE, curEnd, "string 0 must be empty");
  return errCode == 0;
}

function parseConsts(b: Bundle): bool {
  enter(SECTION_CONSTS);
  const n = rdCount(9, true);
  b.constCount = n;
  b.constBase = cur;
  for (let i: u32 = 0; i < n && errCode == 0; i++) {
    const at = cur;
    const kind = rdU8();
    if (kind != 1 && kind != 2) fail(ERR_BAD_VALUE, at, "invalid constant kind");
    cur += 8; // rdCount guaranteed the bytes are there
  }
  done();
  return errCode == 0;
}

/** Kind byte (1 int, 2 double) of constant `k`. */
// @ts-ignore: decorator
@inline export function constKind(b: Bundle, k: u32): u8 { return load<u8>(b.constBase + <usize>k * 9); }
// @ts-ignore: decorator
@inline export function constInt(b: Bundle, k: u32): i64 { return load<i64>(b.constBase + <usize>k * 9 + 1); }
// @ts-ignore: decorator
@inline export function constDouble(b: Bundle, k: u32): f64 { return load<f64>(b.constBase + <usize>k * 9 + 1); }

function parsePolicies(b: Bundle): bool {
  enter(SECTION_POLICIES);
  const n = rdCount(18, true);
  if (errCode != 0) return false;
  if (n == 0) { fail(ERR_BAD_VALUE, cur - 4, "a bundle needs at least one policy"); return false; }
  if (n > 0xffff) { fail(ERR_BAD_VALUE, cur - 4, "too many policies"); return false; }
  b.policyCount = n;
  b.policyTab = slotAlloc(b, <usize>n * POLICY_SIZE);
  for (let i: u32 = 0; i < n && errCode == 0; i++) {
    const rec = policyRec(b, i);
    store<u32>(rec + P_NAME, rdStr(b));
    store<u32>(rec + P_VERSION, rdStr(b));
    store<u32>(rec + P_FILE, rdStr(b));
    store<u8>(rec + P_MODE, rdMode());
    const at = cur;
    const d = rdU8();
    if (d != 0 && d != 3) fail(ERR_BAD_VALUE, at, "invalid policy default");
    store<u8>(rec + P_DEFAULT, <u8>d);
    const k = rdCount(5, true);
    store<u32>(rec + P_AGENT_MODES, <u32>cur);
    store<u32>(rec + P_AGENT_MODE_COUNT, k);
    for (let j: u32 = 0; j < k && errCode == 0; j++) { rdStr(b); rdMode(); }
  }
  done();
  return errCode == 0;
}

function parseRegex(b: Bundle): bool {
  b.regexCount = 0;
  if (!hasSection(SECTION_REGEX)) return true;
  enter(SECTION_REGEX);
  const n = rdCount(4, true);
  if (errCode != 0) return false;
  b.regexCount = n;
  b.regexTab = slotAlloc(b, <usize>n << 3);
  for (let i: u32 = 0; i < n; i++) {
    const at = cur;
    const len = rdU32();
    if (errCode != 0) return false;
    if (<u64>len > <u64>(curEnd - cur)) { fail(ERR_TRUNCATED, at, "regex program is truncated"); return false; }
    if (!regexValidate(cur, len)) { fail(ERR_BAD_REGEX, cur, ""); return false; }
    store<u32>(b.regexTab + (<usize>i << 3), <u32>cur);
    store<u32>(b.regexTab + (<usize>i << 3), len, 4);
    cur += len;
  }
  done();
  return errCode == 0;
}

function parseRules(b: Bundle): bool {
  const codeBase = bundleBase + <usize>load<u32>(SEC_OFF + (<usize>SECTION_CODE << 2));
  const codeLen = load<u32>(SEC_LEN + (<usize>SECTION_CODE << 2));
  enter(SECTION_RULES);
  const n = rdCount(30, true);
  if (errCode != 0) return false;
  if (n > MAX_RULES) { fail(ERR_BAD_VALUE, cur - 4, "too many rules"); return false; }
  b.ruleCount = n;
  b.ruleTab = slotAlloc(b, <usize>n * RULE_SIZE);
  // Scratch for code verification: one u16 per code byte (pending jump depth + 1), sized for the
  // largest rule and reused.
  let scratch: usize = 0;
  let scratchCap: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const rec = ruleRec(b, i);
    store<u32>(rec + R_ID, rdStr(b));
    let at = cur;
    const effect = rdU8();
    if (effect > 3) fail(ERR_BAD_VALUE, at, "invalid effect");
    store<u8>(rec + R_EFFECT, <u8>effect);
    store<u8>(rec + R_MODE, rdMode());
    store<u16>(rec + R_POLICY, <u16>rdPolicy(b));
    at = cur;
    const reason = rdU32();
    if (reason != NONE && reason >= b.strCount) fail(ERR_BAD_INDEX, at, "string index is out of range");
    store<u32>(rec + R_REASON, reason);
    at = cur;
    const off = rdU32();
    const clen = rdU32();
    if (errCode != 0) return false;
    if (clen == 0 || off > codeLen || clen > codeLen - off) { fail(ERR_BAD_INDEX, at, "rule code range is outside the CODE section"); return false; }
    store<u32>(rec + R_CODE, <u32>(codeBase + off));
    store<u32>(rec + R_CODE_LEN, clen);
    at = cur;
    const maxStack = rdU16();
    if (maxStack > MAX_STACK) fail(ERR_BAD_CODE, at, "max stack is larger than the limit");
    store<u32>(rec + R_REDACT, <u32>cur);
    const redacts = rdCount(2, false);
    for (let j: u32 = 0; j < redacts && errCode == 0; j++) {
      const segs = rdCount(4, false);
      for (let k: u32 = 0; k < segs && errCode == 0; k++) rdStr(b);
    }
    for (let s = 0; s < 3 && errCode == 0; s++) {
      const k = rdCount(4, false);
      for (let j: u32 = 0; j < k && errCode == 0; j++) rdStr(b);
    }
    store<u32>(rec + R_DBG_FILE, NONE);
    store<u32>(rec + R_SITE_START, 0);
    store<u32>(rec + R_SITE_END, 0);
    if (errCode != 0) return false;
    if (clen > scratchCap) { scratchCap = clen; scratch = arenaAlloc(<usize>clen << 1); }
    if (!verifyCode(b, codeBase + off, clen, maxStack, scratch)) return false;
  }
  done();
  return errCode == 0;
}

/**
 * Abstract interpretation of one rule's code. Jumps only go forward, so one pass in address order
 * sees every path into an instruction before the instruction itself.
 */
function verifyCode(b: Bundle, code: usize, len: u32, maxStack: u32, pending: usize): bool {
  memory.fill(pending, 0, <usize>len << 1);
  let depth: i32 = 0;
  let reachable = true;
  let pc: u32 = 0;
  const limit = <i32>(maxStack < MAX_STACK ? maxStack : MAX_STACK);
  while (pc < len) {
    const at = code + pc;
    const incoming = <i32>load<u16>(pending + (<usize>pc << 1));
    if (incoming != 0) {
      if (reachable && incoming - 1 != depth) { fail(ERR_BAD_CODE, at, "stack depth differs between paths"); return false; }
      depth = incoming - 1;
      reachable = true;
      store<u16>(pending + (<usize>pc << 1), 0);
    } else if (!reachable) { fail(ERR_BAD_CODE, at, "unreachable code"); return false; }
    const op = load<u8>(at);
    const n = <u32>opLength(op);
    if (n == 0) { fail(ERR_BAD_CODE, at, "unknown opcode"); return false; }
    if (n > len - pc) { fail(ERR_BAD_CODE, at, "instruction is truncated"); return false; }
    let pop = opPop(op);
    let a: u32 = 0;
    if (n == 5 || n == 9) a = load<u32>(at, 1);
    if (op == OP_INT || op == OP_DOUBLE) {
      if (a >= b.constCount || <u32>constKind(b, a) != (op == OP_INT ? 1 : 2)) { fail(ERR_BAD_CODE, at, "bad constant operand"); return false; }
    } else if (op == OP_STR || op == OP_FIELD || op == OP_HAS) {
      if (a >= b.strCount) { fail(ERR_BAD_CODE, at, "string operand is out of range"); return false; }
    } else if (op == OP_MATCHES) {
      if (a >= b.regexCount) { fail(ERR_BAD_CODE, at, "regex operand is out of range"); return false; }
    } else if (op == OP_VAR) {
      if (load<u8>(at, 1) > 4) { fail(ERR_BAD_CODE, at, "unknown variable"); return false; }
    } else if (op == OP_LIST) {
      pop = <i32>load<u16>(at, 1);
    }
    if (depth < pop || ((op == OP_AND_SC || op == OP_OR_SC) && depth < 1)) { fail(ERR_BAD_CODE, at, "stack underflow"); return false; }
    if (op == OP_RET && depth != 1) { fail(ERR_BAD_CODE, at, "stack depth at RET is not 1"); return false; }
    depth = depth - pop + opPush(op);
    if (depth > limit) { fail(ERR_BAD_CODE, at, "stack depth exceeds max stack"); return false; }
    if (op == OP_AND_SC || op == OP_OR_SC || op == OP_JMP) {
      if (!joinTarget(pending, pc, len, a, depth, at)) return false;
      if (op == OP_JMP) reachable = false;
    } else if (op == OP_COND) {
      if (depth + 1 > limit) { fail(ERR_BAD_CODE, at, "stack depth exceeds max stack"); return false; }
      if (!joinTarget(pending, pc, len, a, depth, at)) return false;
      if (!joinTarget(pending, pc, len, load<u32>(at, 5), depth + 1, at)) return false;
    } else if (op == OP_RET) {
      reachable = false;
    }
    pc += n;
  }
  if (reachable) { fail(ERR_BAD_CODE, code + len, "code does not end with RET"); return false; }
  // Every recorded target was consumed at an instruction boundary; what is left is mid-instruction.
  for (let i: u32 = 0; i < len; i++) {
    if (load<u16>(pending + (<usize>i << 1)) != 0) { fail(ERR_BAD_CODE, code + i, "jump target is not an instruction boundary"); return false; }
  }
  return true;
}

function joinTarget(pending: usize, pc: u32, len: u32, target: u32, depth: i32, at: usize): bool {
  if (target <= pc || target >= len) { fail(ERR_BAD_CODE, at, "jump target is out of range"); return false; }
  const slot = pending + (<usize>target << 1);
  const prev = <i32>load<u16>(slot);
  if (prev != 0 && prev - 1 != depth) { fail(ERR_BAD_CODE, at, "stack depth differs between paths"); return false; }
  store<u16>(slot, <u16>(depth + 1));
  return true;
}

function parseIndex(b: Bundle): bool {
  enter(SECTION_INDEX);
  const n = rdCount(4, true);
  if (errCode != 0) return false;
  b.symCount = n;
  b.symTab = slotAlloc(b, <usize>n << 2);
  const size = tableSize(n);
  b.symMask = size - 1;
  b.symHash = slotAlloc(b, <usize>size << 2);
  memory.fill(b.symHash, 0, <usize>size << 2);
  for (let i: u32 = 0; i < n; i++) {
    const at = cur;
    const s = rdStr(b);
    if (errCode != 0) return false;
    store<u32>(b.symTab + (<usize>i << 2), s);
    const ptr = strAddr(b, s), len = strLength(b, s);
    let h = fnv(ptr, len) & b.symMask;
    while (true) {
      const e = load<u32>(b.symHash + (<usize>h << 2));
      if (e == 0) { store<u32>(b.symHash + (<usize>h << 2), i + 1); break; }
      const o = load<u32>(b.symTab + (<usize>(e - 1) << 2));
      if (strLength(b, o) == len && bytesEqual(strAddr(b, o), ptr, len)) { fail(ERR_BAD_VALUE, at, "duplicate index symbol"); return false; }
      h = (h + 1) & b.symMask;
    }
  }
  const k = rdCount(16, true);
  if (errCode != 0) return false;
  const ksize = tableSize(k);
  b.keyMask = ksize - 1;
  b.keyHash = slotAlloc(b, <usize>ksize * 24);
  memory.fill(b.keyHash, 0, <usize>ksize * 24);
  for (let i: u32 = 0; i < k; i++) {
    const at = cur;
    const a = rdU32(), t = rdU32(), x = rdU32();
    if (errCode != 0) return false;
    if ((a != NONE && a >= n) || (t != NONE && t >= n) || (x != NONE && x >= n)) { fail(ERR_BAD_INDEX, at, "index symbol is out of range"); return false; }
    const count = rdCount(4, true);
    const list = cur;
    let prev: i64 = -1;
    for (let j: u32 = 0; j < count; j++) {
      const rp = cur;
      const r = rdU32();
      if (errCode != 0) return false;
      if (r >= b.ruleCount) { fail(ERR_BAD_INDEX, rp, "rule index is out of range"); return false; }
      if (<i64>r <= prev) { fail(ERR_BAD_VALUE, rp, "index rule list is not strictly ascending"); return false; }
      prev = <i64>r;
    }
    let h = keyHashOf(a, t, x) & b.keyMask;
    while (true) {
      const e = b.keyHash + <usize>h * 24;
      if (load<u32>(e, 20) == 0) {
        store<u32>(e, a); store<u32>(e, t, 4); store<u32>(e, x, 8);
        store<u32>(e, <u32>list, 12); store<u32>(e, count, 16); store<u32>(e, 1, 20);
        break;
      }
      if (load<u32>(e) == a && load<u32>(e, 4) == t && load<u32>(e, 8) == x) { fail(ERR_BAD_VALUE, at, "duplicate index key"); return false; }
      h = (h + 1) & b.keyMask;
    }
  }
  done();
  return errCode == 0;
}

function parseEgress(b: Bundle): bool {
  b.hasEgress = false;
  b.egressCount = 0;
  if (!hasSection(SECTION_EGRESS)) return true;
  enter(SECTION_EGRESS);
  b.hasEgress = true;
  b.egressMode = rdMode();
  b.egressPolicy = rdPolicy(b);
  const n = rdCount(5, true);
  b.egressCount = n;
  b.egressBase = cur;
  for (let i: u32 = 0; i < n && errCode == 0; i++) {
    const at = cur;
    const kind = rdU8();
    if (kind > 1) fail(ERR_BAD_VALUE, at, "invalid egress kind");
    const hp = cur;
    const s = rdStr(b);
    if (errCode != 0) return false;
    if (!validHost(strAddr(b, s), strLength(b, s))) fail(ERR_BAD_VALUE, hp, "invalid egress host");
  }
  done();
  return errCode == 0;
}

/** Lower-case ASCII host name or bracketed IPv6 literal, without a trailing dot. */
function validHost(p: usize, n: u32): bool {
  if (n == 0 || load<u8>(p + n - 1) == 0x2e) return false;
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(p + i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2e || c == 0x2d || c == 0x5f
      || c == 0x5b || c == 0x5d || c == 0x3a;
    if (!ok) return false;
  }
  return true;
}

function parseDlp(b: Bundle): bool {
  b.dlpCount = 0;
  if (!hasSection(SECTION_DLP)) return true;
  enter(SECTION_DLP);
  const n = rdCount(11, true);
  b.dlpCount = n;
  b.dlpBase = cur;
  for (let i: u32 = 0; i < n && errCode == 0; i++) {
    rdStr(b);
    const at = cur;
    const r = rdU32();
    if (errCode == 0 && r >= b.regexCount) fail(ERR_BAD_INDEX, at, "regex index is out of range");
    rdPolicy(b);
    rdMode();
  }
  done();
  return errCode == 0;
}

function parseDebug(b: Bundle): bool {
  b.hasDebug = false;
  if (!hasSection(SECTION_DEBUG)) return true;
  enter(SECTION_DEBUG);
  const nf = rdCount(4, true);
  const files = cur;
  for (let i: u32 = 0; i < nf && errCode == 0; i++) rdStr(b);
  let at = cur;
  const nr = rdCount(12, true);
  if (errCode != 0) return false;
  if (nr != b.ruleCount) { fail(ERR_BAD_VALUE, at, "DEBUG rule count differs from RULES"); return false; }
  for (let i: u32 = 0; i < nr; i++) {
    at = cur;
    const f = rdU32();
    const line = rdU32();
    const col = rdU32();
    if (errCode != 0) return false;
    if (f >= nf) { fail(ERR_BAD_INDEX, at, "file index is out of range"); return false; }
    const rec = ruleRec(b, i);
    store<u32>(rec + R_DBG_FILE, load<u32>(files + (<usize>f << 2)));
    store<u32>(rec + R_DBG_LINE, line);
    store<u32>(rec + R_DBG_COL, col);
  }
  const ns = rdCount(16, true);
  if (errCode != 0) return false;
  b.siteBase = cur;
  let prevRule: i64 = -1;
  let prevPc: i64 = -1;
  for (let i: u32 = 0; i < ns; i++) {
    at = cur;
    const r = rdU32();
    const pc = rdU32();
    rdU32(); rdU32();
    if (errCode != 0) return false;
    if (r >= b.ruleCount || pc >= load<u32>(ruleRec(b, r) + R_CODE_LEN)) { fail(ERR_BAD_INDEX, at, "debug site is out of range"); return false; }
    if (<i64>r < prevRule || (<i64>r == prevRule && <i64>pc <= prevPc)) { fail(ERR_BAD_VALUE, at, "debug sites are not sorted"); return false; }
    const rec = ruleRec(b, r);
    if (<i64>r != prevRule) store<u32>(rec + R_SITE_START, i);
    store<u32>(rec + R_SITE_END, i + 1);
    prevRule = <i64>r;
    prevPc = <i64>pc;
  }
  done();
  if (errCode != 0) return false;
  b.hasDebug = true;
  return true;
}

/** Debug site record (u32 rule, u32 pc, u32 line, u32 col) of rule `r` at `pc`, or 0. */
export function findSite(b: Bundle, r: u32, pc: u32): usize {
  if (!b.hasDebug) return 0;
  const rec = ruleRec(b, r);
  let lo = load<u32>(rec + R_SITE_START);
  let hi = load<u32>(rec + R_SITE_END);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const s = b.siteBase + (<usize>mid << 4);
    const spc = load<u32>(s, 4);
    if (spc == pc) return s;
    if (spc < pc) lo = mid + 1; else hi = mid;
  }
  return 0;
}
