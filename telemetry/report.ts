// Shadow and operations report: audit-log lines (docs/telemetry.md §3) in, a Summary of counts out,
// rendered as Markdown or as one self-contained HTML page with inline SVG charts (docs/reports.md).
// summarizeLog streams: it keeps counters per rule, agent, host and so on, never the records, so a
// log of millions of lines costs one JSON.parse per line. Every string in the output that came
// from the log is attacker-influenced (agent ids, reasons, URLs) and is escaped where it is
// rendered, in one place per output format. Platform-neutral: no Node APIs here.

/** The four decisions of docs/semantics.md. */
export type DecisionKind = "allow" | "deny" | "sanitize" | "approval_needed";

/** The decisions in the order every table lists them. */
export const DECISION_KINDS: readonly DecisionKind[] = ["allow", "deny", "sanitize", "approval_needed"];

/** The would-deny rate above which a rule or agent is flagged for review (brief: "<5% false positives"). */
export const DEFAULT_THRESHOLD = 0.05;

/** Rows each ranked table keeps; the rest are summed into one "others" line. */
export const DEFAULT_TOP = 20;

/**
 * Distinct keys one counter keeps. Agent ids, hosts and error messages come from requests, so
 * their number is the attacker's choice; beyond this, new keys are counted as "others".
 */
export const MAX_KEYS = 100_000;

/** A rule's selectors, as the compiler checked them (`null` = any): exact scope for would-deny rates. */
export interface RuleScope {
  id: string;
  agents: readonly string[] | null;
  tools: readonly string[] | null;
  actions: readonly string[] | null;
}

export interface ReportOptions {
  /** Only records with `ts` at or after this instant (ISO 8601). */
  since?: string;
  /** Only records with `ts` before this instant (ISO 8601). */
  until?: string;
  /** Rows per ranked table (default 20). */
  top?: number;
  /** Would-deny rate above which a rule or agent is flagged, as a fraction (default 0.05). */
  threshold?: number;
  /** The rules of the bundle that wrote the log: makes each rule's evaluation count exact. */
  rules?: readonly RuleScope[];
  /** Distinct keys each counter keeps (default MAX_KEYS): bounds memory whatever the log holds. */
  maxKeys?: number;
}

/** An agent as the request named it; `id` is null when the record has none (a request error). */
export interface AgentRef { id: string | null; tenant?: string }

export interface CountRow { key: string; count: number }
export interface AgentCountRow { agent: AgentRef; count: number }

/** The top rows of a table, and how many keys and counts the rows left out. */
export interface Ranked<Row> { rows: Row[]; otherKeys: number; otherCount: number }

/** One rule that would have denied calls in shadow mode. */
export interface ShadowRuleRow {
  rule: string;
  /** Decisions in which this rule would have denied. */
  wouldDeny: number;
  /** Of those, decisions that were not denied anyway: what enforcing the rule would change. */
  newlyBlocked: number;
  /** Decisions this rule was evaluated on (see `scope`). */
  evaluations: number;
  /**
   * How `evaluations` was counted. `exact`: the decisions whose agent, tool and action match the
   * rule's selectors (needs `rules`); `all`: every evaluated decision (the pseudo-rules `egress`,
   * `default` and `dlp:*` look at every call); `estimated`: the decisions on the tool/action pairs
   * the rule was seen on in this log.
   */
  scope: "exact" | "all" | "estimated";
  /** wouldDeny / evaluations (0 when there were none). */
  rate: number;
  /** rate above the threshold: review every would-deny of this rule before enforcing it. */
  flagged: boolean;
}

export interface ShadowAgentRow { agent: AgentRef; wouldDeny: number; decisions: number; rate: number; flagged: boolean }

/** Everything a report shows, computed from the records alone. Plain data (JSON-serialisable). */
export interface Summary {
  options: { since?: string; until?: string; top: number; threshold: number; exactScope: boolean };
  lines: {
    total: number;
    /** Decision records inside the time window. */
    decision: number;
    recovery: number;
    checkpoint: number;
    /** Lines of another `type` (ignored). */
    other: number;
    /** Lines that are not a JSON object with a string `type`. */
    unparsable: number;
    /** Decision lines without a valid `decision`. */
    malformed: number;
    /** Decision records outside --since/--until. */
    outsideWindow: number;
    /** Decision records whose `ts` is not a timestamp (excluded when a window is set). */
    badTimestamp: number;
  };
  /** Earliest and latest `ts` of the decisions in the report. */
  range: { first: string | null; last: string | null };
  decisions: {
    total: number;
    byDecision: Record<DecisionKind, number>;
    enforced: number;
    /** `enforced: false`: every policy was in shadow for the call. */
    notEnforced: number;
    /** Decisions that carry a `shadow` list. */
    withShadow: number;
    byPolicy: Ranked<{ name: string; version: string; count: number }>;
    byHost: Ranked<CountRow>;
  };
  shadow: {
    /** Decisions with at least one would-deny. */
    wouldDeny: number;
    /** Of those, decisions that were not denied anyway. */
    newlyBlocked: number;
    /** Decisions rules were evaluated on (all but request errors): the base of the overall rate. */
    evaluated: number;
    rules: Ranked<ShadowRuleRow>;
    flaggedRules: number;
    agents: Ranked<ShadowAgentRow>;
    flaggedAgents: number;
    /** Shadow matches with another effect (would-approve, would-sanitize...). */
    otherEffects: Ranked<{ rule: string; effect: string; count: number }>;
  };
  egress: {
    /** Enforced denies by the pseudo-rule `egress`. */
    blocked: number;
    /** Hosts named by `egress to \`host\` is not allowed`. */
    byHost: Ranked<CountRow>;
    byAgent: Ranked<AgentCountRow>;
    /** Denied because a URL did not parse. */
    invalidUrls: number;
    /** Denied because `context.egress` was not a list of strings. */
    malformedLists: number;
    /** Shadow-mode egress would-denies (their host is not logged: the reason is the decision's). */
    shadowWouldDeny: number;
  };
  approvals: {
    total: number;
    /** Distinct approval ids (the same request asked twice is one pending approval). */
    distinctIds: number;
    byRule: Ranked<{ rule: string; count: number; distinctIds: number }>;
    byAgent: Ranked<AgentCountRow>;
    /** Requests that presented an override token. */
    overrideTokens: number;
  };
  denials: {
    /** Enforced denies, request errors not included. */
    total: number;
    byRule: Ranked<CountRow>;
    byAgent: Ranked<AgentCountRow>;
  };
  redactions: { sanitizeDecisions: number; total: number; byBy: Ranked<CountRow> };
  errors: { total: number; byCode: Ranked<CountRow>; messages: Ranked<{ code: string; message: string; count: number }> };
}

/** Counts per string key, keeping at most `maxKeys` keys; the rest is `overflow`. */
class Counter {
  readonly counts = new Map<string, number>();
  overflow = 0;

  constructor(private readonly maxKeys: number) {}

  add(key: string, n = 1): void {
    const count = this.counts.get(key);
    if (count !== undefined) this.counts.set(key, count + n);
    else if (this.counts.size < this.maxKeys) this.counts.set(key, n);
    else this.overflow += n;
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

// Agent keys pack id and tenant without a separator an id could forge: "n<id>" without a tenant,
// "t<tenant length>:<tenant><id>" with one.
function agentKey(id: string | null, tenant: string | undefined): string {
  if (id === null) return "-";
  return tenant === undefined ? "n" + id : "t" + tenant.length + ":" + tenant + id;
}

function agentOf(key: string): AgentRef {
  if (key === "-") return { id: null };
  if (key[0] === "n") return { id: key.slice(1) };
  const colon = key.indexOf(":");
  const length = Number(key.slice(1, colon));
  return { id: key.slice(colon + 1 + length), tenant: key.slice(colon + 1, colon + 1 + length) };
}

/** A second key packed with the first: `a` first, with its length, so neither can forge the other. */
function pair(a: string, b: string): string {
  return a.length + ":" + a + b;
}

function unpair(key: string): [string, string] {
  const colon = key.indexOf(":");
  const length = Number(key.slice(0, colon));
  return [key.slice(colon + 1, colon + 1 + length), key.slice(colon + 1 + length)];
}

function byCountThenKey(a: CountRow, b: CountRow): number {
  return b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function rank<Row>(counter: Counter, top: number, row: (key: string, count: number) => Row): Ranked<Row> {
  const all: CountRow[] = [];
  for (const [key, count] of counter.counts) all.push({ key, count });
  all.sort(byCountThenKey);
  let otherCount = counter.overflow;
  for (let i = top; i < all.length; i++) otherCount += all[i].count;
  return {
    rows: all.slice(0, top).map((r) => row(r.key, r.count)),
    otherKeys: Math.max(0, all.length - top) + (counter.overflow > 0 ? 1 : 0),
    otherCount,
  };
}

function rankRows<Row>(rows: Row[], top: number, count: (row: Row) => number): Ranked<Row> {
  let otherCount = 0;
  for (let i = top; i < rows.length; i++) otherCount += count(rows[i]);
  return { rows: rows.slice(0, top), otherKeys: Math.max(0, rows.length - top), otherCount };
}

const CANONICAL_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** `ts` as the canonical RFC 3339 form that sorts as text, or null when it is not a time. */
function canonicalTime(ts: unknown): string | null {
  if (typeof ts !== "string") return null;
  if (CANONICAL_TS.test(ts)) return ts;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * An ISO 8601 option as the canonical form; a time without an offset is UTC, like a bare date
 * (JavaScript would read it as local time). Throws RangeError when it is not a time.
 */
export function parseInstant(text: string, what: string): string {
  const ms = Date.parse(/T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text) ? text + "Z" : text);
  if (Number.isNaN(ms) || !/^\d{4}-\d\d-\d\d/.test(text)) throw new RangeError(`${what} \`${text}\` is not an ISO 8601 time`);
  return new Date(ms).toISOString();
}

function isPseudoRule(rule: string): boolean {
  return rule === "egress" || rule === "default" || rule.startsWith("dlp:");
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const EGRESS_HOST = /^egress to `([\s\S]*)` is not allowed$/;
const EGRESS_BAD_URL = /^egress URL `[\s\S]*` is not a valid URL$/;
/** Longest log string kept as a key; longer ones (reasons, messages) are cut with an ellipsis. */
const MAX_KEY_CHARS = 200;

function clip(text: string): string {
  return text.length <= MAX_KEY_CHARS ? text : text.slice(0, MAX_KEY_CHARS) + "…";
}

/**
 * Read log lines (docs/telemetry.md §3; without their `\n`) and count what the report shows.
 * Lines other than decision records are counted and otherwise ignored; unparsable lines are
 * counted, never thrown on. Throws RangeError for a bad `since`/`until`.
 */
export function summarizeLog(lines: Iterable<string>, options: ReportOptions = {}): Summary {
  const since = options.since === undefined ? undefined : parseInstant(options.since, "--since");
  const until = options.until === undefined ? undefined : parseInstant(options.until, "--until");
  const windowed = since !== undefined || until !== undefined;
  const top = options.top ?? DEFAULT_TOP;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const maxKeys = options.maxKeys ?? MAX_KEYS;

  const counts = { total: 0, decision: 0, recovery: 0, checkpoint: 0, other: 0, unparsable: 0, malformed: 0, outsideWindow: 0, badTimestamp: 0 };
  let first: string | null = null;
  let last: string | null = null;
  const byDecision: Record<DecisionKind, number> = { allow: 0, deny: 0, sanitize: 0, approval_needed: 0 };
  let enforced = 0;
  let notEnforced = 0;
  let withShadow = 0;
  const byPolicy = new Counter(maxKeys);
  const byHost = new Counter(maxKeys);

  let evaluated = 0;
  let wouldDenyDecisions = 0;
  let newlyBlockedDecisions = 0;
  const wouldDenyByRule = new Counter(maxKeys);
  const newlyBlockedByRule = new Counter(maxKeys);
  const wouldDenyByAgent = new Counter(maxKeys);
  const decisionsByAgent = new Counter(maxKeys);
  const otherShadow = new Counter(maxKeys);
  // Scope of each rule: decisions per tool/action pair, and the pairs each rule was seen on.
  const byToolAction = new Counter(maxKeys);
  const pairsOfRule = new Map<string, Set<string>>();
  const exact = options.rules !== undefined && options.rules.length > 0;
  const byAgentToolAction = new Counter(maxKeys);

  let egressBlocked = 0;
  let egressInvalid = 0;
  let egressMalformed = 0;
  let egressShadow = 0;
  const egressHosts = new Counter(maxKeys);
  const egressAgents = new Counter(maxKeys);

  let approvals = 0;
  let overrideTokens = 0;
  const approvalsByRule = new Counter(maxKeys);
  const approvalsByAgent = new Counter(maxKeys);
  const approvalIds = new Counter(maxKeys);

  let denials = 0;
  const denialsByRule = new Counter(maxKeys);
  const denialsByAgent = new Counter(maxKeys);

  let sanitizeDecisions = 0;
  let redactionCount = 0;
  const redactionsBy = new Counter(maxKeys);

  let errors = 0;
  const errorsByCode = new Counter(maxKeys);
  const errorMessages = new Counter(maxKeys);

  const seen = (rule: string, toolAction: string): void => {
    // Pseudo-rules see every call; their scope needs no pairs (and would collect every pair).
    if (isPseudoRule(rule)) return;
    let pairs = pairsOfRule.get(rule);
    if (pairs === undefined) {
      if (pairsOfRule.size >= maxKeys) return;
      pairs = new Set();
      pairsOfRule.set(rule, pairs);
    }
    if (pairs.size < maxKeys) pairs.add(toolAction);
  };
  const wouldDenyRules: string[] = [];

  for (const line of lines) {
    counts.total++;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      counts.unparsable++;
      continue;
    }
    if (!isObject(record) || typeof record.type !== "string") {
      counts.unparsable++;
      continue;
    }
    if (record.type !== "decision") {
      if (record.type === "checkpoint") counts.checkpoint++;
      else if (record.type === "recovery") counts.recovery++;
      else counts.other++;
      continue;
    }
    const decision = record.decision;
    if (decision !== "allow" && decision !== "deny" && decision !== "sanitize" && decision !== "approval_needed") {
      counts.malformed++;
      continue;
    }
    const ts = canonicalTime(record.ts);
    if (ts === null) {
      counts.badTimestamp++;
      if (windowed) {
        counts.outsideWindow++;
        continue;
      }
    } else if ((since !== undefined && ts < since) || (until !== undefined && ts >= until)) {
      counts.outsideWindow++;
      continue;
    }
    counts.decision++;
    if (ts !== null) {
      if (first === null || ts < first) first = ts;
      if (last === null || ts > last) last = ts;
    }

    const agent = isObject(record.agent) ? record.agent : undefined;
    const agentId = agent === undefined ? null : str(agent.id) ?? null;
    const who = agentKey(agentId, agent === undefined ? undefined : str(agent.tenant));
    const tool = str(record.tool) ?? "";
    const action = str(record.action) ?? "";
    const rule = str(record.rule) ?? "";
    const isEnforced = record.enforced !== false;
    const policy = isObject(record.policy) ? record.policy : undefined;

    byDecision[decision]++;
    if (isEnforced) enforced++;
    else notEnforced++;
    byPolicy.add(pair(str(policy?.name) ?? "", str(policy?.version) ?? ""));
    byHost.add(str(record.host) ?? "");

    if (isObject(record.error)) {
      // Rejected before any rule ran: an error, not a denial and not an evaluation.
      errors++;
      const code = str(record.error.code) ?? "";
      errorsByCode.add(code);
      errorMessages.add(pair(code, clip(str(record.error.message) ?? "")));
      continue;
    }

    evaluated++;
    decisionsByAgent.add(who);
    const toolAction = pair(tool, action);
    byToolAction.add(toolAction);
    if (exact) byAgentToolAction.add(pair(who, toolAction));
    if (rule !== "") seen(rule, toolAction);

    wouldDenyRules.length = 0;
    if (!isEnforced && decision === "deny") wouldDenyRules.push(rule);
    const shadow = record.shadow;
    if (Array.isArray(shadow) && shadow.length > 0) {
      withShadow++;
      for (const entry of shadow) {
        if (!isObject(entry)) continue;
        const shadowRule = str(entry.rule) ?? "";
        const effect = str(entry.effect) ?? "";
        seen(shadowRule, toolAction);
        if (effect === "deny") {
          if (!wouldDenyRules.includes(shadowRule)) wouldDenyRules.push(shadowRule);
        } else {
          otherShadow.add(pair(shadowRule, effect));
        }
      }
    }
    if (wouldDenyRules.length > 0) {
      wouldDenyDecisions++;
      wouldDenyByAgent.add(who);
      const changes = !(isEnforced && decision === "deny");
      if (changes) newlyBlockedDecisions++;
      for (const r of wouldDenyRules) {
        wouldDenyByRule.add(r);
        if (changes) newlyBlockedByRule.add(r);
        if (r === "egress") egressShadow++;
      }
    }

    if (decision === "deny" && isEnforced) {
      denials++;
      denialsByRule.add(rule);
      denialsByAgent.add(who);
      if (rule === "egress") {
        egressBlocked++;
        egressAgents.add(who);
        const reason = str(record.reason) ?? "";
        const host = EGRESS_HOST.exec(reason);
        if (host !== null) egressHosts.add(clip(host[1]));
        else if (EGRESS_BAD_URL.test(reason)) egressInvalid++;
        else egressMalformed++;
      }
    } else if (decision === "approval_needed") {
      approvals++;
      approvalsByRule.add(rule);
      approvalsByAgent.add(who);
      const id = str(record.approval);
      if (id !== undefined) approvalIds.add(pair(rule, id));
    } else if (decision === "sanitize") {
      sanitizeDecisions++;
    }
    if (typeof record.override_token === "string") overrideTokens++;
    if (Array.isArray(record.redactions)) {
      for (const redaction of record.redactions) {
        if (!isObject(redaction)) continue;
        redactionCount++;
        redactionsBy.add(str(redaction.by) ?? "");
      }
    }
  }

  // Evaluations of each rule that would have denied.
  const scopeOf = new Map<string, RuleScope>();
  for (const scope of options.rules ?? []) scopeOf.set(scope.id, scope);
  const matches = (list: readonly string[] | null, value: string) => list === null || list.includes(value);
  const evaluationsOf = (rule: string): [number, ShadowRuleRow["scope"]] => {
    if (isPseudoRule(rule)) return [evaluated, "all"];
    const scope = scopeOf.get(rule);
    if (scope !== undefined) {
      let total = 0;
      for (const [key, count] of byAgentToolAction.counts) {
        const [whoKey, toolAction] = unpair(key);
        const [tool, action] = unpair(toolAction);
        const id = agentOf(whoKey).id;
        if (matches(scope.tools, tool) && matches(scope.actions, action) && (scope.agents === null || (id !== null && scope.agents.includes(id)))) total += count;
      }
      return [total, "exact"];
    }
    let total = 0;
    for (const toolAction of pairsOfRule.get(rule) ?? []) total += byToolAction.get(toolAction);
    return [total, "estimated"];
  };
  const ruleRows: ShadowRuleRow[] = [];
  for (const [rule, wouldDeny] of wouldDenyByRule.counts) {
    const [found, scope] = evaluationsOf(rule);
    // A rule can only would-deny calls it saw: never let a short scope make a rate above 100%.
    const evaluations = Math.max(found, wouldDeny);
    const rate = evaluations === 0 ? 0 : wouldDeny / evaluations;
    ruleRows.push({ rule, wouldDeny, newlyBlocked: newlyBlockedByRule.get(rule), evaluations, scope, rate, flagged: rate > threshold });
  }
  ruleRows.sort((a, b) => Number(b.flagged) - Number(a.flagged) || b.wouldDeny - a.wouldDeny || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
  const agentRows: ShadowAgentRow[] = [];
  for (const [key, wouldDeny] of wouldDenyByAgent.counts) {
    const decisions = Math.max(decisionsByAgent.get(key), wouldDeny);
    const rate = decisions === 0 ? 0 : wouldDeny / decisions;
    agentRows.push({ agent: agentOf(key), wouldDeny, decisions, rate, flagged: rate > threshold });
  }
  agentRows.sort((a, b) => Number(b.flagged) - Number(a.flagged) || b.wouldDeny - a.wouldDeny || compareAgents(a.agent, b.agent));

  const approvalIdsByRule = new Counter(maxKeys);
  for (const key of approvalIds.counts.keys()) approvalIdsByRule.add(unpair(key)[0]);

  const agentRow = (key: string, count: number): AgentCountRow => ({ agent: agentOf(key), count });
  const countRow = (key: string, count: number): CountRow => ({ key, count });
  return {
    options: { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), top, threshold, exactScope: exact },
    lines: counts,
    range: { first, last },
    decisions: {
      total: counts.decision,
      byDecision,
      enforced,
      notEnforced,
      withShadow,
      byPolicy: rank(byPolicy, top, (key, count) => {
        const [name, version] = unpair(key);
        return { name, version, count };
      }),
      byHost: rank(byHost, top, countRow),
    },
    shadow: {
      wouldDeny: wouldDenyDecisions,
      newlyBlocked: newlyBlockedDecisions,
      evaluated,
      rules: rankRows(ruleRows, Math.max(top, ruleRows.filter((r) => r.flagged).length), (r) => r.wouldDeny),
      flaggedRules: ruleRows.filter((r) => r.flagged).length,
      agents: rankRows(agentRows, top, (r) => r.wouldDeny),
      flaggedAgents: agentRows.filter((r) => r.flagged).length,
      otherEffects: rank(otherShadow, top, (key, count) => {
        const [rule, effect] = unpair(key);
        return { rule, effect, count };
      }),
    },
    egress: {
      blocked: egressBlocked,
      byHost: rank(egressHosts, top, countRow),
      byAgent: rank(egressAgents, top, agentRow),
      invalidUrls: egressInvalid,
      malformedLists: egressMalformed,
      shadowWouldDeny: egressShadow,
    },
    approvals: {
      total: approvals,
      distinctIds: approvalIds.counts.size,
      byRule: rank(approvalsByRule, top, (rule, count) => ({ rule, count, distinctIds: approvalIdsByRule.get(rule) })),
      byAgent: rank(approvalsByAgent, top, agentRow),
      overrideTokens,
    },
    denials: { total: denials, byRule: rank(denialsByRule, top, countRow), byAgent: rank(denialsByAgent, top, agentRow) },
    redactions: { sanitizeDecisions, total: redactionCount, byBy: rank(redactionsBy, top, countRow) },
    errors: {
      total: errors,
      byCode: rank(errorsByCode, top, countRow),
      messages: rank(errorMessages, top, (key, count) => {
        const [code, message] = unpair(key);
        return { code, message, count };
      }),
    },
  };
}

function compareAgents(a: AgentRef, b: AgentRef): number {
  const x = `${a.id ?? ""}\u0000${a.tenant ?? ""}`;
  const y = `${b.id ?? ""}\u0000${b.tenant ?? ""}`;
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Rendering. Both formats render one document model, so they show the same numbers; log strings
// stay `code` inlines until the renderer escapes them for its format.

/** A piece of text: our own words, or a string from the log (`code`, always escaped). */
type Inline = string | { code: string } | { strong: string };

type Cell = Inline | number;

interface Table { head: string[]; rows: Cell[][]; numeric: boolean[] }

/** Horizontal bars (HTML only): one per row, value against the largest, an optional marker line. */
interface Chart { title: string; bars: { label: Inline; value: number; text: string; flagged?: boolean }[]; max?: number; marker?: { value: number; label: string } }

type Block =
  | { kind: "h"; level: 1 | 2 | 3; text: string }
  | { kind: "p"; parts: Inline[] }
  | { kind: "table"; table: Table }
  | { kind: "chart"; chart: Chart };

function percent(part: number, whole: number): string {
  if (whole === 0) return "0%";
  const value = (100 * part) / whole;
  return `${value >= 10 || value === 0 ? value.toFixed(1) : value.toPrecision(2)}%`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function agentInline(agent: AgentRef): Inline {
  if (agent.id === null) return "(no agent)";
  return { code: agent.tenant === undefined ? agent.id : `${agent.id} @ ${agent.tenant}` };
}

function logInline(text: string, empty = "(none)"): Inline {
  return text === "" ? empty : { code: text };
}

function others<Row>(ranked: Ranked<Row>, columns: number, what: string): Cell[][] {
  if (ranked.otherKeys === 0) return [];
  const row: Cell[] = [`${ranked.otherKeys} other ${what}`, ranked.otherCount];
  while (row.length < columns) row.push("");
  return [row];
}

function table(head: string[], rows: Cell[][]): Block {
  // Counts, rates and "120 (est.)" align right; a column of log strings never does.
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === "number" || row[i] === "" || (typeof row[i] === "string" && /^\d[\d.]*%?( \((est\.|all)\))?$/.test(row[i] as string))));
  return { kind: "table", table: { head, rows, numeric } };
}

function para(...parts: Inline[]): Block {
  return { kind: "p", parts };
}

function reportBlocks(summary: Summary): Block[] {
  const out: Block[] = [];
  const { lines, decisions, shadow, egress, approvals, denials, redactions, errors } = summary;
  const threshold = percent(summary.options.threshold, 1);

  out.push({ kind: "h", level: 1, text: "Aegis decision report" });
  const window = summary.options.since !== undefined || summary.options.until !== undefined
    ? ` Window: ${summary.options.since ?? "start"} to ${summary.options.until ?? "end"} (${lines.outsideWindow} decisions outside it).`
    : "";
  const range = summary.range.first === null ? "" : `, ${summary.range.first} to ${summary.range.last}`;
  out.push(para(`${count(decisions.total, "decision")}${range}.${window}`));
  const skipped = [
    count(lines.total, "log line"),
    count(lines.checkpoint, "checkpoint"),
    count(lines.recovery, "recovery record"),
    ...(lines.other > 0 ? [`${lines.other} lines of other types (ignored)`] : []),
  ];
  out.push(para(skipped.join(", ") + "."));
  if (lines.unparsable > 0 || lines.malformed > 0) {
    out.push(para({ strong: "Warning:" }, ` ${count(lines.unparsable, "unparsable line")} and ${count(lines.malformed, "decision line")} without a valid decision skipped; run `, { code: "aegis audit verify" }, " on this log to find them."));
  }
  if (lines.badTimestamp > 0) {
    const windowed = summary.options.since !== undefined || summary.options.until !== undefined;
    out.push(para({ strong: "Warning:" }, ` ${count(lines.badTimestamp, "decision record")} without a valid timestamp: ${windowed ? "they were left out of the window" : "they are counted but not in the time range above"}.`));
  }

  out.push({ kind: "h", level: 2, text: "Overview" });
  out.push(table(["decision", "count", "share"], DECISION_KINDS.map((kind) => [{ code: kind }, decisions.byDecision[kind], percent(decisions.byDecision[kind], decisions.total)])));
  out.push({ kind: "chart", chart: { title: "Decisions", bars: DECISION_KINDS.map((kind) => ({ label: kind, value: decisions.byDecision[kind], text: String(decisions.byDecision[kind]) })) } });
  out.push(para(`Enforced: ${decisions.enforced}. Not enforced (every policy in shadow mode for the call): ${decisions.notEnforced}. With shadow matches: ${decisions.withShadow}.`));
  out.push({ kind: "h", level: 3, text: "By policy version" });
  out.push(table(["policy", "version", "decisions"], [
    ...decisions.byPolicy.rows.map((r): Cell[] => [logInline(r.name), logInline(r.version), r.count]),
    ...others(decisions.byPolicy, 3, "versions").map((row) => [row[0], "", row[1]]),
  ]));
  out.push({ kind: "h", level: 3, text: "By host" });
  out.push(table(["host", "decisions"], [...decisions.byHost.rows.map((r): Cell[] => [logInline(r.key), r.count]), ...others(decisions.byHost, 2, "hosts")]));

  out.push({ kind: "h", level: 2, text: "Shadow rollout" });
  out.push(para(
    `Would-deny: ${shadow.wouldDeny} of ${shadow.evaluated} evaluated decisions (${percent(shadow.wouldDeny, shadow.evaluated)})`,
    shadow.wouldDeny === 0 ? ". " : `; ${shadow.newlyBlocked} of them were not denied today and would be blocked once the shadow rules are enforced. `,
    `There is no ground truth in the log, so every would-deny is a candidate false positive: `,
    `rules and agents whose would-deny rate is above the ${threshold} target are flagged for review before they are switched to enforce.`,
  ));
  if (shadow.rules.rows.length === 0) {
    out.push(para("No shadow rule would have denied a call."));
  } else {
    out.push(table(["rule", "would-deny", "newly blocked", "evaluations", "rate", "review"], [
      ...shadow.rules.rows.map((r): Cell[] => [
        logInline(r.rule),
        r.wouldDeny,
        r.newlyBlocked,
        r.scope === "exact" ? `${r.evaluations}` : r.scope === "all" ? `${r.evaluations} (all)` : `${r.evaluations} (est.)`,
        percent(r.rate, 1),
        r.flagged ? { strong: "review" } : "",
      ]),
      ...others(shadow.rules, 6, "rules"),
    ]));
    out.push({ kind: "chart", chart: {
      title: "Would-deny rate by rule",
      bars: shadow.rules.rows.map((r) => ({ label: logInline(r.rule), value: r.rate, text: percent(r.rate, 1), flagged: r.flagged })),
      max: Math.max(summary.options.threshold * 2, ...shadow.rules.rows.map((r) => r.rate)),
      marker: { value: summary.options.threshold, label: `${threshold} target` },
    } });
    out.push(para(
      `${count(shadow.flaggedRules, "rule")} flagged. Evaluations: `,
      summary.options.exactScope
        ? "exact from the rules' selectors (--policy), "
        : "(est.) = decisions on the tool/action pairs the rule was seen on in this log (pass the policy files with --policy for exact counts), ",
      "(all) = every evaluated decision (egress, DLP and default checks see every call).",
    ));
    out.push({ kind: "h", level: 3, text: "Would-deny by agent" });
    out.push(table(["agent", "would-deny", "decisions", "rate", "review"], [
      ...shadow.agents.rows.map((r): Cell[] => [agentInline(r.agent), r.wouldDeny, r.decisions, percent(r.rate, 1), r.flagged ? { strong: "review" } : ""]),
      ...others(shadow.agents, 5, "agents"),
    ]));
    out.push({ kind: "chart", chart: { title: "Would-deny by agent", bars: shadow.agents.rows.map((r) => ({ label: agentInline(r.agent), value: r.wouldDeny, text: `${r.wouldDeny} (${percent(r.rate, 1)})`, flagged: r.flagged })) } });
    out.push(para(`${count(shadow.flaggedAgents, "agent")} flagged.`));
  }
  if (shadow.otherEffects.rows.length > 0) {
    out.push({ kind: "h", level: 3, text: "Other shadow matches" });
    out.push(table(["rule", "effect", "matches"], [
      ...shadow.otherEffects.rows.map((r): Cell[] => [logInline(r.rule), logInline(r.effect), r.count]),
      ...others(shadow.otherEffects, 3, "rules").map((row) => [row[0], "", row[1]]),
    ]));
  }

  out.push({ kind: "h", level: 2, text: "Blocked egress" });
  out.push(para(`${count(egress.blocked, "egress attempt")} blocked (${count(egress.invalidUrls, "invalid URL")}, ${egress.malformedLists} malformed `, { code: "context.egress" }, ` lists); ${egress.shadowWouldDeny} more would be blocked by shadow-mode egress checks.`));
  if (egress.blocked > 0) {
    out.push(table(["host", "blocked"], [...egress.byHost.rows.map((r): Cell[] => [logInline(r.key, "(empty host)"), r.count]), ...others(egress.byHost, 2, "hosts")]));
    out.push(table(["agent", "blocked"], [...egress.byAgent.rows.map((r): Cell[] => [agentInline(r.agent), r.count]), ...others(egress.byAgent, 2, "agents")]));
  }

  out.push({ kind: "h", level: 2, text: "Approvals requested" });
  out.push(para(`${count(approvals.total, "decision")} needed approval (${count(approvals.distinctIds, "distinct approval id")}); ${count(approvals.overrideTokens, "request")} presented an override token.`));
  if (approvals.total > 0) {
    out.push(table(["rule", "requested", "approval ids"], [
      ...approvals.byRule.rows.map((r): Cell[] => [logInline(r.rule), r.count, r.distinctIds]),
      ...others(approvals.byRule, 3, "rules"),
    ]));
    out.push(table(["agent", "requested"], [...approvals.byAgent.rows.map((r): Cell[] => [agentInline(r.agent), r.count]), ...others(approvals.byAgent, 2, "agents")]));
  }

  out.push({ kind: "h", level: 2, text: "Denials" });
  out.push(para(`${count(denials.total, "enforced denial")} (request errors are listed below).`));
  if (denials.total > 0) {
    out.push(table(["rule", "denied"], [...denials.byRule.rows.map((r): Cell[] => [logInline(r.key), r.count]), ...others(denials.byRule, 2, "rules")]));
    out.push({ kind: "chart", chart: { title: "Denials by rule", bars: denials.byRule.rows.map((r) => ({ label: logInline(r.key), value: r.count, text: String(r.count) })) } });
    out.push(table(["agent", "denied"], [...denials.byAgent.rows.map((r): Cell[] => [agentInline(r.agent), r.count]), ...others(denials.byAgent, 2, "agents")]));
  }

  out.push({ kind: "h", level: 2, text: "Redactions" });
  out.push(para(`${count(redactions.sanitizeDecisions, "sanitize decision")}, ${count(redactions.total, "redaction")}.`));
  if (redactions.total > 0) {
    out.push(table(["redacted by", "redactions"], [...redactions.byBy.rows.map((r): Cell[] => [logInline(r.key), r.count]), ...others(redactions.byBy, 2, "rules")]));
  }

  out.push({ kind: "h", level: 2, text: "Request errors" });
  out.push(para(`${count(errors.total, "request")} rejected before evaluation (denied with an error).`));
  if (errors.total > 0) {
    out.push(table(["code", "requests"], [...errors.byCode.rows.map((r): Cell[] => [logInline(r.key), r.count]), ...others(errors.byCode, 2, "codes")]));
    out.push(table(["code", "message", "requests"], [
      ...errors.messages.rows.map((r): Cell[] => [logInline(r.code), logInline(r.message), r.count]),
      ...others(errors.messages, 3, "messages").map((row) => [row[0], "", row[1]]),
    ]));
  }
  return out;
}

// --- Markdown ----------------------------------------------------------------------------------

/**
 * A log string as a Markdown code span: nothing inside one is markup (no HTML, no links), so a
 * hostile agent id stays text in any renderer. Control characters would break the table row
 * and are shown as `\uXXXX`; `|` is escaped for GFM tables; the fence is one backtick longer
 * than the longest run inside.
 */
function markdownCode(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).replace(/\|/g, "\\|");
  let longest = 0;
  for (const run of clean.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = "`".repeat(longest + 1);
  const pad = clean.startsWith("`") || clean.endsWith("`") || clean.startsWith(" ") ? " " : "";
  return `${fence}${pad}${clean}${pad}${fence}`;
}

function markdownInline(part: Inline | number): string {
  if (typeof part === "number") return String(part);
  if (typeof part === "string") return part;
  if ("code" in part) return markdownCode(part.code);
  return `**${part.strong}**`;
}

/** The report as GitHub-flavoured Markdown. */
export function renderMarkdown(summary: Summary): string {
  const out: string[] = [];
  for (const block of reportBlocks(summary)) {
    if (block.kind === "h") out.push(`${"#".repeat(block.level)} ${block.text}`, "");
    else if (block.kind === "p") out.push(block.parts.map(markdownInline).join(""), "");
    else if (block.kind === "table") {
      const { head, rows, numeric } = block.table;
      out.push(`| ${head.join(" | ")} |`, `| ${head.map((_, i) => (numeric[i] ? "---:" : "---")).join(" | ")} |`);
      for (const row of rows) out.push(`| ${row.map(markdownInline).join(" | ")} |`);
      out.push("");
    }
  }
  return out.join("\n");
}

// --- HTML --------------------------------------------------------------------------------------

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;"));
}

function htmlInline(part: Inline | number): string {
  if (typeof part === "number") return String(part);
  if (typeof part === "string") return escapeHtml(part);
  if ("code" in part) return `<code>${escapeHtml(part.code)}</code>`;
  return `<strong>${escapeHtml(part.strong)}</strong>`;
}

function inlineText(part: Inline): string {
  return typeof part === "string" ? part : "code" in part ? part.code : part.strong;
}

const BAR_HEIGHT = 18;
const LABEL_WIDTH = 220;
const BAR_WIDTH = 420;

/** A horizontal bar chart as inline SVG; labels are escaped and cut to fit. */
function svgChart(chart: Chart): string {
  if (chart.bars.length === 0) return "";
  const max = Math.max(chart.max ?? 0, ...chart.bars.map((b) => b.value)) || 1;
  const height = chart.bars.length * (BAR_HEIGHT + 6) + 10 + (chart.marker ? 16 : 0);
  const width = LABEL_WIDTH + BAR_WIDTH + 120;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  parts.push(`<title>${escapeHtml(chart.title)}</title>`);
  chart.bars.forEach((bar, i) => {
    const y = 5 + i * (BAR_HEIGHT + 6);
    const w = Math.max(bar.value > 0 ? 1 : 0, Math.round((bar.value / max) * BAR_WIDTH));
    const label = inlineText(bar.label);
    const shown = label.length > 32 ? label.slice(0, 31) + "…" : label;
    parts.push(`<text x="${LABEL_WIDTH - 6}" y="${y + 13}" text-anchor="end">${escapeHtml(shown)}</text>`);
    parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${w}" height="${BAR_HEIGHT}" class="${bar.flagged ? "bar flagged" : "bar"}"><title>${escapeHtml(`${label}: ${bar.text}`)}</title></rect>`);
    parts.push(`<text x="${LABEL_WIDTH + w + 6}" y="${y + 13}">${escapeHtml(bar.text)}</text>`);
  });
  if (chart.marker) {
    const x = LABEL_WIDTH + Math.round((chart.marker.value / max) * BAR_WIDTH);
    const bottom = height - 16;
    parts.push(`<line x1="${x}" y1="0" x2="${x}" y2="${bottom}" class="marker"/>`);
    parts.push(`<text x="${x}" y="${height - 3}" text-anchor="middle" class="marker-label">${escapeHtml(chart.marker.label)}</text>`);
  }
  parts.push("</svg>");
  return `<figure>${parts.join("")}<figcaption>${escapeHtml(chart.title)}</figcaption></figure>`;
}

const STYLE = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:980px;padding:0 1em;color:#1b1f24}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}h3{margin-top:1.3em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:3px 9px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f8fa}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:0 3px;word-break:break-all;white-space:pre-wrap}
strong{color:#b35900}figure{margin:.6em 0}figcaption{color:#57606a;font-size:12px}
svg text{font:12px system-ui,sans-serif;fill:#1b1f24}.bar{fill:#4f7cac}.bar.flagged{fill:#d1632b}
.marker{stroke:#cf222e;stroke-dasharray:4 3}.marker-label{fill:#cf222e}`;

/**
 * The report as one self-contained HTML page: inline CSS and SVG, no scripts, no external
 * resources (the Content-Security-Policy forbids both, in case a string ever slipped through).
 */
export function renderHtml(summary: Summary): string {
  const body: string[] = [];
  for (const block of reportBlocks(summary)) {
    if (block.kind === "h") body.push(`<h${block.level}>${escapeHtml(block.text)}</h${block.level}>`);
    else if (block.kind === "p") body.push(`<p>${block.parts.map(htmlInline).join("")}</p>`);
    else if (block.kind === "chart") body.push(svgChart(block.chart));
    else {
      const { head, rows, numeric } = block.table;
      const cls = (i: number) => (numeric[i] ? ` class="num"` : "");
      body.push(
        `<table><thead><tr>${head.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>` +
          rows.map((row) => `<tr>${row.map((cell, i) => `<td${cls(i)}>${htmlInline(cell)}</td>`).join("")}</tr>`).join("") +
          `</tbody></table>`,
      );
    }
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aegis decision report</title>
<style>${STYLE}</style>
</head>
<body>
${body.join("\n")}
</body>
</html>
`;
}
