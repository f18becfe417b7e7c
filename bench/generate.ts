// Benchmark workloads: synthetic policy sets of N rules (Aegis YAML, CEL expressions for cel-js,
// Cedar policies for cedar-wasm) that express the same procurement rules, and the requests that
// hit them. Deterministic: the same N gives the same text.

export interface SyntheticRule { id: string; agent: string; tool: string; action: string; limit: number; currencies: string[] }

/** N rules over N/4 tools and 50 agents: each rule allows one (agent, tool, action) up to a limit. */
export function syntheticRules(n: number): SyntheticRule[] {
  const rules: SyntheticRule[] = [];
  for (let i = 0; i < n; i++) {
    rules.push({
      id: `r${i}`,
      agent: `agent-${i % 50}`,
      tool: `tool-${Math.floor(i / 4)}`,
      action: ["create", "update", "read", "pay"][i % 4],
      limit: 1000 + (i % 17) * 500,
      currencies: i % 3 === 0 ? ["USD", "EUR"] : ["USD", "EUR", "GBP"],
    });
  }
  return rules;
}

/**
 * The rules as Aegis policy files of at most 1,000 rules each (one file stays well under the
 * compiler's 1 MiB per-file limit), plus two rules in the first file that apply to every call.
 */
export function aegisSources(rules: SyntheticRule[]): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  for (let start = 0; start < rules.length; start += 1000) {
    const part = rules.slice(start, start + 1000);
    const n = files.length;
    const lines = ["aegis: 1", `policy: synthetic-${rules.length}-${n}`, 'version: "bench-1"', "default: deny", "rules:"];
    for (const r of part) {
      lines.push(
        `  - id: ${r.id}`, "    effect: allow", `    agent: ${r.agent}`, `    tool: ${r.tool}`, `    action: ${r.action}`,
        `    when: params.amount <= ${r.limit} && params.currency in [${r.currencies.map((c) => `"${c}"`).join(", ")}]`,
      );
    }
    if (n === 0) {
      lines.push(
        "  - id: global-ceiling", "    effect: deny", "    when: params.amount > 250000",
        "  - id: global-approval", "    effect: approval_needed", "    when: params.amount > 5000",
      );
    }
    files.push({ path: `synthetic-${n}.yaml`, text: lines.join("\n") + "\n" });
  }
  return files;
}

/** The same rules as CEL expressions with the selectors folded in, as a cel-js user writes them. */
export function celRules(rules: SyntheticRule[]): { id: string; effect: string; expr: string }[] {
  return [
    ...rules.map((r) => ({
      id: r.id, effect: "allow",
      expr: `agent.id == "${r.agent}" && tool == "${r.tool}" && action == "${r.action}" && params.amount <= ${r.limit}.0 && params.currency in [${r.currencies.map((c) => `"${c}"`).join(", ")}]`,
    })),
    { id: "global-ceiling", effect: "deny", expr: "params.amount > 250000.0" },
    { id: "global-approval", effect: "approval_needed", expr: "params.amount > 5000.0" },
  ];
}

export function cedarPolicies(rules: SyntheticRule[]): string {
  const out: string[] = [];
  for (const r of rules) {
    out.push(`@id("${r.id}")\npermit(principal == Agent::"${r.agent}", action == Action::"${r.action}", resource == Tool::"${r.tool}") when { context.amount <= ${r.limit} && [${r.currencies.map((c) => `"${c}"`).join(", ")}].contains(context.currency) };`);
  }
  out.push(`@id("global-ceiling")\nforbid(principal, action, resource) when { context.amount > 250000 };`);
  return out.join("\n");
}

/** A request that one rule of the set allows (the middle one, so nothing is found by luck first). */
export function syntheticRequest(rules: SyntheticRule[]): { agent: { id: string }; tool: string; action: string; params: { amount: number; currency: string; note: string } } {
  const r = rules[Math.floor(rules.length / 2)];
  return { agent: { id: r.agent }, tool: r.tool, action: r.action, params: { amount: Math.min(r.limit, 900), currency: "USD", note: "restock" } };
}
