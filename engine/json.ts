// Engine stage: strict JSON reader (RFC 8259, UTF-8) for requests; decisions in docs/json.md.
// Input: request bytes in memory (address + length). Output: a tape (engine/tape.ts) in arena
// memory, rooted at jsonRoot(), or an error code with a byte offset; writeJsonError renders the
// error JSON through engine/out.ts.
//
// The parser is a loop over an explicit stack of at most MAX_JSON_DEPTH frames: nesting never
// recurses, so a 100,000-deep `[[[[` input costs one frame per level up to the limit and then
// fails with too_deep. Children of an open container collect on a growable scratch stack (one
// record per element or member) and are copied to a contiguous arena block when the container
// closes, which is what lets the tape store every array and object as one run of records.
//
// Every byte read is preceded by a bounds check; the code never traps on any input.

import { arenaAlloc } from "./arena";
import { outAscii, outByte, outJsonStringContent, outReset, outU64 } from "./out";
import {
  ERR_DUPLICATE_KEY, ERR_INVALID_JSON, ERR_INVALID_UTF8, ERR_REQUEST_TOO_LARGE, ERR_TOO_DEEP,
  ERR_TOO_MANY_VALUES, MAX_JSON_DEPTH, MAX_JSON_NODES, MAX_REQUEST_BYTES, errorMessage, errorName,
} from "./generated/bytecode";
import { parseNumberValue, scanNumber, numberErrorAt } from "./json-number";
import {
  KIND_ARRAY, KIND_FALSE, KIND_NULL, KIND_NUMBER, KIND_OBJECT, KIND_STRING, KIND_TRUE, MEMBER_SIZE,
  NODE_SIZE, findDuplicateKey, writeNode,
} from "./tape";
import { utf8Encode, utf8SequenceLength } from "./utf8";

// ---------------------------------------------------------------------------------------------
// Error state (one error per call; read by writeJsonError)

/** Which message writeJsonError prints for the last error. */
export const enum JsonErrorDetail {
  DEFAULT, UNEXPECTED_END, UNEXPECTED_CHAR, TRAILING, BOM, CONTROL_CHAR, BAD_ESCAPE,
  BAD_UNICODE_ESCAPE, LONE_SURROGATE, BAD_NUMBER, BAD_LITERAL, EXPECTED_COLON, EXPECTED_KEY,
  EXPECTED_ARRAY_SEP, EXPECTED_OBJECT_SEP, UNTERMINATED_STRING, BAD_UTF8, DUPLICATE_KEY, TOO_DEEP,
  TOO_MANY_VALUES, TOO_LARGE, BAD_TAPE,
}

let errorCode: i32 = 0;
let errorOffset: i64 = -1; // -1: no offset (tape errors)
let errorDetail: JsonErrorDetail = JsonErrorDetail.DEFAULT;
let errorTextPtr: usize = 0; // user text shown in backticks (key, escape), or the offending byte
let errorTextLen: usize = 0;

/**
 * Record an error for writeJsonError. `offset` is the byte offset into the request (-1: none);
 * `textPtr`/`textLen` point at the user text the message quotes (for BAD_TAPE: a static message).
 * Returns `code` so callers can `return setJsonError(...)`.
 */
export function setJsonError(code: i32, offset: i64, detail: JsonErrorDetail, textPtr: usize, textLen: usize): i32 {
  errorCode = code;
  errorOffset = offset;
  errorDetail = detail;
  errorTextPtr = textPtr;
  errorTextLen = textLen;
  return code;
}

let tapeErrorMessage: string = "";

/** Record an error found in a host-written tape (no offset); `message` is a static string. */
export function setTapeError(code: i32, message: string): i32 {
  tapeErrorMessage = message;
  return setJsonError(code, -1, JsonErrorDetail.BAD_TAPE, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Parser state

let inputBase: usize = 0;
let inputEnd: usize = 0;
let rootNode: usize = 0;
let valueCount: u32 = 0;

// Scratch stack of pending children (offsets, because growing it moves it).
//   array element: 16 bytes = the Node
//   object member: 32 bytes = key address | key length | Node | key offset in the input | unused
const ELEMENT_RECORD: u32 = 16;
const MEMBER_RECORD: u32 = 32;
let scratch: usize = 0;
let scratchCap: u32 = 0;
let scratchTop: u32 = 0;

// Frames: one per open container. +0 u32 kind, +4 u32 scratch start, +8 u32 slot of the
// container's own Node (scratch offset, or ROOT_SLOT).
const FRAME_SIZE: usize = 12;
const FRAME_COUNT: u32 = 65; // MAX_JSON_DEPTH + 1; parseJson also stops at FRAME_COUNT - 1
const frames = memory.data(12 * 65, 4); // FRAME_SIZE * FRAME_COUNT
let depth: u32 = 0;
const ROOT_SLOT: u32 = 0xffffffff;

// Result of parseString.
let stringAddr: usize = 0;
let stringLength: u32 = 0;
let stringCodePoints: u32 = 0;

/** Offset into the scratch stack of `size` fresh bytes (grows by doubling; 0 on failure never: heap grows). */
function scratchPush(size: u32): u32 {
  if (scratchTop + size > scratchCap) {
    let want = scratchCap == 0 ? <u32>16384 : scratchCap << 1;
    while (want < scratchTop + size) want <<= 1;
    const fresh = heap.alloc(<usize>want);
    if (scratchTop > 0) memory.copy(fresh, scratch, <usize>scratchTop);
    scratch = fresh; // the old block is abandoned: growth is geometric, so waste is bounded
    scratchCap = want;
  }
  const at = scratchTop;
  scratchTop += size;
  return at;
}

// @ts-ignore: decorator
@inline function slotAddress(slot: u32): usize {
  return slot == ROOT_SLOT ? rootNode : scratch + <usize>slot;
}

// @ts-ignore: decorator
@inline function offsetOf(p: usize): i64 { return <i64>(p - inputBase); }

function fail(code: i32, p: usize, detail: JsonErrorDetail): i32 {
  return setJsonError(code, offsetOf(p), detail, p, p < inputEnd ? 1 : 0);
}

/** fail() for functions that return an address, where 0 means "error recorded". */
function failNull(code: i32, p: usize, detail: JsonErrorDetail): usize {
  fail(code, p, detail);
  return 0;
}

function setErrorNull(code: i32, offset: i64, detail: JsonErrorDetail, textPtr: usize, textLen: usize): usize {
  setJsonError(code, offset, detail, textPtr, textLen);
  return 0;
}

// @ts-ignore: decorator
@inline function isWhitespace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

function skipWhitespace(p: usize): usize {
  while (p < inputEnd && isWhitespace(load<u8>(p))) p++;
  return p;
}

function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** The four hex digits at `p` (caller checked p + 4 <= inputEnd), or -1. */
function hex4(p: usize): i32 {
  const a = hexValue(load<u8>(p)), b = hexValue(load<u8>(p + 1));
  const c = hexValue(load<u8>(p + 2)), d = hexValue(load<u8>(p + 3));
  if ((a | b | c | d) < 0) return -1;
  return (a << 12) | (b << 8) | (c << 4) | d;
}

// SWAR tests on eight string bytes at once (Mycroft's has-zero-byte trick).
const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;
// @ts-ignore: decorator
@inline function hasZeroByte(v: u64): bool { return ((v - ONES) & ~v & HIGHS) != 0; }

/**
 * Read the string whose opening quote is at `p`. Sets stringAddr/Length/CodePoints (unescaped
 * UTF-8: a pointer into the input when there are no escapes, else a fresh arena copy) and returns
 * the address after the closing quote, or 0 after recording an error.
 */
function parseString(p: usize): usize {
  const start = p + 1;
  let q = start;
  let codePoints: u32 = 0;
  let escaped = false;
  while (true) {
    while (q + 8 <= inputEnd) {
      const v = load<u64>(q);
      if ((v & HIGHS) != 0 || hasZeroByte(v ^ 0x2222222222222222) || hasZeroByte(v ^ 0x5c5c5c5c5c5c5c5c)
        || ((v - 0x2020202020202020) & ~v & HIGHS) != 0) break;
      q += 8;
      codePoints += 8;
    }
    if (q >= inputEnd) return failNull(ERR_INVALID_JSON, p, JsonErrorDetail.UNTERMINATED_STRING);
    const c = <u32>load<u8>(q);
    if (c == 0x22) break;
    if (c == 0x5c) {
      escaped = true;
      if (q + 1 >= inputEnd) return failNull(ERR_INVALID_JSON, inputEnd, JsonErrorDetail.UNEXPECTED_END);
      const e = <u32>load<u8>(q + 1);
      if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
        q += 2;
      } else if (e == 0x75) {
        if (q + 6 > inputEnd) return failNull(ERR_INVALID_JSON, q, JsonErrorDetail.BAD_UNICODE_ESCAPE);
        const u = hex4(q + 2);
        if (u < 0) return failNull(ERR_INVALID_JSON, q, JsonErrorDetail.BAD_UNICODE_ESCAPE);
        if (u >= 0xd800 && u <= 0xdbff) {
          // A high surrogate must be followed by an escaped low surrogate.
          if (q + 12 > inputEnd || load<u8>(q + 6) != 0x5c || load<u8>(q + 7) != 0x75) {
            return setErrorNull(ERR_INVALID_JSON, offsetOf(q), JsonErrorDetail.LONE_SURROGATE, q, 6);
          }
          const low = hex4(q + 8);
          if (low < 0xdc00 || low > 0xdfff) {
            return setErrorNull(ERR_INVALID_JSON, offsetOf(q), JsonErrorDetail.LONE_SURROGATE, q, 6);
          }
          q += 12;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          return setErrorNull(ERR_INVALID_JSON, offsetOf(q), JsonErrorDetail.LONE_SURROGATE, q, 6);
        } else {
          q += 6;
        }
      } else {
        return setErrorNull(ERR_INVALID_JSON, offsetOf(q), JsonErrorDetail.BAD_ESCAPE, q + 1, 1);
      }
      codePoints++;
      continue;
    }
    if (c < 0x20) return failNull(ERR_INVALID_JSON, q, JsonErrorDetail.CONTROL_CHAR);
    if (c < 0x80) { q++; codePoints++; continue; }
    const n = utf8SequenceLength(q, inputEnd);
    if (n == 0) return failNull(ERR_INVALID_UTF8, q, JsonErrorDetail.BAD_UTF8);
    q += n;
    codePoints++;
  }
  const rawLength = q - start;
  stringCodePoints = codePoints;
  if (!escaped) {
    stringAddr = start;
    stringLength = <u32>rawLength;
    return q + 1;
  }
  // Unescaping never lengthens the text (\uXXXX is 6 bytes for at most 3; a pair 12 for 4).
  const dst = arenaAlloc(rawLength);
  let w = dst;
  let r = start;
  while (r < q) {
    const c = <u32>load<u8>(r);
    if (c != 0x5c) { store<u8>(w++, <u8>c); r++; continue; }
    const e = <u32>load<u8>(r + 1);
    if (e == 0x75) {
      let cp = <u32>hex4(r + 2);
      if (cp >= 0xd800 && cp <= 0xdbff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (<u32>hex4(r + 8) - 0xdc00);
        r += 12;
      } else r += 6;
      w += utf8Encode(cp, w);
      continue;
    }
    let b: u32 = e; // \" \\ \/
    if (e == 0x62) b = 0x08;
    else if (e == 0x66) b = 0x0c;
    else if (e == 0x6e) b = 0x0a;
    else if (e == 0x72) b = 0x0d;
    else if (e == 0x74) b = 0x09;
    store<u8>(w++, <u8>b);
    r += 2;
  }
  stringAddr = dst;
  stringLength = <u32>(w - dst);
  return q + 1;
}

/** True when the `n` bytes at `p` (in the input) spell the ASCII literal `lit`. */
function matchLiteral(p: usize, lit: string): bool {
  const n = <usize>lit.length;
  if (p + n > inputEnd) return false;
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>lit.charCodeAt(<i32>i)) return false;
  }
  return true;
}

/** Close the innermost container: copy its children into the arena and write its Node. */
function closeContainer(): i32 {
  depth--;
  const frame = frames + <usize>depth * FRAME_SIZE;
  const kind = <u8>load<u32>(frame);
  const start = load<u32>(frame, 4);
  const slot = load<u32>(frame, 8);
  const records = scratch + <usize>start;
  let block: usize;
  let count: u32;
  if (kind == KIND_ARRAY) {
    count = (scratchTop - start) / ELEMENT_RECORD;
    block = arenaAlloc(<usize>count * NODE_SIZE);
    memory.copy(block, records, <usize>count * NODE_SIZE);
  } else {
    count = (scratchTop - start) / MEMBER_RECORD;
    const dup = findDuplicateKey(records, MEMBER_RECORD, count);
    if (dup >= 0) {
      const m = records + <usize>dup * MEMBER_RECORD;
      return setJsonError(ERR_DUPLICATE_KEY, <i64>load<u32>(m, 24), JsonErrorDetail.DUPLICATE_KEY,
        <usize>load<u32>(m), <usize>load<u32>(m, 4));
    }
    block = arenaAlloc(<usize>count * MEMBER_SIZE);
    for (let i: u32 = 0; i < count; i++) {
      memory.copy(block + <usize>i * MEMBER_SIZE, records + <usize>i * MEMBER_RECORD, MEMBER_SIZE);
    }
  }
  scratchTop = start;
  writeNode(slotAddress(slot), kind, <u32>block, count, 0);
  return 0;
}

/**
 * Parse the member key whose opening quote should be at `p` (after whitespace) and the colon after
 * it; push the member record. Returns the address after the colon (the member's slot is
 * pendingSlot), or 0 after recording an error.
 */
let pendingSlot: u32 = 0;
function parseMemberKey(p: usize): usize {
  p = skipWhitespace(p);
  if (p >= inputEnd) return failNull(ERR_INVALID_JSON, p, JsonErrorDetail.UNEXPECTED_END);
  if (load<u8>(p) != 0x22) return failNull(ERR_INVALID_JSON, p, JsonErrorDetail.EXPECTED_KEY);
  const keyAt = p;
  p = parseString(p);
  if (p == 0) return 0;
  p = skipWhitespace(p);
  if (p >= inputEnd) return failNull(ERR_INVALID_JSON, p, JsonErrorDetail.UNEXPECTED_END);
  if (load<u8>(p) != 0x3a) return failNull(ERR_INVALID_JSON, p, JsonErrorDetail.EXPECTED_COLON);
  const at = scratchPush(MEMBER_RECORD);
  const m = scratch + <usize>at;
  store<u32>(m, <u32>stringAddr);
  store<u32>(m, stringLength, 4);
  store<u32>(m, <u32>(keyAt - inputBase), 24);
  store<u32>(m, 0, 28);
  pendingSlot = at + 8;
  return p + 1;
}

/**
 * Parse `len` bytes of JSON at `ptr` into a tape in arena memory (the caller resets the arena).
 * Returns 0 (root at jsonRoot()) or ERR_REQUEST_TOO_LARGE, ERR_INVALID_JSON, ERR_INVALID_UTF8,
 * ERR_DUPLICATE_KEY, ERR_TOO_DEEP, ERR_TOO_MANY_VALUES (details for writeJsonError).
 */
export function parseJson(ptr: usize, len: u32): i32 {
  inputBase = ptr;
  inputEnd = ptr + <usize>len;
  errorCode = 0;
  depth = 0;
  scratchTop = 0;
  valueCount = 0;
  rootNode = 0;
  if (len > MAX_REQUEST_BYTES) {
    return setJsonError(ERR_REQUEST_TOO_LARGE, <i64>MAX_REQUEST_BYTES, JsonErrorDetail.TOO_LARGE, 0, 0);
  }
  if (len >= 3 && load<u8>(ptr) == 0xef && load<u8>(ptr + 1) == 0xbb && load<u8>(ptr + 2) == 0xbf) {
    return setJsonError(ERR_INVALID_JSON, 0, JsonErrorDetail.BOM, 0, 0);
  }
  const root = arenaAlloc(NODE_SIZE);
  rootNode = root;
  let p = ptr;
  let slot = ROOT_SLOT;
  let wantValue = true;
  while (true) {
    if (wantValue) {
      p = skipWhitespace(p);
      if (p >= inputEnd) return fail(ERR_INVALID_JSON, p, JsonErrorDetail.UNEXPECTED_END);
      if (++valueCount > MAX_JSON_NODES) {
        return setJsonError(ERR_TOO_MANY_VALUES, offsetOf(p), JsonErrorDetail.TOO_MANY_VALUES, 0, 0);
      }
      const c = <u32>load<u8>(p);
      if (c == 0x5b || c == 0x7b) { // [ {
        if (depth >= MAX_JSON_DEPTH || depth >= FRAME_COUNT - 1) return setJsonError(ERR_TOO_DEEP, offsetOf(p), JsonErrorDetail.TOO_DEEP, 0, 0);
        const kind = c == 0x5b ? KIND_ARRAY : KIND_OBJECT;
        const frame = frames + <usize>depth * FRAME_SIZE;
        store<u32>(frame, <u32>kind);
        store<u32>(frame, scratchTop, 4);
        store<u32>(frame, slot, 8);
        depth++;
        p = skipWhitespace(p + 1);
        if (p < inputEnd && load<u8>(p) == (c == 0x5b ? 0x5d : 0x7d)) { // empty: ] }
          p++;
          closeContainer();
          wantValue = false;
          continue;
        }
        if (kind == KIND_ARRAY) {
          slot = scratchPush(ELEMENT_RECORD);
        } else {
          p = parseMemberKey(p);
          if (p == 0) return errorCode;
          slot = pendingSlot;
        }
        continue; // parse the first child
      }
      const node = slotAddress(slot);
      if (c == 0x22) {
        p = parseString(p);
        if (p == 0) return errorCode;
        writeNode(slotAddress(slot), KIND_STRING, <u32>stringAddr, stringLength, stringCodePoints);
      } else if (c == 0x2d || c - 0x30 < 10) {
        const e = scanNumber(p, inputEnd);
        if (e == 0) return fail(ERR_INVALID_JSON, numberErrorAt, JsonErrorDetail.BAD_NUMBER);
        const n = e - p;
        store<u32>(node, <u32>KIND_NUMBER | (<u32>n << 8));
        store<u32>(node, <u32>p, 4);
        store<f64>(node, parseNumberValue(p, n), 8);
        p = e;
      } else if (c == 0x74) {
        if (!matchLiteral(p, "true")) return fail(ERR_INVALID_JSON, p, JsonErrorDetail.BAD_LITERAL);
        writeNode(node, KIND_TRUE, 0, 0, 0);
        p += 4;
      } else if (c == 0x66) {
        if (!matchLiteral(p, "false")) return fail(ERR_INVALID_JSON, p, JsonErrorDetail.BAD_LITERAL);
        writeNode(node, KIND_FALSE, 0, 0, 0);
        p += 5;
      } else if (c == 0x6e) {
        if (!matchLiteral(p, "null")) return fail(ERR_INVALID_JSON, p, JsonErrorDetail.BAD_LITERAL);
        writeNode(node, KIND_NULL, 0, 0, 0);
        p += 4;
      } else {
        return fail(ERR_INVALID_JSON, p, JsonErrorDetail.UNEXPECTED_CHAR);
      }
      wantValue = false;
    }
    // After a value: end of input at the top level, else `,` or the closing bracket.
    p = skipWhitespace(p);
    if (depth == 0) {
      if (p < inputEnd) return fail(ERR_INVALID_JSON, p, JsonErrorDetail.TRAILING);
      return 0;
    }
    if (p >= inputEnd) return fail(ERR_INVALID_JSON, p, JsonErrorDetail.UNEXPECTED_END);
    const kind = <u8>load<u32>(frames + <usize>(depth - 1) * FRAME_SIZE);
    const c = <u32>load<u8>(p);
    if (c == 0x2c) { // ,
      p++;
      if (kind == KIND_ARRAY) {
        slot = scratchPush(ELEMENT_RECORD);
      } else {
        p = parseMemberKey(p);
        if (p == 0) return errorCode;
        slot = pendingSlot;
      }
      wantValue = true;
      continue;
    }
    if ((kind == KIND_ARRAY && c == 0x5d) || (kind == KIND_OBJECT && c == 0x7d)) {
      p++;
      const code = closeContainer();
      if (code != 0) return code;
      continue;
    }
    return fail(ERR_INVALID_JSON, p, kind == KIND_ARRAY ? JsonErrorDetail.EXPECTED_ARRAY_SEP : JsonErrorDetail.EXPECTED_OBJECT_SEP);
  }
}

/** Root Node of the last tape parsed (or validated, see engine/request.ts validateTape). */
export function jsonRoot(): usize {
  return rootNode;
}

/** Make `node` the root that jsonRoot() reports (used for host-written tapes). */
export function setJsonRoot(node: usize): void {
  rootNode = node;
}

// ---------------------------------------------------------------------------------------------
// Error JSON

function outHexByte(b: u8): void {
  const hi = b >> 4, lo = b & 15;
  outByte(hi < 10 ? 0x30 + hi : 0x57 + hi);
  outByte(lo < 10 ? 0x30 + lo : 0x57 + lo);
}

/** The offending byte as "character `x`" when printable ASCII, else "byte 0xNN". */
function outOffendingByte(): void {
  const b = load<u8>(errorTextPtr);
  if (b >= 0x20 && b < 0x7f) {
    outAscii("character `");
    outJsonStringContent(errorTextPtr, 1);
    outByte(0x60);
  } else {
    outAscii("byte 0x");
    outHexByte(b);
  }
}

function outErrorMessage(): void {
  switch (errorDetail) {
    case JsonErrorDetail.UNEXPECTED_END: outAscii("unexpected end of input"); break;
    case JsonErrorDetail.UNEXPECTED_CHAR:
      if (errorTextLen == 0) { outAscii("unexpected end of input"); break; }
      outAscii("unexpected "); outOffendingByte(); break;
    case JsonErrorDetail.TRAILING:
      outAscii("unexpected "); outOffendingByte(); outAscii(" after the JSON value"); break;
    case JsonErrorDetail.BOM: outAscii("a byte order mark is not allowed"); break;
    case JsonErrorDetail.CONTROL_CHAR:
      outAscii("control character 0x"); outHexByte(load<u8>(errorTextPtr)); outAscii(" must be escaped in a string"); break;
    case JsonErrorDetail.BAD_ESCAPE: {
      const b = load<u8>(errorTextPtr);
      if (b >= 0x20 && b < 0x7f) {
        outAscii("invalid escape `\\\\"); outJsonStringContent(errorTextPtr, 1); outByte(0x60);
      } else outAscii("invalid escape sequence");
      break;
    }
    case JsonErrorDetail.BAD_UNICODE_ESCAPE: outAscii("invalid unicode escape: `\\\\u` needs four hex digits"); break;
    case JsonErrorDetail.LONE_SURROGATE:
      outAscii("lone surrogate `"); outJsonStringContent(errorTextPtr, errorTextLen); outAscii("` in string"); break;
    case JsonErrorDetail.BAD_NUMBER: outAscii("invalid number"); break;
    case JsonErrorDetail.BAD_LITERAL: outAscii("invalid literal (expected `true`, `false` or `null`)"); break;
    case JsonErrorDetail.EXPECTED_COLON: outAscii("expected `:` after an object key"); break;
    case JsonErrorDetail.EXPECTED_KEY: outAscii("expected a string object key"); break;
    case JsonErrorDetail.EXPECTED_ARRAY_SEP: outAscii("expected `,` or `]` in array"); break;
    case JsonErrorDetail.EXPECTED_OBJECT_SEP: outAscii("expected `,` or `}` in object"); break;
    case JsonErrorDetail.UNTERMINATED_STRING: outAscii("unterminated string"); break;
    case JsonErrorDetail.BAD_UTF8: outAscii("invalid UTF-8 sequence in string"); break;
    case JsonErrorDetail.DUPLICATE_KEY:
      outAscii("duplicate key `"); outJsonStringContent(errorTextPtr, errorTextLen); outByte(0x60); break;
    case JsonErrorDetail.TOO_DEEP:
      outAscii("JSON nesting is deeper than the limit of "); outU64(MAX_JSON_DEPTH); break;
    case JsonErrorDetail.TOO_MANY_VALUES:
      outAscii("request has more than "); outU64(MAX_JSON_NODES); outAscii(" values"); break;
    case JsonErrorDetail.TOO_LARGE:
      outAscii("request is larger than "); outU64(MAX_REQUEST_BYTES); outAscii(" bytes"); break;
    case JsonErrorDetail.BAD_TAPE:
      outAscii("invalid request tape: "); outJsonStringContentAscii(tapeErrorMessage); break;
    default: outJsonStringContentAscii(errorMessage(errorCode));
  }
}

function outJsonStringContentAscii(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = <u8>s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) outByte(0x5c);
    outByte(c);
  }
}

/**
 * Write `{"error":{"code":"<name>","message":"<message>","offset":<n>}}` to the output buffer
 * (replacing its contents). For the code of the last recorded error the message is specific and
 * the offset is included when known; for any other code, the code's default message.
 */
export function writeJsonError(code: i32): void {
  outReset();
  outAscii("{\"error\":{\"code\":\"");
  outAscii(errorName(code));
  outAscii("\",\"message\":\"");
  if (code == errorCode) outErrorMessage();
  else outJsonStringContentAscii(errorMessage(code));
  outByte(0x22);
  if (code == errorCode && errorOffset >= 0) {
    outAscii(",\"offset\":");
    outU64(<u64>errorOffset);
  }
  outAscii("}}");
}

/** Code of the last recorded error (0 when the last parse succeeded). */
export function jsonErrorCode(): i32 {
  return errorCode;
}
