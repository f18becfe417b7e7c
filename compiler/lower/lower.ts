// Stage `lower`: checked policy model (CheckedBundle from `check`) -> in-memory program for `emit`.
// Input: a CheckedBundle and a regex compiler. Output: a LoweredProgram with deduplicated string,
// constant and regex pools, stack bytecode per rule (with its max stack depth), the selector index
// (cartesian product of each rule's selectors), egress and DLP tables, and debug sites mapping
// each instruction that can raise an evaluation error back to file:line:col.
// INVARIANT: the same CheckedBundle always gives the same program (no clocks, no hash-order
// iteration): pools are numbered in first-use order, index keys are sorted.
import type { CheckedBundle, Expr, FnName, BinaryOp, Span, Source } from "../ast.ts";
import { Op, Effect, Mode, Var, Limits } from "../generated/bytecode.ts";
import { lineColOf } from "../errors.ts";

/** Selector symbol meaning "any" in INDEX keys and "none" for optional string indexes. */
export const NONE = 0xffffffff;

export type LoweredConst = { kind: "int"; value: bigint } | { kind: "double"; value: number };

export interface LoweredPolicy {
  name: number; version: number; file: number; mode: number; default: number;
  agentModes: { agent: number; mode: number }[];
}

export interface LoweredRule {
  id: number; effect: number; mode: number; policy: number;
  /** String index of the reason, or NONE when the rule has no reason (the engine writes a default). */
  reason: number;
  code: Uint8Array;
  maxStack: number;
  redact: number[][];
  agents: number[]; tools: number[]; actions: number[];
}

export interface IndexKey { agent: number; tool: number; action: number; rules: number[] }

export interface DebugSite { rule: number; pc: number; line: number; col: number }

export interface LoweredProgram {
  strings: string[];
  consts: LoweredConst[];
  regexes: { pattern: string; program: Uint8Array }[];
  policies: LoweredPolicy[];
  rules: LoweredRule[];
  index: { symbols: number[]; keys: IndexKey[] };
  egress: { mode: number; policy: number; entries: { wildcard: boolean; host: number }[] } | null;
  dlp: { name: number; regex: number; policy: number; mode: number }[];
  debug: { files: number[]; rules: { file: number; line: number; col: number }[]; sites: DebugSite[] };
}

export interface LowerOptions {
  /** Compiles an RE2 pattern to an engine regex program (compiler/regex/compile.ts). */
  compileRegex: (pattern: string) => Uint8Array;
}

/** Growable little-endian byte buffer shared by lowering and emitting. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const fresh = new Uint8Array(cap);
    fresh.set(this.buf.subarray(0, this.length));
    this.buf = fresh;
    this.view = new DataView(fresh.buffer);
  }
  u8(v: number): void { this.reserve(1); this.buf[this.length++] = v & 0xff; }
  u16(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new Error(`value ${v} does not fit in u16`);
    this.reserve(2); this.view.setUint16(this.length, v, true); this.length += 2;
  }
  u32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`value ${v} does not fit in u32`);
    this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4;
  }
  i64(v: bigint): void { this.reserve(8); this.view.setBigInt64(this.length, v, true); this.length += 8; }
  f64(v: number): void { this.reserve(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  bytes(b: Uint8Array): void { this.reserve(b.length); this.buf.set(b, this.length); this.length += b.length; }
  /** Overwrite a u32 written earlier (jump patching, section lengths). */
  patchU32(at: number, v: number): void { this.view.setUint32(at, v, true); }
  finish(): Uint8Array { return this.buf.slice(0, this.length); }
}

const BINARY_OPS: Record<BinaryOp, number> = {
  "+": Op.ADD, "-": Op.SUB, "*": Op.MUL, "/": Op.DIV, "%": Op.MOD, "==": Op.EQ, "!=": Op.NE,
  "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE, "in": Op.IN,
};

const CALL_OPS: Record<FnName, number> = {
  size: Op.SIZE, startsWith: Op.STARTS_WITH, endsWith: Op.ENDS_WITH, contains: Op.CONTAINS,
  matches: Op.MATCHES, lowerAscii: Op.LOWER_ASCII, isIBAN: Op.IS_IBAN, isLuhn: Op.IS_LUHN,
  isURL: Op.IS_URL, "url.getHost": Op.URL_HOST, "url.getScheme": Op.URL_SCHEME,
  "url.getPort": Op.URL_PORT, isIP: Op.IS_IP, "cidr.containsIP": Op.CIDR_CONTAINS,
  int: Op.TO_INT, double: Op.TO_DOUBLE, string: Op.TO_STRING,
};

/** Ops that can raise an evaluation error of their own (not just pass one through). */
const RAISING = new Set<number>([
  Op.FIELD, Op.INDEX, Op.HAS, Op.NOT, Op.NEG, Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.MOD,
  Op.LT, Op.LE, Op.GT, Op.GE, Op.IN, Op.AND, Op.OR, Op.COND, ...Object.values(CALL_OPS),
]);

/** 1-based line and column (code points, as compiler errors count them) of `offset` in `text`. */
export const lineCol = lineColOf;

class Pools {
  strings: string[] = [""];
  private stringIndex = new Map<string, number>([["", 0]]);
  consts: LoweredConst[] = [];
  private constIndex = new Map<string, number>();
  regexes: { pattern: string; program: Uint8Array }[] = [];
  private regexIndex = new Map<string, number>();

  constructor(private readonly compileRegex: (pattern: string) => Uint8Array) {}

  str(s: string): number {
    let i = this.stringIndex.get(s);
    if (i === undefined) { i = this.strings.length; this.strings.push(s); this.stringIndex.set(s, i); }
    return i;
  }
  int(v: bigint): number {
    return this.constant(`i${v}`, { kind: "int", value: BigInt.asIntN(64, v) });
  }
  double(v: number): number {
    // Keyed by bit pattern so 0.0 and -0.0 (and NaN payloads) stay distinct.
    const bits = new DataView(new Float64Array([v]).buffer).getBigUint64(0, true);
    return this.constant(`d${bits.toString(16)}`, { kind: "double", value: v });
  }
  private constant(key: string, value: LoweredConst): number {
    let i = this.constIndex.get(key);
    if (i === undefined) { i = this.consts.length; this.consts.push(value); this.constIndex.set(key, i); }
    return i;
  }
  regex(pattern: string): number {
    let i = this.regexIndex.get(pattern);
    if (i === undefined) {
      i = this.regexes.length;
      this.regexes.push({ pattern, program: this.compileRegex(pattern) });
      this.regexIndex.set(pattern, i);
    }
    return i;
  }
}

/** Code generator for one rule: stack bytecode, max depth, and error sites. */
class RuleCode {
  readonly out = new ByteWriter();
  depth = 0;
  maxDepth = 0;
  readonly sites: { pc: number; span: Span }[] = [];

  constructor(private readonly pools: Pools) {}

  private op(code: number, span: Span | null, pop: number, push: number): number {
    const pc = this.out.length;
    if (span && RAISING.has(code)) this.sites.push({ pc, span });
    this.out.u8(code);
    this.depth -= pop;
    if (this.depth < 0) throw new Error("internal: stack underflow while lowering");
    this.depth += push;
    if (this.depth > this.maxDepth) this.maxDepth = this.depth;
    return pc;
  }

  /** A placeholder jump target; returns where to patch it. */
  private target(): number { const at = this.out.length; this.out.u32(0); return at; }
  private here(at: number): void { this.out.patchU32(at, this.out.length); }

  expr(e: Expr): void {
    switch (e.kind) {
      case "null": this.op(Op.NULL, null, 0, 1); return;
      case "bool": this.op(e.value ? Op.TRUE : Op.FALSE, null, 0, 1); return;
      case "int": this.op(Op.INT, null, 0, 1); this.out.u32(this.pools.int(e.value)); return;
      case "double": this.op(Op.DOUBLE, null, 0, 1); this.out.u32(this.pools.double(e.value)); return;
      case "string": this.op(Op.STR, null, 0, 1); this.out.u32(this.pools.str(e.value)); return;
      case "list":
        for (const el of e.elements) this.expr(el);
        this.op(Op.LIST, null, e.elements.length, 1);
        this.out.u16(e.elements.length);
        return;
      case "var": this.op(Op.VAR, null, 0, 1); this.out.u8(Var[e.name]); return;
      case "select":
        this.expr(e.operand);
        this.op(Op.FIELD, e.span, 1, 1); this.out.u32(this.pools.str(e.field));
        return;
      case "index":
        this.expr(e.operand); this.expr(e.index);
        this.op(Op.INDEX, e.span, 2, 1);
        return;
      case "has":
        this.expr(e.operand);
        this.op(Op.HAS, e.span, 1, 1); this.out.u32(this.pools.str(e.field));
        return;
      case "not": this.expr(e.operand); this.op(Op.NOT, e.span, 1, 1); return;
      case "neg": this.expr(e.operand); this.op(Op.NEG, e.span, 1, 1); return;
      case "binary":
        this.expr(e.left); this.expr(e.right);
        this.op(BINARY_OPS[e.op], e.span, 2, 1);
        return;
      case "and":
      case "or": {
        // left; AND_SC end; right; AND; end:   (the short-circuit leaves `false`/`true` on the stack)
        this.expr(e.left);
        this.op(e.kind === "and" ? Op.AND_SC : Op.OR_SC, null, 0, 0);
        const end = this.target();
        this.expr(e.right);
        this.op(e.kind === "and" ? Op.AND : Op.OR, e.span, 2, 1);
        this.here(end);
        return;
      }
      case "cond": {
        // test; COND else, end; then; JMP end; else: else-branch; end:
        this.expr(e.test);
        this.op(Op.COND, e.span, 1, 0);
        const elseAt = this.target();
        const endAt = this.target();
        const base = this.depth;
        this.expr(e.then);
        this.op(Op.JMP, null, 0, 0);
        const jmpEnd = this.target();
        this.here(elseAt);
        this.depth = base;
        this.expr(e.else);
        this.here(endAt);
        this.here(jmpEnd);
        return;
      }
      case "call": {
        for (const a of e.args) this.expr(a);
        const code = CALL_OPS[e.fn];
        if (code === undefined) throw new Error(`internal: unknown function \`${e.fn}\``);
        if (e.fn === "matches") {
          if (e.pattern === undefined) throw new Error("internal: `matches` without a literal pattern");
          this.op(code, e.span, e.args.length, 1);
          this.out.u32(this.pools.regex(e.pattern));
        } else {
          this.op(code, e.span, e.args.length, 1);
        }
        return;
      }
    }
  }

  ret(): void { this.op(Op.RET, null, 1, 0); }
}

/** Selector names without duplicates; `*` anywhere (or no list) means any, written as no names. */
function dedupe(names: string[] | null): string[] {
  if (names === null || names.includes("*")) return [];
  return [...new Set(names)];
}

/** Host patterns compare case-insensitively without a trailing dot. */
function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** Lower a checked bundle to the program that `emitBundle` writes. */
export function lowerBundle(bundle: CheckedBundle, options: LowerOptions): LoweredProgram {
  const pools = new Pools(options.compileRegex);
  const sourceByPath = new Map<string, Source>(bundle.sources.map((s) => [s.path, s]));

  // Debug files: every source in the order given, then any other file a span names.
  const fileIndex = new Map<string, number>();
  const files: number[] = [];
  const fileOf = (path: string): number => {
    let i = fileIndex.get(path);
    if (i === undefined) { i = files.length; files.push(pools.str(path)); fileIndex.set(path, i); }
    return i;
  };
  const position = (span: Span): { file: number; line: number; col: number } => {
    const src = sourceByPath.get(span.file);
    const { line, col } = src ? lineCol(src.text, span.start) : { line: 1, col: 1 };
    return { file: fileOf(span.file), line, col };
  };
  for (const s of bundle.sources) fileOf(s.path);

  if (bundle.policies.length === 0) throw new Error("internal: a bundle needs at least one policy");
  if (bundle.policies.length > 0xffff) throw new Error("too many policies in one bundle");
  if (bundle.rules.length > Limits.MAX_RULES) throw new Error("too many rules in one bundle");

  const policies: LoweredPolicy[] = bundle.policies.map((p) => ({
    name: pools.str(p.name), version: pools.str(p.version), file: pools.str(p.file),
    mode: Mode[p.mode], default: Effect[p.default],
    agentModes: Object.entries(p.agentModes).map(([agent, mode]) => ({ agent: pools.str(agent), mode: Mode[mode] })),
  }));

  const rules: LoweredRule[] = [];
  const debugRules: { file: number; line: number; col: number }[] = [];
  const sites: DebugSite[] = [];
  bundle.rules.forEach((r, ruleIndex) => {
    const gen = new RuleCode(pools);
    gen.expr(r.when ?? { kind: "bool", value: true, span: r.span });
    gen.ret();
    if (gen.maxDepth > Limits.MAX_STACK) throw new Error(`rule \`${r.id}\` is too deeply nested`);
    for (const s of gen.sites) {
      const p = position(s.span);
      sites.push({ rule: ruleIndex, pc: s.pc, line: p.line, col: p.col });
    }
    debugRules.push(position(r.when ? r.when.span : r.span));
    rules.push({
      id: pools.str(r.id), effect: Effect[r.effect], mode: Mode[r.mode], policy: r.policy,
      reason: r.reason === "" ? NONE : pools.str(r.reason),
      code: gen.out.finish(), maxStack: gen.maxDepth,
      redact: r.redact.map((path) => path.map((seg) => pools.str(seg))),
      agents: dedupe(r.agents).map((s) => pools.str(s)),
      tools: dedupe(r.tools).map((s) => pools.str(s)),
      actions: dedupe(r.actions).map((s) => pools.str(s)),
    });
  });

  // Index: one symbol per distinct selector name, then every (agent, tool, action) key of the
  // cartesian product of each rule's selectors, with its rules in ascending order.
  const symbolOf = new Map<number, number>();
  const symbols: number[] = [];
  const sym = (str: number): number => {
    let i = symbolOf.get(str);
    if (i === undefined) { i = symbols.length; symbols.push(str); symbolOf.set(str, i); }
    return i;
  };
  const keyMap = new Map<string, IndexKey>();
  rules.forEach((r, ruleIndex) => {
    const as = r.agents.length ? r.agents.map(sym) : [NONE];
    const ts = r.tools.length ? r.tools.map(sym) : [NONE];
    const xs = r.actions.length ? r.actions.map(sym) : [NONE];
    for (const agent of as) for (const tool of ts) for (const action of xs) {
      const k = `${agent},${tool},${action}`;
      let key = keyMap.get(k);
      if (!key) { key = { agent, tool, action, rules: [] }; keyMap.set(k, key); }
      key.rules.push(ruleIndex);
    }
  });
  const keys = [...keyMap.values()].sort((a, b) => a.agent - b.agent || a.tool - b.tool || a.action - b.action);

  let egress: LoweredProgram["egress"] = null;
  if (bundle.egress) {
    const seen = new Set<string>();
    const entries: { wildcard: boolean; host: number }[] = [];
    for (const e of bundle.egress.entries) {
      const host = normalizeHost(e.host);
      const k = `${e.wildcard ? "*" : "="}${host}`;
      if (seen.has(k)) continue;
      seen.add(k);
      entries.push({ wildcard: e.wildcard, host: pools.str(host) });
    }
    egress = { mode: Mode[bundle.egress.mode], policy: bundle.egress.policy, entries };
  }

  const dlp = bundle.dlp.map((d) => ({
    name: pools.str(d.name), regex: pools.regex(d.pattern), policy: d.policy, mode: Mode[d.mode],
  }));

  return {
    strings: pools.strings, consts: pools.consts, regexes: pools.regexes, policies, rules,
    index: { symbols: symbols, keys }, egress, dlp,
    debug: { files, rules: debugRules, sites },
  };
}
