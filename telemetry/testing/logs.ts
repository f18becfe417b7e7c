// Test helpers for the audit log: deterministic sample leaves, a fixed test key, writing a log
// with AuditLog, reading a log directory back as segments, and line-level edits for tampering.
// Input: a directory / segments; output: segments or line arrays. Used by telemetry/*.test.ts,
// cli/audit.test.ts and the crash child (telemetry/testing/crash-writer.ts).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AuditLog, type AuditLogOptions } from "../log.ts";
import { publicKeyOf } from "../keys.ts";
import type { Segment } from "../verify.ts";

/** A fixed Ed25519 seed for tests (never use it for a real log). */
export const TEST_SEED = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);
/** Its public key. */
export const TEST_PUBLIC_KEY = publicKeyOf(TEST_SEED);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A decision record without `seq`/`prev` (the log sets them), varied by `i`: some carry params
 * with their own `seq` and `prev` keys and non-ASCII text, so the verifier's fast path meets them.
 */
export function sampleLeaf(i: number): { type: string; [key: string]: unknown } {
  const decisions = ["allow", "deny", "sanitize", "approval_needed"];
  const leaf: { type: string; [key: string]: unknown } = {
    type: "decision", v: 1,
    ts: new Date(Date.UTC(2026, 10, 22, 1, 55, 39) + i * 1000).toISOString(),
    id: `0193${(i % 65536).toString(16).padStart(4, "0")}-7a2b-7c3d-8e4f-a1b2c3d4e5f6`,
    agent: { id: i % 2 === 0 ? "finance-agent" : "reorder-agent", tenant: "acme" },
    tool: "payments", action: "create_payment",
    decision: decisions[i % 4], enforced: true, rule: `rule-${i % 5}`,
    reason: i % 3 === 0 ? `denied by rule \`rule-${i % 5}\` — “quoted” \\ "x"` : `allowed by rule \`rule-${i % 5}\``,
    policy: { name: "procurement", version: "2026.11.21-1" },
    bundle: "sha256:" + "ab".repeat(32),
    request: "sha256:" + (i % 256).toString(16).padStart(2, "0").repeat(32),
    host: "node", eval_ns: 1000 + i,
  };
  if (i % 4 === 1) leaf.params = { amount: i * 10, seq: 99, prev: "not a hash", memo: "Grüße \"seq\":1" };
  if (i % 5 === 2) leaf.shadow = [{ rule: "shadow-rule", effect: "deny" }];
  return leaf;
}

/** Write `count` sample leaves to a new log in `dir` and close it; returns the closed log. */
export function writeTestLog(dir: string, count: number, options: Partial<AuditLogOptions> = {}): AuditLog {
  let tick = Date.UTC(2026, 10, 22, 2, 0, 0);
  const log = AuditLog.open({ dir, key: TEST_SEED, clock: () => (tick += 1000), checkpointEvery: 10, ...options });
  for (let i = 0; i < count; i++) log.append(sampleLeaf(i));
  log.close();
  return log;
}

/** The segments of the log in `dir` (regular `*.jsonl` files, by name), named by file name. */
export function readLog(dir: string): Segment[] {
  return readdirSync(dir)
    // A symlink to a device (the disk-full tests use /dev/full) would be read forever.
    .filter((n) => n.endsWith(".jsonl") && statSync(join(dir, n)).isFile())
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
}

/** A segment's lines without their newlines (a final empty string means it ended with a newline). */
export function linesOf(segment: Segment): string[] {
  return decoder.decode(segment.bytes).split("\n");
}

/** A segment made of these lines (joined with newlines: pass a final "" for a trailing newline). */
export function segmentOf(name: string, lines: string[]): Segment {
  return { name, bytes: encoder.encode(lines.join("\n")) };
}
