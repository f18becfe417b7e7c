// Stage parse-expr: a CEL expression string -> RawExpr, an untyped syntax tree whose positions are
// offsets into the policy file (not the expression string). Hand-written lexer and
// recursive-descent parser following cel-go's grammar and precedence:
//   `?:` < `||` < `&&` < `== != < <= > >= in` < `+ -` < `* / %` < unary `! -` < member `.f` `.f()` `[i]`
// Unsupported CEL syntax (uint and bytes literals, map literals, message construction, leading-dot
// names) is rejected with a positioned message. Nesting is bounded so hostile input gets an error,
// never a stack overflow. Names and types are not looked at here; that is the checker's job.
import { PolicyError } from "../errors.ts";
import type { BinaryOp } from "../ast.ts";

/** Deepest recursive nesting accepted (parentheses, lists, call arguments, `?:`, unary operators). */
export const MAX_EXPR_NESTING = 64;
/** Tallest syntax tree accepted (long left-associative chains such as `a + b + c + ...` count too). */
export const MAX_EXPR_HEIGHT = 256;

/**
 * Position of a syntax node in the file. `start`/`end` cover the whole node; `at` is where an error
 * about the node points, as cel-go does: the operator of an operation, the `.` of a field
 * selection or receiver call, the `[` of an index, the `?` of a conditional, else `start`.
 */
export interface RawSpan { start: number; end: number; at: number }

export type RawBinaryOp = BinaryOp | "&&" | "||";

export type RawExpr =
  | { kind: "null"; span: RawSpan }
  | { kind: "bool"; value: boolean; span: RawSpan }
  | { kind: "int"; value: bigint; span: RawSpan }
  | { kind: "double"; value: number; span: RawSpan }
  /** `offsets[i]` is the file offset of the source of value[i] (length value.length + 1). */
  | { kind: "string"; value: string; offsets: number[]; span: RawSpan }
  | { kind: "list"; elements: RawExpr[]; span: RawSpan }
  | { kind: "ident"; name: string; span: RawSpan }
  | { kind: "select"; operand: RawExpr; field: string; span: RawSpan }
  | { kind: "index"; operand: RawExpr; index: RawExpr; span: RawSpan }
  /** A call; `target` is the receiver for `x.f(...)`, null for a global `f(...)`. */
  | { kind: "call"; name: string; target: RawExpr | null; args: RawExpr[]; span: RawSpan }
  | { kind: "unary"; op: "!" | "-"; operand: RawExpr; span: RawSpan }
  | { kind: "binary"; op: RawBinaryOp; left: RawExpr; right: RawExpr; span: RawSpan }
  | { kind: "cond"; test: RawExpr; then: RawExpr; else: RawExpr; span: RawSpan };

/** The parse result: `expr` is null exactly when `errors` is non-empty. */
export interface ParsedExpression { expr: RawExpr | null; errors: PolicyError[] }

/**
 * Parses a CEL expression. Offsets in the result are file offsets: `offsetMap(i)` (string index ->
 * file offset, defined for 0..text.length) when given, else `baseOffset + i`. `fileText` is the
 * whole file's text, used for error line:col; it defaults to `text` when there is no mapping.
 */
export function parseExpression(
  text: string,
  file: string,
  baseOffset: number,
  offsetMap?: (i: number) => number,
  fileText?: string,
): ParsedExpression {
  const map = offsetMap ?? ((i: number) => baseOffset + i);
  const lineText = fileText ?? (offsetMap === undefined && baseOffset === 0 ? text : null);
  const parser = new Parser(text, file, map, lineText);
  try {
    const expr = parser.parseTop();
    return { expr, errors: [] };
  } catch (e) {
    if (e instanceof SyntaxFailure) return { expr: null, errors: [e.error] };
    if (e instanceof RangeError) {
      // Defence in depth: the nesting limits should make this unreachable.
      return { expr: null, errors: [new PolicyError(file, lineText, map(0), map(0), "expression is nested too deeply")] };
    }
    throw e;
  }
}

/** Parses a standalone expression: file `<expr>`, offsets are indices into `text`. */
export function parseExpressionSource(text: string): ParsedExpression {
  return parseExpression(text, "<expr>", 0);
}

// ---------------------------------------------------------------------------------------------
// Lexer

type TokenKind =
  | "ident" | "quoted_ident" | "int" | "double" | "string" | "punct" | "eof";

interface Token {
  kind: TokenKind;
  /** Identifier name, punctuation text, or the literal's source text. */
  text: string;
  start: number;
  end: number;
  intValue?: bigint;
  doubleValue?: number;
  stringValue?: string;
  /** String index in the expression text of each code unit of stringValue (plus the end). */
  stringIndices?: number[];
}

class SyntaxFailure extends Error {
  constructor(public error: PolicyError) {
    super(error.message);
  }
}

const PUNCT2 = ["==", "!=", "<=", ">=", "&&", "||"];
const PUNCT1 = "()[]{}.,?:!-+*/%<>";

const RESERVED = new Set([
  "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
  "package", "namespace", "return", "var", "void", "while",
]);

const INT64_MAX = (1n << 63n) - 1n;

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}
function isHex(c: string): boolean {
  return (c >= "0" && c <= "9") || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
}
function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}

class Lexer {
  pos = 0;
  constructor(private text: string, private fail: (start: number, end: number, message: string) => never) {}

  private skipSpaceAndComments(): void {
    const t = this.text;
    for (;;) {
      const c = t[this.pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f") {
        this.pos++;
      } else if (c === "/" && t[this.pos + 1] === "/") {
        while (this.pos < t.length && t[this.pos] !== "\n" && t[this.pos] !== "\r") this.pos++;
      } else {
        return;
      }
    }
  }

  next(): Token {
    this.skipSpaceAndComments();
    const t = this.text;
    const start = this.pos;
    if (start >= t.length) return { kind: "eof", text: "", start, end: start };
    const c = t[start];

    if (isIdentStart(c)) {
      let end = start + 1;
      while (end < t.length && isIdentPart(t[end])) end++;
      const word = t.slice(start, end);
      const q = t[end];
      if (q === '"' || q === "'") {
        const lower = word.toLowerCase();
        if (lower === "r") {
          this.pos = end;
          return this.string(start, true);
        }
        if (lower === "b" || lower === "br" || lower === "rb") {
          this.fail(start, end, "bytes literals (`b\"...\"`) are not supported; use a string");
        }
      }
      this.pos = end;
      return { kind: "ident", text: word, start, end };
    }
    if (c === "`") {
      let end = start + 1;
      while (end < t.length && t[end] !== "`" && t[end] !== "\n" && t[end] !== "\r") end++;
      if (t[end] !== "`") this.fail(start, end, "unterminated quoted identifier");
      const name = t.slice(start + 1, end);
      if (!/^[A-Za-z0-9_.\-/ ]+$/.test(name)) {
        this.fail(start, end + 1, `invalid quoted identifier \`${name}\``);
      }
      this.pos = end + 1;
      return { kind: "quoted_ident", text: name, start, end: end + 1 };
    }
    if (isDigit(c) || (c === "." && isDigit(t[start + 1] ?? ""))) return this.number(start);
    if (c === '"' || c === "'") return this.string(start, false);

    const two = t.slice(start, start + 2);
    if (PUNCT2.includes(two)) {
      this.pos = start + 2;
      return { kind: "punct", text: two, start, end: start + 2 };
    }
    if (PUNCT1.includes(c)) {
      this.pos = start + 1;
      return { kind: "punct", text: c, start, end: start + 1 };
    }
    if (c === "=") this.fail(start, start + 1, "unexpected `=`; use `==` to compare");
    if (c === "&") this.fail(start, start + 1, "unexpected `&`; use `&&`");
    if (c === "|") this.fail(start, start + 1, "unexpected `|`; use `||`");
    const cp = t.codePointAt(start) ?? 0;
    const ch = String.fromCodePoint(cp);
    return this.fail(start, start + ch.length, `unexpected character \`${ch}\``);
  }

  private number(start: number): Token {
    const t = this.text;
    let p = start;
    if (t[p] === "0" && (t[p + 1] === "x" || t[p + 1] === "X")) {
      p += 2;
      const digitsStart = p;
      while (p < t.length && isHex(t[p])) p++;
      if (p === digitsStart) this.fail(start, p, "hexadecimal literal needs digits after `0x`");
      this.rejectSuffix(start, p);
      this.pos = p;
      const src = t.slice(start, p);
      return { kind: "int", text: src, start, end: p, intValue: BigInt(src) };
    }
    let isDouble = false;
    while (p < t.length && isDigit(t[p])) p++;
    if (t[p] === "." && isDigit(t[p + 1] ?? "")) {
      isDouble = true;
      p++;
      while (p < t.length && isDigit(t[p])) p++;
    }
    if (t[p] === "e" || t[p] === "E") {
      let q = p + 1;
      if (t[q] === "+" || t[q] === "-") q++;
      if (isDigit(t[q] ?? "")) {
        isDouble = true;
        p = q;
        while (p < t.length && isDigit(t[p])) p++;
      } else {
        this.fail(start, q, `invalid number \`${t.slice(start, q)}\`: the exponent needs digits`);
      }
    }
    const src = t.slice(start, p);
    if (isDouble) {
      if (t[p] === "u" || t[p] === "U") this.fail(start, p + 1, `invalid number \`${t.slice(start, p + 1)}\``);
      if (isIdentPart(t[p] ?? "")) this.fail(start, p + 1, `invalid number \`${t.slice(start, p + 1)}\``);
      const v = Number(src);
      if (!Number.isFinite(v)) this.fail(start, p, `double literal \`${src}\` is out of range`);
      this.pos = p;
      return { kind: "double", text: src, start, end: p, doubleValue: v };
    }
    this.rejectSuffix(start, p);
    this.pos = p;
    return { kind: "int", text: src, start, end: p, intValue: BigInt(src) };
  }

  private rejectSuffix(start: number, p: number): void {
    const t = this.text;
    if (t[p] === "u" || t[p] === "U") {
      if (!isIdentPart(t[p + 1] ?? "")) {
        this.fail(start, p + 1, `unsigned integer literals (\`${t.slice(start, p + 1)}\`) are not supported; use a plain integer`);
      }
    }
    if (isIdentPart(t[p] ?? "")) {
      let q = p;
      while (q < t.length && isIdentPart(t[q])) q++;
      this.fail(start, q, `invalid number \`${t.slice(start, q)}\``);
    }
  }

  /** Lexes a string literal whose opening quote is at this.pos; `start` includes any `r` prefix. */
  private string(start: number, raw: boolean): Token {
    const t = this.text;
    const quote = t[this.pos];
    const triple = t[this.pos + 1] === quote && t[this.pos + 2] === quote;
    let p = this.pos + (triple ? 3 : 1);
    let value = "";
    const indices: number[] = [];
    for (;;) {
      if (p >= t.length) this.fail(start, p, "unterminated string literal");
      const c = t[p];
      if (triple) {
        if (c === quote && t[p + 1] === quote && t[p + 2] === quote) {
          p += 3;
          break;
        }
      } else {
        if (c === quote) {
          p++;
          break;
        }
        if (c === "\n" || c === "\r") {
          this.fail(start, p, "unterminated string literal (use a triple-quoted string for several lines)");
        }
      }
      if (c === "\\" && !raw) {
        const escStart = p;
        const { text: decoded, next } = this.escape(p);
        for (let k = 0; k < decoded.length; k++) indices.push(escStart);
        value += decoded;
        p = next;
        continue;
      }
      indices.push(p);
      value += c;
      p++;
    }
    indices.push(p - (triple ? 3 : 1));
    this.pos = p;
    return { kind: "string", text: t.slice(start, p), start, end: p, stringValue: value, stringIndices: indices };
  }

  /** Decodes the escape sequence starting with the backslash at `p`. */
  private escape(p: number): { text: string; next: number } {
    const t = this.text;
    const c = t[p + 1];
    const simple: Record<string, string> = {
      a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v",
      "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
    };
    if (c !== undefined && Object.prototype.hasOwnProperty.call(simple, c)) {
      return { text: simple[c], next: p + 2 };
    }
    const hexEscape = (digits: number): { text: string; next: number } => {
      const h = t.slice(p + 2, p + 2 + digits);
      if (h.length !== digits || ![...h].every(isHex)) {
        this.fail(p, p + 2 + h.length, `invalid escape sequence \`${t.slice(p, p + 2 + digits)}\`: needs ${digits} hex digits`);
      }
      const cp = parseInt(h, 16);
      if (cp >= 0xd800 && cp <= 0xdfff) {
        this.fail(p, p + 2 + digits, `invalid escape sequence \`${t.slice(p, p + 2 + digits)}\`: surrogate code points are not allowed`);
      }
      if (cp > 0x10ffff) {
        this.fail(p, p + 2 + digits, `invalid escape sequence \`${t.slice(p, p + 2 + digits)}\`: beyond U+10FFFF`);
      }
      return { text: String.fromCodePoint(cp), next: p + 2 + digits };
    };
    if (c === "x" || c === "X") return hexEscape(2);
    if (c === "u") return hexEscape(4);
    if (c === "U") return hexEscape(8);
    if (c !== undefined && c >= "0" && c <= "3") {
      const o = t.slice(p + 1, p + 4);
      if (o.length === 3 && /^[0-3][0-7][0-7]$/.test(o)) {
        return { text: String.fromCodePoint(parseInt(o, 8)), next: p + 4 };
      }
      this.fail(p, p + 1 + o.length, `invalid escape sequence \`\\${o}\`: octal escapes need three digits`);
    }
    if (c === undefined) this.fail(p, p + 1, "unterminated string literal");
    const cp = t.codePointAt(p + 1) ?? 0;
    const ch = String.fromCodePoint(cp);
    return this.fail(p, p + 1 + ch.length, `invalid escape sequence \`\\${ch}\``);
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  private lexer: Lexer;
  private tok: Token;
  private depth = 0;
  private heights = new WeakMap<RawExpr, number>();

  constructor(
    private text: string,
    private file: string,
    private map: (i: number) => number,
    private fileText: string | null,
  ) {
    this.lexer = new Lexer(text, (s, e, m) => this.fail(s, e, m));
    this.tok = { kind: "eof", text: "", start: 0, end: 0 };
  }

  private fail(start: number, end: number, message: string): never {
    throw new SyntaxFailure(new PolicyError(this.file, this.fileText, this.map(start), this.map(end), message));
  }

  private advance(): Token {
    const t = this.tok;
    this.tok = this.lexer.next();
    return t;
  }

  private atEnd(): boolean {
    return this.tok.kind === "eof";
  }

  private isPunct(p: string): boolean {
    return this.tok.kind === "punct" && this.tok.text === p;
  }

  private expect(p: string, context: string): Token {
    if (!this.isPunct(p)) this.unexpected(`\`${p}\` ${context}`);
    return this.advance();
  }

  private describe(t: Token): string {
    if (t.kind === "eof") return "end of expression";
    return `\`${t.text.length > 20 ? t.text.slice(0, 20) + "..." : t.text}\``;
  }

  private unexpected(wanted: string): never {
    return this.fail(this.tok.start, Math.max(this.tok.end, this.tok.start + 1), `expected ${wanted}, found ${this.describe(this.tok)}`);
  }

  private span(start: number, end: number, at: number = start): RawSpan {
    return { start: this.map(start), end: this.map(end), at: this.map(at) };
  }

  /** Records the node's height; fails when it passes MAX_EXPR_HEIGHT. */
  private node<T extends RawExpr>(n: T, atIndex: number, ...children: RawExpr[]): T {
    let h = 0;
    for (const c of children) h = Math.max(h, this.heights.get(c) ?? 1);
    h += 1;
    if (h > MAX_EXPR_HEIGHT) {
      this.fail(atIndex, atIndex + 1, `expression is too deeply nested (more than ${MAX_EXPR_HEIGHT} levels)`);
    }
    this.heights.set(n, h);
    return n;
  }

  private enter(atIndex: number): void {
    if (++this.depth > MAX_EXPR_NESTING) {
      this.fail(atIndex, atIndex + 1, `expression is too deeply nested (more than ${MAX_EXPR_NESTING} levels)`);
    }
  }

  parseTop(): RawExpr {
    this.tok = this.lexer.next();
    if (this.atEnd()) this.fail(0, 0, "empty expression");
    const e = this.parseExpr();
    if (!this.atEnd()) this.unexpected("an operator or the end of the expression");
    return e;
  }

  /** expr: or ('?' or ':' expr)? */
  private parseExpr(): RawExpr {
    const startTok = this.tok;
    this.enter(startTok.start);
    const test = this.parseOr();
    let result = test;
    if (this.isPunct("?")) {
      const q = this.advance();
      const then = this.parseOr();
      this.expect(":", "in a conditional `c ? a : b`");
      const otherwise = this.parseExpr();
      result = this.node(
        { kind: "cond", test, then, else: otherwise, span: this.span(startTok.start, this.lastEnd, q.start) },
        q.start, test, then, otherwise,
      );
    }
    this.depth--;
    return result;
  }

  private lastEnd = 0;

  private parseOr(): RawExpr {
    const startTok = this.tok;
    let left = this.parseAnd();
    while (this.isPunct("||")) {
      const op = this.advance();
      const right = this.parseAnd();
      left = this.node(
        { kind: "binary", op: "||", left, right, span: this.span(startTok.start, this.lastEnd, op.start) },
        op.start, left, right,
      );
    }
    return left;
  }

  private parseAnd(): RawExpr {
    const startTok = this.tok;
    let left = this.parseRelation();
    while (this.isPunct("&&")) {
      const op = this.advance();
      const right = this.parseRelation();
      left = this.node(
        { kind: "binary", op: "&&", left, right, span: this.span(startTok.start, this.lastEnd, op.start) },
        op.start, left, right,
      );
    }
    return left;
  }

  private relationOp(): RawBinaryOp | null {
    const t = this.tok;
    if (t.kind === "ident" && t.text === "in") return "in";
    if (t.kind !== "punct") return null;
    switch (t.text) {
      case "==": case "!=": case "<": case "<=": case ">": case ">=":
        return t.text;
      default:
        return null;
    }
  }

  private parseRelation(): RawExpr {
    const startTok = this.tok;
    let left = this.parseAdditive();
    for (let op = this.relationOp(); op !== null; op = this.relationOp()) {
      const opTok = this.advance();
      const right = this.parseAdditive();
      left = this.node(
        { kind: "binary", op, left, right, span: this.span(startTok.start, this.lastEnd, opTok.start) },
        opTok.start, left, right,
      );
    }
    return left;
  }

  private parseAdditive(): RawExpr {
    const startTok = this.tok;
    let left = this.parseMultiplicative();
    while (this.isPunct("+") || this.isPunct("-")) {
      const opTok = this.advance();
      const right = this.parseMultiplicative();
      left = this.node(
        { kind: "binary", op: opTok.text as BinaryOp, left, right, span: this.span(startTok.start, this.lastEnd, opTok.start) },
        opTok.start, left, right,
      );
    }
    return left;
  }

  private parseMultiplicative(): RawExpr {
    const startTok = this.tok;
    let left = this.parseUnary();
    while (this.isPunct("*") || this.isPunct("/") || this.isPunct("%")) {
      const opTok = this.advance();
      const right = this.parseUnary();
      left = this.node(
        { kind: "binary", op: opTok.text as BinaryOp, left, right, span: this.span(startTok.start, this.lastEnd, opTok.start) },
        opTok.start, left, right,
      );
    }
    return left;
  }

  /** unary: ('!' | '-')* member, with `-` directly before a number folded into the literal. */
  private parseUnary(): RawExpr {
    const ops: Token[] = [];
    while (this.isPunct("!") || this.isPunct("-")) {
      const t = this.tok;
      // A `-` right before a number literal is part of the literal (cel-go: `literal: MINUS? NUM`).
      if (t.text === "-") {
        const save = this.lexer.pos;
        const after = this.lexer.next();
        this.lexer.pos = save;
        if (after.kind === "int" || after.kind === "double") break;
      }
      this.enter(t.start);
      ops.push(this.advance());
    }
    let operand = this.parseMember();
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i];
      operand = this.node(
        { kind: "unary", op: op.text as "!" | "-", operand, span: this.span(op.start, this.lastEnd, op.start) },
        op.start, operand,
      );
      this.depth--;
    }
    return operand;
  }

  private parseMember(): RawExpr {
    const startTok = this.tok;
    let e = this.parsePrimary();
    for (;;) {
      if (this.isPunct(".")) {
        const dot = this.advance();
        const nameTok = this.tok;
        let name: string;
        if (nameTok.kind === "ident") {
          name = nameTok.text;
        } else if (nameTok.kind === "quoted_ident") {
          name = nameTok.text;
        } else {
          this.unexpected("a field name after `.`");
        }
        this.advance();
        this.lastEnd = nameTok.end;
        if (this.isPunct("(") && nameTok.kind === "ident") {
          const args = this.parseArgs();
          e = this.node(
            { kind: "call", name, target: e, args, span: this.span(startTok.start, this.lastEnd, dot.start) },
            dot.start, e, ...args,
          );
        } else {
          e = this.node(
            { kind: "select", operand: e, field: name, span: this.span(startTok.start, this.lastEnd, dot.start) },
            dot.start, e,
          );
        }
      } else if (this.isPunct("[")) {
        const open = this.advance();
        const index = this.parseExpr();
        const close = this.expect("]", "to close the index");
        this.lastEnd = close.end;
        e = this.node(
          { kind: "index", operand: e, index, span: this.span(startTok.start, this.lastEnd, open.start) },
          open.start, e, index,
        );
      } else if (this.isPunct("{")) {
        this.fail(this.tok.start, this.tok.end, "message construction (`Type{...}`) is not supported");
      } else {
        return e;
      }
    }
  }

  /** Parses `( args )` with the current token on `(`. */
  private parseArgs(): RawExpr[] {
    this.advance();
    const args: RawExpr[] = [];
    if (!this.isPunct(")")) {
      for (;;) {
        args.push(this.parseExpr());
        if (this.isPunct(",")) {
          this.advance();
          continue;
        }
        break;
      }
    }
    const close = this.expect(")", "to close the argument list");
    this.lastEnd = close.end;
    return args;
  }

  private parsePrimary(): RawExpr {
    const t = this.tok;
    switch (t.kind) {
      case "int": {
        this.advance();
        this.lastEnd = t.end;
        return this.intLiteral(t, t.start, false);
      }
      case "double": {
        this.advance();
        this.lastEnd = t.end;
        return this.node({ kind: "double", value: t.doubleValue!, span: this.span(t.start, t.end) }, t.start);
      }
      case "string": {
        this.advance();
        this.lastEnd = t.end;
        const offsets = t.stringIndices!.map((i) => this.map(i));
        return this.node({ kind: "string", value: t.stringValue!, offsets, span: this.span(t.start, t.end) }, t.start);
      }
      case "quoted_ident":
        return this.fail(t.start, t.end, "a quoted identifier is only allowed after `.`");
      case "ident":
        return this.identOrCall();
      case "eof":
        return this.unexpected("an expression");
      case "punct":
        break;
    }
    if (t.text === "-") {
      // A `-` that parseUnary left for us: it is directly followed by a number literal.
      this.advance();
      const num = this.tok;
      this.advance();
      this.lastEnd = num.end;
      if (num.kind === "int") return this.intLiteral(num, t.start, true);
      return this.node({ kind: "double", value: -num.doubleValue!, span: this.span(t.start, num.end) }, t.start);
    }
    if (t.text === "(") {
      this.advance();
      const inner = this.parseExpr();
      const close = this.expect(")", "to close `(`");
      this.lastEnd = close.end;
      return inner;
    }
    if (t.text === "[") {
      const open = this.advance();
      const elements: RawExpr[] = [];
      while (!this.isPunct("]")) {
        elements.push(this.parseExpr());
        if (this.isPunct(",")) {
          this.advance();
          continue;
        }
        if (!this.isPunct("]")) this.unexpected("`,` or `]` in a list");
      }
      const close = this.advance();
      this.lastEnd = close.end;
      return this.node({ kind: "list", elements, span: this.span(open.start, close.end) }, open.start, ...elements);
    }
    if (t.text === "{") return this.fail(t.start, t.end, "map literals (`{...}`) are not supported");
    if (t.text === ".") {
      const next = this.lexer.next();
      if (next.kind === "ident") {
        return this.fail(t.start, next.end, `leading \`.\` identifiers (\`.${next.text}\`) are not supported`);
      }
    }
    return this.unexpected("an expression");
  }

  private intLiteral(t: Token, start: number, negative: boolean): RawExpr {
    const v = negative ? -t.intValue! : t.intValue!;
    if (v > INT64_MAX || v < -INT64_MAX - 1n) {
      this.fail(start, t.end, `integer literal \`${negative ? "-" : ""}${t.text}\` is out of the 64-bit range`);
    }
    return this.node({ kind: "int", value: v, span: this.span(start, t.end) }, start);
  }

  private identOrCall(): RawExpr {
    const t = this.advance();
    this.lastEnd = t.end;
    switch (t.text) {
      case "true":
      case "false":
        return this.node({ kind: "bool", value: t.text === "true", span: this.span(t.start, t.end) }, t.start);
      case "null":
        return this.node({ kind: "null", span: this.span(t.start, t.end) }, t.start);
      case "in":
        return this.fail(t.start, t.end, "expected an expression, found `in`");
    }
    if (RESERVED.has(t.text)) this.fail(t.start, t.end, `\`${t.text}\` is a reserved word`);
    if (this.isPunct("(")) {
      const args = this.parseArgs();
      return this.node(
        { kind: "call", name: t.text, target: null, args, span: this.span(t.start, this.lastEnd, t.start) },
        t.start, ...args,
      );
    }
    if (this.isPunct("{")) {
      this.fail(this.tok.start, this.tok.end, "message construction (`Type{...}`) is not supported");
    }
    return this.node({ kind: "ident", name: t.text, span: this.span(t.start, t.end) }, t.start);
  }
}
