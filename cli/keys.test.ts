// Tests of cli/keys.ts: every accepted key form reads to the same raw bytes, and other key types
// or garbage are refused with a KeyError.
import { describe, it, expect } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { generateKeyPairPem, generateKeyPairRaw, KeyError, parsePrivateKey, parsePublicKey } from "./keys.ts";

describe("parsePrivateKey / parsePublicKey", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privateJwk = privateKey.export({ format: "jwk" }) as { d: string; x: string };
  const seed = Buffer.from(privateJwk.d, "base64url");
  const raw = Buffer.from(privateJwk.x, "base64url");

  it("reads a private key from PEM, JWK and hex to the same seed", () => {
    const fromPem = parsePrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "pem");
    const fromJwk = parsePrivateKey(JSON.stringify(privateJwk), "jwk");
    const fromHex = parsePrivateKey(`${seed.toString("hex")}\n`, "hex");
    expect(Buffer.from(fromPem).equals(seed)).toBe(true);
    expect(Buffer.from(fromJwk).equals(seed)).toBe(true);
    expect(Buffer.from(fromHex).equals(seed)).toBe(true);
  });

  it("reads a public key from SPKI PEM, JWK, hex and a private PEM", () => {
    const forms = [
      publicKey.export({ type: "spki", format: "pem" }).toString(),
      JSON.stringify(publicKey.export({ format: "jwk" })),
      JSON.stringify(privateJwk),
      raw.toString("hex").toUpperCase(),
      privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    ];
    for (const form of forms) expect(Buffer.from(parsePublicKey(form, "k")).equals(raw)).toBe(true);
  });

  it("refuses keys of other types", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => parsePrivateKey(rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "`rsa.key`")).toThrow(/`rsa.key` is rsa, not ed25519/);
    const x25519 = generateKeyPairSync("x25519");
    expect(() => parsePublicKey(x25519.publicKey.export({ type: "spki", format: "pem" }).toString(), "x")).toThrow(KeyError);
  });

  it("refuses garbage, wrong lengths and a public key given as private", () => {
    expect(() => parsePrivateKey("hello", "`k`")).toThrow(/cannot read private key `k`/);
    expect(() => parsePrivateKey("ab".repeat(31), "k")).toThrow(KeyError);
    expect(() => parsePrivateKey("{not json", "k")).toThrow(/not valid JSON/);
    expect(() => parsePrivateKey(publicKey.export({ type: "spki", format: "pem" }).toString(), "k")).toThrow(KeyError);
    expect(() => parsePublicKey("zz".repeat(32), "k")).toThrow(KeyError);
  });

  it("generates pairs whose halves belong together", () => {
    const pem = generateKeyPairPem();
    const seedBytes = parsePrivateKey(pem.privatePem, "p");
    expect(Buffer.from(parsePublicKey(pem.privatePem, "p")).equals(Buffer.from(parsePublicKey(pem.publicPem, "q")))).toBe(true);
    expect(seedBytes.length).toBe(32);
    const pair = generateKeyPairRaw();
    expect(Buffer.from(parsePublicKey(Buffer.from(pair.seed).toString("hex").padStart(64, "0"), "s")).length).toBe(32);
    expect(pair.publicKey.length).toBe(32);
    expect(Buffer.from(pair.seed).equals(Buffer.from(generateKeyPairRaw().seed))).toBe(false);
  });
});
