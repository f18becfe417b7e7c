// Filter: bundle signature check inside the proxy (the same rules as bindings/shared/signature.ts,
// which every JS host uses). Input: bundle bytes and the trusted 32-byte Ed25519 public key.
// Output: null when the SIGNATURE section verifies over "aegis-bundle-v1" || DIGEST, else the
// reason. The engine then checks that DIGEST is the SHA-256 of the bundle's contents, so the
// signature covers every byte the engine reads (docs/bytecode.md).
//
//   header (16 bytes): magic "AEGS" | ... | u32 section count at +12
//   section: u8 id | 3 bytes | u32 length at +4 | payload
//   DIGEST (14): 32 bytes      SIGNATURE (15): 32-byte public key | 64-byte signature

import { ed25519Verify } from "./ed25519";

const SECTION_DIGEST: u8 = 14;
const SECTION_SIGNATURE: u8 = 15;
const CONTEXT = "aegis-bundle-v1";
const MESSAGE: usize = memory.data(15 + 32);

/** Verify the bundle of `len` bytes at `ptr` against `publicKey` (32 bytes); null or the reason. */
export function checkBundleSignature(ptr: usize, len: usize, publicKey: usize): string | null {
  if (len < 16) return "bundle is truncated";
  if (load<u8>(ptr) != 0x41 || load<u8>(ptr + 1) != 0x45 || load<u8>(ptr + 2) != 0x47 || load<u8>(ptr + 3) != 0x53) {
    return "not an Aegis bundle (bad magic)";
  }
  const count = load<u32>(ptr + 12);
  let pos: usize = 16;
  let digest: usize = 0;
  let signature: usize = 0;
  let lastId: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    if (pos + 8 > len) return "bundle is truncated";
    const id = <u32>load<u8>(ptr + pos);
    if (id <= lastId) return "unknown, duplicate or out-of-order section";
    lastId = id;
    const size = <usize>load<u32>(ptr + pos + 4);
    if (size > len - pos - 8) return "bundle is truncated";
    if (id == SECTION_DIGEST) {
      if (size != 32) return "DIGEST section must have 32 bytes";
      digest = ptr + pos + 8;
    } else if (id == SECTION_SIGNATURE) {
      if (size != 96) return "SIGNATURE section must have 96 bytes";
      signature = ptr + pos + 8;
    }
    pos += 8 + size;
  }
  if (digest == 0) return "a required section is missing: DIGEST";
  if (signature == 0) return "bundle is not signed";
  for (let i: usize = 0; i < 32; i++) {
    if (load<u8>(signature + i) != load<u8>(publicKey + i)) return "bundle is signed by a different key";
  }
  for (let i = 0; i < CONTEXT.length; i++) store<u8>(MESSAGE + <usize>i, <u8>CONTEXT.charCodeAt(i));
  memory.copy(MESSAGE + 15, digest, 32);
  if (!ed25519Verify(publicKey, signature + 32, MESSAGE, 47)) return "bundle signature is invalid";
  return null;
}
