// Decision records (docs/telemetry.md §2): one canonical JSON line of evidence per decision.
// Input: the engine's decision (or request error), the request and the record inputs a host
// supplies (sequence, previous leaf hash, clock, id, host kind, evaluation time). Output: the
// record object and its RFC 8785 line. Platform-neutral (Node, Deno, browsers): every JS host
// builds records with this one module, so their bytes agree by construction, and the vectors in
// conformance/cases/telemetry/ hold every other host (the proxy-wasm filter) to the same bytes.
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { canonicalize, canonicalizeBytes, canonicalString } from "./jcs.ts";

/** SHA-256 of bytes; injectable so a Node host can pass node:crypto's (faster for small inputs). */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;

/** The record inputs that are not the decision or the request. */
export interface RecordMeta {
  /** 0-based leaf index in the log. */
  seq: number;
  /** Hex leaf hash of the previous leaf (64 zeros for the first). */
  prev: string;
  /** Decision time, ms since the Unix epoch. */
  ts: number;
  /** Decision id. */
  id: string;
  /** Host kind: node, deno, browser, proxy-wasm, component, reference, ... */
  host: string;
  /** Evaluation time in nanoseconds. */
  evalNs: number;
  /** Include the (redacted) params in the record. */
  includeParams?: boolean;
}

/** The decision JSON fields a record copies (docs/semantics.md "Decision JSON"). */
export interface DecisionFields {
  decision: string;
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

/** A request the engine rejected: the host denies it, and the record says why. */
export interface RequestFailure {
  error: { code: string; message: string; offset?: number };
  /** `sha256:<hex>` of the loaded bundle (error JSON does not carry it). */
  bundle: string;
}

/** What the record knows of the request: its parsed value (valid requests) and/or its raw bytes. */
export interface RequestInput {
  value?: unknown;
  raw?: Uint8Array;
}

/** The record object (docs/telemetry.md §2); absent optional members are left out. */
export interface DecisionRecord {
  type: "decision";
  v: 1;
  seq: number;
  prev: string;
  ts: string;
  id: string;
  agent?: { id: string; tenant?: string };
  tool?: string;
  action?: string;
  decision: string;
  enforced: boolean;
  rule: string;
  reason: string;
  /** Absent for a rejected request: no policy decided it. */
  policy?: { name: string; version: string };
  bundle: string;
  request: string;
  params?: unknown;
  shadow?: { rule: string; effect: string }[];
  redactions?: { path: string; by: string }[];
  approval?: string;
  override_token?: string;
  error?: { code: string; message: string };
  host: string;
  eval_ns: number;
}

/** The `prev` of leaf 0. */
export const ZERO_HASH_HEX = "0".repeat(64);

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// Decisions come many per millisecond: the last formatted time is reused.
let lastMs = Number.NaN;
let lastText = "";

/** RFC 3339 UTC with milliseconds; a clock value no Date can hold is a programming error. */
function timestamp(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`record time must be a finite number of ms, not ${ms}`);
  const whole = Math.trunc(ms);
  if (whole !== lastMs) {
    lastText = new Date(whole).toISOString();
    lastMs = whole;
  }
  return lastText;
}

/** Agent, tool and action as the request holds them, each only when it has the right type. */
function identity(request: unknown): Pick<DecisionRecord, "agent" | "tool" | "action"> {
  const out: Pick<DecisionRecord, "agent" | "tool" | "action"> = {};
  if (!isObject(request)) return out;
  const agent = request.agent;
  if (isObject(agent) && typeof agent.id === "string") {
    out.agent = typeof agent.tenant === "string" ? { id: agent.id, tenant: agent.tenant } : { id: agent.id };
  }
  if (typeof request.tool === "string") out.tool = request.tool;
  if (typeof request.action === "string") out.action = request.action;
  return out;
}

function parseRaw(raw: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(raw));
  } catch {
    return undefined;
  }
}

/**
 * `apr-` + the first 32 hex digits of SHA-256("<bundle>\n<rule>\n<request digest>"): the same
 * pending approval gets the same id on every host and on every retry of the same call.
 */
export function approvalId(bundle: string, rule: string, requestDigest: string, sha256: Sha256 = nobleSha256): string {
  return "apr-" + hex(sha256(encoder.encode(`${bundle}\n${rule}\n${requestDigest}`))).slice(0, 32);
}

/**
 * Build the record of one decision. `outcome` is the decision (valid request) or the request
 * failure (the host denied the request); `request.value` must be given for a valid request.
 */
export function buildRecord(
  outcome: DecisionFields | RequestFailure,
  request: RequestInput,
  meta: RecordMeta,
  sha256: Sha256 = nobleSha256,
): DecisionRecord {
  if ("error" in outcome) {
    const value = request.value !== undefined ? request.value : request.raw ? parseRaw(request.raw) : undefined;
    // There is no canonical form of bytes the engine rejected: the digest is of the bytes themselves.
    const raw = request.raw ?? encoder.encode(JSON.stringify(request.value) ?? "");
    const record: DecisionRecord = {
      type: "decision", v: 1, seq: meta.seq, prev: meta.prev, ts: timestamp(meta.ts), id: meta.id,
      ...identity(value),
      decision: "deny", enforced: true, rule: "", reason: outcome.error.message,
      bundle: outcome.bundle,
      request: "sha256:" + hex(sha256(raw)),
      error: { code: outcome.error.code, message: outcome.error.message },
      host: meta.host, eval_ns: meta.evalNs,
    };
    return record;
  }
  const value = request.value !== undefined ? request.value : request.raw ? parseRaw(request.raw) : undefined;
  if (!isObject(value)) throw new TypeError("a decision record needs the request as a JSON object");
  const requestDigest = "sha256:" + hex(sha256(canonicalizeBytes(value)));
  const record: DecisionRecord = {
    type: "decision", v: 1, seq: meta.seq, prev: meta.prev, ts: timestamp(meta.ts), id: meta.id,
    ...identity(value),
    decision: outcome.decision, enforced: outcome.enforced, rule: outcome.rule, reason: outcome.reason,
    policy: { name: outcome.policy, version: outcome.policy_version },
    bundle: outcome.bundle,
    request: requestDigest,
    host: meta.host, eval_ns: meta.evalNs,
  };
  if (meta.includeParams) record.params = outcome.params !== undefined ? outcome.params : (value.params ?? {});
  if (outcome.shadow && outcome.shadow.length > 0) record.shadow = outcome.shadow;
  if (outcome.redactions && outcome.redactions.length > 0) record.redactions = outcome.redactions;
  if (outcome.decision === "approval_needed") record.approval = approvalId(outcome.bundle, outcome.rule, requestDigest, sha256);
  if (typeof value.override_token === "string") {
    record.override_token = "sha256:" + hex(sha256(encoder.encode(value.override_token)));
  }
  return record;
}

/**
 * The JCS text of a record, written member by member in canonical order: the same bytes as
 * canonicalize(record) (a property test holds them together), several times faster, since a
 * record is written on every decision.
 */
export function recordJson(r: DecisionRecord): string {
  const q = canonicalString;
  let o = "{";
  if (r.action !== undefined) o += `"action":${q(r.action)},`;
  if (r.agent !== undefined) o += `"agent":{"id":${q(r.agent.id)}${r.agent.tenant !== undefined ? `,"tenant":${q(r.agent.tenant)}` : ""}},`;
  if (r.approval !== undefined) o += `"approval":${q(r.approval)},`;
  o += `"bundle":${q(r.bundle)},"decision":${q(r.decision)},"enforced":${canonicalize(r.enforced)},`;
  if (r.error !== undefined) o += `"error":{"code":${q(r.error.code)},"message":${q(r.error.message)}},`;
  o += `"eval_ns":${canonicalize(r.eval_ns)},"host":${q(r.host)},"id":${q(r.id)},`;
  if (r.override_token !== undefined) o += `"override_token":${q(r.override_token)},`;
  if (r.params !== undefined) o += `"params":${canonicalize(r.params)},`;
  if (r.policy !== undefined) o += `"policy":{"name":${q(r.policy.name)},"version":${q(r.policy.version)}},`;
  o += `"prev":${q(r.prev)},"reason":${q(r.reason)},`;
  if (r.redactions !== undefined) o += `"redactions":${canonicalize(r.redactions)},`;
  o += `"request":${q(r.request)},"rule":${q(r.rule)},"seq":${canonicalize(r.seq)},`;
  if (r.shadow !== undefined) o += `"shadow":${canonicalize(r.shadow)},`;
  if (r.tool !== undefined) o += `"tool":${q(r.tool)},`;
  return o + `"ts":${q(r.ts)},"type":"decision","v":1}`;
}

/**
 * The record line (JCS, no newline) for a host's decision bytes — the decision JSON, or the error
 * JSON `{"error":{...}}` of a rejected request — and the request bytes. `bundle` is the loaded
 * bundle's `sha256:<hex>`, which error JSON does not carry.
 */
export function recordLine(
  outcomeBytes: Uint8Array,
  requestBytes: Uint8Array,
  meta: RecordMeta,
  bundle: string,
  sha256: Sha256 = nobleSha256,
): string {
  const outcome = JSON.parse(decoder.decode(outcomeBytes)) as DecisionFields | { error: RequestFailure["error"] };
  if ("error" in outcome) {
    return canonicalize(buildRecord({ error: outcome.error, bundle }, { raw: requestBytes }, meta, sha256));
  }
  // Bytes from any host: the generic writer, which refuses a decision with a member missing.
  return canonicalize(buildRecord(outcome, { raw: requestBytes }, meta, sha256));
}

// Random bytes are drawn in blocks: one getRandomValues call per 400 ids instead of one per id.
const randomPool = new Uint8Array(4000);
let randomUsed = randomPool.length;

/** A UUIDv7 (RFC 9562) for `ms`: time-ordered, 74 random bits. */
export function uuidv7(ms: number): string {
  if (randomUsed + 10 > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomUsed = 0;
  }
  const b = new Uint8Array(16);
  b.set(randomPool.subarray(randomUsed, randomUsed + 10), 6);
  randomUsed += 10;
  let t = Math.max(0, Math.trunc(ms));
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
