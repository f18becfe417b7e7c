// Conformance host "component": the engine as the WebAssembly component `aegis:policy/engine`
// (bindings/component/aegis.wit), run through its `jco transpile` output in Node. Input: bundle
// and request bytes; output: the decision bytes the component returned, or the request error JSON
// rebuilt from the WIT `error` record, and decision records built in Node from those bytes and the
// component's `bundle-digest`. Builds the component first if it is missing or stale.
import { errorJsonBytes, type ConformanceHost } from "../runner.ts";
import { recordLine, type RecordMeta } from "../../telemetry/record.ts";
import { ComponentEngineError, instantiateComponent, type ComponentEngine } from "../../bindings/component/index.ts";

/** The transpiled component as a conformance host: one instance, reloaded per case file. */
export class ComponentHost implements ConformanceHost {
  readonly name = "component";
  private engine: ComponentEngine | null = null;

  private async instance(): Promise<ComponentEngine> {
    if (!this.engine) {
      // Imported lazily so that loading the conformance runner does not need jco or asc.
      const { buildComponent } = await import("../../scripts/build-component.ts");
      await buildComponent();
      this.engine = await instantiateComponent();
    }
    return this.engine;
  }

  /**
   * One instance serves every bundle in turn, as a long-lived component would. After a trap
   * the instance is unusable, so it is dropped and the next load starts a fresh one.
   */
  async load(bundle: Uint8Array): Promise<void> {
    const engine = await this.instance();
    try {
      engine.load(bundle);
    } catch (e) {
      if (e instanceof ComponentEngineError) {
        throw new Error(`the component rejected the bundle: ${e.code}: ${e.message}`);
      }
      this.dropAfterTrap();
      throw e;
    }
  }

  async evaluate(request: Uint8Array): Promise<Uint8Array> {
    // Even before any load the component answers (`no_bundle`): the host invents no errors.
    const engine = await this.instance();
    try {
      return engine.evaluate(request);
    } catch (e) {
      if (e instanceof ComponentEngineError) return errorJsonBytes(e.code, e.message, e.offset);
      this.dropAfterTrap();
      throw e;
    }
  }

  /** The record line, built in Node (telemetry/record.ts) from the component's own outcome bytes and digest. */
  async record(request: Uint8Array, meta: RecordMeta): Promise<Uint8Array> {
    const outcome = await this.evaluate(request);
    const digest = this.engine?.bundleDigest() ?? "";
    return new TextEncoder().encode(recordLine(outcome, request, meta, digest));
  }

  private dropAfterTrap(): void {
    this.engine = null;
  }
}

/** A fresh component host. */
export function createComponentHost(): ConformanceHost {
  return new ComponentHost();
}
