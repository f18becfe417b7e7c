// Crash-test child: appends sample records to an audit log in a tight loop until it is killed.
// Input: argv DIR CHECKPOINT_EVERY. Output: the log in DIR, and "checkpoint <size>\n" on stdout
// after each checkpoint is on disk (stdout to a pipe is synchronous on Linux, so the parent sees
// every line before it decides to SIGKILL). Run as `node --import tsx telemetry/testing/crash-writer.ts`.
import { AuditLog } from "../log.ts";
import { sampleLeaf, TEST_SEED } from "./logs.ts";

const [dir, every] = process.argv.slice(2);
const log = AuditLog.open({
  dir,
  key: TEST_SEED,
  checkpointEvery: Number(every),
  // Small batches: many writes, so the kill lands between (or, rarely, inside) them.
  batchBytes: 2048,
  onCheckpoint: ({ size }) => process.stdout.write(`checkpoint ${size}\n`),
});
for (let i = 0; ; i++) log.append(sampleLeaf(i));
