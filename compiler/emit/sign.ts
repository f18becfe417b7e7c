// Stage `emit` (signing): bundle digest + Ed25519 seed -> public key and signature for the
// SIGNATURE section. The signed message is the 15 ASCII bytes "aegis-bundle-v1" followed by the
// 32-byte digest (docs/bytecode.md). Key files (PEM/JWK) are read by the CLI, not here.
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

// @noble/ed25519 v3 needs a synchronous SHA-512 for its sync API.
ed.hashes.sha512 = sha512;

/** Domain-separation prefix of every bundle signature. */
export const SIGNATURE_CONTEXT = "aegis-bundle-v1";

/** The bytes that are signed: "aegis-bundle-v1" || digest. */
export function signatureMessage(digest: Uint8Array): Uint8Array {
  const msg = new Uint8Array(SIGNATURE_CONTEXT.length + digest.length);
  for (let i = 0; i < SIGNATURE_CONTEXT.length; i++) msg[i] = SIGNATURE_CONTEXT.charCodeAt(i);
  msg.set(digest, SIGNATURE_CONTEXT.length);
  return msg;
}

/** The Ed25519 public key of a 32-byte seed. */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  checkSeed(seed);
  return ed.getPublicKey(seed);
}

/** Sign a bundle digest with a 32-byte Ed25519 seed. */
export function signDigest(digest: Uint8Array, seed: Uint8Array): { publicKey: Uint8Array; signature: Uint8Array } {
  checkSeed(seed);
  if (digest.length !== 32) throw new Error(`a bundle digest has 32 bytes, not ${digest.length}`);
  return { publicKey: ed.getPublicKey(seed), signature: ed.sign(signatureMessage(digest), seed) };
}

/** Verify a signature made by `signDigest`. */
export function verifyDigest(digest: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed.verify(signature, signatureMessage(digest), publicKey);
  } catch {
    return false;
  }
}

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new Error(`an Ed25519 private key is a 32-byte seed, not ${seed?.length ?? 0} bytes`);
  }
}
