// Engine stage `vm`: runs one rule's verified bytecode against the current request.
// Input: a loaded Bundle (engine/loader.ts), a rule index, and the request variables (tape Nodes).
// Output: the rule's result value (a 16-byte slot, engine/values.ts), possibly an error value
// that carries the pc of the instruction that raised it.
//
// A clox-style stack machine: one `switch` over the opcode, a fixed raw array of slots as the
// stack. The loader proved, per rule, that the stack depth at every instruction is static, never
// underflows and never exceeds MAX_STACK, and that every operand index is in range, so the loop
// does no checks of its own. Semantics: docs/semantics.md. Only arena memory is allocated.
//
// INVARIANT: every value the VM computes into the arena (a `+` result, a list literal, lowerAscii,
// string(int), a url() part) is charged to the evaluation budget (arena.ts chargeValue) before it
// is allocated; over the budget the result is value_too_large. Scratch that an operation needs
// only while it runs (regex threads, KMP tables, URL parsing, number parsing) is released before
// it returns. So the arena of one evaluation stays below a few times MAX_EVAL_BYTES plus a bounded
// multiple of the request and bundle sizes, and heap.alloc can never be asked for more than wasm32
// memory holds (which would trap).

import {
  MAX_STACK, MAX_REGEX_INPUT,
  OP_RET, OP_NULL, OP_TRUE, OP_FALSE, OP_INT, OP_DOUBLE, OP_STR, OP_VAR, OP_FIELD, OP_INDEX, OP_HAS,
  OP_LIST, OP_NOT, OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT,
  OP_GE, OP_IN, OP_AND_SC, OP_AND, OP_OR_SC, OP_OR, OP_COND, OP_JMP, OP_SIZE, OP_STARTS_WITH,
  OP_ENDS_WITH, OP_CONTAINS, OP_MATCHES, OP_LOWER_ASCII, OP_IS_IBAN, OP_IS_LUHN, OP_IS_URL,
  OP_URL_HOST, OP_URL_SCHEME, OP_URL_PORT, OP_IS_IP, OP_CIDR_CONTAINS, OP_TO_INT, OP_TO_DOUBLE,
  OP_TO_STRING, VAR_AGENT, VAR_TOOL, VAR_ACTION, VAR_PARAMS,
  ERR_NO_SUCH_KEY, ERR_NO_MATCHING_OVERLOAD, ERR_DIVISION_BY_ZERO, ERR_MODULUS_BY_ZERO,
  ERR_INT_OVERFLOW, ERR_INDEX_OUT_OF_RANGE, ERR_INVALID_ARGUMENT, ERR_VALUE_TOO_LARGE, MAX_JSON_DEPTH,
} from "./generated/bytecode";
import {
  Bundle, ruleRec, R_CODE, strAddr, strLength, constInt, constDouble,
} from "./loader";
import {
  SLOT, TAG_NULL, TAG_BOOL, TAG_INT, TAG_DOUBLE, TAG_STRING, TAG_LIST, TAG_VLIST, TAG_MAP,
  TAG_ERROR, tagOf, boolOf, intOf, doubleOf, strPtrOf, strLenOf, nodeOf, isError, setNull, setBool, setInt,
  setDouble, setString, setVList, setMap, setError, copySlot, fromNode, listCount, listGet,
  mapCount, mapGet, compareValues, valuesEqual, vlistDepth,
} from "./values";
import { arenaAlloc, arenaMark, arenaRelease, chargeValue } from "./arena";
import { bytesEqual } from "./tape";
import { utf8CountCodePoints } from "./utf8";
import { regexSearch } from "./regex";
import { isIban, isLuhn, isIp, cidrContains } from "./checks";
import { urlParse, urlHostPtr, urlHostLen, urlSchemePtr, urlSchemeLen, urlPortPtr, urlPortLen } from "./url";
import { parseNumberValue } from "./json-number";

// Operator / function names for `no matching overload for ...` and `invalid argument to ...`.
export const OPN_ADD: u8 = 0;
export const OPN_SUB: u8 = 1;
export const OPN_MUL: u8 = 2;
export const OPN_DIV: u8 = 3;
export const OPN_MOD: u8 = 4;
export const OPN_LT: u8 = 5;
export const OPN_LE: u8 = 6;
export const OPN_GT: u8 = 7;
export const OPN_GE: u8 = 8;
export const OPN_IN: u8 = 9;
export const OPN_NOT: u8 = 10;
/** `.field`: the name is "." followed by the error's key. */
export const OPN_FIELD: u8 = 11;
export const OPN_INDEX: u8 = 12;
export const OPN_HAS: u8 = 13;
export const OPN_AND: u8 = 14;
export const OPN_OR: u8 = 15;
export const OPN_COND: u8 = 16;
export const OPN_SIZE: u8 = 17;
export const OPN_STARTS_WITH: u8 = 18;
export const OPN_ENDS_WITH: u8 = 19;
export const OPN_CONTAINS: u8 = 20;
export const OPN_MATCHES: u8 = 21;
export const OPN_LOWER_ASCII: u8 = 22;
export const OPN_IS_IBAN: u8 = 23;
export const OPN_IS_LUHN: u8 = 24;
export const OPN_IS_URL: u8 = 25;
export const OPN_URL: u8 = 26;
export const OPN_IS_IP: u8 = 27;
export const OPN_CIDR: u8 = 28;
export const OPN_CONTAINS_IP: u8 = 29;
export const OPN_INT: u8 = 30;
export const OPN_DOUBLE: u8 = 31;
export const OPN_STRING: u8 = 32;
export const OPN_NONE: u8 = 255;

/** The printed name of an OPN_* id (OPN_FIELD prints "." and the key separately). */
export function opName(id: u8): string {
  switch (id) {
    case OPN_ADD: return "+";
    case OPN_SUB: return "-";
    case OPN_MUL: return "*";
    case OPN_DIV: return "/";
    case OPN_MOD: return "%";
    case OPN_LT: return "<";
    case OPN_LE: return "<=";
    case OPN_GT: return ">";
    case OPN_GE: return ">=";
    case OPN_IN: return "in";
    case OPN_NOT: return "!";
    case OPN_FIELD: return ".";
    case OPN_INDEX: return "[]";
    case OPN_HAS: return "has";
    case OPN_AND: return "&&";
    case OPN_OR: return "||";
    case OPN_COND: return "?:";
    case OPN_SIZE: return "size";
    case OPN_STARTS_WITH: return "startsWith";
    case OPN_ENDS_WITH: return "endsWith";
    case OPN_CONTAINS: return "contains";
    case OPN_MATCHES: return "matches";
    case OPN_LOWER_ASCII: return "lowerAscii";
    case OPN_IS_IBAN: return "isIBAN";
    case OPN_IS_LUHN: return "isLuhn";
    case OPN_IS_URL: return "isURL";
    case OPN_URL: return "url";
    case OPN_IS_IP: return "isIP";
    case OPN_CIDR: return "cidr";
    case OPN_CONTAINS_IP: return "containsIP";
    case OPN_INT: return "int";
    case OPN_DOUBLE: return "double";
    case OPN_STRING: return "string";
    default: return "";
  }
}

// The value stack: MAX_STACK slots, static.
const STACK: usize = memory.data(<i32>(MAX_STACK * 16));
/**
 * One static scratch slot for an element read out of a list. INVARIANT: used only between a
 * listGet and the read that follows it; valuesEqual takes its own scratch from the arena, so
 * nested comparisons never touch it.
 */
const SCRATCH: usize = memory.data(16);

const TRUE_BYTES: usize = memory.data<u8>([0x74, 0x72, 0x75, 0x65]);
const FALSE_BYTES: usize = memory.data<u8>([0x66, 0x61, 0x6c, 0x73, 0x65]);

const I64_MIN: i64 = -9223372036854775808;
/** Scratch for the digits of string(int): at most 20 of them. */
const INT_DIGITS: usize = memory.data(24);

// The request variables of the current call (tape Nodes; 0 = absent, read as the empty map).
let varAgent: usize = 0;
let varTool: usize = 0;
let varAction: usize = 0;
let varParams: usize = 0;
let varContext: usize = 0;

/** Set the request variables for the following runRule calls. */
export function setRequestVars(agent: usize, tool: usize, action: usize, params: usize, context: usize): void {
  varAgent = agent; varTool = tool; varAction = action; varParams = params; varContext = context;
}

// @ts-ignore: decorator
@inline function nmo(s: usize, op: u8, pc: u32): void { setError(s, ERR_NO_MATCHING_OVERLOAD, op, pc, 0, 0); }
// @ts-ignore: decorator
@inline function invalidArg(s: usize, op: u8, pc: u32): void { setError(s, ERR_INVALID_ARGUMENT, op, pc, 0, 0); }
// @ts-ignore: decorator
@inline function tooLarge(s: usize, pc: u32): void { setError(s, ERR_VALUE_TOO_LARGE, OPN_NONE, pc, 0, 0); }
// @ts-ignore: decorator
@inline function isFalse(s: usize): bool { return tagOf(s) == TAG_BOOL && !boolOf(s); }
// @ts-ignore: decorator
@inline function isTrue(s: usize): bool { return tagOf(s) == TAG_BOOL && boolOf(s); }
// @ts-ignore: decorator
@inline function isList(t: u8): bool { return t == TAG_LIST || t == TAG_VLIST; }
// @ts-ignore: decorator
@inline function isNumber(t: u8): bool { return t == TAG_INT || t == TAG_DOUBLE; }

/** For a binary operator at (a, b): leave the leftmost error in `a` and return true, if any. */
// @ts-ignore: decorator
@inline function takeError(a: usize, b: usize): bool {
  if (isError(a)) return true;
  if (isError(b)) { copySlot(a, b); return true; }
  return false;
}

/**
 * Run rule `r` of bundle `b` and write its result value to `result`.
 * INVARIANT: the rule's code passed loader.verifyCode.
 */
export function runRule(b: Bundle, r: u32, result: usize): void {
  const code = <usize>load<u32>(ruleRec(b, r) + R_CODE);
  // `TRUE; RET`, the code of every rule without a condition (selectors only), needs no loop.
  if (load<u16>(code) == ((<u16>OP_RET << 8) | <u16>OP_TRUE)) { setBool(result, true); return; }
  let pc: u32 = 0;
  let sp: usize = STACK; // address of the next free slot
  while (true) {
    const at = code + pc;
    const op = load<u8>(at);
    switch (op) {
      case OP_RET: copySlot(result, sp - SLOT); return;
      case OP_NULL: setNull(sp); sp += SLOT; pc += 1; break;
      case OP_TRUE: setBool(sp, true); sp += SLOT; pc += 1; break;
      case OP_FALSE: setBool(sp, false); sp += SLOT; pc += 1; break;
      case OP_INT: setInt(sp, constInt(b, load<u32>(at, 1))); sp += SLOT; pc += 5; break;
      case OP_DOUBLE: setDouble(sp, constDouble(b, load<u32>(at, 1))); sp += SLOT; pc += 5; break;
      case OP_STR: {
        const s = load<u32>(at, 1);
        setString(sp, strAddr(b, s), strLength(b, s)); sp += SLOT; pc += 5; break;
      }
      case OP_VAR: {
        const v = load<u8>(at, 1);
        if (v == VAR_AGENT) setMap(sp, varAgent);
        else if (v == VAR_TOOL) fromNode(sp, varTool);
        else if (v == VAR_ACTION) fromNode(sp, varAction);
        else if (v == VAR_PARAMS) setMap(sp, varParams);
        else setMap(sp, varContext);
        sp += SLOT; pc += 2; break;
      }
      case OP_FIELD: {
        const x = sp - SLOT;
        const s = load<u32>(at, 1);
        const kp = strAddr(b, s), kl = strLength(b, s);
        if (tagOf(x) == TAG_MAP) {
          const node = mapGet(x, kp, kl);
          if (node != 0) fromNode(x, node); else setError(x, ERR_NO_SUCH_KEY, OPN_NONE, pc, kp, kl);
        } else if (!isError(x)) setError(x, ERR_NO_MATCHING_OVERLOAD, OPN_FIELD, pc, kp, kl);
        pc += 5; break;
      }
      case OP_INDEX: sp -= SLOT; opIndex(sp - SLOT, sp, pc); pc += 1; break;
      case OP_HAS: {
        const x = sp - SLOT;
        const s = load<u32>(at, 1);
        if (tagOf(x) == TAG_MAP) setBool(x, mapGet(x, strAddr(b, s), strLength(b, s)) != 0);
        else if (!isError(x)) nmo(x, OPN_HAS, pc);
        pc += 5; break;
      }
      case OP_LIST: {
        const n = <u32>load<u16>(at, 1);
        const first = sp - <usize>n * SLOT;
        let err: usize = 0;
        for (let i: u32 = 0; i < n; i++) {
          if (isError(first + <usize>i * SLOT)) { err = first + <usize>i * SLOT; break; }
        }
        let depth: u32 = 0;
        for (let i: u32 = 0; i < n; i++) {
          const d = vlistDepth(first + <usize>i * SLOT);
          if (d > depth) depth = d;
        }
        if (err != 0) copySlot(first, err);
        // The compiler nests expressions at most 64 deep; only a hand-made bundle gets here.
        else if (depth >= MAX_JSON_DEPTH || !chargeValue(<u64>n * SLOT)) tooLarge(first, pc);
        else {
          const vals = arenaAlloc(<usize>n * SLOT);
          memory.copy(vals, first, <usize>n * SLOT);
          setVList(first, vals, n, depth + 1);
        }
        sp = first + SLOT; pc += 3; break;
      }
      case OP_NOT: {
        const x = sp - SLOT;
        if (tagOf(x) == TAG_BOOL) setBool(x, !boolOf(x));
        else if (!isError(x)) nmo(x, OPN_NOT, pc);
        pc += 1; break;
      }
      case OP_NEG: {
        const x = sp - SLOT;
        const t = tagOf(x);
        if (t == TAG_INT) {
          const v = intOf(x);
          if (v == I64_MIN) setError(x, ERR_INT_OVERFLOW, OPN_NONE, pc, 0, 0); else setInt(x, -v);
        } else if (t == TAG_DOUBLE) setDouble(x, -doubleOf(x));
        else if (t != TAG_ERROR) nmo(x, OPN_SUB, pc);
        pc += 1; break;
      }
      case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD:
        sp -= SLOT; arith(op, sp - SLOT, sp, pc); pc += 1; break;
      case OP_EQ: case OP_NE: {
        sp -= SLOT;
        const a = sp - SLOT;
        if (!takeError(a, sp)) {
          const eq = valuesEqual(a, sp);
          setBool(a, op == OP_EQ ? eq : !eq);
        }
        pc += 1; break;
      }
      case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
        sp -= SLOT;
        const a = sp - SLOT;
        if (!takeError(a, sp)) {
          const c = compareValues(a, sp);
          if (c == 3) nmo(a, <u8>(OPN_LT + (op - OP_LT)), pc);
          else if (c == 2) setBool(a, false);
          else if (op == OP_LT) setBool(a, c < 0);
          else if (op == OP_LE) setBool(a, c <= 0);
          else if (op == OP_GT) setBool(a, c > 0);
          else setBool(a, c >= 0);
        }
        pc += 1; break;
      }
      case OP_IN: sp -= SLOT; opIn(sp - SLOT, sp, pc); pc += 1; break;
      case OP_AND_SC: if (isFalse(sp - SLOT)) pc = load<u32>(at, 1); else pc += 5; break;
      case OP_OR_SC: if (isTrue(sp - SLOT)) pc = load<u32>(at, 1); else pc += 5; break;
      case OP_AND: case OP_OR: {
        sp -= SLOT;
        const a = sp - SLOT;
        const absorbing = op == OP_OR;
        const ta = tagOf(a), tb = tagOf(sp);
        if (ta == TAG_BOOL && boolOf(a) == absorbing) { /* a stays */ }
        else if (tb == TAG_BOOL && boolOf(sp) == absorbing) copySlot(a, sp);
        else if (takeError(a, sp)) { /* leftmost error stays in a */ }
        else if (ta != TAG_BOOL || tb != TAG_BOOL) nmo(a, absorbing ? OPN_OR : OPN_AND, pc);
        else setBool(a, !absorbing);
        pc += 1; break;
      }
      case OP_COND: {
        const c = sp - SLOT;
        const t = tagOf(c);
        if (t == TAG_BOOL) {
          sp -= SLOT;
          if (boolOf(c)) pc += 9; else pc = load<u32>(at, 1);
        } else {
          // The error (or a non-bool's error) becomes the expression's value.
          if (t != TAG_ERROR) nmo(c, OPN_COND, pc);
          pc = load<u32>(at, 5);
        }
        break;
      }
      case OP_JMP: pc = load<u32>(at, 1); break;
      case OP_SIZE: {
        const x = sp - SLOT;
        const t = tagOf(x);
        if (t == TAG_STRING) setInt(x, utf8CountCodePoints(strPtrOf(x), strLenOf(x)));
        else if (isList(t)) setInt(x, <i64>listCount(x));
        else if (t == TAG_MAP) setInt(x, <i64>mapCount(x));
        else if (t != TAG_ERROR) nmo(x, OPN_SIZE, pc);
        pc += 1; break;
      }
      case OP_STARTS_WITH: case OP_ENDS_WITH: case OP_CONTAINS:
        sp -= SLOT; stringPredicate(op, sp - SLOT, sp, pc); pc += 1; break;
      case OP_MATCHES: {
        const x = sp - SLOT;
        if (tagOf(x) == TAG_STRING) {
          // regexSearch releases its own scratch.
          const rx = b.regexTab + (<usize>load<u32>(at, 1) << 3);
          if (strLenOf(x) > MAX_REGEX_INPUT) invalidArg(x, OPN_MATCHES, pc);
          else setBool(x, regexSearch(<usize>load<u32>(rx), load<u32>(rx, 4), strPtrOf(x), strLenOf(x)));
        } else if (!isError(x)) nmo(x, OPN_MATCHES, pc);
        pc += 5; break;
      }
      case OP_LOWER_ASCII: {
        const x = sp - SLOT;
        if (tagOf(x) == TAG_STRING) {
          const n = strLenOf(x);
          const src = strPtrOf(x);
          if (!chargeValue(<u64>n)) { tooLarge(x, pc); pc += 1; break; }
          const dst = arenaAlloc(<usize>n);
          for (let i: u32 = 0; i < n; i++) {
            const c = load<u8>(src + i);
            store<u8>(dst + i, c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
          }
          setString(x, dst, n);
        } else if (!isError(x)) nmo(x, OPN_LOWER_ASCII, pc);
        pc += 1; break;
      }
      case OP_IS_IBAN: case OP_IS_LUHN: case OP_IS_URL: case OP_IS_IP: {
        const x = sp - SLOT;
        if (tagOf(x) == TAG_STRING) {
          const p = strPtrOf(x), n = strLenOf(x);
          const mark = arenaMark(); // the checks' scratch dies with the check
          let v = false;
          if (op == OP_IS_IBAN) v = isIban(p, n);
          else if (op == OP_IS_LUHN) v = isLuhn(p, n);
          else if (op == OP_IS_URL) v = urlParse(p, n);
          else v = isIp(p, n);
          arenaRelease(mark);
          setBool(x, v);
        } else if (!isError(x)) {
          nmo(x, op == OP_IS_IBAN ? OPN_IS_IBAN : op == OP_IS_LUHN ? OPN_IS_LUHN : op == OP_IS_URL ? OPN_IS_URL : OPN_IS_IP, pc);
        }
        pc += 1; break;
      }
      case OP_URL_HOST: case OP_URL_SCHEME: case OP_URL_PORT: {
        const x = sp - SLOT;
        if (tagOf(x) == TAG_STRING) {
          const mark = arenaMark();
          if (!urlParse(strPtrOf(x), strLenOf(x))) { arenaRelease(mark); invalidArg(x, OPN_URL, pc); }
          else {
            // The URL parser's buffers are reused by the next parse: copy the part out. The parse
            // scratch is released first; the part may lie in it, so the copy is a move down
            // (memory.copy allows overlap, and the part never starts below `mark`).
            let p: usize, n: u32;
            if (op == OP_URL_HOST) { p = urlHostPtr(); n = urlHostLen(); }
            else if (op == OP_URL_SCHEME) { p = urlSchemePtr(); n = urlSchemeLen(); }
            else { p = urlPortPtr(); n = urlPortLen(); }
            arenaRelease(mark);
            if (!chargeValue(<u64>n)) tooLarge(x, pc);
            else {
              const dst = arenaAlloc(<usize>n);
              memory.copy(dst, p, n);
              setString(x, dst, n);
            }
          }
        } else if (!isError(x)) nmo(x, OPN_URL, pc);
        pc += 1; break;
      }
      case OP_CIDR_CONTAINS: {
        sp -= SLOT;
        const a = sp - SLOT;
        if (!takeError(a, sp)) {
          if (tagOf(a) != TAG_STRING) nmo(a, OPN_CIDR, pc);
          else if (tagOf(sp) != TAG_STRING) nmo(a, OPN_CONTAINS_IP, pc);
          else {
            const mark = arenaMark();
            const r = cidrContains(strPtrOf(a), strLenOf(a), strPtrOf(sp), strLenOf(sp));
            arenaRelease(mark);
            if (r == -1) invalidArg(a, OPN_CIDR, pc);
            else if (r == -2) invalidArg(a, OPN_CONTAINS_IP, pc);
            else setBool(a, r == 1);
          }
        }
        pc += 1; break;
      }
      case OP_TO_INT: toInt(sp - SLOT, pc); pc += 1; break;
      case OP_TO_DOUBLE: toDouble(sp - SLOT, pc); pc += 1; break;
      case OP_TO_STRING: toStr(sp - SLOT, pc); pc += 1; break;
      default:
        // Unreachable for verified code; fail closed rather than trap.
        nmo(result, OPN_NONE, pc);
        return;
    }
  }
}

function opIndex(a: usize, i: usize, pc: u32): void {
  if (takeError(a, i)) return;
  const ta = tagOf(a), ti = tagOf(i);
  if (isList(ta)) {
    const n = listCount(a);
    let k: i64 = 0;
    if (ti == TAG_INT) k = intOf(i);
    else if (ti == TAG_DOUBLE) {
      const d = doubleOf(i);
      if (!isFinite(d) || Math.trunc(d) != d) { nmo(a, OPN_INDEX, pc); return; }
      if (d < 0 || d >= <f64>n) { setError(a, ERR_INDEX_OUT_OF_RANGE, OPN_NONE, pc, 0, 0); return; }
      k = <i64>d;
    } else { nmo(a, OPN_INDEX, pc); return; }
    if (k < 0 || k >= <i64>n) { setError(a, ERR_INDEX_OUT_OF_RANGE, OPN_NONE, pc, 0, 0); return; }
    listGet(a, <u32>k, SCRATCH);
    copySlot(a, SCRATCH);
  } else if (ta == TAG_MAP) {
    if (ti != TAG_STRING) { nmo(a, OPN_INDEX, pc); return; }
    const kp = strPtrOf(i), kl = strLenOf(i);
    const node = mapGet(a, kp, kl);
    if (node != 0) fromNode(a, node); else setError(a, ERR_NO_SUCH_KEY, OPN_NONE, pc, kp, kl);
  } else nmo(a, OPN_INDEX, pc);
}

function opIn(x: usize, c: usize, pc: u32): void {
  if (takeError(x, c)) return;
  const tc = tagOf(c);
  if (tc == TAG_VLIST) {
    // A list literal: compare against its slots in place (no copies).
    const n = listCount(c);
    const vals = nodeOf(c);
    let found = false;
    for (let i: u32 = 0; i < n && !found; i++) found = valuesEqual(x, vals + <usize>i * SLOT);
    setBool(x, found);
  } else if (tc == TAG_LIST) {
    const n = listCount(c);
    let found = false;
    for (let i: u32 = 0; i < n && !found; i++) {
      listGet(c, i, SCRATCH);
      found = valuesEqual(x, SCRATCH);
    }
    setBool(x, found);
  } else if (tc == TAG_MAP) {
    setBool(x, tagOf(x) == TAG_STRING && mapGet(c, strPtrOf(x), strLenOf(x)) != 0);
  } else nmo(x, OPN_IN, pc);
}

/** Concatenate two lists into a fresh arena list (value_too_large over the budget). */
function concatLists(a: usize, b: usize, pc: u32): void {
  const n = listCount(a), m = listCount(b);
  // u64: n + m can pass 2^32 / 16 before the check says no.
  if (!chargeValue((<u64>n + <u64>m) * SLOT)) { tooLarge(a, pc); return; }
  const vals = arenaAlloc(<usize>(n + m) * SLOT);
  for (let i: u32 = 0; i < n; i++) listGet(a, i, vals + <usize>i * SLOT);
  for (let i: u32 = 0; i < m; i++) listGet(b, i, vals + <usize>(n + i) * SLOT);
  const da = vlistDepth(a), db = vlistDepth(b);
  setVList(a, vals, n + m, da > db ? da : db);
}

function arith(op: u8, a: usize, b: usize, pc: u32): void {
  if (takeError(a, b)) return;
  const ta = tagOf(a), tb = tagOf(b);
  if (ta == TAG_INT && tb == TAG_INT) {
    const x = intOf(a), y = intOf(b);
    let r: i64 = 0;
    if (op == OP_ADD) {
      r = x + y;
      if (((x ^ r) & (y ^ r)) < 0) { setError(a, ERR_INT_OVERFLOW, OPN_NONE, pc, 0, 0); return; }
    } else if (op == OP_SUB) {
      r = x - y;
      if (((x ^ y) & (x ^ r)) < 0) { setError(a, ERR_INT_OVERFLOW, OPN_NONE, pc, 0, 0); return; }
    } else if (op == OP_MUL) {
      if (x != 0 && y != 0) {
        // Checked before dividing: MIN * -1 overflows, and MIN / -1 would trap.
        if ((x == -1 && y == I64_MIN) || (y == -1 && x == I64_MIN)) { setError(a, ERR_INT_OVERFLOW, OPN_NONE, pc, 0, 0); return; }
        r = x * y;
        if (r / y != x) { setError(a, ERR_INT_OVERFLOW, OPN_NONE, pc, 0, 0); return; }
      }
    } else if (op == OP_DIV) {
      if (y == 0) { setError(a, ERR_DIVISION_BY_ZERO, OPN_NONE, pc, 0, 0); return; }
      if (x == I64_MIN && y == -1) { setError(a, ERR_INT_OVERFLOW, OPN_NONE, pc, 0, 0); return; }
      r = x / y;
    } else {
      if (y == 0) { setError(a, ERR_MODULUS_BY_ZERO, OPN_NONE, pc, 0, 0); return; }
      r = y == -1 ? 0 : x % y;
    }
    setInt(a, r);
    return;
  }
  if (isNumber(ta) && isNumber(tb)) {
    const x = ta == TAG_INT ? <f64>intOf(a) : doubleOf(a);
    const y = tb == TAG_INT ? <f64>intOf(b) : doubleOf(b);
    let r: f64;
    if (op == OP_ADD) r = x + y;
    else if (op == OP_SUB) r = x - y;
    else if (op == OP_MUL) r = x * y;
    else if (op == OP_DIV) r = x / y;
    else r = x % y;
    setDouble(a, r);
    return;
  }
  if (op == OP_ADD && ta == TAG_STRING && tb == TAG_STRING) {
    const n = strLenOf(a), m = strLenOf(b);
    // Checked before allocating: doubling a string in every `+` of a policy grows exponentially.
    if (!chargeValue(<u64>n + <u64>m)) { tooLarge(a, pc); return; }
    const dst = arenaAlloc(<usize>n + <usize>m);
    memory.copy(dst, strPtrOf(a), n);
    memory.copy(dst + n, strPtrOf(b), m);
    setString(a, dst, n + m);
    return;
  }
  if (op == OP_ADD && isList(ta) && isList(tb)) { concatLists(a, b, pc); return; }
  nmo(a, <u8>(OPN_ADD + (op - OP_ADD)), pc);
}

function stringPredicate(op: u8, a: usize, b: usize, pc: u32): void {
  if (takeError(a, b)) return;
  if (tagOf(a) != TAG_STRING || tagOf(b) != TAG_STRING) {
    nmo(a, op == OP_STARTS_WITH ? OPN_STARTS_WITH : op == OP_ENDS_WITH ? OPN_ENDS_WITH : OPN_CONTAINS, pc);
    return;
  }
  const s = strPtrOf(a), n = strLenOf(a), p = strPtrOf(b), m = strLenOf(b);
  let v = false;
  if (m <= n) {
    if (op == OP_STARTS_WITH) v = bytesEqual(s, p, m);
    else if (op == OP_ENDS_WITH) v = bytesEqual(s + n - m, p, m);
    else {
      const mark = arenaMark(); // the KMP table is scratch
      v = contains(s, n, p, m);
      arenaRelease(mark);
    }
  }
  setBool(a, v);
}

/** Substring search in O(n + m) (Knuth-Morris-Pratt), so crafted inputs cannot make it quadratic. */
function contains(s: usize, n: u32, p: usize, m: u32): bool {
  if (m == 0) return true;
  if (m <= 8) {
    // Short needles: the naive scan is at most 8n steps.
    const first = load<u8>(p);
    for (let i: u32 = 0; i + m <= n; i++) {
      if (load<u8>(s + i) == first && bytesEqual(s + i, p, m)) return true;
    }
    return false;
  }
  const fail = arenaAlloc(<usize>m << 2);
  store<u32>(fail, 0);
  let k: u32 = 0;
  for (let i: u32 = 1; i < m; i++) {
    const c = load<u8>(p + i);
    while (k > 0 && load<u8>(p + k) != c) k = load<u32>(fail + (<usize>(k - 1) << 2));
    if (load<u8>(p + k) == c) k++;
    store<u32>(fail + (<usize>i << 2), k);
  }
  k = 0;
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(s + i);
    while (k > 0 && load<u8>(p + k) != c) k = load<u32>(fail + (<usize>(k - 1) << 2));
    if (load<u8>(p + k) == c) k++;
    if (k == m) return true;
  }
  return false;
}

function isDigit(c: u8): bool { return c >= 0x30 && c <= 0x39; }

function toInt(x: usize, pc: u32): void {
  const t = tagOf(x);
  if (t == TAG_INT || t == TAG_ERROR) return;
  if (t == TAG_DOUBLE) {
    const d = doubleOf(x);
    // CEL's range: strictly inside (-2^63, 2^63).
    if (!isFinite(d) || d <= -9223372036854775808.0 || d >= 9223372036854775808.0) { invalidArg(x, OPN_INT, pc); return; }
    setInt(x, <i64>Math.trunc(d));
    return;
  }
  if (t == TAG_STRING) {
    const p = strPtrOf(x), n = strLenOf(x);
    let i: u32 = 0;
    const neg = n > 0 && load<u8>(p) == 0x2d;
    if (neg) i = 1;
    if (i >= n) { invalidArg(x, OPN_INT, pc); return; }
    // Accumulate negatively so that MIN fits.
    let acc: i64 = 0;
    for (; i < n; i++) {
      const c = load<u8>(p + i);
      if (!isDigit(c)) { invalidArg(x, OPN_INT, pc); return; }
      const d = <i64>(c - 0x30);
      if (acc < -922337203685477580 || (acc == -922337203685477580 && d > 8)) { invalidArg(x, OPN_INT, pc); return; }
      acc = acc * 10 - d;
    }
    if (!neg) {
      if (acc == I64_MIN) { invalidArg(x, OPN_INT, pc); return; }
      acc = -acc;
    }
    setInt(x, acc);
    return;
  }
  nmo(x, OPN_INT, pc);
}

function toDouble(x: usize, pc: u32): void {
  const t = tagOf(x);
  if (t == TAG_DOUBLE || t == TAG_ERROR) return;
  if (t == TAG_INT) { setDouble(x, <f64>intOf(x)); return; }
  if (t != TAG_STRING) { nmo(x, OPN_DOUBLE, pc); return; }
  // CEL double syntax: [+-]? (digits ('.' digits?)? | '.' digits) ([eE] [+-]? digits)?
  // Rewritten as a JSON number lexeme (no '+', no leading zeros, no bare '.') for the exact
  // decimal-to-double conversion of the JSON reader.
  const p = strPtrOf(x), n = strLenOf(x);
  let i: u32 = 0;
  let neg = false;
  if (i < n && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) { neg = load<u8>(p) == 0x2d; i++; }
  const intStart = i;
  while (i < n && isDigit(load<u8>(p + i))) i++;
  const intEnd = i;
  let fracStart = i, fracEnd = i;
  if (i < n && load<u8>(p + i) == 0x2e) {
    i++;
    fracStart = i;
    while (i < n && isDigit(load<u8>(p + i))) i++;
    fracEnd = i;
  }
  if (intEnd == intStart && fracEnd == fracStart) { invalidArg(x, OPN_DOUBLE, pc); return; }
  let expStart = i;
  if (i < n && (load<u8>(p + i) | 0x20) == 0x65) {
    i++;
    if (i < n && (load<u8>(p + i) == 0x2b || load<u8>(p + i) == 0x2d)) i++;
    const digits = i;
    while (i < n && isDigit(load<u8>(p + i))) i++;
    if (i == digits) { invalidArg(x, OPN_DOUBLE, pc); return; }
  }
  if (i != n) { invalidArg(x, OPN_DOUBLE, pc); return; }
  const mark = arenaMark(); // the rewritten lexeme is scratch
  const buf = arenaAlloc(<usize>n + 3);
  let w: usize = 0;
  if (neg) { store<u8>(buf, 0x2d); w++; }
  let z = intStart;
  while (z + 1 < intEnd && load<u8>(p + z) == 0x30) z++;
  if (z == intEnd) { store<u8>(buf + w, 0x30); w++; }
  else { memory.copy(buf + w, p + z, intEnd - z); w += intEnd - z; }
  if (fracEnd > fracStart) {
    store<u8>(buf + w, 0x2e); w++;
    memory.copy(buf + w, p + fracStart, fracEnd - fracStart); w += fracEnd - fracStart;
  }
  if (expStart < n) { memory.copy(buf + w, p + expStart, n - expStart); w += n - expStart; }
  const d = parseNumberValue(buf, w);
  arenaRelease(mark);
  setDouble(x, d);
}

function toStr(x: usize, pc: u32): void {
  const t = tagOf(x);
  if (t == TAG_STRING || t == TAG_ERROR) return;
  if (t == TAG_BOOL) {
    if (boolOf(x)) setString(x, TRUE_BYTES, 4); else setString(x, FALSE_BYTES, 5);
    return;
  }
  if (t == TAG_INT) {
    const v = intOf(x);
    let u: u64 = v < 0 ? <u64>(-(v + 1)) + 1 : <u64>v;
    // Digits, least significant first, into static scratch; then the exact-size result.
    let n: u32 = 0;
    do { store<u8>(INT_DIGITS + n, <u8>(0x30 + <u32>(u % 10))); n++; u /= 10; } while (u > 0);
    const size: u32 = n + (v < 0 ? 1 : 0);
    if (!chargeValue(<u64>size)) { tooLarge(x, pc); return; }
    const buf = arenaAlloc(<usize>size);
    let w: u32 = 0;
    if (v < 0) { store<u8>(buf, 0x2d); w = 1; }
    while (n > 0) { n--; store<u8>(buf + w, load<u8>(INT_DIGITS + n)); w++; }
    setString(x, buf, w);
    return;
  }
  nmo(x, OPN_STRING, pc);
}
