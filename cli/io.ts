// CLI plumbing shared by every command: the I/O seam (so commands run in-process in tests and
// under `bin/aegis.mjs` alike), argument parsing with per-command help, exit codes, and reading
// policy files and error values into user-facing messages.
import { PolicyErrors } from "../compiler/errors.ts";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Source } from "../compiler/ast.ts";

/** Exit codes of every command (CONTRACT §4). */
export const EXIT_OK = 0;
/** Policy errors, failing policy tests. */
export const EXIT_FAILED = 1;
/** Usage errors, unreadable files, bad bundles, bad requests. */
export const EXIT_USAGE = 2;

/** Where a command reads and writes; `bin/aegis.mjs` binds it to the process. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input. */
  readStdin(): Promise<Uint8Array>;
  /** Directory relative paths are resolved against. */
  cwd: string;
}

/** One subcommand: its name, a one-line summary, its `--help` text, and its body. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** A usage or I/O problem: printed as `aegis <command>: message`, exit 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parse a command's arguments strictly (unknown options are usage errors). Returns null when
 * `--help`/`-h` was given, after printing the help.
 */
export function parseCommandArgs<O extends Options>(
  command: Command,
  argv: string[],
  options: O,
  io: CliIO,
): { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] } | null {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(lowerFirst((e as Error).message.replace(/\. To specify a positional.*$/s, "")));
  }
  if ((parsed.values as Record<string, unknown>).help === true) {
    io.stdout(command.help);
    return null;
  }
  return parsed as { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
}

/** Read a file the user named, as bytes; a missing or unreadable file is a UsageError. */
export function readUserFile(io: CliIO, path: string, what = "file"): Uint8Array {
  try {
    return new Uint8Array(readFileSync(resolve(io.cwd, path)));
  } catch (e) {
    throw new UsageError(`cannot read ${what} \`${path}\`: ${describeFsError(e)}`);
  }
}

/** Read policy files as compiler sources; each keeps the path as the user wrote it. */
export function readSources(io: CliIO, paths: string[]): Source[] {
  if (paths.length === 0) throw new UsageError("no policy files given");
  return paths.map((path) => ({ path, text: decodeUtf8(readUserFile(io, path, "policy file"), path) }));
}

/** Decode UTF-8 strictly: a policy or test file with invalid bytes is refused, not guessed at. */
export function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`\`${path}\` is not valid UTF-8`);
  }
}

/** A readable reason for a failed file operation. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  if (code === "EEXIST") return "file already exists";
  return lowerFirst(e instanceof Error ? e.message : String(e));
}

/** An error that carries a machine-readable code (BundleError, RequestError) or null. */
export function codedError(e: unknown): { code: string; message: string; offset?: number } | null {
  if (!(e instanceof Error)) return null;
  const { code, name, offset } = e as unknown as { code?: unknown; name?: unknown; offset?: unknown };
  // Errors carry the snake_case code name either as `code` or (with a numeric `code`) as `name`.
  const codeName = typeof code === "string" ? code : typeof code === "number" && typeof name === "string" && /^[a-z_]+$/.test(name) ? name : null;
  if (codeName === null) return null;
  return { code: codeName, message: e.message, ...(typeof offset === "number" ? { offset } : {}) };
}

/** The structured error line `{"error":{"code":...,"message":...,"offset":...}}` (docs/semantics.md). */
export function errorJson(error: { code: string; message: string; offset?: number }): string {
  const body: { code: string; message: string; offset?: number } = { code: error.code, message: error.message };
  if (error.offset !== undefined) body.offset = error.offset;
  return JSON.stringify({ error: body });
}

/** The errors thrown by the compiler's `compile` (`PolicyErrors`, an array of PolicyError). */
export function policyErrorsOf(e: unknown): unknown[] | null {
  if (e instanceof PolicyErrors) return e.errors;
  return null;
}

/** `1 error` / `3 errors`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1).replace(/\.$/, "");
}
