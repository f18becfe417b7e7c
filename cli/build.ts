// CLI front of the compiler: reads policy files, runs `checkSources` or `compile`, and prints every
// policy error as `file:line:col: message` with its source excerpt (formatPolicyError) plus a count
// line. Shared by `check`, `compile`, `eval --policy` and `test`.
import { checkSources, compile, formatPolicyError, type PolicyError } from "../compiler/index.ts";
import type { CheckedBundle, Source } from "../compiler/ast.ts";
import { plural, policyErrorsOf } from "./io.ts";

/** Print policy errors (all of them) and a count line to `write`. */
export function printPolicyErrors(errors: PolicyError[], sources: Source[], write: (text: string) => void): void {
  for (const error of errors) write(ensureNewline(formatPolicyError(error, sources)));
  write(`${plural(errors.length, "error")}\n`);
}

/** Check sources; on errors print them and return null. */
export function checkOrReport(sources: Source[], write: (text: string) => void): CheckedBundle | null {
  const { bundle, errors } = checkSources(sources);
  if (errors.length > 0 || bundle === null) {
    printPolicyErrors(errors, sources, write);
    return null;
  }
  return bundle;
}

/**
 * Compile sources to bundle bytes (signed when `privateKey` is given); on policy errors print them
 * and return null. Other exceptions propagate: they are bugs, not user errors.
 */
export function compileOrReport(sources: Source[], write: (text: string) => void, privateKey?: Uint8Array): Uint8Array | null {
  try {
    return compile(sources, privateKey ? { privateKey } : {});
  } catch (e) {
    const errors = policyErrorsOf(e);
    if (errors === null) throw e;
    printPolicyErrors(errors as PolicyError[], sources, write);
    return null;
  }
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
