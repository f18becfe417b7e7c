// Filter: byte buffers and encodings. Input: bytes in memory. Output: growable buffers that are
// reused (the stub runtime never frees, so per-request data never lives in fresh allocations),
// JSON string escaping as the engine writes it, base64 and hex codecs, header-safe text and the
// proxy-wasm header map serialization.

/** A span of bytes owned by whoever made it (config values are copied once per configure). */
export class Bytes {
  constructor(public ptr: usize, public len: usize) {}

  /** A private copy of `len` bytes at `ptr` (for values that must outlive the current callback). */
  static copy(ptr: usize, len: usize): Bytes {
    const p: usize = len == 0 ? <usize>0 : heap.alloc(len);
    if (len > 0) memory.copy(p, ptr, len);
    return new Bytes(p, len);
  }

  /** The ASCII bytes of a static string. */
  static ascii(s: string): Bytes {
    const b = new ByteBuf();
    b.ascii(s);
    return new Bytes(b.ptr, b.len);
  }
}

/** True when the `len` bytes at `ptr` are exactly the ASCII string `s`. */
export function equalsAscii(ptr: usize, len: usize, s: string): bool {
  if (len != <usize>s.length) return false;
  for (let i: usize = 0; i < len; i++) if (<u32>load<u8>(ptr + i) != <u32>s.charCodeAt(<i32>i)) return false;
  return true;
}

const HEX = "0123456789abcdef";

/** A growable byte buffer, reset and reused; growth doubles and abandons the old block. */
export class ByteBuf {
  ptr: usize = 0;
  len: usize = 0;
  cap: usize = 0;

  reset(): void { this.len = 0; }

  reserve(extra: usize): void {
    if (this.len + extra <= this.cap) return;
    let want = this.cap == 0 ? <usize>256 : this.cap << 1;
    while (want < this.len + extra) want <<= 1;
    const fresh = heap.alloc(want);
    if (this.len > 0) memory.copy(fresh, this.ptr, this.len);
    this.ptr = fresh;
    this.cap = want;
  }

  byte(b: u8): void {
    this.reserve(1);
    store<u8>(this.ptr + this.len, b);
    this.len++;
  }

  bytes(ptr: usize, n: usize): void {
    if (n == 0) return;
    this.reserve(n);
    memory.copy(this.ptr + this.len, ptr, n);
    this.len += n;
  }

  ascii(s: string): void {
    const n = <usize>s.length;
    this.reserve(n);
    for (let i: usize = 0; i < n; i++) store<u8>(this.ptr + this.len + i, <u8>s.charCodeAt(<i32>i));
    this.len += n;
  }

  u32le(v: u32): void {
    this.reserve(4);
    store<u32>(this.ptr + this.len, v);
    this.len += 4;
  }

  decimal(v: u64): void {
    if (v >= 10) this.decimal(v / 10);
    this.byte(<u8>(0x30 + <u32>(v % 10)));
  }

  /** Bytes as the inside of a JSON string, escaped exactly as the engine (and JSON.stringify) does. */
  jsonContent(ptr: usize, n: usize): void {
    for (let i: usize = 0; i < n; i++) {
      const c = load<u8>(ptr + i);
      if (c == 0x22 || c == 0x5c) { this.byte(0x5c); this.byte(c); }
      else if (c < 0x20) {
        this.byte(0x5c);
        if (c == 0x08) this.byte(0x62);
        else if (c == 0x0c) this.byte(0x66);
        else if (c == 0x0a) this.byte(0x6e);
        else if (c == 0x0d) this.byte(0x72);
        else if (c == 0x09) this.byte(0x74);
        else { this.ascii("u00"); this.byte(<u8>HEX.charCodeAt(c >> 4)); this.byte(<u8>HEX.charCodeAt(c & 15)); }
      } else this.byte(c);
    }
  }

  jsonString(ptr: usize, n: usize): void {
    this.byte(0x22);
    this.jsonContent(ptr, n);
    this.byte(0x22);
  }

  /** A static ASCII string as a JSON string literal (no allocation: safe per request). */
  jsonAscii(s: string): void {
    this.byte(0x22);
    for (let i = 0; i < s.length; i++) {
      const c = <u8>s.charCodeAt(i);
      if (c == 0x22 || c == 0x5c) this.byte(0x5c);
      this.byte(c);
    }
    this.byte(0x22);
  }

  /** Standard base64 with padding. */
  base64(ptr: usize, n: usize): void {
    const T = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let i: usize = 0;
    while (i + 3 <= n) {
      const v = (<u32>load<u8>(ptr + i) << 16) | (<u32>load<u8>(ptr + i + 1) << 8) | <u32>load<u8>(ptr + i + 2);
      this.byte(<u8>T.charCodeAt(v >> 18)); this.byte(<u8>T.charCodeAt((v >> 12) & 63));
      this.byte(<u8>T.charCodeAt((v >> 6) & 63)); this.byte(<u8>T.charCodeAt(v & 63));
      i += 3;
    }
    const rest = n - i;
    if (rest == 1) {
      const v = <u32>load<u8>(ptr + i) << 16;
      this.byte(<u8>T.charCodeAt(v >> 18)); this.byte(<u8>T.charCodeAt((v >> 12) & 63)); this.ascii("==");
    } else if (rest == 2) {
      const v = (<u32>load<u8>(ptr + i) << 16) | (<u32>load<u8>(ptr + i + 1) << 8);
      this.byte(<u8>T.charCodeAt(v >> 18)); this.byte(<u8>T.charCodeAt((v >> 12) & 63));
      this.byte(<u8>T.charCodeAt((v >> 6) & 63)); this.byte(0x3d);
    }
  }

  /** Lower-case hex of `n` bytes. */
  hex(ptr: usize, n: usize): void {
    for (let i: usize = 0; i < n; i++) {
      const b = load<u8>(ptr + i);
      this.byte(<u8>HEX.charCodeAt(b >> 4));
      this.byte(<u8>HEX.charCodeAt(b & 15));
    }
  }

  /**
   * Bytes as an HTTP header value: visible ASCII and spaces as they are, `%` and every other byte
   * (controls, DEL, non-ASCII) as `%XX`, so no policy text can break a header or smuggle a line.
   */
  headerSafe(ptr: usize, n: usize): void {
    for (let i: usize = 0; i < n; i++) {
      const c = load<u8>(ptr + i);
      if (c >= 0x20 && c < 0x7f && c != 0x25) this.byte(c);
      else { this.byte(0x25); this.byte(<u8>"0123456789ABCDEF".charCodeAt(c >> 4)); this.byte(<u8>"0123456789ABCDEF".charCodeAt(c & 15)); }
    }
  }
}

function base64Value(c: u32): i32 {
  if (c - 0x41 < 26) return <i32>(c - 0x41);
  if (c - 0x61 < 26) return <i32>(c - 0x61 + 26);
  if (c - 0x30 < 10) return <i32>(c - 0x30 + 52);
  if (c == 0x2b || c == 0x2d) return 62; // + (standard) or - (URL-safe)
  if (c == 0x2f || c == 0x5f) return 63; // / (standard) or _ (URL-safe)
  return -1;
}

/**
 * Decode base64 (standard or URL-safe alphabet, padding optional, no whitespace) appending to
 * `out`; false on any other byte, misplaced padding or a dangling single character.
 */
export function decodeBase64(ptr: usize, n: usize, out: ByteBuf): bool {
  let end = n;
  if (end > 0 && load<u8>(ptr + end - 1) == 0x3d) end--;
  if (end > 0 && load<u8>(ptr + end - 1) == 0x3d) end--;
  if (end != n && n % 4 != 0) return false;
  if (end % 4 == 1) return false;
  out.reserve(end / 4 * 3 + 3);
  let acc: u32 = 0;
  let bits: u32 = 0;
  for (let i: usize = 0; i < end; i++) {
    const v = base64Value(<u32>load<u8>(ptr + i));
    if (v < 0) return false;
    acc = (acc << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.byte(<u8>(acc >> bits));
    }
  }
  return true;
}

function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  if (c - 0x61 < 6) return <i32>(c - 0x61 + 10);
  if (c - 0x41 < 6) return <i32>(c - 0x41 + 10);
  return -1;
}

/** Decode hex digits (either case) appending to `out`; false on an odd length or a non-digit. */
export function decodeHex(ptr: usize, n: usize, out: ByteBuf): bool {
  if (n % 2 != 0) return false;
  for (let i: usize = 0; i < n; i += 2) {
    const hi = hexValue(<u32>load<u8>(ptr + i)), lo = hexValue(<u32>load<u8>(ptr + i + 1));
    if (hi < 0 || lo < 0) return false;
    out.byte(<u8>((hi << 4) | lo));
  }
  return true;
}

/**
 * A proxy-wasm header map being serialized (spec "Serialization"):
 * `u32 count | count x (u32 key_len, u32 value_len) | count x (key 0x00 value 0x00)`.
 * Pairs are collected first because the lengths precede the data.
 */
export class HeaderMap {
  private keys: ByteBuf = new ByteBuf();  // (u32 ptr-offset, u32 len) pairs into `data`
  private data: ByteBuf = new ByteBuf();
  private out: ByteBuf = new ByteBuf();
  private count: u32 = 0;

  reset(): void { this.keys.reset(); this.data.reset(); this.count = 0; }

  /** Add a pair with a static lower-case key; the value must be header-safe bytes. */
  add(key: string, valuePtr: usize, valueLen: usize): void {
    this.keys.u32le(<u32>this.data.len);
    this.keys.u32le(<u32>key.length);
    this.data.ascii(key);
    this.keys.u32le(<u32>this.data.len);
    this.keys.u32le(<u32>valueLen);
    this.data.bytes(valuePtr, valueLen);
    this.count++;
  }

  /** Add a pair whose key and value are both static strings. */
  addAscii(key: string, value: string): void {
    this.keys.u32le(<u32>this.data.len);
    this.keys.u32le(<u32>key.length);
    this.data.ascii(key);
    this.keys.u32le(<u32>this.data.len);
    this.keys.u32le(<u32>value.length);
    this.data.ascii(value);
    this.count++;
  }

  /** Add a pair whose key and value are byte spans (config values, e.g. the collector authority). */
  addBytes(keyPtr: usize, keyLen: usize, valuePtr: usize, valueLen: usize): void {
    this.keys.u32le(<u32>this.data.len);
    this.keys.u32le(<u32>keyLen);
    this.data.bytes(keyPtr, keyLen);
    this.keys.u32le(<u32>this.data.len);
    this.keys.u32le(<u32>valueLen);
    this.data.bytes(valuePtr, valueLen);
    this.count++;
  }

  /** The serialized map; valid until the next reset or serialize. */
  serialize(): ByteBuf {
    const o = this.out;
    o.reset();
    o.u32le(this.count);
    for (let i: u32 = 0; i < this.count; i++) {
      o.u32le(load<u32>(this.keys.ptr + <usize>i * 16 + 4));
      o.u32le(load<u32>(this.keys.ptr + <usize>i * 16 + 12));
    }
    for (let i: u32 = 0; i < this.count; i++) {
      const rec = this.keys.ptr + <usize>i * 16;
      o.bytes(this.data.ptr + <usize>load<u32>(rec), <usize>load<u32>(rec, 4));
      o.byte(0);
      o.bytes(this.data.ptr + <usize>load<u32>(rec, 8), <usize>load<u32>(rec, 12));
      o.byte(0);
    }
    return o;
  }
}
