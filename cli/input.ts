// `aegis eval` input: the bytes of --input or stdin in, the requests they hold out (one JSON
// document, or JSON Lines with line numbers). Kept apart from the command so it is testable alone.

/** One request of the input: its bytes and, for JSON Lines, its 1-based line number. */
export interface InputRequest { bytes: Uint8Array; line: number | null }

/**
 * Split `eval` input into requests. JSON Lines when `forceLines`, or when there are two or more
 * non-empty lines and the first non-empty line parses as JSON on its own; otherwise the whole
 * input is one document. Bytes are passed through untouched: the engine, not this function,
 * validates them (UTF-8, duplicate keys, shape).
 */
export function splitRequests(input: Uint8Array, forceLines = false): InputRequest[] {
  const lines: InputRequest[] = [];
  let start = 0;
  for (let i = 0, line = 1; i <= input.length; i++) {
    if (i === input.length || input[i] === 0x0a) {
      const bytes = input.subarray(start, i);
      if (!isBlank(bytes)) lines.push({ bytes, line });
      start = i + 1;
      line++;
    }
  }
  if (lines.length === 0) return [];
  if (forceLines || (lines.length >= 2 && parsesAlone(lines[0].bytes))) return lines;
  return isBlank(input) ? [] : [{ bytes: input, line: null }];
}

function isBlank(bytes: Uint8Array): boolean {
  // JSON whitespace only (RFC 8259): space, tab, CR, LF.
  return bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a);
}

function parsesAlone(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder().decode(bytes));
    return true;
  } catch {
    return false;
  }
}
