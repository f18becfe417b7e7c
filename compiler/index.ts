// Public compiler API: policy sources -> checked model -> signed bundle bytes.
// parse-yaml -> check (compiler/check) -> lower (compiler/lower) -> emit (compiler/emit).
import type { CheckedBundle, Source } from "./ast.ts";
import { checkSources } from "./check/check.ts";
import { PolicyErrors } from "./errors.ts";
import { compileRegex } from "./regex/compile.ts";
import { lowerBundle } from "./lower/lower.ts";
import { emitBundle } from "./emit/emit.ts";

export { checkSources, checkExpressionSource } from "./check/check.ts";
export { PolicyError, PolicyErrors, formatPolicyError } from "./errors.ts";
export { disassembleBundle } from "./bundle/disassemble.ts";
export { readBundle, BundleError } from "./bundle/read.ts";
export type { CheckedBundle, Source } from "./ast.ts";

export interface CompileOptions {
  /** 32-byte Ed25519 seed: sign the bundle. */
  privateKey?: Uint8Array;
}

/** Compile policy sources (or one YAML text, named `<input>`) to bundle bytes. Throws PolicyErrors. */
export function compile(sources: Source[] | string, options: CompileOptions = {}): Uint8Array {
  const list = typeof sources === "string" ? [{ path: "<input>", text: sources }] : sources;
  const { bundle, errors } = checkSources(list);
  if (!bundle || errors.length > 0) throw new PolicyErrors(errors, list);
  return compileChecked(bundle, options);
}

/** Lower and emit an already checked bundle. */
export function compileChecked(bundle: CheckedBundle, options: CompileOptions = {}): Uint8Array {
  return emitBundle(lowerBundle(bundle, { compileRegex }), { privateKey: options.privateKey });
}
