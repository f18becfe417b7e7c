// Stage `emit`: lowered program (compiler/lower) -> bundle bytes, laid out as docs/bytecode.md says.
// Input: a LoweredProgram and optionally a 32-byte Ed25519 seed. Output: the `.aegis` bytes:
// header, sections in ascending id order, DIGEST (SHA-256 of everything before it) and, when a
// key is given, SIGNATURE over "aegis-bundle-v1" || digest.
import { sha256 as sha256Digest } from "@noble/hashes/sha2.js";
import { FORMAT_VERSION, MAGIC, OPCODE_TABLE_HASH, Section } from "../generated/bytecode.ts";
import { ByteWriter, type LoweredProgram } from "../lower/lower.ts";
import { signDigest } from "./sign.ts";

export interface EmitOptions {
  /** 32-byte Ed25519 seed; when given the bundle gets a SIGNATURE section. */
  privateKey?: Uint8Array;
}

const utf8 = new TextEncoder();

/** One section's payload, written by `fill`. */
interface SectionPayload { id: number; payload: Uint8Array }

function payload(fill: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  fill(w);
  return w.finish();
}

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return sha256Digest(bytes);
}

/** Write a lowered program as bundle bytes. Deterministic: the same program gives the same bytes. */
export function emitBundle(program: LoweredProgram, options: EmitOptions = {}): Uint8Array {
  const sections: SectionPayload[] = [];

  sections.push({ id: Section.STRINGS, payload: payload((w) => {
    w.u32(program.strings.length);
    for (const s of program.strings) { const b = utf8.encode(s); w.u32(b.length); w.bytes(b); }
  }) });

  sections.push({ id: Section.CONSTS, payload: payload((w) => {
    w.u32(program.consts.length);
    for (const c of program.consts) {
      if (c.kind === "int") { w.u8(1); w.i64(c.value); } else { w.u8(2); w.f64(c.value); }
    }
  }) });

  sections.push({ id: Section.POLICIES, payload: payload((w) => {
    w.u32(program.policies.length);
    for (const p of program.policies) {
      w.u32(p.name); w.u32(p.version); w.u32(p.file); w.u8(p.mode); w.u8(p.default);
      w.u32(p.agentModes.length);
      for (const m of p.agentModes) { w.u32(m.agent); w.u8(m.mode); }
    }
  }) });

  // Code first, so the rule table knows each rule's offset.
  const code = new ByteWriter();
  const codeOffsets = program.rules.map((r) => { const at = code.length; code.bytes(r.code); return at; });

  sections.push({ id: Section.RULES, payload: payload((w) => {
    w.u32(program.rules.length);
    program.rules.forEach((r, i) => {
      w.u32(r.id); w.u8(r.effect); w.u8(r.mode); w.u16(r.policy); w.u32(r.reason);
      w.u32(codeOffsets[i]); w.u32(r.code.length); w.u16(r.maxStack);
      w.u16(r.redact.length);
      for (const path of r.redact) { w.u16(path.length); for (const seg of path) w.u32(seg); }
      for (const list of [r.agents, r.tools, r.actions]) { w.u16(list.length); for (const s of list) w.u32(s); }
    });
  }) });

  sections.push({ id: Section.INDEX, payload: payload((w) => {
    w.u32(program.index.symbols.length);
    for (const s of program.index.symbols) w.u32(s);
    w.u32(program.index.keys.length);
    for (const k of program.index.keys) {
      w.u32(k.agent); w.u32(k.tool); w.u32(k.action); w.u32(k.rules.length);
      for (const r of k.rules) w.u32(r);
    }
  }) });

  sections.push({ id: Section.CODE, payload: code.finish() });

  if (program.regexes.length > 0) {
    sections.push({ id: Section.REGEX, payload: payload((w) => {
      w.u32(program.regexes.length);
      for (const r of program.regexes) { w.u32(r.program.length); w.bytes(r.program); }
    }) });
  }

  if (program.egress) {
    const eg = program.egress;
    sections.push({ id: Section.EGRESS, payload: payload((w) => {
      w.u8(eg.mode); w.u16(eg.policy); w.u32(eg.entries.length);
      for (const e of eg.entries) { w.u8(e.wildcard ? 1 : 0); w.u32(e.host); }
    }) });
  }

  if (program.dlp.length > 0) {
    sections.push({ id: Section.DLP, payload: payload((w) => {
      w.u32(program.dlp.length);
      for (const d of program.dlp) { w.u32(d.name); w.u32(d.regex); w.u16(d.policy); w.u8(d.mode); }
    }) });
  }

  sections.push({ id: Section.DEBUG, payload: payload((w) => {
    const d = program.debug;
    w.u32(d.files.length);
    for (const f of d.files) w.u32(f);
    w.u32(d.rules.length);
    for (const r of d.rules) { w.u32(r.file); w.u32(r.line); w.u32(r.col); }
    w.u32(d.sites.length);
    for (const s of d.sites) { w.u32(s.rule); w.u32(s.pc); w.u32(s.line); w.u32(s.col); }
  }) });

  const signed = options.privateKey !== undefined;
  const out = new ByteWriter();
  for (let i = 0; i < 4; i++) out.u8(MAGIC.charCodeAt(i));
  out.u16(FORMAT_VERSION);
  out.u16(0);
  out.u32(OPCODE_TABLE_HASH >>> 0);
  out.u32(sections.length + 1 + (signed ? 1 : 0));
  for (const s of sections) {
    out.u8(s.id); out.u8(0); out.u8(0); out.u8(0);
    out.u32(s.payload.length);
    out.bytes(s.payload);
  }
  const digest = sha256(out.finish());
  out.u8(Section.DIGEST); out.u8(0); out.u8(0); out.u8(0); out.u32(32); out.bytes(digest);
  if (signed) {
    const { publicKey, signature } = signDigest(digest, options.privateKey!);
    out.u8(Section.SIGNATURE); out.u8(0); out.u8(0); out.u8(0); out.u32(96);
    out.bytes(publicKey); out.bytes(signature);
  }
  return out.finish();
}
