// Tests of the shadow and operations report: a log generated here (JCS lines as docs/telemetry.md
// §2-§3 specify them) is summarized, and every number is checked against a direct count over the
// generated records; the renderers are checked for the numbers they print and for escaping of
// hostile log strings (agent ids and reasons are attacker-influenced).
import { describe, it, expect } from "vitest";
import { createHash } from "node:crypto";
import { renderHtml, renderMarkdown, summarizeLog, type Summary } from "./report.ts";

/** RFC 8785 for the values a record holds: sorted keys, JSON.stringify escapes and numbers. */
function jcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcs).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${jcs(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

interface Call {
  day: number;
  agent?: string;
  tenant?: string;
  tool?: string;
  action?: string;
  decision: "allow" | "deny" | "sanitize" | "approval_needed";
  enforced?: boolean;
  rule: string;
  reason?: string;
  version?: string;
  host?: string;
  shadow?: { rule: string; effect: string }[];
  redactions?: { path: string; by: string }[];
  approval?: string;
  override?: boolean;
  error?: { code: string; message: string };
}

const BUNDLE = `sha256:${"ab".repeat(32)}`;
const EVIL_AGENT = "<script>alert(1)</script>|`x`";
const EVIL_HOST = `"><img src=x onerror=alert(2)>.example`;

/** A log as the writer would produce it: records with seq/prev chained, plus other line types. */
function buildLog(calls: Call[]): { lines: string[]; records: Record<string, any>[] } {
  const lines: string[] = [];
  const records: Record<string, any>[] = [];
  let prev = "0".repeat(64);
  calls.forEach((call, seq) => {
    const ts = new Date(Date.UTC(2026, 10, 20 + call.day, 9, 0, 0, seq % 1000)).toISOString();
    const record = {
      type: "decision", v: 1, seq, prev, ts, id: `0193-${seq}`,
      agent: call.agent === undefined ? undefined : { id: call.agent, tenant: call.tenant },
      tool: call.tool, action: call.action,
      decision: call.decision, enforced: call.enforced ?? true, rule: call.rule,
      reason: call.reason ?? `decided by \`${call.rule}\``,
      policy: { name: "procurement", version: call.version ?? "2026.11.21-1" },
      bundle: BUNDLE,
      request: `sha256:${createHash("sha256").update(String(seq)).digest("hex")}`,
      shadow: call.shadow, redactions: call.redactions, approval: call.approval,
      override_token: call.override ? `sha256:${"cd".repeat(32)}` : undefined,
      error: call.error,
      host: call.host ?? "node", eval_ns: 1200 + seq,
    };
    const line = jcs(record);
    prev = createHash("sha256").update(Buffer.concat([Buffer.from([0]), Buffer.from(line)])).digest("hex");
    lines.push(line);
    records.push(record);
    if (seq % 50 === 49) lines.push(jcs({ type: "checkpoint", ts, note: "aegis.local/log/x\n50\nAAAA\n\n— x AAAA\n" }));
  });
  return { lines, records };
}

const wouldDeny = (effect: string) => ({ rule: "po-amount-shadow", effect });

/** The scenario: a week of procurement traffic with one noisy and one quiet shadow rule. */
function scenario(): Call[] {
  const calls: Call[] = [];
  for (let i = 0; i < 120; i++) {
    // finance-agent payments; the quiet shadow rule would deny 3 of them.
    const shadow = i % 40 === 7 ? [{ rule: "payee-shadow-check", effect: "deny" }] : i % 10 === 3 ? [{ rule: "new-payee-approval", effect: "approval_needed" }] : undefined;
    if (i % 20 === 5) {
      calls.push({ day: i % 7, agent: "finance-agent", tool: "payments", action: "create_payment", decision: "approval_needed", rule: "pay-over-5k", approval: `apr-${(i % 60 === 5 ? "0" : String(i)).padStart(32, "0")}`, shadow });
    } else {
      calls.push({ day: i % 7, agent: "finance-agent", tool: "payments", action: "create_payment", decision: "allow", rule: "finance-agent:payments:0", shadow, override: i === 0 });
    }
  }
  for (let i = 0; i < 40; i++) {
    // sourcing-agent POs: the noisy shadow rule would deny 6 of 40 (15%), 3 of them denied anyway.
    const noisy = i % 7 === 0 ? [wouldDeny("deny")] : undefined;
    if (i % 14 === 0) calls.push({ day: i % 7, agent: "sourcing-agent", tenant: "acme", tool: "erp", action: "issue_po", decision: "deny", rule: "po-requires-tax-document", shadow: noisy, version: "2026.11.22-1" });
    else calls.push({ day: i % 7, agent: "sourcing-agent", tenant: "acme", tool: "erp", action: "issue_po", decision: "allow", rule: "sourcing-agent:erp:1", shadow: noisy, version: "2026.11.22-1" });
  }
  for (let i = 0; i < 10; i++) {
    // planner-agent on the same tool/action: po-amount-shadow's selectors exclude it.
    calls.push({ day: 1, agent: "planner-agent", tool: "erp", action: "issue_po", decision: "deny", rule: "default", reason: "no rule allows this call (default deny)", host: "deno" });
  }
  // Egress: three to one host, one hostile host string, one invalid URL, one shadow egress.
  for (const host of ["evil.example.com", "evil.example.com", "evil.example.com", EVIL_HOST]) {
    calls.push({ day: 2, agent: EVIL_AGENT, tool: "supplier-portal", action: "fetch_quote", decision: "deny", rule: "egress", reason: `egress to \`${host}\` is not allowed` });
  }
  calls.push({ day: 2, agent: "sourcing-agent", tenant: "acme", tool: "supplier-portal", action: "fetch_quote", decision: "deny", rule: "egress", reason: "egress URL `ht!tp:/x` is not a valid URL" });
  calls.push({ day: 3, agent: "sourcing-agent", tenant: "acme", tool: "supplier-portal", action: "fetch_quote", decision: "allow", rule: "sourcing-agent:supplier-portal:0", shadow: [{ rule: "egress", effect: "deny" }] });
  // Sanitize: two DLP redactions and one by a rule.
  calls.push({ day: 4, agent: "finance-agent", tool: "erp", action: "read_invoice", decision: "sanitize", rule: "dlp:ssn", redactions: [{ path: "params.note", by: "dlp:ssn" }, { path: "params.memo", by: "dlp:ssn" }] });
  calls.push({ day: 4, agent: "finance-agent", tool: "erp", action: "read_invoice", decision: "sanitize", rule: "mask-card", redactions: [{ path: "params.card", by: "mask-card" }] });
  // All-shadow default: not enforced.
  calls.push({ day: 5, agent: "retail-agent", tool: "catalog", action: "search", decision: "allow", enforced: false, rule: "default", reason: "no enforced policy applies (shadow mode)", shadow: [{ rule: "default", effect: "deny" }] });
  // Request errors: no agent, or an agent the bytes held.
  calls.push({ day: 6, decision: "deny", rule: "", reason: "request is not valid JSON", error: { code: "bad_json", message: "request is not valid JSON" } });
  calls.push({ day: 6, decision: "deny", rule: "", reason: "request is not valid JSON", error: { code: "bad_json", message: "request is not valid JSON" } });
  calls.push({ day: 6, agent: EVIL_AGENT, decision: "deny", rule: "", reason: "<b>bad</b>", error: { code: "bad_request", message: "<b>bad</b>" } });
  return calls;
}

/** Direct counts over the records, the way an auditor would write them by hand. */
function expected(records: Record<string, any>[]) {
  const evaluated = records.filter((r) => !r.error);
  const denyIn = (r: any, rule: string) => (r.shadow ?? []).some((s: any) => s.rule === rule && s.effect === "deny");
  return {
    total: records.length,
    byDecision: Object.fromEntries(["allow", "deny", "sanitize", "approval_needed"].map((d) => [d, records.filter((r) => r.decision === d).length])),
    enforced: records.filter((r) => r.enforced).length,
    wouldDeny: evaluated.filter((r) => (r.shadow ?? []).some((s: any) => s.effect === "deny")).length,
    wouldDenyOf: (rule: string) => evaluated.filter((r) => denyIn(r, rule)).length,
    newlyBlockedOf: (rule: string) => evaluated.filter((r) => denyIn(r, rule) && r.decision !== "deny").length,
    onToolAction: (tool: string, action: string) => evaluated.filter((r) => r.tool === tool && r.action === action).length,
    ofAgent: (id: string) => evaluated.filter((r) => r.agent?.id === id).length,
    evaluated: evaluated.length,
    denials: records.filter((r) => r.decision === "deny" && !r.error),
    approvals: records.filter((r) => r.decision === "approval_needed"),
    errors: records.filter((r) => r.error),
  };
}

describe("summarizeLog", () => {
  const { lines, records } = buildLog(scenario());
  const junk = ["{not json", "[1,2]", "", jcs({ type: "decision", decision: "maybe" }), jcs({ type: "recovery", v: 1, seq: 9, prev: "0".repeat(64), ts: "2026-11-21T00:00:00.000Z", torn: {} }), jcs({ type: "future-kind" })];
  const summary = summarizeLog([...lines.slice(0, 30), ...junk, ...lines.slice(30)]);
  const want = expected(records);

  it("counts lines by kind, and unparsable and malformed lines without failing", () => {
    expect(summary.lines).toEqual({
      total: lines.length + junk.length,
      decision: records.length,
      recovery: 1,
      checkpoint: lines.filter((l) => l.includes('"type":"checkpoint"')).length,
      other: 1,
      unparsable: 3,
      malformed: 1,
      outsideWindow: 0,
      badTimestamp: 0,
    });
  });

  it("gives the overview: range, decisions by outcome, enforcement, policy version and host", () => {
    const stamps = records.map((r) => r.ts as string).sort();
    expect(summary.range).toEqual({ first: stamps[0], last: stamps[stamps.length - 1] });
    expect(summary.decisions.total).toBe(want.total);
    expect(summary.decisions.byDecision).toEqual(want.byDecision);
    expect(summary.decisions.enforced).toBe(want.enforced);
    expect(summary.decisions.notEnforced).toBe(want.total - want.enforced);
    expect(summary.decisions.withShadow).toBe(records.filter((r) => r.shadow && !r.error).length);
    const byVersion = (v: string) => records.filter((r) => (r.policy as { version: string }).version === v).length;
    expect(summary.decisions.byPolicy.rows).toEqual([
      { name: "procurement", version: "2026.11.21-1", count: byVersion("2026.11.21-1") },
      { name: "procurement", version: "2026.11.22-1", count: byVersion("2026.11.22-1") },
    ]);
    expect(summary.decisions.byHost.rows).toEqual([{ key: "node", count: records.filter((r) => r.host === "node").length }, { key: "deno", count: 10 }]);
  });

  it("reports would-deny counts and rates per rule and flags rules above 5%", () => {
    expect(summary.shadow.wouldDeny).toBe(want.wouldDeny);
    expect(summary.shadow.evaluated).toBe(want.evaluated);
    const noisy = summary.shadow.rules.rows.find((r) => r.rule === "po-amount-shadow")!;
    // Estimated scope: every erp/issue_po decision (planner-agent's included).
    expect(noisy).toEqual({
      rule: "po-amount-shadow",
      wouldDeny: want.wouldDenyOf("po-amount-shadow"),
      newlyBlocked: want.newlyBlockedOf("po-amount-shadow"),
      evaluations: want.onToolAction("erp", "issue_po"),
      scope: "estimated",
      rate: want.wouldDenyOf("po-amount-shadow") / want.onToolAction("erp", "issue_po"),
      flagged: true,
    });
    expect(noisy.newlyBlocked).toBeLessThan(noisy.wouldDeny);
    const quiet = summary.shadow.rules.rows.find((r) => r.rule === "payee-shadow-check")!;
    expect(quiet.wouldDeny).toBe(want.wouldDenyOf("payee-shadow-check"));
    expect(quiet.evaluations).toBe(want.onToolAction("payments", "create_payment"));
    expect(quiet.rate).toBeLessThan(0.05);
    expect(quiet.flagged).toBe(false);
    // Pseudo-rules see every evaluated call.
    const egress = summary.shadow.rules.rows.find((r) => r.rule === "egress")!;
    expect(egress).toMatchObject({ wouldDeny: 1, evaluations: want.evaluated, scope: "all", flagged: false });
    const shadowDefault = summary.shadow.rules.rows.find((r) => r.rule === "default")!;
    expect(shadowDefault).toMatchObject({ wouldDeny: 1, newlyBlocked: 1, scope: "all" });
    expect(summary.shadow.flaggedRules).toBe(1);
    expect(summary.shadow.rules.rows[0].rule).toBe("po-amount-shadow");
    expect(summary.shadow.otherEffects.rows).toEqual([{ rule: "new-payee-approval", effect: "approval_needed", count: records.filter((r) => r.shadow?.[0]?.rule === "new-payee-approval").length }]);
  });

  it("counts a rule's evaluations exactly from its selectors when the rules are given", () => {
    const exact = summarizeLog(lines, { rules: [{ id: "po-amount-shadow", agents: ["sourcing-agent"], tools: ["erp"], actions: ["issue_po"] }] });
    const row = exact.shadow.rules.rows.find((r) => r.rule === "po-amount-shadow")!;
    expect(row.scope).toBe("exact");
    expect(row.evaluations).toBe(want.ofAgent("sourcing-agent") - 2);
    expect(row.rate).toBeCloseTo(want.wouldDenyOf("po-amount-shadow") / 40);
    expect(exact.options.exactScope).toBe(true);
    // A rule the policy does not have (an older version) falls back to the estimate.
    expect(exact.shadow.rules.rows.find((r) => r.rule === "payee-shadow-check")!.scope).toBe("estimated");
  });

  it("reports would-deny per agent with its rate and a flag", () => {
    const sourcing = summary.shadow.agents.rows.find((r) => r.agent.id === "sourcing-agent")!;
    expect(sourcing.agent.tenant).toBe("acme");
    const sourcingRecords = records.filter((r) => r.agent?.id === "sourcing-agent" && !r.error);
    expect(sourcing.decisions).toBe(sourcingRecords.length);
    expect(sourcing.wouldDeny).toBe(sourcingRecords.filter((r) => r.shadow?.some((s: any) => s.effect === "deny")).length);
    expect(sourcing.flagged).toBe(sourcing.wouldDeny / sourcing.decisions > 0.05);
    const finance = summary.shadow.agents.rows.find((r) => r.agent.id === "finance-agent")!;
    expect(finance).toMatchObject({ wouldDeny: want.wouldDenyOf("payee-shadow-check"), decisions: want.ofAgent("finance-agent"), flagged: false });
  });

  it("lists blocked egress by host and agent", () => {
    expect(summary.egress.blocked).toBe(5);
    expect(summary.egress.byHost.rows).toEqual([{ key: "evil.example.com", count: 3 }, { key: EVIL_HOST, count: 1 }]);
    expect(summary.egress.byAgent.rows).toEqual([{ agent: { id: EVIL_AGENT }, count: 4 }, { agent: { id: "sourcing-agent", tenant: "acme" }, count: 1 }]);
    expect(summary.egress.invalidUrls).toBe(1);
    expect(summary.egress.shadowWouldDeny).toBe(1);
  });

  it("counts approvals by rule and agent, with distinct approval ids", () => {
    expect(summary.approvals.total).toBe(want.approvals.length);
    const ids = new Set(want.approvals.map((r) => r.approval));
    expect(ids.size).toBeLessThan(want.approvals.length);
    expect(summary.approvals.distinctIds).toBe(ids.size);
    expect(summary.approvals.byRule.rows).toEqual([{ rule: "pay-over-5k", count: want.approvals.length, distinctIds: ids.size }]);
    expect(summary.approvals.byAgent.rows).toEqual([{ agent: { id: "finance-agent" }, count: want.approvals.length }]);
    expect(summary.approvals.overrideTokens).toBe(1);
  });

  it("counts denials by rule and agent, redactions by what redacted, and request errors", () => {
    expect(summary.denials.total).toBe(want.denials.length);
    const byRule = new Map<string, number>();
    for (const r of want.denials) byRule.set(r.rule, (byRule.get(r.rule) ?? 0) + 1);
    expect(new Map(summary.denials.byRule.rows.map((r) => [r.key, r.count]))).toEqual(byRule);
    expect(summary.denials.byRule.rows.map((r) => r.count)).toEqual([...byRule.values()].sort((a, b) => b - a));
    expect(summary.redactions).toEqual({ sanitizeDecisions: 2, total: 3, byBy: { rows: [{ key: "dlp:ssn", count: 2 }, { key: "mask-card", count: 1 }], otherKeys: 0, otherCount: 0 } });
    expect(summary.errors.total).toBe(want.errors.length);
    expect(summary.errors.byCode.rows).toEqual([{ key: "bad_json", count: 2 }, { key: "bad_request", count: 1 }]);
    expect(summary.errors.messages.rows[0]).toEqual({ code: "bad_json", message: "request is not valid JSON", count: 2 });
  });

  it("keeps the top N rows and sums the rest", () => {
    const top = summarizeLog(lines, { top: 2 });
    expect(top.denials.byRule.rows).toHaveLength(2);
    expect(top.denials.byRule.otherKeys).toBe(new Set(want.denials.map((r) => r.rule)).size - 2);
    expect(top.denials.byRule.rows[0].count + top.denials.byRule.rows[1].count + top.denials.byRule.otherCount).toBe(want.denials.length);
  });

  it("restricts to a time window", () => {
    const since = "2026-11-22T00:00:00Z";
    const until = "2026-11-24T00:00:00.000Z";
    const windowed = summarizeLog(lines, { since, until });
    const inside = records.filter((r) => (r.ts as string) >= "2026-11-22T00:00:00.000Z" && (r.ts as string) < until);
    expect(windowed.decisions.total).toBe(inside.length);
    expect(windowed.lines.outsideWindow).toBe(records.length - inside.length);
    expect(windowed.range.first! >= "2026-11-22").toBe(true);
    expect(windowed.range.last! < until).toBe(true);
    expect(windowed.options).toMatchObject({ since: "2026-11-22T00:00:00.000Z", until });
    expect(() => summarizeLog(lines, { since: "last tuesday" })).toThrow(/`last tuesday` is not an ISO 8601 time/);
    // Without an offset a time is UTC, whatever the machine's zone.
    expect(summarizeLog([], { since: "2026-11-22T08:30" }).options.since).toBe("2026-11-22T08:30:00.000Z");
    expect(summarizeLog([], { since: "2026-11-22T08:30:00+02:00" }).options.since).toBe("2026-11-22T06:30:00.000Z");
  });

  it("counts records with a bad timestamp, and leaves them out of a window", () => {
    const [good, bad] = buildLog([{ day: 0, agent: "a", tool: "t", action: "x", decision: "allow", rule: "r" }, { day: 1, agent: "a", tool: "t", action: "x", decision: "deny", rule: "r" }]).lines;
    const broken = bad.replace(/"ts":"[^"]*"/, '"ts":"yesterday"');
    const all = summarizeLog([good, broken]);
    expect(all.decisions.total).toBe(2);
    expect(all.lines.badTimestamp).toBe(1);
    expect(all.range.first).toBe(all.range.last);
    expect(renderMarkdown(all)).toContain("**Warning:** 1 decision record without a valid timestamp: they are counted but not in the time range above.");
    const windowed = summarizeLog([good, broken], { since: "2000-01-01" });
    expect(windowed.decisions.total).toBe(1);
    expect(windowed.lines.outsideWindow).toBe(1);
  });

  it("bounds the keys it keeps when requests bring unbounded agent ids, and still adds up", () => {
    const maxKeys = 50;
    const n = 2 * maxKeys + 7;
    const line = (i: number) => jcs({ type: "decision", ts: "2026-11-20T00:00:00.000Z", agent: { id: `bot-${i}` }, tool: `t${i}`, action: "a", decision: "deny", enforced: true, rule: "default", shadow: [{ rule: "r", effect: "deny" }] });
    const big = summarizeLog((function* () { for (let i = 0; i < n; i++) yield line(i); })(), { top: 3, maxKeys });
    expect(big.decisions.total).toBe(n);
    expect(big.denials.byAgent.rows).toHaveLength(3);
    expect(big.denials.byAgent.rows.reduce((sum, r) => sum + r.count, 0) + big.denials.byAgent.otherCount).toBe(n);
    expect(big.denials.byAgent.otherKeys).toBeGreaterThan(0);
    expect(big.shadow.rules.rows).toEqual([expect.objectContaining({ rule: "r", wouldDeny: n })]);
  });

  it("treats a log of nothing but junk as an empty report", () => {
    const empty = summarizeLog(["", "null", "{\"type\":1}", "\u0000"]);
    expect(empty.decisions.total).toBe(0);
    expect(empty.lines.unparsable).toBe(4);
    expect(renderMarkdown(empty)).toContain("0 decisions.");
  });
});

describe("renderMarkdown", () => {
  const { lines, records } = buildLog(scenario());
  const summary = summarizeLog(lines);
  const markdown = renderMarkdown(summary);

  it("prints the computed numbers in every section", () => {
    const want = expected(records);
    expect(markdown).toContain(`${want.total} decisions, `);
    expect(markdown).toContain(`| \`deny\` | ${want.byDecision.deny} | `);
    for (const title of ["## Overview", "## Shadow rollout", "### Would-deny by agent", "## Blocked egress", "## Approvals requested", "## Denials", "## Redactions", "## Request errors"]) {
      expect(markdown).toContain(title);
    }
    const noisy = summary.shadow.rules.rows[0];
    // 6 would-denies over the 50 erp/issue_po decisions: 12.0%.
    expect(markdown).toContain(`| \`po-amount-shadow\` | ${noisy.wouldDeny} | ${noisy.newlyBlocked} | ${noisy.evaluations} (est.) | 12.0% | **review** |`);
    expect(markdown).toMatch(/\| `payee-shadow-check` \| 3 \| 3 \| \d+ \(est\.\) \| 2\.\d% \|  \|/);
    expect(markdown).toContain(`| \`evil.example.com\` | 3 |`);
  });

  it("keeps hostile log strings inside code spans, on one table row", () => {
    // The pipe is escaped (one cell), the backticks get a longer fence, the HTML is code.
    expect(markdown).toContain("| `` <script>alert(1)</script>\\|`x` `` | 4 |");
    for (const row of markdown.split("\n").filter((l) => l.startsWith("| ") && l.includes("script"))) {
      expect(row.replace(/\\\|/g, "").split("|").length).toBe(4);
    }
    const weird = summarizeLog(buildLog([{ day: 0, agent: "a\nb\u2028c", tool: "t", action: "a", decision: "deny", rule: "r" }]).lines);
    expect(renderMarkdown(weird)).toContain("| `a\\u000ab\\u2028c` | 1 |");
  });
});

describe("renderHtml", () => {
  const { lines } = buildLog(scenario());
  const summary: Summary = summarizeLog(lines);
  const html = renderHtml(summary);

  it("is one self-contained page with inline SVG charts and no scripts", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).not.toMatch(/<script/i);
    // No element loads anything (the hostile `<img src=x>` below is escaped text, not a tag).
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|image|use)\b/i);
    expect(html).not.toMatch(/<[^>]*\s(src|href|xlink:href)=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(4);
    // The rate chart marks the 5% target and colours the flagged rule.
    expect(html).toContain("5.0% target");
    expect(html).toMatch(/<rect [^>]*class="bar flagged"><title>po-amount-shadow: 12\.0%<\/title>/);
  });

  it("escapes every log-provided string", () => {
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;.example");
    expect(html).toContain("&lt;b&gt;bad&lt;/b&gt;");
    expect(html).not.toContain("<b>bad</b>");
  });

  it("shows the same numbers as the summary", () => {
    const noisy = summary.shadow.rules.rows[0];
    expect(html).toContain(`<tr><td><code>po-amount-shadow</code></td><td class="num">${noisy.wouldDeny}</td><td class="num">${noisy.newlyBlocked}</td><td class="num">${noisy.evaluations} (est.)</td><td class="num">12.0%</td><td><strong>review</strong></td></tr>`);
    expect(html).toContain(`<td><code>bad_json</code></td><td class="num">2</td>`);
  });
});
