// fast-check generators for the differential, cel-js and fuzz tests: random policy bundles as YAML
// policy files (so the whole front end runs), random expressions over the whole expression
// language, and random requests as exact JSON text (number lexemes kept as written).
// Input: nothing but a fast-check seed. Output: arbitraries of Source[] (policy files), expression
// strings and request JSON text. Names come from small pools on purpose, so that selectors,
// agent modes, keys and fields collide with the requests often.
import fc from "fast-check";
import type { Source } from "../compiler/ast.ts";

/** Pools shared by policies and requests. */
export const AGENTS = ["a1", "a2", "finance-agent"] as const;
export const TOOLS = ["t1", "t2", "payments"] as const;
export const ACTIONS = ["x", "y", "create"] as const;
/** Keys of `params` the generators write and read. `x-y` is not an identifier, `if` is reserved. */
export const PARAM_KEYS = ["amount", "note", "email", "items", "flag", "x-y", "nested", "card", "if", "n"] as const;
export const CONTEXT_KEYS = ["egress", "call_chain", "cost_usd", "ticket"] as const;

// ---------------------------------------------------------------------------------------------
// Literals

/** Escape one code point for a CEL double-quoted string; every output is also YAML-printable. */
function celChar(cp: number, forceEscape: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (ch === '"') return '\\"';
  if (ch === "\\") return "\\\\";
  if (ch === "\n") return "\\n";
  if (ch === "\t") return "\\t";
  const yamlPrintable = (cp >= 0x20 && cp <= 0x7e) || cp === 0x85 || (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
  if (!forceEscape && yamlPrintable) return ch;
  return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, "0")}` : `\\U${cp.toString(16).padStart(8, "0")}`;
}

/** A CEL string literal for `s`, escaping what YAML could not carry (and, when asked, everything non-ASCII). */
export function celString(s: string, escapeNonAscii = false): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    out += celChar(cp, escapeNonAscii && cp > 0x7e);
  }
  return out + '"';
}

/** Strings shaped like what DLP patterns, field checks and egress look for, plus Unicode edge cases. */
export const SPECIAL_STRINGS = [
  "", "a", "A", "abc", "admin", "ADMIN", "x-y", "SUPP-0042", "SUPP-42", "usd", "USD",
  "078-05-1120", "SSN 078-05-1120 and 123-45-6789", "123-45-67890",
  "ana@acme-supplier.com", "backup: ops@acme-supplier.com", "not-an-email@", "a@b.co",
  "4111 1111 1111 1111", "4111111111111111", "4111111111111112", "79927398713", "0",
  "DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "DE00370400440532013000",
  "https://portal.acme-supplier.com/po", "http://a.internal.example:8080/x", "HTTPS://EXAMPLE.COM.", "ftp://[::1]/",
  "not a url", "javascript:alert(1)", "http://0x7f.1/", "https://bücher.example/", "http://xn--bcher-kva.example",
  "10.0.0.5", "192.168.1.1", "01.2.3.4", "::1", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0",
  "10.0.0.0/8", "2001:db8::/32", "1.2.3.4/33", "42", "-7", "3.5", "1e3", "9223372036854775808", " 1",
  "é", "É", "日本語", "👍", "a\u0000b", "line\nbreak", "tab\there", "quote\"back\\slash", "\u2028", "\u00a0",
  "ǅ", "ß", "K", "\u{10ffff}", "\ufeff",
];

/** Unicode text of any code point (never a lone surrogate). */
const unicodeText = fc.string({ unit: "binary", maxLength: 8 });

/** A string value: mostly special shapes, sometimes random Unicode. */
export const stringValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: unicodeText },
  { weight: 1, arbitrary: fc.constantFrom(...AGENTS, ...TOOLS, ...ACTIONS, ...PARAM_KEYS) },
);

/** JSON number lexemes: ints, negative, fractional, huge, tiny, exponent forms, -0. */
export const NUMBER_LEXEMES = [
  "0", "-0", "1", "-1", "2", "3", "7", "100", "500", "5000", "5000.0", "5e3", "10000", "10001", "0.5", "-7.25",
  "0.1", "1e-7", "1E2", "9007199254740992", "9007199254740993", "9223372036854775807", "9223372036854775808",
  "-9223372036854775808", "12345678901234567890", "1e308", "1e400", "-1e400", "1e-400", "4.9e-324", "0.30000000000000004",
  "3.0", "2.5", "-0.0",
];

const numberLexeme: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMBER_LEXEMES) },
  { weight: 1, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)) },
);

// ---------------------------------------------------------------------------------------------
// Requests: a JSON model that keeps number lexemes, written out as exact JSON text

/** A JSON value whose numbers keep their lexeme. Object keys are unique. */
export type Json =
  | { k: "null" } | { k: "bool"; v: boolean } | { k: "num"; lex: string } | { k: "str"; v: string }
  | { k: "arr"; v: Json[] } | { k: "obj"; v: [string, Json][] };

/** The JSON text of `j` (strings escaped as JSON.stringify does). */
export function jsonText(j: Json): string {
  switch (j.k) {
    case "null": return "null";
    case "bool": return j.v ? "true" : "false";
    case "num": return j.lex;
    case "str": return JSON.stringify(j.v);
    case "arr": return `[${j.v.map(jsonText).join(",")}]`;
    case "obj": return `{${j.v.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")}}`;
  }
}

const str = (v: string): Json => ({ k: "str", v });

/** Any JSON value, nested at most `depth` levels. */
export function jsonValue(depth: number): fc.Arbitrary<Json> {
  const leaf: fc.Arbitrary<Json> = fc.oneof(
    { weight: 1, arbitrary: fc.constant<Json>({ k: "null" }) },
    { weight: 1, arbitrary: fc.boolean().map((v): Json => ({ k: "bool", v })) },
    { weight: 3, arbitrary: numberLexeme.map((lex): Json => ({ k: "num", lex })) },
    { weight: 4, arbitrary: stringValue.map(str) },
  );
  if (depth <= 0) return leaf;
  const inner = jsonValue(depth - 1);
  return fc.oneof(
    { weight: 5, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(inner, { maxLength: 4 }).map((v): Json => ({ k: "arr", v })) },
    { weight: 1, arbitrary: jsonObject(fc.constantFrom("a", "b", "number", "x-y", "é", ""), inner, 4) },
  );
}

function jsonObject(keys: fc.Arbitrary<string>, values: fc.Arbitrary<Json>, maxKeys: number): fc.Arbitrary<Json> {
  return fc.uniqueArray(fc.tuple(keys, values), { selector: ([k]) => k, maxLength: maxKeys })
    .map((v): Json => ({ k: "obj", v }));
}

/** The value of a `params` key, shaped by its name most of the time (amount is a number, ...). */
function paramValue(key: string): fc.Arbitrary<Json> {
  const shaped: Record<string, fc.Arbitrary<Json>> = {
    amount: numberLexeme.map((lex): Json => ({ k: "num", lex })),
    n: numberLexeme.map((lex): Json => ({ k: "num", lex })),
    flag: fc.boolean().map((v): Json => ({ k: "bool", v })),
    items: fc.array(jsonValue(1), { maxLength: 4 }).map((v): Json => ({ k: "arr", v })),
    nested: jsonObject(fc.constantFrom("a", "b", "c"), jsonValue(1), 3),
    card: jsonObject(fc.constantFrom("number", "holder"), stringValue.map(str), 2),
  };
  const s = shaped[key];
  return s ? fc.oneof({ weight: 4, arbitrary: s }, { weight: 1, arbitrary: jsonValue(2) }) : jsonValue(2);
}

/** Egress URLs of many shapes: allowed, subdomains, apex, IPs, ports, tricks, not URLs at all. */
export const EGRESS_URLS = [
  "https://portal.acme-supplier.com/po", "HTTPS://Portal.Acme-Supplier.COM./x", "https://portal.acme-supplier.com:8443/",
  "https://a.internal.example/", "https://b.a.internal.example", "https://internal.example/", "http://internal.example./",
  "https://evil.com@portal.acme-supplier.com/", "https://portal.acme-supplier.com.evil.com/", "https://portal.acme-supplier.com@evil.com/",
  "http://10.0.0.5/", "http://0xa.0.0.5/", "http://[2001:db8::1]:80/", "http://[2001:DB8:0::1]/", "http://10.0.0.6/",
  "not a url", "", "//portal.acme-supplier.com", "javascript:alert(1)", "mailto:a@b.c", "file:///etc/passwd",
  "https://bücher.example/", "https://xn--bcher-kva.example/", "ws://a.internal.example/socket", "ftp://portal.acme-supplier.com/",
  "https://portal.acme-supplier.com\\@evil.com/", "https://%70ortal.acme-supplier.com/", "http://a.internal.example%2e/",
];

const egressValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(...EGRESS_URLS).map(str), { maxLength: 3 }).map((v): Json => ({ k: "arr", v })) },
  { weight: 1, arbitrary: jsonValue(1) },
  { weight: 1, arbitrary: fc.array(jsonValue(0), { minLength: 1, maxLength: 2 }).map((v): Json => ({ k: "arr", v })) },
);

function contextValue(key: string): fc.Arbitrary<Json> {
  if (key === "egress") return egressValue;
  if (key === "call_chain") return fc.array(fc.constantFrom(...AGENTS).map(str), { maxLength: 3 }).map((v): Json => ({ k: "arr", v }));
  if (key === "cost_usd") return numberLexeme.map((lex): Json => ({ k: "num", lex }));
  return jsonValue(1);
}

/** A valid request (shape as docs/semantics.md "Request validation"), as exact JSON text. */
export const requestJson: fc.Arbitrary<string> = fc.record({
  id: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...AGENTS) }, { weight: 1, arbitrary: fc.constantFrom("A1", "a1 ", "é-agent") }),
  tenant: fc.option(fc.constantFrom("acme", "", "Acme"), { nil: undefined }),
  scopes: fc.option(fc.array(fc.constantFrom("admin", "payments:write", "read", "ADMIN"), { maxLength: 3 }), { nil: undefined }),
  tool: fc.constantFrom(...TOOLS),
  action: fc.constantFrom(...ACTIONS),
  params: fc.option(fc.uniqueArray(fc.constantFrom(...PARAM_KEYS), { minLength: 3, maxLength: PARAM_KEYS.length }).chain((keys) =>
    fc.tuple(...keys.map((k) => paramValue(k).map((v): [string, Json] => [k, v])))), { nil: undefined }),
  context: fc.option(fc.uniqueArray(fc.constantFrom(...CONTEXT_KEYS), { minLength: 1, maxLength: 4 }).chain((keys) =>
    fc.tuple(...keys.map((k) => contextValue(k).map((v): [string, Json] => [k, v])))), { nil: undefined }),
  token: fc.option(fc.constantFrom("tok", ""), { nil: undefined }),
}).map((r) => {
  const agent: [string, Json][] = [["id", str(r.id)]];
  if (r.tenant !== undefined) agent.push(["tenant", str(r.tenant)]);
  if (r.scopes !== undefined) agent.push(["scopes", { k: "arr", v: r.scopes.map(str) }]);
  const top: [string, Json][] = [["agent", { k: "obj", v: agent }], ["tool", str(r.tool)], ["action", str(r.action)]];
  if (r.params !== undefined) top.push(["params", { k: "obj", v: r.params }]);
  if (r.context !== undefined) top.push(["context", { k: "obj", v: r.context }]);
  if (r.token !== undefined) top.push(["override_token", str(r.token)]);
  return jsonText({ k: "obj", v: top });
});

// ---------------------------------------------------------------------------------------------
// Expressions. Each generator aims at one static type so that the checker accepts most of what is
// generated; request fields (`params.*`, `context.*`) are dynamic and fit anywhere, which is how
// run-time type errors, missing keys and overflow reach the engine.

/** Valid RE2-subset patterns (docs/regex.md) for `matches`. None contains `"`. */
export const MATCH_PATTERNS = [
  "^SUPP-[0-9]{4}$", "\\d+", "(?i)admin", "^$", "a|b", "[^a-z]", "\\bfoo\\b", ".*", "é", "^\\w+@\\w+\\.com$",
  "(?s)a.b", "x{2,3}", "[[:alpha:]]+", "\\Qa.b\\E", "(?m)^b$", "a*?", "日本", "^[A-Z]{2}[0-9]{2}", "[0-9]{3}-[0-9]{2}-[0-9]{4}",
  "(?i)^https?://", "\\s", "^.{3}$", "(a|ab)(c|bcd)", "\\x{1F44D}", "[\\x00-\\x1f]",
];

/** Paths into the request whose type is only known at run time. */
export const DYN_PATHS = [
  "params.amount", "params.note", "params.email", "params.items", "params.flag", 'params["x-y"]', "params.`x-y`",
  "params.nested", "params.nested.a", 'params.nested["b"]', "params.card.number", "params.if", "params.n",
  "params.missing", "params.items[0]", "params.items[1]", "params.items[params.n]", "context.cost_usd",
  "context.call_chain", "context.ticket", "context.egress", "context.egress[0]",
];

const INT_LITERALS = [
  "0", "1", "-1", "2", "3", "7", "10", "100", "5000", "10000", "9223372036854775807", "-9223372036854775808",
  "4611686018427387904", "0x1F", "-0x10", "3037000500",
];
const DOUBLE_LITERALS = ["1.5", "0.0", "-0.0", "1e3", "2.5E-3", ".5", "1e308", "5000.0", "0.1", "-7.25", "9007199254740993.0"];

const dyn = fc.constantFrom(...DYN_PATHS);
const paren = (s: string) => `(${s})`;

/** Bounded-depth generators of expressions of one static type each. */
export interface ExprArbitraries {
  bool: fc.Arbitrary<string>;
  num: fc.Arbitrary<string>;
  str: fc.Arbitrary<string>;
  list: fc.Arbitrary<string>;
  any: fc.Arbitrary<string>;
}

/** Expression generators of at most `depth` nested operators. */
export function expressions(depth: number): ExprArbitraries {
  const strLit = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS).map((s) => celString(s)) },
    { weight: 1, arbitrary: stringValue.map((s) => celString(s, true)) },
    { weight: 1, arbitrary: fc.constantFrom("'single'", "r'\\d'", '"""tri"ple"""', "'é\\x41\\101'", "''") },
  );
  const numLeaf = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...INT_LITERALS) },
    { weight: 2, arbitrary: fc.constantFrom(...DOUBLE_LITERALS) },
    { weight: 3, arbitrary: dyn },
  );
  const strLeaf = fc.oneof(
    { weight: 3, arbitrary: strLit },
    { weight: 2, arbitrary: fc.constantFrom("tool", "action", "agent.id", "agent.tenant") },
    { weight: 2, arbitrary: dyn },
  );
  const boolLeaf = fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom("true", "false") },
    { weight: 2, arbitrary: fc.constantFrom(...PARAM_KEYS.map((k) => `has(params.${k === "x-y" ? "`x-y`" : k})`), "has(params.nested.a)", "has(context.egress)", "has(agent.tenant)", "has(params.items.a)") },
    { weight: 2, arbitrary: dyn },
  );
  const listLeaf = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom("agent.scopes", "[]", "[1, 2, 3]", '["a1", "t1"]', "[1, 2.0, \"2\", null, true]", "[[1], []]") },
    { weight: 2, arbitrary: dyn },
  );
  if (depth <= 0) {
    const any = fc.oneof(numLeaf, strLeaf, boolLeaf, listLeaf, fc.constant("null"));
    return { bool: boolLeaf, num: numLeaf, str: strLeaf, list: listLeaf, any };
  }
  const sub = expressions(depth - 1);
  const cond = (a: fc.Arbitrary<string>) =>
    fc.tuple(sub.bool, a, a).map(([c, x, y]) => `${paren(c)} ? ${paren(x)} : ${paren(y)}`);
  const num: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: numLeaf },
    { weight: 3, arbitrary: fc.tuple(sub.num, fc.constantFrom("+", "-", "*", "/", "%"), sub.num).map(([a, op, b]) => `${paren(a)} ${op} ${paren(b)}`) },
    { weight: 1, arbitrary: sub.num.map((a) => `-${paren(a)}`) },
    { weight: 1, arbitrary: fc.oneof(sub.str, sub.list, dyn).map((a) => `size(${a})`) },
    { weight: 1, arbitrary: fc.oneof(sub.str, sub.list).map((a) => `${paren(a)}.size()`) },
    { weight: 1, arbitrary: fc.oneof(sub.num, sub.str).map((a) => `int(${a})`) },
    { weight: 1, arbitrary: fc.oneof(sub.num, sub.str).map((a) => `double(${a})`) },
    { weight: 1, arbitrary: cond(sub.num) },
    { weight: 1, arbitrary: fc.tuple(sub.list, sub.num).map(([l, i]) => `${paren(l)}[${i}]`) },
  );
  const str: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: strLeaf },
    { weight: 2, arbitrary: fc.tuple(sub.str, sub.str).map(([a, b]) => `${paren(a)} + ${paren(b)}`) },
    { weight: 1, arbitrary: sub.str.map((a) => `${paren(a)}.lowerAscii()`) },
    { weight: 1, arbitrary: fc.oneof(sub.str, fc.constantFrom(...INT_LITERALS), sub.bool, dyn).map((a) => `string(${a})`) },
    { weight: 1, arbitrary: fc.tuple(fc.oneof(strLeaf, fc.constantFrom(...EGRESS_URLS).map((s) => celString(s))), fc.constantFrom("getHost", "getScheme", "getPort")).map(([a, f]) => `url(${a}).${f}()`) },
    { weight: 1, arbitrary: cond(sub.str) },
  );
  const list: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: listLeaf },
    { weight: 2, arbitrary: fc.array(sub.any, { maxLength: 3 }).map((xs) => `[${xs.join(", ")}]`) },
    { weight: 1, arbitrary: fc.tuple(sub.list, sub.list).map(([a, b]) => `${paren(a)} + ${paren(b)}`) },
    { weight: 1, arbitrary: cond(sub.list) },
  );
  const pattern = fc.constantFrom(...MATCH_PATTERNS);
  const sameTypePair = fc.oneof(
    fc.tuple(sub.num, sub.num), fc.tuple(sub.str, sub.str), fc.tuple(sub.bool, sub.bool),
    fc.tuple(dyn, fc.oneof(sub.num, sub.str, sub.bool)), fc.tuple(fc.oneof(sub.num, sub.str, sub.bool), dyn),
  );
  const bool: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: boolLeaf },
    { weight: 3, arbitrary: fc.tuple(sameTypePair, fc.constantFrom("<", "<=", ">", ">=")).map(([[a, b], op]) => `${paren(a)} ${op} ${paren(b)}`) },
    { weight: 3, arbitrary: fc.tuple(sub.any, fc.constantFrom("==", "!="), sub.any).map(([a, op, b]) => `${paren(a)} ${op} ${paren(b)}`) },
    { weight: 2, arbitrary: fc.tuple(sub.bool, fc.constantFrom("&&", "||"), sub.bool).map(([a, op, b]) => `${paren(a)} ${op} ${paren(b)}`) },
    { weight: 1, arbitrary: sub.bool.map((a) => `!${paren(a)}`) },
    { weight: 2, arbitrary: fc.tuple(sub.any, sub.list).map(([a, l]) => `${paren(a)} in ${paren(l)}`) },
    { weight: 1, arbitrary: fc.tuple(sub.str, fc.constantFrom("params", "context", "params.nested")).map(([a, m]) => `${paren(a)} in ${m}`) },
    { weight: 2, arbitrary: fc.tuple(sub.str, fc.constantFrom("startsWith", "endsWith", "contains"), sub.str).map(([a, f, b]) => `${paren(a)}.${f}(${b})`) },
    { weight: 2, arbitrary: fc.tuple(sub.str, pattern, fc.boolean()).map(([a, p, global]) => global ? `matches(${a}, r"${p}")` : `${paren(a)}.matches(r"${p}")`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom("isIBAN", "isLuhn", "isURL", "isIP"), sub.str).map(([f, a]) => `${f}(${a})`) },
    { weight: 1, arbitrary: fc.tuple(fc.oneof(strLeaf, fc.constantFrom('"10.0.0.0/8"', '"2001:db8::/32"', '"1.2.3.4/33"', '"0.0.0.0/0"')), sub.str).map(([c, ip]) => `cidr(${c}).containsIP(${ip})`) },
    { weight: 1, arbitrary: cond(sub.bool) },
  );
  const any = fc.oneof(bool, num, str, list, fc.constant("null"));
  return { bool, num, str, list, any };
}

// ---------------------------------------------------------------------------------------------
// Policies, rendered as YAML files

const MODES = ["enforce", "shadow"] as const;
/** Egress allowlist entries (all valid, docs/policy-language.md §8). */
export const EGRESS_ENTRIES = ["portal.acme-supplier.com", "*.internal.example", "10.0.0.5", "[2001:db8::1]", "xn--bcher-kva.example", "EXAMPLE.com."];
/** DLP patterns: realistic ones, one that matches almost everything, one that can match empty. */
export const DLP_PATTERNS: [string, string][] = [
  ["ssn", "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b"],
  ["email", "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}"],
  ["card", "\\b(?:[0-9][ -]?){13,15}[0-9]\\b"],
  ["vowel", "(?i)[aeioué]+"],
  ["maybe", "x*"],
  ["iban", "\\b[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\\b"],
];
/** Redact paths (docs/policy-language.md §10): present, absent, quoted, nested, whole lists. */
export const REDACT_PATHS = ["params.note", 'params["x-y"]', "params.`x-y`", "params.nested.a", "params.card.number", "params.missing", "params.items", "params.email"];

const yamlString = (s: string) => JSON.stringify(s); // JSON strings are YAML double-quoted scalars
const yamlExpr = (e: string) => `'${e.replaceAll("'", "''")}'`;

function selector(pool: readonly string[]): fc.Arbitrary<string | null> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constant('"*"') },
    { weight: 3, arbitrary: fc.constantFrom(...pool).map(yamlString) },
    { weight: 2, arbitrary: fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 3 }).map((xs) => `[${xs.map(yamlString).join(", ")}]`) },
  );
}

/** Conditions that rarely error, so that allow, sanitize and approval rules match often enough. */
export const SAFE_CONDITIONS = [
  "has(params.amount) && params.amount > 5000", "has(params.amount) && params.amount <= 5000", 'tool == "payments"',
  'has(agent.scopes) && "admin" in agent.scopes', 'has(params.note) && params.note.contains("a")', "size(params) > 3",
  "has(context.egress)", 'action.startsWith("c")', 'agent.id == "a1"', '!has(params.flag) || params.flag == true',
];

interface RuleModel { effect: string; agent: string | null; tool: string | null; action: string | null; when: string[] | null; mode: string | null; reason: string | null; redact: string[] }

function ruleModel(exprs: ExprArbitraries): fc.Arbitrary<RuleModel> {
  return fc.record({
    effect: fc.constantFrom("allow", "deny", "approval_needed", "sanitize"),
    agent: selector(AGENTS), tool: selector(TOOLS), action: selector(ACTIONS),
    when: fc.oneof(
      { weight: 2, arbitrary: fc.constant(null) },
      { weight: 3, arbitrary: fc.constantFrom(...SAFE_CONDITIONS).map((e) => [e]) },
      { weight: 6, arbitrary: exprs.bool.map((e) => [e]) },
      { weight: 1, arbitrary: fc.array(exprs.bool, { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.constantFrom(...DYN_PATHS).map((e) => [e]) },
    ),
    mode: fc.option(fc.constantFrom(...MODES), { nil: null, freq: 3 }),
    reason: fc.option(fc.constantFrom("denied: too much", "needs a human", "é ünïcode \"quoted\" reason", "ok"), { nil: null, freq: 2 }),
    redact: fc.uniqueArray(fc.constantFrom(...REDACT_PATHS), { minLength: 1, maxLength: 3 }),
  });
}

interface ToolEntryModel { name: string; actions: string | null; conditions: string[]; approval: string[]; redact: string[]; mode: string | null; reason: string | null }
interface AgentModel { agent: string; mode: string | null; tools: ToolEntryModel[] }

function agentModel(exprs: ExprArbitraries): fc.Arbitrary<AgentModel> {
  const toolEntry = fc.record({
    name: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...TOOLS) }, { weight: 1, arbitrary: fc.constant("*") }),
    actions: selector(ACTIONS),
    conditions: fc.array(fc.oneof(fc.constantFrom(...SAFE_CONDITIONS), exprs.bool), { maxLength: 2 }),
    approval: fc.array(fc.oneof(fc.constantFrom(...SAFE_CONDITIONS), exprs.bool), { maxLength: 2 }),
    redact: fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...REDACT_PATHS), { minLength: 1, maxLength: 2 }) }),
    mode: fc.option(fc.constantFrom(...MODES), { nil: null, freq: 4 }),
    reason: fc.option(fc.constant("agent entry reason"), { nil: null, freq: 3 }),
  });
  return fc.record({
    agent: fc.constantFrom(...AGENTS),
    mode: fc.option(fc.constantFrom(...MODES), { nil: null, freq: 3 }),
    tools: fc.array(toolEntry, { minLength: 1, maxLength: 3 }),
  });
}

interface PolicyModel {
  mode: string | null; default: string | null; rules: RuleModel[]; agents: AgentModel[];
  egress: string[] | null; dlp: { name: string; pattern: string; mode: string | null }[]; agentsFirst: boolean;
}

function policyModel(exprs: ExprArbitraries, maxRules: number): fc.Arbitrary<PolicyModel> {
  return fc.record({
    mode: fc.option(fc.constantFrom(...MODES), { nil: null, freq: 3 }),
    default: fc.option(fc.constantFrom("deny", "allow"), { nil: null, freq: 4 }),
    rules: fc.array(ruleModel(exprs), { minLength: 0, maxLength: maxRules }),
    agents: fc.oneof({ weight: 2, arbitrary: fc.constant<AgentModel[]>([]) }, { weight: 1, arbitrary: fc.uniqueArray(agentModel(exprs), { selector: (a) => a.agent, maxLength: 2 }) }),
    egress: fc.option(fc.uniqueArray(fc.constantFrom(...EGRESS_ENTRIES), { minLength: 1, maxLength: 3 }), { nil: null, freq: 2 }),
    dlp: fc.uniqueArray(fc.record({ p: fc.constantFrom(...DLP_PATTERNS), mode: fc.option(fc.constantFrom(...MODES), { nil: null, freq: 3 }) }), { selector: (d) => d.p[0], maxLength: 2 })
      .map((xs) => xs.map(({ p, mode }) => ({ name: p[0], pattern: p[1], mode }))),
    agentsFirst: fc.boolean(),
  });
}

function renderPolicy(p: PolicyModel, index: number, usedAgentTools: Set<string>): string {
  const out = ["aegis: 1", `policy: p${index}`, `version: ${yamlString(`v${index}.0-é`)}`];
  if (p.mode) out.push(`mode: ${p.mode}`);
  if (p.default) out.push(`default: ${p.default}`);
  const rules: string[] = [];
  p.rules.forEach((r, i) => {
    rules.push(`  - id: p${index}.r${i}`, `    effect: ${r.effect}`);
    if (r.agent) rules.push(`    agent: ${r.agent}`);
    if (r.tool) rules.push(`    tool: ${r.tool}`);
    if (r.action) rules.push(`    action: ${r.action}`);
    if (r.when) rules.push(r.when.length === 1 ? `    when: ${yamlExpr(r.when[0])}` : `    when:\n${r.when.map((e) => `      - ${yamlExpr(e)}`).join("\n")}`);
    if (r.mode) rules.push(`    mode: ${r.mode}`);
    if (r.reason) rules.push(`    reason: ${yamlString(r.reason)}`);
    if (r.effect === "sanitize") rules.push(`    redact: [${r.redact.map(yamlExpr).join(", ")}]`);
  });
  const agents: string[] = [];
  for (const a of p.agents) {
    // Two policies describing the same agent and tool would clash on generated rule ids.
    const tools = a.tools.filter((t) => {
      const key = `${a.agent}\u0000${t.name}`;
      const clash = usedAgentTools.has(key);
      return !clash;
    });
    if (tools.length === 0) continue;
    for (const t of tools) usedAgentTools.add(`${a.agent}\u0000${t.name}`);
    agents.push(`  - agent: ${a.agent}`);
    if (a.mode) agents.push(`    mode: ${a.mode}`);
    agents.push("    allowed_tools:");
    for (const t of tools) {
      agents.push(`      - name: ${yamlString(t.name)}`);
      if (t.actions) agents.push(`        actions: ${t.actions}`);
      if (t.conditions.length) agents.push(`        conditions:\n${t.conditions.map((e) => `          - ${yamlExpr(e)}`).join("\n")}`);
      if (t.approval.length) agents.push(`        approval_needed_if:\n${t.approval.map((e) => `          - ${yamlExpr(e)}`).join("\n")}`);
      if (t.redact.length) agents.push(`        redact: [${t.redact.map(yamlExpr).join(", ")}]`);
      if (t.mode) agents.push(`        mode: ${t.mode}`);
      if (t.reason) agents.push(`        reason: ${yamlString(t.reason)}`);
    }
  }
  const sections: string[][] = [];
  if (rules.length) sections.push(["rules:", ...rules]);
  if (agents.length) sections.push(["agents:", ...agents]);
  if (p.agentsFirst) sections.reverse();
  for (const s of sections) out.push(...s);
  if (p.egress) out.push("egress:", `  allow_domains: [${p.egress.map(yamlString).join(", ")}]`);
  if (p.dlp.length) {
    out.push("dlp:");
    for (const d of p.dlp) {
      out.push(`  - name: ${d.name}${index}`, `    pattern: ${yamlExpr(d.pattern)}`);
      if (d.mode) out.push(`    mode: ${d.mode}`);
    }
  }
  return out.join("\n") + "\n";
}

/** Options for `policyFiles`. */
export interface PolicyFileOptions {
  /** Nesting depth of `when` expressions. */
  exprDepth?: number;
  /** At most this many `rules:` entries per policy (agent entries come on top). */
  maxRules?: number;
}

/** 1-3 policy files as compiler sources (`p0.yaml`, ...), with rules, agent entries, egress and DLP. */
export function policyFiles(options: PolicyFileOptions = {}): fc.Arbitrary<Source[]> {
  const exprs = expressions(options.exprDepth ?? 2);
  return fc.array(policyModel(exprs, options.maxRules ?? 12), { minLength: 1, maxLength: 3 }).map((models) => {
    const used = new Set<string>();
    return models.map((m, i) => ({ path: `p${i}.yaml`, text: renderPolicy(m, i, used) }));
  });
}
