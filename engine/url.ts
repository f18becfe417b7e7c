// URL parsing for isURL / url() (AssemblyScript): the WHATWG URL Standard's basic URL parser with
// no base, limited to what decides success and the scheme, host and port of a special-scheme URL
// (paths, queries and fragments cannot make a special URL fail, so they are not parsed).
// Input: UTF-8 bytes. Output: true and the parts (urlScheme*, urlHost*, urlPort*, in arena
// memory) when parsing succeeds and the scheme is special; false otherwise. Never traps.
//
//   input ─ strip C0/space ends, drop tab/LF/CR ─ scheme ─ (file: file host | else: skip slashes,
//   authority: last `@` ends userinfo) ─ host:port ─ host parser (IPv6 | percent-decode, IDNA,
//   forbidden code points, IPv4 when it ends in a number)

import { arenaAlloc } from "./arena";
import { domainToAscii, idnaOutLen, idnaOutPtr } from "./idna";

let schemePtr: usize = 0;
let schemeLen: u32 = 0;
let hostPtr: usize = 0;
let hostLen: u32 = 0;
let portPtr: usize = 0;
let portLen: u32 = 0;

/** Scheme of the last successful urlParse, without `:`. */
export function urlSchemePtr(): usize { return schemePtr; }
export function urlSchemeLen(): u32 { return schemeLen; }
/** Serialized host (as `new URL(x).hostname`) of the last successful urlParse. */
export function urlHostPtr(): usize { return hostPtr; }
export function urlHostLen(): u32 { return hostLen; }
/** Port in decimal of the last successful urlParse; empty when absent or the scheme's default. */
export function urlPortPtr(): usize { return portPtr; }
export function urlPortLen(): u32 { return portLen; }

@inline function at(p: usize, i: u32): u32 { return <u32>load<u8>(p + i); }
@inline function isAlpha(c: u32): bool { return (c | 0x20) - 0x61 < 26; }
@inline function isDigit(c: u32): bool { return c - 0x30 < 10; }

function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Bytes equal the ASCII literal `s` (lower-case letters compared case-sensitively). */
function bytesEqual(p: usize, n: u32, s: string): bool {
  if (<i32>n != s.length) return false;
  for (let i: u32 = 0; i < n; i++) if (at(p, i) != <u32>s.charCodeAt(i)) return false;
  return true;
}

/** Default port of a special scheme (0 for file, which has none). */
function defaultPort(p: usize, n: u32): i32 {
  if (bytesEqual(p, n, "http") || bytesEqual(p, n, "ws")) return 80;
  if (bytesEqual(p, n, "https") || bytesEqual(p, n, "wss")) return 443;
  if (bytesEqual(p, n, "ftp")) return 21;
  return -1;
}

@inline function isSlash(c: u32): bool { return c == 0x2f || c == 0x5c; }

function isSpecial(p: usize, n: u32): bool {
  return defaultPort(p, n) >= 0 || bytesEqual(p, n, "file");
}

/** Forbidden host code point (URL Standard). */
function isForbiddenHost(c: u32): bool {
  return c == 0 || c == 0x09 || c == 0x0a || c == 0x0d || c == 0x20 || c == 0x23 || c == 0x2f || c == 0x3a ||
    c == 0x3c || c == 0x3e || c == 0x3f || c == 0x40 || c == 0x5b || c == 0x5c || c == 0x5d || c == 0x5e || c == 0x7c;
}

/** Forbidden domain code point: forbidden host, C0 control, `%`, DEL. */
function isForbiddenDomain(c: u32): bool {
  return isForbiddenHost(c) || c <= 0x1f || c == 0x25 || c == 0x7f;
}

// ---- IPv4 -------------------------------------------------------------------------------------

/** Value of one IPv4 part (decimal, 0x hex, 0 octal), saturated at 2^33; -1 when not a number. */
function ipv4Number(p: usize, n: u32): i64 {
  if (n == 0) return -1;
  let radix: u32 = 10;
  let i: u32 = 0;
  if (n >= 2 && at(p, 0) == 0x30 && (at(p, 1) | 0x20) == 0x78) { radix = 16; i = 2; }
  else if (n >= 2 && at(p, 0) == 0x30) { radix = 8; i = 1; }
  let v: i64 = 0;
  for (; i < n; i++) {
    const d = hexValue(at(p, i));
    if (d < 0 || <u32>d >= radix) return -1;
    v = v * radix + d;
    if (v > 0x200000000) v = 0x200000000; // saturate: anything this big fails the range checks
  }
  return v;
}

/** The "ends in a number" checker on the ASCII domain [p, p+n). */
function endsInNumber(p: usize, n: u32): bool {
  let end = n;
  if (end > 0 && at(p, end - 1) == 0x2e) {
    if (end == 1) return false;
    end--;
  }
  let start = end;
  while (start > 0 && at(p, start - 1) != 0x2e) start--;
  if (start == end) return false;
  let allDigits = true;
  for (let i = start; i < end; i++) if (!isDigit(at(p, i))) { allDigits = false; break; }
  if (allDigits) return true;
  return ipv4Number(p + start, end - start) >= 0;
}

/** IPv4 parser on [p, p+n); the address or -1 on failure. */
function parseIpv4(p: usize, n: u32): i64 {
  let end = n;
  if (end > 0 && at(p, end - 1) == 0x2e && end > 1) end--; // one trailing dot is allowed
  let parts: i32 = 1;
  for (let i: u32 = 0; i < end; i++) if (at(p, i) == 0x2e) parts++;
  if (parts > 4) return -1;
  let result: i64 = 0;
  let start: u32 = 0;
  let index = 0;
  for (let i: u32 = 0; i <= end; i++) {
    if (i < end && at(p, i) != 0x2e) continue;
    const v = ipv4Number(p + start, i - start);
    if (v < 0) return -1;
    if (index < parts - 1) {
      if (v > 255) return -1;
      result |= v << (8 * (3 - index));
    } else {
      const limit: i64 = <i64>1 << (8 * (5 - parts));
      if (v >= limit) return -1;
      result += v;
    }
    index++;
    start = i + 1;
  }
  return result;
}

function writeIpv4(v: i64): void {
  const dst = arenaAlloc(16);
  let len: u32 = 0;
  for (let k = 3; k >= 0; k--) {
    const b = <u32>((v >> (8 * k)) & 255);
    if (b >= 100) { store<u8>(dst + len, <u8>(0x30 + b / 100)); len++; }
    if (b >= 10) { store<u8>(dst + len, <u8>(0x30 + (b / 10) % 10)); len++; }
    store<u8>(dst + len, <u8>(0x30 + b % 10)); len++;
    if (k > 0) { store<u8>(dst + len, 0x2e); len++; }
  }
  hostPtr = dst;
  hostLen = len;
}

// ---- IPv6 -------------------------------------------------------------------------------------

/** URL Standard IPv6 parser on [p, p+n) into 8 u16 pieces at out. */
function parseIpv6(p: usize, n: u32, out: usize): bool {
  memory.fill(out, 0, 16);
  let piece: i32 = 0;
  let compress: i32 = -1;
  let i: u32 = 0;
  if (n > 0 && at(p, 0) == 0x3a) {
    if (n < 2 || at(p, 1) != 0x3a) return false;
    i = 2;
    piece = 1;
    compress = 1;
  }
  while (i < n) {
    if (piece == 8) return false;
    if (at(p, i) == 0x3a) {
      if (compress >= 0) return false;
      i++;
      piece++;
      compress = piece;
      continue;
    }
    let value: u32 = 0;
    let length: u32 = 0;
    while (length < 4 && i < n && hexValue(at(p, i)) >= 0) {
      value = value * 16 + <u32>hexValue(at(p, i));
      i++;
      length++;
    }
    if (i < n && at(p, i) == 0x2e) {
      if (length == 0) return false;
      i -= length;
      if (piece > 6) return false;
      let numbersSeen = 0;
      while (i < n) {
        let ipv4Piece: i32 = -1;
        if (numbersSeen > 0) {
          if (at(p, i) == 0x2e && numbersSeen < 4) i++;
          else return false;
        }
        if (i >= n || !isDigit(at(p, i))) return false;
        while (i < n && isDigit(at(p, i))) {
          const number = <i32>(at(p, i) - 0x30);
          if (ipv4Piece < 0) ipv4Piece = number;
          else if (ipv4Piece == 0) return false;
          else ipv4Piece = ipv4Piece * 10 + number;
          if (ipv4Piece > 255) return false;
          i++;
        }
        const slot = out + (<usize>piece << 1);
        store<u16>(slot, <u16>((<u32>load<u16>(slot) << 8) | <u32>ipv4Piece));
        numbersSeen++;
        if (numbersSeen == 2 || numbersSeen == 4) piece++;
      }
      if (numbersSeen != 4) return false;
      break;
    } else if (i < n && at(p, i) == 0x3a) {
      i++;
      if (i >= n) return false;
    } else if (i < n) return false;
    store<u16>(out + (<usize>piece << 1), <u16>value);
    piece++;
  }
  if (compress >= 0) {
    let swaps = piece - compress;
    piece = 7;
    while (piece != 0 && swaps > 0) {
      const a = out + (<usize>piece << 1);
      const b = out + (<usize>(compress + swaps - 1) << 1);
      const t = load<u16>(a);
      store<u16>(a, load<u16>(b));
      store<u16>(b, t);
      piece--;
      swaps--;
    }
  } else if (piece != 8) return false;
  return true;
}

function writeIpv6(pieces: usize): void {
  // First longest run of two or more zero pieces is compressed.
  let bestStart = -1, bestLen = 1;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    const zero = i < 8 && load<u16>(pieces + (<usize>i << 1)) == 0;
    if (zero) { if (runStart < 0) runStart = i; }
    else if (runStart >= 0) {
      if (i - runStart > bestLen) { bestStart = runStart; bestLen = i - runStart; }
      runStart = -1;
    }
  }
  const dst = arenaAlloc(48);
  let len: u32 = 0;
  store<u8>(dst, 0x5b); len++;
  let ignore0 = false;
  for (let i = 0; i < 8; i++) {
    if (ignore0 && load<u16>(pieces + (<usize>i << 1)) == 0) continue;
    ignore0 = false;
    if (i == bestStart) {
      store<u8>(dst + len, 0x3a); len++;
      if (i == 0) { store<u8>(dst + len, 0x3a); len++; }
      ignore0 = true;
      continue;
    }
    const v = <u32>load<u16>(pieces + (<usize>i << 1));
    let started = false;
    for (let s = 12; s >= 0; s -= 4) {
      const d = (v >> s) & 15;
      if (d != 0 || started || s == 0) {
        store<u8>(dst + len, <u8>(d < 10 ? 0x30 + d : 0x57 + d)); len++;
        started = true;
      }
    }
    if (i != 7) { store<u8>(dst + len, 0x3a); len++; }
  }
  store<u8>(dst + len, 0x5d); len++;
  hostPtr = dst;
  hostLen = len;
}

// ---- host parser ------------------------------------------------------------------------------

/** Host parser for special schemes on [p, p+n) (non-empty); sets hostPtr/hostLen. */
function parseHost(p: usize, n: u32): bool {
  if (at(p, 0) == 0x5b) {
    if (n < 2 || at(p, n - 1) != 0x5d) return false;
    const pieces = arenaAlloc(16);
    if (!parseIpv6(p + 1, n - 2, pieces)) return false;
    writeIpv6(pieces);
    return true;
  }
  // Percent-decode.
  const decoded = arenaAlloc(<usize>n + 1);
  let d: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const c = at(p, i);
    if (c == 0x25 && i + 2 < n && hexValue(at(p, i + 1)) >= 0 && hexValue(at(p, i + 2)) >= 0) {
      store<u8>(decoded + d, <u8>((hexValue(at(p, i + 1)) << 4) | hexValue(at(p, i + 2))));
      i += 2;
    } else store<u8>(decoded + d, <u8>c);
    d++;
  }
  if (!domainToAscii(decoded, d)) return false;
  const ascii = idnaOutPtr();
  const len = idnaOutLen();
  for (let i: u32 = 0; i < len; i++) if (isForbiddenDomain(at(ascii, i))) return false;
  if (endsInNumber(ascii, len)) {
    const v = parseIpv4(ascii, len);
    if (v < 0) return false;
    writeIpv4(v);
    return true;
  }
  hostPtr = ascii;
  hostLen = len;
  return true;
}

// ---- the parser -------------------------------------------------------------------------------

/**
 * Parse the UTF-8 bytes [s, s+len) as a URL with no base. True only when parsing succeeds and the
 * scheme is special (http, https, ws, wss, ftp, file); then the url* accessors give the parts.
 */
export function urlParse(s: usize, len: u32): bool {
  schemeLen = 0; hostLen = 0; portLen = 0;
  // Strip leading and trailing C0 control or space, then remove every tab, LF and CR.
  let start: u32 = 0, end = len;
  while (start < end && at(s, start) <= 0x20) start++;
  while (end > start && at(s, end - 1) <= 0x20) end--;
  const buf = arenaAlloc(<usize>(end - start) + 1);
  let n: u32 = 0;
  for (let i = start; i < end; i++) {
    const c = at(s, i);
    if (c == 0x09 || c == 0x0a || c == 0x0d) continue;
    store<u8>(buf + n, <u8>c);
    n++;
  }
  // Scheme: ASCII alpha, then alphanumerics, `+`, `-`, `.`, up to `:`.
  if (n == 0 || !isAlpha(at(buf, 0))) return false;
  let i: u32 = 1;
  while (i < n) {
    const c = at(buf, i);
    if (isAlpha(c) || isDigit(c) || c == 0x2b || c == 0x2d || c == 0x2e) i++;
    else break;
  }
  if (i >= n || at(buf, i) != 0x3a) return false;
  const scheme = arenaAlloc(<usize>i + 1);
  for (let k: u32 = 0; k < i; k++) { const c = at(buf, k); store<u8>(scheme + k, <u8>(c - 0x41 < 26 ? c + 0x20 : c)); }
  if (!isSpecial(scheme, i)) return false;
  schemePtr = scheme;
  schemeLen = i;
  i++; // past `:`

  if (bytesEqual(scheme, schemeLen, "file")) {
    // file state -> file slash state -> file host state; otherwise the path (no host).
    hostPtr = scheme;
    hostLen = 0;
    if (i < n && isSlash(at(buf, i)) && i + 1 < n && isSlash(at(buf, i + 1))) {
      const hs = i + 2;
      let he = hs;
      while (he < n) {
        const c = at(buf, he);
        if (c == 0x2f || c == 0x5c || c == 0x3f || c == 0x23) break;
        he++;
      }
      const hlen = he - hs;
      // A Windows drive letter here stays in the path.
      if (hlen == 2 && isAlpha(at(buf, hs)) && (at(buf, hs + 1) == 0x3a || at(buf, hs + 1) == 0x7c)) return true;
      if (hlen == 0) return true;
      if (!parseHost(buf + hs, hlen)) return false;
      if (bytesEqual(hostPtr, hostLen, "localhost")) hostLen = 0;
    }
    return true;
  }

  // Special authority (ignore) slashes: any run of `/` and `\`.
  while (i < n && isSlash(at(buf, i))) i++;
  // Authority ends at `/`, `\`, `?`, `#`; the last `@` in it ends the userinfo.
  let authEnd = i;
  let lastAt: i32 = -1;
  while (authEnd < n) {
    const c = at(buf, authEnd);
    if (c == 0x2f || c == 0x5c || c == 0x3f || c == 0x23) break;
    if (c == 0x40) lastAt = <i32>authEnd;
    authEnd++;
  }
  let hostStart = i;
  if (lastAt >= 0) {
    hostStart = <u32>lastAt + 1;
    if (hostStart == authEnd) return false; // credentials without a host
  }
  // Host ends at a `:` outside brackets.
  let colon: i32 = -1;
  let inBrackets = false;
  for (let k = hostStart; k < authEnd; k++) {
    const c = at(buf, k);
    if (c == 0x5b) inBrackets = true;
    else if (c == 0x5d) inBrackets = false;
    else if (c == 0x3a && !inBrackets) { colon = <i32>k; break; }
  }
  const hostEnd = colon >= 0 ? <u32>colon : authEnd;
  if (hostEnd == hostStart) return false;
  if (!parseHost(buf + hostStart, hostEnd - hostStart)) return false;
  if (colon >= 0) {
    let port: u32 = 0;
    let digits: u32 = 0;
    for (let k = <u32>colon + 1; k < authEnd; k++) {
      const c = at(buf, k);
      if (!isDigit(c)) return false;
      port = port * 10 + c - 0x30;
      if (port > 65535) return false;
      digits++;
    }
    if (digits > 0 && <i32>port != defaultPort(scheme, schemeLen)) {
      const dst = arenaAlloc(8);
      let len2: u32 = 0;
      let div: u32 = 10000;
      let started = false;
      while (div > 0) {
        const dgt = (port / div) % 10;
        if (dgt != 0 || started || div == 1) { store<u8>(dst + len2, <u8>(0x30 + dgt)); len2++; started = true; }
        div /= 10;
      }
      portPtr = dst;
      portLen = len2;
    }
  }
  return true;
}
