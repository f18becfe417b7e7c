// Component build: the engine as a WebAssembly component of the world
// `aegis:policy/engine-component` (bindings/component/aegis.wit). Input: the AssemblyScript adapter
// bindings/component/assembly/index.ts (which imports engine/) and the WIT. Steps: asc (the
// engine's flags: -O3, stub runtime, no imports) -> rename the adapter's core exports to the
// names the component model expects -> jco componentEmbed (inline WIT) -> componentNew ->
// transpile. Output: build/component/aegis.core.wasm, build/component/aegis.component.wasm and
// the transpiled JS in build/component/js/. Rebuilt only when a source's content changed (the
// previous build's meta.json lists every input and its hash); every file is written
// through a temporary file and a rename so a concurrent reader never sees half a file.
// Run directly (`tsx scripts/build-component.ts [--force]`) or call buildComponent().
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex, sourceFiles, writeAtomically } from "./build-files.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Where the component build goes: `build/component/`. */
export const componentDir = path.join(repoRoot, "build", "component");
/** The WIT world file. */
export const witFile = path.join(repoRoot, "bindings", "component", "aegis.wit");
const entry = path.join(repoRoot, "bindings", "component", "assembly", "index.ts");
const thisScript = fileURLToPath(import.meta.url);
const metaFile = path.join(componentDir, "meta.json");

/** The WIT package, interface and world the component implements. */
export const WIT_INTERFACE = "aegis:policy/engine@0.1.0";
export const WIT_WORLD = "engine-component";

/** Adapter export -> core export name the component model wants for the interface's functions. */
const EXPORT_NAMES: Record<string, string> = {
  engine_load: `${WIT_INTERFACE}#load`,
  engine_evaluate: `${WIT_INTERFACE}#evaluate`,
  engine_bundle_digest: `${WIT_INTERFACE}#bundle-digest`,
};

/** The files of the component build. */
export interface ComponentBuild {
  /** build/component/aegis.core.wasm: the core module, exports renamed, before embedding. */
  core: string;
  /** build/component/aegis.component.wasm: the component. */
  component: string;
  /** build/component/js/aegis.js: the transpiled component (`instantiate(getCoreModule, imports)`). */
  js: string;
  /** Whether this call wrote them (false: they were up to date). */
  rebuilt: boolean;
}

interface Meta { inputs: Record<string, string> }



function outputs(): Omit<ComponentBuild, "rebuilt"> {
  return {
    core: path.join(componentDir, "aegis.core.wasm"),
    component: path.join(componentDir, "aegis.component.wasm"),
    js: path.join(componentDir, "js", "aegis.js"),
  };
}

/**
 * True when the outputs exist, every input of the last build still has the hash it had, and no
 * source file was added since.
 */
function upToDate(out: Omit<ComponentBuild, "rebuilt">): boolean {
  if (![out.core, out.component, out.js, metaFile].every((f) => existsSync(f))) return false;
  let meta: Meta;
  try {
    meta = JSON.parse(readFileSync(metaFile, "utf8")) as Meta;
  } catch {
    return false;
  }
  if (coreSources().some((f) => !(f in meta.inputs))) return false;
  for (const [file, hash] of Object.entries(meta.inputs)) {
    let text: Buffer;
    try { text = readFileSync(path.join(repoRoot, file)); } catch { return false; }
    if (sha256Hex(text) !== hash) return false;
  }
  return true;
}

// ---- wasm export renaming ---------------------------------------------------------------------

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length) throw new Error("truncated LEB128 in the core module");
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, at];
    shift += 7;
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

/**
 * Rewrite the export section of core module `wasm`, renaming exports per `names` (old -> new).
 * Throws when a name to rename is missing: the adapter and this table must agree.
 */
export function renameExports(wasm: Uint8Array, names: Record<string, string>): Uint8Array {
  const utf8 = new TextEncoder();
  const text = new TextDecoder();
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  const seen = new Set<string>();
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, bodyStart] = readLeb(wasm, at + 1);
    const end = bodyStart + size;
    if (id !== 7) {
      parts.push(wasm.subarray(at, end));
      at = end;
      continue;
    }
    let p = bodyStart;
    const [count, afterCount] = readLeb(wasm, p);
    p = afterCount;
    const body: number[] = [...leb(count)];
    for (let i = 0; i < count; i++) {
      const [nameLen, nameStart] = readLeb(wasm, p);
      const name = text.decode(wasm.subarray(nameStart, nameStart + nameLen));
      p = nameStart + nameLen;
      const kind = wasm[p++];
      const [index, afterIndex] = readLeb(wasm, p);
      p = afterIndex;
      const renamed = names[name] ?? name;
      if (names[name] !== undefined) seen.add(name);
      const nameBytes = utf8.encode(renamed);
      body.push(...leb(nameBytes.length), ...nameBytes, kind, ...leb(index));
    }
    parts.push(Uint8Array.of(7, ...leb(body.length), ...body));
    at = end;
  }
  const missing = Object.keys(names).filter((n) => !seen.has(n));
  if (missing.length > 0) throw new Error(`the core module does not export ${missing.map((n) => `\`${n}\``).join(", ")}`);
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of parts) { out.set(b, o); o += b.length; }
  return out;
}

// ---- build --------------------------------------------------------------------------------------

/** Every file the component is built from besides the WIT and this script: adapter, engine, asc config, tool versions. */
function coreSources(): string[] {
  const files = ["asconfig.json", ...sourceFiles(repoRoot, ["engine", "bindings/component/assembly"])];
  // The tools' versions: an upgrade of asc or jco rebuilds too.
  files.push("node_modules/assemblyscript/package.json", "node_modules/@bytecodealliance/jco/package.json");
  return files.sort();
}

/**
 * Compile the adapter (and the engine it imports) with the asc command line in plain Node
 * (imported into a tsx process, asc's multi-megabyte bundles cost seconds to transform).
 */
async function compileCore(): Promise<Uint8Array> {
  // A private folder: asc also writes JS bindings beside the module (asconfig.json asks for them).
  const tmpDir = path.join(componentDir, `.asc-${process.pid}`);
  const out = path.join(tmpDir, "core.wasm");
  mkdirSync(tmpDir, { recursive: true });
  const asc = path.join(repoRoot, "node_modules", "assemblyscript", "bin", "asc.js");
  // The engine's own release options (asconfig.json), so the same code gives the same bytes;
  // only the output file differs, and no text file is written over build/aegis.wat.
  const args = [
    "--enable-source-maps", asc, path.relative(repoRoot, entry),
    "--config", "asconfig.json", "--target", "release",
    "--outFile", path.relative(repoRoot, out), "--textFile", "",
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, args, { cwd: repoRoot, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`asc failed to build the component's core module:\n${stderr || stdout || error.message}`));
        else resolve();
      });
    });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/**
 * Build the component if any source changed (or always with `force`): the core module, the
 * component, and the `jco transpile` output (async instantiation, no WASI shim: it has no imports).
 */
export async function buildComponent(options: { force?: boolean } = {}): Promise<ComponentBuild> {
  const out = outputs();
  if (!options.force && upToDate(out)) return { ...out, rebuilt: false };
  const jco = await import("@bytecodealliance/jco");
  const sources = coreSources();
  const core = renameExports(await compileCore(), EXPORT_NAMES);
  const witSource = readFileSync(witFile, "utf8");
  const embedded = await jco.componentEmbed({ binary: core, witSource, world: WIT_WORLD, stringEncoding: "utf8" });
  const component = await jco.componentNew(embedded);
  const { files, imports } = await jco.transpile(component, {
    name: "aegis",
    instantiation: "async",
    noTypescript: false,
    quiet: true,
  });
  if (imports.length > 0) throw new Error(`the component imports ${imports.map((i) => `\`${i}\``).join(", ")}; it must import nothing`);
  writeAtomically(out.core, core);
  for (const [name, data] of Object.entries(files)) writeAtomically(path.join(componentDir, "js", name), data);
  writeAtomically(out.component, component);
  const inputs: Record<string, string> = {};
  for (const file of [...sources, path.relative(repoRoot, witFile), path.relative(repoRoot, thisScript)]) {
    inputs[file] = sha256Hex(readFileSync(path.join(repoRoot, file)));
  }
  writeAtomically(metaFile, JSON.stringify({ inputs } satisfies Meta, null, 2) + "\n");
  return { ...out, rebuilt: true };
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisScript) {
  const started = Date.now();
  buildComponent({ force: process.argv.includes("--force") }).then(
    (b) => {
      const size = readFileSync(b.component).length;
      const what = b.rebuilt ? "built" : "up to date:";
      console.log(`${what} ${path.relative(process.cwd(), b.component)} (${size} bytes) and ${path.relative(process.cwd(), path.dirname(b.js))}/ in ${Date.now() - started} ms`);
    },
    (e: unknown) => {
      console.error(`build-component: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
