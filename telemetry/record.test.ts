// Decision records: what an auditor relies on beyond the byte vectors of conformance/cases/telemetry
// (which every host runs): secrets stay out, ids are well formed, digests follow the canonical form.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalize } from "./jcs.ts";
import { approvalId, buildRecord, recordJson, recordLine, uuidv7, ZERO_HASH_HEX, type DecisionFields, type DecisionRecord, type RecordMeta } from "./record.ts";

const bundle = "sha256:" + "ab".repeat(32);
const meta: RecordMeta = { seq: 3, prev: ZERO_HASH_HEX, ts: Date.UTC(2026, 10, 22, 1, 2, 3, 45), id: "d-1", host: "node", evalNs: 1200 };
const allow: DecisionFields = {
  decision: "allow", enforced: true, rule: "r1", reason: "ok", policy: "p", policy_version: "1", bundle,
};
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha = (s: string | Uint8Array): string => createHash("sha256").update(s).digest("hex");

describe("decision records", () => {
  it("digest the canonical request: key order, spacing and number spelling do not change it", () => {
    const a = buildRecord(allow, { raw: encode('{"tool":"t","agent":{"id":"a"},"action":"x","params":{"n":1.50E3}}') }, meta);
    const b = buildRecord(allow, { value: { agent: { id: "a" }, action: "x", params: { n: 1500 }, tool: "t" } }, meta);
    expect(a.request).toBe(b.request);
    expect(a.request).toBe("sha256:" + sha('{"action":"x","agent":{"id":"a"},"params":{"n":1500},"tool":"t"}'));
  });

  it("never write the override token, only its hash", () => {
    const line = recordLine(encode(JSON.stringify(allow)), encode('{"agent":{"id":"a"},"tool":"t","action":"x","override_token":"secret-token-123"}'), meta, bundle);
    expect(line).not.toContain("secret-token-123");
    expect(JSON.parse(line).override_token).toBe("sha256:" + sha("secret-token-123"));
  });

  it("give approval_needed decisions an approval id derived from bundle, rule and request", () => {
    const pending = { ...allow, decision: "approval_needed", rule: "big" };
    const r = buildRecord(pending, { value: { agent: { id: "a" }, tool: "t", action: "x" } }, meta);
    expect(r.approval).toBe("apr-" + sha(`${bundle}\nbig\n${r.request}`).slice(0, 32));
    expect(r.approval).toBe(approvalId(bundle, "big", r.request));
    expect(buildRecord(allow, { value: { agent: { id: "a" }, tool: "t", action: "x" } }, meta).approval).toBeUndefined();
  });

  it("leave params out unless asked, and then log the redacted params of a sanitize decision", () => {
    const request = { agent: { id: "a" }, tool: "t", action: "x", params: { ssn: "123-45-6789" } };
    expect(buildRecord(allow, { value: request }, meta).params).toBeUndefined();
    const sanitize = { ...allow, decision: "sanitize", params: { ssn: "[REDACTED]" }, redactions: [{ path: "params.ssn", by: "dlp:ssn" }] };
    const line = recordLine(encode(JSON.stringify(sanitize)), encode(JSON.stringify(request)), { ...meta, includeParams: true }, bundle);
    expect(line).not.toContain("123-45-6789");
    expect(JSON.parse(line).params).toEqual({ ssn: "[REDACTED]" });
  });

  it("record a rejected request as a deny with the error, over the raw bytes", () => {
    const raw = encode('{"agent":{"id":"a"},"tool":"t","tool":"u"}');
    const line = recordLine(encode('{"error":{"code":"duplicate_key","message":"duplicate key `tool`","offset":30}}'), raw, meta, bundle);
    const r = JSON.parse(line);
    expect(r).toMatchObject({ decision: "deny", enforced: true, rule: "", error: { code: "duplicate_key" }, request: "sha256:" + sha(raw), bundle });
    expect(r.policy).toBeUndefined();
    // Bytes that are not JSON at all still leave a record, with no identity.
    const junk = JSON.parse(recordLine(encode('{"error":{"code":"invalid_json","message":"bad"}}'), encode("\xff{"), meta, bundle));
    expect(junk.agent).toBeUndefined();
    expect(junk.request).toBe("sha256:" + sha(encode("\xff{")));
  });

  it("write the time as RFC 3339 UTC with milliseconds", () => {
    expect(buildRecord(allow, { value: { agent: { id: "a" }, tool: "t", action: "x" } }, meta).ts).toBe("2026-11-22T01:02:03.045Z");
    expect(() => buildRecord(allow, { value: {} }, { ...meta, ts: Number.NaN })).toThrow(RangeError);
  });

  it("make time-ordered UUIDv7 ids", () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.slice(0, 13) < b.slice(0, 13)).toBe(true);
    expect(parseInt(a.replace(/-/g, "").slice(0, 12), 16)).toBe(1_700_000_000_000);
    expect(uuidv7(1_700_000_000_000)).not.toBe(a);
  });

  it("write records member by member exactly as the canonical form of the record object", () => {
    const text = fc.string({ unit: "binary", maxLength: 12 });
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const record: fc.Arbitrary<DecisionRecord> = fc.record({
      type: fc.constant("decision" as const), v: fc.constant(1 as const),
      seq: fc.nat(), prev: text, ts: text, id: text,
      agent: opt(fc.record({ id: text, tenant: opt(text) })),
      tool: opt(text), action: opt(text), decision: text, enforced: fc.boolean(), rule: text, reason: text,
      policy: opt(fc.record({ name: text, version: text })), bundle: text, request: text,
      params: opt(fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }))),
      shadow: opt(fc.array(fc.record({ rule: text, effect: text }), { minLength: 1, maxLength: 3 })),
      redactions: opt(fc.array(fc.record({ path: text, by: text }), { minLength: 1, maxLength: 3 })),
      approval: opt(text), override_token: opt(text),
      error: opt(fc.record({ code: text, message: text })),
      host: text, eval_ns: fc.nat(),
    }).map((r) => {
      // Absent members are left out, never present as undefined (docs/telemetry.md §2).
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
      if (r.agent && r.agent.tenant === undefined) out.agent = { id: r.agent.id };
      return out as unknown as DecisionRecord;
    });
    fc.assert(fc.property(record, (r) => {
      let want: string | Error;
      try { want = canonicalize(r); } catch (e) { want = e as Error; }
      if (want instanceof Error) expect(() => recordJson(r)).toThrow();
      else expect(recordJson(r)).toBe(want);
    }), { numRuns: 2000 });
  });
});
