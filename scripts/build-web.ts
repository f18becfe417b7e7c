// Browser build: bundles the binding's browser entry (bindings/web/index.ts: engine binding, no
// compiler) with esbuild into build/web/aegis.js (ESM, browser platform, minified) and copies
// build/aegis.wasm beside it as build/web/aegis.wasm, where the bundle looks for it through
// import.meta.url. Input: the binding sources and build/aegis.wasm (`npm run build`). Output: the
// two files, rebuilt only when an input is newer (the previous build's esbuild metafile lists the
// inputs), each written through a temporary file and a rename so a concurrent reader never sees
// half a file. Run directly (`tsx scripts/build-web.ts [--force]`) or call buildWeb().
import { build, type Plugin } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeAtomically } from "./build-files.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Where the browser build goes: `build/web/`. */
export const webDir = path.join(repoRoot, "build", "web");
const entry = path.join(repoRoot, "bindings", "web", "index.ts");
const engineWasm = path.join(repoRoot, "build", "aegis.wasm");
const metaFile = path.join(webDir, "meta.json");

/** The files of the browser build. */
export interface WebBuild {
  /** build/web/aegis.js */
  js: string;
  /** build/web/aegis.wasm */
  wasm: string;
  /** Whether this call wrote them (false: they were up to date). */
  rebuilt: boolean;
}

/**
 * Modules the binding imports on demand only for Node features (the audit log writer) stay
 * imports in the bundle instead of being inlined: they hold static `node:` imports that would
 * otherwise be hoisted to the top of the bundle and break it in every browser.
 */
const keepDynamicImports: Plugin = {
  name: "keep-dynamic-imports",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (args.kind === "dynamic-import" ? { path: args.path, external: true } : undefined));
  },
};


function mtime(file: string): number {
  return statSync(file).mtimeMs;
}

/** True when the outputs exist and no input the last build read (per its metafile) is newer. */
function upToDate(js: string, wasm: string): boolean {
  if (!existsSync(js) || !existsSync(wasm) || !existsSync(metaFile)) return false;
  if (mtime(engineWasm) > mtime(wasm)) return false;
  let inputs: string[];
  try {
    inputs = Object.keys((JSON.parse(readFileSync(metaFile, "utf8")) as { inputs: Record<string, unknown> }).inputs);
  } catch {
    return false;
  }
  const built = mtime(js);
  return inputs.every((rel) => {
    const file = path.resolve(repoRoot, rel);
    return existsSync(file) && mtime(file) <= built;
  });
}

/** Build build/web/aegis.js and build/web/aegis.wasm unless they are up to date (or `force`). */
export async function buildWeb(options: { force?: boolean } = {}): Promise<WebBuild> {
  const js = path.join(webDir, "aegis.js");
  const wasm = path.join(webDir, "aegis.wasm");
  if (!existsSync(engineWasm)) throw new Error(`\`${path.relative(repoRoot, engineWasm)}\` is missing: run \`npm run build\` first`);
  if (!options.force && upToDate(js, wasm)) return { js, wasm, rebuilt: false };
  mkdirSync(webDir, { recursive: true });
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    outfile: js,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [keepDynamicImports],
  });
  const tmpWasm = `${wasm}.${process.pid}.tmp`;
  copyFileSync(engineWasm, tmpWasm);
  renameSync(tmpWasm, wasm);
  for (const out of result.outputFiles) writeAtomically(out.path, out.contents);
  // Last, so an interrupted build is never taken for a complete one.
  writeAtomically(metaFile, JSON.stringify(result.metafile));
  return { js, wasm, rebuilt: true };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWeb({ force: process.argv.includes("--force") }).then(
    (r) => console.log(`${r.rebuilt ? "built" : "up to date"}: ${path.relative(repoRoot, r.js)}, ${path.relative(repoRoot, r.wasm)}`),
    (e: Error) => {
      console.error(`build-web: ${e.message}`);
      process.exit(1);
    },
  );
}
