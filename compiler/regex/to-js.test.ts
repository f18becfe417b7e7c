// Tests of the RE2 -> JavaScript RegExp translation used by the reference interpreter. Its
// agreement with the engine on random patterns is checked in vm.test.ts.
import { describe, it, expect } from "vitest";
import { regexToJs, regexToJsSource } from "./to-js.ts";

describe("regexToJs", () => {
  it("writes every character set as explicit ranges", () => {
    expect(regexToJsSource("\\s")).toBe("[\\u{9}\\u{a}\\u{c}\\u{d}\\u{20}]");
    expect(regexToJsSource("\\d+")).toBe("[0-9]+");
    expect(regexToJsSource("\\w")).toBe("[0-9A-Z\\u{5f}a-z]");
    expect(regexToJsSource(".")).toBe("[\\u{0}-\\u{9}\\u{b}-\\u{d7ff}\\u{e000}-\\u{10ffff}]");
    expect(regexToJsSource("(?i)k")).toBe("[Kk\\u{212a}]");
    expect(regexToJsSource("[^\\x00-\\x{10FFFF}]")).toBe("[]");
  });

  it("translates anchors, groups and flags away", () => {
    expect(regexToJsSource("\\Aa\\z")).toBe("^a$");
    expect(regexToJsSource("(?m)^a$")).toBe("(?:^|(?<=\\n))a(?:$|(?=\\n))");
    expect(regexToJsSource("(?P<year>a)(?<b>c)(d)")).toBe("(?:a)(?:c)(?:d)");
    expect(regexToJsSource("\\bx\\B")).toBe("\\bx\\B");
    expect(regexToJsSource("")).toBe("(?=[^]|$)(?:(?:))");
    expect(regexToJs("a").flags).toBe("u");
    expect(regexToJs("a", "g").flags).toBe("gu");
  });

  it("writes optional parts with a nullable body as alternations (the Pike VM's priorities)", () => {
    expect(regexToJsSource("x(a|)?")).toBe("x(?:(?:a|)|)");
    expect(regexToJsSource("x(a|)??")).toBe("x(?:|(?:a|))");
    expect(regexToJsSource("x(a*){1,2}")).toBe("x(?:a*)(?:(?:a*)|)");
    expect(regexToJsSource("xa?")).toBe("xa?");
    expect(regexToJsSource("a{2,3}?")).toBe("a{2,3}?");
    expect(regexToJsSource("xa{0,3}?")).toBe("xa{0,3}?");
    // JavaScript itself would prefer the `a` here: its `?` refuses an empty iteration.
    expect(regexToJs("(|a)?").exec("a")![0]).toBe("");
    expect(new RegExp("(|a)?", "u").exec("a")![0]).toBe("a");
  });

  it("quantifies assertions and empty groups, which JavaScript cannot do directly", () => {
    expect(regexToJs("^*a").test("a")).toBe(true);
    expect(regexToJs("\\b+a").test("a")).toBe(true);
    expect(regexToJs("(?:)*a").test("a")).toBe(true);
  });

  it("never lets an empty match start inside a surrogate pair", () => {
    expect(regexToJsSource("\\B")).toBe("(?=[^]|$)(?:\\B)");
    const at = (re: RegExp, s: string): number[] => [...s.matchAll(new RegExp(re.source, "gu"))].map((m) => m.index);
    expect(at(regexToJs("\\B"), "a\u{10000}")).toEqual([3]);
    expect(at(regexToJs("(?m)$"), "\u{10000}\u{10000}")).toEqual([4]);
  });

  it("rejects what the parser rejects", () => {
    expect(() => regexToJs("a(?=b)")).toThrow("lookahead `(?=` is not supported");
  });

  it("keeps \\s, \\w and \\b ASCII where JavaScript's would be Unicode", () => {
    expect(regexToJs("\\s").test("\u00a0")).toBe(false);
    expect(regexToJs("\\s").test("\v")).toBe(false);
    expect(regexToJs("(?i)\\w").test("\u017f")).toBe(true); // RE2 folds \w under (?i)
    expect(regexToJs("\\w").test("\u017f")).toBe(false);
    expect(regexToJs("a.b").test("a\rb")).toBe(true); // RE2's dot excludes only \n
    expect(regexToJs("a.b").test("a\u2028b")).toBe(true);
  });
});
