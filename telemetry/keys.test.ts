// Tests of Ed25519 keys and signatures: Wycheproof (all 151 verification cases, and its PEM / JWK
// encodings of every key), RFC 8032 §7.1 known answers, interoperability with `jose` in both
// directions, refusal of other key types, and the strict base64 codecs.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import * as jose from "jose";
import {
  KeyFormatError,
  fromBase64,
  fromBase64Url,
  generateKeyPair,
  publicKeyOf,
  readPrivateKey,
  readPublicKey,
  signEd25519,
  toBase64,
  toBase64Url,
  verifyEd25519,
} from "./keys.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const edData = resolve(repoRoot, "../shared/testdata/ed25519");
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHexText = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

interface WycheproofTest { tcId: number; comment: string; flags: string[]; msg: string; sig: string; result: "valid" | "invalid" }
interface WycheproofGroup { publicKey: { pk: string }; publicKeyPem: string; publicKeyJwk: Record<string, string>; publicKeyDer: string; tests: WycheproofTest[] }
const wycheproof = JSON.parse(readFileSync(resolve(edData, "ed25519_test.json"), "utf8")) as { testGroups: WycheproofGroup[] };
const rfc8032 = JSON.parse(readFileSync(resolve(edData, "rfc8032_7_1.json"), "utf8")) as {
  vectors: { name: string; secret_key: string; public_key: string; message: string; signature: string }[];
};

describe("Ed25519 verification: Wycheproof ed25519_test.json", () => {
  it("agrees with all 151 expected results (strict: S < L, canonical encodings)", () => {
    const wrong: string[] = [];
    let count = 0;
    for (const group of wycheproof.testGroups) {
      const pk = hex(group.publicKey.pk);
      for (const t of group.tests) {
        count++;
        const ok = verifyEd25519(pk, hex(t.msg), hex(t.sig));
        if (ok !== (t.result === "valid")) wrong.push(`tcId ${t.tcId} [${t.flags.join(",")}] ${t.comment}: got ${ok}`);
      }
    }
    expect(count).toBe(151);
    expect(wrong).toEqual([]);
  });

  it("reads every group's key from its PEM, JWK and DER forms", () => {
    for (const group of wycheproof.testGroups) {
      const pk = group.publicKey.pk;
      expect(toHexText(readPublicKey(group.publicKeyPem))).toBe(pk);
      expect(toHexText(readPublicKey(JSON.stringify(group.publicKeyJwk)))).toBe(pk);
      expect(group.publicKeyDer).toBe("302a300506032b6570032100" + pk);
      expect(toHexText(readPublicKey(pk.toUpperCase()))).toBe(pk);
    }
  });
});

describe("Ed25519: RFC 8032 §7.1 known answers", () => {
  it("has the five vectors", () => expect(rfc8032.vectors.map((v) => v.name)).toEqual(["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]));

  for (const v of rfc8032.vectors) {
    it(`${v.name}: seed -> public key, signature byte for byte, verifies`, () => {
      const seed = hex(v.secret_key);
      const message = hex(v.message);
      expect(toHexText(publicKeyOf(seed))).toBe(v.public_key);
      expect(toHexText(signEd25519(seed, message))).toBe(v.signature);
      expect(verifyEd25519(hex(v.public_key), message, hex(v.signature))).toBe(true);
      const other = message.length > 0 ? message.slice(0, -1) : Uint8Array.of(0);
      expect(verifyEd25519(hex(v.public_key), other, hex(v.signature))).toBe(false);
    });
  }

  it("verifyEd25519 returns false, never throws, on malformed arguments", () => {
    const v = rfc8032.vectors[0];
    const [pk, msg, sig] = [hex(v.public_key), hex(v.message), hex(v.signature)];
    const junk: unknown[] = [null, undefined, "00", 7, {}, new Uint8Array(0), new Uint8Array(63), new Uint8Array(65)];
    for (const j of junk) {
      expect(verifyEd25519(j as Uint8Array, msg, sig)).toBe(false);
      expect(verifyEd25519(pk, msg, j as Uint8Array)).toBe(false);
    }
    expect(verifyEd25519(pk, "" as unknown as Uint8Array, sig)).toBe(false);
    expect(verifyEd25519(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false);
    expect(() => publicKeyOf(new Uint8Array(31))).toThrow(RangeError);
    expect(() => signEd25519(new Uint8Array(33), msg)).toThrow(RangeError);
  });
});

describe("generated key pairs are what jose reads", () => {
  async function joseRoundTrip(privateKey: CryptoKey | Uint8Array, publicKey: CryptoKey | Uint8Array): Promise<void> {
    const jws = await new jose.CompactSign(utf8("checkpoint")).setProtectedHeader({ alg: "EdDSA" }).sign(privateKey);
    const { payload } = await jose.compactVerify(jws, publicKey);
    expect(new TextDecoder().decode(payload)).toBe("checkpoint");
  }

  it("PEM: PKCS#8 and SPKI import into jose, sign/verify, and read back", async () => {
    const pair = generateKeyPair("pem");
    expect(pair.privateText).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]{64}\n-----END PRIVATE KEY-----\n$/);
    expect(pair.publicText).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=]{60}\n-----END PUBLIC KEY-----\n$/);
    await joseRoundTrip(await jose.importPKCS8(pair.privateText, "EdDSA"), await jose.importSPKI(pair.publicText, "EdDSA"));
    expect(readPrivateKey(pair.privateText)).toEqual(pair.seed);
    expect(readPublicKey(pair.publicText)).toEqual(pair.publicKey);
    expect(publicKeyOf(pair.seed)).toEqual(pair.publicKey);
  });

  it("JWK: private (x and d) and public import into jose, sign/verify, and read back", async () => {
    const pair = generateKeyPair("jwk");
    const privateJwk = JSON.parse(pair.privateText) as jose.JWK;
    const publicJwk = JSON.parse(pair.publicText) as jose.JWK;
    expect(Object.keys(privateJwk).sort()).toEqual(["crv", "d", "kty", "x"]);
    expect(Object.keys(publicJwk).sort()).toEqual(["crv", "kty", "x"]);
    await joseRoundTrip(await jose.importJWK(privateJwk, "EdDSA"), await jose.importJWK(publicJwk, "EdDSA"));
    expect(readPrivateKey(pair.privateText)).toEqual(pair.seed);
    expect(readPublicKey(pair.publicText)).toEqual(pair.publicKey);
    expect(readPublicKey(pair.privateText)).toEqual(pair.publicKey);
  });

  it("two generated pairs differ", () => {
    expect(generateKeyPair("pem").seed).not.toEqual(generateKeyPair("pem").seed);
  });

  it("refuses an unknown format", () => {
    expect(() => generateKeyPair("der" as "pem")).toThrow(/unknown key format `der`/);
  });
});

describe("reading what jose generates", () => {
  it("reads jose's PKCS#8, SPKI and JWK exports as the same key, and signatures cross over", async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair("EdDSA", { extractable: true });
    const seed = readPrivateKey(await jose.exportPKCS8(privateKey));
    const pub = readPublicKey(await jose.exportSPKI(publicKey));
    const privateJwk = await jose.exportJWK(privateKey);
    expect(readPrivateKey(JSON.stringify(privateJwk))).toEqual(seed);
    expect(readPublicKey(JSON.stringify(await jose.exportJWK(publicKey)))).toEqual(pub);
    expect(publicKeyOf(seed)).toEqual(pub);

    // jose signs, we verify.
    const jws = await new jose.CompactSign(utf8("audit")).setProtectedHeader({ alg: "EdDSA" }).sign(privateKey);
    const [header, payload, signature] = jws.split(".");
    expect(verifyEd25519(pub, utf8(`${header}.${payload}`), fromBase64Url(signature)!)).toBe(true);

    // We sign, jose verifies.
    const ourHeader = toBase64Url(utf8(JSON.stringify({ alg: "EdDSA" })));
    const ourPayload = toBase64Url(utf8("audit"));
    const ourSignature = toBase64Url(signEd25519(seed, utf8(`${ourHeader}.${ourPayload}`)));
    const verified = await jose.compactVerify(`${ourHeader}.${ourPayload}.${ourSignature}`, publicKey);
    expect(new TextDecoder().decode(verified.payload)).toBe("audit");
  });
});

describe("key texts", () => {
  const seed = hex(rfc8032.vectors[0].secret_key);
  const pub = hex(rfc8032.vectors[0].public_key);

  it("reads 64 hex characters (either case, surrounding whitespace ignored)", () => {
    expect(readPrivateKey(`  ${rfc8032.vectors[0].secret_key.toUpperCase()}\n`)).toEqual(seed);
    expect(readPublicKey(rfc8032.vectors[0].public_key + "\n")).toEqual(pub);
  });

  it("reads PKCS#8 v2 (with the public key) and checks that key", () => {
    const v2 = (publicKey: Uint8Array): string =>
      pemOf("PRIVATE KEY", new Uint8Array([...hex("3051020101300506032b657004220420"), ...seed, ...hex("812100"), ...publicKey]));
    expect(readPrivateKey(v2(pub))).toEqual(seed);
    expect(() => readPrivateKey(v2(new Uint8Array(32)))).toThrow(/does not match/);
  });

  it("reads PEM with CRLF line ends", () => {
    const pem = generateKeyPair("pem");
    expect(readPublicKey(pem.publicText.replace(/\n/g, "\r\n"))).toEqual(pem.publicKey);
  });

  const refusals: [string, () => unknown, RegExp][] = [
    ["an RSA private key", () => readPrivateKey(nodeKey("rsa").privatePem), /got an RSA key/],
    ["an RSA public key", () => readPublicKey(nodeKey("rsa").publicPem), /got an RSA key/],
    ["a P-256 private key", () => readPrivateKey(nodeKey("ec").privatePem), /got an EC \(ECDSA\) key/],
    ["a P-256 public key", () => readPublicKey(nodeKey("ec").publicPem), /got an EC \(ECDSA\) key/],
    ["an X25519 private key", () => readPrivateKey(nodeKey("x25519").privatePem), /got an X25519 key/],
    ["an Ed448 public key", () => readPublicKey(nodeKey("ed448").publicPem), /got an Ed448 key/],
    ["an X25519 JWK", () => readPublicKey(JSON.stringify({ kty: "OKP", crv: "X25519", x: toBase64Url(pub) })), /unsupported JWK curve `X25519`/],
    ["an EC JWK", () => readPublicKey(JSON.stringify({ kty: "EC", crv: "P-256", x: "AA", y: "AA" })), /unsupported JWK key type `EC`/],
    ["a JWK for another alg", () => readPublicKey(JSON.stringify({ kty: "OKP", crv: "Ed25519", alg: "ES256", x: toBase64Url(pub) })), /alg `ES256`/],
    ["a public key as a private key (PEM)", () => readPrivateKey(pemOf("PUBLIC KEY", new Uint8Array([...hex("302a300506032b6570032100"), ...pub]))), /expected a private key/],
    ["a public key as a private key (JWK)", () => readPrivateKey(JSON.stringify({ kty: "OKP", crv: "Ed25519", x: toBase64Url(pub) })), /without `d`/],
    ["a private key as a public key", () => readPublicKey(pemOf("PRIVATE KEY", new Uint8Array([...hex("302e020100300506032b657004220420"), ...seed]))), /expected a public key/],
    ["a JWK whose x is not d's public key", () => readPrivateKey(JSON.stringify({ kty: "OKP", crv: "Ed25519", d: toBase64Url(seed), x: toBase64Url(new Uint8Array(32)) })), /not the public key/],
    ["a JWK d of 31 bytes", () => readPrivateKey(JSON.stringify({ kty: "OKP", crv: "Ed25519", d: toBase64Url(seed.slice(1)) })), /`d` must be 32 bytes/],
    ["a JWK x in padded base64", () => readPublicKey(JSON.stringify({ kty: "OKP", crv: "Ed25519", x: toBase64(pub) })), /`x` must be 32 bytes of unpadded base64url/],
    ["a JWK that is not JSON", () => readPublicKey("{kty: OKP}"), /not valid JSON/],
    ["a JSON array", () => readPublicKey("[1]"), /unrecognized public key/],
    ["an encrypted private key", () => readPrivateKey("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----"), /encrypted private keys are not supported/],
    ["an OpenSSH private key", () => readPrivateKey("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"), /OpenSSH/],
    ["a PEM with mismatched labels", () => readPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----"), /malformed PEM/],
    ["a PEM with a bad body", () => readPublicKey("-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----"), /not valid base64/],
    ["a truncated SPKI", () => readPublicKey(pemOf("PUBLIC KEY", hex("302a300506032b65700321007d4d"))), /truncated DER/],
    ["an SPKI with trailing bytes", () => readPublicKey(pemOf("PUBLIC KEY", new Uint8Array([...hex("302a300506032b6570032100"), ...pub, 0]))), /unexpected data/],
    ["a PKCS#8 with trailing bytes", () => readPrivateKey(pemOf("PRIVATE KEY", new Uint8Array([...hex("302f020100300506032b657004220420"), ...seed, 5]))), /malformed key/],
    ["Ed25519 with algorithm parameters", () => readPublicKey(pemOf("PUBLIC KEY", new Uint8Array([...hex("302c300706032b65700500032100"), ...pub]))), /no algorithm parameters/],
    ["63 hex characters", () => readPublicKey("a".repeat(63)), /unrecognized public key/],
    ["an empty text", () => readPrivateKey(""), /unrecognized private key/],
  ];
  for (const [what, read, message] of refusals) {
    it(`refuses ${what} with a clear KeyFormatError`, () => {
      expect(read).toThrow(KeyFormatError);
      expect(read).toThrow(message);
    });
  }
});

describe("strict base64", () => {
  it("agrees with Buffer on every byte string, both alphabets", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        const std = toBase64(bytes);
        const url = toBase64Url(bytes);
        expect(std).toBe(Buffer.from(bytes).toString("base64"));
        expect(url).toBe(Buffer.from(bytes).toString("base64url"));
        expect(fromBase64(std)).toEqual(bytes);
        expect(fromBase64Url(url)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses non-canonical text", () => {
    expect(fromBase64("QQ==")).toEqual(Uint8Array.of(0x41));
    for (const bad of ["QR==", "QQ", "QQ=", "Q===", "QUI", "QUJ=", "QQ==QQ==", " QQ==", "QQ==\n", "Q-==", "=QQ=", "QUJD\n", "ÀÀÀÀ"]) {
      expect(fromBase64(bad)).toBeNull();
    }
    for (const bad of ["QR", "QQ==", "Q", "Q+", "Q/"]) expect(fromBase64Url(bad)).toBeNull();
  });
});

// --- helpers ---

function pemOf(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${toBase64(der).replace(/(.{64})/g, "$1\n")}\n-----END ${label}-----\n`;
}

const nodeKeys = new Map<string, { privatePem: string; publicPem: string }>();
function nodeKey(type: "rsa" | "ec" | "x25519" | "ed448"): { privatePem: string; publicPem: string } {
  let pair = nodeKeys.get(type);
  if (!pair) {
    const generated =
      type === "rsa"
        ? generateKeyPairSync("rsa", { modulusLength: 1024 })
        : type === "ec"
          ? generateKeyPairSync("ec", { namedCurve: "P-256" })
          : type === "x25519"
            ? generateKeyPairSync("x25519")
            : generateKeyPairSync("ed448");
    pair = {
      privatePem: generated.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      publicPem: generated.publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
    nodeKeys.set(type, pair);
  }
  return pair;
}
