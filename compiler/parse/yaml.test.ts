// Tests for parse-yaml: the node tree and its offsets, positioned YAML errors, the hostile-input
// limits (size, nesting, alias bombs) and the scalar index -> file offset mapping.
import { describe, it, expect } from "vitest";
import {
  parsePolicyYaml, scalarOffsetMap, MAX_POLICY_FILE_BYTES, MAX_YAML_DEPTH,
} from "./yaml.ts";
import type { YMap, YScalar } from "./yaml.ts";

function parse(text: string) {
  return parsePolicyYaml({ path: "p.yaml", text });
}

function errorsOf(text: string): string[] {
  return parse(text).errors.map((e) => `${e.line}:${e.col}: ${e.message}`);
}

function scalarAt(text: string, key: string): YScalar {
  const root = parse(text).root as YMap;
  const node = root.entries.find((e) => e.key === key)!.value;
  if (node.kind !== "scalar") throw new Error("not a scalar");
  return node;
}

describe("tree", () => {
  it("keeps keys, values and offsets", () => {
    const text = "aegis: 1\nrules:\n  - id: r1\n    when: a\n";
    const { root, errors } = parse(text);
    expect(errors).toEqual([]);
    const map = root as YMap;
    expect(map.entries.map((e) => e.key)).toEqual(["aegis", "rules"]);
    expect(map.entries[0].value).toMatchObject({ kind: "scalar", value: 1, start: 7, end: 8 });
    const rules = map.entries[1].value;
    if (rules.kind !== "seq") throw new Error("not a seq");
    const rule = rules.items[0] as YMap;
    expect(rule.entries[0]).toMatchObject({ key: "id", keyStart: 20 });
    expect(text.slice(rule.entries[1].value.start, rule.entries[1].value.end)).toBe("a");
  });

  it("reads an empty value as null and an empty file as no root", () => {
    const root = parse("a:\n").root as YMap;
    expect(root.entries[0].value).toMatchObject({ kind: "scalar", value: null });
    expect(parse("# nothing\n")).toEqual({ root: null, errors: [] });
  });

  it("expands a few aliases", () => {
    const root = parse("x: &tools [a, b]\ny: *tools\n").root as YMap;
    const y = root.entries[1].value;
    expect(y.kind === "seq" && y.items.map((i) => (i as YScalar).value)).toEqual(["a", "b"]);
  });
});

describe("errors", () => {
  it("reports duplicate keys at the second key", () => {
    expect(errorsOf("a: 1\nb: 2\na: 3\n")).toEqual(["3:1: duplicate key `a`"]);
  });

  it("reports syntax errors with a position", () => {
    const errors = errorsOf("a: [1, 2\nb: 3\n");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^\d+:\d+: invalid YAML: /);
    expect(errorsOf("a: 'x\n")[0]).toMatch(/invalid YAML/);
    expect(errorsOf("a: b: c\n")[0]).toMatch(/^1:\d+: invalid YAML/);
  });

  it("rejects several documents", () => {
    expect(errorsOf("a: 1\n---\nb: 2\n")).toEqual(["2:1: a policy file must hold exactly one YAML document"]);
  });

  it("rejects unknown tags and non-string keys", () => {
    expect(errorsOf("a: !foo x\n")).toEqual(["1:4: unsupported YAML tag `!foo`"]);
    expect(errorsOf("? [a]\n: 1\n")[0]).toMatch(/map keys must be plain strings/);
  });

  it("rejects files over 1 MiB at 1:1 without parsing them", () => {
    const big = "a: " + "x".repeat(2 * 1024 * 1024) + "\n";
    const t0 = Date.now();
    expect(errorsOf(big)).toEqual([`1:1: file is larger than the limit of ${MAX_POLICY_FILE_BYTES} bytes`]);
    // Not a timing assertion: a guard that the limit is checked before the parser runs.
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it("rejects 10,000-deep flow nesting", () => {
    const text = "a: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n";
    const errors = errorsOf(text);
    expect(errors).toEqual([`1:${4 + MAX_YAML_DEPTH - 1}: nesting is deeper than ${MAX_YAML_DEPTH} levels`]);
  });

  it("rejects deep block nesting (1,000 indented maps, 10,000 compact sequences)", () => {
    // Indentation grows quadratically, so 1,000 levels is what fits in the 1 MiB limit.
    let text = "";
    for (let i = 0; i < 1_000; i++) text += " ".repeat(i) + "a:\n";
    expect(errorsOf(text)[0]).toMatch(/nesting is deeper than 64 levels/);
    expect(errorsOf("- ".repeat(10_000) + "x\n")[0]).toMatch(/nesting is deeper than 64 levels/);
  });

  it("accepts nesting up to the limit and rejects one more", () => {
    const at = (n: number) => "a: " + "[".repeat(n - 1) + "]".repeat(n - 1) + "\n";
    expect(errorsOf(at(MAX_YAML_DEPTH))).toEqual([]);
    expect(errorsOf(at(MAX_YAML_DEPTH + 1))[0]).toMatch(/nesting is deeper than/);
  });

  it("stops an alias bomb without expanding it", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill("*" + prev).join(",")}]`);
    }
    const errors = errorsOf(lines.join("\n") + "\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/more than \d+ (aliases|YAML nodes)/);
  });

  it("stops a wide alias bomb that stays under the alias count", () => {
    const text = "a: &a [" + Array(1000).fill("x").join(",") + "]\nb: &b [" + Array(99).fill("*a").join(",") + "]\nc: [*b]\n";
    expect(errorsOf(text)[0]).toMatch(/expands to more than 100000 YAML nodes/);
  });
});

describe("scalarOffsetMap", () => {
  it("is exact for plain scalars", () => {
    const text = "when: params.a > 1\n";
    const s = scalarAt(text, "when");
    const map = scalarOffsetMap(s, text);
    expect(text[map(7)]).toBe("a");
    expect(map(12)).toBe(18);
  });

  it("is exact for quoted scalars without escapes, and for '' in single quotes", () => {
    const text = `when: "tool == 'x'"\nw2: 'a == ''b'' && c'\n`;
    const m1 = scalarOffsetMap(scalarAt(text, "when"), text);
    expect(m1(0)).toBe(7);
    const s2 = scalarAt(text, "w2");
    expect(s2.value).toBe("a == 'b' && c");
    const m2 = scalarOffsetMap(s2, text);
    expect(text[m2(12)]).toBe("c");
  });

  it("follows folded plain scalars and block scalars across lines", () => {
    const text = "when: params.a > 1 &&\n  params.b < 2\nblock: |\n  x &&\n  y\n";
    const when = scalarAt(text, "when");
    expect(when.value).toBe("params.a > 1 && params.b < 2");
    const m = scalarOffsetMap(when, text);
    expect(text.slice(m(16), m(16) + 8)).toBe("params.b");
    const block = scalarAt(text, "block");
    const mb = scalarOffsetMap(block, text);
    expect(text[mb(5)]).toBe("y");
  });

  it("falls back to the scalar start when escapes make the mapping unclear", () => {
    const text = 'when: "a\\tb == c"\n';
    const s = scalarAt(text, "when");
    const m = scalarOffsetMap(s, text);
    expect(m(5)).toBe(s.start);
  });
});
