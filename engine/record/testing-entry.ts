// Test entry: the record modules on their own (engine/record/*.test.ts build it with asc). Input:
// bytes the test writes at input_ptr. Output: codes, and text at result_ptr / result_len (or the
// record line at record_ptr / record_len).
import { arenaReset } from "../arena";
import { jsonRoot, parseJson } from "../json";
import { ByteSink, writeJcsValue } from "./jcs";
import { renderRecordLine, recordLineLen, recordLinePtr } from "./record";
import { formatDouble, loadMultiplier, multiplierHigh, multiplierLow } from "./ryu";
import { writeTimestamp } from "./rfc3339";

let input: usize = 0;
let inputCap: usize = 0;
const result = new ByteSink();

/** An input buffer of at least `cap` bytes (reused; moves when it grows). */
export function input_ptr(cap: u32): usize {
  if (<usize>cap > inputCap) { input = heap.alloc(<usize>cap); inputCap = cap; }
  return input;
}

export function result_ptr(): usize { return result.ptr; }
export function result_len(): usize { return result.len; }

/** ECMAScript Number::toString of `value` (finite) into the result. */
export function format_double(value: f64): usize {
  result.reset();
  const at = result.reserve(32);
  result.len = <usize>formatDouble(value, at);
  return result.len;
}

/** new Date(ms).toISOString() into the result; 0 when out of range. */
export function timestamp(ms: i64): usize {
  result.reset();
  const at = result.reserve(32);
  result.len = <usize>writeTimestamp(ms, at);
  return result.len;
}

/**
 * Parse `len` input bytes with the engine's JSON reader and write their JCS form into the result.
 * Returns 0, -1 when the reader rejects them, or the JCS error code.
 */
export function jcs(len: u32): i32 {
  arenaReset();
  result.reset();
  if (parseJson(input, len) != 0) return -1;
  return writeJcsValue(result, jsonRoot());
}

/** renderRecordLine over regions of the input buffer (offsets from input_ptr). */
export function record(
  outcomeOffset: u32, outcomeLen: u32, requestOffset: u32, requestLen: u32, seq: u64, prevOffset: u32,
  tsMs: i64, idOffset: u32, idLen: u32, hostOffset: u32, hostLen: u32, evalNs: u64, includeParams: bool,
  bundleOffset: u32, bundleLen: u32,
): i32 {
  arenaReset();
  return renderRecordLine(input + outcomeOffset, outcomeLen, input + requestOffset, requestLen, seq,
    input + prevOffset, tsMs, input + idOffset, idLen, input + hostOffset, hostLen, evalNs, includeParams,
    input + bundleOffset, bundleLen);
}

export function record_ptr(): usize { return recordLinePtr(); }
export function record_len(): usize { return recordLineLen(); }

/** Ryu's multiplier for 5^i (inverse: 5^-i) as ryu.ts rebuilds it from the small tables. */
export function multiplier(i: u32, inverse: bool): void { loadMultiplier(i, inverse); }
export function multiplier_low(): u64 { return multiplierLow(); }
export function multiplier_high(): u64 { return multiplierHigh(); }
