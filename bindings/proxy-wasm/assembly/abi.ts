// Filter, raw ABI layer: the proxy-wasm v0.2.1 host functions the filter imports (all from `env`,
// nothing else: no WASI, no `abort`), the spec's constants, and thin wrappers that move bytes
// across the boundary. Input: addresses and lengths in this module's memory. Output: status codes
// and host-allocated results. The filter logic (filter.ts) never calls an import directly.
//
// Results that the host returns (header values, buffers) are written into memory the host gets
// from proxy_on_memory_allocate, which hands out blocks of the per-callback scratch region
// (hostAlloc below): they are valid until the next callback starts.

// ---- spec constants (proxy-wasm/spec abi-versions/v0.2.1) ----

export const STATUS_OK: u32 = 0;

export const LOG_DEBUG: u32 = 1;
export const LOG_INFO: u32 = 2;
export const LOG_ERROR: u32 = 4;

export const ACTION_CONTINUE: u32 = 0;
export const ACTION_PAUSE: u32 = 1;

export const BUFFER_HTTP_REQUEST_BODY: u32 = 0;
export const BUFFER_HTTP_CALL_RESPONSE_BODY: u32 = 4;
export const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;

export const MAP_HTTP_REQUEST_HEADERS: u32 = 0;
export const MAP_HTTP_RESPONSE_HEADERS: u32 = 2;
export const MAP_HTTP_CALL_RESPONSE_HEADERS: u32 = 6;

// ---- imports ----

// @ts-ignore: decorator
@external("env", "proxy_log")
declare function proxy_log(level: u32, ptr: usize, len: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_get_current_time_nanoseconds")
declare function proxy_get_current_time_nanoseconds(retTime: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_set_tick_period_milliseconds")
declare function proxy_set_tick_period_milliseconds(ms: u32): u32;
// @ts-ignore: decorator
@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(kind: u32, start: usize, max: usize, retPtr: usize, retLen: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(kind: u32, start: usize, size: usize, ptr: usize, len: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_get_header_map_value")
declare function proxy_get_header_map_value(map: u32, keyPtr: usize, keyLen: usize, retPtr: usize, retLen: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_replace_header_map_value")
declare function proxy_replace_header_map_value(map: u32, keyPtr: usize, keyLen: usize, valuePtr: usize, valueLen: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_remove_header_map_value")
declare function proxy_remove_header_map_value(map: u32, keyPtr: usize, keyLen: usize): u32;
// @ts-ignore: decorator
@external("env", "proxy_send_local_response")
declare function proxy_send_local_response(status: u32, detailsPtr: usize, detailsLen: usize, bodyPtr: usize, bodyLen: usize, headersPtr: usize, headersLen: usize, grpcStatus: i32): u32;
// @ts-ignore: decorator
@external("env", "proxy_http_call")
declare function proxy_http_call(upstreamPtr: usize, upstreamLen: usize, headersPtr: usize, headersLen: usize, bodyPtr: usize, bodyLen: usize, trailersPtr: usize, trailersLen: usize, timeout: u32, retToken: usize): u32;

// ---- scratch memory for host results ----

// One bump region, reset when a callback starts (resetHostScratch). Blocks handed out during a
// callback stay valid until the next reset; a callback that needs more than the region gets a
// chunk twice as large (the old one stays valid for the rest of the callback, then is abandoned,
// so waste is bounded: the stub runtime never frees).
let chunkStart: usize = 0;
let chunkEnd: usize = 0;
let top: usize = 0;

/** Forget every block handed out by hostAlloc. Called first thing in every callback. */
export function resetHostScratch(): void {
  if (chunkStart == 0) {
    chunkStart = heap.alloc(65536);
    chunkEnd = chunkStart + 65536;
  }
  top = chunkStart;
}

/** `size` bytes of scratch, 8-aligned, valid until the next callback. */
export function hostAlloc(size: usize): usize {
  if (chunkStart == 0) resetHostScratch();
  let p = (top + 7) & ~(<usize>7);
  if (p + size > chunkEnd) {
    let want = (chunkEnd - chunkStart) << 1;
    while (want < size + 8) want <<= 1;
    chunkStart = heap.alloc(want);
    chunkEnd = chunkStart + want;
    p = chunkStart;
  }
  top = p + size;
  return p;
}

// ---- wrappers ----

const RET_PTR: usize = memory.data(8, 8);
const RET_LEN: usize = memory.data(8, 8);

/** Address and length of the last value a get* wrapper returned (valid until the next callback). */
export let retPtr: usize = 0;
export let retLen: usize = 0;

export function log(level: u32, ptr: usize, len: usize): void {
  proxy_log(level, ptr, len);
}

const NOW: usize = memory.data(8, 8);

/** The host's wall clock in ns since the Unix epoch (0 when the host cannot tell). */
export function nowNs(): u64 {
  store<u64>(NOW, 0);
  if (proxy_get_current_time_nanoseconds(NOW) != STATUS_OK) return 0;
  return load<u64>(NOW);
}

export function setTickPeriod(ms: u32): void {
  proxy_set_tick_period_milliseconds(ms);
}

/** Read `max` bytes of buffer `kind` from `start` into retPtr/retLen; false when unavailable. */
export function getBuffer(kind: u32, start: usize, max: usize): bool {
  store<u32>(RET_PTR, 0);
  store<u32>(RET_LEN, 0);
  if (proxy_get_buffer_bytes(kind, start, max, RET_PTR, RET_LEN) != STATUS_OK) { retPtr = 0; retLen = 0; return false; }
  retPtr = <usize>load<u32>(RET_PTR);
  retLen = <usize>load<u32>(RET_LEN);
  return true;
}

/** Replace `size` bytes of buffer `kind` from `start` with `len` bytes at `ptr`. */
export function setBuffer(kind: u32, start: usize, size: usize, ptr: usize, len: usize): bool {
  return proxy_set_buffer_bytes(kind, start, size, ptr, len) == STATUS_OK;
}

/** Header `key` of `map` into retPtr/retLen; false when absent. */
export function getHeader(map: u32, keyPtr: usize, keyLen: usize): bool {
  store<u32>(RET_PTR, 0);
  store<u32>(RET_LEN, 0);
  if (proxy_get_header_map_value(map, keyPtr, keyLen, RET_PTR, RET_LEN) != STATUS_OK) { retPtr = 0; retLen = 0; return false; }
  retPtr = <usize>load<u32>(RET_PTR);
  retLen = <usize>load<u32>(RET_LEN);
  return true;
}

export function replaceHeader(map: u32, keyPtr: usize, keyLen: usize, valuePtr: usize, valueLen: usize): void {
  proxy_replace_header_map_value(map, keyPtr, keyLen, valuePtr, valueLen);
}

export function removeHeader(map: u32, keyPtr: usize, keyLen: usize): void {
  proxy_remove_header_map_value(map, keyPtr, keyLen);
}

/** Send a local response; `headers` is a serialized header map (headers.ts). */
export function sendLocalResponse(status: u32, detailsPtr: usize, detailsLen: usize, bodyPtr: usize, bodyLen: usize, headersPtr: usize, headersLen: usize): void {
  // grpc_status -1: not a gRPC response (the SDKs' convention).
  proxy_send_local_response(status, detailsPtr, detailsLen, bodyPtr, bodyLen, headersPtr, headersLen, -1);
}

/** Start an HTTP call to cluster `upstream`; the call's token, or -1 when the host refused it. */
export function httpCall(upstreamPtr: usize, upstreamLen: usize, headersPtr: usize, headersLen: usize, bodyPtr: usize, bodyLen: usize, timeoutMs: u32): i64 {
  store<u32>(RET_PTR, 0);
  const status = proxy_http_call(upstreamPtr, upstreamLen, headersPtr, headersLen, bodyPtr, bodyLen, 0, 0, timeoutMs, RET_PTR);
  return status == STATUS_OK ? <i64>load<u32>(RET_PTR) : -1;
}
