// Tests of cli/test-file.ts: parsing and validating policy test files (with positions for every
// structural error) and the field-by-field comparison of expected and actual decisions.
import { describe, it, expect } from "vitest";
import { diffDecision, parseTestFile, TestFileError } from "./test-file.ts";

const decoder = new TextDecoder();

describe("parseTestFile", () => {
  it("reads policies, requests (YAML and raw JSON), wants and expected errors", () => {
    const file = parseTestFile(`
policies: procurement.yaml
cases:
  - name: a
    request:
      agent: &a { id: finance-agent }
      tool: payments
      action: create_payment
      params: { amount: 7200 }
    want: { decision: approval_needed, rule: pay-over-5k }
  - name: b
    request_json: '{"agent":{"id":"x"},"a":1,"a":2}'
    want_error: duplicate_key
  - name: c
    request: { agent: *a, tool: t, action: x, params: { <<: { n: 1 }, m: 2 } }
    want: { shadow: [] }
`);
    expect(file.policies).toEqual(["procurement.yaml"]);
    expect(file.cases.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(JSON.parse(decoder.decode(file.cases[0].request))).toEqual({ agent: { id: "finance-agent" }, tool: "payments", action: "create_payment", params: { amount: 7200 } });
    expect(file.cases[0].want).toEqual({ decision: "approval_needed", rule: "pay-over-5k" });
    expect(file.cases[0].wantError).toBeNull();
    expect(file.cases[0].line).toBe(4);
    expect(decoder.decode(file.cases[1].request)).toBe('{"agent":{"id":"x"},"a":1,"a":2}');
    expect(file.cases[1].want).toBeNull();
    expect(file.cases[1].wantError).toBe("duplicate_key");
    expect(JSON.parse(decoder.decode(file.cases[2].request)).params).toEqual({ n: 1, m: 2 });
  });

  const rejects: [string, string, RegExp, number][] = [
    ["unknown top-level key", "policies: [p.yaml]\ncase: []\n", /unknown key `case`/, 2],
    ["missing policies", "cases:\n  - name: a\n    request: {}\n    want: { decision: allow }\n", /`policies` must be/, 1],
    ["empty cases", "policies: [p.yaml]\ncases: []\n", /`cases` must be a non-empty list/, 2],
    ["typo in a case key", "policies: [p.yaml]\ncases:\n  - name: a\n    request: {}\n    wnat: { decision: allow }\n", /unknown case key `wnat`/, 5],
    ["unknown decision field", "policies: [p.yaml]\ncases:\n  - name: a\n    request: {}\n    want: { decison: allow }\n", /unknown decision field `decison`/, 5],
    ["bad decision value", "policies: [p.yaml]\ncases:\n  - name: a\n    request: {}\n    want: { decision: permit }\n", /`decision` must be one of/, 5],
    ["both request forms", "policies: [p.yaml]\ncases:\n  - name: a\n    request: {}\n    request_json: '{}'\n    want: { decision: allow }\n", /exactly one of `request` or `request_json`/, 3],
    ["no expectation", "policies: [p.yaml]\ncases:\n  - name: a\n    request: {}\n", /exactly one of `want` or `want_error`/, 3],
    ["empty want", "policies: [p.yaml]\ncases:\n  - name: a\n    request: {}\n    want: {}\n", /`want` must be a map/, 5],
    ["duplicate case name", "policies: [p.yaml]\ncases:\n  - name: a\n    request: {}\n    want: { decision: allow }\n  - name: a\n    request: {}\n    want: { decision: deny }\n", /duplicate case name `a`/, 6],
    ["non-finite number", "policies: [p.yaml]\ncases:\n  - name: a\n    request: { params: { n: .inf } }\n    want: { decision: allow }\n", /`request.params.n` holds Infinity/, 4],
    ["invalid YAML", "policies: [p.yaml\ncases: x\n", /invalid YAML/, 2],
    ["duplicate YAML key", "policies: [p.yaml]\npolicies: [q.yaml]\ncases: []\n", /invalid YAML/, 2],
  ];
  for (const [label, text, message, line] of rejects) {
    it(`rejects ${label} with its line`, () => {
      let error: unknown;
      try {
        parseTestFile(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TestFileError);
      expect((error as TestFileError).message).toMatch(message);
      expect((error as TestFileError).line).toBe(line);
    });
  }
});

describe("diffDecision", () => {
  const decision = {
    decision: "sanitize", enforced: true, rule: "dlp:ssn", reason: "sensitive data redacted by `dlp:ssn`",
    policy: "retail", policy_version: "1", bundle: "sha256:00",
    redactions: [{ path: "params.note", by: "dlp:ssn" }], params: { note: "[REDACTED:ssn]", n: 1 },
  };

  it("passes when every given field matches, whatever the key order of maps", () => {
    expect(diffDecision({ decision: "sanitize", params: { n: 1, note: "[REDACTED:ssn]" }, shadow: [] }, decision)).toEqual([]);
  });

  it("lists every differing field with both values", () => {
    expect(diffDecision({ decision: "allow", rule: "dlp:ssn", enforced: false, redactions: [] }, decision)).toEqual([
      'decision: want "allow", got "sanitize"',
      "enforced: want false, got true",
      'redactions: want [], got [{"path":"params.note","by":"dlp:ssn"}]',
    ]);
  });

  it("treats an absent params as absent, not as a match for anything", () => {
    expect(diffDecision({ params: {} }, { decision: "allow" })).toEqual(["params: want {}, got (absent)"]);
    expect(diffDecision({ shadow: [{ rule: "r", effect: "deny" }] }, { decision: "allow" })).toEqual(['shadow: want [{"rule":"r","effect":"deny"}], got []']);
  });

  it("compares numbers as numbers and types strictly", () => {
    expect(diffDecision({ params: { n: 1.0 } }, { params: { n: 1 } })).toEqual([]);
    expect(diffDecision({ params: { n: "1" } }, { params: { n: 1 } })).toHaveLength(1);
  });
});
