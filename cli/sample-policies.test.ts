// Runs the sample policies' test files (policies/*.test.yaml) through the CLI's test runner, as a
// user would (`npx aegis test policies/*.test.yaml`), so `npm test` fails when a sample policy
// and its tests drift apart.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("aegis test policies/*.test.yaml", () => {
  it("passes every case of every sample policy test file", () => {
    const files = readdirSync(join(repoRoot, "policies")).filter((f) => f.endsWith(".test.yaml")).map((f) => `policies/${f}`);
    expect(files).toEqual(["policies/procurement.test.yaml", "policies/retail.test.yaml"]);
    let stdout = "";
    let code = 0;
    try {
      stdout = execFileSync(process.execPath, [join(repoRoot, "bin", "aegis.mjs"), "test", ...files], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const failed = e as { status: number; stdout: string; stderr: string };
      code = failed.status;
      stdout = `${failed.stdout}\n${failed.stderr}`;
    }
    // On failure the assertion shows the runner's own output: which case, which fields.
    expect(stdout.split("\n").filter((line) => /^FAIL|^ {8}|:\d+:\d+:/.test(line)).join("\n")).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok: (\d+) passed, 0 failed \(2 files\)$/m);
    expect(Number(/^ok: (\d+) passed/m.exec(stdout)![1])).toBeGreaterThanOrEqual(90);
  });
});
