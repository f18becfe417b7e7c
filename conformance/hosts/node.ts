// Conformance host "node": the Node binding (bindings/node/index.ts) over build/aegis.wasm, on its
// canonical byte path. Input: bundle bytes and request bytes; output: the decision bytes exactly as
// the engine wrote them, or the request error JSON rebuilt from the binding's RequestError.
import { errorJsonBytes, type ConformanceHost } from "../runner.ts";
import { recordLine, type RecordMeta } from "../../telemetry/record.ts";

interface AegisLike {
  evaluateBytes(request: Uint8Array | string): Uint8Array;
  readonly digest: string;
}

interface BindingModule {
  Aegis: { load(bundle: Uint8Array): Promise<AegisLike> };
  RequestError: new (...args: never[]) => Error & { code: string; offset?: number };
}

/** The Node binding as a conformance host. */
export class NodeHost implements ConformanceHost {
  readonly name = "node";
  private binding: BindingModule | null = null;
  private aegis: AegisLike | null = null;

  private async module(): Promise<BindingModule> {
    // Imported lazily so that loading the conformance runner does not need a built engine.
    this.binding ??= (await import("../../bindings/node/index.ts")) as unknown as BindingModule;
    return this.binding;
  }

  async load(bundle: Uint8Array): Promise<void> {
    const { Aegis } = await this.module();
    this.aegis = null;
    this.aegis = await Aegis.load(bundle);
  }

  async evaluate(request: Uint8Array): Promise<Uint8Array> {
    const { RequestError } = await this.module();
    if (!this.aegis) return errorJsonBytes("no_bundle", "no bundle is loaded");
    try {
      // Copy: the binding may return a view into wasm memory that the next call overwrites.
      return Uint8Array.from(this.aegis.evaluateBytes(request));
    } catch (e) {
      if (e instanceof RequestError) return errorJsonBytes(e.code, e.message, e.offset);
      throw e;
    }
  }

  /** `sha256:<hex>` of the loaded bundle. */
  digest(): string {
    return this.aegis?.digest ?? "";
  }

  record(request: Uint8Array, meta: RecordMeta): Promise<Uint8Array> {
    return recordVia(this, request, meta);
  }
}

/** Build the record line from this host's decision bytes (telemetry/record.ts on Node). */
export async function recordVia(host: ConformanceHost & { digest(): string }, request: Uint8Array, meta: RecordMeta): Promise<Uint8Array> {
  const outcome = await host.evaluate(request);
  return new TextEncoder().encode(recordLine(outcome, request, meta, host.digest()));
}

/** A fresh Node host. */
export function createNodeHost(): ConformanceHost {
  return new NodeHost();
}
