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

/** Forget everything allocated since the last reset. */
export function arenaReset(): void {
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
