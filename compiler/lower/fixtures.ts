// Test support: build CheckedBundle values by hand (without the YAML front end), with real spans
// into a synthetic source text so debug positions can be asserted. Input: small rule
// descriptions; output: CheckedBundle objects for lower/emit/engine tests.
import type { CheckedBundle, Expr, Rule, PolicyInfo, Span, Effect, Mode, BinaryOp, FnName, VarName } from "../ast.ts";

/** Builds expressions whose spans point at `line` of file `file` (1-based col = start + 1). */
export class ExprBuilder {
  constructor(readonly file = "policy.yaml", private pos = 0) {}
  /** A span at absolute offset `start` in the synthetic source. */
  at(start: number): Span { return { file: this.file, start, end: start + 1 }; }
  private s(): Span { return this.at(this.pos); }
  null(): Expr { return { kind: "null", span: this.s() }; }
  bool(value: boolean): Expr { return { kind: "bool", value, span: this.s() }; }
  int(value: bigint | number): Expr { return { kind: "int", value: BigInt(value), span: this.s() }; }
  double(value: number): Expr { return { kind: "double", value, span: this.s() }; }
  str(value: string): Expr { return { kind: "string", value, span: this.s() }; }
  list(...elements: Expr[]): Expr { return { kind: "list", elements, span: this.s() }; }
  v(name: VarName): Expr { return { kind: "var", name, span: this.s() }; }
  /** `params.a.b` style path from a variable. */
  path(p: string, at?: number): Expr {
    const [head, ...rest] = p.split(".");
    let e: Expr = this.v(head as VarName);
    for (const f of rest) e = { kind: "select", operand: e, field: f, span: at === undefined ? this.s() : this.at(at) };
    return e;
  }
  select(operand: Expr, field: string, at?: number): Expr { return { kind: "select", operand, field, span: at === undefined ? this.s() : this.at(at) }; }
  index(operand: Expr, index: Expr): Expr { return { kind: "index", operand, index, span: this.s() }; }
  has(operand: Expr, field: string): Expr { return { kind: "has", operand, field, span: this.s() }; }
  not(operand: Expr): Expr { return { kind: "not", operand, span: this.s() }; }
  neg(operand: Expr): Expr { return { kind: "neg", operand, span: this.s() }; }
  bin(op: BinaryOp, left: Expr, right: Expr, at?: number): Expr { return { kind: "binary", op, left, right, span: at === undefined ? this.s() : this.at(at) }; }
  and(left: Expr, right: Expr): Expr { return { kind: "and", left, right, span: this.s() }; }
  or(left: Expr, right: Expr): Expr { return { kind: "or", left, right, span: this.s() }; }
  cond(test: Expr, then: Expr, otherwise: Expr): Expr { return { kind: "cond", test, then, else: otherwise, span: this.s() }; }
  call(fn: FnName, ...args: Expr[]): Expr { return { kind: "call", fn, args, span: this.s() }; }
  matches(s: Expr, pattern: string): Expr { return { kind: "call", fn: "matches", args: [s], pattern, span: this.s() }; }
}

export interface RuleSpec {
  id: string; effect?: Effect; mode?: Mode; policy?: number;
  agents?: string[] | null; tools?: string[] | null; actions?: string[] | null;
  when?: Expr | null; reason?: string; redact?: string[][];
}

export interface PolicySpec { name?: string; version?: string; mode?: Mode; default?: "allow" | "deny"; agentModes?: Record<string, Mode> }

/** A synthetic source text of `lines` lines of 80 spaces, so spans map to predictable line:col. */
export function syntheticSource(file = "policy.yaml", lines = 50): { path: string; text: string } {
  return { path: file, text: (" ".repeat(80) + "\n").repeat(lines) };
}

/** Offset of 1-based (line, col) in `syntheticSource`. */
export function offsetOf(line: number, col: number): number {
  return (line - 1) * 81 + (col - 1);
}

/** A CheckedBundle with one synthetic source file. */
export function makeBundle(opts: {
  policies?: PolicySpec[];
  rules: RuleSpec[];
  egress?: { mode?: Mode; policy?: number; hosts: string[] } | null;
  dlp?: { name: string; pattern: string; policy?: number; mode?: Mode }[];
  file?: string;
}): CheckedBundle {
  const file = opts.file ?? "policy.yaml";
  const span: Span = { file, start: 0, end: 1 };
  const policies: PolicyInfo[] = (opts.policies ?? [{}]).map((p, i) => ({
    name: p.name ?? `policy${i}`, version: p.version ?? "1", file, mode: p.mode ?? "enforce",
    default: p.default ?? "deny", agentModes: p.agentModes ?? {}, span,
  }));
  const rules: Rule[] = opts.rules.map((r, i) => ({
    id: r.id, effect: r.effect ?? "allow", mode: r.mode ?? "enforce", policy: r.policy ?? 0,
    agents: r.agents ?? null, tools: r.tools ?? null, actions: r.actions ?? null,
    when: r.when ?? null, reason: r.reason ?? "", redact: r.redact ?? [],
    span: { file, start: offsetOf(i + 1, 1), end: offsetOf(i + 1, 2) },
  }));
  return {
    sources: [syntheticSource(file)],
    policies,
    rules,
    egress: opts.egress ? {
      mode: opts.egress.mode ?? "enforce", policy: opts.egress.policy ?? 0,
      entries: opts.egress.hosts.map((h) => ({ host: h.replace(/^\*\./, ""), wildcard: h.startsWith("*."), policy: opts.egress!.policy ?? 0, span })),
    } : null,
    dlp: (opts.dlp ?? []).map((d) => ({ name: d.name, pattern: d.pattern, policy: d.policy ?? 0, mode: d.mode ?? "enforce", span })),
  };
}
