// Disassembler for `aegis inspect`: bundle bytes -> human-readable text. Shows the header, digest,
// signature, policies, egress and DLP tables, and every rule with its selectors followed by a
// listing of its code in the manner of `luac -l`: pc, opcode, decoded operands (string values,
// constants, jump targets) and the source line of instructions that can raise an error.
import { readBundle, NONE, type BundleInfo, type Instruction, type RuleInfo } from "./read.ts";

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A string as a JSON literal, so control characters and quotes stay visible and unambiguous. */
function quote(s: string): string {
  return JSON.stringify(s);
}

function selector(list: string[]): string {
  return list.length === 0 ? "*" : list.map(quote).join(", ");
}

function operandText(info: BundleInfo, ins: Instruction): string {
  return ins.op.operands.map((kind, i) => {
    const v = ins.operands[i];
    switch (kind) {
      case "str": return `${v} ; ${quote(info.strings[v])}`;
      case "const": {
        const c = info.consts[v];
        return `${v} ; ${c.kind === "int" ? c.value.toString() : Object.is(c.value, -0) ? "-0.0" : String(c.value)}`;
      }
      case "regex": return `${v}`;
      case "var": return `${v} ; ${["agent", "tool", "action", "params", "context"][v]}`;
      case "target": return `-> ${v}`;
      default: return String(v);
    }
  }).join(", ");
}

function listing(info: BundleInfo, rule: RuleInfo): string[] {
  const sites = new Map<number, { line: number; col: number }>();
  for (const s of info.debug?.sites ?? []) if (s.rule === rule.index) sites.set(s.pc, s);
  const lines: string[] = [];
  for (const ins of rule.instructions) {
    const site = sites.get(ins.pc);
    const where = site ? `[${site.line}:${site.col}]` : "";
    lines.push(`    ${String(ins.pc).padStart(5)}  ${where.padEnd(10)} ${ins.op.name.padEnd(14)}${operandText(info, ins)}`.trimEnd());
  }
  return lines;
}

/** Human-readable description of a bundle. Throws BundleError for a malformed bundle. */
export function disassembleBundle(bytes: Uint8Array): string {
  const info = readBundle(bytes);
  const out: string[] = [];
  out.push(`aegis bundle, format version ${info.formatVersion}, opcode table 0x${info.opcodeTableHash.toString(16).padStart(8, "0")}, ${bytes.length} bytes`);
  out.push(`digest    sha256:${info.digestHex}`);
  out.push(info.signature
    ? `signature ed25519 key ${hex(info.signature.publicKey)}`
    : "signature none");
  out.push(`sections  ${info.sections.map((s) => `${s.name}(${s.length})`).join(" ")}`);
  out.push(`pools     ${info.strings.length} strings, ${info.consts.length} constants, ${info.regexes.length} regexes`);
  out.push("");
  info.policies.forEach((p, i) => {
    const agentModes = p.agentModes.length ? `, agents ${p.agentModes.map((m) => `${quote(m.agent)}=${m.mode}`).join(" ")}` : "";
    out.push(`policy ${i} ${quote(p.name)} version ${quote(p.version)} file ${quote(p.file)} mode ${p.mode} default ${p.default}${agentModes}`);
  });
  if (info.egress) {
    const e = info.egress;
    out.push(`egress (policy ${e.policy}, ${e.mode}): ${e.entries.map((x) => (x.wildcard ? "*." : "") + x.host).join(" ") || "(nothing allowed)"}`);
  }
  for (const d of info.dlp) out.push(`dlp ${quote(d.name)} regex ${d.regex} (policy ${d.policy}, ${d.mode})`);
  out.push("");
  for (const r of info.rules) {
    const pos = info.debug ? info.debug.rules[r.index] : null;
    const where = pos ? ` at ${info.debug!.files[pos.file]}:${pos.line}:${pos.col}` : "";
    out.push(`rule ${r.index} ${quote(r.id)} ${r.effect} (${r.mode}, policy ${r.policy})${where}`);
    out.push(`  agent ${selector(r.agents)}  tool ${selector(r.tools)}  action ${selector(r.actions)}`);
    if (r.reason !== null) out.push(`  reason ${quote(r.reason)}`);
    for (const p of r.redact) out.push(`  redact params.${p.join(".")}`);
    out.push(`  code ${r.codeLength} bytes at ${r.codeOffset}, max stack ${r.maxStack}`);
    out.push(...listing(info, r));
    out.push("");
  }
  out.push(`index: ${info.index.symbols.length} symbols, ${info.index.keys.length} keys`);
  const sym = (s: number): string => (s === NONE ? "*" : quote(info.index.symbols[s]));
  for (const k of info.index.keys) {
    out.push(`  (${sym(k.agent)}, ${sym(k.tool)}, ${sym(k.action)}) -> ${k.rules.join(" ")}`);
  }
  return out.join("\n") + "\n";
}
