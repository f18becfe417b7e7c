// Field checks for the VM (AssemblyScript): isIBAN, isLuhn, isIP and cidr().containsIP() over
// UTF-8 bytes in memory. Input: (address, length) pairs. Output: bool / i32 results; scratch bytes
// come from the arena. Exact definitions: docs/field-checks.md; the TypeScript reference
// (compiler/reference/checks.ts) is the executable spec these are tested against.
// INVARIANT: every read is inside [p, p + n); no input can trap or loop without progress.

import { arenaAlloc } from "./arena";

/**
 * BBAN formats per IBAN country: `CC` then items `<count><n|a|c>`. Must stay identical to
 * IBAN_BBAN_FORMATS in compiler/reference/checks.ts (a test compares the two literals). One
 * literal continued with `\` across lines: AssemblyScript does not fold `"a" + "b"`, and would
 * keep every piece in the binary and join them at run time.
 */
const IBAN_BBAN_FORMATS = "AD4n4n12c AE3n16n AL8n16c AT5n11n AX3n11n AZ4a20c BA3n3n8n2n BE3n7n2n BG4a4n2n8c BH4a14c \
BI5n5n11n2n BL5n5n11c2n BR8n5n10n1a1c BY4c4n16c CH5n12c CG5n5n11n2n CR4n14n CY3n5n16c CZ4n6n10n DE8n10n \
DJ5n5n11n2n DK4n9n1n DO4c20n EE2n2n11n1n EG4n4n17n ES4n4n1n1n10n FI3n11n FK2a12n FO4n9n1n \
FR5n5n11c2n GB4a6n8n GE2a16n GF5n5n11c2n GI4a15c GL4n9n1n GP5n5n11c2n GR3n4n16c GT4c20c \
HR7n10n HU3n4n1n15n1n IE4a6n8n IL3n3n13n IQ4a3n12n IS4n2n6n10n IT1a5n5n12c JO4a4n18c \
KW4a22c KZ3n13c LB4n20c LC4a24c LI5n12c LT5n11n LU3n13c LV4a13c LY3n3n15n MC5n5n11c2n \
MD2c18c ME3n13n2n MF5n5n11c2n MK3n10c2n MN4n12n MQ5n5n11c2n MR5n5n11n2n MT4a5n18c \
MU4a2n2n12n3n3a NC5n5n11c2n NI4a20n NL4a10n NO4n6n1n OM3n16c PF5n5n11c2n PK4a16c PL8n16n \
PM5n5n11c2n PS4a21c PT4n4n11n2n QA4a21c RE5n5n11c2n RO4a16c RS3n13n2n RU9n5n15c SA2n18c \
SC4a2n2n16n3a SD2n12n SE3n16n1n SI5n8n2n SK4n6n10n SM1a5n5n12c SO4n3n12n ST4n4n11n2n \
SV4a20n TF5n5n11c2n TL3n14n2n TN2n3n13n2n TR5n1n16c UA6n19c VA3n15n VG4a16n WF5n5n11c2n \
XK4n10n2n YE4a4n18c YT5n5n11c2n";

@inline function isDigit(c: u32): bool { return c - 0x30 < 10; }
@inline function isUpper(c: u32): bool { return c - 0x41 < 26; }

/** Code unit `i` of IBAN_BBAN_FORMATS, read straight from its static data (no bounds check: callers stay inside). */
@inline function formatAt(i: i32): u32 {
  return <u32>load<u16>(changetype<usize>(IBAN_BBAN_FORMATS) + (<usize>i << 1));
}

/** Start of each country's format items, indexed by (a - 'A') * 26 + (b - 'A'); -1 for none. Built once. */
const COUNTRY_FORMAT_START = new StaticArray<i16>(26 * 26);
let countryIndexBuilt = false;

function buildCountryIndex(): void {
  for (let k = 0; k < 26 * 26; k++) unchecked(COUNTRY_FORMAT_START[k] = -1);
  const n = IBAN_BBAN_FORMATS.length;
  let i = 0;
  while (i + 1 < n) {
    const a = formatAt(i) - 0x41, b = formatAt(i + 1) - 0x41;
    if (a < 26 && b < 26) unchecked(COUNTRY_FORMAT_START[a * 26 + b] = <i16>(i + 2));
    while (i < n && formatAt(i) != 0x20) i++;
    i++;
  }
  countryIndexBuilt = true;
}

/** Index in IBAN_BBAN_FORMATS of the first format item for country `a b` (upper-case letters), or -1. */
function ibanFormatStart(a: u32, b: u32): i32 {
  if (!countryIndexBuilt) buildCountryIndex();
  return <i32>unchecked(COUNTRY_FORMAT_START[(a - 0x41) * 26 + (b - 0x41)]);
}

/**
 * isIBAN: drop ` `, `-`, `.`, upper-case ASCII; then known country, 2 check digits, BBAN matching
 * the country's format (hence its length), and mod 97-10 of the rearranged number equal to 1.
 */
export function isIban(p: usize, n: u32): bool {
  if (n > 4096) return false; // far beyond any IBAN even with separators; bounds the scratch copy
  const buf = arenaAlloc(<usize>n + 1);
  let len: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    if (c == 0x20 || c == 0x2d || c == 0x2e) continue;
    if (c - 0x61 < 26) c -= 0x20;
    store<u8>(buf + len, <u8>c);
    len++;
  }
  if (len < 5 || len > 34) return false;
  const a = <u32>load<u8>(buf), b = <u32>load<u8>(buf + 1);
  if (!isUpper(a) || !isUpper(b)) return false;
  if (!isDigit(<u32>load<u8>(buf + 2)) || !isDigit(<u32>load<u8>(buf + 3))) return false;
  const start = ibanFormatStart(a, b);
  if (start < 0) return false;
  // Walk the format items against the BBAN.
  const end = IBAN_BBAN_FORMATS.length;
  let pos: u32 = 4;
  let t = start;
  while (t < end && formatAt(t) != 0x20) {
    let count: u32 = 0;
    while (t < end && isDigit(formatAt(t))) { count = count * 10 + formatAt(t) - 0x30; t++; }
    if (t >= end) return false;
    const kind = formatAt(t);
    t++;
    for (let k: u32 = 0; k < count; k++) {
      if (pos >= len) return false;
      const c = <u32>load<u8>(buf + pos);
      pos++;
      if (kind == 0x6e) { if (!isDigit(c)) return false; }
      else if (kind == 0x61) { if (!isUpper(c)) return false; }
      else if (!isDigit(c) && !isUpper(c)) return false;
    }
  }
  if (pos != len) return false;
  // ISO 7064 mod 97-10 over BBAN then country and check digits, letters as 10..35.
  let rest: u32 = 0;
  for (let k: u32 = 0; k < len; k++) {
    const c = <u32>load<u8>(buf + ((k + 4) % len));
    if (isDigit(c)) rest = (rest * 10 + c - 0x30) % 97;
    else rest = (rest * 100 + c - 0x41 + 10) % 97;
  }
  return rest == 1;
}

/** isLuhn: at least 2 bytes, all ASCII digits, Luhn checksum 0. */
export function isLuhn(p: usize, n: u32): bool {
  if (n < 2) return false;
  let sum: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const c = <u32>load<u8>(p + n - 1 - i);
    if (!isDigit(c)) return false;
    let d = c - 0x30;
    if (i & 1) { d <<= 1; if (d > 9) d -= 9; }
    sum = (sum + d) % 10;
  }
  return sum == 0;
}

/** Strict dotted quad in [p, p+n) into 4 bytes at out; false on any deviation (Go netip rules). */
function parseIpv4(p: usize, n: u32, out: usize): bool {
  let field: u32 = 0;
  let value: u32 = 0;
  let digits: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const c = <u32>load<u8>(p + i);
    if (isDigit(c)) {
      if (digits == 1 && value == 0) return false; // leading zero
      value = value * 10 + c - 0x30;
      digits++;
      if (value > 255) return false;
    } else if (c == 0x2e) {
      if (digits == 0 || field == 3) return false;
      store<u8>(out + field, <u8>value);
      field++;
      value = 0;
      digits = 0;
    } else return false;
  }
  if (field != 3 || digits == 0) return false;
  store<u8>(out + 3, <u8>value);
  return true;
}

@inline function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  if (c - 0x61 < 6) return <i32>(c - 0x61 + 10);
  if (c - 0x41 < 6) return <i32>(c - 0x41 + 10);
  return -1;
}

/** IPv6 text form (RFC 4291 as Go netip reads it, no zone) in [p, p+n) into 16 bytes at out. */
function parseIpv6(p: usize, n: u32, out: usize): bool {
  memory.fill(out, 0, 16);
  let i: u32 = 0;      // bytes of out filled
  let s: u32 = 0;      // read position
  let ellipsis: i32 = -1;
  if (n >= 2 && load<u8>(p) == 0x3a && load<u8>(p + 1) == 0x3a) {
    ellipsis = 0;
    s = 2;
    if (s == n) return true;
  }
  while (i < 16) {
    let off: u32 = 0;
    let acc: u32 = 0;
    while (s + off < n) {
      const h = hexValue(<u32>load<u8>(p + s + off));
      if (h < 0) break;
      if (off > 3) return false;
      acc = (acc << 4) + <u32>h;
      off++;
    }
    if (off == 0) return false;
    if (s + off < n && load<u8>(p + s + off) == 0x2e) {
      if (ellipsis < 0 && i != 12) return false;
      if (i + 4 > 16) return false;
      if (!parseIpv4(p + s, n - s, out + i)) return false;
      s = n;
      i += 4;
      break;
    }
    store<u8>(out + i, <u8>(acc >> 8));
    store<u8>(out + i + 1, <u8>acc);
    i += 2;
    s += off;
    if (s == n) break;
    if (load<u8>(p + s) != 0x3a || s + 1 == n) return false;
    s++;
    if (load<u8>(p + s) == 0x3a) {
      if (ellipsis >= 0) return false;
      ellipsis = <i32>i;
      s++;
      if (s == n) break;
    }
  }
  if (s != n) return false;
  if (i < 16) {
    if (ellipsis < 0) return false;
    const gap = 16 - i;
    for (let j = <i32>i - 1; j >= ellipsis; j--) store<u8>(out + <usize>(j + <i32>gap), load<u8>(out + <usize>j));
    memory.fill(out + <usize>ellipsis, 0, gap);
  } else if (ellipsis >= 0) return false; // `::` must stand for at least one group
  return true;
}

/** Go netip's Is4In6: the 16 bytes at a are `::ffff:a.b.c.d` (an IPv4-mapped IPv6 address). */
function isIpv4Mapped(a: usize): bool {
  for (let i: usize = 0; i < 10; i++) if (load<u8>(a + i) != 0) return false;
  return load<u8>(a + 10) == 0xff && load<u8>(a + 11) == 0xff;
}

/**
 * Parse an address into out (16 bytes); returns 4 or 16 (its size), or 0 when invalid. An
 * IPv4-mapped IPv6 address is invalid, as in Kubernetes CEL: accepted, it would slip past a deny
 * rule on the IPv4 range it spells (`::ffff:10.0.0.1` is not in `10.0.0.0/8`).
 */
function parseIp(p: usize, n: u32, out: usize): u32 {
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(p + i);
    if (c == 0x2e) return parseIpv4(p, n, out) ? 4 : 0;
    if (c == 0x3a) return parseIpv6(p, n, out) && !isIpv4Mapped(out) ? 16 : 0;
    if (c == 0x25) return 0;
  }
  return 0;
}

/** isIP: strict IPv4 dotted quad or IPv6 text form (embedded IPv4 allowed, no zone, not IPv4-mapped). */
export function isIp(p: usize, n: u32): bool {
  const out = arenaAlloc(16);
  return parseIp(p, n, out) != 0;
}

/**
 * cidr(c).containsIP(ip): 1 contained, 0 not contained or different families, -1 invalid cidr,
 * -2 invalid ip. The cidr is `addr/len` (len: `0` or decimal without leading zeros, at most the
 * family's width); host bits may be set. An IPv4-mapped IPv6 address makes the cidr or the ip
 * invalid (see parseIp).
 */
export function cidrContains(cidrPtr: usize, cidrLen: u32, ipPtr: usize, ipLen: u32): i32 {
  let slash: i32 = -1;
  for (let i = <i32>cidrLen - 1; i >= 0; i--) {
    if (load<u8>(cidrPtr + <usize>i) == 0x2f) { slash = i; break; }
  }
  if (slash < 0) return -1;
  const net = arenaAlloc(32);
  const addr = net + 16;
  const netSize = parseIp(cidrPtr, <u32>slash, net);
  if (netSize == 0) return -1;
  const bitsStart = <u32>slash + 1;
  const bitsLen = cidrLen - bitsStart;
  if (bitsLen == 0 || bitsLen > 3) return -1;
  if (bitsLen > 1 && load<u8>(cidrPtr + bitsStart) == 0x30) return -1;
  let bits: u32 = 0;
  for (let i: u32 = 0; i < bitsLen; i++) {
    const c = <u32>load<u8>(cidrPtr + bitsStart + i);
    if (!isDigit(c)) return -1;
    bits = bits * 10 + c - 0x30;
  }
  if (bits > netSize * 8) return -1;
  const addrSize = parseIp(ipPtr, ipLen, addr);
  if (addrSize == 0) return -2;
  if (addrSize != netSize) return 0;
  for (let i: u32 = 0; i < bits; i++) {
    const mask = <u32>0x80 >> (i & 7);
    if (((<u32>load<u8>(addr + (i >> 3)) ^ <u32>load<u8>(net + (i >> 3))) & mask) != 0) return 0;
  }
  return 1;
}
