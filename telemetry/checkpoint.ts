// Signed checkpoints of the audit log: (origin, tree size, root) -> C2SP tlog-checkpoint text
// signed as a C2SP signed-note with Ed25519, and back: note text -> parsed, verified Checkpoint.
//
//   <origin>\n<size>\n<base64 root>\n[<extension line>\n...]      <- note text, what is signed
//   \n
//   — <key name> <base64(key id (4 bytes) || signature)>\n         <- one line per signature
//
// Implementation notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint, checked against
// golang.org/x/mod/sumdb/note):
// - The text ends at the LAST "\n\n"; it includes its final "\n". Signature lines start with
//   U+2014 EM DASH and a space; the key name runs to the next space and must be non-empty
//   without Unicode spaces or "+"; the rest is base64 of at least 5 bytes.
// - The whole note must be free of control characters other than "\n". A JS string cannot hold
//   invalid UTF-8, but it can hold lone surrogates (which have no UTF-8 form): those are refused.
// - Ed25519 key id = SHA-256(name || "\n" || 0x01 || 32-byte public key)[0:4].
// - At most 100 signature lines (the spec asks for at least 16; Go's sumdb uses 100).
// - Signatures by other keys are ignored, even when they share the name or the key id (not both).
//   A signature by the verifier's own name + key id that fails to verify makes the whole note
//   bad_signature, as the spec recommends and Go does, even if another copy verifies.
// - The checkpoint body: at least three lines, none empty; size in decimal without leading zeros
//   and at most 2^53 - 1 (JS numbers); root exactly 32 bytes of canonical base64.
// - openCheckpoint does not compare the origin with the key name (the spec only says it SHOULD
//   match); callers that trust one log check `checkpoint.origin` themselves.
// - No `node:` imports: this file runs in Node, Deno and browsers.
import { sha256 } from "@noble/hashes/sha2.js";
import { fromBase64, publicKeyOf, signEd25519, toBase64, verifyEd25519 } from "./keys.ts";

/** A transparency-log tree head: the log's origin, its size (number of leaves) and its RFC 6962 root. */
export interface Checkpoint { origin: string; size: number; root: Uint8Array /*32*/ ; extensions?: string[] }
/** Something that signs note text under a name and 4-byte key id. */
export interface NoteSigner { name: string; keyId: Uint8Array /*4*/; sign(msg: Uint8Array): Uint8Array /*64*/ }
/** Something that verifies note signatures made under a name and 4-byte key id. */
export interface NoteVerifier { name: string; keyId: Uint8Array; verify(msg: Uint8Array, sig: Uint8Array): boolean }

/** Why a note was refused: `malformed` (not a well-formed signed checkpoint), `bad_signature` (our key's signature does not verify), `unknown_key` (no signature by our key). */
export class NoteError extends Error {
  code: "malformed" | "bad_signature" | "unknown_key";
  constructor(code: "malformed" | "bad_signature" | "unknown_key", message: string) {
    super(message);
    this.name = "NoteError";
    this.code = code;
  }
}

const SIGNATURE_TYPE_ED25519 = 0x01;
const MAX_SIGNATURES = 100;
const SIGNATURE_PREFIX = "\u2014 ";
// Unicode White_Space (Go's unicode.IsSpace): forbidden in key names.
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
// Characters that need a closer look: controls other than "\n", and surrogates.
const SUSPECT = /[\u0000-\u0009\u000b-\u001f\ud800-\udfff]/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const encoder = new TextEncoder();

/** Signer/verifier from a 32-byte Ed25519 seed / public key; key id = SHA-256(name || "\n" || 0x01 || pub)[0:4]. */
export function ed25519Signer(name: string, seed: Uint8Array): NoteSigner {
  checkKeyName(name);
  const publicKey = publicKeyOf(seed);
  const privateSeed = seed.slice();
  return { name, keyId: ed25519KeyId(name, publicKey), sign: (msg) => signEd25519(privateSeed, msg) };
}

/** Verifier of Ed25519 signatures by `publicKey` (32 bytes) under `name`; verify never throws. */
export function ed25519Verifier(name: string, publicKey: Uint8Array): NoteVerifier {
  checkKeyName(name);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw new RangeError("an ed25519 public key must be 32 bytes");
  const key = publicKey.slice();
  return { name, keyId: ed25519KeyId(name, key), verify: (msg, sig) => verifyEd25519(key, msg, sig) };
}

/** "origin\nsize\nbase64(root)\n[ext lines\n]" */
export function checkpointBody(cp: Checkpoint): string {
  const { origin, size, root, extensions = [] } = cp;
  if (typeof origin !== "string" || origin === "" || origin.includes("\n") || hasForbidden(origin)) {
    throw new NoteError("malformed", "checkpoint origin must be one non-empty line without control characters");
  }
  if (!Number.isSafeInteger(size) || size < 0) throw new NoteError("malformed", `checkpoint size \`${size}\` is not a non-negative safe integer`);
  if (!(root instanceof Uint8Array) || root.length !== 32) throw new NoteError("malformed", "checkpoint root must be 32 bytes");
  let body = `${origin}\n${size}\n${toBase64(root)}\n`;
  for (const line of extensions) {
    if (typeof line !== "string" || line === "" || line.includes("\n") || hasForbidden(line)) {
      throw new NoteError("malformed", "checkpoint extension lines must be non-empty lines without control characters");
    }
    body += line + "\n";
  }
  return body;
}

/** body + "\n" + "— name base64(keyId||sig)\n" */
export function signCheckpoint(cp: Checkpoint, signer: NoteSigner): string {
  const body = checkpointBody(cp);
  checkKeyName(signer.name);
  if (!(signer.keyId instanceof Uint8Array) || signer.keyId.length !== 4) throw new RangeError("a note key id must be 4 bytes");
  const signature = signer.sign(encoder.encode(body));
  if (!(signature instanceof Uint8Array) || signature.length === 0) throw new RangeError("the signer returned no signature");
  const keyIdAndSignature = new Uint8Array(4 + signature.length);
  keyIdAndSignature.set(signer.keyId);
  keyIdAndSignature.set(signature, 4);
  return `${body}\n${SIGNATURE_PREFIX}${signer.name} ${toBase64(keyIdAndSignature)}\n`;
}

/** Parse and verify a signed note: the body must be a valid checkpoint (origin non-empty, size decimal without leading zeros, root 32 bytes base64), at least one signature line by a verifier with matching name+keyId must verify. Throws NoteError. */
export function openCheckpoint(note: string, verifier: NoteVerifier): Checkpoint {
  const { text, checkpoint, signatures } = parseNote(note);
  const message = encoder.encode(text);
  let verified = false;
  for (const s of signatures) {
    if (s.name !== verifier.name || !equalBytes(s.keyId, verifier.keyId)) continue;
    if (!verifier.verify(message, s.signature)) {
      throw new NoteError("bad_signature", `the signature by \`${s.name}\` does not verify`);
    }
    verified = true;
  }
  if (!verified) throw new NoteError("unknown_key", `the note has no signature by \`${verifier.name}\` with key id ${hex(verifier.keyId)}`);
  return checkpoint;
}

/** Parse without verifying (for reporting). Throws NoteError("malformed"). */
export function parseCheckpoint(note: string): { checkpoint: Checkpoint; signatures: { name: string; keyId: Uint8Array; signature: Uint8Array }[] } {
  const { checkpoint, signatures } = parseNote(note);
  return { checkpoint, signatures };
}

// --- internals ---

function parseNote(note: string): {
  text: string;
  checkpoint: Checkpoint;
  signatures: { name: string; keyId: Uint8Array; signature: Uint8Array }[];
} {
  if (typeof note !== "string") throw malformed("a note must be text");
  if (hasForbidden(note)) throw malformed("the note holds a control character or invalid UTF-8");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw malformed("the note has no blank line before its signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === "" || !block.endsWith("\n")) throw malformed("the note's signature block must be non-empty and end with a newline");

  const signatures: { name: string; keyId: Uint8Array; signature: Uint8Array }[] = [];
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw malformed(`the note has more than ${MAX_SIGNATURES} signatures`);
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw malformed("a signature line must start with an em dash and a space");
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    const name = space < 0 ? rest : rest.slice(0, space);
    const encoded = space < 0 ? "" : rest.slice(space + 1);
    if (!isValidKeyName(name)) throw malformed(`bad key name \`${name}\` in a signature line`);
    const bytes = encoded === "" ? null : fromBase64(encoded);
    if (!bytes || bytes.length < 5) throw malformed(`the signature by \`${name}\` is not base64 of a key id and a signature`);
    signatures.push({ name, keyId: bytes.slice(0, 4), signature: bytes.slice(4) });
  }

  return { text, checkpoint: parseBody(text), signatures };
}

function parseBody(text: string): Checkpoint {
  // The text ends with "\n" (it runs to the blank line), so the last split element is empty.
  const lines = text.split("\n").slice(0, -1);
  if (lines.length < 3) throw malformed("a checkpoint needs origin, size and root lines");
  if (lines.some((line) => line === "")) throw malformed("checkpoint lines must not be empty");
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!DECIMAL.test(sizeText)) throw malformed(`checkpoint size \`${sizeText}\` is not a decimal number without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw malformed(`checkpoint size \`${sizeText}\` is too large`);
  const root = fromBase64(rootText);
  if (!root || root.length !== 32) throw malformed(`checkpoint root \`${rootText}\` is not base64 of 32 bytes`);
  const checkpoint: Checkpoint = { origin, size, root };
  if (extensions.length > 0) checkpoint.extensions = extensions;
  return checkpoint;
}

function ed25519KeyId(name: string, publicKey: Uint8Array): Uint8Array {
  const nameBytes = encoder.encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = SIGNATURE_TYPE_ED25519;
  input.set(publicKey, nameBytes.length + 2);
  return sha256(input).slice(0, 4);
}

/** True for a control character other than "\n" or a lone surrogate (text with no UTF-8 form). */
function hasForbidden(text: string): boolean {
  if (!SUSPECT.test(text)) return false;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x20 && unit !== 0x0a) return true;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) return true;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return true;
    }
  }
  return false;
}

function isValidKeyName(name: string): boolean {
  return name !== "" && !UNICODE_SPACE.test(name) && !name.includes("+") && !hasForbidden(name);
}

function checkKeyName(name: string): void {
  if (typeof name !== "string" || !isValidKeyName(name)) {
    throw new RangeError(`invalid note key name \`${String(name)}\`: it must be non-empty, without spaces, \`+\` or control characters`);
  }
}

function malformed(message: string): NoteError {
  return new NoteError("malformed", message);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
