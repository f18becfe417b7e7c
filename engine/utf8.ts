// Engine stage: UTF-8 checks shared by the JSON reader and the tape validator.
// Input: raw bytes in memory (address + length). Output: code point counts, sequence lengths,
// or the offset of the first invalid sequence. Nothing is allocated.
//
// "Valid" is RFC 3629: no overlong forms, no UTF-16 surrogates (U+D800..U+DFFF) encoded in UTF-8,
// nothing above U+10FFFF, no truncated or stray continuation bytes.

/**
 * Length (2..4) of the valid multi-byte UTF-8 sequence that starts at `p` (a byte >= 0x80),
 * reading no byte at or after `end`; 0 when the sequence is invalid or truncated.
 */
export function utf8SequenceLength(p: usize, end: usize): u32 {
  const b0 = <u32>load<u8>(p);
  if (b0 < 0xc2) return 0; // continuation byte, or 0xC0/0xC1 (always overlong)
  if (b0 < 0xe0) {
    if (p + 1 >= end) return 0;
    return (load<u8>(p + 1) & 0xc0) == 0x80 ? 2 : 0;
  }
  if (b0 < 0xf0) {
    if (p + 2 >= end) return 0;
    const b1 = <u32>load<u8>(p + 1);
    // E0 needs A0..BF (no overlongs); ED needs 80..9F (no surrogates)
    const lo: u32 = b0 == 0xe0 ? 0xa0 : 0x80;
    const hi: u32 = b0 == 0xed ? 0x9f : 0xbf;
    if (b1 < lo || b1 > hi) return 0;
    return (load<u8>(p + 2) & 0xc0) == 0x80 ? 3 : 0;
  }
  if (b0 < 0xf5) {
    if (p + 3 >= end) return 0;
    const b1 = <u32>load<u8>(p + 1);
    // F0 needs 90..BF (no overlongs); F4 needs 80..8F (nothing above U+10FFFF)
    const lo: u32 = b0 == 0xf0 ? 0x90 : 0x80;
    const hi: u32 = b0 == 0xf4 ? 0x8f : 0xbf;
    if (b1 < lo || b1 > hi) return 0;
    if ((load<u8>(p + 2) & 0xc0) != 0x80) return 0;
    return (load<u8>(p + 3) & 0xc0) == 0x80 ? 4 : 0;
  }
  return 0;
}

/**
 * Validate `len` bytes at `ptr` as UTF-8. Returns the number of code points (>= 0), or
 * `-1 - offset` where `offset` is the position of the first invalid sequence.
 */
export function utf8CountCodePoints(ptr: usize, len: usize): i64 {
  const end = ptr + len;
  let p = ptr;
  let count: i64 = 0;
  while (p < end) {
    // ASCII runs are the common case: eight bytes per step while no high bit is set.
    while (p + 8 <= end && (load<u64>(p) & 0x8080808080808080) == 0) { p += 8; count += 8; }
    if (p >= end) break;
    const b = load<u8>(p);
    if (b < 0x80) { p++; count++; continue; }
    const n = utf8SequenceLength(p, end);
    if (n == 0) return -1 - <i64>(p - ptr);
    p += n;
    count++;
  }
  return count;
}

/** Write code point `cp` (a scalar value, not a surrogate) as UTF-8 at `dst`; returns 1..4. */
export function utf8Encode(cp: u32, dst: usize): u32 {
  if (cp < 0x80) { store<u8>(dst, <u8>cp); return 1; }
  if (cp < 0x800) {
    store<u8>(dst, <u8>(0xc0 | (cp >> 6)));
    store<u8>(dst + 1, <u8>(0x80 | (cp & 0x3f)));
    return 2;
  }
  if (cp < 0x10000) {
    store<u8>(dst, <u8>(0xe0 | (cp >> 12)));
    store<u8>(dst + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(dst + 2, <u8>(0x80 | (cp & 0x3f)));
    return 3;
  }
  store<u8>(dst, <u8>(0xf0 | (cp >> 18)));
  store<u8>(dst + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(dst + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(dst + 3, <u8>(0x80 | (cp & 0x3f)));
  return 4;
}
