// Tests for parse-expr: grammar and precedence, CEL literal syntax (including the cel-spec
// string-literal conformance cases), rejected syntax, nesting limits and file-offset mapping.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parseExpression, parseExpressionSource, MAX_EXPR_NESTING } from "./expr.ts";
import type { RawExpr } from "./expr.ts";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const celSpecDir = path.join(repoRoot, "..", "shared", "testdata", "cel-spec");

/** Renders a tree fully parenthesised, to make precedence and associativity visible. */
function show(e: RawExpr): string {
  switch (e.kind) {
    case "null": return "null";
    case "bool": return String(e.value);
    case "int": return `${e.value}`;
    case "double": return `${e.value}d`;
    case "string": return JSON.stringify(e.value);
    case "list": return `[${e.elements.map(show).join(", ")}]`;
    case "ident": return e.name;
    case "select": return `${show(e.operand)}.${e.field}`;
    case "index": return `${show(e.operand)}[${show(e.index)}]`;
    case "call": return `${e.target ? show(e.target) + "." : ""}${e.name}(${e.args.map(show).join(", ")})`;
    case "unary": return `(${e.op}${show(e.operand)})`;
    case "binary": return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case "cond": return `(${show(e.test)} ? ${show(e.then)} : ${show(e.else)})`;
  }
}

function parsed(text: string): string {
  const r = parseExpressionSource(text);
  if (r.expr === null) throw new Error(`unexpected error: ${r.errors[0].message}`);
  return show(r.expr);
}

function failure(text: string): { col: number; message: string } {
  const r = parseExpressionSource(text);
  expect(r.expr).toBeNull();
  expect(r.errors).toHaveLength(1);
  return { col: r.errors[0].col, message: r.errors[0].message };
}

function stringValue(text: string): string {
  const r = parseExpressionSource(text);
  if (r.expr === null) throw new Error(`unexpected error: ${r.errors[0].message}`);
  if (r.expr.kind !== "string") throw new Error(`not a string literal: ${r.expr.kind}`);
  return r.expr.value;
}

describe("precedence and associativity", () => {
  it("orders ?: < || < && < relations < + - < * / % < unary < member", () => {
    expect(parsed("a || b && c == d + e * -f.g(h)[i]")).toBe(
      "(a || (b && (c == (d + (e * (-f.g(h)[i]))))))",
    );
    expect(parsed("a ? b : c ? d : e")).toBe("(a ? b : (c ? d : e))");
    expect(parsed("a || b ? c : d")).toBe("((a || b) ? c : d)");
    expect(parsed("!a && b")).toBe("((!a) && b)");
  });

  it("makes binary operators left-associative", () => {
    expect(parsed("a - b - c")).toBe("((a - b) - c)");
    expect(parsed("a / b * c % d")).toBe("(((a / b) * c) % d)");
    expect(parsed("a < b == c")).toBe("((a < b) == c)");
    expect(parsed("a in b in c")).toBe("((a in b) in c)");
  });

  it("parses member chains, calls, indexes and lists", () => {
    expect(parsed("params.a.b[0].c")).toBe("params.a.b[0].c");
    expect(parsed('params["x-y"].z')).toBe('params["x-y"].z');
    expect(parsed("size(x) + x.size()")).toBe("(size(x) + x.size())");
    expect(parsed('url(u).getHost() == "a"')).toBe('(url(u).getHost() == "a")');
    expect(parsed("[1, 2, 3,]")).toBe("[1, 2, 3]");
    expect(parsed("[]")).toBe("[]");
    expect(parsed("(((1)))")).toBe("1");
    expect(parsed("x.`foo-bar`")).toBe("x.foo-bar");
  });

  it("accepts reserved words as field and method names but not as identifiers", () => {
    expect(parsed("a.if")).toBe("a.if");
    expect(parsed("a.while()")).toBe("a.while()");
    expect(failure("if").message).toBe("`if` is a reserved word");
  });

  it("skips whitespace of every CEL kind and line comments", () => {
    expect(parsed("a\t&&\nb\r||\fc // trailing comment")).toBe("((a && b) || c)");
  });
});

describe("literals", () => {
  it("reads ints, hex ints and doubles", () => {
    expect(parsed("42")).toBe("42");
    expect(parsed("0x1F")).toBe("31");
    expect(parsed("0XfF")).toBe("255");
    expect(parsed("1.5")).toBe("1.5d");
    expect(parsed("1e3")).toBe("1000d");
    expect(parsed("1.5E-3")).toBe("0.0015d");
    expect(parsed(".5")).toBe("0.5d");
    expect(parsed("-9223372036854775808")).toBe("-9223372036854775808");
    expect(parsed("9223372036854775807")).toBe("9223372036854775807");
    expect(parsed("--19")).toBe("(--19)");
    expect(parsed("- 7")).toBe("-7");
    expect(parsed("a - 1")).toBe("(a - 1)");
    expect(parsed("true != false")).toBe("(true != false)");
    expect(parsed("null")).toBe("null");
  });

  it("rejects ints out of the 64-bit range and infinite doubles", () => {
    expect(failure("9223372036854775808").message).toBe("integer literal `9223372036854775808` is out of the 64-bit range");
    expect(failure("-9223372036854775809").message).toContain("out of the 64-bit range");
    expect(failure("0x8000000000000000").message).toContain("out of the 64-bit range");
    expect(failure("1e999").message).toBe("double literal `1e999` is out of range");
    expect(failure("1e").message).toContain("exponent needs digits");
    expect(failure("0x").message).toContain("needs digits");
    expect(failure("12abc").message).toBe("invalid number `12abc`");
  });

  it("decodes every CEL escape", () => {
    expect(stringValue(String.raw`"\a\b\f\n\r\t\v\\\'\"\`\?"`)).toBe("\x07\b\f\n\r\t\v\\'\"`?");
    expect(stringValue(String.raw`'\x41\X42\101\u00e9\U0001F62C'`)).toBe("ABAé😬");
    expect(stringValue(String.raw`r"\d+\n"`)).toBe("\\d+\\n");
    expect(stringValue(String.raw`R'\x'`)).toBe("\\x");
    expect(stringValue('"""a\n"b"\n"""')).toBe('a\n"b"\n');
    expect(stringValue("'''it's'''")).toBe("it's");
    expect(stringValue(String.raw`r'''\'''`)).toBe("\\");
  });

  it("rejects bad escapes, surrogates and code points beyond U+10FFFF", () => {
    expect(failure(String.raw`"\q"`).message).toBe("invalid escape sequence `\\q`");
    expect(failure(String.raw`"\ud800"`).message).toContain("surrogate");
    expect(failure(String.raw`"\U0000DFFF"`).message).toContain("surrogate");
    expect(failure(String.raw`"\U00110000"`).message).toContain("beyond U+10FFFF");
    expect(failure(String.raw`"\400"`).message).toContain("invalid escape sequence");
    expect(failure(String.raw`"\12"`).message).toContain("octal escapes need three digits");
    expect(failure(String.raw`"\x4"`).message).toContain("needs 2 hex digits");
    const bad = failure(String.raw`"abc\u12G4"`);
    expect(bad.col).toBe(5);
  });

  it("rejects unterminated strings and single-quoted strings spanning lines", () => {
    expect(failure('"abc').message).toBe("unterminated string literal");
    expect(failure("'a\nb'").message).toContain("triple-quoted");
    expect(failure('"""abc""').message).toBe("unterminated string literal");
  });

  it("agrees with the cel-spec string literal conformance cases", () => {
    const file = JSON.parse(readFileSync(path.join(celSpecDir, "parse.json"), "utf8"));
    const section = file.sections.find((s: { name: string }) => s.name === "string_literals");
    expect(section.tests.length).toBeGreaterThan(50);
    for (const t of section.tests) {
      expect({ id: t.id, value: stringValue(t.expr) }).toEqual({ id: t.id, value: t.expect.value.string });
    }
  });
});

describe("unsupported syntax", () => {
  it("names each unsupported construct", () => {
    expect(failure("1u").message).toBe("unsigned integer literals (`1u`) are not supported; use a plain integer");
    expect(failure("0x1fU").message).toContain("unsigned integer literals");
    expect(failure('b"abc"').message).toContain("bytes literals");
    expect(failure("BR'abc'").message).toContain("bytes literals");
    expect(failure("{'a': 1}").message).toBe("map literals (`{...}`) are not supported");
    expect(failure("Foo{a: 1}").message).toBe("message construction (`Type{...}`) is not supported");
    expect(failure("a.b.C{}").message).toContain("message construction");
    expect(failure(".a.b").message).toBe("leading `.` identifiers (`.a`) are not supported");
  });

  it("reports syntax errors at the offending token", () => {
    expect(failure("a = b")).toEqual({ col: 3, message: "unexpected `=`; use `==` to compare" });
    expect(failure("a & b").message).toBe("unexpected `&`; use `&&`");
    expect(failure("a | b").message).toBe("unexpected `|`; use `||`");
    expect(failure("1 +")).toEqual({ col: 4, message: "expected an expression, found end of expression" });
    expect(failure("(1")).toEqual({ col: 3, message: "expected `)` to close `(`, found end of expression" });
    expect(failure("a b").message).toBe("expected an operator or the end of the expression, found `b`");
    expect(failure("a ? b").message).toContain("expected `:`");
    expect(failure("f(a b)").message).toContain("expected `)` to close the argument list");
    expect(failure("[1 2]").message).toContain("expected `,` or `]`");
    expect(failure("a.(b)").message).toContain("expected a field name after `.`");
    expect(failure("").message).toBe("empty expression");
    expect(failure("  // only a comment").message).toBe("empty expression");
    expect(failure("a # b")).toEqual({ col: 3, message: "unexpected character `#`" });
    expect(failure("a in").message).toContain("expected an expression");
  });
});

describe("limits", () => {
  it("accepts the nesting cel-spec requires (32 parentheses, 32 unary operators)", () => {
    expect(parsed("(".repeat(32) + "7" + ")".repeat(32))).toBe("7");
    expect(parseExpressionSource("!".repeat(32) + "true").expr).not.toBeNull();
    expect(parseExpressionSource("[".repeat(12) + "0" + "]".repeat(12)).expr).not.toBeNull();
  });

  it("rejects deep nesting with an error, never a stack overflow", () => {
    const deepParens = failure("(".repeat(10_000) + "1" + ")".repeat(10_000));
    expect(deepParens.message).toBe(`expression is too deeply nested (more than ${MAX_EXPR_NESTING} levels)`);
    expect(failure("[".repeat(10_000)).message).toContain("too deeply nested");
    expect(failure("!".repeat(100_000) + "true").message).toContain("too deeply nested");
    expect(failure("-".repeat(100_000) + "a").message).toContain("too deeply nested");
    expect(failure("f(".repeat(10_000)).message).toContain("too deeply nested");
    expect(failure("a" + "[0]".repeat(10_000)).message).toContain("too deeply nested");
  });

  it("rejects very long left-associative chains instead of building a tree later stages cannot walk", () => {
    expect(failure("1" + " + 1".repeat(100_000)).message).toContain("too deeply nested");
    expect(failure("a" + ".b".repeat(100_000)).message).toContain("too deeply nested");
    expect(parseExpressionSource("1" + " + 1".repeat(100)).expr).not.toBeNull();
  });
});

describe("positions", () => {
  it("anchors operations at their operator, selections at the dot, and covers the whole node", () => {
    const r = parseExpressionSource("params.amount > 5000");
    const e = r.expr!;
    expect(e.kind).toBe("binary");
    expect(e.span).toEqual({ start: 0, end: 20, at: 14 });
    if (e.kind !== "binary") return;
    expect(e.left.span).toEqual({ start: 0, end: 13, at: 6 });
    expect(e.right.span).toEqual({ start: 16, end: 20, at: 16 });
  });

  it("maps string indices to file offsets with baseOffset or an offset map", () => {
    const file = "when: a == 'x'\n";
    const base = parseExpression("a == 'x'", "f.yaml", 6, undefined, file);
    expect(base.expr!.span).toEqual({ start: 6, end: 14, at: 8 });
    const mapped = parseExpression("a ==", "f.yaml", 0, (i) => 100 + 2 * i, null as unknown as string);
    expect(mapped.errors[0].offset).toBe(108);
  });

  it("reports errors with the file's line and column", () => {
    const file = "x: 1\nwhen: a == = b\n";
    const r = parseExpression("a == = b", "f.yaml", 11, undefined, file);
    expect(r.errors[0]).toMatchObject({ file: "f.yaml", line: 2, col: 12, offset: 16 });
  });

  it("records the file offset of every character of a string literal, escapes included", () => {
    const r = parseExpressionSource(String.raw`s.matches("a\tb(")`);
    const call = r.expr!;
    if (call.kind !== "call" || call.args[0].kind !== "string") throw new Error("shape");
    const lit = call.args[0];
    expect(lit.value).toBe("a\tb(");
    expect(lit.offsets).toEqual([11, 12, 14, 15, 16]);
  });
});

describe("robustness", () => {
  it("parses or cleanly rejects every expression of the cel-spec suite", () => {
    let parsedCount = 0;
    for (const name of readdirSync(celSpecDir).filter((f) => f.endsWith(".json"))) {
      const file = JSON.parse(readFileSync(path.join(celSpecDir, name), "utf8"));
      for (const section of file.sections) {
        for (const t of section.tests) {
          const r = parseExpressionSource(t.expr);
          expect((r.expr === null) === (r.errors.length > 0)).toBe(true);
          if (r.expr !== null) parsedCount++;
          for (const e of r.errors) expect(e.message).toMatch(/^[^A-Z].*[^.]$/s);
        }
      }
    }
    expect(parsedCount).toBeGreaterThan(500);
  });
  it("never throws on arbitrary input, and returns an expression exactly when there is no error", () => {
    const pieces = [
      "a", "params", ".", "x", "(", ")", "[", "]", "{", "}", ",", "?", ":", "!", "-", "+", "*", "/", "%",
      "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in", "1", "0x1F", "1.5", "1e3", ".5", "1u", "'s'",
      '"s"', "r'\\d'", "'''t'''", "\\", "\\u12", "'", '"', "`f`", " ", "\n", "//c\n", "true", "null", "b'x'", "=", "&",
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), fc.string({ maxLength: 20 }), (parts, noise) => {
        for (const text of [parts.join(""), parts.join(" "), noise]) {
          const r = parseExpressionSource(text);
          expect((r.expr === null) === (r.errors.length > 0)).toBe(true);
          for (const e of r.errors) expect(e.offset).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
