// Record stage: the identity of a request the engine rejected, read the way the JavaScript hosts
// read it. Input: the raw request bytes. Output: whether they are JSON to JavaScript, and the
// spans (escaped JSON string contents, between the quotes) of the request's `tool`, `action`,
// `agent.id` and `agent.tenant`, each only when it is a string, for decision records
// (docs/telemetry.md §2: "agent/tool/action only if the bytes parse as JSON and hold them as the
// right types").
//
// telemetry/record.ts decodes the bytes with a fatal UTF-8 TextDecoder (which drops a leading
// byte order mark) and calls JSON.parse, so this reader follows JSON.parse, not the engine's
// stricter reader: any nesting depth, any size, duplicate keys (the last one wins) and escaped
// lone surrogates are all accepted. A value holding a lone surrogate is found like any other
// string; writing it into a record is what fails (JCS cannot represent it).
//
// One pass, no recursion. Open containers are remembered one bit each in a u64 and, past 64
// levels, one byte each in arena memory (depth is at most the input length); the caller releases
// the arena.

import { arenaAlloc } from "../arena";
import { scanNumber } from "../json-number";
import { utf8CountCodePoints, utf8Encode } from "../utf8";
import { ByteSink, writeJcsEscape } from "./jcs";

/** Span of the request's `tool`. */
export const IDENTITY_TOOL: i32 = 0;
/** Span of the request's `action`. */
export const IDENTITY_ACTION: i32 = 1;
/** Span of the request's `agent.id`. */
export const IDENTITY_AGENT_ID: i32 = 2;
/** Span of the request's `agent.tenant`. */
export const IDENTITY_AGENT_TENANT: i32 = 3;

// Span of each member's string: start and end (exclusive) addresses; end == 0: absent.
const spans = memory.data(4 * 16, 8);
/** Whether the last scanned request's (last) `agent` member is an object. */
let agentIsObject = false;

const KEY_OTHER: i32 = -1;
const KEY_AGENT: i32 = 4;

/** Start of member `which`'s string contents (valid when identitySpanEnd(which) != 0). */
export function identitySpanStart(which: i32): usize { return load<usize>(spans + (<usize>which << 4)); }
/** End (exclusive) of member `which`'s string contents, or 0 when it is absent or not a string. */
export function identitySpanEnd(which: i32): usize { return load<usize>(spans + (<usize>which << 4), 8); }
/** Whether the request's `agent` is an object (its `id` and `tenant` count only then). */
export function identityAgentIsObject(): bool { return agentIsObject; }

function setSpan(which: i32, start: usize, end: usize): void {
  store<usize>(spans + (<usize>which << 4), start);
  store<usize>(spans + (<usize>which << 4), end, 8);
}

// ---------------------------------------------------------------------------------------------
// Scanner state

let end: usize = 0;
let depth: u32 = 0;
let smallStack: u64 = 0; // bit d: container at depth d + 1 is an object (d < 64)
let bigStack: usize = 0; // one byte per level once depth passes 64 (arena)
let inputLength: usize = 0;
// Depth of the object that is the current `agent` value while it is open (2), else 0.
let agentDepth: u32 = 0;

function pushContainer(isObject: bool): void {
  if (depth < 64) {
    if (isObject) smallStack |= <u64>1 << depth; else smallStack &= ~(<u64>1 << depth);
  } else {
    if (bigStack == 0) bigStack = arenaAlloc(inputLength + 1);
    store<u8>(bigStack + <usize>depth, isObject ? 1 : 0);
  }
  depth++;
}

/** Whether the innermost open container is an object (depth > 0). */
function topIsObject(): bool {
  const d = depth - 1;
  return d < 64 ? ((smallStack >> d) & 1) != 0 : load<u8>(bigStack + <usize>d) != 0;
}

// @ts-ignore: decorator
@inline function isWhitespace(c: u32): bool { return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09; }

function skipWhitespace(p: usize): usize {
  while (p < end && isWhitespace(load<u8>(p))) p++;
  return p;
}

function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** The code unit of the four hex digits at `p` (caller checked p + 4 <= its end), or -1. */
function hex4(p: usize): i32 {
  const a = hexValue(load<u8>(p)), b = hexValue(load<u8>(p + 1));
  const c = hexValue(load<u8>(p + 2)), d = hexValue(load<u8>(p + 3));
  if ((a | b | c | d) < 0) return -1;
  return (a << 12) | (b << 8) | (c << 4) | d;
}

/**
 * The address after the string whose opening quote is at `p`, or 0 when it is not a JSON.parse
 * string (raw control character, bad escape, no closing quote). UTF-8 was checked beforehand.
 */
function scanString(p: usize): usize {
  let q = p + 1;
  while (q < end) {
    const c = <u32>load<u8>(q);
    if (c == 0x22) return q + 1;
    if (c < 0x20) return 0;
    if (c != 0x5c) { q++; continue; }
    if (q + 1 >= end) return 0;
    const e = <u32>load<u8>(q + 1);
    if (e == 0x75) {
      if (q + 6 > end || hex4(q + 2) < 0) return 0;
      q += 6;
    } else if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
      q += 2;
    } else return 0;
  }
  return 0;
}

/**
 * Whether the escaped string contents [p, e) spell the ASCII word `word` (lower-case letters and
 * `_`, so only raw bytes and \u escapes can match).
 */
function contentsEqual(p: usize, e: usize, word: string): bool {
  const n = word.length;
  let i = 0;
  while (p < e) {
    if (i >= n) return false;
    let c = <i32>load<u8>(p);
    if (c == 0x5c) {
      if (load<u8>(p + 1) != 0x75) return false;
      c = hex4(p + 2);
      p += 6;
    } else p++;
    if (c != <i32>word.charCodeAt(i)) return false;
    i++;
  }
  return i == n;
}

/** The identity member a key names, given where the key is. */
function classifyKey(p: usize, e: usize): i32 {
  if (depth == 1) {
    if (contentsEqual(p, e, "tool")) return IDENTITY_TOOL;
    if (contentsEqual(p, e, "action")) return IDENTITY_ACTION;
    if (contentsEqual(p, e, "agent")) return KEY_AGENT;
  } else if (depth == 2 && agentDepth == 2) {
    if (contentsEqual(p, e, "id")) return IDENTITY_AGENT_ID;
    if (contentsEqual(p, e, "tenant")) return IDENTITY_AGENT_TENANT;
  }
  return KEY_OTHER;
}

// The key read by scanMemberKey.
let pendingKey: i32 = KEY_OTHER;

/** Read `"key" :` at `p` (after whitespace); the address after the colon, or 0. */
function scanMemberKey(p: usize): usize {
  p = skipWhitespace(p);
  if (p >= end || load<u8>(p) != 0x22) return 0;
  const after = scanString(p);
  if (after == 0) return 0;
  pendingKey = classifyKey(p + 1, after - 1);
  p = skipWhitespace(after);
  if (p >= end || load<u8>(p) != 0x3a) return 0;
  return p + 1;
}

/** True when the `n` bytes at `p` spell the ASCII literal `lit`. */
function matchLiteral(p: usize, lit: string): bool {
  const n = <usize>lit.length;
  if (p + n > end) return false;
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>lit.charCodeAt(<i32>i)) return false;
  }
  return true;
}

/**
 * Read `len` request bytes at `ptr` as telemetry/record.ts does. Returns true when JavaScript
 * parses them (then the identity spans are set: a member is present only when the request is an
 * object holding it as a string, and the agent's only when `agent` is an object); false when
 * they are not UTF-8 or not JSON (no identity). Uses arena memory for nesting past 64 levels.
 */
export function scanIdentity(ptr: usize, len: usize): bool {
  for (let i = 0; i < 4; i++) setSpan(i, 0, 0);
  agentIsObject = false;
  if (utf8CountCodePoints(ptr, len) < 0) return false;
  let p = ptr;
  end = ptr + len;
  // TextDecoder drops one leading byte order mark.
  if (len >= 3 && load<u8>(p) == 0xef && load<u8>(p + 1) == 0xbb && load<u8>(p + 2) == 0xbf) p += 3;
  depth = 0;
  smallStack = 0;
  bigStack = 0;
  inputLength = len;
  agentDepth = 0;
  pendingKey = KEY_OTHER;
  let wantValue = true;
  while (true) {
    if (wantValue) {
      p = skipWhitespace(p);
      if (p >= end) return false;
      const key = pendingKey;
      pendingKey = KEY_OTHER;
      // A later duplicate replaces an earlier member: forget what the earlier one set.
      if (key == KEY_AGENT) {
        agentIsObject = false;
        setSpan(IDENTITY_AGENT_ID, 0, 0);
        setSpan(IDENTITY_AGENT_TENANT, 0, 0);
      } else if (key != KEY_OTHER) {
        setSpan(key, 0, 0);
      }
      const c = <u32>load<u8>(p);
      if (c == 0x7b || c == 0x5b) { // { [
        const isObject = c == 0x7b;
        pushContainer(isObject);
        if (key == KEY_AGENT && isObject) { agentIsObject = true; agentDepth = depth; }
        p = skipWhitespace(p + 1);
        if (p < end && load<u8>(p) == (isObject ? 0x7d : 0x5d)) { // empty
          p++;
          depth--;
          if (depth < agentDepth) agentDepth = 0;
          wantValue = false;
          continue;
        }
        if (isObject) {
          p = scanMemberKey(p);
          if (p == 0) return false;
        }
        continue;
      }
      if (c == 0x22) {
        const after = scanString(p);
        if (after == 0) return false;
        if (key >= 0 && key < 4) setSpan(key, p + 1, after - 1);
        p = after;
      } else if (c == 0x2d || c - 0x30 < 10) {
        p = scanNumber(p, end);
        if (p == 0) return false;
      } else if (c == 0x74 && matchLiteral(p, "true")) p += 4;
      else if (c == 0x66 && matchLiteral(p, "false")) p += 5;
      else if (c == 0x6e && matchLiteral(p, "null")) p += 4;
      else return false;
      wantValue = false;
    }
    // After a value: the end of the input at the top level, else `,` or the closing bracket.
    p = skipWhitespace(p);
    if (depth == 0) return p == end;
    if (p >= end) return false;
    const c = <u32>load<u8>(p);
    const inObject = topIsObject();
    if (c == 0x2c) {
      p++;
      if (inObject) {
        p = scanMemberKey(p);
        if (p == 0) return false;
      }
      wantValue = true;
      continue;
    }
    if (c != (inObject ? 0x7d : 0x5d)) return false;
    p++;
    depth--;
    if (depth < agentDepth) agentDepth = 0;
  }
  return false;
}

/**
 * Append the escaped string contents [p, e) (checked by scanIdentity) as a canonical JSON string
 * literal. False when it holds a lone surrogate, which JCS cannot represent (the sink then holds
 * a partial string).
 */
export function writeJcsEscapedContents(sink: ByteSink, p: usize, e: usize): bool {
  sink.byte(0x22);
  while (p < e) {
    const c = <u32>load<u8>(p);
    if (c != 0x5c) { sink.byte(c); p++; continue; }
    const x = <u32>load<u8>(p + 1);
    if (x != 0x75) {
      // \" \\ \/ \b \f \n \r \t: the character, re-escaped as JCS wants it.
      let ch = x;
      if (x == 0x62) ch = 0x08;
      else if (x == 0x66) ch = 0x0c;
      else if (x == 0x6e) ch = 0x0a;
      else if (x == 0x72) ch = 0x0d;
      else if (x == 0x74) ch = 0x09;
      if (!writeJcsEscape(sink, ch)) sink.byte(ch);
      p += 2;
      continue;
    }
    let cp = <u32>hex4(p + 2);
    p += 6;
    if (cp >= 0xdc00 && cp <= 0xdfff) return false;
    if (cp >= 0xd800 && cp <= 0xdbff) {
      const low = p + 6 <= e && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75 ? hex4(p + 2) : -1;
      if (low < 0xdc00 || low > 0xdfff) return false;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (<u32>low - 0xdc00);
      p += 6;
    }
    if (cp < 0x80) {
      if (!writeJcsEscape(sink, cp)) sink.byte(cp);
    } else {
      const at = sink.reserve(4);
      sink.len += <usize>utf8Encode(cp, at);
    }
  }
  sink.byte(0x22);
  return true;
}
