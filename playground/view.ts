// Playground text helpers (pure, no DOM): how the page shows the engine's JSON and maps positions
// between the engine (UTF-8 byte offsets), the compiler (UTF-16 string offsets) and the editors
// (lines and columns). Input: strings and offsets. Output: strings and offsets.

/**
 * `json` (valid JSON text) indented by two spaces per level. Only whitespace between tokens is
 * added or dropped: strings and number spellings stay exactly as the engine wrote them, so
 * removing the added whitespace gives back the same bytes.
 */
export function prettyJson(json: string): string {
  let out = "";
  let depth = 0;
  const newline = (): string => "\n" + "  ".repeat(depth);
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
      out += json.slice(i, j + 1);
      i = j;
    } else if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      let k = i + 1;
      while (k < json.length && isSpace(json[k])) k++;
      if (json[k] === close) {
        out += c + close; // empty: stays on one line
        i = k;
      } else {
        depth++;
        out += c + newline();
      }
    } else if (c === "}" || c === "]") {
      depth--;
      out += newline() + c;
    } else if (c === ",") {
      out += "," + newline();
    } else if (c === ":") {
      out += ": ";
    } else if (!isSpace(c)) {
      out += c;
    }
  }
  return out;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\n" || c === "\r" || c === "\t";
}

/** Where the top-level `"decision"` value sits in prettyJson output (quotes included), or null. */
export function decisionValueRange(pretty: string): { start: number; end: number } | null {
  const match = /^ {2}"decision": ("[a-z_]+")/m.exec(pretty);
  if (match === null) return null;
  const start = match.index + match[0].length - match[1].length;
  return { start, end: start + match[1].length };
}

/**
 * The string index of UTF-8 byte `offset` in `text` (the engine reports request errors in bytes;
 * editors count UTF-16 units). An offset inside a character maps to that character's start;
 * offsets past the end map to the end.
 */
export function utf8OffsetToIndex(text: string, offset: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (bytes + size > offset) return i;
    bytes += size;
    if (c >= 0x10000) i++;
  }
  return text.length;
}

/** The 1-based line of string index `index` in `text` (lines end at `\n`, as in a textarea). */
export function lineOfIndex(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The line holding string index `index`, and a caret line of dots pointing at it, in the form the
 * compiler's formatPolicyError uses (` | text` / ` | ...^`); columns count code points.
 */
export function caretAt(text: string, index: number): string {
  const at = Math.max(0, Math.min(index, text.length));
  const start = at === 0 ? 0 : text.lastIndexOf("\n", at - 1) + 1;
  let end = text.indexOf("\n", at);
  if (end < 0) end = text.length;
  const dots = ".".repeat([...text.slice(start, at)].length);
  return ` | ${text.slice(start, end)}\n | ${dots}^`;
}
