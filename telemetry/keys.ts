// Ed25519 keys and signatures for the audit log: key text (PEM PKCS#8 / SPKI, JWK, 64 hex chars)
// -> raw 32-byte seed / public key, key-pair generation in the formats `jose` reads, and the
// sign / strict-verify primitives that checkpoints use. Also the strict base64 codecs that
// checkpoints and keys share.
//
// Implementation notes:
// - Platform-neutral (Node, Deno, browsers): no node:crypto. DER is read with a minimal reader
//   that knows just the RFC 8410 structures; generated keys use the fixed RFC 8410 prefixes
//   PKCS#8 302e020100300506032b657004220420 || seed and SPKI 302a300506032b6570032100 || key.
// - PKCS#8 v2 (OneAsymmetricKey with the public key, RFC 5958) is read too; its public key must
//   match the seed.
// - verifyEd25519 uses @noble/ed25519 with `zip215: false`: RFC 8032 / FIPS 186-5 strict
//   decoding (S < L, canonical y < p for A and R) and small-order public keys rejected. It
//   agrees with all 151 Wycheproof ed25519 vectors (keys.test.ts).
// - Base64 decoding is strict (canonical padding and zero trailing bits), so one value has one
//   text: a note or key cannot be altered without changing its meaning.
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

// @noble/ed25519 v3 needs a synchronous SHA-512 for its sync API.
ed.hashes.sha512 = sha512;

/** A key text that could not be read as the Ed25519 key asked for; the message is meant for the user. */
export class KeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFormatError";
  }
}

// --- Ed25519 primitives ---

/** The 32-byte Ed25519 public key of a 32-byte seed (RFC 8032 §5.1.5). */
export function publicKeyOf(seed: Uint8Array): Uint8Array {
  checkLength(seed, 32, "an ed25519 seed");
  return ed.getPublicKey(seed);
}

/** The 64-byte Ed25519 signature of `message` by the key with this 32-byte seed (deterministic, RFC 8032 §5.1.6). */
export function signEd25519(seed: Uint8Array, message: Uint8Array): Uint8Array {
  checkLength(seed, 32, "an ed25519 seed");
  return ed.sign(message, seed);
}

/** Strict RFC 8032 verification (S < L, canonical encodings, no small-order keys); false, never throws, for any bad input. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!(message instanceof Uint8Array)) return false;
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// --- key texts ---

const PKCS8_PREFIX = "302e020100300506032b657004220420";
const SPKI_PREFIX = "302a300506032b6570032100";
const HEX_KEY = /^[0-9a-fA-F]{64}$/;

// Algorithm OIDs (DER content bytes, hex) -> names for error messages.
const OID_ED25519 = "2b6570";
const KNOWN_ALGORITHMS: Record<string, string> = {
  "2a864886f70d010101": "an RSA key",
  "2a864886f70d01010a": "an RSA-PSS key",
  "2a8648ce3d0201": "an EC (ECDSA) key",
  "2b656e": "an X25519 key",
  "2b656f": "an X448 key",
  "2b6571": "an Ed448 key",
};

/** Read an Ed25519 private key: PEM PKCS#8, JWK (kty OKP, crv Ed25519, d), or 64 hex chars. Returns the 32-byte seed. */
export function readPrivateKey(text: string): Uint8Array {
  const trimmed = String(text).trim();
  if (trimmed.startsWith("-----BEGIN")) {
    const { label, der } = readPem(trimmed);
    if (label === "PUBLIC KEY") throw new KeyFormatError("expected a private key, got a public key (PEM `PUBLIC KEY`)");
    if (label !== "PRIVATE KEY") throw new KeyFormatError(unsupportedPemLabel(label, "PRIVATE KEY"));
    return seedFromPkcs8(der);
  }
  if (trimmed.startsWith("{")) {
    const jwk = readJwk(trimmed);
    if (jwk.d === undefined) throw new KeyFormatError("expected a private key, got a JWK without `d` (a public key)");
    const seed = jwkMember(jwk, "d");
    if (jwk.x !== undefined && !equalBytes(jwkMember(jwk, "x"), publicKeyOf(seed))) {
      throw new KeyFormatError("JWK `x` is not the public key of its `d`");
    }
    return seed;
  }
  if (HEX_KEY.test(trimmed)) return hexBytes(trimmed);
  throw new KeyFormatError("unrecognized private key: expected PEM (PKCS#8), a JWK or 64 hex characters");
}

/** Read an Ed25519 public key: PEM SPKI, JWK (x), or 64 hex chars. Returns 32 bytes. */
export function readPublicKey(text: string): Uint8Array {
  const trimmed = String(text).trim();
  if (trimmed.startsWith("-----BEGIN")) {
    const { label, der } = readPem(trimmed);
    if (label === "PRIVATE KEY" || label.endsWith(" PRIVATE KEY")) {
      throw new KeyFormatError(`expected a public key, got a private key (PEM \`${label}\`)`);
    }
    if (label !== "PUBLIC KEY") throw new KeyFormatError(unsupportedPemLabel(label, "PUBLIC KEY"));
    return publicKeyFromSpki(der);
  }
  if (trimmed.startsWith("{")) {
    const jwk = readJwk(trimmed);
    if (jwk.x === undefined) throw new KeyFormatError("JWK has no `x` (public key)");
    return jwkMember(jwk, "x");
  }
  if (HEX_KEY.test(trimmed)) return hexBytes(trimmed);
  throw new KeyFormatError("unrecognized public key: expected PEM (SPKI), a JWK or 64 hex characters");
}

/** Generate a pair and encode it: PEM (PKCS#8 + SPKI) or JWK (private JWK includes x and d). */
export function generateKeyPair(format: "pem" | "jwk"): { privateText: string; publicText: string; publicKey: Uint8Array; seed: Uint8Array } {
  const seed = ed.utils.randomSecretKey();
  const publicKey = publicKeyOf(seed);
  if (format === "pem") {
    return {
      privateText: pem("PRIVATE KEY", concatBytes(hexBytes(PKCS8_PREFIX), seed)),
      publicText: pem("PUBLIC KEY", concatBytes(hexBytes(SPKI_PREFIX), publicKey)),
      publicKey,
      seed,
    };
  }
  if (format === "jwk") {
    const x = toBase64Url(publicKey);
    return {
      privateText: JSON.stringify({ kty: "OKP", crv: "Ed25519", x, d: toBase64Url(seed) }) + "\n",
      publicText: JSON.stringify({ kty: "OKP", crv: "Ed25519", x }) + "\n",
      publicKey,
      seed,
    };
  }
  throw new KeyFormatError(`unknown key format \`${String(format)}\`: expected pem or jwk`);
}

// --- base64 (RFC 4648 §4 and §5) ---

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_VALUES = decodeTable(B64);
const B64URL_VALUES = decodeTable(B64URL);

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  return encode64(bytes, B64, true);
}

/** Unpadded base64url (RFC 4648 §5), as JWK uses. */
export function toBase64Url(bytes: Uint8Array): string {
  return encode64(bytes, B64URL, false);
}

/** Strict standard base64: padding required, no whitespace, zero trailing bits. null if `text` is not canonical base64. */
export function fromBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  let end = text.length;
  if (end > 0 && text[end - 1] === "=") end--;
  if (end > 0 && text[end - 1] === "=" && end === text.length - 1) end--;
  return decode64(text, end, B64_VALUES);
}

/** Strict unpadded base64url. null if `text` is not canonical base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  return decode64(text, text.length, B64URL_VALUES);
}

function encode64(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + (pad ? "=" : "");
  }
  return out;
}

function decodeTable(alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

/** Decode text[0, end) (no padding characters in that range); text[end..] is padding already checked. */
function decode64(text: string, end: number, values: Int16Array): Uint8Array | null {
  const tail = end % 4;
  if (tail === 1) return null;
  const out = new Uint8Array(Math.floor(end / 4) * 3 + (tail === 0 ? 0 : tail - 1));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? values[c] : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, or two texts would decode to the same bytes.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

// --- PEM, DER, JWK ---

function readPem(text: string): { label: string; der: Uint8Array } {
  const match = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----$/.exec(text);
  if (!match) throw new KeyFormatError("malformed PEM: expected one `-----BEGIN ...-----` ... `-----END ...-----` block");
  const der = fromBase64(match[2].replace(/\r?\n/g, ""));
  if (!der) throw new KeyFormatError(`malformed PEM \`${match[1]}\`: the body is not valid base64`);
  return { label: match[1], der };
}

function unsupportedPemLabel(label: string, expected: string): string {
  if (label === "ENCRYPTED PRIVATE KEY") return "encrypted private keys are not supported: decrypt it to an unencrypted PKCS#8 `PRIVATE KEY` first";
  if (label === "OPENSSH PRIVATE KEY") return "OpenSSH private keys are not supported: convert it to PKCS#8 (`ssh-keygen -p -m PKCS8`)";
  if (label === "RSA PRIVATE KEY" || label === "RSA PUBLIC KEY") return "expected an ed25519 key, got an RSA key";
  if (label === "EC PRIVATE KEY") return "expected an ed25519 key, got an EC (ECDSA) key";
  return `unsupported PEM \`${label}\`: expected \`${expected}\` holding an ed25519 key`;
}

/** Minimal DER reader over the RFC 8410 key structures: definite lengths only. */
class Der {
  constructor(private readonly bytes: Uint8Array, private pos = 0, private readonly end = bytes.length) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  peekTag(): number {
    return this.pos < this.end ? this.bytes[this.pos] : -1;
  }

  /** Read one element with the given tag and return its contents. */
  read(tag: number, what: string): Der & { contents: Uint8Array } {
    if (this.peekTag() !== tag) throw new KeyFormatError(`malformed key: expected ${what}`);
    let p = this.pos + 1;
    if (p >= this.end) throw new KeyFormatError("malformed key: truncated DER");
    let length = this.bytes[p++];
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 3 || p + count > this.end) throw new KeyFormatError("malformed key: bad DER length");
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + this.bytes[p++];
    }
    if (p + length > this.end) throw new KeyFormatError("malformed key: truncated DER");
    this.pos = p + length;
    const contents = this.bytes.subarray(p, p + length);
    return Object.assign(new Der(contents), { contents });
  }
}

/** Reads AlgorithmIdentifier and insists on id-Ed25519 with absent parameters (RFC 8410 §3). */
function readAlgorithm(der: Der, kind: string): void {
  const algorithm = der.read(0x30, "an AlgorithmIdentifier");
  const oid = toHexString(algorithm.read(0x06, "an algorithm OID").contents);
  if (oid !== OID_ED25519) {
    throw new KeyFormatError(`expected an ed25519 ${kind}, got ${KNOWN_ALGORITHMS[oid] ?? `a key with algorithm OID ${describeOid(oid)}`}`);
  }
  if (!algorithm.done) throw new KeyFormatError("malformed key: ed25519 takes no algorithm parameters");
}

function seedFromPkcs8(bytes: Uint8Array): Uint8Array {
  const outer = new Der(bytes).read(0x30, "a PKCS#8 sequence");
  const version = outer.read(0x02, "a PKCS#8 version").contents;
  if (version.length !== 1 || version[0] > 1) throw new KeyFormatError("malformed key: unknown PKCS#8 version");
  readAlgorithm(outer, "private key");
  const wrapped = outer.read(0x04, "a private key octet string");
  const seed = wrapped.read(0x04, "a CurvePrivateKey octet string").contents;
  if (!wrapped.done || seed.length !== 32) throw new KeyFormatError("malformed key: an ed25519 private key has 32 bytes");
  if (outer.peekTag() === 0xa0) outer.read(0xa0, "attributes");
  if (outer.peekTag() === 0x81) {
    // [1] IMPLICIT BIT STRING: 0 unused bits, then the public key.
    const publicKey = outer.read(0x81, "a public key").contents;
    if (publicKey.length !== 33 || publicKey[0] !== 0 || !equalBytes(publicKey.subarray(1), publicKeyOf(seed))) {
      throw new KeyFormatError("malformed key: the PKCS#8 public key does not match the private key");
    }
  }
  if (!outer.done) throw new KeyFormatError("malformed key: unexpected data after the PKCS#8 private key");
  return seed.slice();
}

function publicKeyFromSpki(bytes: Uint8Array): Uint8Array {
  const top = new Der(bytes);
  const outer = top.read(0x30, "an SPKI sequence");
  if (!top.done) throw new KeyFormatError("malformed key: unexpected data after the SPKI sequence");
  readAlgorithm(outer, "public key");
  const bits = outer.read(0x03, "a public key bit string").contents;
  if (!outer.done || bits.length !== 33 || bits[0] !== 0) throw new KeyFormatError("malformed key: an ed25519 public key has 32 bytes");
  return bits.slice(1);
}

interface Jwk { kty?: unknown; crv?: unknown; x?: unknown; d?: unknown; alg?: unknown }

function readJwk(text: string): Jwk {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new KeyFormatError("malformed JWK: not valid JSON");
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new KeyFormatError("malformed JWK: expected a JSON object");
  const { kty, crv, alg } = jwk as Jwk;
  if (kty !== "OKP") throw new KeyFormatError(`unsupported JWK key type \`${String(kty)}\`: expected OKP with crv Ed25519`);
  if (crv !== "Ed25519") throw new KeyFormatError(`unsupported JWK curve \`${String(crv)}\`: expected Ed25519`);
  if (alg !== undefined && alg !== "EdDSA" && alg !== "Ed25519") throw new KeyFormatError(`unsupported JWK alg \`${String(alg)}\`: expected EdDSA`);
  return jwk as Jwk;
}

function jwkMember(jwk: Jwk, name: "x" | "d"): Uint8Array {
  const value = jwk[name];
  const bytes = typeof value === "string" ? fromBase64Url(value) : null;
  if (!bytes || bytes.length !== 32) throw new KeyFormatError(`malformed JWK: \`${name}\` must be 32 bytes of unpadded base64url`);
  return bytes;
}

function pem(label: string, der: Uint8Array): string {
  const body = toBase64(der).replace(/(.{64})(?=.)/g, "$1\n");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

// --- small byte helpers ---

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes`);
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function toHexString(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function describeOid(hex: string): string {
  const bytes = hexBytes(hex);
  if (bytes.length === 0) return "(empty)";
  const parts = [Math.min(2, Math.floor(bytes[0] / 40)), bytes[0] - Math.min(2, Math.floor(bytes[0] / 40)) * 40];
  let n = 0;
  for (let i = 1; i < bytes.length; i++) {
    n = n * 128 + (bytes[i] & 0x7f);
    if (!(bytes[i] & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join(".");
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
