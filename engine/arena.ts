// Per-call scratch memory for the engine: one bump region, reset at the start of every
// evaluation. Everything a call allocates (parsed request tape, computed strings and lists,
// regex thread lists, output) comes from here or from a region that the caller grows and reuses,
// so memory stops growing once the largest call has been seen.
//
// INVARIANT: nothing allocated here survives arenaReset(); long-lived data (the loaded bundle)
// uses heap.alloc directly.
// With --runtime stub, heap.alloc is a bump allocator that never frees, so the arena takes one
// chunk from it and, when a call needs more, a chunk twice as large (the old one stays valid for
// the rest of that call and is abandoned afterwards: waste is bounded by the largest call).
//
// The arena also keeps the evaluation budget of docs/semantics.md "Limits": every computed string
// or list of one evaluation (and every DLP rewrite and redaction record) is charged with
// chargeValue before it is allocated, so no policy and request can make one call outgrow the
// 4 GiB of wasm32 memory (heap.alloc would trap). Scratch that is released before the operation
// returns (arenaMark / arenaRelease) is not charged: it never accumulates.

import { MAX_VALUE_BYTES, MAX_EVAL_BYTES } from "./generated/bytecode";

let chunkStart: usize = 0;
let chunkEnd: usize = 0;
let top: usize = 0;
/** Set when a call outgrew the current chunk; the next reset switches to the bigger chunk. */
let pendingStart: usize = 0;
let pendingEnd: usize = 0;

const INITIAL_CHUNK: usize = 256 * 1024;

function ensureChunk(): void {
  if (chunkStart == 0) {
    chunkStart = heap.alloc(INITIAL_CHUNK);
    chunkEnd = chunkStart + INITIAL_CHUNK;
    top = chunkStart;
  }
}

/** Bytes charged by chargeValue since the last arenaReset (the current evaluation). */
let evalBytes: u64 = 0;

/**
 * Charge a computed value of `bytes` (a string's UTF-8 length, a list's count x 16) to the
 * current evaluation. False, and nothing charged, when the value is larger than MAX_VALUE_BYTES
 * or the evaluation's total would pass MAX_EVAL_BYTES: the caller then yields value_too_large.
 */
export function chargeValue(bytes: u64): bool {
  if (bytes > <u64>MAX_VALUE_BYTES || evalBytes + bytes > <u64>MAX_EVAL_BYTES) return false;
  evalBytes += bytes;
  return true;
}

/**
 * Charge `bytes` to the evaluation's total only (no per-value limit): for redaction records,
 * whose size the request and the bundle fix but whose number they multiply.
 */
export function chargeTotal(bytes: u64): bool {
  if (evalBytes + bytes > <u64>MAX_EVAL_BYTES) return false;
  evalBytes += bytes;
  return true;
}

/** Forget everything allocated since the last reset, and start a new evaluation budget. */
export function arenaReset(): void {
  evalBytes = 0;
  ensureChunk();
  if (pendingStart != 0) {
    chunkStart = pendingStart;
    chunkEnd = pendingEnd;
    pendingStart = 0;
    pendingEnd = 0;
  }
  top = chunkStart;
}

/** `size` bytes, 8-aligned, zero-filled is NOT guaranteed. */
export function arenaAlloc(size: usize): usize {
  ensureChunk();
  let p = (top + 7) & ~(<usize>7);
  if (p + size > chunkEnd) {
    // Grow: a fresh chunk at least twice the old one and large enough for this request.
    let want = (chunkEnd - chunkStart) << 1;
    if (want < size + 64) want = size + 64;
    const start = heap.alloc(want);
    pendingStart = start;
    pendingEnd = start + want;
    chunkStart = start;
    chunkEnd = start + want;
    p = (start + 7) & ~(<usize>7);
  }
  top = p + size;
  return p;
}

/** Current position; pass to arenaRelease to free everything allocated after it. */
export function arenaMark(): usize {
  return top;
}

/** Free everything allocated after `mark` (which must come from arenaMark in this chunk). */
export function arenaRelease(mark: usize): void {
  if (mark >= chunkStart && mark <= chunkEnd) top = mark;
}
