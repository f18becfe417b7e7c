// @ts-nocheck -- AssemblyScript, compiled by asc in host.test.ts; tsc cannot type it.
// Test filter for the proxy-wasm test host (not the Aegis filter): a raw-ABI v0.2.1 filter whose
// behaviour is chosen by the request's `:path`, so that each host feature has one path that uses
// it. Input: host callbacks; output: hostcalls whose effects host.test.ts asserts. Built with
// `--runtime stub --use abort=`; built without `--use abort=` it imports `env.abort`, which the
// host must refuse.

@external("env", "proxy_log")
declare function proxy_log(level: i32, ptr: usize, len: usize): i32;
@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(type: i32, start: i32, max: i32, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(type: i32, start: i32, size: i32, ptr: usize, len: usize): i32;
@external("env", "proxy_get_header_map_pairs")
declare function proxy_get_header_map_pairs(type: i32, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_get_header_map_value")
declare function proxy_get_header_map_value(type: i32, kPtr: usize, kLen: usize, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_add_header_map_value")
declare function proxy_add_header_map_value(type: i32, kPtr: usize, kLen: usize, vPtr: usize, vLen: usize): i32;
@external("env", "proxy_replace_header_map_value")
declare function proxy_replace_header_map_value(type: i32, kPtr: usize, kLen: usize, vPtr: usize, vLen: usize): i32;
@external("env", "proxy_remove_header_map_value")
declare function proxy_remove_header_map_value(type: i32, kPtr: usize, kLen: usize): i32;
@external("env", "proxy_send_local_response")
declare function proxy_send_local_response(
  status: i32, dPtr: usize, dLen: usize, bPtr: usize, bLen: usize, hPtr: usize, hLen: usize, grpc: i32,
): i32;
@external("env", "proxy_continue_stream")
declare function proxy_continue_stream(type: i32): i32;
@external("env", "proxy_close_stream")
declare function proxy_close_stream(type: i32): i32;
@external("env", "proxy_get_property")
declare function proxy_get_property(pPtr: usize, pLen: usize, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_set_property")
declare function proxy_set_property(pPtr: usize, pLen: usize, vPtr: usize, vLen: usize): i32;
@external("env", "proxy_get_shared_data")
declare function proxy_get_shared_data(kPtr: usize, kLen: usize, retPtr: usize, retSize: usize, casPtr: usize): i32;
@external("env", "proxy_set_shared_data")
declare function proxy_set_shared_data(kPtr: usize, kLen: usize, vPtr: usize, vLen: usize, cas: u32): i32;
@external("env", "proxy_register_shared_queue")
declare function proxy_register_shared_queue(nPtr: usize, nLen: usize, retId: usize): i32;
@external("env", "proxy_dequeue_shared_queue")
declare function proxy_dequeue_shared_queue(id: u32, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_http_call")
declare function proxy_http_call(
  uPtr: usize, uLen: usize, hPtr: usize, hLen: usize, bPtr: usize, bLen: usize, tPtr: usize, tLen: usize,
  timeout: u32, retToken: usize,
): i32;
@external("env", "proxy_set_tick_period_milliseconds")
declare function proxy_set_tick_period_milliseconds(ms: u32): i32;
@external("env", "proxy_define_metric")
declare function proxy_define_metric(type: i32, nPtr: usize, nLen: usize, retId: usize): i32;
@external("env", "proxy_increment_metric")
declare function proxy_increment_metric(id: u32, delta: i64): i32;

const REQUEST_HEADERS = 0;
const RESPONSE_HEADERS = 2;
const CALL_RESPONSE_HEADERS = 6;
const REQUEST_BODY = 0;
const RESPONSE_BODY = 1;
const CALL_RESPONSE_BODY = 4;
const VM_CONFIGURATION = 6;
const PLUGIN_CONFIGURATION = 7;

const RET_PTR = memory.data(8);
const RET_SIZE = memory.data(8);
const RET_CAS = memory.data(8);

const paths = new Map<u32, string>();
let queueId: u32 = 0;
let requestsMetric: u32 = 0;

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_memory_allocate(size: usize): usize {
  return heap.alloc(size);
}

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function log(level: i32, message: string): void {
  const m = utf8(message);
  proxy_log(level, changetype<usize>(m), m.byteLength);
}

function returned(): string {
  return String.UTF8.decodeUnsafe(load<u32>(RET_PTR), load<u32>(RET_SIZE));
}

function getBuffer(type: i32, size: i32): string | null {
  if (proxy_get_buffer_bytes(type, 0, size, RET_PTR, RET_SIZE) != 0) return null;
  return returned();
}

function setBuffer(type: i32, size: i32, value: string): i32 {
  const v = utf8(value);
  return proxy_set_buffer_bytes(type, 0, size, changetype<usize>(v), v.byteLength);
}

function getHeader(map: i32, name: string): string | null {
  const k = utf8(name);
  if (proxy_get_header_map_value(map, changetype<usize>(k), k.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return returned();
}

function addHeader(map: i32, name: string, value: string): i32 {
  const k = utf8(name);
  const v = utf8(value);
  return proxy_add_header_map_value(map, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

function replaceHeader(map: i32, name: string, value: string): i32 {
  const k = utf8(name);
  const v = utf8(value);
  return proxy_replace_header_map_value(map, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

function removeHeader(map: i32, name: string): i32 {
  const k = utf8(name);
  return proxy_remove_header_map_value(map, changetype<usize>(k), k.byteLength);
}

/** Serialize pairs in the spec's map layout. */
function pairs(keys: string[], values: string[]): ArrayBuffer {
  const ks: ArrayBuffer[] = [];
  const vs: ArrayBuffer[] = [];
  let size = 4 + 8 * keys.length;
  for (let i = 0; i < keys.length; i++) {
    ks.push(utf8(keys[i]));
    vs.push(utf8(values[i]));
    size += ks[i].byteLength + vs[i].byteLength + 2;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, keys.length);
  let at = base + 4;
  for (let i = 0; i < keys.length; i++) {
    store<u32>(at, ks[i].byteLength);
    store<u32>(at + 4, vs[i].byteLength);
    at += 8;
  }
  for (let i = 0; i < keys.length; i++) {
    memory.copy(at, changetype<usize>(ks[i]), ks[i].byteLength);
    at += ks[i].byteLength;
    store<u8>(at, 0);
    at += 1;
    memory.copy(at, changetype<usize>(vs[i]), vs[i].byteLength);
    at += vs[i].byteLength;
    store<u8>(at, 0);
    at += 1;
  }
  return out;
}

function localResponse(status: i32, details: string, body: string, keys: string[], values: string[]): i32 {
  const d = utf8(details);
  const b = utf8(body);
  const h = pairs(keys, values);
  return proxy_send_local_response(
    status, changetype<usize>(d), d.byteLength, changetype<usize>(b), b.byteLength,
    changetype<usize>(h), h.byteLength, -1,
  );
}

function getProperty(path: string): string | null {
  const p = utf8(path);
  if (proxy_get_property(changetype<usize>(p), p.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return returned();
}

function propertyStatus(path: string): i32 {
  const p = utf8(path);
  return proxy_get_property(changetype<usize>(p), p.byteLength, RET_PTR, RET_SIZE);
}

function getShared(key: string): string | null {
  const k = utf8(key);
  if (proxy_get_shared_data(changetype<usize>(k), k.byteLength, RET_PTR, RET_SIZE, RET_CAS) != 0) return null;
  return returned();
}

function setShared(key: string, value: string, cas: u32): i32 {
  const k = utf8(key);
  const v = utf8(value);
  return proxy_set_shared_data(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength, cas);
}

function pathOf(ctx: u32): string {
  return paths.has(ctx) ? paths.get(ctx) : "";
}

export function proxy_on_vm_start(root: u32, size: i32): i32 {
  const config = getBuffer(VM_CONFIGURATION, size);
  log(2, "vm config: " + (config === null ? "<none>" : config));
  return 1;
}

export function proxy_on_configure(root: u32, size: i32): i32 {
  const config = getBuffer(PLUGIN_CONFIGURATION, size);
  if (config === null) return 0;
  if (config == "refuse") {
    log(4, "refusing configuration");
    return 0;
  }
  if (config.includes("tick")) proxy_set_tick_period_milliseconds(1000);
  const q = utf8("events");
  proxy_register_shared_queue(changetype<usize>(q), q.byteLength, RET_PTR);
  queueId = load<u32>(RET_PTR);
  const m = utf8("requests");
  proxy_define_metric(0, changetype<usize>(m), m.byteLength, RET_PTR);
  requestsMetric = load<u32>(RET_PTR);
  log(2, "configured: " + config);
  return 1;
}

export function proxy_on_context_create(ctx: u32, parent: u32): void {}

export function proxy_on_tick(root: u32): void {
  const current = getShared("ticks");
  const cas = load<u32>(RET_CAS);
  const next = current === null ? 1 : I32.parseInt(current) + 1;
  setShared("ticks", next.toString(), current === null ? 0 : cas);
  log(1, "tick " + next.toString());
}

export function proxy_on_queue_ready(root: u32, id: u32): void {
  if (proxy_dequeue_shared_queue(id, RET_PTR, RET_SIZE) == 0) log(2, "queue: " + returned());
}

export function proxy_on_request_headers(ctx: u32, count: i32, eos: i32): i32 {
  const path = getHeader(REQUEST_HEADERS, ":path");
  const p = path === null ? "" : path;
  paths.set(ctx, p);
  proxy_increment_metric(requestsMetric, 1);
  log(2, "request " + p + " headers=" + count.toString() + " eos=" + eos.toString());
  if (p == "/headers") {
    const input = getHeader(REQUEST_HEADERS, "x-in");
    replaceHeader(REQUEST_HEADERS, "x-in", (input === null ? "" : input) + "!");
    addHeader(REQUEST_HEADERS, "X-Added", "1");
    removeHeader(REQUEST_HEADERS, "x-remove-me");
    proxy_get_header_map_pairs(REQUEST_HEADERS, RET_PTR, RET_SIZE);
    addHeader(REQUEST_HEADERS, "x-count", load<u32>(load<u32>(RET_PTR)).toString());
    const missing = getHeader(REQUEST_HEADERS, "x-absent");
    addHeader(REQUEST_HEADERS, "x-absent-found", missing === null ? "no" : "yes");
    return 0;
  }
  if (p == "/deny") {
    localResponse(403, "denied by test", "no", ["x-why"], ["test"]);
    return 1;
  }
  if (p == "/props") {
    const name = getProperty("plugin_name");
    addHeader(REQUEST_HEADERS, "x-plugin-name", name === null ? "" : name);
    const custom = getProperty("custom\0value");
    addHeader(REQUEST_HEADERS, "x-custom", custom === null ? "" : custom);
    const reqPath = getProperty("request\0path");
    addHeader(REQUEST_HEADERS, "x-request-path", reqPath === null ? "" : reqPath);
    const k = utf8("mine");
    const v = utf8("v1");
    proxy_set_property(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
    const mine = getProperty("mine");
    addHeader(REQUEST_HEADERS, "x-mine", mine === null ? "" : mine);
    addHeader(REQUEST_HEADERS, "x-missing-status", propertyStatus("no\0such").toString());
    return 0;
  }
  if (p == "/shared") {
    const current = getShared("counter");
    const cas = load<u32>(RET_CAS);
    const next = current === null ? 1 : I32.parseInt(current) + 1;
    addHeader(REQUEST_HEADERS, "x-set-status", setShared("counter", next.toString(), current === null ? 0 : cas).toString());
    addHeader(REQUEST_HEADERS, "x-stale-status", setShared("counter", "stale", current === null ? 0 : cas).toString());
    addHeader(REQUEST_HEADERS, "x-counter", next.toString());
    return 0;
  }
  if (p == "/call" || p == "/call-bad-cluster" || p == "/call-no-authority") {
    const cluster = utf8(p == "/call-bad-cluster" ? "nope" : "authz");
    const h = p == "/call-no-authority"
      ? pairs([":method", ":path"], ["POST", "/check"])
      : pairs([":method", ":path", ":authority"], ["POST", "/check", "authz.local"]);
    const auth = getHeader(REQUEST_HEADERS, "authorization");
    const b = utf8(auth === null ? "" : auth);
    const status = proxy_http_call(
      changetype<usize>(cluster), cluster.byteLength, changetype<usize>(h), h.byteLength,
      changetype<usize>(b), b.byteLength, 0, 0, 5000, RET_PTR,
    );
    if (status != 0) {
      addHeader(REQUEST_HEADERS, "x-call-status", status.toString());
      return 0;
    }
    log(2, "http call " + load<u32>(RET_PTR).toString());
    return 1;
  }
  if (p == "/trap") unreachable();
  // With `--use abort=` a throw is a trap; without it, it needs the `env.abort` import.
  if (p == "/throw") throw new Error("thrown by the test filter");
  if (p == "/oob") {
    addHeader(REQUEST_HEADERS, "x-oob-status", proxy_log(2, 0xfffffff0, 100).toString());
    return 0;
  }
  if (p == "/close") {
    proxy_close_stream(0);
    return 1;
  }
  if (p == "/stall") return 1;
  return 0;
}

export function proxy_on_request_body(ctx: u32, size: i32, eos: i32): i32 {
  const p = pathOf(ctx);
  if (p == "/buffer") {
    if (!eos) {
      log(1, "buffering " + size.toString());
      return 1;
    }
    const body = getBuffer(REQUEST_BODY, size);
    log(2, "body: " + (body === null ? "<none>" : body));
    setBuffer(REQUEST_BODY, size, body === null ? "" : body.toUpperCase());
    return 0;
  }
  if (p == "/late-header") {
    // Headers were forwarded when on_request_headers returned Continue: this must fail.
    const status = replaceHeader(REQUEST_HEADERS, "x-late", "1");
    setBuffer(REQUEST_BODY, size, "late:" + status.toString());
    return 0;
  }
  if (p == "/call") log(2, "call body " + size.toString() + " eos=" + eos.toString());
  return 0;
}

export function proxy_on_http_call_response(ctx: u32, token: u32, headers: i32, size: i32, trailers: i32): void {
  if (headers == 0) {
    localResponse(503, "authz_failed", "", [], []);
    return;
  }
  const status = getHeader(CALL_RESPONSE_HEADERS, ":status");
  const body = getBuffer(CALL_RESPONSE_BODY, size);
  const b = body === null ? "" : body;
  log(2, "call " + token.toString() + " status " + (status === null ? "?" : status) + " body " + b);
  if (b == "allow") {
    addHeader(REQUEST_HEADERS, "x-authz", b);
    proxy_continue_stream(0);
  } else {
    localResponse(403, "authz_denied", b, [], []);
  }
}

export function proxy_on_response_headers(ctx: u32, count: i32, eos: i32): i32 {
  addHeader(RESPONSE_HEADERS, "x-filter", "saw-response");
  return 0;
}

export function proxy_on_response_body(ctx: u32, size: i32, eos: i32): i32 {
  if (pathOf(ctx) != "/resp-body") return 0;
  if (!eos) return 1;
  const body = getBuffer(RESPONSE_BODY, size);
  setBuffer(RESPONSE_BODY, size, "[" + (body === null ? "" : body) + "]");
  return 0;
}

export function proxy_on_done(ctx: u32): i32 {
  return 1;
}

export function proxy_on_log(ctx: u32): void {
  const status = getHeader(RESPONSE_HEADERS, ":status");
  log(2, "log " + pathOf(ctx) + " " + (status === null ? "-" : status));
}

export function proxy_on_delete(ctx: u32): void {
  paths.delete(ctx);
}
