// End-to-end test of the OpenTelemetry example: a local OTLP/HTTP receiver (node:http on
// 127.0.0.1, a free port) takes POST /v1/traces, decodes the ExportTraceServiceRequest JSON the
// exporter sends, and the decoded spans must match the decisions the example made: names,
// attributes, parent/child ids and the resource's service.name. No network beyond 127.0.0.1.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer, type Server } from "node:http";
import { spawn } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { context, propagation, trace } from "@opentelemetry/api";
import type { Decision } from "../../bindings/node/index.ts";
import { EXAMPLE_REQUESTS, runExample, type ExampleRun } from "./main.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** An OTLP AnyValue in the JSON mapping. int64 may arrive as a number or a decimal string. */
interface AnyValue { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number }
interface KeyValue { key: string; value: AnyValue }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes?: KeyValue[]; status?: { code?: number; message?: string } }
interface ExportRequest { resourceSpans: { resource?: { attributes?: KeyValue[] }; scopeSpans: { scope?: { name: string }; spans: OtlpSpan[] }[] }[] }

/** A received span, flattened: attributes as plain values, with its resource and scope. */
interface Received { span: OtlpSpan; attributes: Record<string, unknown>; resource: Record<string, unknown>; scope: string | undefined }

function plain(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return undefined;
}

function attributeMap(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));
}

/** A minimal OTLP/HTTP JSON receiver; `bodies` holds what arrived, with the request's content type. */
class Receiver {
  readonly received: Received[] = [];
  readonly contentTypes: string[] = [];
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/traces") {
          res.writeHead(404).end();
          return;
        }
        let body = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        this.contentTypes.push(String(req.headers["content-type"]));
        const request = JSON.parse(body.toString("utf8")) as ExportRequest;
        for (const rs of request.resourceSpans) {
          const resource = attributeMap(rs.resource?.attributes);
          for (const ss of rs.scopeSpans) {
            for (const span of ss.spans) this.received.push({ span, attributes: attributeMap(span.attributes), resource, scope: ss.scope?.name });
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1/traces`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

describe("examples/otel", () => {
  const receiver = new Receiver();
  let run: ExampleRun;

  beforeAll(async () => {
    await receiver.start();
    run = await runExample(receiver.url, "procurement-agent-test");
    // The example registered a global SDK: leave the process as other tests expect it.
    trace.disable();
    context.disable();
    propagation.disable();
  });
  afterAll(() => receiver.stop());

  it("sends JSON-encoded OTLP to /v1/traces", () => {
    expect(receiver.contentTypes.length).toBeGreaterThan(0);
    for (const type of receiver.contentTypes) expect(type).toMatch(/^application\/json/);
  });

  it("exports the parent span and one aegis.decide child per request", () => {
    const parents = receiver.received.filter((r) => r.span.name === "agent.run");
    expect(parents).toHaveLength(1);
    const [parent] = parents;
    expect(parent.span.traceId).toBe(run.parent.traceId);
    expect(parent.span.spanId).toBe(run.parent.spanId);
    const decides = receiver.received.filter((r) => r.span.name === "aegis.decide");
    expect(decides).toHaveLength(EXAMPLE_REQUESTS.length);
    for (const d of decides) {
      expect(d.span.traceId).toBe(parent.span.traceId);
      expect(d.span.parentSpanId).toBe(parent.span.spanId);
      expect(d.span.kind).toBe(1); // SPAN_KIND_INTERNAL
      expect(d.scope).toBe("aegis");
      expect(d.resource["service.name"]).toBe("procurement-agent-test");
      expect(BigInt(d.span.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(d.span.startTimeUnixNano));
      expect(BigInt(d.span.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(parent.span.startTimeUnixNano));
    }
  });

  it("carries each decision's fields as attributes, in request order", () => {
    const decides = receiver.received.filter((r) => r.span.name === "aegis.decide")
      .sort((a, b) => (BigInt(a.span.startTimeUnixNano) < BigInt(b.span.startTimeUnixNano) ? -1 : 1));
    expect(run.outcomes.map((o) => ("decision" in o ? o.decision.decision : "error"))).toEqual(["allow", "approval_needed", "deny", "error"]);
    const bundle = (run.outcomes[0] as { decision: Decision }).decision.bundle;
    run.outcomes.forEach((outcome, i) => {
      const { attributes, span } = decides[i];
      const request = EXAMPLE_REQUESTS[i];
      if ("decision" in outcome) {
        const d = outcome.decision;
        const r = request as { agent: { id: string; tenant?: string }; tool: string; action: string };
        expect(attributes).toMatchObject({
          "aegis.decision": d.decision,
          "aegis.enforced": d.enforced,
          "aegis.rule": d.rule,
          "aegis.reason": d.reason,
          "aegis.policy.name": d.policy,
          "aegis.policy.version": d.policy_version,
          "aegis.bundle": d.bundle,
          "aegis.host": "node",
          "aegis.tool": r.tool,
          "aegis.action": r.action,
          "aegis.agent.id": r.agent.id,
          "gen_ai.agent.id": r.agent.id,
          "gen_ai.tool.name": r.tool,
        });
        expect(attributes["aegis.agent.tenant"]).toBe(r.agent.tenant);
        expect(span.status?.code ?? 0).toBe(0); // UNSET, also for deny and approval_needed
      } else {
        expect(attributes).toMatchObject({ "aegis.decision": "deny", "aegis.enforced": true, "aegis.rule": "", "aegis.reason": outcome.error.message, "aegis.bundle": bundle, "aegis.error.code": outcome.error.code, "error.type": outcome.error.code });
        expect(span.status).toMatchObject({ code: 2, message: outcome.error.message }); // STATUS_CODE_ERROR
      }
    });
    // The decisions themselves are the policy's: the egress deny names the host.
    const egress = run.outcomes[2] as { decision: { rule: string; reason: string } };
    expect(egress.decision.rule).toBe("egress");
    expect(decides[2].attributes["aegis.reason"]).toBe("egress to `quotes.evil.example` is not allowed");
  });

  it("runs as a script with the collector URL as its argument", async () => {
    const before = receiver.received.length;
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "examples", "otel", "main.ts"), receiver.url], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const traceId = /^trace ([0-9a-f]{32}) sent to /m.exec(stdout)?.[1];
    expect(traceId).toBeDefined();
    const spans = receiver.received.slice(before);
    expect(spans.filter((r) => r.span.traceId === traceId && r.span.name === "aegis.decide")).toHaveLength(EXAMPLE_REQUESTS.length);
    expect(spans[0].resource["service.name"]).toBe("procurement-agent");
  });
});
