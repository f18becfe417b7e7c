// Host name normalisation for `egress.allow_domains` (check stage), without Node-only APIs so the
// compiler also runs in browsers (the playground). Input: a host as written. Output: its ASCII
// serialisation as the WHATWG URL host parser gives it (UTS #46 ToASCII, IPv4 and IPv6 forms), or
// "" when it is not a valid host: the contract of Node's `url.domainToASCII`.
//
// Node's domainToASCII is the `hostname` setter of a `ws://x` URL in ada (Node's URL parser), and
// Node's global URL is ada as well, so in Node this gives the same strings by construction
// (domain.test.ts checks it against node:url). Elsewhere the platform's URL parser answers, with
// two checks added that are no-ops in Node but close the widest gaps of Chromium's parser, which
// escapes forbidden characters instead of rejecting them and does not validate `xn--` labels.
// What still differs in Chromium (Unicode version details) is measured in docs/playground.md.

/** The `hostname` setter's result for `input` on a special URL, or "" when the setter rejects it. */
function setterHostname(input: string): string {
  // The setter leaves the host unchanged when it rejects the input: two URLs with different hosts
  // tell a rejection apart from an input that happens to parse to the first URL's own host.
  const first = new URL("ws://a");
  const second = new URL("ws://b");
  first.hostname = input;
  second.hostname = input;
  return first.hostname === second.hostname ? first.hostname : "";
}

/**
 * `input` parsed as the host of a special URL and serialised, or "" when the host parser rejects
 * it. Like the `hostname` setter it reads only up to the first `/`, `?`, `#` or `\`.
 */
export function domainToASCII(input: string): string {
  if (input === "") return "";
  const host = setterHostname(input);
  // "%" is a forbidden host code point once the host is percent-decoded: a serialised host holds
  // one only where a lenient parser escaped a forbidden character instead of rejecting the host.
  if (host === "" || host.includes("%")) return "";
  // An `xn--` label must decode (RFC 3492) to a valid label (UTS #46), which the parser maps to
  // itself: it encodes back to the same label, or is that label's all-ASCII payload. A payload that
  // itself starts with `xn--` cannot be checked this way and is left to the platform's parser.
  for (const label of host.split(".")) {
    if (!label.startsWith("xn--")) continue;
    const unicode = punycodeDecode(label.slice(4));
    if (unicode === null || unicode === "") return "";
    if (unicode.startsWith("xn--")) continue;
    const again = setterHostname(unicode);
    if (again !== label && again !== unicode) return "";
  }
  return host;
}

const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const MAX_INT = 0x7fffffff;

function adapt(delta: number, points: number, first: boolean): number {
  delta = first ? Math.floor(delta / 700) : delta >> 1;
  delta += Math.floor(delta / points);
  let k = 0;
  for (; delta > ((BASE - T_MIN) * T_MAX) >> 1; k += BASE) delta = Math.floor(delta / (BASE - T_MIN));
  return k + Math.floor(((BASE - T_MIN + 1) * delta) / (delta + 38));
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 22; // 0-9 are 26-35
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61;
  return BASE;
}

/** RFC 3492 Punycode decoding of one label's payload (after `xn--`); null when it is malformed. */
export function punycodeDecode(input: string): string | null {
  const output: number[] = [];
  const delimiter = input.lastIndexOf("-");
  for (let j = 0; j < delimiter; j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) return null;
    output.push(c);
  }
  let n = 0x80;
  let i = 0;
  let bias = 72;
  for (let at = delimiter > 0 ? delimiter + 1 : 0; at < input.length;) {
    const oldI = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (at >= input.length) return null;
      const digit = digitValue(input.charCodeAt(at++));
      if (digit >= BASE || digit > Math.floor((MAX_INT - i) / w)) return null;
      i += digit * w;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      if (w > Math.floor(MAX_INT / (BASE - t))) return null;
      w *= BASE - t;
    }
    const points = output.length + 1;
    bias = adapt(i - oldI, points, oldI === 0);
    if (Math.floor(i / points) > MAX_INT - n) return null;
    n += Math.floor(i / points);
    i %= points;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return null;
    output.splice(i++, 0, n);
  }
  return String.fromCodePoint(...output);
}
