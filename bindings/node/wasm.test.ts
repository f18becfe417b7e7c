// The engine loader (wasm.ts) on every kind of source an embedder may hand it: the default file
// URL, bytes, a compiled module, http URLs (with and without the application/wasm type) and a
// changed default. Runs in Node; Deno (file: via fetch) and Chromium (http) run it through the
// conformance tests.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultEngineSource, Engine, loadEngineModule, setDefaultEngineSource } from "./wasm.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const wasmPath = path.join(repoRoot, "build", "aegis.wasm");

/** A working engine answers a JSON syntax check: 0 for valid JSON, a request error code otherwise. */
function checksJson(engine: Engine): boolean {
  const ok = engine.exports.parse_json(engine.writeInput(new TextEncoder().encode('{"a":[1,2]}')));
  const bad = engine.exports.parse_json(engine.writeInput(new TextEncoder().encode('{"a":')));
  return ok === 0 && bad !== 0;
}

describe("engine sources", () => {
  let server: Server;
  let base: string;
  const wasm = readFileSync(wasmPath);
  let flakyRequests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/aegis.wasm") res.writeHead(200, { "content-type": "application/wasm" }).end(wasm);
      else if (req.url === "/untyped.wasm") res.writeHead(200, { "content-type": "application/octet-stream" }).end(wasm);
      else if (req.url === "/flaky.wasm" && flakyRequests++ > 0) res.writeHead(200, { "content-type": "application/wasm" }).end(wasm);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("finds build/aegis.wasm by default", async () => {
    expect(String(defaultEngineSource())).toBe(pathToFileURL(wasmPath).href);
    expect(checksJson(await Engine.create())).toBe(true);
  });

  it("compiles wasm bytes, as a Buffer, a Uint8Array view or an ArrayBuffer", async () => {
    const copy = new Uint8Array(wasm.length + 8);
    copy.set(wasm, 8);
    expect(checksJson(await Engine.create(wasm))).toBe(true);
    expect(checksJson(await Engine.create(copy.subarray(8)))).toBe(true);
    expect(checksJson(await Engine.create(copy.slice(8).buffer))).toBe(true);
  });

  it("compiles the same bytes object once", () => {
    const bytes = new Uint8Array(wasm);
    expect(loadEngineModule(bytes)).toBe(loadEngineModule(bytes));
  });

  it("uses a compiled module as it is", async () => {
    const module = await WebAssembly.compile(new Uint8Array(wasm));
    expect(await loadEngineModule(module)).toBe(module);
    expect(checksJson(await Engine.create(module))).toBe(true);
  });

  it("fetches http URLs, streaming with the application/wasm type and without it", async () => {
    expect(checksJson(await Engine.create(new URL(`${base}/aegis.wasm`)))).toBe(true);
    expect(checksJson(await Engine.create(`${base}/untyped.wasm`))).toBe(true);
  });

  it("rejects a URL that does not serve the wasm, and tries it again on the next call", async () => {
    await expect(loadEngineModule(`${base}/flaky.wasm`)).rejects.toThrow(/HTTP 404/);
    expect(checksJson(await Engine.create(`${base}/flaky.wasm`))).toBe(true);
    await expect(loadEngineModule(pathToFileURL(path.join(repoRoot, "build", "no-such.wasm")))).rejects.toThrow(/ENOENT/);
  });

  it("rejects bytes that are not wasm", async () => {
    await expect(Engine.create(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow();
  });

  it("takes a new default source for Engine.create()", async () => {
    const before = defaultEngineSource();
    try {
      setDefaultEngineSource(`${base}/missing.wasm`);
      await expect(Engine.create()).rejects.toThrow(/HTTP 404/);
      setDefaultEngineSource(`${base}/aegis.wasm`);
      expect(checksJson(await Engine.create())).toBe(true);
    } finally {
      setDefaultEngineSource(before);
    }
  });
});
