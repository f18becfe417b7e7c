// OpenTelemetry SDK wiring for the example (docs/opentelemetry.md): a NodeTracerProvider that
// batches spans to an OTLP/HTTP collector (`/v1/traces`, JSON body) and names the service in the
// resource. Aegis itself depends only on @opentelemetry/api; this file is what an application adds.
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";

export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  /** `service.name` of the resource. */
  serviceName: string;
}

/** A registered tracer provider; `shutdown` flushes every pending span and unregisters nothing else. */
export interface Tracing {
  provider: NodeTracerProvider;
  /** Export what is still batched, then stop the exporter. */
  shutdown(): Promise<void>;
}

/**
 * Register a global tracer provider exporting to `url`. `register()` also installs the
 * AsyncLocalStorage context manager, so a span made active around an `await` stays the parent of
 * the decision spans inside it.
 */
export function startTracing(options: TracingOptions): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName }),
    // The -http exporter sends the OTLP JSON encoding (Content-Type: application/json).
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.url }))],
  });
  provider.register();
  return { provider, shutdown: () => provider.shutdown() };
}
