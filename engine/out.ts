// The engine's output buffer: decision JSON, error JSON and value JSON are written here as bytes,
// never built as AssemblyScript strings (with the stub runtime a built string is never freed).
// The buffer is grown by doubling and reused; outReset() starts a new output.

let buf: usize = 0;
let cap: usize = 0;
let len: usize = 0;

function reserve(extra: usize): void {
  if (len + extra <= cap) return;
  let want = cap == 0 ? <usize>4096 : cap << 1;
  while (want < len + extra) want <<= 1;
  const fresh = heap.alloc(want);
  if (len > 0) memory.copy(fresh, buf, len);
  buf = fresh; // the old block is abandoned: growth is geometric, so waste is bounded
  cap = want;
}

export function outReset(): void { len = 0; reserve(0); }
export function outPtr(): usize { return buf; }
export function outLen(): usize { return len; }

export function outByte(b: u8): void {
  reserve(1);
  store<u8>(buf + len, b);
  len++;
}

export function outBytes(ptr: usize, n: usize): void {
  reserve(n);
  memory.copy(buf + len, ptr, n);
  len += n;
}

/** Write an ASCII string literal (static data; nothing is allocated). */
export function outAscii(s: string): void {
  const n = <usize>s.length;
  reserve(n);
  const src = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) store<u8>(buf + len + i, <u8>load<u16>(src + (i << 1)));
  len += n;
}

const HEX = "0123456789abcdef";

/** Write UTF-8 bytes as the inside of a JSON string (escaped as JSON.stringify does, no quotes). */
export function outJsonStringContent(ptr: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    const c = load<u8>(ptr + i);
    if (c == 0x22 || c == 0x5c) { outByte(0x5c); outByte(c); }
    else if (c < 0x20) {
      outByte(0x5c);
      if (c == 0x08) outByte(0x62);
      else if (c == 0x0c) outByte(0x66);
      else if (c == 0x0a) outByte(0x6e);
      else if (c == 0x0d) outByte(0x72);
      else if (c == 0x09) outByte(0x74);
      else {
        outByte(0x75); outByte(0x30); outByte(0x30);
        outByte(<u8>HEX.charCodeAt(c >> 4)); outByte(<u8>HEX.charCodeAt(c & 15));
      }
    } else outByte(c);
  }
}

/** Write UTF-8 bytes as a JSON string literal, escaped as JSON.stringify does. */
export function outJsonString(ptr: usize, n: usize): void {
  outByte(0x22);
  outJsonStringContent(ptr, n);
  outByte(0x22);
}

/** Write an ASCII string literal as a JSON string (for static messages). */
export function outJsonAscii(s: string): void {
  outByte(0x22);
  for (let i = 0; i < s.length; i++) {
    const c = <u8>s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) outByte(0x5c);
    outByte(c);
  }
  outByte(0x22);
}

export function outU64(v: u64): void {
  if (v == 0) { outByte(0x30); return; }
  let digits: StaticArray<u8> = DIGITS;
  let n = 0;
  while (v > 0) { unchecked(digits[n++] = <u8>(0x30 + <u32>(v % 10))); v /= 10; }
  while (n > 0) outByte(unchecked(digits[--n]));
}

export function outI64(v: i64): void {
  if (v < 0) {
    outByte(0x2d);
    outU64(<u64>(-(v + 1)) + 1); // safe for i64.MIN_VALUE
  } else outU64(<u64>v);
}

/**
 * 16 lower-case hex digits of a double's IEEE 754 bits (value JSON). Every NaN is written as the
 * canonical quiet NaN 7ff8000000000000: wasm leaves the sign and payload of a computed NaN to the
 * CPU, and every host must write the same bytes.
 */
export function outDoubleBits(d: f64): void {
  const bits = d != d ? <u64>0x7ff8000000000000 : reinterpret<u64>(d);
  for (let s = 60; s >= 0; s -= 4) outByte(<u8>HEX.charCodeAt(<i32>((bits >> <u64>s) & 15)));
}

const DIGITS = new StaticArray<u8>(24);
