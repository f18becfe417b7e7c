// Policy test files (docs/test-files.md): YAML text in, a validated list of cases out; and the
// comparison of an expected (partial) decision with the engine's decision, as diff lines.
// `aegis test` (cli/commands/test.ts) runs them; this module holds no I/O of its own.
import { isDeepStrictEqual } from "node:util";
import { LineCounter, parseDocument, isMap, isSeq, type Node } from "yaml";

/** The decision fields a test may expect, in decision JSON order. */
export const WANT_FIELDS = ["decision", "enforced", "rule", "reason", "policy", "policy_version", "bundle", "shadow", "redactions", "params"] as const;
type WantField = (typeof WANT_FIELDS)[number];

const EFFECTS = ["allow", "deny", "sanitize", "approval_needed"];
const FILE_KEYS = ["policies", "description", "cases"];
const CASE_KEYS = ["name", "request", "request_json", "want", "want_error"];

/** One test case: the request bytes to evaluate and what to expect. */
export interface TestCase {
  name: string;
  /** 1-based line of the case in the test file, for messages. */
  line: number;
  request: Uint8Array;
  /** Expected decision fields (any subset); null when an error is expected. */
  want: Partial<Record<WantField, unknown>> | null;
  /** Expected request error code (`duplicate_key`, `invalid_request`, ...); null when a decision is expected. */
  wantError: string | null;
}

/** A parsed test file. */
export interface TestFile {
  /** Policy file paths as written, relative to the test file. */
  policies: string[];
  cases: TestCase[];
}

/** A problem in a test file, with its 1-based position. */
export class TestFileError extends Error {
  constructor(message: string, readonly line: number, readonly col: number) {
    super(message);
  }
}

/** Parse and validate a test file. Throws TestFileError listing every problem found. */
export function parseTestFile(text: string): TestFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true });
  const at = (node: Node | null | undefined): { line: number; col: number } => {
    const offset = node?.range?.[0] ?? 0;
    return lineCounter.linePos(offset);
  };
  const fail = (message: string, node?: Node | null): never => {
    const { line, col } = at(node);
    throw new TestFileError(message, line, col);
  };
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new TestFileError(`invalid YAML: ${first.message.split("\n")[0].replace(/ at line \d+, column \d+.*$/, "")}`, line, col);
  }
  const root = doc.contents;
  if (!isMap(root)) fail("a test file is a map with `policies` and `cases`", root);
  const rootMap = root as unknown as import("yaml").YAMLMap;
  for (const pair of rootMap.items) {
    const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
    if (!FILE_KEYS.includes(key)) fail(`unknown key \`${key}\` (expected one of ${FILE_KEYS.join(", ")})`, pair.key as Node);
  }

  const policiesNode = rootMap.get("policies", true) as Node | undefined;
  const policiesValue = policiesNode?.toJS(doc);
  const policies = typeof policiesValue === "string" ? [policiesValue] : policiesValue;
  if (!Array.isArray(policies) || policies.length === 0 || !policies.every((p) => typeof p === "string" && p !== "")) {
    fail("`policies` must be a policy file path or a non-empty list of them", policiesNode ?? root);
  }

  const casesNode = rootMap.get("cases", true) as Node | undefined;
  if (!isSeq(casesNode) || casesNode.items.length === 0) fail("`cases` must be a non-empty list", casesNode ?? root);
  const cases: TestCase[] = [];
  const names = new Set<string>();
  for (const item of (casesNode as import("yaml").YAMLSeq).items as Node[]) {
    if (!isMap(item)) fail("a case is a map with `name`, `request` and `want`", item);
    const caseMap = item as unknown as import("yaml").YAMLMap;
    for (const pair of caseMap.items) {
      const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
      if (!CASE_KEYS.includes(key)) fail(`unknown case key \`${key}\` (expected one of ${CASE_KEYS.join(", ")})`, pair.key as Node);
    }
    const field = (key: string): { node: Node | undefined; value: unknown } => {
      const node = caseMap.get(key, true) as Node | undefined;
      return { node, value: node === undefined ? undefined : node.toJS(doc) };
    };
    const name = field("name");
    if (typeof name.value !== "string" || name.value === "") fail("a case needs a `name` (a non-empty string)", name.node ?? item);
    if (names.has(name.value as string)) fail(`duplicate case name \`${name.value}\``, name.node);
    names.add(name.value as string);

    const request = field("request");
    const requestJson = field("request_json");
    let requestBytes: Uint8Array;
    if ((request.node === undefined) === (requestJson.node === undefined)) {
      fail(`case \`${name.value}\`: give exactly one of \`request\` or \`request_json\``, item);
    }
    if (request.node !== undefined) {
      const problem = nonJsonValue(request.value, "request");
      if (problem !== null) fail(`case \`${name.value}\`: ${problem}`, request.node);
      requestBytes = new TextEncoder().encode(JSON.stringify(request.value));
    } else {
      if (typeof requestJson.value !== "string") fail(`case \`${name.value}\`: \`request_json\` must be a string`, requestJson.node);
      requestBytes = new TextEncoder().encode(requestJson.value as string);
    }

    const want = field("want");
    const wantError = field("want_error");
    if ((want.node === undefined) === (wantError.node === undefined)) {
      fail(`case \`${name.value}\`: give exactly one of \`want\` or \`want_error\``, item);
    }
    let wantFields: Partial<Record<WantField, unknown>> | null = null;
    if (want.node !== undefined) {
      const value = want.value;
      if (value === null || typeof value !== "object" || Array.isArray(value) || Object.keys(value).length === 0) {
        fail(`case \`${name.value}\`: \`want\` must be a map of decision fields`, want.node);
      }
      for (const [key, expected] of Object.entries(value as Record<string, unknown>)) {
        if (!(WANT_FIELDS as readonly string[]).includes(key)) fail(`case \`${name.value}\`: unknown decision field \`${key}\` (expected one of ${WANT_FIELDS.join(", ")})`, want.node);
        if (key === "decision" && !EFFECTS.includes(expected as string)) fail(`case \`${name.value}\`: \`decision\` must be one of ${EFFECTS.join(", ")}`, want.node);
      }
      wantFields = value as Partial<Record<WantField, unknown>>;
    } else if (typeof wantError.value !== "string" || !/^[a-z_]+$/.test(wantError.value)) {
      fail(`case \`${name.value}\`: \`want_error\` must be an error code such as \`duplicate_key\``, wantError.node);
    }
    cases.push({
      name: name.value as string,
      line: at(item).line,
      request: requestBytes!,
      want: wantFields,
      wantError: wantFields === null ? (wantError.value as string) : null,
    });
  }
  return { policies: policies as string[], cases };
}

/**
 * Compare an expected partial decision with the engine's decision. Returns one line per field
 * that differs (`decision: want "allow", got "deny"`); empty when the case passes. An absent
 * `shadow` or `redactions` equals `[]`, as the decision JSON omits empty lists.
 */
export function diffDecision(want: Partial<Record<WantField, unknown>>, got: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const field of WANT_FIELDS) {
    if (!(field in want)) continue;
    const expected = want[field];
    let actual = got[field];
    if (actual === undefined && (field === "shadow" || field === "redactions")) actual = [];
    if (!isDeepStrictEqual(expected, actual)) {
      lines.push(`${field}: want ${show(expected)}, got ${show(actual)}`);
    }
  }
  return lines;
}

function show(value: unknown): string {
  return value === undefined ? "(absent)" : JSON.stringify(value);
}

/** Why a YAML value cannot be sent as JSON (non-finite number), or null. */
function nonJsonValue(value: unknown, path: string): string | null {
  if (typeof value === "number" && !Number.isFinite(value)) return `\`${path}\` holds ${value}, which JSON cannot express`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = nonJsonValue(value[i], `${path}[${i}]`);
      if (problem !== null) return problem;
    }
  } else if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const problem = nonJsonValue(inner, `${path}.${key}`);
      if (problem !== null) return problem;
    }
  }
  return null;
}
