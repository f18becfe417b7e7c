// Filter: per-stream state, keyed by the host's context id. Input: context ids from the host's
// callbacks. Output: a Stream record per live HTTP stream, recycled when the host deletes the
// context. The stub runtime never frees, so records and their buffers are pooled: memory grows
// with the largest number of concurrent streams, not with the number of requests.

import { ByteBuf } from "./bytes";

/** Headers seen, waiting for the body (decision at the end of the body). */
export const PHASE_BODY: i32 = 1;
/** Decided and continued (or nothing to do): later callbacks pass through. */
export const PHASE_PASSED: i32 = 2;
/** A local response was sent: later callbacks stop. */
export const PHASE_REPLIED: i32 = 3;

export class Stream {
  id: u32 = 0;
  phase: i32 = 0;
  /** HTTP and forward-proxy modes: the Aegis request up to (not including) `params`. */
  prefix: ByteBuf = new ByteBuf();
  /** The decision JSON of an allow or sanitize decision, for the response headers. */
  decision: ByteBuf = new ByteBuf();
  hasDecision: bool = false;
  /** The `x-request-id` request header, for the record's `id` (empty: the filter makes one). */
  requestId: ByteBuf = new ByteBuf();
}

const pool: Stream[] = [];
const free: i32[] = [];

// Open addressing with linear probing: keys[i] = context id (0 = empty), slots[i] = pool index.
let capacity: u32 = 0;
let used: u32 = 0;
let keys: usize = 0;
let slots: usize = 0;

function hashOf(id: u32): u32 { return (id * 0x9e3779b1) >>> 0; }

function grow(): void {
  const oldCap = capacity, oldKeys = keys, oldSlots = slots;
  capacity = oldCap == 0 ? 64 : oldCap << 1;
  keys = heap.alloc(<usize>capacity << 2);
  slots = heap.alloc(<usize>capacity << 2);
  memory.fill(keys, 0, <usize>capacity << 2);
  used = 0;
  for (let i: u32 = 0; i < oldCap; i++) {
    const k = load<u32>(oldKeys + (<usize>i << 2));
    if (k != 0) insert(k, load<i32>(oldSlots + (<usize>i << 2)));
  }
}

function insert(id: u32, slot: i32): void {
  const mask = capacity - 1;
  let i = hashOf(id) & mask;
  while (load<u32>(keys + (<usize>i << 2)) != 0) i = (i + 1) & mask;
  store<u32>(keys + (<usize>i << 2), id);
  store<i32>(slots + (<usize>i << 2), slot);
  used++;
}

function find(id: u32): i32 {
  if (capacity == 0 || id == 0) return -1;
  const mask = capacity - 1;
  let i = hashOf(id) & mask;
  while (true) {
    const k = load<u32>(keys + (<usize>i << 2));
    if (k == 0) return -1;
    if (k == id) return <i32>i;
    i = (i + 1) & mask;
  }
}

/** The stream of context `id`, or null when the filter holds none. */
export function getStream(id: u32): Stream | null {
  const i = find(id);
  return i < 0 ? null : pool[load<i32>(slots + (<usize>i << 2))];
}

/** A fresh (reset) stream for context `id`, reusing a pooled record. */
export function openStream(id: u32): Stream {
  let s = getStream(id);
  if (s === null) {
    if ((used + 1) * 2 > capacity) grow();
    let slot: i32;
    if (free.length > 0) slot = free.pop();
    else { slot = pool.length; pool.push(new Stream()); }
    insert(id, slot);
    s = pool[slot];
  }
  s.id = id;
  s.phase = 0;
  s.prefix.reset();
  s.decision.reset();
  s.hasDecision = false;
  s.requestId.reset();
  return s;
}

/** Forget context `id` (backward-shift deletion keeps probe chains intact). */
export function closeStream(id: u32): void {
  let i = find(id);
  if (i < 0) return;
  free.push(load<i32>(slots + (<usize>i << 2)));
  const mask = capacity - 1;
  let j = <u32>i;
  while (true) {
    store<u32>(keys + (<usize>j << 2), 0);
    let k = j;
    while (true) {
      k = (k + 1) & mask;
      const key = load<u32>(keys + (<usize>k << 2));
      if (key == 0) { used--; return; }
      const home = hashOf(key) & mask;
      // Move k back to j when its home is not cyclically within (j, k].
      if (j <= k ? (home <= j || home > k) : (home <= j && home > k)) {
        store<u32>(keys + (<usize>j << 2), key);
        store<i32>(slots + (<usize>j << 2), load<i32>(slots + (<usize>k << 2)));
        j = k;
        break;
      }
    }
  }
}
