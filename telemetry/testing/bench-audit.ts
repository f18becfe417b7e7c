// Benchmark of the audit log (not a test: no timing is asserted anywhere). Input: N (env, default
// 100,000). Output: per-append cost of AuditLog (and of canonicalize alone, which it includes),
// and verifyLog throughput over the log written. Run: N=200000 node --import tsx telemetry/testing/bench-audit.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalize } from "../jcs.ts";
import { AuditLog, nodeSha256, nodeVerifySignature } from "../log.ts";
import { verifyLog } from "../verify.ts";
import { readLog, sampleLeaf, TEST_PUBLIC_KEY, TEST_SEED } from "./logs.ts";

const n = Number(process.env.N ?? 100_000);
const leaves = Array.from({ length: 1000 }, (_, i) => sampleLeaf(i));
const dir = mkdtempSync(join(tmpdir(), "aegis-bench-audit-"));
const ns = (start: bigint) => Number(process.hrtime.bigint() - start);

try {
  let start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) canonicalize({ ...leaves[i % 1000], seq: i, prev: "0".repeat(64) });
  const canonical = ns(start) / n;

  const log = AuditLog.open({ dir, key: TEST_SEED });
  start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) log.append(leaves[i % 1000]);
  const append = ns(start) / n;
  log.close();
  const bytes = readLog(dir).reduce((sum, s) => sum + s.bytes.length, 0);
  console.log(`append: ${append.toFixed(0)} ns/record (${Math.round(1e9 / append)}/s, ${(bytes / n).toFixed(0)} bytes/record, checkpoint every 1000); canonicalize alone: ${canonical.toFixed(0)} ns`);

  const segments = readLog(dir);
  for (const [name, options] of [["node:crypto", { sha256: nodeSha256, verifySignature: nodeVerifySignature() }], ["noble", {}]] as const) {
    start = process.hrtime.bigint();
    const result = verifyLog(segments, TEST_PUBLIC_KEY, options);
    const took = ns(start);
    if (!result.ok) throw new Error("the benchmark log does not verify");
    console.log(`verify (${name}): ${result.leaves} records in ${(took / 1e6).toFixed(0)} ms = ${Math.round(result.leaves / (took / 1e9))} records/s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
