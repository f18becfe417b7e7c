// Reference field checks (TypeScript) for the reference interpreter: isURL / url() parts via
// Node's WHATWG URL parser, isIBAN, isLuhn, isIP, cidr().containsIP() and the egress host rule.
// Input: JS strings. Output: booleans / parts. Exact definitions: docs/field-checks.md; the wasm
// engine (engine/url.ts, engine/checks.ts) must agree (differential tests in engine/checks.test.ts).

const SPECIAL_SCHEMES = new Set(["http:", "https:", "ws:", "wss:", "ftp:", "file:"]);

/** The parts `url()` exposes, or null when the WHATWG parser (no base) fails or the scheme is not special. */
export function urlParts(s: string): { scheme: string; host: string; port: string } | null {
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    return null;
  }
  if (!SPECIAL_SCHEMES.has(parsed.protocol)) return null;
  return { scheme: parsed.protocol.slice(0, -1), host: parsed.hostname, port: parsed.port };
}

/** isURL(s): the WHATWG parser accepts `s` with no base and the scheme is special. */
export function isURL(s: string): boolean {
  return urlParts(s) !== null;
}

/**
 * BBAN formats of the IBAN countries (SWIFT IBAN registry, plus the territories that php-iban lists
 * as official under their own codes), as `CC` then SWIFT format items (`n` digits, `a` upper-case
 * letters, `c` upper-case letters or digits). The same literal sits in engine/checks.ts; a test
 * keeps them identical.
 */
export const IBAN_BBAN_FORMATS =
  "AD4n4n12c AE3n16n AL8n16c AT5n11n AX3n11n AZ4a20c BA3n3n8n2n BE3n7n2n BG4a4n2n8c BH4a14c " +
  "BI5n5n11n2n BL5n5n11c2n BR8n5n10n1a1c BY4c4n16c CH5n12c CG5n5n11n2n CR4n14n CY3n5n16c CZ4n6n10n DE8n10n " +
  "DJ5n5n11n2n DK4n9n1n DO4c20n EE2n2n11n1n EG4n4n17n ES4n4n1n1n10n FI3n11n FK2a12n FO4n9n1n " +
  "FR5n5n11c2n GB4a6n8n GE2a16n GF5n5n11c2n GI4a15c GL4n9n1n GP5n5n11c2n GR3n4n16c GT4c20c " +
  "HR7n10n HU3n4n1n15n1n IE4a6n8n IL3n3n13n IQ4a3n12n IS4n2n6n10n IT1a5n5n12c JO4a4n18c " +
  "KW4a22c KZ3n13c LB4n20c LC4a24c LI5n12c LT5n11n LU3n13c LV4a13c LY3n3n15n MC5n5n11c2n " +
  "MD2c18c ME3n13n2n MF5n5n11c2n MK3n10c2n MN4n12n MQ5n5n11c2n MR5n5n11n2n MT4a5n18c " +
  "MU4a2n2n12n3n3a NC5n5n11c2n NI4a20n NL4a10n NO4n6n1n OM3n16c PF5n5n11c2n PK4a16c PL8n16n " +
  "PM5n5n11c2n PS4a21c PT4n4n11n2n QA4a21c RE5n5n11c2n RO4a16c RS3n13n2n RU9n5n15c SA2n18c " +
  "SC4a2n2n16n3a SD2n12n SE3n16n1n SI5n8n2n SK4n6n10n SM1a5n5n12c SO4n3n12n ST4n4n11n2n " +
  "SV4a20n TF5n5n11c2n TL3n14n2n TN2n3n13n2n TR5n1n16c UA6n19c VA3n15n VG4a16n WF5n5n11c2n " +
  "XK4n10n2n YE4a4n18c YT5n5n11c2n";

function bbanRegex(format: string): RegExp {
  const items = format.match(/\d+[nac]/g) ?? [];
  const cls: Record<string, string> = { n: "[0-9]", a: "[A-Z]", c: "[A-Z0-9]" };
  return new RegExp("^" + items.map((item) => `${cls[item.slice(-1)]}{${item.slice(0, -1)}}`).join("") + "$");
}

const IBAN_COUNTRIES = new Map<string, RegExp>(
  IBAN_BBAN_FORMATS.split(" ").map((entry) => [entry.slice(0, 2), bbanRegex(entry.slice(2))]),
);

/**
 * isIBAN(s): remove every ` `, `-` and `.`, upper-case ASCII letters (python-stdnum's compact),
 * then: a known country code, two check digits, a BBAN matching that country's format (so the
 * length is the country's), and ISO 7064 mod 97-10 of the rearranged number equal to 1.
 */
export function isIBAN(s: string): boolean {
  const iban = s.replace(/[ .\-]/g, "").replace(/[a-z]/g, (c) => c.toUpperCase());
  const bban = IBAN_COUNTRIES.get(iban.slice(0, 2));
  if (!bban || !/^[0-9]{2}$/.test(iban.slice(2, 4)) || !bban.test(iban.slice(4))) return false;
  let rest = 0;
  for (const ch of iban.slice(4) + iban.slice(0, 4)) {
    const v = parseInt(ch, 36);
    rest = v < 10 ? (rest * 10 + v) % 97 : (rest * 100 + v) % 97;
  }
  return rest === 1;
}

/** isLuhn(s): at least 2 characters, all ASCII digits, Luhn checksum 0 (no separators removed). */
export function isLuhn(s: string): boolean {
  if (!/^[0-9]{2,}$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let d = s.charCodeAt(s.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * An address as 4 or 16 bytes, or null (Go netip.ParseAddr rules, zones rejected). IPv4-mapped
 * IPv6 addresses (netip's Is4In6: `::ffff:a.b.c.d` in any spelling) are rejected, as Kubernetes
 * CEL's IP library does: accepted, `::ffff:10.0.0.1` would slip past a deny rule on `10.0.0.0/8`.
 */
export function parseIP(s: string): Uint8Array | null {
  for (const ch of s) {
    if (ch === ".") return parseIPv4(s);
    if (ch === ":") {
      const v6 = parseIPv6(s);
      return v6 && !isIPv4Mapped(v6) ? v6 : null;
    }
    if (ch === "%") return null;
  }
  return null;
}

/** Go netip's Is4In6 on 16 address bytes: ten zero bytes, then 0xff 0xff. */
function isIPv4Mapped(a: Uint8Array): boolean {
  return a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
}

/** Strict dotted quad: 4 decimal fields 0-255, no leading zeros, nothing else. */
function parseIPv4(s: string): Uint8Array | null {
  const fields = s.split(".");
  if (fields.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const f = fields[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(f) || Number(f) > 255) return null;
    out[i] = Number(f);
  }
  return out;
}

/** RFC 4291 text forms as Go netip reads them: 1-4 hex digits per group, one `::`, embedded IPv4 last. */
function parseIPv6(s: string): Uint8Array | null {
  if (s.includes("%")) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIPv4(item);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) out.push(parseInt(item, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  // An embedded IPv4 may only end the address.
  if (halves.length === 2 && halves[0].includes(".")) return null;
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return null;
  const all = [...head, ...new Array(8 - count).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

/** isIP(s): strict IPv4 dotted quad or IPv6 text form (embedded IPv4 allowed, no zone, not IPv4-mapped). */
export function isIP(s: string): boolean {
  return parseIP(s) !== null;
}

/**
 * cidr(c).containsIP(ip): `c` is `addr/len` (len decimal without leading zeros, at most 32 or 128;
 * host bits may be set). An IPv4 address is never inside an IPv6 prefix and vice versa. An
 * IPv4-mapped IPv6 address is invalid on either side (`invalid_cidr` / `invalid_ip`), as in
 * Kubernetes CEL.
 */
export function cidrContains(c: string, ip: string): boolean | "invalid_cidr" | "invalid_ip" {
  const slash = c.lastIndexOf("/");
  if (slash < 0) return "invalid_cidr";
  const net = parseIP(c.slice(0, slash));
  const bitsText = c.slice(slash + 1);
  if (!net || !/^(0|[1-9][0-9]{0,2})$/.test(bitsText)) return "invalid_cidr";
  const bits = Number(bitsText);
  if (bits > net.length * 8) return "invalid_cidr";
  const addr = parseIP(ip);
  if (!addr) return "invalid_ip";
  if (addr.length !== net.length) return false;
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i & 7);
    if ((addr[i >> 3] & mask) !== (net[i >> 3] & mask)) return false;
  }
  return true;
}

function lowerAsciiWithoutTrailingDot(s: string): string {
  const t = s.endsWith(".") ? s.slice(0, -1) : s;
  return t.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

/** True when `host` (a WHATWG-serialized host) is an IPv4 or IPv6 literal. */
function isIpHost(host: string): boolean {
  return host.startsWith("[") || /(^|\.)[0-9]+$/.test(host);
}

/**
 * Egress allowlist: after ASCII lower-casing both sides and stripping one trailing `.` from each,
 * `host` equals a non-wildcard entry, or (wildcard entry `*.suffix`, given as `suffix`) `host` ends
 * with `.suffix` and is longer than that (a strict subdomain). Wildcards never match IP literals.
 */
export function hostAllowed(host: string, entries: { host: string; wildcard: boolean }[]): boolean {
  const h = lowerAsciiWithoutTrailingDot(host);
  for (const entry of entries) {
    const e = lowerAsciiWithoutTrailingDot(entry.host);
    if (!entry.wildcard) {
      if (h === e) return true;
    } else if (e !== "" && !isIpHost(h) && h.length > e.length + 1 && h.endsWith("." + e)) {
      return true;
    }
  }
  return false;
}
