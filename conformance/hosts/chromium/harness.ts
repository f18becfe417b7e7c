// Chromium conformance page script, run inside the browser page: loads bundles and evaluates
// batches of requests with `Aegis` from the browser bundle build/web/aegis.js (imported as
// `./aegis.js`: the build maps bindings/web/index.ts to it), and builds decision records with
// telemetry/record.ts in the page. Input: base64 bundle and request bytes from the Node side
// (host.ts); output: decision bytes (base64), request errors as fields, record lines. Exposed as
// `globalThis.aegisHarness`. No comparison happens here: the runner compares in Node.
import { Aegis, RequestError } from "../../../bindings/web/index.ts";
import { recordLine, type RecordMeta } from "../../../telemetry/record.ts";

/** One request of a batch, with the record inputs when its record is wanted too. */
export interface PageJob { request: string; record?: RecordMeta }

/** What the page got for a request: decision bytes, a request error, or an unexpected exception. */
export type PageOutcome =
  | { bytes: string }
  | { error: { code: string; message: string; offset?: number } }
  | { thrown: string };

export interface PageResult { outcome: PageOutcome; record?: { line: string } | { thrown: string } }

export type PageLoad = { ok: true; digest: string } | { ok: false; name: string; code?: string; message: string };

/** The functions host.ts calls through page.evaluate. */
export interface Harness {
  load(bundle: string): Promise<PageLoad>;
  run(jobs: PageJob[]): PageResult[];
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const encoder = new TextEncoder();
let aegis: Aegis | null = null;

function evaluate(request: Uint8Array): { outcome: PageOutcome; bytes?: Uint8Array } {
  if (!aegis) return { outcome: { error: { code: "no_bundle", message: "no bundle is loaded" } } };
  try {
    const bytes = aegis.evaluateBytes(request);
    return { outcome: { bytes: toBase64(bytes) }, bytes };
  } catch (e) {
    if (!(e instanceof RequestError)) return { outcome: { thrown: String((e as Error)?.stack ?? e) } };
    const error = e.offset === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, offset: e.offset };
    // The record builder reads the same error JSON the Node host hands it.
    return { outcome: { error }, bytes: encoder.encode(JSON.stringify({ error })) };
  }
}

const harness: Harness = {
  async load(bundle) {
    aegis = null;
    try {
      aegis = await Aegis.load(fromBase64(bundle));
      return { ok: true, digest: aegis.digest };
    } catch (e) {
      const err = e as Error & { code?: string };
      return { ok: false, name: err?.name ?? "Error", code: err?.code, message: String(err?.message ?? e) };
    }
  },
  run(jobs) {
    return jobs.map((job) => {
      const request = fromBase64(job.request);
      const { outcome, bytes } = evaluate(request);
      const result: PageResult = { outcome };
      if (job.record && bytes) {
        try {
          result.record = { line: recordLine(bytes, request, job.record, aegis?.digest ?? "") };
        } catch (e) {
          result.record = { thrown: String((e as Error)?.stack ?? e) };
        }
      }
      return result;
    });
  },
};

(globalThis as unknown as { aegisHarness: Harness }).aegisHarness = harness;
