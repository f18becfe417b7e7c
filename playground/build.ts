// Playground build: the page's entry (playground/playground.ts, which imports the compiler and the
// binding) bundled by esbuild for browsers, with the sample policies and requests embedded
// (playground/samples.ts), plus index.html, playground.css and the engine (build/aegis.wasm, beside
// the script, where the binding's browser entry fetches it). Input: the repo sources and
// build/aegis.wasm (built first with `npm run build` when missing). Output: build/playground/,
// rebuilt only when an input is newer than the last build (its esbuild metafile lists the modules;
// the page files, samples and wasm are checked too). Run directly (`tsx playground/build.ts
// [--force]`) or call buildPlayground().
import { build, type Plugin } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeAtomically } from "../scripts/build-files.ts";
import { loadSamples, SAMPLE_POLICY_NAMES } from "./samples.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Where the built page goes: build/playground/. */
export const playgroundDir = path.join(repoRoot, "build", "playground");
const sourceDir = path.join(repoRoot, "playground");
const engineWasm = path.join(repoRoot, "build", "aegis.wasm");
// Beside the served folder, not in it: the server serves only the page.
const metaFile = path.join(repoRoot, "build", "playground.meta.json");
/** Files copied as they are. */
const STATIC_FILES = ["index.html", "playground.css"];

/**
 * Inputs the esbuild metafile does not list: the copied files, what the samples are read from and
 * the Node-side code that reads them.
 */
function extraInputs(): string[] {
  return [
    ...STATIC_FILES.map((f) => path.join(sourceDir, f)),
    path.join(sourceDir, "samples.ts"),
    path.join(repoRoot, "cli", "test-file.ts"),
    ...SAMPLE_POLICY_NAMES.flatMap((name) => [`${name}.yaml`, `${name}.test.yaml`].map((f) => path.join(repoRoot, "policies", f))),
    engineWasm,
  ];
}

/**
 * The binding loads its Node-only audit log writer with a dynamic import; keep such imports out of
 * the bundle (their static `node:` imports would otherwise be hoisted into it and fail to load in a
 * browser). The page never asks for an audit log, so they are never fetched.
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


/** True when every output exists and no input is newer than the last build's metafile. */
function upToDate(): boolean {
  if (!existsSync(metaFile)) return false;
  let inputs: string[];
  try {
    const meta = JSON.parse(readFileSync(metaFile, "utf8")) as { inputs: Record<string, unknown> };
    // `<define:...>` entries are the embedded samples, checked through extraInputs() instead.
    inputs = Object.keys(meta.inputs).filter((k) => !k.startsWith("<")).map((rel) => path.resolve(repoRoot, rel));
  } catch {
    return false;
  }
  const outputs = ["playground.js", "aegis.wasm", ...STATIC_FILES].map((f) => path.join(playgroundDir, f));
  if (!outputs.every(existsSync)) return false;
  const built = mtime(metaFile);
  return [...inputs, ...extraInputs()].every((file) => existsSync(file) && mtime(file) <= built);
}

/** The built page. */
export interface PlaygroundBuild {
  /** build/playground/ */
  dir: string;
  /** Whether this call wrote it (false: it was up to date). */
  rebuilt: boolean;
}

/** Build build/playground/ unless it is up to date (or `force`). Throws on a failed build. */
export async function buildPlayground(options: { force?: boolean } = {}): Promise<PlaygroundBuild> {
  if (!existsSync(engineWasm)) {
    execFileSync("npm", ["run", "build"], { cwd: repoRoot, stdio: "inherit" });
  }
  if (!options.force && upToDate()) return { dir: playgroundDir, rebuilt: false };
  mkdirSync(playgroundDir, { recursive: true });
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [path.join(sourceDir, "playground.ts")],
    outfile: path.join(playgroundDir, "playground.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: "linked",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [keepDynamicImports],
    define: { __PLAYGROUND_SAMPLES__: JSON.stringify(loadSamples(repoRoot)) },
  });
  for (const out of result.outputFiles) writeAtomically(out.path, out.contents);
  writeAtomically(path.join(playgroundDir, "aegis.wasm"), readFileSync(engineWasm));
  for (const file of STATIC_FILES) {
    const tmp = path.join(playgroundDir, `${file}.${process.pid}.tmp`);
    copyFileSync(path.join(sourceDir, file), tmp);
    renameSync(tmp, path.join(playgroundDir, file));
  }
  // Last, so an interrupted build is never taken for a complete one.
  writeAtomically(metaFile, JSON.stringify(result.metafile));
  return { dir: playgroundDir, rebuilt: true };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPlayground({ force: process.argv.includes("--force") }).then(
    (r) => console.log(`${r.rebuilt ? "built" : "up to date"}: ${path.relative(repoRoot, r.dir)}/`),
    (e: Error) => {
      console.error(`playground build: ${e.message}`);
      process.exit(1);
    },
  );
}
