// The browser build (scripts/build-web.ts): what a page gets is the engine and the binding only,
// small enough to ship. Asserts the size budget of docs/hosts.md (build/web/aegis.js + aegis.wasm
// ≤ 150 KiB gzipped, measured with zlib at its default level), that no compiler code and no static
// Node import is in the bundle, and that a second build with nothing changed writes nothing.
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildWeb, webDir } from "./build-web.ts";

const BUDGET_BYTES = 150 * 1024;

describe("browser bundle", () => {
  it("engine + binding fit in 150 KiB gzipped", async () => {
    const { js, wasm } = await buildWeb();
    const jsGz = gzipSync(readFileSync(js)).length;
    const wasmGz = gzipSync(readFileSync(wasm)).length;
    console.log(`browser bundle: aegis.js ${jsGz} B + aegis.wasm ${wasmGz} B = ${jsGz + wasmGz} B gzipped (budget ${BUDGET_BYTES} B)`);
    expect(jsGz + wasmGz).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it("holds no compiler and no static Node import", async () => {
    const { js } = await buildWeb();
    const meta = JSON.parse(readFileSync(path.join(webDir, "meta.json"), "utf8")) as { inputs: Record<string, unknown> };
    const compilerInputs = Object.keys(meta.inputs).filter((p) => p.startsWith("compiler/") && p !== "compiler/generated/bytecode.ts");
    expect(compilerInputs).toEqual([]);
    // esbuild hoists static imports of external modules to the top of the bundle as `from"..."`.
    const text = readFileSync(js, "utf8");
    expect(text).not.toMatch(/from\s*["']node:/);
    expect(text).not.toMatch(/^import\s*["']node:/m);
  });

  it("ships the engine wasm beside the bundle, byte for byte", async () => {
    const { wasm } = await buildWeb();
    expect(Buffer.compare(readFileSync(wasm), readFileSync(path.resolve(webDir, "..", "aegis.wasm")))).toBe(0);
  });

  it("does not rebuild when nothing changed", async () => {
    await buildWeb();
    expect((await buildWeb()).rebuilt).toBe(false);
  });
});
