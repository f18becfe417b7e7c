// Node binding, raw ABI: loads build/aegis.wasm and gives typed access to its exports
// (docs/engine-abi.md) and to its memory. Input: the wasm file. Output: an Engine per instance,
// with helpers that copy bytes in and out. No policy logic lives here (see index.ts for the API).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

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

const DEFAULT_WASM_URL = new URL("../../build/aegis.wasm", import.meta.url);
const modules = new Map<string, Promise<WebAssembly.Module>>();

/** Compile the engine module once per file (later calls share the compiled module). */
export function loadEngineModule(url: URL = DEFAULT_WASM_URL): Promise<WebAssembly.Module> {
  let module = modules.get(url.href);
  if (!module) {
    module = readFile(fileURLToPath(url)).then((bytes) => WebAssembly.compile(bytes));
    modules.set(url.href, module);
    module.catch(() => modules.delete(url.href)); // let a later call retry after a failure
  }
  return module;
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

  /** Instantiate the engine from `module` (default: build/aegis.wasm). */
  static async create(module?: WebAssembly.Module): Promise<Engine> {
    const instance = await WebAssembly.instantiate(module ?? (await loadEngineModule()), {});
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
