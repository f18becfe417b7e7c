// vitest global setup: make sure the engine wasm and generated files exist before any test runs,
// so `npm test` works right after a clone even if `npm install` skipped the prepare script.
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";

export default function setup(): void {
  if (!existsSync("build/aegis.wasm")) {
    execFileSync("npm", ["run", "build"], { stdio: "inherit" });
  }
}
