// Stage check: policy sources -> CheckedBundle (compiler/ast.ts). Walks the YAML tree of each file
// (parse-yaml), validates every key and value against the policy language
// (docs/policy-language.md), parses and type-checks every expression (parse-expr, check/expr.ts),
// desugars the agent-centric `agents:` form into rules in place, and unites egress allowlists and
// DLP patterns across files. Reports every error it finds, each with a file position; the bundle
// is null whenever there is at least one error.
import type {
  CheckedBundle, DlpPattern, EgressEntry, Effect, Expr, Mode, PolicyInfo, Rule, Source, Span,
} from "../ast.ts";
import { PolicyError, lineColOf, sortPolicyErrors } from "../errors.ts";
import { parseExpression } from "../parse/expr.ts";
import type { RawExpr } from "../parse/expr.ts";
import { parsePolicyYaml, scalarOffsetMap, scalarText } from "../parse/yaml.ts";
import type { YEntry, YMap, YNode, YScalar } from "../parse/yaml.ts";
import { parseRegex } from "../regex/parse.ts";
import { aTypeName, checkExpression, maybeBool } from "./expr.ts";
import type { StaticType } from "./expr.ts";
import { didYouMean } from "./hints.ts";
import { domainToASCII } from "./domain.ts";

export { checkExpression, checkExpressionSource } from "./expr.ts";

/** The only language version this compiler reads (`aegis: 1`). */
export const LANGUAGE_VERSION = 1;
/** What user-written rule ids, policy names and DLP names look like. */
const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
/** Ids the decision format reserves for pseudo-rules. */
const RESERVED_RULE_IDS = new Set(["default", "egress"]);

const TOP_KEYS = ["aegis", "policy", "version", "mode", "default", "description", "agents", "rules", "egress", "dlp"];
const RULE_KEYS = ["id", "effect", "agent", "tool", "action", "when", "reason", "mode", "redact", "description"];
const AGENT_KEYS = ["agent", "mode", "description", "allowed_tools"];
const TOOL_KEYS = ["name", "actions", "conditions", "approval_needed_if", "redact", "mode", "reason", "description"];
const EGRESS_KEYS = ["allow_domains"];
const DLP_KEYS = ["name", "pattern", "mode", "description"];
const EFFECTS: Effect[] = ["allow", "deny", "approval_needed", "sanitize"];
const MODES: Mode[] = ["enforce", "shadow"];

/** Checks every source and builds the bundle; `bundle` is null when `errors` is non-empty. */
export function checkSources(sources: Source[]): { bundle: CheckedBundle | null; errors: PolicyError[] } {
  const state = new BundleState();
  if (sources.length === 0) {
    state.errors.push(new PolicyError("<input>", null, 0, 0, "no policy files given"));
  }
  const seenPaths = new Set<string>();
  for (const source of sources) {
    if (seenPaths.has(source.path)) {
      state.errors.push(new PolicyError(source.path, source.text, 0, 0, `file \`${source.path}\` is given more than once`));
      continue;
    }
    seenPaths.add(source.path);
    new FileChecker(state, source).check();
  }
  const errors = sortPolicyErrors(state.errors, sources);
  if (errors.length > 0) return { bundle: null, errors };
  return {
    bundle: {
      sources,
      policies: state.policies,
      rules: state.rules,
      egress: state.egress(),
      dlp: state.dlp,
    },
    errors: [],
  };
}

/** Where something was first defined, for "duplicate" messages. */
interface Origin { file: string; line: number; col: number }

/** What all files of one bundle share while they are checked. */
class BundleState {
  errors: PolicyError[] = [];
  policies: PolicyInfo[] = [];
  rules: Rule[] = [];
  dlp: DlpPattern[] = [];
  egressDecls: { policy: number; mode: Mode; entries: EgressEntry[] }[] = [];
  ruleIds = new Map<string, Origin>();
  policyNames = new Map<string, Origin>();
  dlpNames = new Map<string, Origin>();

  egress(): CheckedBundle["egress"] {
    if (this.egressDecls.length === 0) return null;
    const enforcing = this.egressDecls.find((d) => d.mode === "enforce");
    const seen = new Set<string>();
    const entries: EgressEntry[] = [];
    for (const decl of this.egressDecls) {
      for (const e of decl.entries) {
        const key = `${e.wildcard ? "*." : ""}${e.host}`;
        if (seen.has(key)) continue;
        seen.add(key);
        entries.push(e);
      }
    }
    return {
      mode: enforcing !== undefined ? "enforce" : "shadow",
      policy: (enforcing ?? this.egressDecls[0]).policy,
      entries,
    };
  }
}

/** A `when`-style expression after checking, with the text it was written as. */
interface CheckedCondition { expr: Expr; text: string; scalar: YScalar }

/** Checks one policy file, adding its policy, rules, egress and DLP entries to the bundle state. */
class FileChecker {
  private file: string;
  private text: string;
  private policyIndex = -1;
  private policyMode: Mode = "enforce";

  constructor(private state: BundleState, source: Source) {
    this.file = source.path;
    this.text = source.text;
  }

  // -------------------------------------------------------------------------------------------
  // Reporting and small readers

  private error(offset: number, end: number, message: string): null {
    this.state.errors.push(new PolicyError(this.file, this.text, offset, end, message));
    return null;
  }

  private errorAtNode(node: YNode, message: string): null {
    return this.error(node.start, node.end, message);
  }

  private origin(offset: number): Origin {
    const { line, col } = lineColOf(this.text, offset);
    return { file: this.file, line, col };
  }

  private span(start: number, end: number): Span {
    return { file: this.file, start, end };
  }

  private describe(node: YNode): string {
    if (node.kind === "map") return "a map";
    if (node.kind === "seq") return "a list";
    const v = node.value;
    if (v === null) return "nothing";
    if (typeof v === "string") return "a string";
    if (typeof v === "number") return "a number";
    return "a boolean";
  }

  private asMap(node: YNode, what: string): YMap | null {
    if (node.kind !== "map") return this.errorAtNode(node, `${what} must be a map, found ${this.describe(node)}`);
    return node;
  }

  /** The map's entries by key; reports unknown keys (with a hint) and returns only known ones. */
  private keys(map: YMap, allowed: string[], where: string): Map<string, YEntry> {
    const out = new Map<string, YEntry>();
    for (const entry of map.entries) {
      if (!allowed.includes(entry.key)) {
        this.error(entry.keyStart, entry.keyEnd, `unknown key \`${entry.key}\` in ${where}${didYouMean(entry.key, allowed)}`);
        continue;
      }
      out.set(entry.key, entry);
    }
    return out;
  }

  private missing(map: YMap, key: string, where: string): null {
    return this.error(map.start, map.start + 1, `${where} is missing the required key \`${key}\``);
  }

  /** A string value; numbers and booleans are errors (YAML reads `1.0` as a number). */
  private string(entry: YEntry, allowEmpty = false): string | null {
    const node = entry.value;
    if (node.kind !== "scalar" || typeof node.value !== "string") {
      return this.errorAtNode(node, `\`${entry.key}\` must be a string, found ${this.describe(node)}`);
    }
    if (!allowEmpty && node.value.trim() === "") return this.errorAtNode(node, `\`${entry.key}\` must not be empty`);
    return node.value;
  }

  private oneOf<T extends string>(entry: YEntry, values: readonly T[]): T | null {
    const node = entry.value;
    const list = values.map((v) => `\`${v}\``).join(", ").replace(/, ([^,]*)$/, " or $1");
    if (node.kind !== "scalar" || typeof node.value !== "string") {
      return this.errorAtNode(node, `\`${entry.key}\` must be ${list}, found ${this.describe(node)}`);
    }
    if (!(values as readonly string[]).includes(node.value)) {
      return this.errorAtNode(node, `\`${entry.key}\` must be ${list}, found \`${node.value}\`${didYouMean(node.value, values)}`);
    }
    return node.value as T;
  }

  private mode(entry: YEntry | undefined): Mode | null | undefined {
    return entry === undefined ? undefined : this.oneOf(entry, MODES);
  }

  /** A list of maps (or reports it), for `rules`, `agents`, `allowed_tools`, `dlp`. */
  private listOf(entry: YEntry): YNode[] | null {
    const node = entry.value;
    if (node.kind === "scalar" && node.value === null) return [];
    if (node.kind !== "seq") return this.errorAtNode(node, `\`${entry.key}\` must be a list, found ${this.describe(node)}`);
    return node.items;
  }

  /** A string or a list of strings; null on error. */
  private strings(entry: YEntry): { value: string; node: YScalar }[] | null {
    const node = entry.value;
    const items = node.kind === "seq" ? node.items : [node];
    if (node.kind === "seq" && items.length === 0) {
      return this.errorAtNode(node, `\`${entry.key}\` must not be an empty list`);
    }
    const out: { value: string; node: YScalar }[] = [];
    let ok = true;
    for (const item of items) {
      if (item.kind !== "scalar" || typeof item.value !== "string") {
        this.errorAtNode(item, `\`${entry.key}\` must be a string or a list of strings, found ${this.describe(item)}`);
        ok = false;
        continue;
      }
      if (item.value.trim() === "") {
        this.errorAtNode(item, `\`${entry.key}\` must not contain an empty string`);
        ok = false;
        continue;
      }
      out.push({ value: item.value, node: item });
    }
    return ok ? out : null;
  }

  /** An agent/tool/action selector: null = any (`*` or omitted); undefined on error. */
  private selector(entry: YEntry | undefined): string[] | null | undefined {
    if (entry === undefined) return null;
    const node = entry.value;
    if (node.kind === "scalar" && node.value === "*") return null;
    const items = this.strings(entry);
    if (items === null) return undefined;
    if (node.kind === "seq") {
      const star = items.find((i) => i.value === "*");
      if (star !== undefined) {
        this.errorAtNode(star.node, `\`*\` inside a list is not allowed in \`${entry.key}\`; write \`${entry.key}: "*"\` (or omit it) to match any`);
        return undefined;
      }
    }
    return [...new Set(items.map((i) => i.value))];
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  /** Parses and checks one expression scalar; `role` names it in messages (`when`, `conditions`). */
  private expression(node: YNode, role: string): CheckedCondition | null {
    if (node.kind !== "scalar") {
      return this.errorAtNode(node, `\`${role}\` must be an expression string, found ${this.describe(node)}`);
    }
    if (node.value === null) return this.errorAtNode(node, `\`${role}\` must not be empty`);
    const text = scalarText(node, this.text);
    const parsed = parseExpression(text, this.file, node.start, scalarOffsetMap(node, this.text), this.text);
    if (parsed.expr === null) {
      this.state.errors.push(...parsed.errors);
      return null;
    }
    const checked = checkExpression(parsed.expr, this.file, this.text);
    if (checked.expr === null) {
      this.state.errors.push(...checked.errors);
      return null;
    }
    if (!maybeBool(checked.type)) {
      return this.errorAtNode(node, `\`${role}\` must be a bool expression, but this is ${aTypeName(checked.type)}`);
    }
    return { expr: checked.expr, text: text.trim(), scalar: node };
  }

  /** `when`: one expression, or a list of them joined with `&&` from left to right. */
  private when(entry: YEntry): Expr | null | undefined {
    const node = entry.value;
    const items = node.kind === "seq" ? node.items : [node];
    if (items.length === 0) {
      this.errorAtNode(node, "`when` must not be an empty list; omit it for a rule that always applies");
      return undefined;
    }
    const checked = items.map((item) => this.expression(item, "when"));
    if (checked.some((c) => c === null)) return undefined;
    let joined: Expr | null = null;
    for (const c of checked as CheckedCondition[]) {
      joined = joined === null
        ? c.expr
        : { kind: "and", left: joined, right: c.expr, span: this.span(c.scalar.start, c.scalar.end) };
    }
    return joined;
  }

  /** A `redact` list: each path `params.a.b` / `params["x-y"].c` becomes its key segments. */
  private redactPaths(entry: YEntry): string[][] | null {
    const items = this.strings(entry);
    if (items === null) return null;
    const out: string[][] = [];
    let ok = true;
    for (const { value, node } of items) {
      const segments = this.redactPath(value, node);
      if (segments === null) ok = false;
      else out.push(segments);
    }
    return ok ? out : null;
  }

  private redactPath(value: string, node: YScalar): string[] | null {
    const bad = () =>
      this.errorAtNode(node, `redact path \`${value}\` must be a field path under \`params\`, like \`params.card.number\` or \`params["x-y"]\``);
    const parsed = parseExpression(value, this.file, node.start, scalarOffsetMap(node, this.text), this.text);
    if (parsed.expr === null) {
      this.state.errors.push(...parsed.errors);
      return null;
    }
    const segments: string[] = [];
    let e: RawExpr = parsed.expr;
    for (;;) {
      if (e.kind === "select") {
        segments.push(e.field);
        e = e.operand;
      } else if (e.kind === "index" && e.index.kind === "string") {
        segments.push(e.index.value);
        e = e.operand;
      } else {
        break;
      }
    }
    if (e.kind !== "ident" || e.name !== "params" || segments.length === 0) return bad();
    return segments.reverse();
  }

  // -------------------------------------------------------------------------------------------
  // Registration of bundle-wide names

  private registerRuleId(id: string, offset: number, end: number): boolean {
    const first = this.state.ruleIds.get(id);
    if (first !== undefined) {
      this.error(offset, end, `duplicate rule id \`${id}\` (first defined at ${first.file}:${first.line}:${first.col})`);
      return false;
    }
    this.state.ruleIds.set(id, this.origin(offset));
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // The file

  check(): void {
    const { root, errors } = parsePolicyYaml({ path: this.file, text: this.text });
    this.state.errors.push(...errors);
    if (errors.length > 0) return;
    if (root === null) {
      this.error(0, 0, "the policy file is empty; it needs at least `aegis`, `policy` and `version`");
      return;
    }
    const map = this.asMap(root, "a policy file");
    if (map === null) return;
    const keys = this.keys(map, TOP_KEYS, "the policy");

    const aegis = keys.get("aegis");
    if (aegis === undefined) this.missing(map, "aegis", "the policy");
    else if (aegis.value.kind !== "scalar" || aegis.value.value !== LANGUAGE_VERSION) {
      const shown = aegis.value.kind === "scalar" ? `\`${this.text.slice(aegis.value.start, aegis.value.end)}\`` : this.describe(aegis.value);
      this.errorAtNode(aegis.value, `unsupported language version ${shown}; this compiler reads \`aegis: ${LANGUAGE_VERSION}\``);
    }

    let name: string | null = null;
    const policyEntry = keys.get("policy");
    if (policyEntry === undefined) this.missing(map, "policy", "the policy");
    else {
      name = this.string(policyEntry);
      if (name !== null && !NAME_PATTERN.test(name)) {
        this.errorAtNode(policyEntry.value, `policy name \`${name}\` may only contain letters, digits, \`_\`, \`.\` and \`-\``);
        name = null;
      }
      if (name !== null) {
        const first = this.state.policyNames.get(name);
        if (first !== undefined) {
          this.errorAtNode(policyEntry.value, `duplicate policy name \`${name}\` (first defined at ${first.file}:${first.line}:${first.col})`);
        } else {
          this.state.policyNames.set(name, this.origin(policyEntry.value.start));
        }
      }
    }

    let version: string | null = null;
    const versionEntry = keys.get("version");
    if (versionEntry === undefined) this.missing(map, "version", "the policy");
    else {
      const v = versionEntry.value;
      if (v.kind === "scalar" && (typeof v.value === "number" || typeof v.value === "boolean")) {
        const src = this.text.slice(v.start, v.end);
        this.errorAtNode(v, `\`version\` must be a string; YAML reads \`${src}\` as a ${typeof v.value}, so quote it: \`version: "${src}"\``);
      } else {
        version = this.string(versionEntry);
      }
    }

    const modeEntry = keys.get("mode");
    const mode = this.mode(modeEntry) ?? "enforce";
    this.policyMode = mode;
    const defaultEntry = keys.get("default");
    const defaultEffect = defaultEntry === undefined ? "deny" : this.oneOf(defaultEntry, ["deny", "allow"] as const) ?? "deny";
    const description = keys.get("description");
    if (description !== undefined) this.string(description, true);

    const policy: PolicyInfo = {
      name: name ?? "",
      version: version ?? "",
      file: this.file,
      mode,
      default: defaultEffect,
      agentModes: {},
      span: this.span(policyEntry?.value.start ?? map.start, policyEntry?.value.end ?? map.start),
    };
    this.policyIndex = this.state.policies.length;
    this.state.policies.push(policy);

    // Sections in file order, so rules keep their order in the file whatever the key order.
    for (const entry of map.entries) {
      switch (entry.key) {
        case "agents": this.agents(entry, policy); break;
        case "rules": this.rules(entry); break;
        case "egress": this.egress(entry, mode); break;
        case "dlp": this.dlp(entry); break;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // rules:

  private rules(entry: YEntry): void {
    const items = this.listOf(entry);
    if (items === null) return;
    for (const item of items) {
      const map = this.asMap(item, "a rule");
      if (map !== null) this.rule(map);
    }
  }

  private rule(map: YMap): void {
    const keys = this.keys(map, RULE_KEYS, "a rule");
    let ok = true;

    let id: string | null = null;
    const idEntry = keys.get("id");
    if (idEntry === undefined) {
      this.missing(map, "id", "a rule");
      ok = false;
    } else {
      id = this.string(idEntry);
      const node = idEntry.value;
      if (id !== null && !NAME_PATTERN.test(id)) {
        this.errorAtNode(node, `rule id \`${id}\` may only contain letters, digits, \`_\`, \`.\` and \`-\``);
        id = null;
      } else if (id !== null && RESERVED_RULE_IDS.has(id)) {
        this.errorAtNode(node, `rule id \`${id}\` is reserved; choose another id`);
        id = null;
      } else if (id !== null && !this.registerRuleId(id, node.start, node.end)) {
        id = null;
      }
      if (id === null) ok = false;
    }

    let effect: Effect | null = null;
    const effectEntry = keys.get("effect");
    if (effectEntry === undefined) {
      this.missing(map, "effect", "a rule");
      ok = false;
    } else {
      effect = this.oneOf(effectEntry, EFFECTS);
      if (effect === null) ok = false;
    }

    const agents = this.selector(keys.get("agent"));
    const tools = this.selector(keys.get("tool"));
    const actions = this.selector(keys.get("action"));
    if (agents === undefined || tools === undefined || actions === undefined) ok = false;

    const whenEntry = keys.get("when");
    const when = whenEntry === undefined ? null : this.when(whenEntry);
    if (when === undefined) ok = false;

    let reason = "";
    const reasonEntry = keys.get("reason");
    if (reasonEntry !== undefined) {
      const r = this.string(reasonEntry);
      if (r === null) ok = false;
      else reason = r;
    }
    const ruleMode = this.mode(keys.get("mode"));
    if (ruleMode === null) ok = false;
    const description = keys.get("description");
    if (description !== undefined && this.string(description, true) === null) ok = false;

    let redact: string[][] = [];
    const redactEntry = keys.get("redact");
    if (redactEntry !== undefined) {
      const paths = this.redactPaths(redactEntry);
      if (paths === null) ok = false;
      else redact = paths;
      if (effect !== null && effect !== "sanitize") {
        this.error(redactEntry.keyStart, redactEntry.keyEnd, `\`redact\` is only allowed with \`effect: sanitize\`, not \`effect: ${effect}\``);
        ok = false;
      }
    } else if (effect === "sanitize") {
      this.error(effectEntry!.value.start, effectEntry!.value.end, "a `sanitize` rule needs a `redact` list of `params` paths to redact");
      ok = false;
    }

    if (!ok) return;
    this.state.rules.push({
      id: id!,
      effect: effect!,
      mode: ruleMode ?? this.policyMode,
      policy: this.policyIndex,
      agents: agents!,
      tools: tools!,
      actions: actions!,
      when: when!,
      reason,
      redact,
      span: this.span(map.start, map.end),
    });
  }

  // -------------------------------------------------------------------------------------------
  // agents: (the agent-centric form, desugared into rules in place)

  private agents(entry: YEntry, policy: PolicyInfo): void {
    const items = this.listOf(entry);
    if (items === null) return;
    const seen = new Map<string, Origin>();
    for (const item of items) {
      const map = this.asMap(item, "an agent entry");
      if (map === null) continue;
      const keys = this.keys(map, AGENT_KEYS, "an agent entry");
      const agentEntry = keys.get("agent");
      let agent: string | null = null;
      if (agentEntry === undefined) this.missing(map, "agent", "an agent entry");
      else {
        agent = this.string(agentEntry);
        if (agent === "*") {
          this.errorAtNode(agentEntry.value, "an agent entry needs a specific agent id; use `rules:` for rules that apply to any agent");
          agent = null;
        } else if (agent !== null) {
          const first = seen.get(agent);
          if (first !== undefined) {
            this.errorAtNode(agentEntry.value, `agent \`${agent}\` is listed twice in this policy (first at ${first.file}:${first.line}:${first.col}); merge the entries`);
            agent = null;
          } else {
            seen.set(agent, this.origin(agentEntry.value.start));
          }
        }
      }
      const agentMode = this.mode(keys.get("mode"));
      const description = keys.get("description");
      if (description !== undefined) this.string(description, true);
      if (agent !== null && agentMode) policy.agentModes[agent] = agentMode;

      const toolsEntry = keys.get("allowed_tools");
      if (toolsEntry === undefined) {
        this.missing(map, "allowed_tools", "an agent entry");
        continue;
      }
      const tools = this.listOf(toolsEntry);
      if (tools === null) continue;
      const toolCounts = new Map<string, number>();
      for (const tool of tools) {
        const toolMap = this.asMap(tool, "an `allowed_tools` entry");
        if (toolMap === null) continue;
        this.toolEntry(toolMap, agent, agentMode ?? this.policyMode, toolCounts);
      }
    }
  }

  private toolEntry(map: YMap, agent: string | null, agentMode: Mode, toolCounts: Map<string, number>): void {
    const keys = this.keys(map, TOOL_KEYS, "an `allowed_tools` entry");
    let ok = agent !== null;

    const nameEntry = keys.get("name");
    let tool: string | null = null;
    if (nameEntry === undefined) this.missing(map, "name", "an `allowed_tools` entry");
    else tool = this.string(nameEntry);
    if (tool === null) ok = false;

    const actionsEntry = keys.get("actions");
    const actions = this.selector(actionsEntry);
    if (actions === undefined) ok = false;

    const toolMode = this.mode(keys.get("mode"));
    if (toolMode === null) ok = false;
    const mode = toolMode ?? agentMode;

    let reason: string | null = null;
    const reasonEntry = keys.get("reason");
    if (reasonEntry !== undefined) {
      reason = this.string(reasonEntry);
      if (reason === null) ok = false;
    }
    const description = keys.get("description");
    if (description !== undefined) this.string(description, true);

    const conditions = this.conditionList(keys.get("conditions"));
    const approvals = this.conditionList(keys.get("approval_needed_if"));
    if (conditions === null || approvals === null) ok = false;

    let redact: string[][] = [];
    const redactEntry = keys.get("redact");
    if (redactEntry !== undefined) {
      const node = redactEntry.value;
      if (!(node.kind === "seq" && node.items.length === 0)) {
        const paths = this.redactPaths(redactEntry);
        if (paths === null) ok = false;
        else redact = paths;
      }
    }
    if (!ok) return;

    const count = (toolCounts.get(tool!) ?? 0) + 1;
    toolCounts.set(tool!, count);
    const base = `agent:${agent}:${tool}${count > 1 ? `#${count}` : ""}`;
    const tools = tool === "*" ? null : [tool!];
    const common = { mode, policy: this.policyIndex, agents: [agent!], tools, actions: actions! };

    conditions!.forEach((c, i) => {
      const id = `${base}:condition:${i + 1}`;
      if (!this.registerRuleId(id, c.scalar.start, c.scalar.end)) return;
      const span = this.span(c.scalar.start, c.scalar.end);
      this.state.rules.push({
        id, effect: "deny", ...common,
        when: { kind: "not", operand: c.expr, span },
        reason: `condition failed: \`${c.text}\``,
        redact: [],
        span,
      });
    });
    approvals!.forEach((c, i) => {
      const id = `${base}:approval:${i + 1}`;
      if (!this.registerRuleId(id, c.scalar.start, c.scalar.end)) return;
      this.state.rules.push({
        id, effect: "approval_needed", ...common,
        when: c.expr,
        reason: `approval needed: \`${c.text}\``,
        redact: [],
        span: this.span(c.scalar.start, c.scalar.end),
      });
    });
    if (!this.registerRuleId(base, map.start, map.end)) return;
    this.state.rules.push({
      id: base,
      effect: redact.length > 0 ? "sanitize" : "allow",
      ...common,
      when: null,
      reason: reason ?? `agent \`${agent}\` may call \`${tool}\``,
      redact,
      span: this.span(map.start, map.end),
    });
  }

  /** `conditions` / `approval_needed_if`: an expression or a list of them; [] when absent. */
  private conditionList(entry: YEntry | undefined): CheckedCondition[] | null {
    if (entry === undefined) return [];
    const node = entry.value;
    const items = node.kind === "seq" ? node.items : [node];
    const out: CheckedCondition[] = [];
    let ok = true;
    for (const item of items) {
      const c = this.expression(item, entry.key);
      if (c === null) ok = false;
      else out.push(c);
    }
    return ok ? out : null;
  }

  // -------------------------------------------------------------------------------------------
  // egress:

  private egress(entry: YEntry, mode: Mode): void {
    const map = this.asMap(entry.value, "`egress`");
    if (map === null) return;
    const keys = this.keys(map, EGRESS_KEYS, "`egress`");
    const domains = keys.get("allow_domains");
    if (domains === undefined) {
      this.missing(map, "allow_domains", "`egress`");
      return;
    }
    const node = domains.value;
    if (node.kind !== "seq") {
      this.errorAtNode(node, `\`allow_domains\` must be a list of host names, found ${this.describe(node)}`);
      return;
    }
    const entries: EgressEntry[] = [];
    for (const item of node.items) {
      if (item.kind !== "scalar" || typeof item.value !== "string") {
        this.errorAtNode(item, `\`allow_domains\` entries must be host names, found ${this.describe(item)}`);
        continue;
      }
      const result = normalizeEgressHost(item.value);
      if ("error" in result) {
        this.errorAtNode(item, result.error);
        continue;
      }
      entries.push({ host: result.host, wildcard: result.wildcard, policy: this.policyIndex, span: this.span(item.start, item.end) });
    }
    this.state.egressDecls.push({ policy: this.policyIndex, mode, entries });
  }

  // -------------------------------------------------------------------------------------------
  // dlp:

  private dlp(entry: YEntry): void {
    const items = this.listOf(entry);
    if (items === null) return;
    for (const item of items) {
      const map = this.asMap(item, "a `dlp` entry");
      if (map === null) continue;
      const keys = this.keys(map, DLP_KEYS, "a `dlp` entry");
      let ok = true;
      const nameEntry = keys.get("name");
      let name: string | null = null;
      if (nameEntry === undefined) this.missing(map, "name", "a `dlp` entry");
      else {
        name = this.string(nameEntry);
        if (name !== null && !NAME_PATTERN.test(name)) {
          this.errorAtNode(nameEntry.value, `DLP name \`${name}\` may only contain letters, digits, \`_\`, \`.\` and \`-\``);
          name = null;
        }
        if (name !== null) {
          const first = this.state.dlpNames.get(name);
          if (first !== undefined) {
            this.errorAtNode(nameEntry.value, `duplicate DLP name \`${name}\` (first defined at ${first.file}:${first.line}:${first.col})`);
            name = null;
          } else {
            this.state.dlpNames.set(name, this.origin(nameEntry.value.start));
          }
        }
      }
      if (name === null) ok = false;

      const patternEntry = keys.get("pattern");
      let pattern: string | null = null;
      if (patternEntry === undefined) this.missing(map, "pattern", "a `dlp` entry");
      else {
        pattern = this.string(patternEntry);
        const node = patternEntry.value;
        if (pattern !== null && node.kind === "scalar") {
          const result = parseRegex(pattern);
          if (!result.ok) {
            const at = scalarOffsetMap(node, this.text)(result.offset);
            this.error(at, at + 1, `invalid regex: ${result.message}`);
            pattern = null;
          }
        }
      }
      if (pattern === null) ok = false;
      const mode = this.mode(keys.get("mode"));
      if (mode === null) ok = false;
      const description = keys.get("description");
      if (description !== undefined) this.string(description, true);
      if (!ok) continue;
      this.state.dlp.push({
        name: name!,
        pattern: pattern!,
        policy: this.policyIndex,
        mode: mode ?? this.policyMode,
        span: this.span(map.start, map.end),
      });
    }
  }
}

/**
 * Normalises one `allow_domains` entry: `host` or `*.suffix`, IDNA ToASCII (as the WHATWG URL
 * parser does to hosts), lower case, no trailing dot. Rejects schemes, paths, ports, empty labels,
 * stray `*` and anything the host parser rejects.
 */
export function normalizeEgressHost(entry: string): { host: string; wildcard: boolean } | { error: string } {
  const shown = `\`${entry}\``;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
    return { error: `egress host ${shown} must be a host name without a scheme; write just the host, like \`example.com\`` };
  }
  if (entry.includes("/")) return { error: `egress host ${shown} must be a host name without a path` };
  let rest = entry;
  let wildcard = false;
  if (rest.startsWith("*.")) {
    wildcard = true;
    rest = rest.slice(2);
  }
  if (rest.includes("*")) {
    return { error: `egress host ${shown} may only use \`*\` as a leading \`*.\` (any subdomain)` };
  }
  const isIPv6 = rest.startsWith("[") && rest.endsWith("]");
  if (!isIPv6 && rest.includes(":")) return { error: `egress host ${shown} must not have a port; ports are not compared` };
  if (wildcard && isIPv6) return { error: `egress host ${shown}: \`*.\` cannot be used with an IP address` };
  if (rest.endsWith(".")) rest = rest.slice(0, -1);
  if (rest === "") return { error: `egress host ${shown} is empty` };
  if (!isIPv6 && rest.split(".").some((label) => label === "")) {
    return { error: `egress host ${shown} has an empty label` };
  }
  let host = domainToASCII(rest);
  if (host === "") return { error: `egress host ${shown} is not a valid host name` };
  if (host.endsWith(".")) host = host.slice(0, -1);
  host = host.toLowerCase();
  if (!isIPv6 && host.split(".").some((label) => label === "")) {
    return { error: `egress host ${shown} has an empty label` };
  }
  if (wildcard && /^[0-9.]+$/.test(host)) {
    return { error: `egress host ${shown}: \`*.\` cannot be used with an IP address` };
  }
  return { host, wildcard };
}

/** Re-exported for callers that only need the static type names. */
export type { StaticType };
