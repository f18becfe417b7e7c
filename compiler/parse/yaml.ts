// Stage parse-yaml: policy file text -> a small tree of YAML nodes (maps, sequences, scalars) that
// keeps every node's file offsets, for the checker to walk. Input is attacker-controlled, so the
// size, nesting depth and alias expansion are bounded before and while building the tree, and every
// YAML problem (syntax, duplicate keys, several documents, unknown tags) becomes a positioned
// PolicyError. Aliases are expanded by this stage under a node budget; `yaml`'s own toJS (and its
// maxAliasCount) is never used.
import { Lexer, parseDocument, isAlias, isMap, isPair, isScalar, isSeq } from "yaml";
import type { Document, Node as YamlLibNode } from "yaml";
import { PolicyError } from "../errors.ts";
import type { Source } from "../ast.ts";

/** Largest policy file accepted, in UTF-8 bytes. */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;
/** Deepest nesting of YAML collections accepted. */
export const MAX_YAML_DEPTH = 64;
/** Most alias nodes (`*name`) one file may contain. */
export const MAX_YAML_ALIASES = 100;
/** Most nodes one file may expand to once aliases are resolved. */
export const MAX_YAML_NODES = 100_000;

/** How a scalar was written in the file. */
export type ScalarStyle = "PLAIN" | "QUOTE_SINGLE" | "QUOTE_DOUBLE" | "BLOCK_LITERAL" | "BLOCK_FOLDED";

/** A YAML scalar with its value as the YAML core schema reads it and its place in the file. */
export interface YScalar {
  kind: "scalar";
  value: string | number | boolean | null;
  style: ScalarStyle;
  /** Offset of the scalar's first character (the quote or block indicator, if any). */
  start: number;
  /** Offset just after the scalar's last character. */
  end: number;
}

/** One `key: value` entry of a YAML map. */
export interface YEntry {
  key: string;
  keyStart: number;
  keyEnd: number;
  value: YNode;
}

export interface YMap { kind: "map"; entries: YEntry[]; start: number; end: number }
export interface YSeq { kind: "seq"; items: YNode[]; start: number; end: number }
export type YNode = YMap | YSeq | YScalar;

/** The parsed file: `root` is null when the file has errors or holds no document content. */
export interface ParsedYaml {
  root: YNode | null;
  errors: PolicyError[];
}

/**
 * UTF-8 length of `text` as an encoder writes it (a lone surrogate becomes the 3-byte U+FFFD), like
 * Node's Buffer.byteLength, which browsers lack.
 */
function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 2 UTF-16 units, 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

/** Parses one policy file into a YNode tree, reporting every YAML-level problem with its position. */
export function parsePolicyYaml(source: Source): ParsedYaml {
  const { path: file, text } = source;
  const err = (offset: number, end: number, message: string) => new PolicyError(file, text, offset, end, message);

  if (utf8Length(text) > MAX_POLICY_FILE_BYTES) {
    return { root: null, errors: [err(0, 0, `file is larger than the limit of ${MAX_POLICY_FILE_BYTES} bytes`)] };
  }
  const deep = findExcessiveNesting(text);
  if (deep !== null) {
    return { root: null, errors: [err(deep, deep + 1, `nesting is deeper than ${MAX_YAML_DEPTH} levels`)] };
  }

  const doc = parseDocument(text, {
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    schema: "core",
    merge: false,
    version: "1.2",
    keepSourceTokens: false,
  });
  const errors: PolicyError[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const [start, end] = e.pos;
    errors.push(err(start, end, yamlMessage(e.code, e.message, text.slice(start, end))));
  }
  if (errors.length > 0) return { root: null, errors };
  if (doc.contents === null) return { root: null, errors };

  const builder = new TreeBuilder(doc, file, text);
  const root = builder.build(doc.contents as YamlLibNode, 1);
  if (builder.errors.length > 0) return { root: null, errors: builder.errors };
  return { root, errors: [] };
}

/** Our wording for the `yaml` package's error codes. */
function yamlMessage(code: string, message: string, sourceText: string): string {
  switch (code) {
    case "DUPLICATE_KEY":
      return `duplicate key \`${sourceText.trim()}\``;
    case "MULTIPLE_DOCS":
      return "a policy file must hold exactly one YAML document";
    case "RESOURCE_EXHAUSTION":
      return `nesting is deeper than ${MAX_YAML_DEPTH} levels`;
    case "TAG_RESOLVE_FAILED":
      return `unsupported YAML tag \`${sourceText.trim()}\``;
    default: {
      const m = message.replace(/[.\s]+$/, "");
      return `invalid YAML: ${m.charAt(0).toLowerCase()}${m.slice(1)}`;
    }
  }
}

/** Converts `yaml` nodes into YNodes, expanding aliases under the depth and node budgets. */
class TreeBuilder {
  errors: PolicyError[] = [];
  private aliases = 0;
  private nodes = 0;
  private stopped = false;

  constructor(private doc: Document, private file: string, private text: string) {}

  private fail(offset: number, end: number, message: string): null {
    if (!this.stopped) this.errors.push(new PolicyError(this.file, this.text, offset, end, message));
    this.stopped = true;
    return null;
  }

  /** `depth` counts collections from the root (the root map is depth 1). */
  build(node: YamlLibNode, depth: number): YNode | null {
    if (this.stopped) return null;
    const [start, , end] = node.range ?? [0, 0, 0];
    if (++this.nodes > MAX_YAML_NODES) {
      return this.fail(start, end, `file expands to more than ${MAX_YAML_NODES} YAML nodes`);
    }
    if (isAlias(node)) {
      if (++this.aliases > MAX_YAML_ALIASES) {
        return this.fail(start, end, `file uses more than ${MAX_YAML_ALIASES} aliases`);
      }
      const target = node.resolve(this.doc);
      if (target === undefined) return this.fail(start, end, `unknown alias \`${node.source}\``);
      return this.build(target as YamlLibNode, depth);
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
        return this.fail(start, end, "unsupported YAML value; use a string, number, boolean or null");
      }
      const valueEnd = node.range?.[1] ?? end;
      return { kind: "scalar", value: v, style: (node.type ?? "PLAIN") as ScalarStyle, start, end: valueEnd };
    }
    if (depth > MAX_YAML_DEPTH) return this.fail(start, end, `nesting is deeper than ${MAX_YAML_DEPTH} levels`);
    if (isSeq(node)) {
      const items: YNode[] = [];
      for (const item of node.items) {
        const child = this.build(item as YamlLibNode, depth + 1);
        if (child === null) return null;
        items.push(child);
      }
      return { kind: "seq", items, start, end: node.range?.[1] ?? end };
    }
    if (isMap(node)) {
      const entries: YEntry[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) return this.fail(start, end, "invalid YAML map entry");
        let keyNode = pair.key as YamlLibNode | null;
        if (keyNode !== null && isAlias(keyNode)) keyNode = (keyNode.resolve(this.doc) ?? null) as YamlLibNode | null;
        if (keyNode === null || !isScalar(keyNode)) {
          const at = (pair.key as YamlLibNode | null)?.range?.[0] ?? start;
          return this.fail(at, at + 1, "map keys must be plain strings");
        }
        const [keyStart, keyEnd] = keyNode.range ?? [start, start];
        const key = keyNode.value === null ? "" : String(keyNode.value);
        let value: YNode | null;
        if (pair.value === null || pair.value === undefined) {
          value = { kind: "scalar", value: null, style: "PLAIN", start: keyEnd, end: keyEnd };
        } else {
          value = this.build(pair.value as YamlLibNode, depth + 1);
        }
        if (value === null) return null;
        entries.push({ key, keyStart, keyEnd, value });
      }
      return { kind: "map", entries, start, end: node.range?.[1] ?? end };
    }
    return this.fail(start, end, "unsupported YAML node");
  }
}

/**
 * A fast lower bound on the file's collection nesting, from the `yaml` lexer's tokens: flow
 * brackets, block indentation levels and inline `- ` / `? ` indicators. Returns the offset where the
 * bound first exceeds MAX_YAML_DEPTH, or null. It exists so that a hostile file (10,000 nested
 * `[`) is rejected in one linear pass before the recursive composer sees it.
 */
function findExcessiveNesting(text: string): number | null {
  let offset = 0;
  let flowDepth = 0;
  const indents: number[] = [];
  let lineStart = true;
  let indent = 0;
  let lineHasContent = false;
  let onlyIndicators = false;
  let inlineIndicators = 0;
  for (const token of new Lexer().lex(text)) {
    const first = token.charCodeAt(0);
    // The lexer's control tokens (document, flow-error end, scalar markers) take no source space.
    if (token.length === 1 && (first === 0x02 || first === 0x18 || first === 0x1f)) continue;
    const at = offset;
    offset += token.length;
    if (token === "\n" || token === "\r\n") {
      lineStart = true;
      indent = 0;
      lineHasContent = false;
      inlineIndicators = 0;
      continue;
    }
    if (first === 0x20 || first === 0x09) {
      if (lineStart && !lineHasContent) indent = token.length;
      continue;
    }
    if (first === 0x23 /* # */) continue;
    if (token === "---" || token === "...") {
      indents.length = 0;
      continue;
    }
    const isIndicator = token === "-" || token === "?";
    if (flowDepth === 0) {
      if (!lineHasContent) {
        while (indents.length > 0 && indents[indents.length - 1] >= indent) indents.pop();
        indents.push(indent);
        lineHasContent = true;
        onlyIndicators = isIndicator;
      } else if (isIndicator && onlyIndicators) {
        inlineIndicators++;
      } else {
        onlyIndicators = false;
      }
    }
    if (token === "[" || token === "{") flowDepth++;
    else if ((token === "]" || token === "}") && flowDepth > 0) flowDepth--;
    if (indents.length + inlineIndicators + flowDepth > MAX_YAML_DEPTH) return at;
    // A block scalar's content token carries its own newlines; the next token starts a line.
    lineStart = token.endsWith("\n");
    if (lineStart) {
      indent = 0;
      lineHasContent = false;
      inlineIndicators = 0;
    }
  }
  return null;
}

/**
 * Maps an index into a scalar's string value to a file offset. Exact when the value's characters
 * can be lined up with the file text (plain scalars, quoted scalars without escapes, block
 * scalars, with folding turning line breaks into spaces); otherwise every index maps to the
 * scalar's start. Index `value.length` maps to just after the last character.
 */
export function scalarOffsetMap(scalar: YScalar, text: string): (i: number) => number {
  const value = typeof scalar.value === "string" ? scalar.value : text.slice(scalar.start, scalar.end);
  const offsets = alignScalar(scalar, value, text);
  if (offsets === null) return () => scalar.start;
  return (i) => offsets[Math.max(0, Math.min(i, offsets.length - 1))];
}

/** The text an expression scalar stands for: its string value, or the source of a plain non-string. */
export function scalarText(scalar: YScalar, text: string): string {
  return typeof scalar.value === "string" ? scalar.value : text.slice(scalar.start, scalar.end);
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

function alignScalar(scalar: YScalar, value: string, text: string): number[] | null {
  let p = scalar.start;
  const limit = scalar.end;
  if (scalar.style === "QUOTE_SINGLE" || scalar.style === "QUOTE_DOUBLE") p++;
  else if (scalar.style === "BLOCK_LITERAL" || scalar.style === "BLOCK_FOLDED") {
    while (p < limit && text[p] !== "\n") p++;
    p++;
  }
  if (typeof scalar.value !== "string") {
    return Array.from({ length: value.length + 1 }, (_, i) => scalar.start + i);
  }
  const out: number[] = new Array(value.length + 1);
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (scalar.style === "QUOTE_SINGLE" && c === "'" && text[p] === "'" && text[p + 1] === "'") {
      out[i] = p;
      p += 2;
      continue;
    }
    if (p < limit && text[p] === c) {
      out[i] = p++;
      continue;
    }
    if (isSpace(c) && p < limit && isSpace(text[p])) {
      out[i] = p++;
      continue;
    }
    if (!isSpace(c) && p < limit && isSpace(text[p])) {
      while (p < limit && isSpace(text[p])) p++;
      if (p < limit && text[p] === c) {
        out[i] = p++;
        continue;
      }
    }
    return null;
  }
  out[value.length] = Math.min(p, limit);
  return out;
}
