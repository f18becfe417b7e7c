// `npm start`: the Aegis demo. Compiles policies/procurement.yaml and policies/retail.yaml in memory
// into one bundle signed with a key made at start, loads it with the public key (and shows that a
// wrong key is refused), runs a seeded procurement and retail agent workload through the Node
// binding, prints the interesting decisions with their reasons, then a summary: decisions per kind
// and per agent, shadow would-blocks, and evaluate() latency percentiles in microseconds. Every
// workload decision goes to a signed audit log in .demo/audit (docs/telemetry.md); the demo ends by
// verifying that log with `aegis audit verify`, printing `aegis report` (HTML in .demo/report.html),
// and showing that a hand-edited copy of the log fails verification at the edited line.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../compiler/index.ts";
import { Aegis } from "../bindings/node/index.ts";
import { generateKeyPairRaw } from "../cli/keys.ts";
import { generateKeyPair } from "../telemetry/keys.ts";
import { main as cli } from "../cli/main.ts";
import type { CliIO } from "../cli/io.ts";
import { generateWorkload, type DemoCall } from "./workload.ts";

const SEED = 20261121;
const CALLS_PER_WORKFLOW = 200;
/** Routine calls printed per scenario; attacks get this many more. The rest are only counted. */
const SHOWN_PER_SCENARIO = 1;
const SHOWN_PER_ATTACK = 2;
/** Extra timing passes over the workload, so the percentiles rest on more than one sample each. */
const TIMING_PASSES = 20;

interface DecisionView {
  decision: string;
  enforced: boolean;
  rule: string;
  reason: string;
  shadow?: { rule: string; effect: string }[];
  redactions?: { path: string; by: string }[];
  params?: unknown;
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const useColor = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint = (code: string, text: string): string => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const DECISION_COLOR: Record<string, string> = { allow: "32", sanitize: "36", approval_needed: "33", deny: "31", error: "35" };
const out = (line = ""): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const sources = ["policies/procurement.yaml", "policies/retail.yaml"].map((path) => ({ path, text: readFileSync(join(root, path), "utf8") }));
  const { seed, publicKey } = generateKeyPairRaw();
  const bundle = compile(sources, { privateKey: seed });
  // The audit log: its own signing key (a log key is not a bundle key), its files under .demo/.
  const demoDir = join(root, ".demo");
  const auditDir = join(demoDir, "audit");
  rmSync(demoDir, { recursive: true, force: true });
  mkdirSync(demoDir, { recursive: true });
  const logKey = generateKeyPair("pem");
  writeFileSync(join(demoDir, "audit.key"), logKey.privateText, { mode: 0o600 });
  writeFileSync(join(demoDir, "audit.pub"), logKey.publicText);
  const aegis = await Aegis.load(bundle, { publicKey, audit: { dir: auditDir, key: logKey.seed, checkpointEvery: 100 } });
  // Timing passes run on a second instance without a log, so the log holds each call once.
  const timing = await Aegis.load(bundle, { publicKey });

  out(paint("1", "Aegis demo: procurement and retail agents behind one signed policy bundle"));
  out(`bundle   ${bundle.length} bytes from ${sources.map((s) => relative(root, join(root, s.path))).join(" + ")}, ${aegis.digest}`);
  out(`signing  ed25519 key generated for this run; bundle loaded with its public key`);
  const other = generateKeyPairRaw();
  try {
    await Aegis.load(bundle, { publicKey: other.publicKey });
    out(paint("31", "signing  UNEXPECTED: the bundle loaded with an unrelated public key"));
    process.exitCode = 1;
  } catch (e) {
    out(`signing  same bundle with an unrelated public key: refused (${(e as { code?: string }).code ?? (e as Error).message})`);
  }

  const calls = generateWorkload(SEED, CALLS_PER_WORKFLOW);
  const shownPerScenario = new Map<string, number>();
  const byDecision = new Map<string, number>();
  const byAgent = new Map<string, Map<string, number>>();
  const shadowHits = new Map<string, number>();
  const mismatches: string[] = [];
  const latenciesNs: bigint[] = [];
  let hidden = 0;
  let workflow = "";

  for (const [index, call] of calls.entries()) {
    if (call.workflow !== workflow) {
      workflow = call.workflow;
      out();
      out(paint("1", `-- ${workflow} workflow ${"-".repeat(70 - workflow.length)}`));
    }
    const { view, error, ns } = timedEvaluate(aegis, call);
    latenciesNs.push(ns);
    const decision = view === null ? "error" : view.decision;
    byDecision.set(decision, (byDecision.get(decision) ?? 0) + 1);
    const agentCounts = byAgent.get(call.agent) ?? new Map<string, number>();
    agentCounts.set(decision, (agentCounts.get(decision) ?? 0) + 1);
    byAgent.set(call.agent, agentCounts);
    for (const s of view?.shadow ?? []) shadowHits.set(s.rule, (shadowHits.get(s.rule) ?? 0) + 1);

    const unexpected = decision !== call.expect;
    if (unexpected) mismatches.push(`#${index + 1} ${call.scenario}: expected ${call.expect}, got ${decision}`);
    const scenarioKey = `${call.workflow}/${call.scenario}`;
    const shown = shownPerScenario.get(scenarioKey) ?? 0;
    const limit = call.attack ? SHOWN_PER_ATTACK : SHOWN_PER_SCENARIO;
    if (shown < limit || unexpected) {
      shownPerScenario.set(scenarioKey, shown + 1);
      out(describeCall(index, call, decision, view ?? error!, unexpected));
    } else {
      hidden++;
    }
  }

  // Timing passes: the same calls again, nothing printed, so the percentiles rest on many samples.
  for (let pass = 0; pass < TIMING_PASSES; pass++) {
    for (const call of calls) latenciesNs.push(timedEvaluate(timing, call).ns);
  }
  aegis.close();

  out();
  out(`${calls.length} calls evaluated; ${calls.length - hidden} shown above, ${hidden} repeats of a scenario only counted`);
  printSummary(byDecision, byAgent, shadowHits, latenciesNs, calls.length);
  if (mismatches.length > 0) {
    out(paint("31", `${mismatches.length} decisions differ from what the workload expected:`));
    for (const m of mismatches) out(`  ${m}`);
    process.exitCode = 1;
  } else {
    out(`every decision matched the workload's expectation`);
  }
  await auditSection(demoDir, auditDir, sources.map((s) => join(root, s.path)));
  out(`done in ${Number((process.hrtime.bigint() - started) / 1_000_000n)} ms`);
}

function timedEvaluate(aegis: Aegis, call: DemoCall): { view: DecisionView | null; error?: string; ns: bigint } {
  const t0 = process.hrtime.bigint();
  try {
    const decision = aegis.evaluate(call.request as object | string);
    const ns = process.hrtime.bigint() - t0;
    return { view: decision as unknown as DecisionView, ns };
  } catch (e) {
    const ns = process.hrtime.bigint() - t0;
    if (typeof (e as { code?: unknown }).code !== "string") throw e;
    return { view: null, error: `${(e as { code: string }).code}: ${(e as Error).message}`, ns };
  }
}

function describeCall(index: number, call: DemoCall, decision: string, view: DecisionView | string, unexpected: boolean): string {
  const request = typeof call.request === "string" ? null : call.request;
  const target = request ? `${request.tool}.${request.action}` : "(raw JSON)";
  const label = paint(DECISION_COLOR[decision] ?? "0", (decision === "approval_needed" ? "APPROVAL" : decision.toUpperCase()).padEnd(8));
  let detail: string;
  if (typeof view === "string") {
    detail = `request rejected before evaluation: ${view}`;
  } else {
    detail = `${view.rule}: ${view.reason}`;
    if (view.redactions && view.redactions.length > 0) {
      detail += ` [${view.redactions.map((r) => `${r.path} by ${r.by}`).join(", ")}] tool gets ${JSON.stringify(view.params)}`;
    }
    if (view.shadow && view.shadow.length > 0) detail += ` [shadow would ${view.shadow.map((s) => `${s.effect} by ${s.rule}`).join(", ")}]`;
  }
  const flag = unexpected ? paint("31", ` (expected ${call.expect})`) : "";
  return `#${String(index + 1).padStart(3, "0")} ${call.agent.padEnd(15)} ${target.padEnd(35)} ${label} ${call.attack ? "! " : "  "}${call.scenario} -> ${detail}${flag}`;
}

function printSummary(
  byDecision: Map<string, number>,
  byAgent: Map<string, Map<string, number>>,
  shadowHits: Map<string, number>,
  latenciesNs: bigint[],
  total: number,
): void {
  const kinds = ["allow", "sanitize", "approval_needed", "deny", "error"];
  out();
  out(paint("1", "-- summary " + "-".repeat(70)));
  out(`${"decision".padEnd(17)}${"count".padStart(7)}${"share".padStart(8)}`);
  for (const kind of kinds) {
    const n = byDecision.get(kind) ?? 0;
    out(`${kind.padEnd(17)}${String(n).padStart(7)}${`${((100 * n) / total).toFixed(1)}%`.padStart(8)}`);
  }
  out();
  out(`${"agent".padEnd(17)}${kinds.map((k) => (k === "approval_needed" ? "approval" : k).padStart(10)).join("")}`);
  for (const agent of [...byAgent.keys()].sort()) {
    const counts = byAgent.get(agent)!;
    out(`${agent.padEnd(17)}${kinds.map((k) => String(counts.get(k) ?? 0).padStart(10)).join("")}`);
  }
  out();
  const shadow = [...shadowHits.entries()].map(([rule, n]) => `${rule} ${n}`).join(", ");
  out(`shadow-mode would-blocks (not enforced): ${shadow || "none"}`);
  const sorted = [...latenciesNs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const at = (q: number): string => (Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) / 1000).toFixed(1);
  out(`evaluate() latency over ${sorted.length} calls (us): p50 ${at(0.5)}  p90 ${at(0.9)}  p99 ${at(0.99)}  max ${(Number(sorted[sorted.length - 1]) / 1000).toFixed(1)}`);
}

/** Run an `aegis` command in-process; its stdout is printed indented, the exit code returned. */
async function aegisCommand(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const io: CliIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void process.stderr.write(text),
    readStdin: async () => new Uint8Array(),
    cwd: root,
  };
  const code = await cli(argv, io);
  return { code, stdout };
}

async function auditSection(demoDir: string, auditDir: string, policyFiles: string[]): Promise<void> {
  const rel = (p: string): string => relative(root, p);
  out();
  out(paint("1", "-- audit log " + "-".repeat(68)));
  const verify = await aegisCommand(["audit", "verify", rel(auditDir), "--key", rel(join(demoDir, "audit.pub"))]);
  out(`$ aegis audit verify ${rel(auditDir)} --key ${rel(join(demoDir, "audit.pub"))}   (exit ${verify.code})`);
  for (const line of verify.stdout.trimEnd().split("\n")) out(`  ${line}`);
  if (verify.code !== 0) process.exitCode = 1;

  const report = await aegisCommand(["report", rel(auditDir), ...policyFiles.flatMap((f) => ["--policy", rel(f)]), "--html", rel(join(demoDir, "report.html")), "--top", "5"]);
  out();
  out(`$ aegis report ${rel(auditDir)} --policy ... --html ${rel(join(demoDir, "report.html"))}   (exit ${report.code})`);
  // The shadow rollout is the part of the report this demo is about; the rest is in the page.
  const sections = report.stdout.split(/\n(?=## )/);
  const shadow = sections.find((x) => x.startsWith("## Shadow rollout"));
  out((shadow ?? report.stdout).trimEnd());
  out();
  out(`full report (overview, egress, approvals, denials, redactions, errors): ${rel(join(demoDir, "report.html"))} or \`npx aegis report ${rel(auditDir)}\``);
  if (report.code !== 0) process.exitCode = 1;

  // Tamper with a copy: turn the first deny into an allow, as someone covering their tracks would.
  const tamperedDir = join(demoDir, "audit-tampered");
  mkdirSync(tamperedDir, { recursive: true });
  for (const name of readdirSync(auditDir)) copyFileSync(join(auditDir, name), join(tamperedDir, name));
  const segment = readdirSync(tamperedDir).filter((n) => n.endsWith(".jsonl")).sort()[0];
  const lines = readFileSync(join(tamperedDir, segment), "utf8").split("\n");
  const victim = lines.findIndex((l) => l.includes('"decision":"deny"'));
  if (victim < 0) return;
  lines[victim] = lines[victim].replace('"decision":"deny"', '"decision":"allow"');
  writeFileSync(join(tamperedDir, segment), lines.join("\n"));
  const tampered = await aegisCommand(["audit", "verify", rel(tamperedDir), "--key", rel(join(demoDir, "audit.pub"))]);
  out();
  out(`edited ${rel(join(tamperedDir, segment))} line ${victim + 1} (deny -> allow); verifying the copy:`);
  out(`$ aegis audit verify ${rel(tamperedDir)} --key ${rel(join(demoDir, "audit.pub"))}   (exit ${tampered.code})`);
  for (const line of tampered.stdout.trimEnd().split("\n")) out(`  ${line}`);
  if (tampered.code !== 1) {
    out(paint("31", "UNEXPECTED: the edited log was not reported as tampered"));
    process.exitCode = 1;
  }
}

await main();
