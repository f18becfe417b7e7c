// Test support: a minimal host for the engine wasm (engine/index.ts), speaking the raw ABI of
// docs/engine-abi.md. Input: bundle and request bytes. Output: status codes and output JSON text.
// The product's Node binding lives in bindings/node; this one exists so engine tests do not
// depend on it.
import { compileAssemblyScript } from "./compile.ts";
import type { EngineExports as Exports } from "../../bindings/node/wasm.ts";


const utf8 = new TextEncoder();
const decoder = new TextDecoder();

/** A fresh engine instance compiled from engine/index.ts. */
export class EngineHost {
  private constructor(readonly x: Exports) {}

  static async create(): Promise<EngineHost> {
    const instance = await compileAssemblyScript("engine/index.ts");
    return new EngineHost(instance.exports as unknown as Exports);
  }

  /** Copy bytes into the input buffer; returns the length. */
  private input(bytes: Uint8Array): number {
    const p = this.x.input_ptr(bytes.length);
    new Uint8Array(this.x.memory.buffer, p, bytes.length).set(bytes);
    return bytes.length;
  }

  output(): string {
    return decoder.decode(new Uint8Array(this.x.memory.buffer, this.x.output_ptr(), this.x.output_len()));
  }

  load(bytes: Uint8Array): { code: number; output: string } {
    const code = this.x.load_bundle(this.input(bytes));
    return { code, output: this.output() };
  }

  digest(): Uint8Array | null {
    const p = this.x.bundle_digest_ptr();
    return p === 0 ? null : new Uint8Array(this.x.memory.buffer, p, 32).slice();
  }

  evaluate(request: string | Uint8Array): { code: number; output: string } {
    const bytes = typeof request === "string" ? utf8.encode(request) : request;
    const code = this.x.evaluate_json(this.input(bytes));
    return { code, output: this.output() };
  }

  evalRule(rule: number, request: string): { code: number; output: string } {
    const bytes = utf8.encode(request);
    const code = this.x.eval_rule_value(rule, this.input(bytes));
    return { code, output: this.output() };
  }

  results(): { effect: number; rule: number; policy: number; flags: number } {
    return { effect: this.x.result_effect(), rule: this.x.result_rule(), policy: this.x.result_policy(), flags: this.x.result_flags() };
  }
}

/**
 * Write `value` as a tape (docs/engine-abi.md) at absolute address `base` inside `mem`.
 * Returns the root offset and the bytes used. Numbers keep a lexeme (their JS string form).
 */
export function writeTape(mem: Uint8Array, base: number, value: unknown): { root: number; used: number } {
  const view = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  let top = 0;
  const alloc = (n: number): number => { const at = top; top += (n + 3) & ~3; return at; };
  const bytes = (b: Uint8Array): number => { const at = alloc(b.length); mem.set(b, base + at); return base + at; };
  const node = (at: number, v: unknown): void => {
    const p = base + at;
    if (v === null) view.setUint32(p, 0, true);
    else if (v === false) view.setUint32(p, 1, true);
    else if (v === true) view.setUint32(p, 2, true);
    else if (typeof v === "number") {
      const lex = utf8.encode(String(v));
      view.setUint32(p, 3 | (lex.length << 8), true);
      view.setUint32(p + 4, bytes(lex), true);
      view.setFloat64(p + 8, v, true);
    } else if (typeof v === "string") {
      const b = utf8.encode(v);
      view.setUint32(p, 4, true);
      view.setUint32(p + 4, bytes(b), true);
      view.setUint32(p + 8, b.length, true);
      view.setUint32(p + 12, [...v].length, true);
    } else if (Array.isArray(v)) {
      const els = alloc(16 * v.length);
      v.forEach((e, i) => node(els + 16 * i, e));
      view.setUint32(p, 5, true);
      view.setUint32(p + 4, base + els, true);
      view.setUint32(p + 8, v.length, true);
    } else {
      const entries = Object.entries(v as object);
      const ms = alloc(24 * entries.length);
      entries.forEach(([k, e], i) => {
        const kb = utf8.encode(k);
        const m = base + ms + 24 * i;
        view.setUint32(m, bytes(kb), true);
        view.setUint32(m + 4, kb.length, true);
        node(ms + 24 * i + 8, e);
      });
      view.setUint32(p, 6, true);
      view.setUint32(p + 4, base + ms, true);
      view.setUint32(p + 8, entries.length, true);
    }
  };
  const root = alloc(16);
  node(root, value);
  return { root, used: top };
}

/** Evaluate `value` through the tape fast path; returns the code and, when 0, the rendered decision. */
export function evaluateTape(host: EngineHost, value: unknown): { code: number; output: string } {
  const x = host.x;
  const cap = 1 << 16;
  const base = x.tape_ptr(cap);
  const { root, used } = writeTape(new Uint8Array(x.memory.buffer), base, value);
  const code = x.evaluate_tape(root, used);
  if (code !== 0) return { code, output: host.output() };
  x.render_decision();
  return { code, output: host.output() };
}
