// Browser entry: the binding entry (bindings/node/index.ts) for the bundle scripts/build-web.ts
// writes to build/web/aegis.js, which ships the engine as aegis.wasm beside itself. Input: nothing
// at load time; the wasm is fetched from `./aegis.wasm` relative to the bundle's own URL on the
// first Aegis.load. Output: the same API as the package's "." export, plus setDefaultEngineSource
// for pages that serve the wasm elsewhere. Only meaningful bundled: unbundled, the URL would point
// into bindings/web/, so Node and Deno import bindings/node/index.ts directly.
import { setDefaultEngineSource } from "../node/wasm.ts";

// Read lazily by Engine.create, so setting it after index.ts has been evaluated is in time.
setDefaultEngineSource(new URL("./aegis.wasm", import.meta.url));

export * from "../node/index.ts";
export { setDefaultEngineSource, type EngineSource } from "../node/wasm.ts";
