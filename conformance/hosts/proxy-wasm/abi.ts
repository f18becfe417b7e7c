// proxy-wasm ABI v0.2.1, raw layer: the numbers of the spec (proxy-wasm/spec,
// abi-versions/v0.2.1/README.md) and the map serialization every SDK and host share. Input: none
// (constants) or bytes; output: constants, and header maps encoded/decoded as the spec lays them
// out. The friendly test host lives in host.ts and uses only this file for the ABI's numbers.

/** `proxy_status_t`: what every hostcall returns. */
export const Status = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  InternalFailure: 10,
  /** Not in the v0.2.1 type list, but proxy-wasm-cpp-host (Envoy) uses it for failed HTTP calls. */
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;

/** `proxy_log_level_t`. */
export const LogLevel = { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4, Critical: 5 } as const;
export type LogLevelName = "trace" | "debug" | "info" | "warn" | "error" | "critical";
export const LOG_LEVEL_NAMES: readonly LogLevelName[] = ["trace", "debug", "info", "warn", "error", "critical"];

/**
 * Return values of the HTTP header callbacks. The spec names only Continue (0) and Pause (1); the
 * SDKs carry Envoy's full set. proxy-wasm-cpp-host turns StopIteration (1) into
 * StopAllIterationAndWatermark for ABI 0.2.x, so any non-continue value stops the whole stream.
 */
export const HeadersAction = {
  Continue: 0,
  StopIteration: 1,
  ContinueAndEndStream: 2,
  StopAllIterationAndBuffer: 3,
  StopAllIterationAndWatermark: 4,
} as const;

/** Return values of the HTTP body callbacks (`proxy_action_t` plus Envoy's data statuses). */
export const DataAction = {
  Continue: 0,
  StopIterationAndBuffer: 1,
  StopIterationAndWatermark: 2,
  StopIterationNoBuffer: 3,
} as const;

/** `proxy_buffer_type_t`. */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcCallMessage: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  ForeignFunctionArguments: 8,
} as const;

/** `proxy_map_type_t`. */
export const MapType = {
  HttpRequestHeaders: 0,
  HttpRequestTrailers: 1,
  HttpResponseHeaders: 2,
  HttpResponseTrailers: 3,
  GrpcCallInitialMetadata: 4,
  GrpcCallTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;

/** `proxy_stream_type_t`. */
export const StreamType = { HttpRequest: 0, HttpResponse: 1, Downstream: 2, Upstream: 3 } as const;

/** `proxy_metric_type_t`. */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;

/** `wasi_errno_t` values the spec uses. */
export const WasiErrno = { Success: 0, Badf: 8, Fault: 21, Inval: 28, Notsup: 58 } as const;

/** Module marker exports; only v0.2.1 is accepted, the others are named in the error. */
export const ABI_MARKER = "proxy_abi_version_0_2_1";
export const OTHER_ABI_MARKERS = ["proxy_abi_version_0_1_0", "proxy_abi_version_0_2_0", "proxy_abi_version_0_3_0"];

/**
 * Every host function of ABI v0.2.1, by import module and name. A filter importing anything
 * else cannot be linked by Envoy either, so the host refuses it before instantiation.
 */
export const HOST_FUNCTIONS: Record<string, readonly string[]> = {
  env: [
    "proxy_log",
    "proxy_get_log_level",
    "proxy_get_current_time_nanoseconds",
    "proxy_set_tick_period_milliseconds",
    "proxy_done",
    "proxy_set_effective_context",
    "proxy_get_buffer_bytes",
    "proxy_set_buffer_bytes",
    "proxy_get_buffer_status",
    "proxy_get_header_map_pairs",
    "proxy_set_header_map_pairs",
    "proxy_get_header_map_value",
    "proxy_add_header_map_value",
    "proxy_replace_header_map_value",
    "proxy_remove_header_map_value",
    "proxy_get_header_map_size",
    "proxy_send_local_response",
    "proxy_continue_stream",
    "proxy_close_stream",
    "proxy_get_status",
    "proxy_http_call",
    "proxy_grpc_call",
    "proxy_grpc_stream",
    "proxy_grpc_send",
    "proxy_grpc_cancel",
    "proxy_grpc_close",
    "proxy_get_property",
    "proxy_set_property",
    "proxy_get_shared_data",
    "proxy_set_shared_data",
    "proxy_register_shared_queue",
    "proxy_resolve_shared_queue",
    "proxy_enqueue_shared_queue",
    "proxy_dequeue_shared_queue",
    "proxy_define_metric",
    "proxy_record_metric",
    "proxy_increment_metric",
    "proxy_get_metric",
    "proxy_call_foreign_function",
  ],
  wasi_snapshot_preview1: [
    "fd_write",
    "clock_time_get",
    "random_get",
    "environ_sizes_get",
    "environ_get",
    "args_sizes_get",
    "args_get",
    "proc_exit",
  ],
};

/** One header field; keys as the filter or the test wrote them (the host lowercases on write). */
export type HeaderPair = [name: string, value: string];

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Bytes of a string (UTF-8) or the bytes themselves. */
export function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === "string" ? utf8Encoder.encode(value) : value;
}

/** UTF-8 text of bytes; invalid sequences become U+FFFD rather than failing. */
export function utf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/**
 * Serialize a header map (spec "Serialization", little-endian):
 *
 * ```
 * u32 count | count × (u32 key_len, u32 value_len) | count × (key 0x00 value 0x00)
 * ```
 */
export function serializeHeaders(pairs: readonly HeaderPair[]): Uint8Array {
  const encoded = pairs.map(([k, v]) => [utf8Encoder.encode(k), utf8Encoder.encode(v)] as const);
  let size = 4 + 8 * encoded.length;
  for (const [k, v] of encoded) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, encoded.length, true);
  let at = 4;
  for (const [k, v] of encoded) {
    view.setUint32(at, k.length, true);
    view.setUint32(at + 4, v.length, true);
    at += 8;
  }
  for (const [k, v] of encoded) {
    out.set(k, at);
    at += k.length + 1;
    out.set(v, at);
    at += v.length + 1;
  }
  return out;
}

/**
 * Parse a serialized header map from a guest; null when the bytes do not follow the layout
 * (lengths running past the end, missing NUL separators, trailing bytes). An empty map may be
 * empty bytes or a single 0x00 byte, per the spec.
 */
export function deserializeHeaders(bytes: Uint8Array): HeaderPair[] | null {
  if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0)) return [];
  if (bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  // Each pair takes at least 10 bytes (two lengths, two NULs), which bounds a hostile count.
  if (count > (bytes.length - 4) / 10) return null;
  const lengths: [number, number][] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    lengths.push([view.getUint32(at, true), view.getUint32(at + 4, true)]);
    at += 8;
  }
  const pairs: HeaderPair[] = [];
  for (const [keyLen, valueLen] of lengths) {
    if (at + keyLen + 1 + valueLen + 1 > bytes.length) return null;
    const key = bytes.subarray(at, at + keyLen);
    at += keyLen;
    if (bytes[at] !== 0) return null;
    at += 1;
    const value = bytes.subarray(at, at + valueLen);
    at += valueLen;
    if (bytes[at] !== 0) return null;
    at += 1;
    pairs.push([utf8(key), utf8(value)]);
  }
  return at === bytes.length ? pairs : null;
}
