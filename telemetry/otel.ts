// OpenTelemetry span of one decision (docs/telemetry.md §6, docs/opentelemetry.md): decision
// fields in, one finished `aegis.decide` span out, through `@opentelemetry/api` only, so every host
// (Node, Deno, browsers) can call it and the application chooses the SDK. Without a registered SDK
// the API hands out a non-recording span: the field builder is never called and the cost is that
// one no-op span.
import { context, ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer, type TracerProvider } from "@opentelemetry/api";

/** Name of the span of one decision. */
export const SPAN_NAME = "aegis.decide";

/** Name of the tracer (instrumentation scope) the spans come from. */
export const TRACER_NAME = "aegis";

/** Fields of one decision for its span; all strings except enforced/seq/evalNs. */
export interface DecisionSpanFields {
  decision: string;
  enforced: boolean;
  rule: string;
  reason: string;
  policy: string;
  policyVersion: string;
  /** `sha256:<hex>` of the bundle, as in the decision JSON. */
  bundle: string;
  tool?: string;
  action?: string;
  agentId?: string;
  agentTenant?: string;
  /** Host kind (`node`, `deno`, `browser`, ...), as in the record. */
  host: string;
  /** SHA-256 of the request as in the record (`sha256:<hex>`) or bare hex; the span carries the hex. */
  requestSha256?: string;
  /** With an audit log: the record's `seq` (leaf index). */
  recordSeq?: number;
  /** With an audit log: the record's leaf hash, hex. */
  recordHash?: string;
  /** Evaluation time in nanoseconds, as in the record's `eval_ns`. */
  evalNs?: number;
  /**
   * A request error (the engine rejected the request) or an audit failure (the log is
   * unavailable): the span's status becomes ERROR with this message. A deny is not an error.
   */
  error?: { code: string; message: string };
}

/** Attribute names, one place (docs/opentelemetry.md has the table). */
export const ATTR = {
  decision: "aegis.decision",
  enforced: "aegis.enforced",
  rule: "aegis.rule",
  reason: "aegis.reason",
  policyName: "aegis.policy.name",
  policyVersion: "aegis.policy.version",
  bundle: "aegis.bundle",
  requestSha256: "aegis.request.sha256",
  tool: "aegis.tool",
  action: "aegis.action",
  agentId: "aegis.agent.id",
  agentTenant: "aegis.agent.tenant",
  host: "aegis.host",
  recordSeq: "aegis.record.seq",
  recordHash: "aegis.record.hash",
  evalNs: "aegis.eval_ns",
  errorCode: "aegis.error.code",
  /** OpenTelemetry general convention: the class of error that ended the operation. */
  errorType: "error.type",
  /** GenAI semantic conventions (registered, status development): the agent's unique id. */
  genAiAgentId: "gen_ai.agent.id",
  /** GenAI semantic conventions: the name of the tool the agent called. */
  genAiToolName: "gen_ai.tool.name",
} as const;

// The tracer is looked up again only when the registered provider changes (an SDK registered,
// or trace.disable() and another one), so the usual call costs one global read.
let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== cachedProvider || cachedTracer === undefined) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(TRACER_NAME);
  }
  return cachedTracer;
}

/** The API's no-op provider: what an unregistered ProxyTracerProvider delegates to. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether a tracer provider is registered with `@opentelemetry/api`. A cheap hint for hosts that
 * want to skip taking timestamps; spans are still sampled by the SDK, so a true here does not
 * mean every span records.
 */
export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

function hexDigest(value: string): string {
  return value.startsWith("sha256:") ? value.slice(7) : value;
}

/** The span attributes of a decision (docs/opentelemetry.md). */
export function decisionAttributes(fields: DecisionSpanFields): Attributes {
  const attributes: Attributes = {
    [ATTR.decision]: fields.decision,
    [ATTR.enforced]: fields.enforced,
    [ATTR.rule]: fields.rule,
    [ATTR.reason]: fields.reason,
    [ATTR.policyName]: fields.policy,
    [ATTR.policyVersion]: fields.policyVersion,
    [ATTR.bundle]: fields.bundle,
    [ATTR.host]: fields.host,
  };
  if (fields.requestSha256 !== undefined) attributes[ATTR.requestSha256] = hexDigest(fields.requestSha256);
  if (fields.tool !== undefined) {
    attributes[ATTR.tool] = fields.tool;
    attributes[ATTR.genAiToolName] = fields.tool;
  }
  if (fields.action !== undefined) attributes[ATTR.action] = fields.action;
  if (fields.agentId !== undefined) {
    attributes[ATTR.agentId] = fields.agentId;
    attributes[ATTR.genAiAgentId] = fields.agentId;
  }
  if (fields.agentTenant !== undefined) attributes[ATTR.agentTenant] = fields.agentTenant;
  if (fields.recordSeq !== undefined) attributes[ATTR.recordSeq] = fields.recordSeq;
  if (fields.recordHash !== undefined) attributes[ATTR.recordHash] = fields.recordHash;
  if (fields.evalNs !== undefined) attributes[ATTR.evalNs] = fields.evalNs;
  if (fields.error !== undefined) {
    attributes[ATTR.errorCode] = fields.error.code;
    attributes[ATTR.errorType] = fields.error.code;
  }
  return attributes;
}

/**
 * Emit one finished span `aegis.decide` (tracer "aegis", kind INTERNAL) from `startTimeMs` to
 * `endTimeMs`, a child of the active context's span. Times are epoch milliseconds (fractions
 * allowed) or `performance.now()` readings: the OpenTelemetry SDK tells the two apart. `fields` is called only when the span records, so with no
 * SDK (or an unsampled trace) no attribute object is built. Never throws into the decision path.
 */
export function recordDecisionSpan(fields: () => DecisionSpanFields, startTimeMs: number, endTimeMs: number): void {
  finishDecisionSpan(tracer().startSpan(SPAN_NAME, { kind: SpanKind.INTERNAL, startTime: startTimeMs }, context.active()), fields, endTimeMs);
}

/**
 * Start the `aegis.decide` span of a decision about to be made, timed by the SDK's own clock (the
 * clock of its parent span, so the two never disagree on order); finish it with finishDecisionSpan.
 */
export function startDecisionSpan(): Span {
  return tracer().startSpan(SPAN_NAME, { kind: SpanKind.INTERNAL }, context.active());
}

/** Set the decision's attributes (built only when the span records) and end the span, at `endTimeMs` or now. Never throws. */
export function finishDecisionSpan(span: Span, fields: () => DecisionSpanFields, endTimeMs?: number): void {
  if (span.isRecording()) {
    try {
      const values = fields();
      span.setAttributes(decisionAttributes(values));
      if (values.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: values.error.message });
    } catch (e) {
      // A broken field builder must not turn a decision into an exception: the span says so.
      span.setStatus({ code: SpanStatusCode.ERROR, message: `aegis span fields failed: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  span.end(endTimeMs);
}
