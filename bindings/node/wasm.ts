// Binding, raw ABI: loads the engine wasm (build/aegis.wasm) and gives typed access to its exports
// (docs/engine-abi.md) and to its memory. Input: the wasm, as a URL, bytes or a compiled module.
// Output: an Engine per instance, with helpers that copy bytes in and out. No policy logic lives
// here (see index.ts for the API). Platform-neutral: the same file runs in Node, Deno and browsers
// (docs/hosts.md), so it has no static Node imports.

/** The engine's exports, as docs/engine-abi.md lists them. All pointers are u32 memory offsets. */
export interface EngineExports {
  memory: WebAssembly.Memory;
  /** Ensure the input buffer holds `cap` bytes; its address. */
  input_ptr(cap: number): number;
  /** Load the bundle in the input buffer: 0 or a bundle error code (error JSON in the output). */
  load_bundle(len: number): number;
  /** Address of the 32-byte SHA-256 digest of the loaded bundle (0 when none). */
  bundle_digest_ptr(): number;
  /** Evaluate the request JSON in the input buffer: 0 (decision JSON in the output) or an error code. */
  evaluate_json(len: number): number;
  output_ptr(): number;
  output_len(): number;
  /** Ensure the tape region holds `cap` bytes; its address. */
  tape_ptr(cap: number): number;
  /** Evaluate the tape at tape_ptr (`used` bytes, root Node at offset `root`): 0 or an error code. */
  evaluate_tape(root: number, used: number): number;
  /** Render the last decision's JSON into the output; its length. */
  render_decision(): number;
  /** Render the last decision's reason, a JSON string literal, into the output; its length. */
  render_reason(): number;
  result_effect(): number;
  result_rule(): number;
  result_policy(): number;
  result_flags(): number;
  /** Strict JSON syntax check of the input: 0 or a request error code. */
  parse_json(len: number): number;
  /** Evaluate one rule's expression against the request JSON in the input: 0 and value JSON, or an error code. */
  eval_rule_value(rule: number, len: number): number;
}

/** result_flags bits. */
export const FLAG_ENFORCED = 1;
export const FLAG_SHADOW = 2;
export const FLAG_REDACTIONS = 4;
export const FLAG_DYNAMIC_REASON = 8;

/**
 * Where the engine's wasm comes from: a URL (http(s), file, data or blob), the wasm bytes, or a
 * module compiled already. Bundlers and embedders that serve the wasm elsewhere pass one of these.
 */
export type EngineSource = URL | string | ArrayBuffer | ArrayBufferView | WebAssembly.Module;

// Beside the package in the repository layout; bindings/web/ points it elsewhere for the bundle.
let defaultSource: EngineSource = new URL("../../build/aegis.wasm", import.meta.url);
const modulesByUrl = new Map<string, Promise<WebAssembly.Module>>();
const modulesByBytes = new WeakMap<object, Promise<WebAssembly.Module>>();

/**
 * Set where Engine.create and Aegis.load find the wasm when given no source (default:
 * `build/aegis.wasm` resolved against this file's URL). For bundles that move the wasm.
 */
export function setDefaultEngineSource(source: EngineSource): void {
  defaultSource = source;
}

/** The current default engine source (see setDefaultEngineSource). */
export function defaultEngineSource(): EngineSource {
  return defaultSource;
}

/**
 * Compile the engine module once per URL or byte buffer (later calls share the compiled module).
 * A module is returned as it is.
 */
export function loadEngineModule(source: EngineSource = defaultSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return Promise.resolve(source);
  if (typeof source === "string" || source instanceof URL) {
    const url = new URL(source);
    return remember(modulesByUrl, url.href, () => compileUrl(url));
  }
  // WebAssembly.compile copies the bytes, so a view over shared memory is fine too.
  const bytes = (ArrayBuffer.isView(source)
    ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
    : new Uint8Array(source)) as Uint8Array<ArrayBuffer>;
  // Keyed by the caller's object: the same buffer passed again is not compiled again.
  return remember(modulesByBytes, source, () => WebAssembly.compile(bytes));
}

function remember<K extends object | string>(
  cache: { get(k: K): Promise<WebAssembly.Module> | undefined; set(k: K, v: Promise<WebAssembly.Module>): unknown; delete(k: K): unknown },
  key: K,
  compile: () => Promise<WebAssembly.Module>,
): Promise<WebAssembly.Module> {
  let module = cache.get(key);
  if (!module) {
    module = compile();
    cache.set(key, module);
    module.catch(() => cache.delete(key)); // let a later call retry after a failure
  }
  return module;
}

interface NodeFs { readFile(path: URL): Promise<Uint8Array<ArrayBuffer>> }

/**
 * Fetch and compile the wasm at `url`. Node's fetch cannot read file: URLs, so Node reads them
 * with fs; everywhere else (Deno reads file: URLs with fetch, browsers http(s)) fetch does.
 */
async function compileUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === "file:" && !("Deno" in globalThis)) {
    // A computed specifier: bundlers targeting browsers must not try to resolve node:fs.
    const specifier = "node:fs/promises";
    const fs = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as NodeFs;
    return WebAssembly.compile(await fs.readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load the engine wasm from \`${url.href}\`: HTTP ${response.status}`);
  // compileStreaming insists on the application/wasm type; a server that does not send it still
  // serves the right bytes.
  if (typeof WebAssembly.compileStreaming === "function" && response.headers.get("content-type")?.split(";")[0].trim() === "application/wasm") {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** One engine instance (its own memory and loaded bundle) with byte-level helpers. */
export class Engine {
  readonly exports: EngineExports;
  private bytes: Uint8Array;

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as EngineExports;
    this.bytes = new Uint8Array(this.exports.memory.buffer);
  }

  /** Instantiate the engine from `source` (default: see setDefaultEngineSource). */
  static async create(source?: EngineSource): Promise<Engine> {
    const instance = await WebAssembly.instantiate(await loadEngineModule(source), {});
    return new Engine(instance);
  }

  /**
   * A view of the whole memory; re-created only after the memory grew. Growing detaches the old
   * buffer and its views read as length 0, which is cheaper to test than fetching memory.buffer.
   */
  memory(): Uint8Array {
    if (this.bytes.length === 0) this.bytes = new Uint8Array(this.exports.memory.buffer);
    return this.bytes;
  }

  /** Copy `data` into the input buffer; returns its length. */
  writeInput(data: Uint8Array): number {
    const ptr = this.exports.input_ptr(data.length);
    this.memory().set(data, ptr);
    return data.length;
  }

  /**
   * Encode `text` as UTF-8 straight into the input buffer; returns the byte length. `text` must be
   * well-formed UTF-16 (a lone surrogate would be replaced by U+FFFD).
   */
  writeInputString(text: string): number {
    const ptr = this.exports.input_ptr(text.length * 3);
    const view = this.memory().subarray(ptr, ptr + text.length * 3);
    return textEncoder.encodeInto(text, view).written;
  }

  /** The output buffer of the last call, as a view (valid until the next engine call). */
  outputView(): Uint8Array {
    const ptr = this.exports.output_ptr();
    return this.memory().subarray(ptr, ptr + this.exports.output_len());
  }

  /** A copy of the output buffer of the last call. */
  outputBytes(): Uint8Array {
    return this.outputView().slice();
  }

  /** The output buffer of the last call, decoded as UTF-8. */
  outputText(): string {
    return textDecoder.decode(this.outputView());
  }

  /** `n` bytes of memory at `ptr`, copied. */
  read(ptr: number, n: number): Uint8Array {
    return this.memory().slice(ptr, ptr + n);
  }
}
