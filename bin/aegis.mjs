#!/usr/bin/env node
// The `aegis` executable (package.json "bin"): registers tsx so the TypeScript sources run as they
// are, then hands argv to cli/main.ts and exits with its code. Unexpected exceptions are bugs:
// they print a stack trace and exit 70 (EX_SOFTWARE) so they are never mistaken for a decision.
import { register } from "tsx/esm/api";

register();
// `aegis eval ... | head -1`: a reader that goes away is not an error worth a stack trace.
process.stdout.on("error", (error) => {
  if (error && error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
const { main, processIO } = await import("../cli/main.ts");
try {
  process.exitCode = await main(process.argv.slice(2), processIO());
} catch (error) {
  process.stderr.write(`aegis: internal error: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 70;
}
