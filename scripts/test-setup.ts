// vitest global setup: make sure the engine wasm exists before any test runs, so `npm test` works
// right after a clone even if `npm install` skipped the prepare script. A failed build does not
// abort the run: every test that needs the wasm then fails on its own, with its own message.
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";

export default function setup(): void {
  if (existsSync("build/aegis.wasm") || !existsSync("engine/index.ts")) return;
  try {
    execFileSync("npm", ["run", "build"], { stdio: "inherit" });
  } catch {
    console.error("test setup: `npm run build` failed; tests that need build/aegis.wasm will fail");
  }
}
