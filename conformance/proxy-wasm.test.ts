// The Envoy filter against golden data, in the proxy-wasm test host (conformance/hosts/proxy-wasm.ts).
// 1. The conformance corpus: every golden case is one HTTP stream whose body is the request
//    (request_body mode), and the bytes the filter exposes must be the golden decision or error
//    bytes. Honours conformance/skips/proxy-wasm.yaml (a skipped case that passes fails as stale).
// 2. The HTTP mapping cases of conformance/http-mapping/*.yaml: headers, path and body in; status,
//    decision, error, response headers, what reached the upstream and log lines out.
// Input: conformance/cases, conformance/http-mapping; output: test results and one summary line.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/index.ts";
import { CorpusSession, loadCorpus } from "./runner.ts";
import { describeCorpusCases } from "./case-test.ts";
import { checkMapping, createProxyWasmHost, filterWasm, loadMappingFiles, mappingRequest } from "./hosts/proxy-wasm.ts";
import { ProxyWasmHost } from "./hosts/proxy-wasm/host.ts";

const corpus = loadCorpus();
const host = createProxyWasmHost();
const session = new CorpusSession(host);

describe(`conformance ${host.name}`, () => {
  describeCorpusCases(host.name, corpus, () => session);
});

const mappingDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "http-mapping");
const mappingFiles = loadMappingFiles(mappingDir);
let filterModule: WebAssembly.Module;

beforeAll(async () => {
  filterModule = await WebAssembly.compile((await filterWasm()) as Uint8Array<ArrayBuffer>);
});

describe("proxy-wasm http mapping", () => {
  for (const file of mappingFiles) {
    describe(file.path, () => {
      const bundle = Buffer.from(compile([{ path: `${file.path}#policy`, text: file.policy }])).toString("base64");
      for (const c of file.cases) {
        it(c.name, async () => {
          const host = await ProxyWasmHost.create(filterModule, { pluginConfig: JSON.stringify({ decision_header: true, ...c.config, bundle }) });
          const loaded = host.logs.some((l) => l.message.startsWith("aegis: bundle loaded"));
          expect(loaded, host.logs.map((l) => l.message).join("\n")).toBe(true);
          const r = await host.httpRequest(mappingRequest(c.request));
          const why = checkMapping(c.want, r);
          expect(why, `${file.path}: ${c.name}: ${why}`).toBeNull();
          expect(r.warnings, "ABI misuse").toEqual([]);
        });
      }
    });
  }
});
