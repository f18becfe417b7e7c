// Engine stage: request validation. Input: a tape (parsed by engine/json.ts, or written by a host
// and first checked here by validateTape). Output: 0 and the request's parts (reqAgent, reqTool,
// ...), or an error code; writeRequestError renders the error JSON.
//
// Shape (docs/semantics.md "Request validation"): an object with exactly `agent` (object: `id`
// non-empty string, optional `tenant` string, optional `scopes` list of strings), `tool` and
// `action` (non-empty strings), optional `params` and `context` (objects), optional
// `override_token` (string).

import { arenaAlloc, arenaMark, arenaRelease } from "./arena";
import { outAscii, outByte, outJsonStringContent, outReset } from "./out";
import {
  ERR_DUPLICATE_KEY, ERR_INVALID_REQUEST, ERR_INVALID_UTF8, ERR_TOO_DEEP, ERR_TOO_MANY_VALUES,
  MAX_JSON_DEPTH, MAX_JSON_NODES,
} from "./generated/bytecode";
import {
  JsonErrorDetail, jsonErrorCode, setJsonError, setJsonRoot, setTapeError, writeJsonError,
} from "./json";
import { scanNumber } from "./json-number";
import {
  KIND_ARRAY, KIND_NUMBER, KIND_OBJECT, KIND_STRING, MEMBER_SIZE, NODE_SIZE, containerCount,
  bytesEqual, containerPtr, findDuplicateKey, memberKeyLen, memberKeyPtr, memberValue, nodeKind,
  numberLexemeLen, numberLexemePtr, numberValue, stringCodePoints, stringLen, stringPtr,
} from "./tape";
import { utf8CountCodePoints } from "./utf8";

// ---------------------------------------------------------------------------------------------
// The last validated request

let agentNode: usize = 0;
let agentIdNode: usize = 0;
let tenantNode: usize = 0;
let scopesNode: usize = 0;
let toolNode: usize = 0;
let actionNode: usize = 0;
let paramsNode: usize = 0;
let contextNode: usize = 0;
let overrideTokenNode: usize = 0;

/** The request's `agent` object Node. */
export function reqAgent(): usize { return agentNode; }
/** The `agent.id` string Node. */
export function reqAgentId(): usize { return agentIdNode; }
/** The `agent.tenant` string Node, or 0 when absent. */
export function reqAgentTenant(): usize { return tenantNode; }
/** The `agent.scopes` array Node, or 0 when absent. */
export function reqAgentScopes(): usize { return scopesNode; }
/** The `tool` string Node. */
export function reqTool(): usize { return toolNode; }
/** The `action` string Node. */
export function reqAction(): usize { return actionNode; }
/** The `params` object Node, or 0 when absent (the VM treats it as `{}`). */
export function reqParams(): usize { return paramsNode; }
/** The `context` object Node, or 0 when absent (the VM treats it as `{}`). */
export function reqContext(): usize { return contextNode; }
/** The `override_token` string Node, or 0 when absent. */
export function reqOverrideToken(): usize { return overrideTokenNode; }

// ---------------------------------------------------------------------------------------------
// Shape errors

// The message is "<subject> must be <requirement>" or "<subject> has unknown key `<key>`".
let shapeFailed = false;
let shapeSubject: string = "";
let shapeRequirement: string = ""; // "" for the unknown-key form
let shapeKeyPtr: usize = 0;
let shapeKeyLen: usize = 0;

function mustBe(subject: string, requirement: string): i32 {
  shapeFailed = true;
  shapeSubject = subject;
  shapeRequirement = requirement;
  return ERR_INVALID_REQUEST;
}

function unknownKey(subject: string, member: usize): i32 {
  shapeFailed = true;
  shapeSubject = subject;
  shapeRequirement = "";
  shapeKeyPtr = memberKeyPtr(member);
  shapeKeyLen = memberKeyLen(member);
  return ERR_INVALID_REQUEST;
}

// The request's keys as static bytes: matching compares lengths, then at most two loads.
const K_ID: usize = memory.data<u8>([0x69, 0x64]);
const K_TENANT: usize = memory.data<u8>([0x74, 0x65, 0x6e, 0x61, 0x6e, 0x74]);
const K_SCOPES: usize = memory.data<u8>([0x73, 0x63, 0x6f, 0x70, 0x65, 0x73]);
const K_AGENT: usize = memory.data<u8>([0x61, 0x67, 0x65, 0x6e, 0x74]);
const K_TOOL: usize = memory.data<u8>([0x74, 0x6f, 0x6f, 0x6c]);
const K_ACTION: usize = memory.data<u8>([0x61, 0x63, 0x74, 0x69, 0x6f, 0x6e]);
const K_PARAMS: usize = memory.data<u8>([0x70, 0x61, 0x72, 0x61, 0x6d, 0x73]);
const K_CONTEXT: usize = memory.data<u8>([0x63, 0x6f, 0x6e, 0x74, 0x65, 0x78, 0x74]);
const K_OVERRIDE_TOKEN: usize = memory.data<u8>([
  0x6f, 0x76, 0x65, 0x72, 0x72, 0x69, 0x64, 0x65, 0x5f, 0x74, 0x6f, 0x6b, 0x65, 0x6e,
]);

/** True when member `m`'s key is exactly the `n` static bytes at `lit`. */
// @ts-ignore: decorator
@inline function keyIs(m: usize, lit: usize, n: u32): bool {
  return memberKeyLen(m) == n && bytesEqual(memberKeyPtr(m), lit, n);
}

function isNonEmptyString(node: usize): bool {
  return nodeKind(node) == KIND_STRING && stringLen(node) > 0;
}

function validateAgent(agent: usize): i32 {
  if (nodeKind(agent) != KIND_OBJECT) return mustBe("request.agent", "an object");
  const n = containerCount(agent);
  for (let i: u32 = 0; i < n; i++) {
    const m = containerPtr(agent) + <usize>i * MEMBER_SIZE;
    const v = memberValue(m);
    if (keyIs(m, K_ID, 2)) {
      if (!isNonEmptyString(v)) return mustBe("request.agent.id", "a non-empty string");
      agentIdNode = v;
    } else if (keyIs(m, K_TENANT, 6)) {
      if (nodeKind(v) != KIND_STRING) return mustBe("request.agent.tenant", "a string");
      tenantNode = v;
    } else if (keyIs(m, K_SCOPES, 6)) {
      if (nodeKind(v) != KIND_ARRAY) return mustBe("request.agent.scopes", "a list of strings");
      const count = containerCount(v);
      for (let j: u32 = 0; j < count; j++) {
        if (nodeKind(containerPtr(v) + <usize>j * NODE_SIZE) != KIND_STRING) {
          return mustBe("request.agent.scopes", "a list of strings");
        }
      }
      scopesNode = v;
    } else return unknownKey("request.agent", m);
  }
  if (agentIdNode == 0) return mustBe("request.agent.id", "a non-empty string");
  agentNode = agent;
  return 0;
}

/**
 * Check the shape of the request whose root Node is `root` (keys are already unique). Returns 0
 * (parts available through reqAgent(), reqTool(), ...) or ERR_INVALID_REQUEST.
 */
export function validateRequest(root: usize): i32 {
  agentNode = 0; agentIdNode = 0; tenantNode = 0; scopesNode = 0; toolNode = 0; actionNode = 0;
  paramsNode = 0; contextNode = 0; overrideTokenNode = 0;
  shapeFailed = false;
  if (root == 0 || nodeKind(root) != KIND_OBJECT) return mustBe("request", "an object");
  const n = containerCount(root);
  let agent: usize = 0;
  for (let i: u32 = 0; i < n; i++) {
    const m = containerPtr(root) + <usize>i * MEMBER_SIZE;
    const v = memberValue(m);
    if (keyIs(m, K_AGENT, 5)) {
      agent = v;
      const code = validateAgent(v);
      if (code != 0) return code;
    } else if (keyIs(m, K_TOOL, 4)) {
      if (!isNonEmptyString(v)) return mustBe("request.tool", "a non-empty string");
      toolNode = v;
    } else if (keyIs(m, K_ACTION, 6)) {
      if (!isNonEmptyString(v)) return mustBe("request.action", "a non-empty string");
      actionNode = v;
    } else if (keyIs(m, K_PARAMS, 6)) {
      if (nodeKind(v) != KIND_OBJECT) return mustBe("request.params", "an object");
      paramsNode = v;
    } else if (keyIs(m, K_CONTEXT, 7)) {
      if (nodeKind(v) != KIND_OBJECT) return mustBe("request.context", "an object");
      contextNode = v;
    } else if (keyIs(m, K_OVERRIDE_TOKEN, 14)) {
      if (nodeKind(v) != KIND_STRING) return mustBe("request.override_token", "a string");
      overrideTokenNode = v;
    } else return unknownKey("request", m);
  }
  if (agent == 0) return mustBe("request.agent", "an object");
  if (toolNode == 0) return mustBe("request.tool", "a non-empty string");
  if (actionNode == 0) return mustBe("request.action", "a non-empty string");
  return 0;
}

/**
 * Write the error JSON for the last failed validateRequest or validateTape (replacing the output):
 * shape errors as `{"error":{"code":"invalid_request","message":"request.agent.id must be a
 * non-empty string"}}`, tape errors as writeJsonError does.
 */
export function writeRequestError(): void {
  if (!shapeFailed) { writeJsonError(jsonErrorCode()); return; }
  outReset();
  outAscii("{\"error\":{\"code\":\"invalid_request\",\"message\":\"");
  outAscii(shapeSubject);
  if (shapeRequirement.length > 0) {
    outAscii(" must be ");
    outAscii(shapeRequirement);
  } else {
    outAscii(" has unknown key `");
    outJsonStringContent(shapeKeyPtr, shapeKeyLen);
    outByte(0x60);
  }
  outAscii("\"}}");
}

// ---------------------------------------------------------------------------------------------
// Host-written tapes

let tapeBase: usize = 0;
let tapeEnd: usize = 0;

/** True when [addr, addr + size) lies inside the tape (64-bit arithmetic: no wrap-around). */
// @ts-ignore: decorator
@inline function inTape(addr: u64, size: u64): bool {
  return addr >= <u64>tapeBase && addr + size <= <u64>tapeEnd;
}

/**
 * Code points in the `n` bytes at `p` if they are valid UTF-8, else a negative number (as
 * utf8CountCodePoints). Pure ASCII, the common case, is checked eight bytes per step inline.
 */
// @ts-ignore: decorator
@inline function countCodePoints(p: usize, n: usize): i64 {
  let i: usize = 0;
  while (i + 8 <= n && (load<u64>(p + i) & 0x8080808080808080) == 0) i += 8;
  while (i < n && load<u8>(p + i) < 0x80) i++;
  return i == n ? <i64>n : utf8CountCodePoints(p, n);
}

/** Check one Node's own fields (not its children). 0 or an error code. */
// @ts-ignore: decorator
@inline function checkNode(node: usize): i32 {
  const kind = nodeKind(node);
  if (kind > KIND_OBJECT) return setTapeError(ERR_INVALID_REQUEST, "unknown node kind");
  if (kind == KIND_STRING) {
    const p = <u64>stringPtr(node);
    const n = <u64>stringLen(node);
    if (!inTape(p, n)) return setTapeError(ERR_INVALID_REQUEST, "string outside the tape");
    const count = countCodePoints(<usize>p, <usize>n);
    if (count < 0) return setTapeError(ERR_INVALID_UTF8, "string is not valid UTF-8");
    if (count != <i64>stringCodePoints(node)) return setTapeError(ERR_INVALID_REQUEST, "wrong code point count");
  } else if (kind == KIND_NUMBER) {
    const v = numberValue(node);
    if (v != v) return setTapeError(ERR_INVALID_REQUEST, "number is NaN");
    const p = <u64>numberLexemePtr(node);
    const n = <u64>numberLexemeLen(node);
    if (p != 0) {
      if (n == 0 || !inTape(p, n)) return setTapeError(ERR_INVALID_REQUEST, "number lexeme outside the tape");
      if (scanNumber(<usize>p, <usize>(p + n)) != <usize>(p + n)) {
        return setTapeError(ERR_INVALID_REQUEST, "number lexeme is not a JSON number");
      }
    }
  } else if (kind == KIND_ARRAY || kind == KIND_OBJECT) {
    const p = <u64>containerPtr(node);
    const n = <u64>containerCount(node);
    if (n > 0) {
      const size = n * <u64>(kind == KIND_ARRAY ? NODE_SIZE : MEMBER_SIZE);
      if ((p & 3) != 0 || !inTape(p, size)) return setTapeError(ERR_INVALID_REQUEST, "children outside the tape");
    }
    if (kind == KIND_OBJECT) {
      for (let i: u64 = 0; i < n; i++) {
        const m = <usize>(p + i * <u64>MEMBER_SIZE);
        const kp = <u64>memberKeyPtr(m);
        const kn = <u64>memberKeyLen(m);
        if (!inTape(kp, kn)) return setTapeError(ERR_INVALID_REQUEST, "key outside the tape");
        if (countCodePoints(<usize>kp, <usize>kn) < 0) return setTapeError(ERR_INVALID_UTF8, "key is not valid UTF-8");
      }
      const dup = findDuplicateKey(<usize>p, MEMBER_SIZE, <u32>n);
      if (dup >= 0) {
        const m = <usize>p + <usize>dup * MEMBER_SIZE;
        return setJsonError(ERR_DUPLICATE_KEY, -1, JsonErrorDetail.DUPLICATE_KEY, memberKeyPtr(m), memberKeyLen(m));
      }
    }
  }
  return 0;
}

/**
 * Check a tape written by a host: `used` bytes at `base`, root Node at offset `root` from `base`.
 * Every Node, Member, string and lexeme must lie inside [base, base + used), Nodes 4-aligned,
 * kinds known, strings and keys valid UTF-8 with correct code point counts, number lexemes valid
 * JSON numbers, object keys unique, nesting at most MAX_JSON_DEPTH and at most MAX_JSON_NODES
 * values visited (which also bounds a tape whose records are shared or form cycles). Then the
 * request shape as validateRequest. Returns 0 (jsonRoot() is the root) or an error code.
 */
export function validateTape(base: usize, used: u32, root: usize): i32 {
  shapeFailed = false;
  // The region must exist: a host could pass any numbers, and a load past memory would trap.
  if (<u64>base + <u64>used > (<u64>memory.size() << 16)) {
    return setTapeError(ERR_INVALID_REQUEST, "tape outside memory");
  }
  tapeBase = base;
  tapeEnd = base + <usize>used;
  if ((root & 3) != 0 || (base & 3) != 0 || <u64>root + <u64>NODE_SIZE > <u64>used) {
    return setTapeError(ERR_INVALID_REQUEST, "root node outside the tape");
  }
  const rootNode = base + root;
  // Iterative walk; the stack holds (container Node, next child index) per open container.
  const mark = arenaMark();
  const stack = arenaAlloc(<usize>(MAX_JSON_DEPTH + 1) * 8);
  let depth: u32 = 0;
  let visited: u32 = 1;
  let code = checkNode(rootNode);
  if (code == 0 && (nodeKind(rootNode) == KIND_ARRAY || nodeKind(rootNode) == KIND_OBJECT)) {
    store<u32>(stack, <u32>rootNode);
    store<u32>(stack, 0, 4);
    depth = 1;
  }
  while (code == 0 && depth > 0) {
    const frame = stack + <usize>(depth - 1) * 8;
    const node = <usize>load<u32>(frame);
    const index = load<u32>(frame, 4);
    if (index >= containerCount(node)) { depth--; continue; }
    store<u32>(frame, index + 1, 4);
    const child = nodeKind(node) == KIND_ARRAY
      ? containerPtr(node) + <usize>index * NODE_SIZE
      : memberValue(containerPtr(node) + <usize>index * MEMBER_SIZE);
    if (++visited > MAX_JSON_NODES) { code = setTapeError(ERR_TOO_MANY_VALUES, "too many values"); break; }
    code = checkNode(child);
    if (code != 0) break;
    const kind = nodeKind(child);
    if (kind == KIND_ARRAY || kind == KIND_OBJECT) {
      if (depth >= MAX_JSON_DEPTH) { code = setTapeError(ERR_TOO_DEEP, "nesting deeper than the limit"); break; }
      const next = stack + <usize>depth * 8;
      store<u32>(next, <u32>child);
      store<u32>(next, 0, 4);
      depth++;
    }
  }
  arenaRelease(mark);
  if (code != 0) return code;
  setJsonRoot(rootNode);
  return validateRequest(rootNode);
}
