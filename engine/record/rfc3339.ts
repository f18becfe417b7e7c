// Record stage: a clock reading in ms since the Unix epoch -> the record's `ts`, the text
// JavaScript's `new Date(ms).toISOString()` returns (RFC 3339 UTC with milliseconds for years
// 0000..9999, `2026-11-22T01:55:39.123Z`; ECMAScript's expanded years `+010000-01-01T...`,
// `-000001-...` outside them). Proleptic Gregorian calendar, over the whole range a Date holds
// (|ms| <= 8.64e15). Input: ms. Output: at most MAX_TIMESTAMP_TEXT ASCII bytes at a caller's
// address. Nothing is allocated.

/** Largest |ms| a Date holds (ECMA-262 §21.4.1.31 TimeClip). */
export const MAX_TIME_MS: i64 = 8_640_000_000_000_000;
/** Longest text writeTimestamp writes (`+275760-09-13T00:00:00.000Z`). */
export const MAX_TIMESTAMP_TEXT: u32 = 27;

const MS_PER_DAY: i64 = 86_400_000;

/** Write `v` as exactly `width` decimal digits at `dst` (v < 10^width). */
function digits(dst: usize, v: u32, width: u32): void {
  for (let i = <i32>width - 1; i >= 0; i--) {
    store<u8>(dst + <usize>i, <u8>(0x30 + v % 10));
    v /= 10;
  }
}

/**
 * Write the ISO 8601 / RFC 3339 UTC text of `ms` at `dst`; returns its length, or 0 when `ms` is
 * outside the range a Date holds (where toISOString throws).
 */
export function writeTimestamp(ms: i64, dst: usize): u32 {
  if (ms > MAX_TIME_MS || ms < -MAX_TIME_MS) return 0;
  // Floor division: a time before the epoch belongs to the day that starts before it.
  let days = ms / MS_PER_DAY;
  let msOfDay = ms - days * MS_PER_DAY;
  if (msOfDay < 0) { days--; msOfDay += MS_PER_DAY; }

  // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date
  // Algorithms"): 400-year eras starting on March 1st, so the leap day ends the year.
  const z = days + 719_468;
  const era = (z >= 0 ? z : z - 146_096) / 146_097;
  const doe = z - era * 146_097; // [0, 146096]
  const yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
  const mp = (5 * doy + 2) / 153; // [0, 11], March = 0
  const day = <u32>(doy - (153 * mp + 2) / 5 + 1);
  const month = <u32>(mp < 10 ? mp + 3 : mp - 9);
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);

  let at = dst;
  if (year >= 0 && year <= 9999) {
    digits(at, <u32>year, 4);
    at += 4;
  } else {
    store<u8>(at, year < 0 ? 0x2d : 0x2b);
    digits(at + 1, <u32>(year < 0 ? -year : year), 6);
    at += 7;
  }
  const ms32 = <u32>msOfDay;
  store<u8>(at, 0x2d); digits(at + 1, month, 2);
  store<u8>(at + 3, 0x2d); digits(at + 4, day, 2);
  store<u8>(at + 6, 0x54); digits(at + 7, ms32 / 3_600_000, 2);
  store<u8>(at + 9, 0x3a); digits(at + 10, ms32 / 60_000 % 60, 2);
  store<u8>(at + 12, 0x3a); digits(at + 13, ms32 / 1_000 % 60, 2);
  store<u8>(at + 15, 0x2e); digits(at + 16, ms32 % 1_000, 3);
  store<u8>(at + 19, 0x5a);
  return <u32>(at + 20 - dst);
}
