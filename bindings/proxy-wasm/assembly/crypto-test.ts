// Test entry (not the filter): exposes the filter's SHA-512 and Ed25519 verification so that
// bindings/proxy-wasm/ed25519.test.ts can run the Wycheproof and NIST vectors against the very code
// the filter links. Built to build/proxy-wasm/crypto-test.wasm by scripts/build-proxy-wasm.ts.
import { sha512 } from "./sha512";
import { ed25519Verify } from "./ed25519";

const BUF: usize = memory.data(65536, 16);

/** Address of a 64 KiB scratch block the test writes inputs into. */
export function scratch(): usize { return BUF; }

/** SHA-512 of `len` bytes at `ptr` into `out`. */
export function hash(ptr: usize, len: usize, out: usize): void { sha512(ptr, len, out); }

/** 1 when the signature verifies, else 0. */
export function verify(pk: usize, sig: usize, msg: usize, msgLen: usize): i32 {
  return ed25519Verify(pk, sig, msg, msgLen) ? 1 : 0;
}
