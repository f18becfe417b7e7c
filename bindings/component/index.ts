// Component binding (Node): runs the engine as the WebAssembly component `aegis:policy/engine`
// through its `jco transpile` output (build/component/js/, made by scripts/build-component.ts).
// Input: bundle and request bytes. Output: the component's results, with the WIT `error` record
// thrown as a ComponentEngineError. A thin shell over the generated glue: no policy logic here.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Where scripts/build-component.ts writes the transpiled component. */
export const defaultComponentJsDir = fileURLToPath(new URL("../../build/component/js/", import.meta.url));

/** The WIT record `error` (bindings/component/aegis.wit). */
export interface EngineErrorRecord { code: string; message: string; offset?: number }

/** A `load` or `evaluate` call returned the WIT `error` case. */
export class ComponentEngineError extends Error {
  readonly code: string;
  readonly offset?: number;
  constructor(record: EngineErrorRecord) {
    super(record.message);
    this.name = "ComponentEngineError";
    this.code = record.code;
    if (record.offset !== undefined) this.offset = record.offset;
  }
}

/** The exported interface `aegis:policy/engine@0.1.0` of one component instance. */
export interface ComponentEngine {
  /** Load a bundle (signature not checked: verify it first). Throws ComponentEngineError; the old bundle keeps serving. */
  load(bundle: Uint8Array): void;
  /** The decision JSON bytes for a request's JSON bytes. Throws ComponentEngineError. */
  evaluate(request: Uint8Array): Uint8Array;
  /** `sha256:<hex>` of the loaded bundle, undefined before any load. */
  bundleDigest(): string | undefined;
}

/** What `jco transpile --instantiation async` generates (build/component/js/aegis.d.ts). */
interface TranspiledModule {
  instantiate(
    getCoreModule: (name: string) => Promise<WebAssembly.Module>,
    imports: Record<string, never>,
  ): Promise<{ "aegis:policy/engine@0.1.0": RawEngine }>;
}

interface RawEngine {
  load(bundle: Uint8Array): void;
  evaluate(request: Uint8Array): Uint8Array;
  bundleDigest(): string | undefined;
}

/** jco throws the `error` case of a result as an Error whose `payload` is the record. */
function errorRecord(e: unknown): EngineErrorRecord | null {
  const payload = (e as { payload?: unknown } | null)?.payload;
  if (typeof payload !== "object" || payload === null) return null;
  const p = payload as Record<string, unknown>;
  return typeof p.code === "string" && typeof p.message === "string" ? (p as unknown as EngineErrorRecord) : null;
}

function rethrow(e: unknown): never {
  const record = errorRecord(e);
  throw record ? new ComponentEngineError(record) : e;
}

const glue = new Map<string, Promise<{ module: TranspiledModule; cores: Map<string, Promise<WebAssembly.Module>> }>>();

/**
 * A fresh component instance (its own memory, no bundle) from the transpiled output in `jsDir`.
 * The glue and its core modules are read and compiled once per folder.
 */
export async function instantiateComponent(jsDir: string = defaultComponentJsDir): Promise<ComponentEngine> {
  const dir = path.resolve(jsDir);
  let loaded = glue.get(dir);
  if (!loaded) {
    loaded = (async () => ({
      module: (await import(pathToFileURL(path.join(dir, "aegis.js")).href)) as TranspiledModule,
      cores: new Map<string, Promise<WebAssembly.Module>>(),
    }))();
    glue.set(dir, loaded);
    loaded.catch(() => glue.delete(dir)); // let a later call retry, e.g. after a build
  }
  const { module, cores } = await loaded;
  const getCoreModule = (name: string): Promise<WebAssembly.Module> => {
    let core = cores.get(name);
    if (!core) {
      core = readFile(path.join(dir, name)).then((bytes) => WebAssembly.compile(bytes));
      cores.set(name, core);
    }
    return core;
  };
  const raw = (await module.instantiate(getCoreModule, {}))["aegis:policy/engine@0.1.0"];
  return {
    load(bundle: Uint8Array): void {
      try { raw.load(bundle); } catch (e) { rethrow(e); }
    },
    evaluate(request: Uint8Array): Uint8Array {
      try { return raw.evaluate(request); } catch (e) { return rethrow(e); }
    },
    bundleDigest(): string | undefined {
      return raw.bundleDigest();
    },
  };
}
