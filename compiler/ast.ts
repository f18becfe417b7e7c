// The checked policy model: what the front end (parse -> check) produces and what the back end
// (lower -> emit) and the reference interpreter consume. Positions are offsets into the source
// text (JS string indices), kept on every node so any later stage can point back into the file.

/** A range in one source file; `start`/`end` are offsets into that file's text. */
export interface Span { file: string; start: number; end: number }

export interface Source { path: string; text: string }

export type Mode = "enforce" | "shadow";
export type Effect = "allow" | "sanitize" | "approval_needed" | "deny";
export type VarName = "agent" | "tool" | "action" | "params" | "context";

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in";

/** Canonical function names after checking (receiver-style calls are normalised to these). */
export type FnName =
  | "size" | "startsWith" | "endsWith" | "contains" | "matches" | "lowerAscii"
  | "isIBAN" | "isLuhn" | "isURL" | "url.getHost" | "url.getScheme" | "url.getPort"
  | "isIP" | "cidr.containsIP" | "int" | "double" | "string";

export type Expr =
  | { kind: "null"; span: Span }
  | { kind: "bool"; value: boolean; span: Span }
  | { kind: "int"; value: bigint; span: Span }
  | { kind: "double"; value: number; span: Span }
  | { kind: "string"; value: string; span: Span }
  | { kind: "list"; elements: Expr[]; span: Span }
  | { kind: "var"; name: VarName; span: Span }
  /** `operand.field` or `operand["field"]` with a literal string key. */
  | { kind: "select"; operand: Expr; field: string; span: Span }
  /** `operand[index]` with a computed index. */
  | { kind: "index"; operand: Expr; index: Expr; span: Span }
  | { kind: "has"; operand: Expr; field: string; span: Span }
  | { kind: "not"; operand: Expr; span: Span }
  | { kind: "neg"; operand: Expr; span: Span }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr; span: Span }
  | { kind: "and"; left: Expr; right: Expr; span: Span }
  | { kind: "or"; left: Expr; right: Expr; span: Span }
  | { kind: "cond"; test: Expr; then: Expr; else: Expr; span: Span }
  /**
   * A call. Arguments in canonical order: for receiver calls the receiver is args[0]
   * (`s.startsWith(p)` -> args [s, p]; `url(u).getHost()` -> fn "url.getHost", args [u];
   * `cidr(c).containsIP(ip)` -> fn "cidr.containsIP", args [c, ip]).
   * For "matches", `pattern` holds the literal RE2 pattern and args is [s].
   */
  | { kind: "call"; fn: FnName; args: Expr[]; pattern?: string; span: Span };

export interface PolicyInfo {
  name: string;
  version: string;
  file: string;
  mode: Mode;
  default: "allow" | "deny";
  /** Per-agent modes declared in the agent-centric form (`agents[].mode`). */
  agentModes: Record<string, Mode>;
  span: Span;
}

export interface Rule {
  /** Unique across the bundle. User ids match [A-Za-z0-9_.-]+ and are not `default`, `egress`;
   *  ids the compiler makes for the agent-centric form contain `:` (see docs/policy-language.md). */
  id: string;
  effect: Effect;
  mode: Mode;
  /** Index into CheckedBundle.policies. */
  policy: number;
  /** null = any. */
  agents: string[] | null;
  tools: string[] | null;
  actions: string[] | null;
  /** The rule's condition; null means always true. A list of expressions is joined with `&&`. */
  when: Expr | null;
  reason: string;
  /** Paths below `params`, as key segments: `params.a.b` -> ["a", "b"]. Only for sanitize rules. */
  redact: string[][];
  span: Span;
}

export interface EgressEntry { host: string; wildcard: boolean; policy: number; span: Span }

export interface DlpPattern { name: string; pattern: string; policy: number; mode: Mode; span: Span }

/** The output of checking: every policy file of one bundle, desugared into rules. */
export interface CheckedBundle {
  sources: Source[];
  policies: PolicyInfo[];
  rules: Rule[];
  /** United allowlist of every policy; null when no policy has an egress section. */
  egress: { mode: Mode; policy: number; entries: EgressEntry[] } | null;
  dlp: DlpPattern[];
}
