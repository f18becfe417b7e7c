// proxy-wasm build: the Aegis Envoy filter. Input: bindings/proxy-wasm/assembly/*.ts (the filter,
// which imports the engine from engine/) and asconfig.json's release options. Output:
// build/proxy-wasm/aegis-filter.wasm (the filter: imports only `env.proxy_*`, start function
// exported as `_initialize` as proxy-wasm hosts expect) and build/proxy-wasm/crypto-test.wasm (the
// filter's SHA-512 and Ed25519 code alone, for the Wycheproof tests). Rebuilt only when an
// input's content changed (meta.json lists every input and its hash); files are written through a
// temporary file and a rename so a concurrent reader never sees half a file.
// Run directly (`tsx scripts/build-proxy-wasm.ts [--force]`) or call buildProxyWasm().
import { execFile } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex, sourceFiles, writeAtomically } from "./build-files.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Where the proxy-wasm build goes: `build/proxy-wasm/`. */
export const proxyWasmDir = path.join(repoRoot, "build", "proxy-wasm");
const metaFile = path.join(proxyWasmDir, "meta.json");
const thisScript = fileURLToPath(import.meta.url);

/** The files of the proxy-wasm build. */
export interface ProxyWasmBuild {
  /** build/proxy-wasm/aegis-filter.wasm: the Envoy filter. */
  filter: string;
  /** build/proxy-wasm/crypto-test.wasm: SHA-512 and Ed25519 verification exports, for tests. */
  cryptoTest: string;
  /** Whether this call wrote them (false: they were up to date). */
  rebuilt: boolean;
}

interface Meta { inputs: Record<string, string> }

const TARGETS = [
  { entry: "bindings/proxy-wasm/assembly/filter.ts", out: "aegis-filter.wasm", start: true },
  { entry: "bindings/proxy-wasm/assembly/crypto-test.ts", out: "crypto-test.wasm", start: false },
];



function outputs(): Omit<ProxyWasmBuild, "rebuilt"> {
  return { filter: path.join(proxyWasmDir, "aegis-filter.wasm"), cryptoTest: path.join(proxyWasmDir, "crypto-test.wasm") };
}

/** Every file the modules are built from: the filter sources, the engine sources, asc config, this script. */
function sources(): string[] {
  const files = ["asconfig.json", path.relative(repoRoot, thisScript).split(path.sep).join("/")];
  return [...files, ...sourceFiles(repoRoot, ["engine", "bindings/proxy-wasm/assembly"])].sort();
}

function upToDate(out: Omit<ProxyWasmBuild, "rebuilt">): boolean {
  if (![out.filter, out.cryptoTest, metaFile].every((f) => existsSync(f))) return false;
  let meta: Meta;
  try {
    meta = JSON.parse(readFileSync(metaFile, "utf8")) as Meta;
  } catch {
    return false;
  }
  const current = sources();
  if (current.length !== Object.keys(meta.inputs).length || current.some((f) => !(f in meta.inputs))) return false;
  for (const [file, hash] of Object.entries(meta.inputs)) {
    let text: Buffer;
    try { text = readFileSync(path.join(repoRoot, file)); } catch { return false; }
    if (sha256Hex(text) !== hash) return false;
  }
  return true;
}

/**
 * Compile one entry with the asc command line in plain Node (asc's bundles are slow to load
 * through tsx), with the engine's release options from asconfig.json.
 */
async function compile(entry: string, exportStart: boolean, tmpDir: string): Promise<Uint8Array> {
  const out = path.join(tmpDir, `${path.basename(entry, ".ts")}.wasm`);
  const asc = path.join(repoRoot, "node_modules", "assemblyscript", "bin", "asc.js");
  const args = [
    "--enable-source-maps", asc, entry,
    "--config", "asconfig.json", "--target", "release",
    "--outFile", path.relative(repoRoot, out), "--textFile", "",
  ];
  // proxy-wasm hosts call `_initialize` (the WASI reactor convention) before anything else; a
  // wasm start section would run the module's top level before the host has set up the context.
  if (exportStart) args.push("--exportStart", "_initialize");
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, args, { cwd: repoRoot, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`asc failed to build ${entry}:\n${stderr || stdout || error.message}`));
      else resolve();
    });
  });
  return readFileSync(out);
}

/**
 * Run `job` holding build/proxy-wasm/.build.lock, so that test files starting in parallel
 * processes build once instead of each compiling the engine. A lock whose process is gone is taken over.
 */
async function withBuildLock<T>(job: () => Promise<T>): Promise<T> {
  mkdirSync(proxyWasmDir, { recursive: true });
  const lock = path.join(proxyWasmDir, ".build.lock");
  for (;;) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let holder = 0;
      try { holder = Number(readFileSync(lock, "utf8")); } catch { continue; }
      let alive = holder > 0;
      try { if (alive) process.kill(holder, 0); } catch (k) { alive = (k as NodeJS.ErrnoException).code === "EPERM"; }
      if (!alive) { rmSync(lock, { force: true }); continue; }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await job();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Build the filter and the crypto test module unless they are up to date (`force` rebuilds). */
export async function buildProxyWasm(options: { force?: boolean } = {}): Promise<ProxyWasmBuild> {
  const out = outputs();
  if (!options.force && upToDate(out)) return { ...out, rebuilt: false };
  return withBuildLock(async () => {
    // Another process may have built while this one waited for the lock.
    if (!options.force && upToDate(out)) return { ...out, rebuilt: false };
    const inputs: Record<string, string> = {};
    for (const f of sources()) inputs[f] = sha256Hex(readFileSync(path.join(repoRoot, f)));
    const tmpDir = path.join(proxyWasmDir, `.asc-${process.pid}`);
    mkdirSync(tmpDir, { recursive: true });
    try {
      const built = await Promise.all(TARGETS.map((t) => compile(t.entry, t.start, tmpDir)));
      TARGETS.forEach((t, i) => writeAtomically(path.join(proxyWasmDir, t.out), built[i]!));
    } finally {
      rmSync(tmpDir, { recursive: true, force: true });
    }
    writeAtomically(metaFile, JSON.stringify({ inputs }, null, 2) + "\n");
    return { ...out, rebuilt: true };
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisScript) {
  buildProxyWasm({ force: process.argv.includes("--force") }).then(
    (b) => {
      const size = readFileSync(b.filter).length;
      console.log(`${b.rebuilt ? "built" : "up to date:"} ${path.relative(repoRoot, b.filter)} (${size} bytes), ${path.relative(repoRoot, b.cryptoTest)}`);
    },
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
