// Bundle reader for tools (inspect, disassembler, tests): bundle bytes -> a validated, decoded
// BundleInfo, or a BundleError with the same codes as the engine's loader (docs/bytecode.md).
// The engine (engine/loader.ts) is the authority at run time; this reader applies the same checks
// so tools never show a bundle the engine would refuse.
import {
  FORMAT_VERSION, MAGIC, OPCODE_TABLE_HASH, OPCODE_BY_CODE, OPERAND_BYTES, Section, REQUIRED_SECTIONS,
  Limits, ErrorCode, ERROR_BY_CODE, EFFECT_NAMES, MODE_NAMES, type ErrorName, type OpInfo,
} from "../generated/bytecode.ts";
import { sha256 } from "@noble/hashes/sha2.js";

/** A malformed bundle: `code` is the numeric bundle error code, `name` its snake_case name. */
export class BundleError extends Error {
  readonly code: number;
  readonly name: ErrorName;
  readonly offset: number;
  constructor(name: ErrorName, message: string, offset: number) {
    super(message);
    this.code = ErrorCode[name];
    this.name = name;
    this.offset = offset;
  }
}

export const NONE = 0xffffffff;

export interface SectionInfo { id: number; name: string; offset: number; length: number }
export interface Instruction { pc: number; op: OpInfo; operands: number[]; length: number }
export interface RuleInfo {
  index: number; id: string; effect: string; mode: string; policy: number; reason: string | null;
  codeOffset: number; codeLength: number; maxStack: number;
  redact: string[][]; agents: string[]; tools: string[]; actions: string[];
  code: Uint8Array; instructions: Instruction[];
}
export interface PolicyInfo {
  name: string; version: string; file: string; mode: string; default: string;
  agentModes: { agent: string; mode: string }[];
}
export type ConstInfo = { kind: "int"; value: bigint } | { kind: "double"; value: number };
export interface BundleInfo {
  formatVersion: number;
  opcodeTableHash: number;
  sections: SectionInfo[];
  strings: string[];
  consts: ConstInfo[];
  policies: PolicyInfo[];
  rules: RuleInfo[];
  index: { symbols: string[]; keys: { agent: number; tool: number; action: number; rules: number[] }[] };
  regexes: Uint8Array[];
  egress: { mode: string; policy: number; entries: { wildcard: boolean; host: string }[] } | null;
  dlp: { name: string; regex: number; policy: number; mode: string }[];
  debug: {
    files: string[]; rules: { file: number; line: number; col: number }[];
    sites: { rule: number; pc: number; line: number; col: number }[];
  } | null;
  digest: Uint8Array;
  digestHex: string;
  signature: { publicKey: Uint8Array; signature: Uint8Array } | null;
}

const SECTION_NAMES = new Map<number, string>(Object.entries(Section).map(([k, v]) => [v, k]));

function fail(name: ErrorName, offset: number, detail?: string): never {
  throw new BundleError(name, detail ?? ERROR_BY_CODE.get(ErrorCode[name])!.message, offset);
}

/** Bounds-checked little-endian cursor over one section payload. */
class Cursor {
  constructor(private readonly view: DataView, public pos: number, readonly end: number) {}
  need(n: number): void { if (this.pos + n > this.end) fail("truncated", this.pos, "section payload is truncated"); }
  u8(): number { this.need(1); return this.view.getUint8(this.pos++); }
  u16(): number { this.need(2); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  /** A count of items of at least `minSize` bytes each, checked against the bytes left. */
  count(minSize: number, width: 2 | 4 = 4): number {
    const at = this.pos;
    const n = width === 4 ? this.u32() : this.u16();
    if (n * minSize > this.end - this.pos) fail("truncated", at, "count is larger than the section");
    return n;
  }
  done(): void { if (this.pos !== this.end) fail("bad_value", this.pos, "section has bytes after its content"); }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parse and validate bundle bytes. Throws BundleError. */
export function readBundle(bytes: Uint8Array): BundleInfo {
  if (bytes.length > Limits.MAX_BUNDLE_BYTES) fail("bundle_too_large", 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 4) {
    for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) fail("bad_magic", 0);
  }
  if (bytes.length < 16) fail(bytes.length < 4 ? "bad_magic" : "truncated", bytes.length);
  if (view.getUint16(4, true) !== FORMAT_VERSION) fail("bad_version", 4);
  if (view.getUint16(6, true) !== 0) fail("bad_value", 6, "reserved header bytes must be zero");
  if (view.getUint32(8, true) !== OPCODE_TABLE_HASH >>> 0) fail("opcode_table_mismatch", 8);
  const sectionCount = view.getUint32(12, true);

  // Framing: ids strictly ascending and known, lengths inside the bundle.
  const sections: SectionInfo[] = [];
  const byId = new Map<number, SectionInfo>();
  let pos = 16;
  let digestHeader = -1;
  for (let i = 0; i < sectionCount; i++) {
    if (pos + 8 > bytes.length) fail("truncated", pos, "section header is truncated");
    const id = bytes[pos];
    const name = SECTION_NAMES.get(id);
    const prev = sections.length ? sections[sections.length - 1].id : 0;
    if (!name || id <= prev || bytes[pos + 1] || bytes[pos + 2] || bytes[pos + 3]) fail("bad_section", pos);
    const length = view.getUint32(pos + 4, true);
    if (length > bytes.length - pos - 8) fail("truncated", pos + 4, `section \`${name}\` is truncated`);
    if (id === Section.DIGEST) digestHeader = pos;
    const s = { id, name, offset: pos + 8, length };
    sections.push(s);
    byId.set(id, s);
    pos += 8 + length;
  }
  if (pos !== bytes.length) fail("trailing_bytes", pos);
  for (const id of REQUIRED_SECTIONS) {
    if (!byId.has(id)) fail("missing_section", pos, `required section \`${SECTION_NAMES.get(id)}\` is missing`);
  }
  const digestSection = byId.get(Section.DIGEST)!;
  if (digestSection.length !== 32) fail("bad_value", digestSection.offset, "DIGEST section must have 32 bytes");
  const digest = bytes.slice(digestSection.offset, digestSection.offset + 32);
  const actual = sha256(bytes.subarray(0, digestHeader));
  if (!actual.every((b, i) => b === digest[i])) fail("bad_digest", digestSection.offset);
  let signature: BundleInfo["signature"] = null;
  const sig = byId.get(Section.SIGNATURE);
  if (sig) {
    if (sig.length !== 96) fail("bad_value", sig.offset, "SIGNATURE section must have 96 bytes");
    signature = { publicKey: bytes.slice(sig.offset, sig.offset + 32), signature: bytes.slice(sig.offset + 32, sig.offset + 96) };
  }
  const cursor = (id: number): Cursor => { const s = byId.get(id)!; return new Cursor(view, s.offset, s.offset + s.length); };

  // STRINGS
  const strings: string[] = [];
  {
    const c = cursor(Section.STRINGS);
    const n = c.count(4);
    for (let i = 0; i < n; i++) {
      const len = c.u32();
      c.need(len);
      try { strings.push(utf8.decode(bytes.subarray(c.pos, c.pos + len))); } catch { fail("bad_value", c.pos, "string is not valid UTF-8"); }
      c.pos += len;
    }
    c.done();
    if (strings.length === 0 || strings[0] !== "") fail("bad_value", byId.get(Section.STRINGS)!.offset, "string 0 must be empty");
  }
  const str = (c: Cursor, optional = false): string | null => {
    const at = c.pos;
    const i = c.u32();
    if (optional && i === NONE) return null;
    if (i >= strings.length) fail("bad_index", at, `string index ${i} is out of range`);
    return strings[i];
  };
  const reqStr = (c: Cursor): string => str(c)!;
  const mode = (c: Cursor): string => {
    const at = c.pos;
    const m = c.u8();
    if (m > 1) fail("bad_value", at, `invalid mode ${m}`);
    return MODE_NAMES[m];
  };

  // CONSTS
  const consts: ConstInfo[] = [];
  {
    const c = cursor(Section.CONSTS);
    const n = c.count(9);
    for (let i = 0; i < n; i++) {
      const at = c.pos;
      const kind = c.u8();
      c.need(8);
      if (kind === 1) consts.push({ kind: "int", value: view.getBigInt64(c.pos, true) });
      else if (kind === 2) consts.push({ kind: "double", value: view.getFloat64(c.pos, true) });
      else fail("bad_value", at, `invalid constant kind ${kind}`);
      c.pos += 8;
    }
    c.done();
  }

  // POLICIES
  const policies: PolicyInfo[] = [];
  {
    const c = cursor(Section.POLICIES);
    const n = c.count(18);
    if (n === 0) fail("bad_value", c.pos - 4, "a bundle needs at least one policy");
    for (let i = 0; i < n; i++) {
      const name = reqStr(c), version = reqStr(c), file = reqStr(c), m = mode(c);
      const at = c.pos;
      const d = c.u8();
      if (d !== 0 && d !== 3) fail("bad_value", at, `invalid policy default ${d}`);
      const k = c.count(5);
      const agentModes: { agent: string; mode: string }[] = [];
      for (let j = 0; j < k; j++) agentModes.push({ agent: reqStr(c), mode: mode(c) });
      policies.push({ name, version, file, mode: m, default: EFFECT_NAMES[d], agentModes });
    }
    c.done();
  }

  // REGEX (before RULES: MATCHES operands and DLP refer to it)
  const regexes: Uint8Array[] = [];
  if (byId.has(Section.REGEX)) {
    const c = cursor(Section.REGEX);
    const n = c.count(4);
    for (let i = 0; i < n; i++) {
      const len = c.u32();
      c.need(len);
      regexes.push(bytes.slice(c.pos, c.pos + len));
      c.pos += len;
    }
    c.done();
  }

  // RULES + CODE
  const code = byId.get(Section.CODE)!;
  const rules: RuleInfo[] = [];
  {
    const c = cursor(Section.RULES);
    const n = c.count(30);
    if (n > Limits.MAX_RULES) fail("bad_value", c.pos - 4, "too many rules");
    for (let i = 0; i < n; i++) {
      const id = reqStr(c);
      let at = c.pos;
      const effect = c.u8();
      if (effect > 3) fail("bad_value", at, `invalid effect ${effect}`);
      const m = mode(c);
      at = c.pos;
      const policy = c.u16();
      if (policy >= policies.length) fail("bad_index", at, `policy index ${policy} is out of range`);
      const reason = str(c, true);
      at = c.pos;
      const codeOffset = c.u32(), codeLength = c.u32();
      if (codeLength === 0 || codeOffset > code.length || codeLength > code.length - codeOffset) {
        fail("bad_index", at, "rule code range is outside the CODE section");
      }
      at = c.pos;
      const maxStack = c.u16();
      if (maxStack > Limits.MAX_STACK) fail("bad_code", at, "max stack is larger than the limit");
      const redactCount = c.count(2, 2);
      const redact: string[][] = [];
      for (let j = 0; j < redactCount; j++) {
        const segs = c.count(4, 2);
        const path: string[] = [];
        for (let k = 0; k < segs; k++) path.push(reqStr(c));
        redact.push(path);
      }
      const sel = (): string[] => { const k = c.count(4, 2); const out: string[] = []; for (let j = 0; j < k; j++) out.push(reqStr(c)); return out; };
      const agents = sel(), tools = sel(), actions = sel();
      const ruleCode = bytes.slice(code.offset + codeOffset, code.offset + codeOffset + codeLength);
      const instructions = verifyCode(ruleCode, code.offset + codeOffset, maxStack, strings.length, consts, regexes.length);
      rules.push({
        index: i, id, effect: EFFECT_NAMES[effect], mode: m, policy, reason, codeOffset, codeLength, maxStack,
        redact, agents, tools, actions, code: ruleCode, instructions,
      });
    }
    c.done();
  }

  // INDEX
  const index: BundleInfo["index"] = { symbols: [], keys: [] };
  {
    const c = cursor(Section.INDEX);
    const n = c.count(4);
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const at = c.pos;
      const s = reqStr(c);
      if (seen.has(s)) fail("bad_value", at, `duplicate index symbol \`${s}\``);
      seen.add(s);
      index.symbols.push(s);
    }
    const k = c.count(16);
    const keySeen = new Set<string>();
    for (let i = 0; i < k; i++) {
      const at = c.pos;
      const sym = (): number => {
        const p = c.pos;
        const v = c.u32();
        if (v !== NONE && v >= n) fail("bad_index", p, `index symbol ${v} is out of range`);
        return v;
      };
      const agent = sym(), tool = sym(), action = sym();
      const key = `${agent},${tool},${action}`;
      if (keySeen.has(key)) fail("bad_value", at, "duplicate index key");
      keySeen.add(key);
      const count = c.count(4);
      const list: number[] = [];
      for (let j = 0; j < count; j++) {
        const p = c.pos;
        const r = c.u32();
        if (r >= rules.length) fail("bad_index", p, `rule index ${r} is out of range`);
        if (list.length && r <= list[list.length - 1]) fail("bad_value", p, "index rule list is not strictly ascending");
        list.push(r);
      }
      index.keys.push({ agent, tool, action, rules: list });
    }
    c.done();
  }

  // EGRESS
  let egress: BundleInfo["egress"] = null;
  if (byId.has(Section.EGRESS)) {
    const c = cursor(Section.EGRESS);
    const m = mode(c);
    const at = c.pos;
    const policy = c.u16();
    if (policy >= policies.length) fail("bad_index", at, `policy index ${policy} is out of range`);
    const n = c.count(5);
    const entries: { wildcard: boolean; host: string }[] = [];
    for (let i = 0; i < n; i++) {
      const kp = c.pos;
      const kind = c.u8();
      if (kind > 1) fail("bad_value", kp, `invalid egress kind ${kind}`);
      const hp = c.pos;
      const host = reqStr(c);
      if (!/^[a-z0-9._\-\[\]:]+$/.test(host) || host.endsWith(".")) fail("bad_value", hp, `invalid egress host \`${host}\``);
      entries.push({ wildcard: kind === 1, host });
    }
    c.done();
    egress = { mode: m, policy, entries };
  }

  // DLP
  const dlp: BundleInfo["dlp"] = [];
  if (byId.has(Section.DLP)) {
    const c = cursor(Section.DLP);
    const n = c.count(11);
    for (let i = 0; i < n; i++) {
      const name = reqStr(c);
      let at = c.pos;
      const regex = c.u32();
      if (regex >= regexes.length) fail("bad_index", at, `regex index ${regex} is out of range`);
      at = c.pos;
      const policy = c.u16();
      if (policy >= policies.length) fail("bad_index", at, `policy index ${policy} is out of range`);
      dlp.push({ name, regex, policy, mode: mode(c) });
    }
    c.done();
  }

  // DEBUG
  let debug: BundleInfo["debug"] = null;
  if (byId.has(Section.DEBUG)) {
    const c = cursor(Section.DEBUG);
    const nf = c.count(4);
    const files: string[] = [];
    for (let i = 0; i < nf; i++) files.push(reqStr(c));
    let at = c.pos;
    const nr = c.count(12);
    if (nr !== rules.length) fail("bad_value", at, "DEBUG rule count differs from RULES");
    const drules: { file: number; line: number; col: number }[] = [];
    for (let i = 0; i < nr; i++) {
      at = c.pos;
      const file = c.u32();
      if (file >= nf) fail("bad_index", at, `file index ${file} is out of range`);
      drules.push({ file, line: c.u32(), col: c.u32() });
    }
    const ns = c.count(16);
    const sites: { rule: number; pc: number; line: number; col: number }[] = [];
    for (let i = 0; i < ns; i++) {
      at = c.pos;
      const rule = c.u32(), pc = c.u32();
      if (rule >= rules.length || pc >= rules[rule].codeLength) fail("bad_index", at, "debug site is out of range");
      const prev = sites[sites.length - 1];
      if (prev && (rule < prev.rule || (rule === prev.rule && pc <= prev.pc))) fail("bad_value", at, "debug sites are not sorted");
      sites.push({ rule, pc, line: c.u32(), col: c.u32() });
    }
    c.done();
    debug = { files, rules: drules, sites };
  }

  return {
    formatVersion: FORMAT_VERSION, opcodeTableHash: OPCODE_TABLE_HASH >>> 0, sections, strings, consts,
    policies, rules, index, regexes, egress, dlp, debug, digest,
    digestHex: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""), signature,
  };
}

/**
 * Decode one rule's code and verify it as the engine does: known opcodes, operands in range,
 * forward jump targets on instruction boundaries, one stack depth per instruction, no underflow,
 * depth within `maxStack`, exactly 1 at RET, no fall-through off the end, no unreachable code.
 */
export function verifyCode(
  code: Uint8Array, base: number, maxStack: number, stringCount: number, consts: ConstInfo[], regexCount: number,
): Instruction[] {
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const depthAt = new Map<number, number>();
  const out: Instruction[] = [];
  const bad = (pc: number, why: string): never => fail("bad_code", base + pc, `invalid bytecode at pc ${pc}: ${why}`);
  let depth = 0;
  let reachable = true;
  let pc = 0;
  const join = (target: number, d: number, from: number): void => {
    if (target <= from || target >= code.length) bad(from, `jump target ${target} is out of range`);
    const prev = depthAt.get(target);
    if (prev !== undefined && prev !== d) bad(from, "stack depth differs between paths");
    depthAt.set(target, d);
  };
  while (pc < code.length) {
    const incoming = depthAt.get(pc);
    if (incoming !== undefined) {
      if (reachable && incoming !== depth) bad(pc, "stack depth differs between paths");
      depth = incoming;
      reachable = true;
      depthAt.delete(pc);
    } else if (!reachable) bad(pc, "unreachable code");
    const op = OPCODE_BY_CODE.get(code[pc]);
    if (!op) bad(pc, `unknown opcode ${code[pc]}`);
    const length = 1 + op!.operands.reduce((n, k) => n + OPERAND_BYTES[k], 0);
    if (pc + length > code.length) bad(pc, "instruction is truncated");
    const operands: number[] = [];
    let at = pc + 1;
    for (const k of op!.operands) {
      const w = OPERAND_BYTES[k];
      operands.push(w === 1 ? code[at] : w === 2 ? view.getUint16(at, true) : view.getUint32(at, true));
      at += w;
    }
    const a = operands[0];
    switch (op!.operands[0]) {
      case "str": if (a >= stringCount) bad(pc, `string index ${a} is out of range`); break;
      case "const":
        if (a >= consts.length) bad(pc, `constant index ${a} is out of range`);
        if (consts[a].kind !== (op!.name === "INT" ? "int" : "double")) bad(pc, `constant ${a} has the wrong kind`);
        break;
      case "regex": if (a >= regexCount) bad(pc, `regex index ${a} is out of range`); break;
      case "var": if (a > 4) bad(pc, `unknown variable ${a}`); break;
    }
    const pop = op!.pop === "a" ? a : op!.pop;
    if (depth < pop) bad(pc, "stack underflow");
    if ((op!.name === "AND_SC" || op!.name === "OR_SC") && depth < 1) bad(pc, "stack underflow");
    if (op!.name === "RET" && depth !== 1) bad(pc, "stack depth at RET is not 1");
    depth = depth - pop + op!.push;
    if (depth > maxStack || depth > Limits.MAX_STACK) bad(pc, "stack depth exceeds max stack");
    switch (op!.name) {
      case "AND_SC": case "OR_SC": join(a, depth, pc); break;
      case "COND":
        join(a, depth, pc);
        if (depth + 1 > maxStack) bad(pc, "stack depth exceeds max stack");
        join(operands[1], depth + 1, pc);
        break;
      case "JMP": join(a, depth, pc); reachable = false; break;
      case "RET": reachable = false; break;
    }
    out.push({ pc, op: op!, operands, length });
    pc += length;
  }
  if (reachable) bad(code.length, "code does not end with RET");
  if (depthAt.size > 0) bad([...depthAt.keys()][0], "jump target is not an instruction boundary");
  return out;
}
