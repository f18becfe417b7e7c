// Conformance host "reference": the TypeScript reference interpreter (compiler/reference), which
// works over the checked policy model rather than the bundle. Input: the case file's policy
// sources and request bytes; output: decision bytes or the request error JSON.
import type { CheckedBundle, Source } from "../../compiler/ast.ts";
import { checkSources } from "../../compiler/index.ts";
import { evaluateReference } from "../../compiler/reference/interpreter.ts";
import { bundleDigest, errorJsonBytes, type ConformanceHost } from "../runner.ts";
import { recordLine, type RecordMeta } from "../../telemetry/record.ts";

/** The reference interpreter as a conformance host. It needs the sources, not only the bundle. */
export class ReferenceHost implements ConformanceHost {
  readonly name = "reference";
  private checked: CheckedBundle | null = null;
  private digestText = "";

  async load(bundle: Uint8Array, sources?: Source[]): Promise<void> {
    if (!sources) throw new Error("the reference host needs the policy sources");
    const { bundle: checked, errors } = checkSources(sources);
    if (!checked || errors.length > 0) throw new Error(`policy errors: ${errors.map((e) => e.message).join("; ")}`);
    // The digest identifies the bundle the other hosts run, so decisions name the same bundle.
    this.digestText = bundleDigest(bundle);
    this.checked = checked;
  }

  async evaluate(request: Uint8Array): Promise<Uint8Array> {
    if (!this.checked) return errorJsonBytes("no_bundle", "no bundle is loaded");
    const r = evaluateReference(this.checked, request, this.digestText);
    if (r.ok) return new TextEncoder().encode(r.decision);
    return errorJsonBytes(r.code, r.message, r.offset);
  }

  async record(request: Uint8Array, meta: RecordMeta): Promise<Uint8Array> {
    return new TextEncoder().encode(recordLine(await this.evaluate(request), request, meta, this.digestText));
  }
}

/** A fresh reference host. */
export function createReferenceHost(): ConformanceHost {
  return new ReferenceHost();
}
