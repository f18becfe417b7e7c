// `node --expose-gc --import tsx bench/profile.ts [--loops N] [--runs R] [--only NAME]`: a
// micro-benchmark of the fast path for step-by-step tuning. For each sample request (and the
// 10,000-rule synthetic request) it times R runs of N `evaluate(object)` calls and prints the
// median ns per call, next to `JSON.stringify(request)` timed the same way in the same run, so
// figures from a noisy shared machine can be compared as a ratio. Input: the sample policies and
// bench/requests.ts. Output: a table on stdout (nothing is written or asserted).
//
// For a CPU profile, build a wasm with names (`npx asc engine/index.ts --config asconfig.json
// --target release --debug -o build/aegis.wasm`) and run with `node --cpu-prof --import tsx
// bench/profile.ts --only payment`; restore the release build with `npm run build`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../compiler/index.ts";
import { Aegis } from "../bindings/node/index.ts";
import { samplePolicyRequests } from "./requests.ts";
import { syntheticRules, aegisSources, syntheticRequest } from "./generate.ts";

const root = join(import.meta.dirname, "..");
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};
const LOOPS = Number(arg("--loops", "200000"));
const RUNS = Number(arg("--runs", "5"));
const ONLY = arg("--only", "");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Median over RUNS of the mean ns per call of LOOPS calls of `fn`. Measured in CPU time of this
 * process (user + system), which a loaded machine disturbs less than wall time does.
 */
function time(fn: () => unknown): number {
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.cpuUsage();
    for (let k = 0; k < LOOPS; k++) fn();
    const t = process.cpuUsage(t0);
    runs.push(((t.user + t.system) * 1e3) / LOOPS);
  }
  return median(runs);
}

const sources = ["policies/procurement.yaml", "policies/retail.yaml"].map((p) => ({ path: p, text: readFileSync(join(root, p), "utf8") }));
const aegis = await Aegis.load(compile(sources));
const cases = samplePolicyRequests().map((s) => ({ name: s.name, request: s.request as object, engine: aegis }));
if (!ONLY || "10,000 rules".includes(ONLY)) {
  const rules = syntheticRules(10000);
  cases.push({ name: "10,000 rules", request: syntheticRequest(rules), engine: await Aegis.load(compile(aegisSources(rules))) });
}

console.log(`${LOOPS} calls x ${RUNS} runs per row, median CPU ns/call\n`);
console.log(`${"request".padEnd(28)} ${"decision".padEnd(16)} ${"evaluate".padStart(9)} ${"stringify".padStart(9)} ${"ratio".padStart(6)}`);
for (const c of cases) {
  if (ONLY && !c.name.includes(ONLY)) continue;
  const decision = c.engine.evaluate(c.request).decision;
  const evaluate = time(() => c.engine.evaluate(c.request));
  const stringify = time(() => JSON.stringify(c.request));
  console.log(`${c.name.padEnd(28)} ${decision.padEnd(16)} ${evaluate.toFixed(0).padStart(9)} ${stringify.toFixed(0).padStart(9)} ${(evaluate / stringify).toFixed(2).padStart(6)}`);
}
