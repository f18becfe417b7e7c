// File helpers shared by the build scripts that tests and `npm run build:*` call concurrently
// (scripts/build-web.ts, build-proxy-wasm.ts, build-component.ts, playground/build.ts,
// engine/record/test-module.ts): atomic writes, so a parallel test never reads half a file, and the
// list of AssemblyScript sources an artefact depends on, for up-to-date checks.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Hex SHA-256 of text or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Write `file` through a temporary file and a rename: readers see the old or the new bytes, never a mix. */
export function writeAtomically(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Every non-test `.ts` file under `dirs` (relative to `root`, `/`-separated, sorted). */
export function sourceFiles(root: string, dirs: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) files.push(rel);
    }
  };
  for (const dir of dirs) walk(dir);
  return files.sort();
}
