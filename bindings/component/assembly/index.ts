// Component adapter (AssemblyScript): the Canonical ABI face of the engine for the WIT world
// `aegis:policy/engine-component` (bindings/component/aegis.wit). Input: the list argument the
// host lowered into memory through cabi_realloc. Output: return areas laid out as the Canonical
// ABI says, pointing at the engine's own output bytes. Only marshalling lives here: every
// decision, error code, message and offset comes from engine/ unchanged.
//
// AssemblyScript cannot spell the core export names the component model wants
// (`aegis:policy/engine@0.1.0#load`), so the functions below are exported as `engine_load`,
// `engine_evaluate` and `engine_bundle_digest` and scripts/build-component.ts renames them.
// Built with the engine's flags (`--runtime stub --use abort=`): the module has no imports.

import { input_ptr, load_bundle, evaluate_json, output_ptr, output_len, bundle_digest_ptr } from "../../../engine/index";
import { MAX_BUNDLE_BYTES, MAX_REQUEST_BYTES } from "../../../engine/generated/bytecode";
import { arenaReset } from "../../../engine/arena";
import { parseJson, jsonRoot } from "../../../engine/json";
import {
  KIND_NUMBER, KIND_OBJECT, KIND_STRING, containerCount, memberKeyLen, memberKeyPtr, memberValue, nodeKind, numberValue,
  objectGet, objectMember, stringLen, stringPtr,
} from "../../../engine/tape";

// The return area every export hands back (the results never fit in one core value). Layouts,
// per the Canonical ABI (a variant's payload is aligned to its widest case, 4 here):
//
//   result<_, error> and result<list<u8>, error>          28 bytes
//     +0  u8   0 = ok, 1 = err
//     ok:  +4 u32 address of the decision bytes  +8 u32 their length   (evaluate only)
//     err: +4 u32 code address   +8 u32 code length
//          +12 u32 message address  +16 u32 message length
//          +20 u8 offset present (0/1)  +24 u32 offset
//   option<string>                                        12 bytes
//     +0  u8   0 = none, 1 = some   +4 u32 address  +8 u32 length
//
// Everything it points at (output buffer, arena, the digest text) stays valid until the next call,
// which is all the host needs: it lifts the results before it calls in again.
const RET: usize = memory.data(32, 8);
const DIGEST_TEXT: usize = memory.data(71); // "sha256:" + 64 hex digits
const INTERNAL: usize = memory.data<u8>([0x69, 0x6e, 0x74, 0x65, 0x72, 0x6e, 0x61, 0x6c]); // "internal"
const KEY_ERROR: usize = memory.data<u8>([0x65, 0x72, 0x72, 0x6f, 0x72]); // "error"

/**
 * Lists longer than any input the engine accepts still have to land somewhere before the engine
 * can reject them: this block, reused and grown like the engine's own regions.
 */
let spillBuf: usize = 0;
let spillCap: usize = 0;

function spill(size: usize): usize {
  if (size > spillCap || spillBuf == 0) {
    spillBuf = heap.alloc(size);
    spillCap = size;
  }
  return spillBuf;
}

/**
 * Canonical ABI allocator. The host calls it once per call to place the one list argument of
 * `load` or `evaluate`: it gets the engine's input buffer itself, so the bytes are never copied
 * again and memory stops growing once the largest input was seen (the stub runtime never frees).
 */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (oldPtr == 0) {
    const p = newSize <= <usize>MAX_BUNDLE_BYTES ? <usize>input_ptr(<u32>newSize) : 0;
    return p != 0 ? p : spill(newSize);
  }
  // The Canonical ABI never grows a block it lowered; answer correctly anyway.
  if (newSize <= oldSize) return oldPtr;
  const p = heap.alloc(newSize);
  memory.copy(p, oldPtr, oldSize);
  return p;
}

/** True when the `n` bytes at `p` are the ASCII letters of `s`. */
function bytesAre(p: usize, n: u32, s: string): bool {
  if (n != <u32>s.length) return false;
  for (let i: u32 = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Fill the `error` case of the return area from the error JSON the engine just wrote,
 * `{"error":{"code":...,"message":...,"offset"?:...}}`, read with the engine's own JSON reader so
 * that escapes in the message come out as the characters they stand for.
 */
function returnEngineError(): usize {
  const out = output_ptr();
  const outLen = output_len();
  store<u8>(RET, 1);
  // Should the output ever not be that JSON, the host still gets the engine's words.
  store<u32>(RET, <u32>INTERNAL, 4);
  store<u32>(RET, 8, 8);
  store<u32>(RET, out, 12);
  store<u32>(RET, outLen, 16);
  store<u8>(RET, 0, 20);
  store<u32>(RET, 0, 24);
  arenaReset();
  if (parseJson(<usize>out, outLen) != 0) return RET;
  const inner = objectGet(jsonRoot(), KEY_ERROR, 5);
  if (inner == 0 || nodeKind(inner) != KIND_OBJECT) return RET;
  const n = containerCount(inner);
  for (let i: u32 = 0; i < n; i++) {
    const m = objectMember(inner, i);
    const v = memberValue(m);
    const kp = memberKeyPtr(m);
    const kn = memberKeyLen(m);
    const kind = nodeKind(v);
    if (kind == KIND_STRING && bytesAre(kp, kn, "code")) {
      store<u32>(RET, <u32>stringPtr(v), 4);
      store<u32>(RET, stringLen(v), 8);
    } else if (kind == KIND_STRING && bytesAre(kp, kn, "message")) {
      store<u32>(RET, <u32>stringPtr(v), 12);
      store<u32>(RET, stringLen(v), 16);
    } else if (kind == KIND_NUMBER && bytesAre(kp, kn, "offset")) {
      const offset = numberValue(v);
      if (offset >= 0 && offset <= <f64>u32.MAX_VALUE) {
        store<u8>(RET, 1, 20);
        store<u32>(RET, <u32>offset, 24);
      }
    }
  }
  return RET;
}

/** `load: func(bundle: list<u8>) -> result<_, error>`. */
export function engine_load(ptr: usize, len: u32): usize {
  let code: i32;
  if (len > MAX_BUNDLE_BYTES) {
    code = load_bundle(len); // rejected before any byte is read
  } else {
    const buf = <usize>input_ptr(len);
    if (buf != ptr) memory.copy(buf, ptr, len);
    code = load_bundle(len);
  }
  if (code != 0) return returnEngineError();
  store<u8>(RET, 0);
  return RET;
}

/** `evaluate: func(request: list<u8>) -> result<list<u8>, error>`. */
export function engine_evaluate(ptr: usize, len: u32): usize {
  // A request over the limit is too large whatever its bytes: the engine is told its length only,
  // exactly as the Node binding does, so both report the same error.
  const n: u32 = len > MAX_REQUEST_BYTES ? MAX_REQUEST_BYTES + 1 : len;
  const buf = <usize>input_ptr(n);
  if (n == len && buf != ptr) memory.copy(buf, ptr, len);
  if (evaluate_json(n) != 0) return returnEngineError();
  store<u8>(RET, 0);
  store<u32>(RET, output_ptr(), 4);
  store<u32>(RET, output_len(), 8);
  return RET;
}

/** `bundle-digest: func() -> option<string>`. */
export function engine_bundle_digest(): usize {
  const digest = <usize>bundle_digest_ptr();
  if (digest == 0) {
    store<u8>(RET, 0);
    return RET;
  }
  const prefix = "sha256:";
  for (let i = 0; i < 7; i++) store<u8>(DIGEST_TEXT + <usize>i, <u8>prefix.charCodeAt(i));
  for (let i: usize = 0; i < 32; i++) {
    const b = load<u8>(digest + i);
    const hi = b >> 4, lo = b & 15;
    store<u8>(DIGEST_TEXT + 7 + 2 * i, hi < 10 ? 0x30 + hi : 0x57 + hi);
    store<u8>(DIGEST_TEXT + 8 + 2 * i, lo < 10 ? 0x30 + lo : 0x57 + lo);
  }
  store<u8>(RET, 1);
  store<u32>(RET, <u32>DIGEST_TEXT, 4);
  store<u32>(RET, 71, 8);
  return RET;
}
