// The conformance corpus on real Deno, driven from vitest: compiles every case file in Node (for
// the bundle digests), runs `deno test` on conformance/hosts/deno/conformance_test.ts (which
// compiles the same files in Deno, checks the digests match and runs every case through the binding
// entry), and asserts it passed and ran exactly as many cases as the corpus holds, so a silently
// empty run fails. Also `deno check`s the binding entries. Input: conformance/cases and the Deno
// binary from node_modules; output: test results and the Deno summary line.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compileCorpusFile, loadCorpus } from "./runner.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const deno = path.join(repoRoot, "node_modules", ".bin", "deno");
const tmp = mkdtempSync(path.join(tmpdir(), "aegis-deno-"));

interface Run { code: number | null; output: string }

/** Run deno with `args` in the repository; never rejects (the exit code and output say what happened). */
function runDeno(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(deno, args, {
      cwd: repoRoot,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 110_000,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** The last lines of `text`: enough to show why deno failed without flooding the report. */
function tail(text: string, lines = 60): string {
  return text.split("\n").slice(-lines).join("\n");
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("conformance deno", () => {
  it("deno is installed (devDependency `deno`)", () => {
    expect(existsSync(deno), `\`${deno}\` is missing: run \`npm ci\``).toBe(true);
  });

  it("runs every case of the corpus in Deno, with the bundles Node compiles", async () => {
    const corpus = loadCorpus().filter((f) => !f.wantCompileErrors);
    const expectedCases = corpus.reduce((n, f) => n + f.cases.length, 0);
    const digests: Record<string, string> = {};
    for (const file of corpus) digests[file.path] = (await compileCorpusFile(file)).digest;
    const digestsFile = path.join(tmp, "digests.json");
    writeFileSync(digestsFile, JSON.stringify(digests));

    // --no-check: types are checked by tsc in scripts/typecheck.test.ts and by `deno check` below.
    // --no-lock: never write a deno.lock into the repository.
    const run = await runDeno(
      ["test", "-A", "--no-check", "--no-lock", "--node-modules-dir=manual", "conformance/hosts/deno/conformance_test.ts"],
      { AEGIS_BUNDLE_DIGESTS: digestsFile },
    );
    expect(run.code, `deno test failed:\n${tail(run.output)}`).toBe(0);
    const summary = /conformance deno: (\d+) cases, (\d+) passed, (\d+) skipped, (\d+) failed/.exec(run.output);
    expect(summary, `no summary line in deno's output:\n${tail(run.output)}`).not.toBeNull();
    console.log(summary![0]);
    const [cases, passed, skipped, failed] = summary!.slice(1).map(Number);
    expect(cases).toBe(expectedCases);
    expect(failed).toBe(0);
    expect(passed + skipped).toBe(cases);
  });

  it("type-checks the binding entries with deno check", async () => {
    const run = await runDeno(["check", "--no-lock", "--node-modules-dir=manual", "bindings/node/index.ts", "bindings/web/index.ts"]);
    expect(run.code, `deno check failed:\n${tail(run.output)}`).toBe(0);
  });
});
