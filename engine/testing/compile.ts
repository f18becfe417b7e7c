// Test support: compile an AssemblyScript entry file to a wasm instance in memory, with the same
// flags as the release engine, so an engine module can be tested on its own.
import asc from "assemblyscript/asc";
import { fileURLToPath } from "node:url";
import { dirname, join, relative } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Compile `entry` (a path relative to the repo root, e.g. "engine/testing/regex-entry.ts"). */
export async function compileAssemblyScript(entry: string): Promise<WebAssembly.Instance> {
  let binary: Uint8Array | undefined;
  let stderr = "";
  const { error } = await asc.main(
    [relative(root, join(root, entry)), "--outFile", "out.wasm", "-O3", "--runtime", "stub", "--use", "abort=", "--noAssert"],
    {
      readFile: async (name: string, baseDir: string) => {
        const fs = await import("node:fs/promises");
        try { return await fs.readFile(join(root, baseDir, name), "utf8"); } catch { return null; }
      },
      writeFile: (name: string, contents: Uint8Array) => { if (name.endsWith(".wasm")) binary = contents; },
      listFiles: async () => [],
      stderr: { write: (s: string) => { stderr += s; return true; } } as never,
      stdout: { write: () => true } as never,
    } as never,
  );
  if (error || !binary) throw new Error(`asc failed for ${entry}: ${error?.message ?? ""}\n${stderr}`);
  const module = await WebAssembly.compile(binary as Uint8Array<ArrayBuffer>);
  return WebAssembly.instantiate(module, {});
}
