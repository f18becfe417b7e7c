// Tests for lower + emit + sign + read + disassemble on hand-built CheckedBundles.
import { describe, it, expect } from "vitest";
import { lowerBundle, NONE } from "../lower/lower.ts";
import { emitBundle, sha256 } from "./emit.ts";
import { signDigest, verifyDigest, publicKeyFromSeed, signatureMessage } from "./sign.ts";
import { readBundle, BundleError } from "../bundle/read.ts";
import { disassembleBundle } from "../bundle/disassemble.ts";
import { makeBundle, ExprBuilder, offsetOf } from "../lower/fixtures.ts";
import { verifyBundleSignature } from "../../bindings/shared/signature.ts";
import { Op, Section } from "../generated/bytecode.ts";

// Regex programs are opaque to lower/emit/read: a stand-in encoder keeps these tests independent
// of the regex compiler (the engine tests use the real one).
const fakeRegex = (p: string): Uint8Array => new TextEncoder().encode(p);
const opts = { compileRegex: fakeRegex };
const x = new ExprBuilder();

function sample() {
  return makeBundle({
    policies: [{ name: "procurement", version: "2026.1", default: "deny" }],
    rules: [
      { id: "big", effect: "deny", agents: ["a1", "a2"], tools: ["pay"], when: x.bin(">", x.path("params.amount", offsetOf(3, 7)), x.int(5000), offsetOf(3, 20)), reason: "too big" },
      { id: "ok", effect: "allow", tools: ["pay"], actions: ["create"], when: x.and(x.matches(x.path("params.id"), "^S-[0-9]+$"), x.bin("==", x.path("params.c"), x.str("USD"))) },
      { id: "any", effect: "allow" },
      { id: "c", effect: "sanitize", redact: [["email"]], when: x.cond(x.bool(true), x.double(1.5), x.double(2.5)) },
    ],
    egress: { hosts: ["Example.COM.", "*.internal.example"] },
    dlp: [{ name: "ssn", pattern: "^S-[0-9]+$" }],
  });
}

describe("lowerBundle", () => {
  it("deduplicates strings, constants and regexes and keeps string 0 empty", () => {
    const p = lowerBundle(sample(), opts);
    expect(p.strings[0]).toBe("");
    expect(new Set(p.strings).size).toBe(p.strings.length);
    expect(p.regexes.length).toBe(1); // `matches` and the DLP pattern share one program
    expect(p.dlp[0].regex).toBe(0);
    expect(p.consts.map((c) => c.kind)).toEqual(["int", "double", "double"]);
  });

  it("emits short-circuit code with forward targets and computes max stack", () => {
    const p = lowerBundle(sample(), opts);
    const code = p.rules[1].code;
    expect(code[code.length - 1]).toBe(Op.RET);
    expect([...code]).toContain(Op.AND_SC);
    expect(p.rules[1].maxStack).toBe(3); // matches(..) expect(p.rules[1].maxStack).toBe(2);expect(p.rules[1].maxStack).toBe(2); (params.c == "USD")
    expect(p.rules[2].code).toEqual(new Uint8Array([Op.TRUE, Op.RET]));
  });

  it("builds index keys as the cartesian product of selectors, sorted", () => {
    const p = lowerBundle(sample(), opts);
    const sym = (s: string) => p.index.symbols.findIndex((i) => p.strings[i] === s);
    const keys = p.index.keys.map((k) => [k.agent, k.tool, k.action, k.rules]);
    expect(keys).toContainEqual([sym("a1"), sym("pay"), NONE, [0]]);
    expect(keys).toContainEqual([sym("a2"), sym("pay"), NONE, [0]]);
    expect(keys).toContainEqual([NONE, sym("pay"), sym("create"), [1]]);
    expect(keys).toContainEqual([NONE, NONE, NONE, [2, 3]]);
    const sorted = [...p.index.keys].sort((a, b) => a.agent - b.agent || a.tool - b.tool || a.action - b.action);
    expect(p.index.keys).toEqual(sorted);
  });

  it("records debug sites with the position of the raising expression", () => {
    const p = lowerBundle(sample(), opts);
    const sites = p.debug.sites.filter((s) => s.rule === 0);
    // FIELD params.amount at 3:7 and the `>` at 3:20
    expect(sites.map((s) => [s.line, s.col])).toEqual([[3, 7], [3, 20]]);
    expect(p.debug.rules[0]).toEqual({ file: 0, line: 3, col: 20 });
  });

  it("normalizes egress hosts", () => {
    const p = lowerBundle(sample(), opts);
    expect(p.egress!.entries.map((e) => [e.wildcard, p.strings[e.host]])).toEqual([[false, "example.com"], [true, "internal.example"]]);
  });
});

describe("emitBundle / readBundle", () => {
  it("is deterministic", () => {
    const a = emitBundle(lowerBundle(sample(), opts));
    const b = emitBundle(lowerBundle(sample(), opts));
    expect(a).toEqual(b);
  });

  it("round-trips through the reader", () => {
    const bytes = emitBundle(lowerBundle(sample(), opts));
    const info = readBundle(bytes);
    expect(info.sections.map((s) => s.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14]);
    expect(info.policies[0]).toMatchObject({ name: "procurement", version: "2026.1", default: "deny", mode: "enforce" });
    expect(info.rules.map((r) => [r.id, r.effect, r.reason])).toEqual([["big", "deny", "too big"], ["ok", "allow", null], ["any", "allow", null], ["c", "sanitize", null]]);
    expect(info.rules[3].redact).toEqual([["email"]]);
    expect(info.rules[0].agents).toEqual(["a1", "a2"]);
    expect(info.digest).toEqual(sha256(bytes.subarray(0, bytes.length - 40)));
    expect(info.signature).toBeNull();
    expect(info.egress!.entries).toEqual([{ wildcard: false, host: "example.com" }, { wildcard: true, host: "internal.example" }]);
  });

  it("rejects malformed bundles with the right codes", () => {
    const bytes = emitBundle(lowerBundle(sample(), opts));
    const code = (b: Uint8Array) => { try { readBundle(b); return "ok"; } catch (e) { return (e as BundleError).name; } };
    expect(code(bytes)).toBe("ok");
    const flip = (at: number) => { const c = bytes.slice(); c[at] ^= 1; return c; };
    expect(code(flip(0))).toBe("bad_magic");
    expect(code(flip(4))).toBe("bad_version");
    expect(code(flip(8))).toBe("opcode_table_mismatch");
    expect(code(bytes.subarray(0, 10))).toBe("truncated");
    expect(code(bytes.subarray(0, bytes.length - 1))).toBe("truncated");
    expect(code(new Uint8Array([...bytes, 0]))).toBe("trailing_bytes");
    expect(code(flip(40))).toBe("bad_digest");
  });

  it("signs and verifies", () => {
    const seed = new Uint8Array(32).fill(7);
    const bytes = emitBundle(lowerBundle(sample(), opts), { privateKey: seed });
    const info = readBundle(bytes);
    expect(info.sections.at(-1)!.id).toBe(Section.SIGNATURE);
    expect(info.signature!.publicKey).toEqual(publicKeyFromSeed(seed));
    expect(verifyDigest(info.digest, info.signature!.signature, publicKeyFromSeed(seed))).toBe(true);
    const ok = verifyBundleSignature(bytes, publicKeyFromSeed(seed));
    expect(ok).toEqual({ ok: true, digest: info.digest });
    const other = publicKeyFromSeed(new Uint8Array(32).fill(8));
    expect(verifyBundleSignature(bytes, other)).toMatchObject({ ok: false, code: "bad_signature" });
    const tampered = bytes.slice(); tampered[tampered.length - 1] ^= 1;
    expect(verifyBundleSignature(tampered, publicKeyFromSeed(seed))).toMatchObject({ ok: false, code: "bad_signature" });
    const unsigned = emitBundle(lowerBundle(sample(), opts));
    expect(verifyBundleSignature(unsigned, publicKeyFromSeed(seed))).toMatchObject({ ok: false, code: "bad_signature" });
    expect(verifyBundleSignature(bytes.subarray(0, 30), publicKeyFromSeed(seed))).toMatchObject({ ok: false, code: "truncated" });
  });

  it("signs `aegis-bundle-v1` || digest", () => {
    const seed = new Uint8Array(32).fill(1);
    const digest = new Uint8Array(32).fill(9);
    const { signature, publicKey } = signDigest(digest, seed);
    expect(new TextDecoder().decode(signatureMessage(digest).subarray(0, 15))).toBe("aegis-bundle-v1");
    expect(verifyDigest(digest, signature, publicKey)).toBe(true);
    expect(verifyDigest(new Uint8Array(32), signature, publicKey)).toBe(false);
    expect(() => signDigest(digest, new Uint8Array(31))).toThrow(/32-byte seed/);
  });
});

describe("disassembleBundle", () => {
  it("lists header, policies, rules with selectors and decoded code", () => {
    const text = disassembleBundle(emitBundle(lowerBundle(sample(), opts)));
    expect(text).toMatch(/^aegis bundle, format version 1/);
    expect(text).toMatch(/digest {4}sha256:[0-9a-f]{64}/);
    expect(text).toContain('policy 0 "procurement" version "2026.1"');
    expect(text).toContain('rule 0 "big" deny (enforce, policy 0) at policy.yaml:3:20');
    expect(text).toContain('agent "a1", "a2"  tool "pay"  action *');
    expect(text).toMatch(/0 {2}\s*VAR\s+3 ; params/);
    expect(text).toMatch(/\[3:7\]\s+FIELD\s+\d+ ; "amount"/);
    expect(text).toMatch(/INT\s+0 ; 5000/);
    expect(text).toMatch(/AND_SC\s+-> \d+/);
    expect(text).toMatch(/COND\s+-> \d+, -> \d+/);
    expect(text).toContain("egress (policy 0, enforce): example.com *.internal.example");
  });
});
