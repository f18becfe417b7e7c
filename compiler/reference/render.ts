// Reference stage: decision -> decision JSON bytes (as a JS string). Input: the fields of a
// decision and the (redacted) params tree; output: the exact text of docs/semantics.md "Decision
// JSON": fixed key order, no whitespace, strings escaped as JSON.stringify does, params in request
// key order with numbers written as the request wrote them.

import { isJsonNumber, type JsonValue } from "./request.ts";

/** A params tree after redaction: a redacted path holds FIELD_REDACTED in place of its value. */
export type RedactedJson =
  | null | boolean | { num: number; lexeme: string } | string
  | RedactedJson[] | Map<string, RedactedJson> | FieldRedacted;

/** Marks a value replaced by a `redact` path; renders as the string `[REDACTED]`. */
export class FieldRedacted { readonly text = "[REDACTED]"; }

/** A JSON string literal exactly as JSON.stringify writes it. */
export function jsonString(s: string): string {
  return JSON.stringify(s);
}

/** Render a (possibly redacted) params tree: request key order, number lexemes kept. */
export function renderJson(v: RedactedJson | JsonValue): string {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "string") return jsonString(v);
  if (v instanceof FieldRedacted) return jsonString(v.text);
  if (Array.isArray(v)) return `[${v.map(renderJson).join(",")}]`;
  if (v instanceof Map) {
    const parts: string[] = [];
    for (const [k, x] of v) parts.push(`${jsonString(k)}:${renderJson(x)}`);
    return `{${parts.join(",")}}`;
  }
  if (isJsonNumber(v as JsonValue)) return (v as { lexeme: string }).lexeme;
  throw new Error("unreachable: unknown JSON value");
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One step of a path below `params`: an object key or a list index. */
export type PathStep = string | number;

/**
 * Print a path below `params` as docs/semantics.md says: `params.a.b`, `params["x-y"]` for keys
 * that are not identifiers, `params.items[0]` for list elements.
 */
export function formatParamsPath(steps: readonly PathStep[]): string {
  let out = "params";
  for (const step of steps) {
    if (typeof step === "number") out += `[${step}]`;
    else if (IDENTIFIER.test(step)) out += `.${step}`;
    else out += `[${jsonString(step)}]`;
  }
  return out;
}

/** Everything a decision JSON holds. `redactions`/`params` are rendered only for `sanitize`. */
export interface DecisionFields {
  decision: string;
  enforced: boolean;
  rule: string;
  reason: string;
  policy: string;
  policyVersion: string;
  /** `sha256:<hex>` */
  bundle: string;
  shadow: { rule: string; effect: string }[];
  redactions: { path: string; by: string }[];
  params: RedactedJson;
}

/** Render a decision with the key order and omissions of docs/semantics.md. */
export function renderDecision(d: DecisionFields): string {
  let out = `{"decision":${jsonString(d.decision)},"enforced":${d.enforced}`;
  out += `,"rule":${jsonString(d.rule)},"reason":${jsonString(d.reason)}`;
  out += `,"policy":${jsonString(d.policy)},"policy_version":${jsonString(d.policyVersion)}`;
  out += `,"bundle":${jsonString(d.bundle)}`;
  if (d.shadow.length > 0) {
    out += `,"shadow":[${d.shadow.map((s) => `{"rule":${jsonString(s.rule)},"effect":${jsonString(s.effect)}}`).join(",")}]`;
  }
  if (d.decision === "sanitize") {
    out += `,"redactions":[${d.redactions.map((r) => `{"path":${jsonString(r.path)},"by":${jsonString(r.by)}}`).join(",")}]`;
    out += `,"params":${renderJson(d.params)}`;
  }
  return out + "}";
}
