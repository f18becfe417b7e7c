// Test entry: exposes the JSON reader, request validation and tape checks on their own, so
// engine/json.test.ts and bindings/node/encode.test.ts can drive them without the whole engine.
// Input: bytes the test writes at input_ptr / tape_ptr. Output: codes, tape addresses, output JSON.
import { arenaReset } from "../arena";
import { outLen, outPtr } from "../out";
import { jsonRoot, parseJson, writeJsonError } from "../json";
import { parseNumberSlow, parseNumberValue } from "../json-number";
import { validateRequest, validateTape, writeRequestError, reqAgentId, reqTool, reqAction, reqParams, reqContext } from "../request";
import { objectGet } from "../tape";

let input: usize = 0;
let inputCap: usize = 0;
let tape: usize = 0;
let tapeCap: usize = 0;

export function input_ptr(cap: u32): usize {
  if (<usize>cap > inputCap) { input = heap.alloc(<usize>cap); inputCap = cap; }
  return input;
}

export function tape_ptr(cap: u32): usize {
  if (<usize>cap > tapeCap) { tape = heap.alloc(<usize>cap); tapeCap = cap; }
  return tape;
}

/** Parse `len` input bytes; 0 or an error code (error JSON in the output). */
export function parse(len: u32): i32 {
  arenaReset();
  const code = parseJson(input, len);
  if (code != 0) writeJsonError(code);
  return code;
}

export function root(): usize { return jsonRoot(); }

/** Parse, then validate the request shape; 0 or an error code (error JSON in the output). */
export function parse_request(len: u32): i32 {
  arenaReset();
  let code = parseJson(input, len);
  if (code != 0) { writeJsonError(code); return code; }
  code = validateRequest(jsonRoot());
  if (code != 0) writeRequestError();
  return code;
}

/** Validate a host tape of `used` bytes at tape_ptr with its root at offset `rootOffset`. */
export function validate_tape(rootOffset: u32, used: u32): i32 {
  arenaReset();
  const code = validateTape(tape, used, rootOffset);
  if (code != 0) writeRequestError();
  return code;
}

export function req_agent_id(): usize { return reqAgentId(); }
export function req_tool(): usize { return reqTool(); }
export function req_action(): usize { return reqAction(); }
export function req_params(): usize { return reqParams(); }
export function req_context(): usize { return reqContext(); }

/** objectGet on the parsed root with the key in the input buffer at `keyOffset`. */
export function get(obj: usize, keyOffset: u32, keyLen: u32): usize {
  return objectGet(obj, input + keyOffset, keyLen);
}

/** The value of a number lexeme of `len` bytes in the input (which must be a valid number). */
export function number(len: u32): f64 { return parseNumberValue(input, len); }
/** The same through the exact decimal fallback only. */
export function number_slow(len: u32): f64 { return parseNumberSlow(input, len); }

export function output_ptr(): usize { return outPtr(); }
export function output_len(): usize { return outLen(); }
