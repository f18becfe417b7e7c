// CLI key handling: reads Ed25519 keys given as PEM (PKCS#8 / SPKI), JWK (JSON) or 64 hex characters
// and returns the raw 32 bytes the compiler (private seed) and the Node binding (public key) take;
// also generates key pairs for `aegis keygen`. Everything goes through node:crypto, so a key of
// another type (RSA, P-256, X25519) is refused with a clear message rather than misread.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";

/** A key that could not be read; the message is meant for the user. */
export class KeyError extends Error {}

// DER prefixes that turn a raw Ed25519 seed / public key into PKCS#8 / SPKI (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * Read an Ed25519 private key from its text (PEM PKCS#8, JWK with `d`, or 64 hex chars of the
 * seed) and return the 32-byte seed. `label` names the key's origin in error messages.
 */
export function parsePrivateKey(text: string, label: string): Uint8Array {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (HEX_KEY.test(trimmed)) {
      key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(trimmed, "hex")]), format: "der", type: "pkcs8" });
    } else if (trimmed.startsWith("{")) {
      key = createPrivateKey({ key: JSON.parse(trimmed), format: "jwk" });
    } else {
      key = createPrivateKey(trimmed);
    }
  } catch (e) {
    throw new KeyError(`cannot read private key ${label}: ${describeCryptoError(e)}`);
  }
  return rawEd25519(key, "d", label);
}

/**
 * Read an Ed25519 public key from its text (PEM SPKI, a PEM private key whose public half is
 * used, JWK with `x`, or 64 hex chars) and return the 32 raw bytes.
 */
export function parsePublicKey(text: string, label: string): Uint8Array {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (HEX_KEY.test(trimmed)) {
      key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(trimmed, "hex")]), format: "der", type: "spki" });
    } else if (trimmed.startsWith("{")) {
      const jwk = JSON.parse(trimmed) as Record<string, unknown>;
      // A private JWK also carries `x`; only the public half is wanted here.
      const { d: _private, ...publicJwk } = jwk;
      key = createPublicKey({ key: publicJwk, format: "jwk" });
    } else {
      key = createPublicKey(trimmed);
    }
  } catch (e) {
    throw new KeyError(`cannot read public key ${label}: ${describeCryptoError(e)}`);
  }
  return rawEd25519(key, "x", label);
}

/** A fresh Ed25519 key pair as PEM texts: PKCS#8 private key and SPKI public key. */
export function generateKeyPairPem(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** A fresh Ed25519 key pair as raw bytes (32-byte seed and 32-byte public key). */
export function generateKeyPairRaw(): { seed: Uint8Array; publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { seed: rawEd25519(privateKey, "d", "generated"), publicKey: rawEd25519(publicKey, "x", "generated") };
}

function rawEd25519(key: KeyObject, field: "d" | "x", label: string): Uint8Array {
  if (key.asymmetricKeyType !== "ed25519") {
    throw new KeyError(`key ${label} is ${key.asymmetricKeyType ?? "not asymmetric"}, not ed25519`);
  }
  const jwk = key.export({ format: "jwk" }) as { d?: string; x?: string };
  const value = jwk[field];
  if (value === undefined) throw new KeyError(`key ${label} has no ${field === "d" ? "private" : "public"} part`);
  const bytes = new Uint8Array(Buffer.from(value, "base64url"));
  if (bytes.length !== 32) throw new KeyError(`key ${label} is not a 32-byte ed25519 key`);
  return bytes;
}

function describeCryptoError(e: unknown): string {
  if (e instanceof SyntaxError) return "not valid JSON";
  const message = e instanceof Error ? e.message : String(e);
  // node:crypto messages are terse and capitalised (`error:1E08010C:DECODER routines::unsupported`);
  // keep them, lower-cased at the start, so the user can still search for them.
  return `not a PEM, JWK or 64-hex-character ed25519 key (${message.charAt(0).toLowerCase()}${message.slice(1)})`;
}
