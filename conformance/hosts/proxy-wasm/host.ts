// proxy-wasm test host: plays Envoy's part for a proxy-wasm filter (ABI v0.2.1), written from the
// spec (proxy-wasm/spec abi-versions/v0.2.1) with Envoy's behaviour where the spec is silent
// (source/extensions/common/wasm/context.cc, proxy-wasm-cpp-host). Input: the filter's wasm bytes,
// plugin/VM configuration, fake upstream clusters, and HTTP requests described as data; output: what
// the filter did to each request — local response, the request as forwarded upstream, the response
// as sent downstream, logs, HTTP calls, shared data, traps — as plain values a test can assert.
//
// API (kept stable; the conformance adapter for bindings/proxy-wasm is written against it):
//
//   const host = await ProxyWasmHost.create(wasmBytes, {
//     pluginConfig?: Uint8Array | string,     // served as PLUGIN_CONFIGURATION in proxy_on_configure
//     vmConfig?: Uint8Array | string,         // served as VM_CONFIGURATION in proxy_on_vm_start
//     properties?: Record<string, PropertyValue>,  // "a.b" = path segments a, b
//     clusters?: Record<string, ClusterHandler>,   // proxy_http_call upstreams
//     logLevel?: "trace" | ... | "critical",  // default "trace": every log is kept
//     now?: () => bigint,                     // wall clock in ns (default Date.now())
//     failurePolicy?: "fail_closed" | "reload",  // after a trap (default fail_closed)
//   });
//   host.vmStartResult, host.configureResult  // false = the plugin refused its configuration
//   const r = await host.httpRequest({ headers: [[":method", "POST"], [":path", "/x"], ...],
//     body?, chunkSize?, chunks?, trailers?, responseHeaders?, responseBody?, responseTrailers?,
//     responseChunkSize?, upstream?, settleBetweenEvents? });
//   r.localResponse?  {status, headers, body, details, grpcStatus}
//   r.upstream?       {headers, body, trailers?}  the request as it left the filter
//   r.response?       {headers, body, trailers?}  what the client got (after response callbacks)
//   r.status, r.paused, r.pausedIn, r.reset, r.trapped, r.error, r.done, r.logs, r.httpCalls,
//   r.warnings
//   await host.tick(); host.tickPeriodMs; host.logs; host.sharedData; host.httpCalls;
//   host.metrics; host.failed; await host.configure(newConfig); await host.reload();
//   host.setProperty(path, value); host.enqueueSharedQueue(name, bytes); await host.drain()
//
// Stream semantics follow Envoy: a header callback that does not return Continue stops the whole
// stream (body is held by the host and delivered once the filter continues); a body callback
// returning StopIterationAndBuffer gets later chunks appended to the same buffer; header maps and
// body buffers are writable only until their part was forwarded; continue_stream, close_stream and
// send_local_response act after the current callback returns; a local response passes through the
// filter's response callbacks. The client sends the whole request at once; HTTP call responses and
// queue notifications arrive afterwards, in call order (`settleBetweenEvents: true`: before each
// next downstream event instead). A trap fails the request (500, `trapped: true`).
// Details: docs/envoy-host.md, section "proxy-wasm test host".
import {
  ABI_MARKER,
  BufferType,
  DataAction,
  HOST_FUNCTIONS,
  HeadersAction,
  LOG_LEVEL_NAMES,
  MapType,
  OTHER_ABI_MARKERS,
  Status,
  StreamType,
  WasiErrno,
  deserializeHeaders,
  serializeHeaders,
  toBytes,
  utf8,
  type HeaderPair,
  type LogLevelName,
} from "./abi.ts";

export { serializeHeaders, deserializeHeaders, toBytes, utf8, type HeaderPair, type LogLevelName };

/** A property value; numbers and bigints are served as 8-byte little-endian integers, like Envoy. */
export type PropertyValue = Uint8Array | string | number | bigint | boolean;

/** The request a filter sent with proxy_http_call, as the fake cluster receives it. */
export interface ClusterRequest {
  cluster: string;
  headers: HeaderPair[];
  body: Uint8Array;
  trailers: HeaderPair[];
  timeoutMs: number;
}

/** A fake cluster's answer; `status` becomes `:status` unless the headers carry one. */
export interface ClusterResponse {
  status?: number;
  headers?: HeaderPair[];
  body?: Uint8Array | string;
  trailers?: HeaderPair[];
}

/**
 * A fake upstream cluster. Return a response; `null` or `"reset"` for a failed call (the filter
 * sees zero headers); `"timeout"` for Envoy's 504 timeout reply. A throw counts as a reset.
 */
export type ClusterHandler = (
  request: ClusterRequest,
) => ClusterResponse | null | "reset" | "timeout" | Promise<ClusterResponse | null | "reset" | "timeout">;

export interface HostOptions {
  pluginConfig?: Uint8Array | string;
  vmConfig?: Uint8Array | string;
  properties?: Record<string, PropertyValue>;
  clusters?: Record<string, ClusterHandler>;
  logLevel?: LogLevelName;
  now?: () => bigint;
  pluginName?: string;
  rootId?: string;
  vmId?: string;
  /** Shared data and queues; pass one object to several hosts to model several worker VMs. */
  shared?: SharedState;
  /** After a trap: keep failing every request (Envoy's default), or start a fresh VM. */
  failurePolicy?: "fail_closed" | "reload";
  /** Upper bound in ms for an HTTP call the filter gave no timeout (default 30000). */
  httpCallTimeoutCapMs?: number;
}

export interface UpstreamRequest {
  headers: HeaderPair[];
  body: Uint8Array;
  trailers?: HeaderPair[];
}

export interface UpstreamResponse {
  headers: HeaderPair[];
  body?: Uint8Array | string;
  trailers?: HeaderPair[];
}

export interface HttpRequestSpec {
  headers: HeaderPair[];
  body?: Uint8Array | string;
  /** Split `body` into chunks of this many bytes (default: one chunk). */
  chunkSize?: number;
  /** Explicit body chunks, instead of `body`. */
  chunks?: (Uint8Array | string)[];
  trailers?: HeaderPair[];
  /** The upstream's answer (default `:status 200`, empty body), unless `upstream` is given. */
  responseHeaders?: HeaderPair[];
  responseBody?: Uint8Array | string;
  responseChunkSize?: number;
  responseTrailers?: HeaderPair[];
  /** Compute the upstream's answer from the request the filter forwarded. */
  upstream?: (request: UpstreamRequest) => UpstreamResponse | Promise<UpstreamResponse>;
  /**
   * By default the client sends the whole request (and the upstream the whole response) before
   * any HTTP call answers or queue notification arrives. True delivers those before each next
   * downstream event instead.
   */
  settleBetweenEvents?: boolean;
}

export interface LogEntry {
  level: LogLevelName;
  message: string;
  contextId: number;
}

export interface LocalResponse {
  status: number;
  /** Headers as Envoy sends them: `:status`, the filter's headers, content-length/-type. */
  headers: HeaderPair[];
  body: Uint8Array;
  details: string;
  /** The gRPC status the filter passed, or undefined for "none" (-1 or out of range). */
  grpcStatus?: number;
}

export interface HttpMessage {
  headers: HeaderPair[];
  body: Uint8Array;
  trailers?: HeaderPair[];
}

export interface HttpCallRecord {
  id: number;
  contextId: number;
  cluster: string;
  headers: HeaderPair[];
  body: Uint8Array;
  trailers: HeaderPair[];
  timeoutMs: number;
  /** Filled when the response was delivered. */
  outcome?: "response" | "reset" | "timeout" | "cancelled";
  response?: HttpMessage;
}

export interface HttpResult {
  contextId: number;
  /** Set when the filter called proxy_send_local_response (or trapped: status 500). */
  localResponse?: LocalResponse;
  /** The request as forwarded upstream; absent when it never left the filter. */
  upstream?: HttpMessage;
  /** The response the client received; absent when the stream paused, was reset or trapped. */
  response?: HttpMessage;
  /** `:status` of `response` as a number. */
  status?: number;
  /** The filter left the stream paused with nothing pending (Envoy would hang until timeout). */
  paused: boolean;
  pausedIn?: "request" | "response";
  /** The filter reset the stream (proxy_close_stream) or replied too late to be sent. */
  reset: boolean;
  trapped: boolean;
  /** Trap or reset reason. */
  error?: string;
  /** The context was finalized: proxy_on_delete ran. */
  done: boolean;
  logs: LogEntry[];
  httpCalls: HttpCallRecord[];
  /** ABI misuse seen while serving this request (bad pointers, late writes, ...). */
  warnings: string[];
}

export interface Metric {
  name: string;
  type: "counter" | "gauge" | "histogram";
  value: bigint;
  samples: bigint[];
}

/** Why create() or a call refused: `unknown_import`, `missing_export`, `bad_module`, `trap`, `not_configured`. */
export class ProxyWasmHostError extends Error {
  constructor(
    readonly code: "unknown_import" | "missing_export" | "bad_module" | "trap" | "not_configured",
    message: string,
  ) {
    super(message);
    this.name = "ProxyWasmHostError";
  }
}

interface SharedQueue {
  id: number;
  vmId: string;
  name: string;
  items: Uint8Array[];
  owner: ProxyWasmHost;
  ownerContextId: number;
}

/** Process-wide shared key-value data (with CAS) and shared queues, as Envoy keeps them per process. */
export class SharedState {
  readonly data = new Map<string, { value: Uint8Array; cas: number }>();
  readonly queues: SharedQueue[] = [];
  private casCounter = 0;

  /** The next compare-and-swap value; never 0, which means "no CAS" to proxy_set_shared_data. */
  nextCas(): number {
    this.casCounter = (this.casCounter % 0xfffffffe) + 1;
    return this.casCounter;
  }
}

// ---------------------------------------------------------------------------------------------
// Internal state.

type Phase =
  | "start"
  | "context_create"
  | "vm_start"
  | "configure"
  | "tick"
  | "request_headers"
  | "request_body"
  | "request_trailers"
  | "response_headers"
  | "response_body"
  | "response_trailers"
  | "http_call_response"
  | "queue_ready"
  | "done"
  | "log"
  | "delete";

interface CallResponse {
  headers: HeaderPair[];
  body: Uint8Array;
  trailers: HeaderPair[];
  statusCode: number;
  statusMessage: string;
}

interface Context {
  id: number;
  stream?: Stream;
  callResponse?: CallResponse;
  pendingDone: boolean;
  deleted: boolean;
}

interface Frame {
  ctx: Context;
  effective: Context;
  phase: Phase;
}

interface DirectionInput {
  headers: HeaderPair[];
  chunks: Uint8Array[];
  trailers?: HeaderPair[];
}

/** One direction (request or response) of a stream: what arrived, what the filter holds, what left. */
class Direction {
  headers: HeaderPair[];
  headersAccessible = false;
  forwardedHeaders?: HeaderPair[];
  body: Uint8Array = new Uint8Array(0);
  bodyAccessible = false;
  buffering = false;
  forwardedBody: Uint8Array[] = [];
  trailers: HeaderPair[] | null;
  trailersAccessible = false;
  /** In the end-of-stream body callback of a message without trailers, the filter may add some. */
  trailersAddable = false;
  addedTrailers = false;
  forwardedTrailers?: HeaderPair[];
  /** A header callback stopped the stream: later data is held, not delivered. */
  stopAll = false;
  paused = false;
  chunksArrived = 0;
  chunksDelivered = 0;
  pendingBody: Uint8Array = new Uint8Array(0);
  pendingChunks = 0;
  trailersArrived = false;
  trailersDelivered = false;
  complete = false;

  constructor(
    readonly kind: "request" | "response",
    readonly input: DirectionInput,
  ) {
    this.headers = input.headers.map(([k, v]) => [k.toLowerCase(), v]);
    this.trailers = input.trailers ? input.trailers.map(([k, v]) => [k.toLowerCase(), v]) : null;
  }

  get hasTrailers(): boolean {
    return this.input.trailers !== undefined;
  }

  snapshot(): HttpMessage {
    const message: HttpMessage = { headers: this.forwardedHeaders ?? [], body: concat(this.forwardedBody) };
    if (this.forwardedTrailers) message.trailers = this.forwardedTrailers;
    return message;
  }
}

interface Stream {
  ctx: Context;
  req: Direction;
  resp?: Direction;
  phase: "request" | "response";
  localReply?: LocalResponse;
  /** A local reply sent from a response callback, before response headers left: replaces the response. */
  responseOverride?: LocalResponse;
  reset?: string;
  trapped?: string;
  properties: Map<string, Uint8Array>;
  logs: LogEntry[];
  warnings: string[];
  httpCalls: HttpCallRecord[];
}

interface PendingCall {
  record: HttpCallRecord;
  ctx: Context;
  outcome: Promise<ClusterResponse | null | "reset" | "timeout">;
}

type Task = () => Promise<void> | void;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function propertyBytes(value: PropertyValue): Uint8Array {
  if (value instanceof Uint8Array) return value.slice();
  if (typeof value === "string") return encoder.encode(value);
  if (typeof value === "boolean") return Uint8Array.of(value ? 1 : 0);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(value), true);
  return out;
}

function chunk(bytes: Uint8Array, size: number | undefined): Uint8Array[] {
  if (bytes.length === 0) return [];
  if (!size || size <= 0 || size >= bytes.length) return [bytes.slice()];
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, at + size));
  return out;
}

function headerValue(headers: readonly HeaderPair[], name: string): string | undefined {
  return headers.find(([k]) => k === name)?.[1];
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------

/** A proxy-wasm host for one filter VM; see the file header for the API. */
export class ProxyWasmHost {
  /** proxy_on_vm_start's answer (true when the export is missing). */
  vmStartResult = false;
  /** proxy_on_configure's answer (true when the export is missing). */
  configureResult = false;
  /** Tick period the filter asked for, in ms (0 = no timer). */
  tickPeriodMs = 0;
  /** Every log line the filter wrote at or above the host's log level. */
  readonly logs: LogEntry[] = [];
  /** Every proxy_http_call, in call order. */
  readonly httpCalls: HttpCallRecord[] = [];
  /** Metrics the filter defined, by name. */
  readonly metrics = new Map<string, Metric>();
  /** Host-level ABI misuse (outside any request). */
  readonly warnings: string[] = [];
  /** Set once the VM trapped: the trap message. */
  failed?: string;

  readonly shared: SharedState;
  private readonly module: WebAssembly.Module;
  private readonly options: HostOptions;
  private readonly logLevel: number;
  private readonly now: () => bigint;
  private readonly properties = new Map<string, Uint8Array>();
  private pluginConfig: Uint8Array;
  private readonly vmConfig: Uint8Array;

  private exports!: Record<string, WebAssembly.ExportValue>;
  private memory!: WebAssembly.Memory;
  private contexts = new Map<number, Context>();
  private root!: Context;
  private nextContextId = 1;
  private frame: Frame | undefined;
  private afterCall: (() => void)[] = [];
  private flushing = false;
  private tasks: Task[] = [];
  private pendingCalls: PendingCall[] = [];
  private static nextCallId = 1;
  private metricIds = new Map<number, Metric>();
  private activeStream: Stream | undefined;
  private serial: Promise<unknown> = Promise.resolve();

  private constructor(module: WebAssembly.Module, options: HostOptions) {
    this.module = module;
    this.options = options;
    this.shared = options.shared ?? new SharedState();
    this.logLevel = LOG_LEVEL_NAMES.indexOf(options.logLevel ?? "trace");
    this.now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    this.pluginConfig = toBytes(options.pluginConfig ?? "");
    this.vmConfig = toBytes(options.vmConfig ?? "");
    for (const [path, value] of Object.entries(options.properties ?? {})) this.setProperty(path, value);
  }

  /**
   * Compile, link and start a filter: checks the imports and ABI exports, then runs `_initialize`
   * (or `_start`), proxy_on_context_create for the root context, proxy_on_vm_start and
   * proxy_on_configure. Rejects with a ProxyWasmHostError when the module cannot be a v0.2.1 filter.
   */
  static async create(wasm: Uint8Array | WebAssembly.Module, options: HostOptions = {}): Promise<ProxyWasmHost> {
    let module: WebAssembly.Module;
    try {
      module = wasm instanceof WebAssembly.Module ? wasm : await WebAssembly.compile(wasm as BufferSource);
    } catch (e) {
      throw new ProxyWasmHostError("bad_module", `filter is not a valid wasm module: ${errorMessage(e)}`);
    }
    checkModule(module);
    const host = new ProxyWasmHost(module, options);
    await host.start();
    return host;
  }

  /** The shared key-value data (all VMs sharing this host's SharedState see the same map). */
  get sharedData(): Map<string, { value: Uint8Array; cas: number }> {
    return this.shared.data;
  }

  /** Stream contexts created and not yet deleted (a leak shows here). */
  get liveStreamContexts(): number {
    return [...this.contexts.values()].filter((c) => c.stream && !c.deleted).length;
  }

  /** Set (or replace) a property served by proxy_get_property; `a.b` or ["a", "b"] is a path. */
  setProperty(path: string | readonly string[], value: PropertyValue): void {
    const segments = typeof path === "string" ? path.split(".") : path;
    this.properties.set(segments.join("\0"), propertyBytes(value));
  }

  /** Run one HTTP stream through the filter; see HttpRequestSpec and HttpResult. */
  httpRequest(spec: HttpRequestSpec): Promise<HttpResult> {
    return this.serialized(() => this.runStream(spec));
  }

  /** Fire the timer once (proxy_on_tick on the root context) if the filter set a period; true if it ran. */
  tick(): Promise<boolean> {
    return this.serialized(async () => {
      if (this.failed || this.tickPeriodMs === 0) return false;
      this.callGuest(this.root, "tick", "proxy_on_tick", [this.root.id]);
      this.flushAfterCall();
      await this.settle();
      return true;
    });
  }

  /** Call proxy_on_configure again with a new plugin configuration (a config update); its answer. */
  configure(pluginConfig: Uint8Array | string): Promise<boolean> {
    return this.serialized(async () => {
      this.pluginConfig = toBytes(pluginConfig);
      this.configureResult = this.callBool(this.root, "configure", "proxy_on_configure", [this.root.id, this.pluginConfig.length]);
      this.flushAfterCall();
      await this.settle();
      this.throwIfFailed();
      return this.configureResult;
    });
  }

  /** Throw the VM away and start a fresh instance of the same module and configuration. */
  reload(): Promise<void> {
    return this.serialized(() => this.start());
  }

  /** Deliver pending HTTP call responses and queue notifications. */
  drain(): Promise<void> {
    return this.serialized(() => this.settle());
  }

  /** Enqueue onto a shared queue as another VM would (proxy_on_queue_ready follows); false if unknown. */
  enqueueSharedQueue(name: string, value: Uint8Array | string, vmId = this.vmId): boolean {
    const queue = this.shared.queues.find((q) => q.vmId === vmId && q.name === name);
    if (!queue) return false;
    this.enqueue(queue, toBytes(value));
    return true;
  }

  /** Take the oldest item off a shared queue, or undefined. */
  dequeueSharedQueue(name: string, vmId = this.vmId): Uint8Array | undefined {
    return this.shared.queues.find((q) => q.vmId === vmId && q.name === name)?.items.shift();
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle.

  private get vmId(): string {
    return this.options.vmId ?? "vm";
  }

  private serialized<T>(job: () => Promise<T>): Promise<T> {
    const run = this.serial.then(job, job);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async start(): Promise<void> {
    this.failed = undefined;
    this.contexts = new Map();
    this.nextContextId = 1;
    this.tickPeriodMs = 0;
    this.afterCall = [];
    this.tasks = [];
    this.pendingCalls = [];
    this.metricIds = new Map();
    const instance = await WebAssembly.instantiate(this.module, this.imports());
    this.exports = instance.exports;
    this.memory = instance.exports.memory as WebAssembly.Memory;

    this.root = this.newContext(undefined);
    // The spec's integration order: `main` only after `_initialize`, `_start` only without it.
    if (typeof this.exports._initialize === "function") {
      this.callGuest(this.root, "start", "_initialize", []);
      if (typeof this.exports.main === "function") this.callGuest(this.root, "start", "main", [0, 0]);
    } else if (typeof this.exports._start === "function") {
      this.callGuest(this.root, "start", "_start", []);
    }
    this.callGuest(this.root, "context_create", "proxy_on_context_create", [this.root.id, 0]);
    this.vmStartResult = this.callBool(this.root, "vm_start", "proxy_on_vm_start", [this.root.id, this.vmConfig.length]);
    this.flushAfterCall();
    this.configureResult =
      this.vmStartResult &&
      this.callBool(this.root, "configure", "proxy_on_configure", [this.root.id, this.pluginConfig.length]);
    this.flushAfterCall();
    await this.settle();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failed) throw new ProxyWasmHostError("trap", `filter trapped while starting: ${this.failed}`);
  }

  private newContext(stream: Stream | undefined): Context {
    const ctx: Context = { id: this.nextContextId++, stream, pendingDone: false, deleted: false };
    this.contexts.set(ctx.id, ctx);
    return ctx;
  }

  private async runStream(spec: HttpRequestSpec): Promise<HttpResult> {
    if (this.failed && this.options.failurePolicy === "reload") await this.start();
    if (!this.vmStartResult || !this.configureResult) {
      throw new ProxyWasmHostError("not_configured", "the filter did not accept its configuration; no request can be served");
    }
    const chunks = spec.chunks ? spec.chunks.map(toBytes) : chunk(toBytes(spec.body ?? EMPTY), spec.chunkSize);
    const stream: Stream = {
      ctx: undefined as unknown as Context,
      req: new Direction("request", { headers: spec.headers, chunks, trailers: spec.trailers }),
      phase: "request",
      properties: new Map(),
      logs: [],
      warnings: [],
      httpCalls: [],
    };
    this.activeStream = stream;
    try {
      if (this.failed) {
        stream.ctx = { id: 0, pendingDone: false, deleted: true };
        stream.trapped = this.failed;
        return this.result(stream, false);
      }
      stream.ctx = this.newContext(stream);
      this.callGuest(stream.ctx, "context_create", "proxy_on_context_create", [stream.ctx.id, this.root.id]);
      this.flushAfterCall();

      const between = spec.settleBetweenEvents ?? false;
      await this.feed(stream, stream.req, between);
      await this.settle();
      let pausedIn: "request" | "response" | undefined;
      if (!stream.trapped && !stream.reset) {
        let input: DirectionInput | undefined;
        if (stream.localReply) {
          input = localReplyInput(stream.localReply);
        } else if (stream.req.complete) {
          input = await this.upstreamAnswer(spec, stream.req.snapshot());
        } else {
          pausedIn = "request";
        }
        if (input) {
          stream.phase = "response";
          stream.resp = new Direction("response", input);
          await this.feed(stream, stream.resp, between);
          await this.settle();
          if (!stream.trapped && !stream.reset && !stream.responseOverride && !stream.resp.complete) pausedIn = "response";
        }
      }
      const done = await this.finish(stream);
      return this.result(stream, done, pausedIn);
    } finally {
      this.activeStream = undefined;
    }
  }

  private async upstreamAnswer(spec: HttpRequestSpec, request: HttpMessage): Promise<DirectionInput> {
    if (spec.upstream) {
      const answer = await spec.upstream({ headers: request.headers, body: request.body, trailers: request.trailers });
      return { headers: answer.headers, chunks: chunk(toBytes(answer.body ?? EMPTY), spec.responseChunkSize), trailers: answer.trailers };
    }
    return {
      headers: spec.responseHeaders ?? [[":status", "200"]],
      chunks: chunk(toBytes(spec.responseBody ?? EMPTY), spec.responseChunkSize),
      trailers: spec.responseTrailers,
    };
  }

  /** End of stream: proxy_on_done, then (when it agrees, or after proxy_done) on_log and on_delete. */
  private async finish(stream: Stream): Promise<boolean> {
    const ctx = stream.ctx;
    if (this.failed) return false;
    const done = this.callBool(ctx, "done", "proxy_on_done", [ctx.id]);
    this.flushAfterCall();
    if (done) this.finalize(ctx);
    else ctx.pendingDone = true;
    await this.settle();
    return ctx.deleted;
  }

  private finalize(ctx: Context): void {
    if (ctx.deleted) return;
    ctx.pendingDone = false;
    this.callGuest(ctx, "log", "proxy_on_log", [ctx.id]);
    this.flushAfterCall();
    this.callGuest(ctx, "delete", "proxy_on_delete", [ctx.id]);
    this.flushAfterCall();
    ctx.deleted = true;
    this.contexts.delete(ctx.id);
  }

  private result(stream: Stream, done: boolean, pausedIn?: "request" | "response"): HttpResult {
    const result: HttpResult = {
      contextId: stream.ctx.id,
      paused: pausedIn !== undefined,
      reset: stream.reset !== undefined,
      trapped: stream.trapped !== undefined,
      done,
      logs: stream.logs,
      httpCalls: stream.httpCalls,
      warnings: stream.warnings,
    };
    if (pausedIn) result.pausedIn = pausedIn;
    if (stream.localReply) result.localResponse = stream.localReply;
    if (stream.req.forwardedHeaders) result.upstream = stream.req.snapshot();
    if (stream.trapped) {
      const headers: HeaderPair[] = [[":status", "500"]];
      result.localResponse = { status: 500, headers, body: EMPTY, details: "wasm_trap" };
      result.response = { headers, body: EMPTY };
      result.error = stream.trapped;
    } else if (stream.reset) {
      result.error = stream.reset;
    } else if (stream.responseOverride) {
      result.localResponse = stream.responseOverride;
      result.response = { headers: stream.responseOverride.headers, body: stream.responseOverride.body };
    } else if (stream.resp?.complete) {
      result.response = stream.resp.snapshot();
    }
    const status = result.response && headerValue(result.response.headers, ":status");
    if (status !== undefined) result.status = Number(status);
    return result;
  }

  // -------------------------------------------------------------------------------------------
  // Driving one direction of a stream.

  private stopped(stream: Stream, dir: Direction): boolean {
    if (stream.trapped || stream.reset || this.failed) return true;
    if (dir.kind === "request") return stream.localReply !== undefined;
    return stream.responseOverride !== undefined;
  }

  /** Deliver a direction's events as they arrive; `between`: let async work settle between events. */
  private async feed(stream: Stream, dir: Direction, between: boolean): Promise<void> {
    this.deliverHeaders(stream, dir);
    if (between) await this.settle();
    const { chunks } = dir.input;
    for (let i = 0; i < chunks.length; i++) {
      if (this.stopped(stream, dir)) return;
      dir.chunksArrived++;
      const eos = i === chunks.length - 1 && !dir.hasTrailers;
      if (dir.stopAll) {
        dir.pendingBody = concat([dir.pendingBody, chunks[i]!]);
        dir.pendingChunks++;
      } else {
        this.deliverBody(stream, dir, chunks[i]!, eos);
      }
      if (between) await this.settle();
    }
    if (dir.hasTrailers && !this.stopped(stream, dir)) {
      dir.trailersArrived = true;
      if (!dir.stopAll) this.deliverTrailers(stream, dir);
    }
  }

  private exportName(dir: Direction, part: "headers" | "body" | "trailers"): string {
    return `proxy_on_${dir.kind}_${part}`;
  }

  private deliverHeaders(stream: Stream, dir: Direction): void {
    if (this.stopped(stream, dir)) return;
    dir.headersAccessible = true;
    const eos = dir.input.chunks.length === 0 && !dir.hasTrailers;
    const action = this.callGuest(stream.ctx, `${dir.kind}_headers`, this.exportName(dir, "headers"), [
      stream.ctx.id,
      dir.headers.length,
      eos ? 1 : 0,
    ]);
    // A local reply or reset sent from the callback wins over its return value, as in Envoy.
    if (!this.stopped(stream, dir)) {
      if (action === undefined || action === HeadersAction.Continue || action === HeadersAction.ContinueAndEndStream) {
        this.forwardHeaders(dir);
      } else {
        dir.stopAll = true;
        dir.paused = true;
      }
    }
    this.flushAfterCall();
    this.checkComplete(dir);
  }

  private deliverBody(stream: Stream, dir: Direction, data: Uint8Array, eos: boolean): void {
    if (this.stopped(stream, dir)) return;
    dir.body = dir.buffering ? concat([dir.body, data]) : data.slice();
    dir.bodyAccessible = true;
    dir.chunksDelivered = dir.chunksArrived;
    dir.trailersAddable = eos && !dir.hasTrailers;
    const action = this.callGuest(stream.ctx, `${dir.kind}_body`, this.exportName(dir, "body"), [
      stream.ctx.id,
      dir.body.length,
      eos ? 1 : 0,
    ]);
    dir.trailersAddable = false;
    dir.buffering = false;
    if (this.stopped(stream, dir)) {
      // The stream ended inside the callback; nothing more leaves the filter.
    } else if (action === undefined || action === DataAction.Continue) {
      dir.paused = false;
      this.forwardHeaders(dir);
      this.forwardBody(dir, eos);
    } else if (action === DataAction.StopIterationAndBuffer || action === DataAction.StopIterationAndWatermark) {
      dir.buffering = true;
      dir.paused = true;
    } else {
      // StopIterationNoBuffer: the filter took the data; the host keeps nothing of it.
      dir.body = EMPTY;
      dir.bodyAccessible = false;
      dir.paused = true;
    }
    this.flushAfterCall();
    this.checkComplete(dir);
  }

  private deliverTrailers(stream: Stream, dir: Direction): void {
    if (this.stopped(stream, dir)) return;
    dir.trailersAccessible = true;
    dir.trailersDelivered = true;
    const action = this.callGuest(stream.ctx, `${dir.kind}_trailers`, this.exportName(dir, "trailers"), [
      stream.ctx.id,
      dir.trailers?.length ?? 0,
    ]);
    if (this.stopped(stream, dir)) {
      // The stream ended inside the callback.
    } else if (action === undefined || action === 0) {
      dir.paused = false;
      this.forwardHeaders(dir);
      this.forwardBody(dir, false);
      this.forwardTrailers(dir);
    } else {
      dir.paused = true;
    }
    this.flushAfterCall();
    this.checkComplete(dir);
  }

  /** proxy_continue_stream, after the callback that asked for it returned. */
  private resume(stream: Stream, dir: Direction): void {
    if (dir.complete || this.stopped(stream, dir)) return;
    if (dir.stopAll) {
      dir.stopAll = false;
      dir.paused = false;
      this.forwardHeaders(dir);
      if (dir.pendingChunks > 0) {
        const data = dir.pendingBody;
        dir.pendingBody = EMPTY;
        dir.pendingChunks = 0;
        const eos = dir.chunksArrived === dir.input.chunks.length && !dir.hasTrailers;
        this.deliverBody(stream, dir, data, eos);
      }
      if (dir.trailersArrived && !dir.trailersDelivered && !dir.stopAll) this.deliverTrailers(stream, dir);
    } else if (dir.paused) {
      dir.paused = false;
      this.forwardHeaders(dir);
      const eos = dir.chunksDelivered === dir.input.chunks.length && !dir.hasTrailers;
      this.forwardBody(dir, eos);
      if (dir.trailersDelivered) this.forwardTrailers(dir);
    }
    this.checkComplete(dir);
  }

  private forwardHeaders(dir: Direction): void {
    dir.headersAccessible = false;
    if (!dir.forwardedHeaders) dir.forwardedHeaders = dir.headers.map(([k, v]) => [k, v]);
  }

  private forwardBody(dir: Direction, eos: boolean): void {
    if (dir.bodyAccessible && dir.body.length > 0) dir.forwardedBody.push(dir.body);
    dir.body = EMPTY;
    dir.bodyAccessible = false;
    dir.buffering = false;
    if (eos && dir.addedTrailers) this.forwardTrailers(dir);
  }

  private forwardTrailers(dir: Direction): void {
    dir.trailersAccessible = false;
    if (!dir.forwardedTrailers && dir.trailers) dir.forwardedTrailers = dir.trailers.map(([k, v]) => [k, v]);
  }

  private checkComplete(dir: Direction): void {
    if (dir.complete || dir.paused || dir.stopAll || !dir.forwardedHeaders) return;
    if (dir.chunksDelivered !== dir.input.chunks.length || dir.pendingChunks > 0) return;
    if (dir.hasTrailers && !dir.forwardedTrailers) return;
    dir.complete = true;
  }

  // -------------------------------------------------------------------------------------------
  // Calling the guest, deferred actions and async work.

  /** Call a filter export; undefined when it is not exported or trapped (the trap is recorded). */
  private callGuest(ctx: Context, phase: Phase, name: string, args: number[]): number | undefined {
    if (this.failed) return undefined;
    const fn = this.exports[name];
    if (typeof fn !== "function") return undefined;
    const previous = this.frame;
    this.frame = { ctx, effective: ctx, phase };
    try {
      const value = (fn as (...a: number[]) => unknown)(...args);
      return typeof value === "number" ? value >>> 0 : typeof value === "bigint" ? Number(value & 0xffffffffn) : undefined;
    } catch (e) {
      const message = `${name}: ${errorMessage(e)}`;
      this.failed = message;
      const stream = ctx.stream ?? this.activeStream;
      if (stream) stream.trapped = message;
      return undefined;
    } finally {
      this.frame = previous;
    }
  }

  private callBool(ctx: Context, phase: Phase, name: string, args: number[]): boolean {
    if (typeof this.exports[name] !== "function") return !this.failed;
    const value = this.callGuest(ctx, phase, name, args);
    return value !== undefined && value !== 0;
  }

  /** Run the actions hostcalls deferred until the current callback returned (Envoy's after-VM-call actions). */
  private flushAfterCall(): void {
    if (this.flushing || this.frame) return;
    this.flushing = true;
    try {
      while (this.afterCall.length > 0) this.afterCall.shift()!();
    } finally {
      this.flushing = false;
    }
  }

  /** Deliver HTTP call responses and queue notifications, in order, until nothing is pending. */
  private async settle(): Promise<void> {
    for (;;) {
      const task = this.tasks.shift();
      if (task) {
        await task();
        this.flushAfterCall();
        continue;
      }
      const call = this.pendingCalls.shift();
      if (!call) return;
      await this.deliverCall(call);
      this.flushAfterCall();
    }
  }

  private async deliverCall(call: PendingCall): Promise<void> {
    let outcome: ClusterResponse | null | "reset" | "timeout";
    try {
      outcome = await call.outcome;
    } catch {
      outcome = "reset";
    }
    const { record, ctx } = call;
    if (ctx.deleted || this.failed) {
      record.outcome = "cancelled";
      return;
    }
    let response: CallResponse;
    if (outcome === null || outcome === "reset") {
      record.outcome = "reset";
      response = { headers: [], body: EMPTY, trailers: [], statusCode: Status.BrokenConnection, statusMessage: "reset" };
    } else if (outcome === "timeout") {
      record.outcome = "timeout";
      const body = encoder.encode("upstream request timeout");
      const headers: HeaderPair[] = [[":status", "504"], ["content-length", String(body.length)], ["content-type", "text/plain"]];
      response = { headers, body, trailers: [], statusCode: 504, statusMessage: "" };
    } else {
      record.outcome = "response";
      const headers = (outcome.headers ?? []).map(([k, v]): HeaderPair => [k.toLowerCase(), v]);
      if (headerValue(headers, ":status") === undefined) headers.unshift([":status", String(outcome.status ?? 200)]);
      const body = toBytes(outcome.body ?? EMPTY);
      const trailers = (outcome.trailers ?? []).map(([k, v]): HeaderPair => [k.toLowerCase(), v]);
      const statusCode = Number(headerValue(headers, ":status")) || 0;
      response = { headers, body, trailers, statusCode, statusMessage: "" };
    }
    if (record.outcome !== "reset") record.response = { headers: response.headers, body: response.body, trailers: response.trailers };
    ctx.callResponse = response;
    this.callGuest(ctx, "http_call_response", "proxy_on_http_call_response", [
      ctx.id,
      record.id,
      response.headers.length,
      response.body.length,
      response.trailers.length,
    ]);
    ctx.callResponse = undefined;
  }

  private enqueue(queue: SharedQueue, value: Uint8Array): void {
    queue.items.push(value);
    const owner = queue.owner;
    owner.tasks.push(() => {
      const root = owner.contexts.get(queue.ownerContextId);
      if (root && !root.deleted) owner.callGuest(root, "queue_ready", "proxy_on_queue_ready", [root.id, queue.id]);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Guest memory.

  private warn(message: string): void {
    const stream = this.frame?.effective.stream ?? this.activeStream;
    (stream ? stream.warnings : this.warnings).push(message);
  }

  private read(ptr: number, len: number, what: string): Uint8Array | null {
    ptr >>>= 0;
    len >>>= 0;
    const buffer = this.memory.buffer;
    if (ptr + len > buffer.byteLength) {
      this.warn(`${what}: invalid memory access (ptr ${ptr}, len ${len}, memory ${buffer.byteLength})`);
      return null;
    }
    return new Uint8Array(buffer, ptr, len).slice();
  }

  private writable(ptr: number, size: number, what: string): boolean {
    if ((ptr >>> 0) + size > this.memory.buffer.byteLength) {
      this.warn(`${what}: invalid memory access (ptr ${ptr >>> 0}, len ${size}, memory ${this.memory.buffer.byteLength})`);
      return false;
    }
    return true;
  }

  private writeU32(ptr: number, value: number, what: string): boolean {
    if (!this.writable(ptr, 4, what)) return false;
    new DataView(this.memory.buffer).setUint32(ptr >>> 0, value >>> 0, true);
    return true;
  }

  private writeU64(ptr: number, value: bigint, what: string): boolean {
    if (!this.writable(ptr, 8, what)) return false;
    new DataView(this.memory.buffer).setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true);
    return true;
  }

  /** Copy bytes into guest memory allocated by proxy_on_memory_allocate; write pointer and size. */
  private copyOut(bytes: Uint8Array, ptrPtr: number, sizePtr: number, what: string): number {
    if (!this.writable(ptrPtr, 4, what) || !this.writable(sizePtr, 4, what)) return Status.InvalidMemoryAccess;
    let ptr = 0;
    if (bytes.length > 0) {
      const allocate = this.exports.proxy_on_memory_allocate as (size: number) => number;
      ptr = allocate(bytes.length) >>> 0;
      if (ptr === 0 || ptr + bytes.length > this.memory.buffer.byteLength) {
        this.warn(`${what}: proxy_on_memory_allocate(${bytes.length}) returned an unusable pointer ${ptr}`);
        return Status.InvalidMemoryAccess;
      }
      new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
    }
    this.writeU32(ptrPtr, ptr, what);
    this.writeU32(sizePtr, bytes.length, what);
    return Status.Ok;
  }

  private readString(ptr: number, len: number, what: string): string | null {
    const bytes = this.read(ptr, len, what);
    return bytes === null ? null : utf8(bytes);
  }

  // -------------------------------------------------------------------------------------------
  // Header maps and buffers, with Envoy's availability rules.

  private current(): Frame {
    // INVARIANT: hostcalls only run inside callGuest, which sets the frame.
    if (!this.frame) throw new Error("hostcall outside a filter callback");
    return this.frame;
  }

  private mapDirection(type: number, stream: Stream | undefined): Direction | undefined {
    if (!stream) return undefined;
    if (type === MapType.HttpRequestHeaders || type === MapType.HttpRequestTrailers) return stream.req;
    if (type === MapType.HttpResponseHeaders || type === MapType.HttpResponseTrailers) return stream.resp;
    return undefined;
  }

  /** The map the filter may read now, or null (unavailable), or undefined (unknown map type). */
  private readableMap(type: number): HeaderPair[] | null | undefined {
    if (type > MapType.HttpCallResponseTrailers) return undefined;
    const frame = this.current();
    if (type === MapType.HttpCallResponseHeaders) return frame.effective.callResponse?.headers ?? null;
    if (type === MapType.HttpCallResponseTrailers) return frame.effective.callResponse?.trailers ?? null;
    const stream = frame.effective.stream;
    const dir = this.mapDirection(type, stream);
    if (!dir) return null;
    if (frame.phase === "log") {
      if (type === MapType.HttpRequestTrailers) return null;
      const trailers = type === MapType.HttpResponseTrailers;
      return trailers ? dir.trailers : dir.headers;
    }
    return this.writableMap(type, false) ?? null;
  }

  /** The map the filter may change now, or null; `create` makes trailers in an end-of-stream body callback. */
  private writableMap(type: number, create: boolean): HeaderPair[] | null {
    const frame = this.current();
    if (frame.phase === "log") return null;
    const dir = this.mapDirection(type, frame.effective.stream);
    if (!dir) return null;
    const trailers = type === MapType.HttpRequestTrailers || type === MapType.HttpResponseTrailers;
    if (!trailers) return dir.headersAccessible ? dir.headers : null;
    if (dir.trailersAccessible && dir.trailers) return dir.trailers;
    if (dir.trailersAddable) {
      if (!create) return dir.trailers ?? [];
      dir.trailers ??= [];
      dir.addedTrailers = true;
      return dir.trailers;
    }
    return null;
  }

  private bodyDirection(type: number): Direction | null {
    const frame = this.current();
    const stream = frame.effective.stream;
    const dir = type === BufferType.HttpRequestBody ? stream?.req : stream?.resp;
    return dir && dir.bodyAccessible ? dir : null;
  }

  private readableBuffer(type: number): Uint8Array | null | undefined {
    const frame = this.current();
    switch (type) {
      case BufferType.HttpRequestBody:
      case BufferType.HttpResponseBody:
        if (type === BufferType.HttpResponseBody && frame.phase === "http_call_response") {
          this.warn("proxy_get_buffer_bytes: HTTP_RESPONSE_BODY read in proxy_on_http_call_response; the call's body is HTTP_CALL_RESPONSE_BODY (4)");
        }
        return this.bodyDirection(type)?.body ?? null;
      case BufferType.HttpCallResponseBody:
        return frame.effective.callResponse?.body ?? null;
      case BufferType.VmConfiguration:
        return this.vmConfig;
      case BufferType.PluginConfiguration:
        return frame.phase === "configure" ? this.pluginConfig : null;
      case BufferType.DownstreamData:
      case BufferType.UpstreamData:
      case BufferType.GrpcCallMessage:
      case BufferType.ForeignFunctionArguments:
        return null;
      default:
        return undefined;
    }
  }

  private lateWrite(what: string, type: number): void {
    this.warn(`${what}: map ${type} is not writable now (already forwarded, or not in its callback)`);
  }

  // -------------------------------------------------------------------------------------------
  // The import object: every host function of ABI v0.2.1.

  private imports(): WebAssembly.Imports {
    const host = this;
    const env = {
      proxy_log(level: number, ptr: number, len: number): number {
        if (level >>> 0 > 5) return Status.BadArgument;
        const message = host.readString(ptr, len, "proxy_log");
        if (message === null) return Status.InvalidMemoryAccess;
        host.log(level >>> 0, message);
        return Status.Ok;
      },
      proxy_get_log_level(ptr: number): number {
        return host.writeU32(ptr, host.logLevel, "proxy_get_log_level") ? Status.Ok : Status.InvalidMemoryAccess;
      },
      proxy_get_current_time_nanoseconds(ptr: number): number {
        return host.writeU64(ptr, host.now(), "proxy_get_current_time_nanoseconds") ? Status.Ok : Status.InvalidMemoryAccess;
      },
      proxy_set_tick_period_milliseconds(ms: number): number {
        host.tickPeriodMs = ms >>> 0;
        return Status.Ok;
      },
      proxy_done(): number {
        const ctx = host.current().effective;
        if (!ctx.pendingDone) return Status.NotFound;
        ctx.pendingDone = false;
        host.afterCall.push(() => host.finalize(ctx));
        return Status.Ok;
      },
      proxy_set_effective_context(id: number): number {
        const ctx = host.contexts.get(id >>> 0);
        if (!ctx || ctx.deleted) return Status.BadArgument;
        host.current().effective = ctx;
        return Status.Ok;
      },
      proxy_get_buffer_bytes(type: number, start: number, maxSize: number, ptrPtr: number, sizePtr: number): number {
        const buffer = host.readableBuffer(type >>> 0);
        if (buffer === undefined) return Status.BadArgument;
        if (buffer === null) return Status.NotFound;
        start >>>= 0;
        maxSize >>>= 0;
        if (start > buffer.length) return Status.BadArgument;
        const end = Math.min(buffer.length, start + maxSize);
        return host.copyOut(buffer.subarray(start, end), ptrPtr, sizePtr, "proxy_get_buffer_bytes");
      },
      proxy_set_buffer_bytes(type: number, start: number, size: number, ptr: number, len: number): number {
        type >>>= 0;
        const known = host.readableBuffer(type);
        if (known === undefined) return Status.BadArgument;
        if (type !== BufferType.HttpRequestBody && type !== BufferType.HttpResponseBody) {
          return known === null ? Status.NotFound : Status.BadArgument;
        }
        const dir = host.bodyDirection(type);
        if (!dir) return Status.NotFound;
        const data = host.read(ptr, len, "proxy_set_buffer_bytes");
        if (data === null) return Status.InvalidMemoryAccess;
        start >>>= 0;
        size >>>= 0;
        // Envoy's body buffer supports replacing a prefix and appending, nothing in between.
        if (start === 0) dir.body = concat([data, dir.body.subarray(Math.min(size, dir.body.length))]);
        else if (start >= dir.body.length) dir.body = concat([dir.body, data]);
        else return Status.BadArgument;
        return Status.Ok;
      },
      proxy_get_buffer_status(type: number, sizePtr: number, flagsPtr: number): number {
        const buffer = host.readableBuffer(type >>> 0);
        if (buffer === undefined) return Status.BadArgument;
        if (buffer === null) return Status.NotFound;
        const ok = host.writeU32(sizePtr, buffer.length, "proxy_get_buffer_status") && host.writeU32(flagsPtr, 0, "proxy_get_buffer_status");
        return ok ? Status.Ok : Status.InvalidMemoryAccess;
      },
      proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
        const map = host.readableMap(type >>> 0);
        if (map === undefined) return Status.BadArgument;
        return host.copyOut(serializeHeaders(map ?? []), ptrPtr, sizePtr, "proxy_get_header_map_pairs");
      },
      proxy_set_header_map_pairs(type: number, ptr: number, len: number): number {
        if (type >>> 0 > MapType.HttpCallResponseTrailers) return Status.BadArgument;
        const map = host.writableMap(type >>> 0, true);
        if (!map) {
          host.lateWrite("proxy_set_header_map_pairs", type);
          return Status.BadArgument;
        }
        const bytes = host.read(ptr, len, "proxy_set_header_map_pairs");
        if (bytes === null) return Status.InvalidMemoryAccess;
        const pairs = deserializeHeaders(bytes);
        if (pairs === null) return Status.BadArgument;
        map.splice(0, map.length, ...pairs.map(([k, v]): HeaderPair => [k.toLowerCase(), v]));
        return Status.Ok;
      },
      proxy_get_header_map_value(type: number, keyPtr: number, keyLen: number, ptrPtr: number, sizePtr: number): number {
        const map = host.readableMap(type >>> 0);
        if (map === undefined || map === null) return host.frame?.phase === "log" ? Status.NotFound : Status.BadArgument;
        const key = host.readString(keyPtr, keyLen, "proxy_get_header_map_value");
        if (key === null) return Status.InvalidMemoryAccess;
        const value = headerValue(map, key.toLowerCase());
        if (value === undefined) return Status.NotFound;
        return host.copyOut(encoder.encode(value), ptrPtr, sizePtr, "proxy_get_header_map_value");
      },
      proxy_add_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
        return host.editMap("proxy_add_header_map_value", type, keyPtr, keyLen, valuePtr, valueLen, (map, key, value) => {
          map.push([key, value]);
        });
      },
      proxy_replace_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
        return host.editMap("proxy_replace_header_map_value", type, keyPtr, keyLen, valuePtr, valueLen, (map, key, value) => {
          const first = map.findIndex(([k]) => k === key);
          if (first < 0) {
            map.push([key, value]);
            return;
          }
          map[first] = [key, value];
          for (let i = map.length - 1; i > first; i--) if (map[i]![0] === key) map.splice(i, 1);
        });
      },
      proxy_remove_header_map_value(type: number, keyPtr: number, keyLen: number): number {
        return host.editMap("proxy_remove_header_map_value", type, keyPtr, keyLen, 0, 0, (map, key) => {
          for (let i = map.length - 1; i >= 0; i--) if (map[i]![0] === key) map.splice(i, 1);
        });
      },
      proxy_get_header_map_size(type: number, sizePtr: number): number {
        if (type >>> 0 > MapType.HttpCallResponseTrailers) return Status.BadArgument;
        const map = host.readableMap(type >>> 0);
        if (!map) return Status.BadArgument;
        return host.writeU32(sizePtr, serializeHeaders(map).length, "proxy_get_header_map_size") ? Status.Ok : Status.InvalidMemoryAccess;
      },
      proxy_send_local_response(
        status: number,
        detailsPtr: number,
        detailsLen: number,
        bodyPtr: number,
        bodyLen: number,
        headersPtr: number,
        headersLen: number,
        grpcStatus: number,
      ): number {
        const details = host.readString(detailsPtr, detailsLen, "proxy_send_local_response");
        const body = host.read(bodyPtr, bodyLen, "proxy_send_local_response");
        const headerBytes = host.read(headersPtr, headersLen, "proxy_send_local_response");
        if (details === null || body === null || headerBytes === null) return Status.InvalidMemoryAccess;
        const extra = deserializeHeaders(headerBytes);
        if (extra === null) return Status.BadArgument;
        const stream = host.current().effective.stream;
        if (!stream) {
          host.warn("proxy_send_local_response: called outside an HTTP stream; ignored");
          return Status.Ok;
        }
        // Envoy sends the reply after the callback returns and then ignores the callback's
        // return value; recording it now gives the same outcome.
        host.applyLocalReply(stream, buildLocalReply(status >>> 0, details, body, extra, grpcStatus | 0));
        return Status.Ok;
      },
      proxy_continue_stream(type: number): number {
        type >>>= 0;
        if (type === StreamType.Downstream) return Status.Ok;
        if (type === StreamType.Upstream) return Status.Unimplemented;
        if (type !== StreamType.HttpRequest && type !== StreamType.HttpResponse) return Status.BadArgument;
        const stream = host.current().effective.stream;
        const dir = type === StreamType.HttpRequest ? stream?.req : stream?.resp;
        if (!stream || !dir) return Status.Ok;
        // Envoy drops its handles on the paused maps at once, not when the action runs.
        dir.headersAccessible = false;
        dir.trailersAccessible = false;
        host.afterCall.push(() => host.resume(stream, dir));
        return Status.Ok;
      },
      proxy_close_stream(type: number): number {
        type >>>= 0;
        if (type === StreamType.Downstream || type === StreamType.Upstream) return Status.Ok;
        if (type !== StreamType.HttpRequest && type !== StreamType.HttpResponse) return Status.BadArgument;
        const stream = host.current().effective.stream;
        if (stream) stream.reset ??= "stream closed by the filter";
        return Status.Ok;
      },
      proxy_get_status(codePtr: number, msgPtrPtr: number, msgSizePtr: number): number {
        const response = host.current().effective.callResponse;
        if (!host.writeU32(codePtr, response?.statusCode ?? 0, "proxy_get_status")) return Status.InvalidMemoryAccess;
        return host.copyOut(encoder.encode(response?.statusMessage ?? ""), msgPtrPtr, msgSizePtr, "proxy_get_status");
      },
      proxy_http_call(
        upstreamPtr: number,
        upstreamLen: number,
        headersPtr: number,
        headersLen: number,
        bodyPtr: number,
        bodyLen: number,
        trailersPtr: number,
        trailersLen: number,
        timeout: number,
        tokenPtr: number,
      ): number {
        return host.httpCall(upstreamPtr, upstreamLen, headersPtr, headersLen, bodyPtr, bodyLen, trailersPtr, trailersLen, timeout, tokenPtr);
      },
      proxy_grpc_call(): number {
        return Status.ParseFailure;
      },
      proxy_grpc_stream(): number {
        return Status.ParseFailure;
      },
      proxy_grpc_send(): number {
        return Status.NotFound;
      },
      proxy_grpc_cancel(): number {
        return Status.NotFound;
      },
      proxy_grpc_close(): number {
        return Status.NotFound;
      },
      proxy_get_property(pathPtr: number, pathLen: number, ptrPtr: number, sizePtr: number): number {
        const path = host.read(pathPtr, pathLen, "proxy_get_property");
        if (path === null) return Status.InvalidMemoryAccess;
        const value = host.property(utf8(path));
        if (value === undefined) return Status.NotFound;
        return host.copyOut(value, ptrPtr, sizePtr, "proxy_get_property");
      },
      proxy_set_property(pathPtr: number, pathLen: number, valuePtr: number, valueLen: number): number {
        const path = host.read(pathPtr, pathLen, "proxy_set_property");
        const value = host.read(valuePtr, valueLen, "proxy_set_property");
        if (path === null || value === null) return Status.InvalidMemoryAccess;
        const stream = host.current().effective.stream;
        if (!stream) return Status.NotFound;
        stream.properties.set(utf8(path).replace(/\0+$/, ""), value);
        return Status.Ok;
      },
      proxy_get_shared_data(keyPtr: number, keyLen: number, ptrPtr: number, sizePtr: number, casPtr: number): number {
        const key = host.readString(keyPtr, keyLen, "proxy_get_shared_data");
        if (key === null) return Status.InvalidMemoryAccess;
        const entry = host.shared.data.get(key);
        if (!entry) return Status.NotFound;
        if (!host.writable(casPtr, 4, "proxy_get_shared_data")) return Status.InvalidMemoryAccess;
        const status = host.copyOut(entry.value, ptrPtr, sizePtr, "proxy_get_shared_data");
        if (status === Status.Ok) host.writeU32(casPtr, entry.cas, "proxy_get_shared_data");
        return status;
      },
      proxy_set_shared_data(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number, cas: number): number {
        const key = host.readString(keyPtr, keyLen, "proxy_set_shared_data");
        const value = host.read(valuePtr, valueLen, "proxy_set_shared_data");
        if (key === null || value === null) return Status.InvalidMemoryAccess;
        const entry = host.shared.data.get(key);
        cas >>>= 0;
        // As proxy-wasm-cpp-host: a CAS only guards an existing key; 0 means "unconditional".
        if (entry && cas !== 0 && cas !== entry.cas) return Status.CasMismatch;
        host.shared.data.set(key, { value, cas: host.shared.nextCas() });
        return Status.Ok;
      },
      proxy_register_shared_queue(namePtr: number, nameLen: number, idPtr: number): number {
        const name = host.readString(namePtr, nameLen, "proxy_register_shared_queue");
        if (name === null || !host.writable(idPtr, 4, "proxy_register_shared_queue")) return Status.InvalidMemoryAccess;
        let queue = host.shared.queues.find((q) => q.vmId === host.vmId && q.name === name);
        if (!queue) {
          queue = { id: host.shared.queues.length + 1, vmId: host.vmId, name, items: [], owner: host, ownerContextId: host.root.id };
          host.shared.queues.push(queue);
        }
        host.writeU32(idPtr, queue.id, "proxy_register_shared_queue");
        return Status.Ok;
      },
      proxy_resolve_shared_queue(vmPtr: number, vmLen: number, namePtr: number, nameLen: number, idPtr: number): number {
        const vmId = host.readString(vmPtr, vmLen, "proxy_resolve_shared_queue");
        const name = host.readString(namePtr, nameLen, "proxy_resolve_shared_queue");
        if (vmId === null || name === null) return Status.InvalidMemoryAccess;
        const queue = host.shared.queues.find((q) => q.vmId === vmId && q.name === name);
        if (!queue) return Status.NotFound;
        return host.writeU32(idPtr, queue.id, "proxy_resolve_shared_queue") ? Status.Ok : Status.InvalidMemoryAccess;
      },
      proxy_enqueue_shared_queue(id: number, valuePtr: number, valueLen: number): number {
        const queue = host.shared.queues[(id >>> 0) - 1];
        if (!queue) return Status.NotFound;
        const value = host.read(valuePtr, valueLen, "proxy_enqueue_shared_queue");
        if (value === null) return Status.InvalidMemoryAccess;
        host.enqueue(queue, value);
        return Status.Ok;
      },
      proxy_dequeue_shared_queue(id: number, ptrPtr: number, sizePtr: number): number {
        const queue = host.shared.queues[(id >>> 0) - 1];
        if (!queue) return Status.NotFound;
        if (queue.items.length === 0) return Status.Empty;
        if (!host.writable(ptrPtr, 4, "proxy_dequeue_shared_queue") || !host.writable(sizePtr, 4, "proxy_dequeue_shared_queue")) {
          return Status.InvalidMemoryAccess;
        }
        return host.copyOut(queue.items.shift()!, ptrPtr, sizePtr, "proxy_dequeue_shared_queue");
      },
      proxy_define_metric(type: number, namePtr: number, nameLen: number, idPtr: number): number {
        // Indexed by proxy_metric_type_t: Counter 0, Gauge 1, Histogram 2.
        const kinds = ["counter", "gauge", "histogram"] as const;
        const kind = kinds[type >>> 0];
        if (!kind) return Status.BadArgument;
        const name = host.readString(namePtr, nameLen, "proxy_define_metric");
        if (name === null || !host.writable(idPtr, 4, "proxy_define_metric")) return Status.InvalidMemoryAccess;
        let metric = host.metrics.get(name);
        if (!metric || metric.type !== kind) {
          metric = { name, type: kind, value: 0n, samples: [] };
          host.metrics.set(name, metric);
        }
        const id = (host.metricIds.size + 1) * 4 + (type >>> 0);
        host.metricIds.set(id, metric);
        host.writeU32(idPtr, id, "proxy_define_metric");
        return Status.Ok;
      },
      proxy_record_metric(id: number, value: bigint): number {
        const metric = host.metricIds.get(id >>> 0);
        if (!metric) return Status.NotFound;
        const v = BigInt.asUintN(64, value);
        if (metric.type === "counter") metric.value += v;
        else if (metric.type === "gauge") metric.value = v;
        else metric.samples.push(v);
        return Status.Ok;
      },
      proxy_increment_metric(id: number, delta: bigint): number {
        const metric = host.metricIds.get(id >>> 0);
        if (!metric) return Status.NotFound;
        const d = BigInt.asIntN(64, delta);
        if (metric.type === "histogram" || (metric.type === "counter" && d <= 0n)) return Status.BadArgument;
        metric.value += d;
        return Status.Ok;
      },
      proxy_get_metric(id: number, valuePtr: number): number {
        const metric = host.metricIds.get(id >>> 0);
        if (!metric) return Status.NotFound;
        if (metric.type === "histogram") return Status.BadArgument;
        return host.writeU64(valuePtr, metric.value, "proxy_get_metric") ? Status.Ok : Status.InvalidMemoryAccess;
      },
      proxy_call_foreign_function(): number {
        return Status.NotFound;
      },
    };

    const wasi = {
      fd_write(fd: number, iovs: number, iovsLen: number, writtenPtr: number): number {
        if (fd !== 1 && fd !== 2) return WasiErrno.Badf;
        const table = host.read(iovs, (iovsLen >>> 0) * 8, "fd_write");
        if (table === null) return WasiErrno.Fault;
        const view = new DataView(table.buffer);
        const parts: Uint8Array[] = [];
        for (let i = 0; i < iovsLen >>> 0; i++) {
          const part = host.read(view.getUint32(i * 8, true), view.getUint32(i * 8 + 4, true), "fd_write");
          if (part === null) return WasiErrno.Fault;
          parts.push(part);
        }
        const bytes = concat(parts);
        if (!host.writeU32(writtenPtr, bytes.length, "fd_write")) return WasiErrno.Fault;
        host.log(fd === 1 ? 2 : 4, utf8(bytes).replace(/\n$/, ""));
        return WasiErrno.Success;
      },
      clock_time_get(id: number, _precision: bigint, ptr: number): number {
        const time = id === 0 ? host.now() : id === 1 ? process.hrtime.bigint() : undefined;
        if (time === undefined) return WasiErrno.Notsup;
        return host.writeU64(ptr, time, "clock_time_get") ? WasiErrno.Success : WasiErrno.Fault;
      },
      random_get(ptr: number, len: number): number {
        if (!host.writable(ptr, len >>> 0, "random_get")) return WasiErrno.Fault;
        const target = new Uint8Array(host.memory.buffer, ptr >>> 0, len >>> 0);
        for (let at = 0; at < target.length; at += 65536) crypto.getRandomValues(target.subarray(at, at + 65536));
        return WasiErrno.Success;
      },
      environ_sizes_get(countPtr: number, sizePtr: number): number {
        return host.writeU32(countPtr, 0, "environ_sizes_get") && host.writeU32(sizePtr, 0, "environ_sizes_get")
          ? WasiErrno.Success
          : WasiErrno.Fault;
      },
      environ_get(): number {
        return WasiErrno.Success;
      },
      args_sizes_get(countPtr: number, sizePtr: number): number {
        return host.writeU32(countPtr, 0, "args_sizes_get") && host.writeU32(sizePtr, 0, "args_sizes_get")
          ? WasiErrno.Success
          : WasiErrno.Fault;
      },
      args_get(): number {
        return WasiErrno.Success;
      },
      proc_exit(code: number): never {
        throw new Error(`filter called proc_exit(${code})`);
      },
    };
    return { env, wasi_snapshot_preview1: wasi };
  }

  private log(level: number, message: string): void {
    if (level < this.logLevel) return;
    const entry: LogEntry = { level: LOG_LEVEL_NAMES[level]!, message, contextId: this.frame?.effective.id ?? 0 };
    this.logs.push(entry);
    this.activeStream?.logs.push(entry);
  }

  private editMap(
    what: string,
    type: number,
    keyPtr: number,
    keyLen: number,
    valuePtr: number,
    valueLen: number,
    edit: (map: HeaderPair[], key: string, value: string) => void,
  ): number {
    type >>>= 0;
    if (type > MapType.HttpCallResponseTrailers) return Status.BadArgument;
    const map = this.writableMap(type, true);
    if (!map) {
      this.lateWrite(what, type);
      return Status.BadArgument;
    }
    const key = this.readString(keyPtr, keyLen, what);
    const value = this.readString(valuePtr, valueLen, what);
    if (key === null || value === null) return Status.InvalidMemoryAccess;
    edit(map, key.toLowerCase(), value);
    return Status.Ok;
  }

  private applyLocalReply(stream: Stream, reply: LocalResponse): void {
    if (stream.trapped || stream.reset) return;
    if (stream.phase === "request") {
      if (stream.localReply) stream.warnings.push("proxy_send_local_response: a local response was already sent; ignored");
      else stream.localReply = reply;
      return;
    }
    if (stream.localReply || stream.responseOverride) {
      stream.warnings.push("proxy_send_local_response: a local response was already sent; ignored");
    } else if (stream.resp && !stream.resp.forwardedHeaders) {
      stream.responseOverride = reply;
    } else {
      stream.reset = "local response after the response headers were sent";
    }
  }

  private property(path: string): Uint8Array | undefined {
    const key = path.replace(/\0+$/, "");
    const stream = this.frame?.effective.stream;
    const own = stream?.properties.get(key) ?? this.properties.get(key);
    if (own) return own;
    const segments = key.split("\0");
    const [top, field, name] = segments;
    if (segments.length === 1) {
      if (top === "plugin_name") return encoder.encode(this.options.pluginName ?? "plugin");
      if (top === "plugin_root_id") return encoder.encode(this.options.rootId ?? "");
      if (top === "plugin_vm_id") return encoder.encode(this.vmId);
      return undefined;
    }
    if (!stream) return undefined;
    if (top === "request") {
      const headers = stream.req.headers;
      const path = headerValue(headers, ":path");
      const text = (value: string | undefined) => (value === undefined ? undefined : encoder.encode(value));
      switch (field) {
        case "path":
          return text(path);
        case "url_path":
          return text(path?.split("?")[0]);
        case "host":
          return text(headerValue(headers, ":authority") ?? headerValue(headers, "host"));
        case "method":
          return text(headerValue(headers, ":method"));
        case "scheme":
          return text(headerValue(headers, ":scheme"));
        case "id":
          return text(headerValue(headers, "x-request-id"));
        case "headers":
          return segments.length === 3 ? text(headerValue(headers, name!.toLowerCase())) : undefined;
      }
      return undefined;
    }
    if (top === "response" && stream.resp) {
      const headers = stream.resp.headers;
      if (field === "code") {
        const code = headerValue(headers, ":status");
        return code === undefined ? undefined : propertyBytes(BigInt(Number(code) || 0));
      }
      if (field === "headers" && segments.length === 3) {
        const value = headerValue(headers, name!.toLowerCase());
        return value === undefined ? undefined : encoder.encode(value);
      }
    }
    return undefined;
  }

  private httpCall(
    upstreamPtr: number,
    upstreamLen: number,
    headersPtr: number,
    headersLen: number,
    bodyPtr: number,
    bodyLen: number,
    trailersPtr: number,
    trailersLen: number,
    timeout: number,
    tokenPtr: number,
  ): number {
    const what = "proxy_http_call";
    const cluster = this.readString(upstreamPtr, upstreamLen, what);
    const headerBytes = this.read(headersPtr, headersLen, what);
    const body = this.read(bodyPtr, bodyLen, what);
    const trailerBytes = this.read(trailersPtr, trailersLen, what);
    if (cluster === null || headerBytes === null || body === null || trailerBytes === null) return Status.InvalidMemoryAccess;
    if (!this.writable(tokenPtr, 4, what)) return Status.InvalidMemoryAccess;
    const rawHeaders = deserializeHeaders(headerBytes);
    const rawTrailers = deserializeHeaders(trailerBytes);
    if (rawHeaders === null || rawTrailers === null) return Status.BadArgument;
    const handler = this.options.clusters?.[cluster];
    if (!handler) {
      this.warn(`${what}: unknown cluster \`${cluster}\``);
      return Status.BadArgument;
    }
    const headers = rawHeaders.map(([k, v]): HeaderPair => [k.toLowerCase(), v]);
    for (const required of [":method", ":path", ":authority"]) {
      if (headerValue(headers, required) === undefined) {
        this.warn(`${what}: headers lack \`${required}\``);
        return Status.BadArgument;
      }
    }
    if (body.length > 0) {
      const at = headers.findIndex(([k]) => k === "content-length");
      if (at >= 0) headers.splice(at, 1);
      headers.push(["content-length", String(body.length)]);
    }
    const frame = this.current();
    const record: HttpCallRecord = {
      id: ProxyWasmHost.nextCallId++,
      contextId: frame.effective.id,
      cluster,
      headers,
      body,
      trailers: rawTrailers.map(([k, v]): HeaderPair => [k.toLowerCase(), v]),
      timeoutMs: timeout >>> 0,
    };
    this.writeU32(tokenPtr, record.id, what);
    this.httpCalls.push(record);
    this.activeStream?.httpCalls.push(record);
    const request: ClusterRequest = {
      cluster,
      headers: record.headers.map(([k, v]) => [k, v]),
      body: record.body.slice(),
      trailers: record.trailers.map(([k, v]) => [k, v]),
      timeoutMs: record.timeoutMs,
    };
    const limit = record.timeoutMs > 0 ? record.timeoutMs : (this.options.httpCallTimeoutCapMs ?? 30_000);
    // The handler starts after this hostcall returns, as a real upstream answers asynchronously.
    const answer = Promise.resolve().then(() => handler(request));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), limit);
    });
    const outcome = Promise.race([answer, timedOut]).finally(() => clearTimeout(timer));
    outcome.catch(() => undefined);
    this.pendingCalls.push({ record, ctx: frame.effective, outcome });
    return Status.Ok;
  }
}

function buildLocalReply(status: number, details: string, body: Uint8Array, extra: HeaderPair[], grpcStatus: number): LocalResponse {
  const headers: HeaderPair[] = [[":status", String(status)]];
  for (const [k, v] of extra) headers.push([k.toLowerCase(), v]);
  if (body.length > 0) {
    headers.push(["content-length", String(body.length)]);
    if (headerValue(headers, "content-type") === undefined) headers.push(["content-type", "text/plain"]);
  }
  const reply: LocalResponse = { status, headers, body, details: details.replace(/\s/g, "_") };
  // SDKs pass -1 for "no gRPC status"; Envoy ignores anything outside 0..16.
  if (grpcStatus >= 0 && grpcStatus <= 16) reply.grpcStatus = grpcStatus;
  return reply;
}

function localReplyInput(reply: LocalResponse): DirectionInput {
  return { headers: reply.headers, chunks: reply.body.length > 0 ? [reply.body] : [] };
}

/** Refuse modules Envoy would refuse: unknown imports, no v0.2.1 marker, no allocator, no memory. */
function checkModule(module: WebAssembly.Module): void {
  const unknown = WebAssembly.Module.imports(module)
    .filter((i) => i.kind !== "function" || !HOST_FUNCTIONS[i.module]?.includes(i.name))
    .map((i) => `\`${i.module}.${i.name}\`${i.kind === "function" ? "" : ` (${i.kind})`}`);
  if (unknown.length > 0) {
    throw new ProxyWasmHostError(
      "unknown_import",
      `filter imports what a proxy-wasm v0.2.1 host does not provide: ${unknown.join(", ")}`,
    );
  }
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  const missing: string[] = [];
  if (exports.get(ABI_MARKER) !== "function") {
    const other = OTHER_ABI_MARKERS.filter((m) => exports.has(m));
    missing.push(other.length > 0 ? `\`${ABI_MARKER}\` (the module declares ${other.map((m) => `\`${m}\``).join(", ")})` : `\`${ABI_MARKER}\``);
  }
  if (exports.get("proxy_on_memory_allocate") !== "function") missing.push("`proxy_on_memory_allocate`");
  if (exports.get("memory") !== "memory") missing.push("`memory`");
  if (missing.length > 0) {
    throw new ProxyWasmHostError("missing_export", `filter does not export ${missing.join(", ")}`);
  }
}
