// Tests of the demo: the workload is deterministic and covers every kind of traffic the README
// promises, and `npm start` runs to the end with every decision as the workload expects.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateWorkload, mulberry32 } from "./workload.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("demo workload", () => {
  it("is the same for the same seed and differs for another", () => {
    expect(JSON.stringify(generateWorkload(7, 50))).toBe(JSON.stringify(generateWorkload(7, 50)));
    expect(JSON.stringify(generateWorkload(7, 50))).not.toBe(JSON.stringify(generateWorkload(8, 50)));
    const random = mulberry32(1);
    const values = Array.from({ length: 1000 }, random);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(values).size).toBe(1000);
  });

  it("mixes routine traffic with every kind of attack, in both workflows", () => {
    const calls = generateWorkload(20261121, 200);
    expect(calls).toHaveLength(400);
    const attacks = calls.filter((c) => c.attack);
    expect(attacks.length).toBeGreaterThan(40);
    expect(attacks.length).toBeLessThan(200);
    const scenarios = new Set(calls.map((c) => c.scenario));
    for (const s of ["payment: altered IBAN", "payment: inflated amount", "PO: injected supplier id", "egress: exfiltration domain", "PII in notes (DLP)", "coerced: planner induces payment", "malformed: duplicate amount key"]) {
      expect(scenarios, s).toContain(s);
    }
    for (const expect_ of ["allow", "sanitize", "approval_needed", "deny", "error"]) {
      expect(calls.some((c) => c.expect === expect_), expect_).toBe(true);
    }
  });
});

describe("npm start", () => {
  it("runs the whole demo with every decision as expected and prints the summary", () => {
    const stdout = execFileSync(process.execPath, ["--import", "tsx", "demo/main.ts"], { cwd: repoRoot, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(stdout).toContain("every decision matched the workload's expectation");
    expect(stdout).toMatch(/refused \(bad_signature\)/);
    expect(stdout).toMatch(/^evaluate\(\) latency over \d+ calls \(us\): p50 [\d.]+ {2}p90 [\d.]+ {2}p99 [\d.]+ {2}max [\d.]+$/m);
    const lines = stdout.trimEnd().split("\n").length;
    expect(lines).toBeGreaterThanOrEqual(60);
    expect(lines).toBeLessThanOrEqual(150);
    // The audit log of the run verifies; a hand-edited copy fails at the edited line.
    expect(stdout).toMatch(/^\$ aegis audit verify \.demo\/audit --key \.demo\/audit\.pub {3}\(exit 0\)\n {2}ok; 400 records/m);
    const edited = /edited \.demo\/audit-tampered\/(aegis-\d+\.jsonl) line (\d+) \(deny -> allow\)/.exec(stdout);
    expect(edited).not.toBeNull();
    expect(stdout).toContain(`(exit 1)\n  .demo/audit-tampered/${edited![1]}:${edited![2]}: modified:`);
    expect(stdout).toContain("## Shadow rollout");
  });
});
