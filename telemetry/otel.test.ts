// Tests of the decision span: with an SDK registered (BasicTracerProvider + InMemorySpanExporter),
// each decision is one finished INTERNAL span `aegis.decide` with the documented attributes, its
// times, the active span as parent and ERROR status only for request or audit errors; with no SDK
// the field builder is never called.
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type ContextManager } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { recordDecisionSpan, tracingActive, type DecisionSpanFields } from "./otel.ts";

const BUNDLE = `sha256:${"ab".repeat(32)}`;
const REQUEST_HEX = "cd".repeat(32);

const payment: DecisionSpanFields = {
  decision: "approval_needed",
  enforced: true,
  rule: "pay-over-5k",
  reason: "payments over 5,000 need approval",
  policy: "procurement",
  policyVersion: "2026.11.21-1",
  bundle: BUNDLE,
  tool: "payments",
  action: "create_payment",
  agentId: "finance-agent",
  agentTenant: "acme",
  host: "node",
  requestSha256: `sha256:${REQUEST_HEX}`,
  recordSeq: 41,
  recordHash: "ef".repeat(32),
  evalNs: 5120,
};

/** A synchronous context manager (what an SDK's async one does within one call stack). */
class StackContextManager implements ContextManager {
  private stack: Context[] = [];
  active(): Context {
    return this.stack[this.stack.length - 1] ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    this.stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.stack = [];
    return this;
  }
}

describe("recordDecisionSpan with an SDK", () => {
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;

  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new StackContextManager());
  });

  afterEach(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it("emits one finished INTERNAL span with every attribute and the given times", () => {
    const start = Date.UTC(2026, 10, 22, 1, 55, 39, 123);
    recordDecisionSpan(() => payment, start, start + 2);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span.name).toBe("aegis.decide");
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.instrumentationScope.name).toBe("aegis");
    expect(span.startTime).toEqual([Math.floor(start / 1000), (start % 1000) * 1e6]);
    expect(span.endTime).toEqual([Math.floor((start + 2) / 1000), ((start + 2) % 1000) * 1e6]);
    expect(span.attributes).toEqual({
      "aegis.decision": "approval_needed",
      "aegis.enforced": true,
      "aegis.rule": "pay-over-5k",
      "aegis.reason": "payments over 5,000 need approval",
      "aegis.policy.name": "procurement",
      "aegis.policy.version": "2026.11.21-1",
      "aegis.bundle": BUNDLE,
      "aegis.request.sha256": REQUEST_HEX,
      "aegis.tool": "payments",
      "aegis.action": "create_payment",
      "aegis.agent.id": "finance-agent",
      "aegis.agent.tenant": "acme",
      "aegis.host": "node",
      "aegis.record.seq": 41,
      "aegis.record.hash": "ef".repeat(32),
      "aegis.eval_ns": 5120,
      "gen_ai.agent.id": "finance-agent",
      "gen_ai.tool.name": "payments",
    });
    // An approval or a deny is a correct outcome, not an error.
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("leaves optional attributes out when the decision has no such field", () => {
    const { tool, action, agentId, agentTenant, requestSha256, recordSeq, recordHash, evalNs, ...bare } = payment;
    void [tool, action, agentId, agentTenant, requestSha256, recordSeq, recordHash, evalNs];
    recordDecisionSpan(() => ({ ...bare, decision: "deny", rule: "payment-ceiling" }), Date.now(), Date.now());
    const attributes = exporter.getFinishedSpans()[0].attributes;
    expect(Object.keys(attributes).sort()).toEqual(["aegis.bundle", "aegis.decision", "aegis.enforced", "aegis.host", "aegis.policy.name", "aegis.policy.version", "aegis.reason", "aegis.rule"]);
    expect(exporter.getFinishedSpans()[0].status.code).toBe(SpanStatusCode.UNSET);
  });

  it("is a child of the active span (the agent's tool call)", () => {
    const tracer = trace.getTracer("agent");
    const parent = tracer.startActiveSpan("tool call payments.create_payment", (span) => {
      recordDecisionSpan(() => payment, Date.now(), Date.now());
      span.end();
      return span;
    });
    const decide = exporter.getFinishedSpans().find((s) => s.name === "aegis.decide")!;
    expect(decide.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(decide.spanContext().traceId).toBe(parent.spanContext().traceId);
    // Outside any span it is a root span.
    recordDecisionSpan(() => payment, Date.now(), Date.now());
    const root = exporter.getFinishedSpans().filter((s) => s.name === "aegis.decide")[1];
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.spanContext().traceId).not.toBe(parent.spanContext().traceId);
  });

  it("sets status ERROR for a request error and an audit failure", () => {
    recordDecisionSpan(() => ({ ...payment, decision: "deny", rule: "", reason: "request is not valid JSON", error: { code: "bad_json", message: "request is not valid JSON" } }), Date.now(), Date.now());
    recordDecisionSpan(() => ({ ...payment, decision: "deny", rule: "audit", reason: "audit log unavailable: ENOSPC", error: { code: "audit_unavailable", message: "audit log unavailable: ENOSPC" } }), Date.now(), Date.now());
    const [bad, audit] = exporter.getFinishedSpans();
    expect(bad.status).toEqual({ code: SpanStatusCode.ERROR, message: "request is not valid JSON" });
    expect(bad.attributes["error.type"]).toBe("bad_json");
    expect(bad.attributes["aegis.error.code"]).toBe("bad_json");
    expect(audit.status).toEqual({ code: SpanStatusCode.ERROR, message: "audit log unavailable: ENOSPC" });
  });

  it("does not throw when the field builder does; the span carries the failure", () => {
    expect(() => recordDecisionSpan(() => { throw new Error("boom"); }, Date.now(), Date.now())).not.toThrow();
    expect(exporter.getFinishedSpans()[0].status).toEqual({ code: SpanStatusCode.ERROR, message: "aegis span fields failed: boom" });
  });

  it("reports tracing as active", () => {
    expect(tracingActive()).toBe(true);
  });
});

describe("recordDecisionSpan without an SDK", () => {
  it("never builds the fields and reports tracing inactive", () => {
    trace.disable();
    let calls = 0;
    for (let i = 0; i < 100; i++) {
      recordDecisionSpan(() => {
        calls++;
        return payment;
      }, Date.now(), Date.now());
    }
    expect(calls).toBe(0);
    expect(tracingActive()).toBe(false);
  });

  it("starts recording once an SDK is registered, and stops when it is removed", async () => {
    trace.disable();
    let calls = 0;
    const fields = () => {
      calls++;
      return payment;
    };
    recordDecisionSpan(fields, Date.now(), Date.now());
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    recordDecisionSpan(fields, Date.now(), Date.now());
    expect(calls).toBe(1);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    trace.disable();
    recordDecisionSpan(fields, Date.now(), Date.now());
    expect(calls).toBe(1);
    await provider.shutdown();
  });
});
