// Conformance host "deno": the binding entry (bindings/node/index.ts, the package's "." export)
// running inside Deno, over build/aegis.wasm fetched from its file: URL. Input: bundle bytes and
// request bytes; output: the decision bytes exactly as the engine wrote them, the request error
// JSON rebuilt from the binding's RequestError, and decision records built by telemetry/record.ts
// in Deno. The same code would run in Node; conformance/hosts/deno/conformance_test.ts runs it in Deno.
import { Aegis, RequestError } from "../../../bindings/node/index.ts";
import { recordLine, type RecordMeta } from "../../../telemetry/record.ts";
import { errorJsonBytes, type ConformanceHost } from "../../runner.ts";

/** The binding entry as a conformance host, named `deno` (it is only run under Deno). */
export class DenoHost implements ConformanceHost {
  readonly name = "deno";
  private aegis: Aegis | null = null;

  async load(bundle: Uint8Array): Promise<void> {
    this.aegis = null;
    this.aegis = await Aegis.load(bundle);
  }

  async evaluate(request: Uint8Array): Promise<Uint8Array> {
    if (!this.aegis) return errorJsonBytes("no_bundle", "no bundle is loaded");
    try {
      // Copy: the binding may return a view into wasm memory that the next call overwrites.
      return Uint8Array.from(this.aegis.evaluateBytes(request));
    } catch (e) {
      if (e instanceof RequestError) return errorJsonBytes(e.code, e.message, e.offset);
      throw e;
    }
  }

  async record(request: Uint8Array, meta: RecordMeta): Promise<Uint8Array> {
    const outcome = await this.evaluate(request);
    return new TextEncoder().encode(recordLine(outcome, request, meta, this.aegis?.digest ?? ""));
  }
}
