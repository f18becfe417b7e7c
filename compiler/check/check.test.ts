// Tests for the check stage: the brief's procurement policy checks clean and desugars as
// documented; every kind of policy error is reported at the right line:col (in YAML, inside
// expressions and inside regex patterns); several errors are all reported; bundles of several
// files; and the formatted error output has the STYLE.md shape.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { checkSources, checkExpressionSource, normalizeEgressHost } from "./check.ts";
import { formatPolicyError, PolicyErrors } from "../errors.ts";
import type { Expr, Source } from "../ast.ts";

const here = import.meta.dirname;
const procurement = readFileSync(path.join(here, "testdata", "procurement.yaml"), "utf8");
const HEAD = 'aegis: 1\npolicy: p\nversion: "1"\n';

function check(text: string, file = "p.yaml") {
  return checkSources([{ path: file, text }]);
}

function errorsOf(text: string): string[] {
  return check(text).errors.map((e) => `${e.line}:${e.col}: ${e.message}`);
}

function errorsOfSources(sources: Source[]): string[] {
  return checkSources(sources).errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`);
}

/** Compact rendering of a checked expression, to assert normalisation. */
function show(e: Expr | null): string {
  if (e === null) return "true";
  switch (e.kind) {
    case "null": return "null";
    case "bool": return String(e.value);
    case "int": return `${e.value}`;
    case "double": return `${e.value}d`;
    case "string": return JSON.stringify(e.value);
    case "list": return `[${e.elements.map(show).join(", ")}]`;
    case "var": return e.name;
    case "select": return `${show(e.operand)}.${e.field}`;
    case "index": return `${show(e.operand)}[${show(e.index)}]`;
    case "has": return `has(${show(e.operand)}.${e.field})`;
    case "not": return `!(${show(e.operand)})`;
    case "neg": return `-(${show(e.operand)})`;
    case "binary": return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case "and": return `(${show(e.left)} && ${show(e.right)})`;
    case "or": return `(${show(e.left)} || ${show(e.right)})`;
    case "cond": return `(${show(e.test)} ? ${show(e.then)} : ${show(e.else)})`;
    case "call": return `${e.fn}(${e.args.map(show).join(", ")}${e.pattern !== undefined ? `, /${e.pattern}/` : ""})`;
  }
}

function when(expr: string): string {
  const r = check(`${HEAD}rules:\n  - id: r\n    effect: deny\n    when: ${expr}\n`);
  if (r.bundle === null) throw new Error(r.errors.map((e) => e.message).join("; "));
  return show(r.bundle.rules[0].when);
}

/** Errors for one `when` expression, as `col: message` (line 7 of the test policy). */
function whenErrors(expr: string): string[] {
  const r = check(`${HEAD}rules:\n  - id: r\n    effect: deny\n    when: ${expr}\n`);
  for (const e of r.errors) expect(e.line).toBe(7);
  return r.errors.map((e) => `${e.col}: ${e.message}`);
}

describe("the brief's procurement policy", () => {
  const { bundle, errors } = checkSources([{ path: "policies/procurement.yaml", text: procurement }]);

  it("checks clean", () => {
    expect(errors).toEqual([]);
    expect(bundle).not.toBeNull();
  });

  it("records the policy", () => {
    expect(bundle!.policies).toEqual([{
      name: "procurement", version: "2026.11.21-1", file: "policies/procurement.yaml",
      mode: "enforce", default: "deny", agentModes: {},
      span: expect.objectContaining({ file: "policies/procurement.yaml" }),
    }]);
  });

  it("desugars the agent entry in place: conditions, approvals, then the allow/sanitize rule", () => {
    const rules = bundle!.rules.map((r) => ({
      id: r.id, effect: r.effect, agents: r.agents, tools: r.tools, actions: r.actions,
      when: show(r.when), reason: r.reason, redact: r.redact, mode: r.mode,
    }));
    const common = { agents: ["reorder-agent"], tools: ["inventory-api"], actions: ["create_order"], mode: "enforce" };
    expect(rules).toEqual([
      {
        id: "agent:reorder-agent:inventory-api:condition:1", effect: "deny", ...common,
        when: "!((params.order_amount <= 10000))",
        reason: "condition failed: `params.order_amount <= 10000`", redact: [],
      },
      {
        id: "agent:reorder-agent:inventory-api:condition:2", effect: "deny", ...common,
        when: "!(matches(params.supplier_id, /^SUPP-[0-9]{4}$/))",
        reason: 'condition failed: `params.supplier_id.matches("^SUPP-[0-9]{4}$")`', redact: [],
      },
      {
        id: "agent:reorder-agent:inventory-api:approval:1", effect: "approval_needed", ...common,
        when: "(params.quantity > (params.baseline_quantity * 3))",
        reason: "approval needed: `params.quantity > params.baseline_quantity * 3`", redact: [],
      },
      {
        id: "agent:reorder-agent:inventory-api", effect: "sanitize", ...common, when: "true",
        reason: "agent `reorder-agent` may call `inventory-api`", redact: [["contact_email"]],
      },
      {
        id: "pay-over-5k", effect: "approval_needed", agents: ["finance-agent"], tools: ["payments"],
        actions: ["create_payment"], mode: "enforce", when: "(params.amount > 5000)",
        reason: "payments over 5,000 need approval", redact: [],
      },
    ]);
  });

  it("keeps spans pointing into the file", () => {
    const rule = bundle!.rules[0];
    const not = rule.when!;
    if (not.kind !== "not" || not.operand.kind !== "binary") throw new Error("shape");
    expect(procurement.slice(not.span.start, not.span.end)).toBe("params.order_amount <= 10000");
    expect(procurement.slice(not.operand.span.start, not.operand.span.start + 2)).toBe("<=");
    expect(procurement.slice(not.operand.left.span.start, not.operand.left.span.end)).toBe(".order_amount");
  });

  it("normalises egress and keeps DLP patterns", () => {
    expect(bundle!.egress).toEqual({
      mode: "enforce", policy: 0,
      entries: [
        expect.objectContaining({ host: "portal.acme-supplier.com", wildcard: false, policy: 0 }),
        expect.objectContaining({ host: "internal.example", wildcard: true, policy: 0 }),
      ],
    });
    expect(bundle!.dlp).toEqual([
      expect.objectContaining({ name: "ssn", pattern: "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b", policy: 0, mode: "enforce" }),
    ]);
  });
});

describe("top-level keys", () => {
  it("requires aegis, policy and version", () => {
    expect(errorsOf("mode: enforce\n")).toEqual([
      "1:1: the policy is missing the required key `aegis`",
      "1:1: the policy is missing the required key `policy`",
      "1:1: the policy is missing the required key `version`",
    ]);
  });

  it("rejects other language versions and non-string versions with a quoting hint", () => {
    expect(errorsOf('aegis: 2\npolicy: p\nversion: "1"\n')).toEqual([
      "1:8: unsupported language version `2`; this compiler reads `aegis: 1`",
    ]);
    expect(errorsOf("aegis: 1\npolicy: p\nversion: 2026.11\n")).toEqual([
      '3:10: `version` must be a string; YAML reads `2026.11` as a number, so quote it: `version: "2026.11"`',
    ]);
  });

  it("reports unknown keys with a did-you-mean hint", () => {
    expect(errorsOf(`${HEAD}rule:\n  - id: r\n`)).toEqual([
      "4:1: unknown key `rule` in the policy; did you mean `rules`?",
    ]);
    expect(errorsOf(`${HEAD}zzz: 1\n`)).toEqual(["4:1: unknown key `zzz` in the policy"]);
  });

  it("checks mode, default, description and section types", () => {
    expect(errorsOf(`${HEAD}mode: shadows\ndefault: permit\ndescription: 5\nrules: {a: 1}\n`)).toEqual([
      "4:7: `mode` must be `enforce` or `shadow`, found `shadows`; did you mean `shadow`?",
      "5:10: `default` must be `deny` or `allow`, found `permit`",
      "6:14: `description` must be a string, found a number",
      "7:8: `rules` must be a list, found a map",
    ]);
  });

  it("requires the file to be a map and not empty", () => {
    expect(errorsOf("- a\n")).toEqual(["1:1: a policy file must be a map, found a list"]);
    expect(errorsOf("")).toEqual(["1:1: the policy file is empty; it needs at least `aegis`, `policy` and `version`"]);
  });

  it("checks the policy name", () => {
    expect(errorsOf('aegis: 1\npolicy: "my policy"\nversion: "1"\n')).toEqual([
      "2:9: policy name `my policy` may only contain letters, digits, `_`, `.` and `-`",
    ]);
  });
});

describe("rules", () => {
  it("uses defaults: any selector, enforce mode, no reason, always true", () => {
    const r = check(`${HEAD}rules:\n  - id: r.1_a-b\n    effect: allow\n`);
    expect(r.errors).toEqual([]);
    expect(r.bundle!.rules[0]).toMatchObject({
      id: "r.1_a-b", effect: "allow", mode: "enforce", policy: 0, agents: null, tools: null, actions: null,
      when: null, reason: "", redact: [],
    });
  });

  it("reads selectors as a string, a list, or `*`", () => {
    const r = check(`${HEAD}rules:\n  - id: r\n    effect: deny\n    agent: a\n    tool: [t1, t2]\n    action: "*"\n    mode: shadow\n`);
    expect(r.bundle!.rules[0]).toMatchObject({ agents: ["a"], tools: ["t1", "t2"], actions: null, mode: "shadow" });
  });

  it("joins a list of `when` expressions with && from left to right", () => {
    const r = check(`${HEAD}rules:\n  - id: r\n    effect: deny\n    when:\n      - tool == "a"\n      - action == "b"\n      - has(params.c)\n`);
    expect(show(r.bundle!.rules[0].when)).toBe('(((tool == "a") && (action == "b")) && has(params.c))');
  });

  it("reports bad ids, effects, selectors and keys at their positions", () => {
    expect(errorsOf(`${HEAD}rules:
  - id: "bad id"
    effect: allow
  - id: default
    effect: allow
  - id: r3
    effect: permit
  - id: r4
    effect: deny
    tool: [a, "*"]
    agent: []
    action: 5
  - effect: deny
  - id: r6
    effect: deny
    whn: tool == "x"
`)).toEqual([
      "5:9: rule id `bad id` may only contain letters, digits, `_`, `.` and `-`",
      "7:9: rule id `default` is reserved; choose another id",
      "10:13: `effect` must be `allow`, `deny`, `approval_needed` or `sanitize`, found `permit`",
      "13:15: `*` inside a list is not allowed in `tool`; write `tool: \"*\"` (or omit it) to match any",
      "14:12: `agent` must not be an empty list",
      "15:13: `action` must be a string or a list of strings, found a number",
      "16:5: a rule is missing the required key `id`",
      "19:5: unknown key `whn` in a rule; did you mean `when`?",
    ]);
  });

  it("rejects duplicate rule ids, naming the first definition", () => {
    expect(errorsOf(`${HEAD}rules:\n  - id: r\n    effect: allow\n  - id: r\n    effect: deny\n`)).toEqual([
      "7:9: duplicate rule id `r` (first defined at p.yaml:5:9)",
    ]);
  });

  it("checks redact paths and their effect", () => {
    const ok = check(`${HEAD}rules:\n  - id: r\n    effect: sanitize\n    redact: [params.card.number, 'params["x-y"].z', params.\`a b\`]\n`);
    expect(ok.errors).toEqual([]);
    expect(ok.bundle!.rules[0].redact).toEqual([["card", "number"], ["x-y", "z"], ["a b"]]);
    expect(errorsOf(`${HEAD}rules:
  - id: r1
    effect: allow
    redact: [params.a]
  - id: r2
    effect: sanitize
  - id: r3
    effect: sanitize
    redact: [params, context.a, "params.a[0]", params.*]
`)).toEqual([
      "7:5: `redact` is only allowed with `effect: sanitize`, not `effect: allow`",
      "9:13: a `sanitize` rule needs a `redact` list of `params` paths to redact",
      "12:14: redact path `params` must be a field path under `params`, like `params.card.number` or `params[\"x-y\"]`",
      "12:22: redact path `context.a` must be a field path under `params`, like `params.card.number` or `params[\"x-y\"]`",
      "12:33: redact path `params.a[0]` must be a field path under `params`, like `params.card.number` or `params[\"x-y\"]`",
      "12:55: expected a field name after `.`, found `*`",
    ]);
  });

  it("rejects an empty reason and a when that is not a bool", () => {
    expect(errorsOf(`${HEAD}rules:\n  - id: r\n    effect: deny\n    reason: ""\n    when: size(params.x)\n`)).toEqual([
      "7:13: `reason` must not be empty",
      "8:11: `when` must be a bool expression, but this is an int",
    ]);
  });
});

describe("agents (agent-centric form)", () => {
  it("uses agent and tool modes, tool reasons, `*` actions and #n suffixes for repeated tools", () => {
    const r = check(`${HEAD}mode: enforce
agents:
  - agent: bot
    mode: shadow
    allowed_tools:
      - name: search
        reason: searching is fine
      - name: search
        actions: [read, write]
        mode: enforce
        conditions: params.n < 5
      - name: mail
        actions: "*"
        approval_needed_if: [params.external == true, size(params.to) > 3]
`);
    expect(r.errors).toEqual([]);
    const b = r.bundle!;
    expect(b.policies[0].agentModes).toEqual({ bot: "shadow" });
    expect(b.rules.map((x) => [x.id, x.effect, x.mode, x.actions, x.reason])).toEqual([
      ["agent:bot:search", "allow", "shadow", null, "searching is fine"],
      ["agent:bot:search#2:condition:1", "deny", "enforce", ["read", "write"], "condition failed: `params.n < 5`"],
      ["agent:bot:search#2", "allow", "enforce", ["read", "write"], "agent `bot` may call `search`"],
      ["agent:bot:mail:approval:1", "approval_needed", "shadow", null, "approval needed: `params.external == true`"],
      ["agent:bot:mail:approval:2", "approval_needed", "shadow", null, "approval needed: `size(params.to) > 3`"],
      ["agent:bot:mail", "allow", "shadow", null, "agent `bot` may call `mail`"],
    ]);
  });

  it("keeps file order between agents and rules sections", () => {
    const r = check(`${HEAD}rules:\n  - id: first\n    effect: deny\nagents:\n  - agent: a\n    allowed_tools: [{name: t}]\n`);
    expect(r.bundle!.rules.map((x) => x.id)).toEqual(["first", "agent:a:t"]);
  });

  it("reports a repeated agent, missing keys, unknown keys and bad conditions", () => {
    expect(errorsOf(`${HEAD}agents:
  - agent: a
    allowed_tools:
      - name: t
        conditons: [params.x > 1]
  - agent: a
    allowed_tools: []
  - agent: b
  - agent: c
    allowed_tools:
      - actions: [x]
      - name: u
        conditions:
          - params.x +
          - params.y.startsWith(1)
`)).toEqual([
      "8:9: unknown key `conditons` in an `allowed_tools` entry; did you mean `conditions`?",
      "9:12: agent `a` is listed twice in this policy (first at p.yaml:5:12); merge the entries",
      "11:5: an agent entry is missing the required key `allowed_tools`",
      "14:9: an `allowed_tools` entry is missing the required key `name`",
      "17:23: expected an expression, found end of expression",
      "18:33: `startsWith` needs a string argument, not an int",
    ]);
  });
});

describe("expressions", () => {
  it("resolves variables and agent fields", () => {
    expect(when('agent.id == "a" && "x" in agent.scopes && has(agent.tenant)')).toBe(
      '(((agent.id == "a") && ("x" in agent.scopes)) && has(agent.tenant))',
    );
    expect(when("tool == action || context.x == params.y")).toBe("((tool == action) || (context.x == params.y))");
  });

  it("normalises literal-key indexes to selects and receiver calls to canonical calls", () => {
    expect(when(`'params["x-y"].z == context["a"] && params.l[0] == params["k"][1]'`)).toBe(
      '((params.x-y.z == context.a) && (params.l[0] == params.k[1]))',
    );
    expect(when(`'params.s.startsWith("a") && params.s.endsWith("b") && params.s.contains("c")'`)).toBe(
      '((startsWith(params.s, "a") && endsWith(params.s, "b")) && contains(params.s, "c"))',
    );
    expect(when(`'size(params.s) == params.s.size() && params.s.lowerAscii() == "a"'`)).toBe(
      '((size(params.s) == size(params.s)) && (lowerAscii(params.s) == "a"))',
    );
    expect(when(`'url(params.u).getHost() == "a" && url(params.u).getScheme() == url(params.u).getPort()'`)).toBe(
      '((url.getHost(params.u) == "a") && (url.getScheme(params.u) == url.getPort(params.u)))',
    );
    expect(when(`'cidr("10.0.0.0/8").containsIP(params.ip) && isIP(params.ip)'`)).toBe(
      '(cidr.containsIP("10.0.0.0/8", params.ip) && isIP(params.ip))',
    );
    expect(when(`'isIBAN(params.i) || isLuhn(params.c) || isURL(params.u) || matches(params.s, "^a")'`)).toBe(
      '(((isIBAN(params.i) || isLuhn(params.c)) || isURL(params.u)) || matches(params.s, /^a/))',
    );
    expect(when(`'int(params.a) + 1 > double("2.5") && string(params.b) == "c"'`)).toBe(
      '(((int(params.a) + 1) > double("2.5")) && (string(params.b) == "c"))',
    );
    expect(when(`'-params.a < 0 ? !params.b : [1, 2.5, "x"] == params.l'`)).toBe(
      '((-(params.a) < 0) ? !(params.b) : ([1, 2.5d, "x"] == params.l))',
    );
  });

  it("points unknown variables, fields and functions at the name, dot or call", () => {
    expect(whenErrors("params.amount > limit")).toEqual([
      "27: unknown variable `limit`; the variables are `agent`, `tool`, `action`, `params` and `context`, and strings need quotes",
    ]);
    expect(whenErrors("parms.amount > 1")).toEqual(["11: unknown variable `parms`; did you mean `params`?"]);
    expect(whenErrors('agent.tenantt == "a"')).toEqual([
      "16: unknown field `agent.tenantt`; `agent` has `id`, `tenant` and `scopes`; did you mean `tenant`?",
    ]);
    expect(whenErrors('params.s.startswith("a")')).toEqual(["19: unknown function `startswith`; did you mean `startsWith`?"]);
    expect(whenErrors("sise(params.s) > 1")).toEqual(["11: unknown function `sise`; did you mean `size`?"]);
    expect(whenErrors("params.l.all(x, x > 1)")).toEqual([
      "19: comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`) are not supported",
    ]);
    expect(whenErrors('startsWith(tool, "a")')).toEqual(["11: `startsWith` is a method; call it on a value, like `s.startsWith(...)`"]);
    expect(whenErrors("tool.isIBAN()")).toEqual(["15: `isIBAN` is a function, not a method; write `isIBAN(x)`"]);
  });

  it("reports definite type errors at the operator", () => {
    expect(whenErrors(`'"a" + 1 == "a1"'`)).toEqual(["16: cannot apply `+` to string and int"]);
    expect(whenErrors("size(true) > 0")).toEqual(["11: `size` needs a string, list or map, not a bool"]);
    expect(whenErrors('"!5"')).toEqual(["12: `!` needs a bool, not an int"]);
    expect(whenErrors(`'1 < "a"'`)).toEqual(["14: cannot apply `<` to int and string"]);
    expect(whenErrors("tool.x == 1")).toEqual(["15: cannot select field `x` from `tool` (a string); only maps have fields"]);
    expect(whenErrors("params.a.startsWith(1)")).toEqual(["31: `startsWith` needs a string argument, not an int"]);
    expect(whenErrors("1 && params.a")).toEqual(["13: `&&` needs bool operands, not an int"]);
    expect(whenErrors("params.a in 5")).toEqual(["20: the right side of `in` must be a list or a map, not an int"]);
    expect(whenErrors("tool[0] == 1")).toEqual(["15: cannot index a string; only lists and maps can be indexed"]);
    expect(whenErrors(`'[1]["a"] == 1'`)).toEqual(["15: a list index must be a number, not a string"]);
    expect(whenErrors("-tool == 1")).toEqual(["11: unary `-` needs a number, not a string"]);
    expect(whenErrors("string(1.5) == params.a")).toEqual([
      "11: `string` of a double is not supported (hosts print doubles differently); convert with `int` first",
    ]);
    expect(whenErrors("int([1]) == 1")).toEqual(["11: `int` converts a number or a string, not a list"]);
    expect(whenErrors('"5 ? true : false"')).toEqual(["14: the condition of `?:` must be a bool, not an int"]);
    expect(whenErrors("has(params)")).toEqual(["11: `has` needs a field selection like `has(params.x)`"]);
    expect(whenErrors("isURL(1, 2)")).toEqual(["11: `isURL` takes 1 argument (`isURL(x)`), found 2"]);
    expect(whenErrors("url(tool)")).toEqual([
      "11: `url(s)` is only allowed as `url(s).getHost()`, `url(s).getScheme()` or `url(s).getPort()`",
    ]);
    expect(whenErrors('tool.getHost() == "a"')).toEqual(["15: `getHost` must be called on `url(s)`, like `url(s).getHost()`"]);
    expect(whenErrors('params.s.matches(params.p)')).toEqual([
      "28: the pattern of `matches` must be a string literal, like `s.matches(\"^[0-9]+$\")`",
    ]);
  });

  it("accepts what may be right at run time", () => {
    expect(when("params.a + 1 > params.b")).toBe("((params.a + 1) > params.b)");
    expect(when("params.flag")).toBe("params.flag");
    expect(when("1 == 'a' || null == params.x")).toBe('((1 == "a") || (null == params.x))');
    expect(when("1 + 2.5 > 3")).toBe("((1 + 2.5d) > 3)");
  });

  it("reports several errors in one expression", () => {
    expect(whenErrors('foo > 1 && agent.bar == "x"')).toEqual([
      "11: unknown variable `foo`; the variables are `agent`, `tool`, `action`, `params` and `context`, and strings need quotes",
      "27: unknown field `agent.bar`; `agent` has `id`, `tenant` and `scopes`",
    ]);
  });

  it("maps positions inside quoted and multi-line expression scalars", () => {
    expect(errorsOf(`${HEAD}rules:\n  - id: r\n    effect: deny\n    when: "tool == 'a' && agent.x"\n`)).toEqual([
      "7:32: unknown field `agent.x`; `agent` has `id`, `tenant` and `scopes`",
    ]);
    expect(errorsOf(`${HEAD}rules:\n  - id: r\n    effect: deny\n    when: >\n      tool == "a" &&\n        agent.x\n`)).toEqual([
      "9:14: unknown field `agent.x`; `agent` has `id`, `tenant` and `scopes`",
    ]);
  });

  it("points regex errors at the pattern character in the file", () => {
    const errors = errorsOf(`${HEAD}rules:\n  - id: r\n    effect: deny\n    when: params.s.matches("ab[c")\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^7:(2[89]|3[0-2]): invalid regex: /);
    const e = check(`${HEAD}rules:\n  - id: r\n    effect: deny\n    when: params.s.matches("a(?<n")\n`).errors[0];
    expect(e.message).toMatch(/^invalid regex: /);
    expect(e.col).toBeGreaterThanOrEqual(30);
  });
});

describe("egress", () => {
  it("normalises hosts as a WHATWG URL parser does", () => {
    expect(normalizeEgressHost("Portal.Example.COM.")).toEqual({ host: "portal.example.com", wildcard: false });
    expect(normalizeEgressHost("*.Internal.Example")).toEqual({ host: "internal.example", wildcard: true });
    expect(normalizeEgressHost("bücher.de")).toEqual({ host: "xn--bcher-kva.de", wildcard: false });
    expect(normalizeEgressHost("10.0.0.1")).toEqual({ host: "10.0.0.1", wildcard: false });
    expect(normalizeEgressHost("[::1]")).toEqual({ host: "[::1]", wildcard: false });
  });

  it("rejects schemes, paths, ports, empty labels, stray stars and invalid hosts", () => {
    for (const bad of ["https://a.com", "a.com/x", "a.com:443", "a..com", ".a.com", "a.*.com", "*", "*.", "a b.com", "*.10.0.0.1", "", "256.1.1.1"]) {
      expect(normalizeEgressHost(bad)).toHaveProperty("error");
    }
  });

  it("reports bad entries at their position", () => {
    expect(errorsOf(`${HEAD}egress:\n  allow_domains:\n    - ok.com\n    - https://x.com\n    - 5\n  deny_domains: []\n`)).toEqual([
      "7:7: egress host `https://x.com` must be a host name without a scheme; write just the host, like `example.com`",
      "8:7: `allow_domains` entries must be host names, found a number",
      "9:3: unknown key `deny_domains` in `egress`",
    ]);
  });

  it("unites the lists of every policy, enforcing if any declaring policy enforces", () => {
    const r = checkSources([
      { path: "a.yaml", text: 'aegis: 1\npolicy: a\nversion: "1"\nmode: shadow\negress:\n  allow_domains: [a.com, b.com]\n' },
      { path: "b.yaml", text: 'aegis: 1\npolicy: b\nversion: "1"\n' },
      { path: "c.yaml", text: 'aegis: 1\npolicy: c\nversion: "1"\negress:\n  allow_domains: [B.com, c.com]\n' },
    ]);
    expect(r.errors).toEqual([]);
    const eg = r.bundle!.egress!;
    expect(eg.mode).toBe("enforce");
    expect(eg.policy).toBe(2);
    expect(eg.entries.map((e) => [e.host, e.policy])).toEqual([["a.com", 0], ["b.com", 0], ["c.com", 2]]);
    const shadowOnly = checkSources([
      { path: "a.yaml", text: 'aegis: 1\npolicy: a\nversion: "1"\nmode: shadow\negress:\n  allow_domains: [a.com]\n' },
    ]);
    expect(shadowOnly.bundle!.egress).toMatchObject({ mode: "shadow", policy: 0 });
    expect(check(HEAD).bundle!.egress).toBeNull();
  });
});

describe("dlp", () => {
  it("takes the pattern's mode, else the policy's", () => {
    const r = check(`${HEAD}mode: shadow\ndlp:\n  - name: a\n    pattern: x\n  - name: b\n    pattern: y\n    mode: enforce\n`);
    expect(r.bundle!.dlp.map((d) => [d.name, d.mode])).toEqual([["a", "shadow"], ["b", "enforce"]]);
  });

  it("points regex errors into the file and checks names", () => {
    const errors = errorsOf(`${HEAD}dlp:\n  - name: card\n    pattern: 'x[0-9'\n  - name: "bad name"\n    pattern: x\n  - pattern: x\n`);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^6:(1[4-9]|2[0-9]): invalid regex: /);
    expect(errors.slice(1)).toEqual([
      "7:11: DLP name `bad name` may only contain letters, digits, `_`, `.` and `-`",
      "9:5: a `dlp` entry is missing the required key `name`",
    ]);
  });
});

describe("several files", () => {
  it("rejects clashing policy names, rule ids and DLP names across files", () => {
    const a = 'aegis: 1\npolicy: p\nversion: "1"\nrules:\n  - id: r\n    effect: allow\ndlp:\n  - name: d\n    pattern: x\n';
    expect(errorsOfSources([{ path: "a.yaml", text: a }, { path: "b.yaml", text: a }])).toEqual([
      "b.yaml:2:9: duplicate policy name `p` (first defined at a.yaml:2:9)",
      "b.yaml:5:9: duplicate rule id `r` (first defined at a.yaml:5:9)",
      "b.yaml:8:11: duplicate DLP name `d` (first defined at a.yaml:8:11)",
    ]);
  });

  it("keeps files in the order given and numbers policies accordingly", () => {
    const r = checkSources([
      { path: "b.yaml", text: 'aegis: 1\npolicy: b\nversion: "2"\nrules:\n  - id: rb\n    effect: allow\n' },
      { path: "a.yaml", text: 'aegis: 1\npolicy: a\nversion: "1"\nrules:\n  - id: ra\n    effect: deny\n' },
    ]);
    expect(r.bundle!.policies.map((p) => p.name)).toEqual(["b", "a"]);
    expect(r.bundle!.rules.map((x) => [x.id, x.policy])).toEqual([["rb", 0], ["ra", 1]]);
  });

  it("reports errors of every file, YAML errors included", () => {
    expect(errorsOfSources([
      { path: "a.yaml", text: "a: [\n" },
      { path: "b.yaml", text: `${HEAD}x: 1\n` },
    ]).map((e) => e.replace(/: invalid YAML.*$/, ": invalid YAML"))).toEqual([
      "a.yaml:2:1: invalid YAML",
      "b.yaml:4:1: unknown key `x` in the policy",
    ]);
  });
});

describe("hostile input", () => {
  it("rejects a YAML alias bomb, a 2 MiB file and 10,000-deep nesting with one error each", () => {
    let bomb = 'aegis: 1\npolicy: p\nversion: "1"\na0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n';
    for (let i = 1; i < 10; i++) bomb += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(",")}]\n`;
    const bombErrors = errorsOf(bomb);
    expect(bombErrors).toHaveLength(1);
    expect(bombErrors[0]).toMatch(/more than \d+ (aliases|YAML nodes)/);

    const big = `${HEAD}description: "${"x".repeat(2 * 1024 * 1024)}"\n`;
    expect(errorsOf(big)).toEqual(["1:1: file is larger than the limit of 1048576 bytes"]);

    const deep = `${HEAD}rules: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`;
    expect(errorsOf(deep)).toEqual(["4:71: nesting is deeper than 64 levels"]);

    const deepExpr = `${HEAD}rules:\n  - id: r\n    effect: deny\n    when: ${"(".repeat(10_000)}true${")".repeat(10_000)}\n`;
    expect(errorsOf(deepExpr)).toEqual(["7:75: expression is too deeply nested (more than 64 levels)"]);
  });
});

describe("formatting", () => {
  it("prints file:line:col: message, the source line and a caret line", () => {
    const text = `${HEAD}rules:\n  - id: r\n    effect: deny\n    when: params.amount > 5000 && agent.tenantt == "x"\n`;
    const sources = [{ path: "policies/procurement.yaml", text }];
    const { errors } = checkSources(sources);
    expect(errors).toHaveLength(1);
    expect(formatPolicyError(errors[0], sources)).toBe(
      "policies/procurement.yaml:7:40: unknown field `agent.tenantt`; `agent` has `id`, `tenant` and `scopes`; did you mean `tenant`?\n" +
      ' |     when: params.amount > 5000 && agent.tenantt == "x"\n' +
      " | .......................................^",
    );
  });

  it("joins every error in PolicyErrors", () => {
    const sources = [{ path: "x.yaml", text: "aegis: 1\n" }];
    const { errors } = checkSources(sources);
    const thrown = new PolicyErrors(errors, sources);
    expect(thrown.errors).toHaveLength(2);
    expect(thrown.message.split("\n").filter((l) => l.startsWith("x.yaml:"))).toEqual([
      "x.yaml:1:1: the policy is missing the required key `policy`",
      "x.yaml:1:1: the policy is missing the required key `version`",
    ]);
  });

  it("prints only the head line when the file is unknown", () => {
    const { errors } = check("aegis: 1\n");
    expect(formatPolicyError(errors[0], [])).toBe("p.yaml:1:1: the policy is missing the required key `policy`");
  });

  it("writes messages in house style: lowercase start, no final period", () => {
    const text = `aegis: 3\npolcy: x\nversion: 1\nrules:\n  - id: r\n    effect: nope\n    when: foo.bar(1) + "a"\n`;
    const { errors } = check(text);
    expect(errors.length).toBeGreaterThanOrEqual(4);
    for (const e of errors) expect(e.message).toMatch(/^[^A-Z].*[^.]$/s);
  });
});

describe("robustness", () => {
  it("never throws on arbitrary policy-like input; the bundle is null exactly when there are errors", () => {
    const lines = [
      "aegis: 1", "policy: p", 'version: "1"', "mode: shadow", "default: allow", "rules:", "agents:", "egress:",
      "  allow_domains: [a.com, '*.b.com']", "dlp:", "  - name: d", "    pattern: '[0-9]+'", "  - id: r",
      "    effect: deny", "    effect: sanitize", "    redact: [params.a]", "    when: params.a > 1",
      "    when: 'agent.x'", "  - agent: a", "    allowed_tools:", "      - name: t", "        conditions: [tool == 'x']",
      "    tool: [a, b]", "x: &a [1]", "y: *a", "- z", "  ", "---", "[", "{", "'", "when: !x", "# c",
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...lines), { maxLength: 25 }), (picked) => {
        const text = picked.join("\n") + "\n";
        const r = checkSources([{ path: "f.yaml", text }]);
        expect((r.bundle === null) === (r.errors.length > 0)).toBe(true);
        for (const e of r.errors) {
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.message).toMatch(/^[^A-Z].*[^.]$/s);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws when checking arbitrary expressions", () => {
    const pieces = [
      "agent", "tool", "action", "params", "context", "foo", ".", "id", "scopes", "x", "(", ")", "[", "]", ",",
      "?", ":", "!", "-", "+", "*", "/", "%", "==", "<", "&&", "||", " in ", "1", "1.5", "'s'", "true", "null",
      "size", "has", "matches", "startsWith", "url", "cidr", "getHost", "containsIP", "int", "string", "'('",
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 30 }), (parts) => {
        const r = checkExpressionSource(parts.join(""));
        expect((r.expr === null) === (r.errors.length > 0)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
