// Conformance runner: reads the golden case files of `conformance/cases/<topic>/*.yaml`, compiles
// each file's policies into a bundle, runs every case through a host (the Node binding, the
// reference interpreter, later Deno, browsers, proxy-wasm, the component) and compares the host's
// bytes with the expected bytes rendered from the case. Input: case files and a ConformanceHost;
// output: one CaseResult per case. The case format is described in conformance/README.md.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { Source } from "../compiler/ast.ts";
import { canonicalize } from "../telemetry/jcs.ts";
import type { RecordMeta } from "../telemetry/record.ts";

/**
 * What every host implements. A host holds at most one loaded bundle; `load` replaces it.
 * `sources` is given for hosts that interpret the policy text instead of the bundle (the reference);
 * hosts that run the bundle ignore it.
 */
export interface ConformanceHost {
  /** "node", "deno", "chromium", "proxy-wasm", "component", "reference". */
  name: string;
  /** Load a bundle; throws on a bad bundle. */
  load(bundle: Uint8Array, sources?: Source[]): Promise<void>;
  /** The decision JSON bytes, or the error JSON bytes `{"error":{...}}` for a bad request. */
  evaluate(request: Uint8Array): Promise<Uint8Array>;
  /**
   * The decision record line (docs/telemetry.md §2, JCS, no newline) this host writes for
   * `request` with these record inputs, built on the host's own platform. Hosts without it fail
   * every case that expects a record.
   */
  record?(request: Uint8Array, meta: RecordMeta): Promise<Uint8Array>;
}

export type Effect = "allow" | "sanitize" | "approval_needed" | "deny";

/** The expected decision: every field of the decision JSON except `bundle`. */
export interface WantDecision {
  decision: Effect;
  enforced: boolean;
  rule: string;
  reason: string;
  policy: string;
  policy_version: string;
  shadow?: { rule: string; effect: Effect }[];
  redactions?: { path: string; by: string }[];
  /** The sanitized params (sanitize only), rendered with JSON.stringify. */
  params?: unknown;
  /** The sanitized params as exact JSON text, for cases where number lexemes or key order matter. */
  params_json?: string;
}

/** An expected request error: compared by code, and by offset when given. */
export interface WantError { code: string; offset?: number }

/** An expected policy error; `message` must occur in the reported message. */
export interface WantCompileError { file?: string; line: number; col?: number; message?: string }

export interface CorpusCase {
  name: string;
  description?: string;
  /** The exact request bytes the host is given. */
  request: Uint8Array;
  want?: WantDecision;
  wantError?: WantError;
  /** Record inputs, for cases that also check the decision record (conformance/cases/telemetry). */
  record?: RecordMeta;
  /** The expected record object; `$bundle` and `$approval` stand for values that depend on the bundle bytes. */
  wantRecord?: Obj;
}

export interface CorpusFile {
  /** Path relative to the cases directory, with `/` separators, e.g. `egress/hosts.yaml`. */
  path: string;
  description?: string;
  sources: Source[];
  cases: CorpusCase[];
  /** Set for files that test policy errors; such files have no cases. */
  wantCompileErrors?: WantCompileError[];
}

export interface CaseResult {
  file: string;
  case: string;
  ok: boolean;
  expected?: string;
  got?: string;
  /** Why the case failed. */
  message?: string;
}

export interface Results {
  host: string;
  total: number;
  passed: number;
  failed: number;
  results: CaseResult[];
}

/** A malformed case file; the message starts with the file's path. */
export class CorpusError extends Error {
  file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "CorpusError";
    this.file = file;
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The default cases directory, `conformance/cases`. */
export const casesDir = path.join(here, "cases");

const EFFECTS = new Set(["allow", "sanitize", "approval_needed", "deny"]);
const REQUEST_ERROR_CODES = new Set([
  "request_too_large", "invalid_json", "invalid_utf8", "duplicate_key", "too_deep",
  "too_many_values", "invalid_request", "no_bundle",
]);
const FILE_KEYS = new Set(["description", "policy", "policies", "defaults", "cases", "want_compile_errors"]);
const CASE_KEYS = new Set(["name", "description", "request", "request_raw", "request_bytes", "want", "want_error", "record", "want_record"]);
const RECORD_KEYS = new Set(["seq", "prev", "ts", "id", "host", "eval_ns", "include_params"]);
const WANT_KEYS = new Set([
  "decision", "enforced", "rule", "reason", "policy", "policy_version", "shadow", "redactions", "params", "params_json",
]);

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkKeys(file: string, where: string, v: Obj, allowed: Set<string>): void {
  for (const k of Object.keys(v)) {
    if (!allowed.has(k)) throw new CorpusError(file, `${where}: unknown key \`${k}\``);
  }
}

function requireString(file: string, where: string, v: unknown): string {
  if (typeof v !== "string") throw new CorpusError(file, `${where} must be a string`);
  return v;
}

/**
 * Decode `request_bytes`: the string's UTF-8 bytes, except that `\xHH` stands for the single byte
 * 0xHH and `\\` for one backslash. This is how a case spells bytes that are not valid UTF-8.
 */
export function decodeRequestBytes(text: string): Uint8Array {
  const out: number[] = [];
  const encoder = new TextEncoder();
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\" && text[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      out.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (ch === "\\" && text[i + 1] === "\\") {
      out.push(0x5c);
      i += 2;
    } else if (ch === "\\") {
      throw new Error(`bad escape at ${i} in request_bytes: only \`\\xHH\` and \`\\\\\` are allowed`);
    } else {
      const cp = text.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      for (const b of encoder.encode(s)) out.push(b);
      i += s.length;
    }
  }
  return new Uint8Array(out);
}

function parseShadow(file: string, where: string, v: unknown): { rule: string; effect: Effect }[] {
  if (!Array.isArray(v) || v.length === 0) throw new CorpusError(file, `${where}.shadow must be a non-empty list (omit it when empty)`);
  return v.map((e, i) => {
    if (!isObject(e)) throw new CorpusError(file, `${where}.shadow[${i}] must be a map`);
    checkKeys(file, `${where}.shadow[${i}]`, e, new Set(["rule", "effect"]));
    const rule = requireString(file, `${where}.shadow[${i}].rule`, e.rule);
    const effect = requireString(file, `${where}.shadow[${i}].effect`, e.effect);
    if (!EFFECTS.has(effect)) throw new CorpusError(file, `${where}.shadow[${i}].effect \`${effect}\` is not an effect`);
    return { rule, effect: effect as Effect };
  });
}

function parseWant(file: string, where: string, v: unknown): WantDecision {
  if (!isObject(v)) throw new CorpusError(file, `${where}.want must be a map`);
  checkKeys(file, `${where}.want`, v, WANT_KEYS);
  const decision = requireString(file, `${where}.want.decision`, v.decision);
  if (!EFFECTS.has(decision)) throw new CorpusError(file, `${where}.want.decision \`${decision}\` is not an effect`);
  if (typeof v.enforced !== "boolean") throw new CorpusError(file, `${where}.want.enforced must be a bool`);
  const want: WantDecision = {
    decision: decision as Effect,
    enforced: v.enforced,
    rule: requireString(file, `${where}.want.rule`, v.rule),
    reason: requireString(file, `${where}.want.reason`, v.reason),
    policy: requireString(file, `${where}.want.policy`, v.policy),
    policy_version: requireString(file, `${where}.want.policy_version`, v.policy_version),
  };
  if (v.shadow !== undefined) want.shadow = parseShadow(file, `${where}.want`, v.shadow);
  const sanitize = decision === "sanitize";
  if (sanitize) {
    if (!Array.isArray(v.redactions)) throw new CorpusError(file, `${where}.want.redactions is required for sanitize (a list, may be empty)`);
    want.redactions = v.redactions.map((r, i) => {
      if (!isObject(r)) throw new CorpusError(file, `${where}.want.redactions[${i}] must be a map`);
      checkKeys(file, `${where}.want.redactions[${i}]`, r, new Set(["path", "by"]));
      return { path: requireString(file, `${where}.want.redactions[${i}].path`, r.path), by: requireString(file, `${where}.want.redactions[${i}].by`, r.by) };
    });
    if ((v.params === undefined) === (v.params_json === undefined)) {
      throw new CorpusError(file, `${where}.want needs exactly one of \`params\` and \`params_json\` for sanitize`);
    }
    if (v.params !== undefined) {
      if (!isObject(v.params)) throw new CorpusError(file, `${where}.want.params must be a map`);
      want.params = v.params;
    } else {
      const text = requireString(file, `${where}.want.params_json`, v.params_json);
      try { JSON.parse(text); } catch { throw new CorpusError(file, `${where}.want.params_json is not JSON`); }
      want.params_json = text;
    }
  } else if (v.redactions !== undefined || v.params !== undefined || v.params_json !== undefined) {
    throw new CorpusError(file, `${where}.want: \`redactions\` and \`params\` only belong to sanitize decisions`);
  }
  return want;
}

function parseCase(file: string, index: number, v: unknown, defaults: Obj): CorpusCase {
  const at = `cases[${index}]`;
  if (!isObject(v)) throw new CorpusError(file, `${at} must be a map`);
  checkKeys(file, at, v, CASE_KEYS);
  const name = requireString(file, `${at}.name`, v.name);
  const where = `case \`${name}\``;
  const given = ["request", "request_raw", "request_bytes"].filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw new CorpusError(file, `${where}: give exactly one of request, request_raw, request_bytes`);
  let request: Uint8Array;
  if (v.request !== undefined) {
    if (!isObject(v.request)) throw new CorpusError(file, `${where}: request must be a map (use request_raw for other JSON)`);
    request = new TextEncoder().encode(JSON.stringify(v.request));
  } else if (v.request_raw !== undefined) {
    request = new TextEncoder().encode(requireString(file, `${where}.request_raw`, v.request_raw));
  } else {
    try {
      request = decodeRequestBytes(requireString(file, `${where}.request_bytes`, v.request_bytes));
    } catch (e) {
      throw new CorpusError(file, `${where}: ${(e as Error).message}`);
    }
  }
  if ((v.want === undefined) === (v.want_error === undefined)) {
    throw new CorpusError(file, `${where}: give exactly one of want, want_error`);
  }
  const c: CorpusCase = { name, request };
  if (v.description !== undefined) c.description = requireString(file, `${where}.description`, v.description);
  if (v.want !== undefined) {
    if (!isObject(v.want)) throw new CorpusError(file, `${where}.want must be a map`);
    c.want = parseWant(file, where, { ...defaults, ...v.want });
  } else {
    const e = v.want_error;
    if (!isObject(e)) throw new CorpusError(file, `${where}.want_error must be a map`);
    checkKeys(file, `${where}.want_error`, e, new Set(["code", "offset"]));
    const code = requireString(file, `${where}.want_error.code`, e.code);
    if (!REQUEST_ERROR_CODES.has(code)) throw new CorpusError(file, `${where}.want_error.code \`${code}\` is not a request error code`);
    c.wantError = { code };
    if (e.offset !== undefined) {
      if (!Number.isInteger(e.offset) || (e.offset as number) < 0) throw new CorpusError(file, `${where}.want_error.offset must be a non-negative integer`);
      c.wantError.offset = e.offset as number;
    }
  }
  if ((v.record === undefined) !== (v.want_record === undefined)) {
    throw new CorpusError(file, `${where}: \`record\` and \`want_record\` go together`);
  }
  if (v.record !== undefined) {
    c.record = parseRecordMeta(file, where, v.record);
    if (!isObject(v.want_record)) throw new CorpusError(file, `${where}.want_record must be a map`);
    c.wantRecord = v.want_record;
  }
  return c;
}

function parseRecordMeta(file: string, where: string, v: unknown): RecordMeta {
  if (!isObject(v)) throw new CorpusError(file, `${where}.record must be a map`);
  checkKeys(file, `${where}.record`, v, RECORD_KEYS);
  const int = (k: string): number => {
    if (!Number.isSafeInteger(v[k]) || (v[k] as number) < 0) throw new CorpusError(file, `${where}.record.${k} must be a non-negative integer`);
    return v[k] as number;
  };
  const meta: RecordMeta = {
    seq: int("seq"),
    prev: requireString(file, `${where}.record.prev`, v.prev),
    ts: int("ts"),
    id: requireString(file, `${where}.record.id`, v.id),
    host: requireString(file, `${where}.record.host`, v.host),
    evalNs: int("eval_ns"),
  };
  if (v.include_params !== undefined) {
    if (typeof v.include_params !== "boolean") throw new CorpusError(file, `${where}.record.include_params must be a bool`);
    meta.includeParams = v.include_params;
  }
  return meta;
}

/**
 * The exact record line a host must write for `c`: `want_record` in JCS form, with `$bundle` replaced
 * by the bundle digest and `$approval` by the approval id of the record's rule and request digest
 * (computed here with node:crypto, independently of telemetry/record.ts).
 */
export function expectedRecordLine(c: CorpusCase, digest: string): string {
  const want = c.wantRecord;
  if (!want) throw new Error(`case \`${c.name}\` expects no record`);
  const filled: Obj = { ...want };
  if (filled.bundle === "$bundle") filled.bundle = digest;
  if (filled.approval === "$approval") {
    filled.approval = "apr-" + createHash("sha256").update(`${digest}\n${String(filled.rule)}\n${String(filled.request)}`).digest("hex").slice(0, 32);
  }
  return canonicalize(filled);
}

/** Parse and validate one case file; throws CorpusError naming the file. */
export function parseCorpusFile(relPath: string, text: string): CorpusFile {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (e) {
    throw new CorpusError(relPath, `not valid YAML: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new CorpusError(relPath, "a case file must be a map");
  checkKeys(relPath, "file", doc, FILE_KEYS);
  let sources: Source[];
  if ((doc.policy === undefined) === (doc.policies === undefined)) {
    throw new CorpusError(relPath, "give exactly one of `policy` and `policies`");
  }
  if (doc.policy !== undefined) {
    sources = [{ path: "policy.yaml", text: requireString(relPath, "policy", doc.policy) }];
  } else {
    if (!Array.isArray(doc.policies) || doc.policies.length === 0) throw new CorpusError(relPath, "policies must be a non-empty list");
    sources = doc.policies.map((p, i) => {
      if (!isObject(p)) throw new CorpusError(relPath, `policies[${i}] must be a map`);
      checkKeys(relPath, `policies[${i}]`, p, new Set(["path", "text"]));
      return { path: requireString(relPath, `policies[${i}].path`, p.path), text: requireString(relPath, `policies[${i}].text`, p.text) };
    });
    const paths = new Set(sources.map((s) => s.path));
    if (paths.size !== sources.length) throw new CorpusError(relPath, "policies: duplicate path");
  }
  const file: CorpusFile = { path: relPath, sources, cases: [] };
  if (doc.description !== undefined) file.description = requireString(relPath, "description", doc.description);
  if (doc.want_compile_errors !== undefined) {
    if (doc.cases !== undefined || doc.defaults !== undefined) throw new CorpusError(relPath, "a file with want_compile_errors has no cases");
    if (!Array.isArray(doc.want_compile_errors) || doc.want_compile_errors.length === 0) {
      throw new CorpusError(relPath, "want_compile_errors must be a non-empty list");
    }
    file.wantCompileErrors = doc.want_compile_errors.map((e, i) => {
      const at = `want_compile_errors[${i}]`;
      if (!isObject(e)) throw new CorpusError(relPath, `${at} must be a map`);
      checkKeys(relPath, at, e, new Set(["file", "line", "col", "message"]));
      if (!Number.isInteger(e.line) || (e.line as number) < 1) throw new CorpusError(relPath, `${at}.line must be a positive integer`);
      const want: WantCompileError = { line: e.line as number };
      if (e.col !== undefined) {
        if (!Number.isInteger(e.col) || (e.col as number) < 1) throw new CorpusError(relPath, `${at}.col must be a positive integer`);
        want.col = e.col as number;
      }
      if (e.message !== undefined) want.message = requireString(relPath, `${at}.message`, e.message);
      want.file = e.file !== undefined ? requireString(relPath, `${at}.file`, e.file) : sources[0].path;
      if (!sources.some((s) => s.path === want.file)) throw new CorpusError(relPath, `${at}.file \`${want.file}\` is not one of the policies`);
      return want;
    });
    return file;
  }
  let defaults: Obj = {};
  if (doc.defaults !== undefined) {
    if (!isObject(doc.defaults)) throw new CorpusError(relPath, "defaults must be a map");
    checkKeys(relPath, "defaults", doc.defaults, WANT_KEYS);
    defaults = doc.defaults;
  }
  if (!Array.isArray(doc.cases) || doc.cases.length === 0) throw new CorpusError(relPath, "cases must be a non-empty list");
  const names = new Set<string>();
  doc.cases.forEach((c, i) => {
    const parsed = parseCase(relPath, i, c, defaults);
    if (names.has(parsed.name)) throw new CorpusError(relPath, `duplicate case name \`${parsed.name}\``);
    names.add(parsed.name);
    file.cases.push(parsed);
  });
  return file;
}

function listYamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listYamlFiles(full));
    else if (name.endsWith(".yaml")) out.push(full);
  }
  return out;
}

/** Read and validate every case file under `dir` (default `conformance/cases`), sorted by path. */
export function loadCorpus(dir: string = casesDir): CorpusFile[] {
  return listYamlFiles(dir).map((full) => {
    const rel = path.relative(dir, full).split(path.sep).join("/");
    return parseCorpusFile(rel, readFileSync(full, "utf8"));
  });
}

/** The number of golden cases in a corpus (a compile-error file counts as one). */
export function caseCount(corpus: CorpusFile[]): number {
  return corpus.reduce((n, f) => n + (f.wantCompileErrors ? 1 : f.cases.length), 0);
}

/** The id of a case in skip files and reports: `<file>: <case>`. */
export function caseId(file: CorpusFile | string, c: CorpusCase | string): string {
  return `${typeof file === "string" ? file : file.path}: ${typeof c === "string" ? c : c.name}`;
}

const SECTION_DIGEST = 14;

/**
 * The `"sha256:<hex>"` identity of a bundle: the 32 bytes of its DIGEST section, found by walking
 * the section headers (docs/bytecode.md). Throws when the bundle has no well-formed DIGEST section.
 */
export function bundleDigest(bundle: Uint8Array): string {
  const view = new DataView(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  if (bundle.length < 16) throw new Error("bundle is truncated");
  const sectionCount = view.getUint32(12, true);
  let at = 16;
  for (let i = 0; i < sectionCount; i++) {
    if (at + 8 > bundle.length) throw new Error("bundle is truncated");
    const id = bundle[at];
    const length = view.getUint32(at + 4, true);
    const payload = at + 8;
    if (payload + length > bundle.length) throw new Error("bundle is truncated");
    if (id === SECTION_DIGEST) {
      if (length !== 32) throw new Error("DIGEST section is not 32 bytes");
      return "sha256:" + Buffer.from(bundle.subarray(payload, payload + 32)).toString("hex");
    }
    at = payload + length;
  }
  throw new Error("bundle has no DIGEST section");
}

/**
 * The exact decision bytes a host must return for `c`: `want` in the key order of docs/semantics.md
 * ("Decision JSON") with `bundle` set to `digest`, strings escaped as JSON.stringify does.
 */
export function expectedBytes(c: CorpusCase, digest: string): Uint8Array {
  return new TextEncoder().encode(expectedText(c, digest));
}

function expectedText(c: CorpusCase, digest: string): string {
  const w = c.want;
  if (!w) throw new Error(`case \`${c.name}\` expects an error, not a decision`);
  const parts = [
    `"decision":${JSON.stringify(w.decision)}`,
    `"enforced":${JSON.stringify(w.enforced)}`,
    `"rule":${JSON.stringify(w.rule)}`,
    `"reason":${JSON.stringify(w.reason)}`,
    `"policy":${JSON.stringify(w.policy)}`,
    `"policy_version":${JSON.stringify(w.policy_version)}`,
    `"bundle":${JSON.stringify(digest)}`,
  ];
  if (w.shadow && w.shadow.length > 0) {
    parts.push(`"shadow":[${w.shadow.map((s) => `{"rule":${JSON.stringify(s.rule)},"effect":${JSON.stringify(s.effect)}}`).join(",")}]`);
  }
  if (w.decision === "sanitize") {
    parts.push(`"redactions":[${(w.redactions ?? []).map((r) => `{"path":${JSON.stringify(r.path)},"by":${JSON.stringify(r.by)}}`).join(",")}]`);
    parts.push(`"params":${w.params_json ?? JSON.stringify(w.params)}`);
  }
  return `{${parts.join(",")}}`;
}

/** A compiled case file: the bundle bytes and their digest. */
export interface CompiledFile { bundle: Uint8Array; digest: string }

const compiledCache = new Map<CorpusFile, Promise<CompiledFile>>();

/** Compile a file's policies with `compile` from compiler/index.ts (cached per file). */
export function compileCorpusFile(file: CorpusFile): Promise<CompiledFile> {
  let p = compiledCache.get(file);
  if (!p) {
    p = (async () => {
      const { compile } = await import("../compiler/index.ts");
      let bundle: Uint8Array;
      try {
        bundle = compile(file.sources);
      } catch (e) {
        const errors = (e as { errors?: { file: string; line: number; col: number; message: string }[] }).errors;
        const detail = errors ? errors.map((x) => `${x.file}:${x.line}:${x.col}: ${x.message}`).join("; ") : (e as Error).message;
        throw new Error(`${file.path}: the policies do not compile: ${detail}`);
      }
      return { bundle, digest: bundleDigest(bundle) };
    })();
    compiledCache.set(file, p);
  }
  return p;
}

/**
 * Check a `want_compile_errors` file with `checkSources`: every wanted error must be reported (same
 * file and line, same col when given, message containing `message` when given), and no other.
 * Returns a CaseResult named `compile errors`.
 */
export async function checkCompileErrors(file: CorpusFile): Promise<CaseResult> {
  const name = "compile errors";
  const wanted = file.wantCompileErrors ?? [];
  const { checkSources } = await import("../compiler/index.ts");
  const { errors } = checkSources(file.sources);
  const got = errors.map((e: { file: string; line: number; col: number; message: string }) => ({ file: e.file, line: e.line, col: e.col, message: e.message }));
  const gotText = got.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`).join("\n");
  const expectedText = wanted.map((w) => `${w.file}:${w.line}:${w.col ?? "*"}: ${w.message ?? "*"}`).join("\n");
  const unmatched = [...got];
  const missing: WantCompileError[] = [];
  for (const w of wanted) {
    const i = unmatched.findIndex((e) => e.file === w.file && e.line === w.line
      && (w.col === undefined || e.col === w.col) && (w.message === undefined || e.message.includes(w.message)));
    if (i < 0) missing.push(w);
    else unmatched.splice(i, 1);
  }
  if (missing.length === 0 && unmatched.length === 0) return { file: file.path, case: name, ok: true };
  const why = [
    ...missing.map((w) => `missing error ${w.file}:${w.line}:${w.col ?? "*"}: ${w.message ?? "*"}`),
    ...unmatched.map((e) => `unexpected error ${e.file}:${e.line}:${e.col}: ${e.message}`),
  ].join("; ");
  return { file: file.path, case: name, ok: false, expected: expectedText, got: gotText, message: why };
}

function describeBytes(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Compare a host's output for a `want_error` case: the error JSON shape, its code, and its offset when wanted. */
function compareError(want: WantError, got: Uint8Array): string | null {
  let parsed: unknown;
  try { parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(got)); } catch { return "the host's output is not JSON"; }
  if (!isObject(parsed) || !isObject(parsed.error) || Object.keys(parsed).length !== 1) return "the host did not return an error JSON";
  const e = parsed.error;
  const keys = Object.keys(e);
  if (keys[0] !== "code" || keys[1] !== "message" || keys.length > 3 || (keys.length === 3 && keys[2] !== "offset")) {
    return "the error JSON must have the keys code, message and optionally offset, in that order";
  }
  if (typeof e.message !== "string" || e.message === "") return "the error message must be a non-empty string";
  if (e.code !== want.code) return `error code \`${String(e.code)}\`, want \`${want.code}\``;
  if (want.offset !== undefined && e.offset !== want.offset) return `error offset ${String(e.offset)}, want ${want.offset}`;
  return null;
}

/**
 * Runs cases on one host, loading each file's bundle before its first case (a host holds one
 * bundle at a time, so cases of one file should run together).
 */
export class CorpusSession {
  readonly host: ConformanceHost;
  private loaded: CorpusFile | null = null;

  constructor(host: ConformanceHost) { this.host = host; }

  /** Run one case of `file` on the host. Never throws: failures come back as `ok: false`. */
  async runCase(file: CorpusFile, c: CorpusCase): Promise<CaseResult> {
    const result: CaseResult = { file: file.path, case: c.name, ok: false };
    let compiled: CompiledFile;
    try {
      compiled = await compileCorpusFile(file);
      if (this.loaded !== file) {
        this.loaded = null;
        await this.host.load(compiled.bundle, file.sources);
        this.loaded = file;
      }
    } catch (e) {
      result.message = `could not load the bundle: ${(e as Error).message}`;
      return result;
    }
    let got: Uint8Array;
    try {
      got = await this.host.evaluate(c.request);
    } catch (e) {
      result.message = `the host threw: ${(e as Error).message}`;
      return result;
    }
    result.got = describeBytes(got);
    if (c.want) {
      const want = expectedBytes(c, compiled.digest);
      result.expected = describeBytes(want);
      result.ok = bytesEqual(want, got);
      if (!result.ok) result.message = "decision bytes differ";
    } else if (c.wantError) {
      result.expected = JSON.stringify({ error: c.wantError });
      const why = compareError(c.wantError, got);
      result.ok = why === null;
      if (why !== null) result.message = why;
    }
    if (result.ok && c.record) {
      result.ok = false;
      if (!this.host.record) {
        result.message = `host \`${this.host.name}\` does not write decision records`;
        return result;
      }
      const want = expectedRecordLine(c, compiled.digest);
      result.expected = want;
      try {
        const line = new TextDecoder().decode(await this.host.record(c.request, c.record));
        result.got = line;
        result.ok = line === want;
        if (!result.ok) result.message = "record bytes differ";
      } catch (e) {
        result.message = `the host threw writing the record: ${(e as Error).message}`;
      }
    }
    return result;
  }
}

/** Run every case of `corpus` on `host` (compile-error files are host independent and not run here). */
export async function runCorpus(host: ConformanceHost, corpus: CorpusFile[]): Promise<Results> {
  const session = new CorpusSession(host);
  const results: CaseResult[] = [];
  for (const file of corpus) {
    for (const c of file.cases) results.push(await session.runCase(file, c));
  }
  const passed = results.filter((r) => r.ok).length;
  return { host: host.name, total: results.length, passed, failed: results.length - passed, results };
}

/** One entry of `conformance/skips/<host>.yaml`: a case id (`<file>: <case>`), why, and the tracking issue. */
export interface Skip { test: string; reason: string; issue: string }

/** Read `conformance/skips/<host>.yaml` (a YAML list of {test, reason, issue}; a missing file is no skips). */
export function loadSkips(hostName: string, dir: string = path.join(here, "skips")): Skip[] {
  const file = path.join(dir, `${hostName}.yaml`);
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch { return []; }
  const rel = `skips/${hostName}.yaml`;
  const doc = parseYaml(text, { uniqueKeys: true });
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new CorpusError(rel, "a skip file must be a list");
  return doc.map((s, i) => {
    if (!isObject(s)) throw new CorpusError(rel, `[${i}] must be a map`);
    checkKeys(rel, `[${i}]`, s, new Set(["test", "reason", "issue"]));
    return {
      test: requireString(rel, `[${i}].test`, s.test),
      reason: requireString(rel, `[${i}].reason`, s.reason),
      issue: requireString(rel, `[${i}].issue`, s.issue),
    };
  });
}

/**
 * The request error JSON every host returns for a bad request, `{"error":{"code","message","offset"?}}`
 * (docs/semantics.md "Request validation"). For hosts whose API reports errors as exceptions.
 */
export function errorJsonBytes(code: string, message: string, offset?: number): Uint8Array {
  const inner = offset === undefined
    ? `{"code":${JSON.stringify(code)},"message":${JSON.stringify(message)}}`
    : `{"code":${JSON.stringify(code)},"message":${JSON.stringify(message)},"offset":${offset}}`;
  return new TextEncoder().encode(`{"error":${inner}}`);
}
