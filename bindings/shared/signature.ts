// Host-side bundle signature check, shared by every JS host (Node, Deno, browsers): bundle bytes +
// trusted Ed25519 public key -> ok with the digest, or a bundle error code. Walks the section
// headers (docs/bytecode.md) to find DIGEST and SIGNATURE and verifies the signature over
// "aegis-bundle-v1" || digest. The engine itself checks that the digest matches the contents.
// Standalone on purpose: no compiler or Node imports, synchronous, so it runs in browsers too.
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

ed.hashes.sha512 = sha512;

const SECTION_DIGEST = 14;
const SECTION_SIGNATURE = 15;
const CONTEXT = "aegis-bundle-v1";

export type SignatureResult =
  | { ok: true; digest: Uint8Array }
  | { ok: false; code: "bad_signature" | "truncated" | "bad_section"; message: string };

/** Verify a bundle's Ed25519 signature against `publicKey` (32 bytes). */
export function verifyBundleSignature(bytes: Uint8Array, publicKey: Uint8Array): SignatureResult {
  if (bytes.length < 16) return { ok: false, code: "truncated", message: "bundle is truncated" };
  if (bytes[0] !== 0x41 || bytes[1] !== 0x45 || bytes[2] !== 0x47 || bytes[3] !== 0x53) {
    return { ok: false, code: "bad_section", message: "not an Aegis bundle (bad magic)" };
  }
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    return { ok: false, code: "bad_signature", message: "the public key must have 32 bytes" };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(12, true);
  let pos = 16;
  let digest: Uint8Array | null = null;
  let signature: Uint8Array | null = null;
  let embeddedKey: Uint8Array | null = null;
  let lastId = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 8 > bytes.length) return { ok: false, code: "truncated", message: "bundle is truncated" };
    const id = bytes[pos];
    if (id <= lastId) return { ok: false, code: "bad_section", message: "unknown, duplicate or out-of-order section" };
    lastId = id;
    const len = view.getUint32(pos + 4, true);
    if (len > bytes.length - pos - 8) return { ok: false, code: "truncated", message: "bundle is truncated" };
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (id === SECTION_DIGEST) {
      if (len !== 32) return { ok: false, code: "bad_section", message: "DIGEST section must have 32 bytes" };
      digest = body.slice();
    } else if (id === SECTION_SIGNATURE) {
      if (len !== 96) return { ok: false, code: "bad_section", message: "SIGNATURE section must have 96 bytes" };
      embeddedKey = body.slice(0, 32);
      signature = body.slice(32, 96);
    }
    pos += 8 + len;
  }
  if (!digest) return { ok: false, code: "bad_section", message: "a required section is missing: DIGEST" };
  if (!signature || !embeddedKey) return { ok: false, code: "bad_signature", message: "bundle is not signed" };
  let sameKey = true;
  for (let i = 0; i < 32; i++) if (embeddedKey[i] !== publicKey[i]) sameKey = false;
  if (!sameKey) return { ok: false, code: "bad_signature", message: "bundle is signed by a different key" };
  const message = new Uint8Array(CONTEXT.length + 32);
  for (let i = 0; i < CONTEXT.length; i++) message[i] = CONTEXT.charCodeAt(i);
  message.set(digest, CONTEXT.length);
  let valid = false;
  try {
    valid = ed.verify(signature, message, publicKey);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, code: "bad_signature", message: "bundle signature is invalid" };
  return { ok: true, digest };
}
