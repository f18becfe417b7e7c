// Writes the golden audit logs of telemetry/testdata/ (or into the directory given): a clean
// two-segment log and a log that recovered from a torn write. Deterministic (fixed key, clock and
// records), so log.test.ts can rewrite them and demand the same bytes: any change to the line,
// checkpoint or recovery format shows up as a diff. Run: node --import tsx telemetry/testing/make-golden.ts [DIR]
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuditLog } from "../log.ts";
import { sampleLeaf, TEST_PUBLIC_KEY, TEST_SEED } from "./logs.ts";

/** Write both golden logs under `root` (replacing them). */
export function makeGolden(root: string): void {
  const clock = () => {
    let t = Date.UTC(2026, 10, 22, 3, 0, 0);
    return () => (t += 250);
  };

  const clean = join(root, "clean");
  rmSync(clean, { recursive: true, force: true });
  const log = AuditLog.open({ dir: clean, key: TEST_SEED, clock: clock(), checkpointEvery: 4, maxSegmentBytes: 4000 });
  for (let i = 0; i < 10; i++) log.append(sampleLeaf(i));
  log.close();

  const recovered = join(root, "recovered");
  rmSync(recovered, { recursive: true, force: true });
  const tick = clock();
  // The crashed writer is abandoned, never closed; its (unref'd) timer must not fire meanwhile.
  const crashed = AuditLog.open({ dir: recovered, key: TEST_SEED, clock: tick, checkpointEvery: 3, checkpointIntervalMs: 1e9 });
  for (let i = 0; i < 5; i++) crashed.append(sampleLeaf(i));
  crashed.flush();
  // The crash: a write cut short, and the writer never closed.
  appendFileSync(join(recovered, "aegis-000001.jsonl"), '{"action":"create_payment","agent":{"id":"fin');
  const resumed = AuditLog.open({ dir: recovered, key: TEST_SEED, clock: tick, checkpointEvery: 3 });
  for (let i = 5; i < 7; i++) resumed.append(sampleLeaf(i));
  resumed.close();

  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "test.pub"), Buffer.from(TEST_PUBLIC_KEY).toString("hex") + "\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  makeGolden(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "testdata"));
}
