// Test support (Node): build engine/record/testing-entry.ts with the asc command line and the
// release options of asconfig.json into build/record-test/record-test.wasm, once for all the test
// files of a run: the build is keyed by a hash of every engine source, and concurrent test workers
// wait on a lock directory instead of building it again. Output: the instantiated exports.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sourceFiles } from "../../scripts/build-files.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = path.join(repoRoot, "build", "record-test");
const wasmFile = path.join(outDir, "record-test.wasm");
const hashFile = path.join(outDir, "inputs.sha256");
const lockDir = path.join(outDir, ".lock");
const ENTRY = "engine/record/testing-entry.ts";

/** What testing-entry.ts exports. u64/i64 parameters are BigInts on the JS side. */
export interface RecordTestExports {
  memory: WebAssembly.Memory;
  input_ptr(cap: number): number;
  result_ptr(): number;
  result_len(): number;
  format_double(value: number): number;
  timestamp(ms: bigint): number;
  jcs(len: number): number;
  record(
    outcomeOffset: number, outcomeLen: number, requestOffset: number, requestLen: number, seq: bigint,
    prevOffset: number, tsMs: bigint, idOffset: number, idLen: number, hostOffset: number, hostLen: number,
    evalNs: bigint, includeParams: number, bundleOffset: number, bundleLen: number,
  ): number;
  record_ptr(): number;
  record_len(): number;
  multiplier(i: number, inverse: number): void;
  multiplier_low(): bigint;
  multiplier_high(): bigint;
}

function engineSources(): string[] {
  return sourceFiles(repoRoot, ["engine"]);
}

function inputsHash(): string {
  const h = createHash("sha256");
  for (const f of [...engineSources(), "asconfig.json"]) {
    h.update(f).update("\0").update(readFileSync(path.join(repoRoot, f))).update("\0");
  }
  return h.digest("hex");
}

function upToDate(hash: string): boolean {
  try {
    return existsSync(wasmFile) && readFileSync(hashFile, "utf8") === hash;
  } catch {
    return false;
  }
}

function compile(out: string): Promise<void> {
  const asc = path.join(repoRoot, "node_modules", "assemblyscript", "bin", "asc.js");
  const args = [asc, ENTRY, "--config", "asconfig.json", "--target", "release", "--outFile", path.relative(repoRoot, out), "--textFile", ""];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: repoRoot, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`asc failed to build ${ENTRY}:\n${stderr || stdout || error.message}`));
      else resolve();
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Build the test module unless it is up to date; returns the wasm path. */
export async function buildRecordTestModule(): Promise<string> {
  const hash = inputsHash();
  mkdirSync(outDir, { recursive: true });
  for (;;) {
    if (upToDate(hash)) return wasmFile;
    try {
      mkdirSync(lockDir);
    } catch {
      // Another worker is building; a lock older than five minutes is left over from a crash.
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > 300_000) rmSync(lockDir, { recursive: true, force: true });
      } catch { /* gone meanwhile */ }
      await sleep(200);
      continue;
    }
    try {
      if (upToDate(hash)) return wasmFile;
      const tmp = `${wasmFile}.${process.pid}.tmp`;
      await compile(tmp);
      renameSync(tmp, wasmFile);
      writeFileSync(hashFile, hash);
      return wasmFile;
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }
  }
}

/** Build (if needed) and instantiate the test module. */
export async function loadRecordTestModule(): Promise<RecordTestExports> {
  const file = await buildRecordTestModule();
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  return instance.exports as unknown as RecordTestExports;
}
