// The TypeScript sources (compiler, bindings, CLI, conformance, bench, demo, scripts) type-check
// under tsconfig.json: tsx and vitest strip types without checking them, so this is the check.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");

describe("typescript", () => {
  it("type-checks with no errors (tsc --noEmit)", () => {
    const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", join(root, "tsconfig.json")], { encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  });
});
