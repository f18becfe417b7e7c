// The filter's own SHA-512 and Ed25519 verification (bindings/proxy-wasm/assembly/sha512.ts,
// ed25519.ts), run from build/proxy-wasm/crypto-test.wasm: every Wycheproof Ed25519 vector must
// give its expected result (strict RFC 8032: S >= L, non-canonical encodings and truncated or
// padded signatures rejected), RFC 8032's known answers must verify, and SHA-512 must agree with
// node:crypto at every padding boundary. The filter checks bundle signatures with this code.
import { describe, it, expect, beforeAll } from "vitest";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { buildProxyWasm } from "../../scripts/build-proxy-wasm.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const testdata = path.resolve(repoRoot, "../shared/testdata/ed25519");

interface CryptoExports {
  memory: WebAssembly.Memory;
  scratch(): number;
  hash(ptr: number, len: number, out: number): void;
  verify(pk: number, sig: number, msg: number, msgLen: number): number;
}

let wasm: CryptoExports;

beforeAll(async () => {
  const { cryptoTest } = await buildProxyWasm();
  const { instance } = await WebAssembly.instantiate(readFileSync(cryptoTest), {});
  wasm = instance.exports as unknown as CryptoExports;
});

function verify(pk: Uint8Array, sig: Uint8Array, msg: Uint8Array): boolean {
  // The filter only ever sees 32-byte keys and 64-byte signatures (the SIGNATURE section is
  // checked for 96 bytes first), so other lengths are invalid before the curve is reached.
  if (pk.length !== 32 || sig.length !== 64) return false;
  const base = wasm.scratch();
  const mem = new Uint8Array(wasm.memory.buffer);
  mem.set(pk, base);
  mem.set(sig, base + 32);
  mem.set(msg, base + 96);
  return wasm.verify(base, base + 32, base + 96, msg.length) === 1;
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));

describe("proxy-wasm filter crypto", () => {
  it("sha512 matches node:crypto around every block boundary", () => {
    const base = wasm.scratch();
    for (const n of [0, 1, 55, 111, 112, 113, 127, 128, 129, 239, 240, 255, 256, 1000, 4096]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
      new Uint8Array(wasm.memory.buffer).set(data, base + 64);
      wasm.hash(base + 64, n, base);
      const got = Buffer.from(new Uint8Array(wasm.memory.buffer, base, 64)).toString("hex");
      expect(got, `length ${n}`).toBe(createHash("sha512").update(data).digest("hex"));
    }
  });

  it("ed25519 verify agrees with all 151 Wycheproof vectors", () => {
    const suite = JSON.parse(readFileSync(path.join(testdata, "ed25519_test.json"), "utf8")) as {
      testGroups: { publicKey: { pk: string }; tests: { tcId: number; comment: string; msg: string; sig: string; result: string }[] }[];
    };
    const wrong: string[] = [];
    let count = 0;
    for (const group of suite.testGroups) {
      for (const t of group.tests) {
        count++;
        const got = verify(hex(group.publicKey.pk), hex(t.sig), hex(t.msg));
        if (got !== (t.result === "valid")) wrong.push(`tcId ${t.tcId} (${t.comment}): got ${got}, want ${t.result}`);
      }
    }
    expect(count).toBe(151);
    expect(wrong).toEqual([]);
  });

  it("ed25519 verifies the RFC 8032 section 7.1 vectors and rejects any changed byte", () => {
    const { vectors } = JSON.parse(readFileSync(path.join(testdata, "rfc8032_7_1.json"), "utf8")) as {
      vectors: { name: string; public_key: string; message: string; signature: string }[];
    };
    expect(vectors.length).toBe(5);
    for (const v of vectors) {
      const pk = hex(v.public_key), sig = hex(v.signature), msg = hex(v.message);
      expect(verify(pk, sig, msg), v.name).toBe(true);
      const badSig = sig.slice(); badSig[10] ^= 1;
      expect(verify(pk, badSig, msg), `${v.name}, signature changed`).toBe(false);
      const badMsg = Uint8Array.from([...msg, 0]);
      expect(verify(pk, sig, badMsg), `${v.name}, message changed`).toBe(false);
    }
  });
});
