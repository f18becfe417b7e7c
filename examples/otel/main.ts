// Example: decisions as OpenTelemetry spans. Compiles the sample procurement policy, loads it in
// the Node binding, and decides a few tool calls of one agent run inside a parent span; every
// decision becomes an `aegis.decide` child span exported over OTLP/HTTP (tracing.ts).
//   node --import tsx examples/otel/main.ts [http://127.0.0.1:4318/v1/traces]
// (default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else http://localhost:4318/v1/traces).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { trace, type SpanContext } from "@opentelemetry/api";
import { compile } from "../../compiler/index.ts";
import { Aegis, RequestError, type Decision } from "../../bindings/node/index.ts";
import { startTracing } from "./tracing.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The tool calls of the example run: what an agent framework would hand Aegis. */
export const EXAMPLE_REQUESTS: (object | string)[] = [
  // allow: a small payment to a valid IBAN
  { agent: { id: "finance-agent", tenant: "acme" }, tool: "payments", action: "create_payment", params: { amount: 1200, currency: "EUR", payee_iban: "DE89370400440532013000" } },
  // approval_needed: over 5,000; also the shadow rule new-payee-approval would ask for approval
  { agent: { id: "finance-agent", tenant: "acme" }, tool: "payments", action: "create_payment", params: { amount: 12000, currency: "EUR", payee_iban: "DE89370400440532013000", payee_is_new: true } },
  // deny: egress to a portal that is not on the allowlist
  { agent: { id: "sourcing-agent" }, tool: "supplier-portal", action: "fetch_quote", params: { supplier_id: "SUPP-0042" }, context: { egress: ["https://quotes.evil.example/rfq"] } },
  // a request error: not JSON at all
  '{"agent": {"id": "finance-agent"}, "tool": ',
];

/** What the example did: each decision (or request error) and the parent span it ran under. */
export interface ExampleRun {
  outcomes: ({ decision: Decision } | { error: { code: string; message: string } })[];
  parent: SpanContext;
}

/**
 * Decide EXAMPLE_REQUESTS inside a parent span `agent.run` with whatever tracer provider is
 * registered, recording one decision span each.
 */
export async function decideExample(requests: (object | string)[] = EXAMPLE_REQUESTS): Promise<ExampleRun> {
  const sources = [{ path: "policies/procurement.yaml", text: readFileSync(join(repoRoot, "policies", "procurement.yaml"), "utf8") }];
  const aegis = await Aegis.load(compile(sources));
  const tracer = trace.getTracer("procurement-agent");
  return tracer.startActiveSpan("agent.run", async (parent) => {
    const outcomes: ExampleRun["outcomes"] = [];
    for (const request of requests) {
      // The binding records each decision as an `aegis.decide` span (telemetry/otel.ts), a child
      // of the active span: here `agent.run`, in an agent framework its tool-call span.
      try {
        outcomes.push({ decision: aegis.evaluate(request) });
      } catch (e) {
        if (!(e instanceof RequestError)) throw e;
        // A rejected request is still a decision (a deny); its span has status ERROR.
        outcomes.push({ error: { code: e.code, message: e.message } });
      }
    }
    parent.end();
    return { outcomes, parent: parent.spanContext() };
  });
}

/** Run the example against an OTLP/HTTP collector and flush every span before returning. */
export async function runExample(url: string, serviceName = "procurement-agent"): Promise<ExampleRun> {
  const tracing = startTracing({ url, serviceName });
  try {
    return await decideExample();
  } finally {
    await tracing.shutdown();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.argv[2] ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? "http://localhost:4318/v1/traces";
  const run = await runExample(url);
  for (const outcome of run.outcomes) console.log(JSON.stringify(outcome));
  console.log(`trace ${run.parent.traceId} sent to ${url}`);
}
