// Tests of `aegis report` as a user runs it (in-process, through a CliIO): a log directory of
// segments is read in segment order (a torn last line included), the Markdown, HTML and JSON
// outputs agree with the records written, and bad arguments are clear usage errors.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError, type CliIO } from "../io.ts";
import { compareSegmentNames, reportCommand } from "./report.ts";
import type { Summary } from "../../telemetry/report.ts";
import { compile } from "../../compiler/index.ts";
import { Aegis, RequestError } from "../../bindings/node/index.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Run { code: number; stdout: string; stderr: string }

async function report(args: string[], cwd: string): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => new Uint8Array(),
    cwd,
  };
  const code = await reportCommand.run(args, io);
  return { code, stdout, stderr };
}

/** A decision record line with sorted keys (JCS for these plain values). */
function record(seq: number, fields: { agent: string; tool: string; action: string; decision: string; rule: string; day: number; shadow?: { rule: string; effect: string }[]; reason?: string }): string {
  const value: Record<string, unknown> = {
    action: fields.action,
    agent: { id: fields.agent },
    bundle: `sha256:${"0".repeat(64)}`,
    decision: fields.decision,
    enforced: true,
    eval_ns: 900,
    host: "node",
    id: `id-${seq}`,
    policy: { name: "procurement", version: "2026.11.21-1" },
    prev: "0".repeat(64),
    reason: fields.reason ?? `by ${fields.rule}`,
    request: `sha256:${"1".repeat(64)}`,
    rule: fields.rule,
    seq,
    ...(fields.shadow ? { shadow: fields.shadow } : {}),
    tool: fields.tool,
    ts: new Date(Date.UTC(2026, 10, 20 + fields.day, 12, 0, 0, seq)).toISOString(),
    type: "decision",
    v: 1,
  };
  return JSON.stringify(value);
}

let dir: string;
let logDir: string;
/** What the test wrote, to count expectations from. */
const written: { day: number; decision: string; shadowDeny: boolean; agent: string }[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "aegis-report-"));
  logDir = join(dir, "log");
  mkdirSync(logDir);
  // Three segments; the third sorts after the second only numerically (7 digits).
  const segments: string[][] = [[], [], []];
  let seq = 0;
  for (let day = 0; day < 9; day++) {
    for (let i = 0; i < 20; i++) {
      const shadowDeny = i % 5 === 0 && day < 7; // 20% would-deny during the shadow week
      const agent = i % 2 === 0 ? "sourcing-agent" : "planner-agent";
      const decision = i === 19 ? "deny" : i === 18 ? "approval_needed" : "allow";
      const rule = decision === "deny" ? "po-requires-tax-document" : decision === "approval_needed" ? "po-over-10k" : "sourcing-agent:erp:1";
      segments[Math.min(2, Math.floor(day / 3))].push(record(seq++, { agent, tool: "erp", action: "issue_po", decision, rule, day, shadow: shadowDeny ? [{ rule: "po-shadow", effect: "deny" }] : undefined }));
      written.push({ day, decision, shadowDeny, agent });
    }
  }
  writeFileSync(join(logDir, "audit-000001.jsonl"), segments[0].join("\n") + "\n");
  writeFileSync(join(logDir, "audit-999999.jsonl"), segments[1].join("\n") + "\n" + JSON.stringify({ type: "checkpoint", ts: "2026-11-26T00:00:00.000Z", note: "x" }) + "\n");
  // The live segment ends in a torn write.
  writeFileSync(join(logDir, "audit-1000000.jsonl"), segments[2].join("\n") + "\n" + '{"type":"decision","v":1,"se');
  writeFileSync(join(logDir, "notes.txt"), "not a segment\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("aegis report", () => {
  it("summarizes a log directory as Markdown, counting the torn line as unparsable", async () => {
    const run = await report(["log"], dir);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(new RegExp(`^# Aegis decision report\\n\\n${written.length} decisions, 2026-11-20T12:00:00\\.000Z to 2026-11-28T12:00:00\\.\\d{3}Z\\.`));
    expect(run.stdout).toContain(`${written.length + 2} log lines, 1 checkpoint, 0 recovery records.`);
    expect(run.stdout).toContain("**Warning:** 1 unparsable line and 0 decision lines without a valid decision skipped");
    const wouldDeny = written.filter((w) => w.shadowDeny).length;
    expect(run.stdout).toContain(`| \`po-shadow\` | ${wouldDeny} | ${wouldDeny} | ${written.length} (est.) | ${(100 * wouldDeny / written.length).toFixed(1)}% | **review** |`);
    expect(run.stdout).toContain(`| \`approval_needed\` | ${written.filter((w) => w.decision === "approval_needed").length} |`);
  });

  it("reads segment files given one by one, and a time window", async () => {
    const run = await report(["--json", "--since", "2026-11-27", "--until", "2026-11-28T00:00:00Z", "log/audit-1000000.jsonl", "log/audit-999999.jsonl"], dir);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.decisions.total).toBe(written.filter((w) => w.day === 7).length);
    expect(summary.shadow.wouldDeny).toBe(0);
    expect(summary.lines.outsideWindow).toBe(written.filter((w) => w.day >= 3 && w.day !== 7).length);
    expect(summary.lines.unparsable).toBe(1);
  });

  it("flags the shadow week's rule with the exact scope from --policy and writes an HTML page", async () => {
    const html = join(dir, "out", "..", "report.html");
    const run = await report(["log", "--until", "2026-11-27", "--html", html, "--json", "--threshold", "25", "--policy", join(repoRoot, "policies", "procurement.yaml")], dir);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    const week = written.filter((w) => w.day < 7);
    expect(summary.options).toMatchObject({ threshold: 0.25, exactScope: true, until: "2026-11-27T00:00:00.000Z" });
    // po-shadow is not in procurement.yaml: its scope stays an estimate; 20% is under 25%.
    expect(summary.shadow.rules.rows).toEqual([{ rule: "po-shadow", wouldDeny: week.filter((w) => w.shadowDeny).length, newlyBlocked: week.filter((w) => w.shadowDeny).length, evaluations: week.length, scope: "estimated", rate: 0.2, flagged: false }]);
    const page = readFileSync(html, "utf8");
    expect(page.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(page).toContain(`<td><code>po-shadow</code></td><td class="num">${week.filter((w) => w.shadowDeny).length}</td>`);
    expect(page).toContain("25.0% target");
  });

  it("prints its help", async () => {
    const run = await report(["--help"], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("usage: aegis report LOG...");
  });

  it("rejects bad arguments and unreadable logs with usage errors", async () => {
    await expect(report([], dir)).rejects.toThrow(new UsageError("no log given"));
    await expect(report(["missing"], dir)).rejects.toThrow("cannot read log `missing`: no such file or directory");
    await expect(report(["log", "--since", "yesterday"], dir)).rejects.toThrow("--since `yesterday` is not an ISO 8601 time");
    await expect(report(["log", "--since", "2026-11-22", "--until", "2026-11-21"], dir)).rejects.toThrow("--since `2026-11-22` is not before --until `2026-11-21`");
    await expect(report(["log", "--threshold", "x"], dir)).rejects.toThrow("--threshold `x` must be a number from 0 to 100");
    await expect(report(["log", "--top", "2.5"], dir)).rejects.toThrow("--top `2.5` is not a whole number");
    await expect(report(["log", "--html", join(dir, "no", "such", "dir.html")], dir)).rejects.toThrow(/cannot write `.*dir\.html`: no such file or directory/);
    await expect(report(["log", "--frob"], dir)).rejects.toThrow(UsageError);
    const empty = join(dir, "empty");
    mkdirSync(empty);
    await expect(report(["empty"], dir)).rejects.toThrow("no `*.jsonl` segments in `empty`");
    writeFileSync(join(dir, "bad.yaml"), "aegis: 1\npolicy: x\n");
    let stderr = "";
    const io: CliIO = { stdout: () => {}, stderr: (t) => void (stderr += t), readStdin: async () => new Uint8Array(), cwd: dir };
    await expect(reportCommand.run(["log", "--policy", "bad.yaml"], io)).rejects.toThrow("the --policy files have errors");
    expect(stderr).toMatch(/^bad\.yaml:\d+:\d+: /m);
  });
});

describe("aegis report on a log the Node binding wrote", () => {
  it("counts the decisions the binding made", async () => {
    const logPath = join(dir, "binding-log");
    const text = readFileSync(join(repoRoot, "policies", "procurement.yaml"), "utf8");
    const aegis = await Aegis.load(compile([{ path: "procurement.yaml", text }]), { audit: { dir: logPath, key: new Uint8Array(32).fill(7) } });
    const pay = (amount: number, extra: object = {}) => ({ agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount, currency: "EUR", payee_iban: "DE89370400440532013000", ...extra } });
    const decisions = [
      aegis.evaluate(pay(100, { payee_is_new: true })),
      aegis.evaluate(pay(12000)),
      aegis.evaluate(pay(12000)),
      aegis.evaluate({ agent: { id: "sourcing-agent" }, tool: "supplier-portal", action: "fetch_quote", params: { supplier_id: "SUPP-0042" }, context: { egress: ["https://quotes.evil.example/rfq"] } }),
    ];
    expect(() => aegis.evaluate("{bad")).toThrow(RequestError);
    aegis.close();
    const summary = JSON.parse((await report(["--json", "binding-log"], dir)).stdout) as Summary;
    expect(summary.lines.unparsable).toBe(0);
    expect(summary.decisions.total).toBe(decisions.length + 1);
    expect(summary.decisions.byDecision).toEqual({ allow: 1, deny: 2, sanitize: 0, approval_needed: 2 });
    expect(summary.shadow.otherEffects.rows).toEqual([{ rule: "new-payee-approval", effect: "approval_needed", count: 1 }]);
    // The same request twice is one pending approval.
    expect(summary.approvals).toMatchObject({ total: 2, distinctIds: 1 });
    expect(summary.egress.byHost.rows).toEqual([{ key: "quotes.evil.example", count: 1 }]);
    expect(summary.errors.total).toBe(1);
  });
});

describe("compareSegmentNames", () => {
  it("orders segments by number, past six digits", () => {
    const names = ["audit-1000000.jsonl", "audit-000010.jsonl", "audit-999999.jsonl", "audit-000002.jsonl", "other-000001.jsonl"];
    expect(names.sort(compareSegmentNames)).toEqual(["audit-000002.jsonl", "audit-000010.jsonl", "audit-999999.jsonl", "audit-1000000.jsonl", "other-000001.jsonl"]);
  });
});
