// Node binding, friendly API: Aegis.load(bundle) -> aegis.evaluate(request) -> Decision.
// Input: bundle bytes (signature checked against a trusted key when one is given) and requests as
// objects (fast path: a tape written by encode.ts), JSON strings or UTF-8 bytes (canonical path).
// Output: decisions, exactly the engine's decision JSON (no policy logic lives here).
import { verifyBundleSignature } from "../shared/signature.ts";
import { ERROR_BY_CODE, Limits } from "../../compiler/generated/bytecode.ts";
import { Engine, FLAG_DYNAMIC_REASON, FLAG_ENFORCED, FLAG_REDACTIONS, FLAG_SHADOW, type EngineSource } from "./wasm.ts";
import { TapeEncoder } from "./encode.ts";
export { setDefaultEngineSource, type EngineSource } from "./wasm.ts";
import { buildRecord, recordJson, uuidv7, type DecisionFields, type DecisionRecord, type RequestInput, type Sha256 } from "../../telemetry/record.ts";
import { finishDecisionSpan, startDecisionSpan, tracingActive } from "../../telemetry/otel.ts";
import type { Span } from "@opentelemetry/api";
// Types only: the log writer is Node-specific and is imported on demand (browsers never load it).
import type { AuditLog, AuditLogOptions } from "../../telemetry/log.ts";

const { MAX_BUNDLE_BYTES, MAX_REQUEST_BYTES } = Limits;
const EFFECT_SANITIZE = 1;

/** A bundle was rejected (bad bytes, bad signature, wrong key). `code` is a bundle error name. */
export class BundleError extends Error {
  code: string;
  offset?: number;
  constructor(code: string, message: string, offset?: number) {
    super(message);
    this.name = "BundleError";
    this.code = code;
    if (offset !== undefined) this.offset = offset;
  }
}

/** A request was rejected (not JSON, bad shape, too large...). `code` is a request error name. */
export class RequestError extends Error {
  code: string;
  offset?: number;
  constructor(code: string, message: string, offset?: number) {
    super(message);
    this.name = "RequestError";
    this.code = code;
    if (offset !== undefined) this.offset = offset;
  }
}

/** The engine's decision (docs/semantics.md "Decision JSON"). */
export interface Decision {
  decision: "allow" | "deny" | "sanitize" | "approval_needed";
  enforced: boolean;
  rule: string;
  reason: string;
  policy: string;
  policy_version: string;
  bundle: string;
  shadow?: { rule: string; effect: string }[];
  redactions?: { path: string; by: string }[];
  params?: unknown;
}

/** The audit log of docs/telemetry.md: every decision becomes a signed, verifiable record. */
export interface AuditOptions extends AuditLogOptions {
  /** Log the params too (redacted for sanitize decisions; docs/telemetry.md §2). Default false. */
  includeParams?: boolean;
}

export interface LoadOptions {
  /** Trusted Ed25519 public key: 32 raw bytes or 64 hex characters. Every bundle must be signed by it. */
  publicKey?: Uint8Array | string;
  /** Write every decision to a signed audit log (Node only). */
  audit?: AuditOptions;
  /** Host kind in records and spans; default `node`, `deno` or `browser` as detected. */
  host?: string;
  /** Where the engine wasm comes from (URL, bytes or module); default `build/aegis.wasm` beside the package. */
  engine?: EngineSource;
}

function detectHost(): string {
  const g = globalThis as { Deno?: unknown; document?: unknown };
  if (g.Deno !== undefined) return "deno";
  if (g.document !== undefined) return "browser";
  return "node";
}

const now = (): number => performance.now();

const textDecoder = new TextDecoder();

function publicKeyBytes(key: Uint8Array | string): Uint8Array {
  if (typeof key === "string") {
    if (!/^[0-9a-fA-F]{64}$/.test(key)) throw new BundleError("bad_signature", "the public key must be 32 bytes or 64 hex characters");
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = parseInt(key.slice(2 * i, 2 * i + 2), 16);
    return bytes;
  }
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new BundleError("bad_signature", "the public key must be 32 bytes or 64 hex characters");
  }
  return key.slice();
}

interface EngineError { code: string; message: string; offset?: number }

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** The span attributes of one decision (built only when a tracer records). */
function spanFields(
  outcome: Decision | RequestError,
  result: Decision | RequestError,
  record: DecisionRecord | undefined,
  host: string,
  bundle: string,
  request: object | string | Uint8Array,
  seq: number | undefined,
  hash: string | undefined,
  evalNs: number,
) {
  let value: unknown = request;
  if (typeof request === "string" || request instanceof Uint8Array) {
    try { value = JSON.parse(typeof request === "string" ? request : textDecoder.decode(request)); } catch { value = undefined; }
  }
  const req = (typeof value === "object" && value !== null ? value : {}) as { agent?: { id?: unknown; tenant?: unknown }; tool?: unknown; action?: unknown };
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const d = result instanceof RequestError ? undefined : result;
  return {
    decision: d?.decision ?? "deny",
    enforced: d?.enforced ?? true,
    rule: d?.rule ?? "",
    reason: d?.reason ?? (outcome as RequestError).message,
    policy: d?.policy ?? "",
    policyVersion: d?.policy_version ?? "",
    bundle,
    tool: str(req.tool),
    action: str(req.action),
    agentId: str(req.agent?.id),
    agentTenant: str(req.agent?.tenant),
    host,
    requestSha256: record?.request,
    recordSeq: seq,
    recordHash: hash,
    evalNs,
    error: outcome instanceof RequestError
      ? { code: outcome.code, message: outcome.message }
      : result !== outcome ? { code: "audit_unavailable", message: d?.reason ?? "" } : undefined,
  };
}

/** A frozen decision and the (policy << 3 | effect << 1 | enforced) it was rendered for. */
interface CachedDecision { variant: number; decision: Decision }

/** The `error` object of the engine's error JSON, or a generic one for `code` if it is unreadable. */
function engineError(engine: Engine, code: number): EngineError {
  try {
    const parsed = JSON.parse(engine.outputText()) as { error?: EngineError };
    if (parsed.error && typeof parsed.error.code === "string") return parsed.error;
  } catch {
    // fall through
  }
  const known = ERROR_BY_CODE.get(code);
  return { code: known?.name ?? "internal", message: known?.message ?? `engine error ${code}` };
}

/** One loaded bundle in its own engine instance. Evaluation is synchronous. */
export class Aegis {
  private readonly engine: Engine;
  private readonly encoder: TapeEncoder;
  private readonly publicKey: Uint8Array | undefined;
  /**
   * Decisions that depend only on (effect, rule, policy, enforced), frozen and shared: indexed
   * by rule and whether the reason is dynamic (((result_rule + 4) << 1) | dynamic, so the
   * pseudo-rules -1..-3 fit), each entry remembering the (policy, effect, enforced) it was
   * rendered for. A rule index fixes its policy and effect, so only the default decision (one
   * per policy, effect and enforcement) ever needs the Map behind. A dynamic entry is a template
   * whose reason is replaced on every use.
   */
  private byRule: (CachedDecision | undefined)[] = [];
  private readonly others = new Map<number, Decision>();
  private digestText = "";
  private audit: AuditLog | undefined;
  private includeParams = false;
  private sha256: Sha256 | undefined;
  private host: string;

  private constructor(engine: Engine, publicKey: Uint8Array | undefined, host: string) {
    this.engine = engine;
    this.encoder = new TapeEncoder(engine.exports);
    this.publicKey = publicKey;
    this.host = host;
  }

  /**
   * Instantiate an engine and load `bundle`. With `publicKey`, the bundle's Ed25519 signature is
   * verified first (and on every reload). Throws BundleError.
   */
  static async load(bundle: Uint8Array, options: LoadOptions = {}): Promise<Aegis> {
    const key = options.publicKey === undefined ? undefined : publicKeyBytes(options.publicKey);
    const host = options.host ?? detectHost();
    if (options.audit && host === "browser") {
      throw new TypeError("the audit log writes files and needs Node or Deno; in a browser, send decisions to a collector instead");
    }
    const aegis = new Aegis(await Engine.create(options.engine), key, host);
    aegis.install(bundle);
    if (options.audit) {
      const { AuditLog, nodeSha256 } = await import("../../telemetry/log.ts");
      aegis.sha256 = nodeSha256;
      try {
        aegis.audit = AuditLog.open(options.audit);
      } catch (e) {
        // An unusable log directory: fail closed (refuse to serve) unless told to fail open.
        if (options.audit.onFailure !== "allow") throw e;
        options.audit.onAlarm?.(e as never);
      }
      aegis.includeParams = options.audit.includeParams === true;
    }
    return aegis;
  }

  /** The audit log, when `audit` was given to load. */
  get auditLog(): AuditLog | undefined {
    return this.audit;
  }

  /** Close the audit log (writes its final checkpoint). Decisions after close are not logged. */
  close(): void {
    const log = this.audit;
    this.audit = undefined;
    log?.close();
  }

  /** Replace the bundle. On any error throws BundleError and the previous bundle keeps serving. */
  reload(bundle: Uint8Array): void {
    this.install(bundle);
  }

  /** Size of the engine's linear memory in bytes (it grows only when a larger request arrives). */
  get memoryBytes(): number {
    return this.engine.memory().byteLength;
  }

  /** "sha256:<hex>" of the loaded bundle. */
  get digest(): string {
    return this.digestText;
  }

  private install(bundle: Uint8Array): void {
    if (!(bundle instanceof Uint8Array)) throw new BundleError("bad_magic", "the bundle must be a Uint8Array");
    if (bundle.length > MAX_BUNDLE_BYTES) {
      throw new BundleError("bundle_too_large", ERROR_BY_CODE.get(100)!.message);
    }
    if (this.publicKey) {
      const verdict = verifyBundleSignature(bundle, this.publicKey);
      if (!verdict.ok) throw new BundleError(verdict.code, verdict.message);
    }
    const engine = this.engine;
    const code = engine.exports.load_bundle(engine.writeInput(bundle));
    if (code !== 0) {
      const error = engineError(engine, code);
      throw new BundleError(error.code, error.message, error.offset);
    }
    const digest = engine.read(engine.exports.bundle_digest_ptr(), 32);
    let hex = "";
    for (const b of digest) hex += b.toString(16).padStart(2, "0");
    this.digestText = `sha256:${hex}`;
    this.byRule = [];
    this.others.clear();
  }

  /**
   * Decide a request. An object takes the fast path (written straight into engine memory);
   * a string or bytes are read as JSON. Throws RequestError. With an audit log the decision is
   * logged first; with a tracer provider registered it is also a span (docs/telemetry.md).
   */
  evaluate(request: object | string | Uint8Array): Decision {
    // The span is started before the decision, on the SDK's clock, so it orders with its parent.
    const span = tracingActive() ? startDecisionSpan() : undefined;
    if (this.audit === undefined && span === undefined) return this.decide(request);
    const start = now();
    let decision: Decision;
    try {
      decision = this.decide(request);
    } catch (e) {
      if (e instanceof RequestError) this.observe(e, request, start, span);
      throw e;
    }
    return this.observe(decision, request, start, span);
  }

  private decide(request: object | string | Uint8Array): Decision {
    if (typeof request === "string" || request instanceof Uint8Array) {
      return JSON.parse(textDecoder.decode(this.evaluateBytesView(request))) as Decision;
    }
    if (this.encoder.encode(request)) {
      const ex = this.engine.exports;
      const code = ex.evaluate_tape(this.encoder.root, this.encoder.used);
      if (code === 0) {
        const flags = ex.result_flags();
        const effect = ex.result_effect();
        if ((flags & (FLAG_SHADOW | FLAG_REDACTIONS)) === 0 && effect !== EFFECT_SANITIZE) {
          // The rendered bytes depend on nothing but these four numbers, and the reason when
          // flag bit 3 says it is dynamic (docs/engine-abi.md).
          const dynamic = (flags & FLAG_DYNAMIC_REASON) === 0 ? 0 : 1;
          const slot = ((ex.result_rule() + 4) << 1) | dynamic;
          // policy < 2^16, effect < 4: a small integer, never a heap number.
          const variant = (ex.result_policy() << 3) | (effect << 1) | (flags & FLAG_ENFORCED);
          const cached = this.byRule[slot];
          const decision = cached !== undefined && cached.variant === variant ? cached.decision : this.cacheDecision(slot, variant);
          if (dynamic === 0) return decision;
          // Only the reason differs from the cached decision: render just that.
          const len = ex.render_reason();
          const ptr = ex.output_ptr();
          const reason = JSON.parse(textDecoder.decode(this.engine.memory().subarray(ptr, ptr + len))) as string;
          return { ...decision, reason };
        }
        // A sanitize decision prints params, whose numbers the tape holds without their text:
        // take the JSON path so they print exactly as the canonical path prints them.
        if (effect !== EFFECT_SANITIZE && (flags & FLAG_REDACTIONS) === 0) return this.renderDecision();
      }
      // Any tape error: the JSON path reports it properly, against the request's JSON text.
    }
    return JSON.parse(textDecoder.decode(this.evaluateBytesView(this.stringify(request)))) as Decision;
  }

  /** The canonical path: the decision JSON bytes exactly as the engine wrote them. Throws RequestError. */
  evaluateBytes(request: Uint8Array | string): Uint8Array {
    const span = tracingActive() ? startDecisionSpan() : undefined;
    if (this.audit === undefined && span === undefined) return this.evaluateBytesView(request).slice();
    const start = now();
    let bytes: Uint8Array;
    try {
      bytes = this.evaluateBytesView(request).slice();
    } catch (e) {
      if (e instanceof RequestError) this.observe(e, request, start, span);
      throw e;
    }
    const decision = JSON.parse(textDecoder.decode(bytes)) as Decision;
    const logged = this.observe(decision, request, start, span);
    // A failed audit log under fail-closed turns the decision into a deny.
    return logged === decision ? bytes : new TextEncoder().encode(JSON.stringify(logged));
  }

  /**
   * Log and trace one outcome. Returns the decision to give the caller: the same one, or a deny
   * when the audit log has failed and fails closed.
   */
  private observe<T extends Decision | RequestError>(outcome: T, request: object | string | Uint8Array, start: number, span: Span | undefined): T | Decision {
    const evalNs = Math.round((now() - start) * 1e6);
    let record: DecisionRecord | undefined;
    let seq: number | undefined;
    let hash: string | undefined;
    let result: T | Decision = outcome;
    const log = this.audit;
    if (log !== undefined) {
      record = this.buildRecordFor(log, outcome, request, evalNs);
      try {
        const appended = log.appendCanonical(recordJson(record), record.seq);
        seq = appended.seq;
        hash = toHex(appended.hash);
      } catch (e) {
        // INVARIANT: append throws only when the log has failed and fails closed.
        result = this.auditDeny(outcome, (e as Error).message);
      }
    }
    if (span !== undefined) {
      const r = record;
      finishDecisionSpan(span, () => spanFields(outcome, result, r, this.host, this.digestText, request, seq, hash, evalNs));
    }
    return result;
  }

  private buildRecordFor(log: AuditLog, outcome: Decision | RequestError, request: object | string | Uint8Array, evalNs: number): DecisionRecord {
    const input: RequestInput = typeof request === "string"
      ? { raw: new TextEncoder().encode(request) }
      : request instanceof Uint8Array ? { raw: request } : { value: request };
    // seq and prev as the log will assign them, so it writes the record without copying it.
    const ts = Date.now();
    const meta = { seq: log.size, prev: log.prev, ts, id: uuidv7(ts), host: this.host, evalNs, includeParams: this.includeParams };
    const fields: DecisionFields | { error: { code: string; message: string; offset?: number }; bundle: string } = outcome instanceof RequestError
      ? { error: { code: outcome.code, message: outcome.message }, bundle: this.digestText }
      : outcome;
    try {
      return buildRecord(fields, input, meta, this.sha256);
    } catch {
      // An object the canonical form cannot hold as it is (undefined members, toJSON): log what
      // the engine was given, its JSON form.
      return buildRecord(fields, { value: JSON.parse(JSON.stringify(request)) }, meta, this.sha256);
    }
  }

  private auditDeny(outcome: Decision | RequestError, message: string): Decision {
    const base = outcome instanceof RequestError ? undefined : outcome;
    return {
      decision: "deny",
      enforced: true,
      rule: "audit",
      reason: `audit log unavailable: ${message}`,
      policy: base?.policy ?? "",
      policy_version: base?.policy_version ?? "",
      bundle: this.digestText,
    };
  }

  /** Render the last decision, freeze it and remember it under (rule slot, variant). */
  private cacheDecision(slot: number, variant: number): Decision {
    const key = slot * 0x80000 + variant;
    let decision = this.others.get(key);
    if (decision === undefined) {
      decision = Object.freeze(this.renderDecision());
      this.others.set(key, decision);
    }
    // The per-rule slot keeps the latest variant: for a real rule it never changes.
    if (slot >= this.byRule.length) {
      const grown: (CachedDecision | undefined)[] = new Array(Math.max(slot + 1, this.byRule.length * 2));
      for (let i = 0; i < this.byRule.length; i++) grown[i] = this.byRule[i];
      this.byRule = grown;
    }
    this.byRule[slot] = { variant, decision };
    return decision;
  }

  private renderDecision(): Decision {
    const ex = this.engine.exports;
    const len = ex.render_decision();
    const ptr = ex.output_ptr();
    return JSON.parse(textDecoder.decode(this.engine.memory().subarray(ptr, ptr + len))) as Decision;
  }

  private stringify(request: unknown): string {
    let text: string | undefined;
    try {
      text = JSON.stringify(request);
    } catch (e) {
      throw new RequestError("invalid_request", `request cannot be written as JSON: ${(e as Error).message}`);
    }
    if (text === undefined) throw new RequestError("invalid_request", "request must be an object");
    return text;
  }

  /** Evaluate JSON text or bytes; a view of the decision bytes (valid until the next engine call). */
  private evaluateBytesView(request: Uint8Array | string): Uint8Array {
    const engine = this.engine;
    let len: number;
    if (request.length > MAX_REQUEST_BYTES) {
      // Too large whatever its content (a string's UTF-8 is at least as long): let the engine say so
      // without copying it in.
      len = MAX_REQUEST_BYTES + 1;
      engine.exports.input_ptr(len);
    } else if (typeof request === "string") {
      if (!(request as string & { isWellFormed(): boolean }).isWellFormed()) {
        throw new RequestError("invalid_utf8", "request text contains a lone surrogate, which has no UTF-8 form");
      }
      len = engine.writeInputString(request);
    } else if (request instanceof Uint8Array) {
      len = engine.writeInput(request);
    } else {
      throw new RequestError("invalid_request", "request must be an object, a JSON string or UTF-8 bytes");
    }
    const code = engine.exports.evaluate_json(len);
    if (code !== 0) {
      const error = engineError(engine, code);
      throw new RequestError(error.code, error.message, error.offset);
    }
    return engine.outputView();
  }
}
