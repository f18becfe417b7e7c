// Node binding, fast path: a JS request object -> a tape (docs/engine-abi.md "The tape") written
// straight into the engine's tape region, so evaluate(object) skips JSON.stringify and the JSON
// reader. Input: a JS value. Output: the root offset and used byte count for evaluate_tape, or
// `false` when the value must take the JSON path instead (anything where JSON.stringify would do
// something other than a plain copy, or where the JSON path would report an error: non-finite
// numbers, undefined in arrays, functions, symbols, bigint, toJSON, non-plain objects, lone
// surrogates, cycles and nesting past MAX_JSON_DEPTH, more than MAX_JSON_NODES values, a
// serialization that may exceed MAX_REQUEST_BYTES). The JSON path then gives the exact answer.
//
// Also readTapeValue, the inverse (tape -> JS value), used by tests and for debugging.
import { Limits } from "../../compiler/generated/bytecode.ts";

const { MAX_JSON_DEPTH, MAX_JSON_NODES, MAX_REQUEST_BYTES } = Limits;

const KIND_NULL = 0, KIND_FALSE = 1, KIND_TRUE = 2, KIND_NUMBER = 3, KIND_STRING = 4, KIND_ARRAY = 5, KIND_OBJECT = 6;
const NODE_SIZE = 16;
const MEMBER_SIZE = 24;
const INITIAL_CAPACITY = 64 * 1024;
// A request the JSON path accepts needs at most about 1 MiB of JSON; its tape is a few times that.
const MAX_CAPACITY = 64 * 1024 * 1024;
const KEY_CACHE_LIMIT = 2048;
const CACHED_KEY_MAX_LENGTH = 64;
// Longest JSON.stringify form of a finite number ("-1.2345678901234567e-308").
const MAX_NUMBER_TEXT = 24;

/** Where the encoder writes: the engine's memory and its tape region allocator. */
export interface TapeTarget {
  memory: WebAssembly.Memory;
  tape_ptr(cap: number): number;
}

/** Thrown inside the encoder when the tape region is too small; caught by encode(). */
const GROW = Symbol("grow");

/** A key seen before: its UTF-8 bytes as little-endian u32 words, ready to store. */
interface CachedKey { words: Uint32Array; bytes: number; json: number }

/**
 * True when Object.prototype has an enumerable property (prototype pollution): `for...in` would
 * then list it on every plain object, while JSON.stringify would not.
 */
function prototypePolluted(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

/**
 * Writes JS values as tapes into one engine's tape region; reuse one per engine.
 *
 * Region layout during an encode: Nodes, arrays and string bytes are bump-allocated upward from
 * the start; object members are first written to a stack that grows downward from the end
 * (`for...in` does not tell how many members an object has until it is done), then copied into a
 * fresh contiguous Member array. The two meet only when the region is full (GROW, retry larger).
 */
export class TapeEncoder {
  /** Offset of the root Node from the tape start, after a successful encode(). */
  root = 0;
  /** Bytes used from the tape start, after a successful encode(). */
  used = 0;

  private readonly target: TapeTarget;
  private capacity = INITIAL_CAPACITY;
  private base = 0; // absolute address of the tape region
  private start = 0; // first offset from base whose address is 8-aligned
  private pos = 0; // next free offset (upward)
  private top = 0; // lowest offset of the member stack (downward)
  private u8 = new Uint8Array(0);
  private u32 = new Uint32Array(0);
  private f64 = new Float64Array(0);
  private values = 0;
  private jsonBytes = 0; // upper bound of JSON.stringify(value).length in UTF-8 bytes
  // Results of writeUtf8 (fields, not a returned object: no allocation per string).
  private stringBytes = 0;
  private stringCodePoints = 0;
  private stringEscapes = 0;
  private readonly keyCache = new Map<string, CachedKey>();

  constructor(target: TapeTarget) {
    this.target = target;
  }

  /**
   * Write `value` as a tape. true: `root` and `used` are set for evaluate_tape. false: use the
   * JSON path for this value.
   */
  encode(value: unknown): boolean {
    if (prototypePolluted()) return false;
    for (;;) {
      const base = this.target.tape_ptr(this.capacity);
      if (base === 0) return false; // the engine refused the size: never write at address 0
      // Views are re-created only when the memory grew (growing detaches the old buffer, whose
      // views then have length 0) or the region moved.
      if (this.u8.length === 0 || base !== this.base) {
        const buffer = this.target.memory.buffer;
        this.u8 = new Uint8Array(buffer);
        this.u32 = new Uint32Array(buffer);
        this.f64 = new Float64Array(buffer);
        this.base = base;
      }
      const start = (8 - (base & 7)) & 7;
      this.start = start;
      this.pos = start;
      this.top = start + ((this.capacity - start) & ~7);
      this.values = 0;
      this.jsonBytes = 0;
      try {
        const root = this.alloc(NODE_SIZE);
        if (!this.writeValue(value, root, 0)) return false;
        this.root = root - base;
        this.used = this.pos;
        return true;
      } catch (e) {
        if (e !== GROW) throw e;
        if (this.capacity >= MAX_CAPACITY) return false;
        this.capacity *= 2;
      }
    }
  }

  /** Absolute address of `size` fresh bytes, 8-aligned. */
  private alloc(size: number): number {
    const at = this.pos;
    const end = at + ((size + 7) & ~7);
    if (end > this.top) throw GROW;
    this.pos = end;
    return this.base + at;
  }

  /** Give back everything allocated from absolute address `end` on (kept 8-aligned). */
  private release(end: number): void {
    const start = this.start;
    this.pos = start + ((end - this.base - start + 7) & ~7);
  }

  /** Absolute address of a fresh Member record on the member stack (8-aligned). */
  private pushMember(): number {
    const at = this.top - MEMBER_SIZE;
    if (at < this.pos) throw GROW;
    this.top = at;
    return this.base + at;
  }

  private writeValue(value: unknown, node: number, depth: number): boolean {
    if (++this.values > MAX_JSON_NODES) return false;
    const u32 = this.u32;
    const w = node >>> 2;
    switch (typeof value) {
      case "string": {
        const n = value.length;
        const at = this.alloc(n * 3); // a UTF-16 unit never needs more than 3 UTF-8 bytes
        if (!this.writeUtf8(value, at)) return false;
        this.release(at + this.stringBytes); // give back the unused part
        u32[w] = KIND_STRING;
        u32[w + 1] = at;
        u32[w + 2] = this.stringBytes;
        u32[w + 3] = this.stringCodePoints;
        this.jsonBytes += 2 + this.stringBytes + this.stringEscapes;
        return this.jsonBytes <= MAX_REQUEST_BYTES;
      }
      case "number":
        if (!Number.isFinite(value)) return false;
        u32[w] = KIND_NUMBER; // lexeme length 0
        u32[w + 1] = 0; // no lexeme: the binding takes the JSON path when params are rendered
        this.f64[(node + 8) >>> 3] = value === 0 ? 0 : value; // JSON.stringify writes -0 as 0
        this.jsonBytes += MAX_NUMBER_TEXT;
        return this.jsonBytes <= MAX_REQUEST_BYTES;
      case "boolean":
        u32[w] = value ? KIND_TRUE : KIND_FALSE;
        this.jsonBytes += 5;
        return true;
      case "object": {
        if (value === null) {
          u32[w] = KIND_NULL;
          this.jsonBytes += 4;
          return true;
        }
        if (depth >= MAX_JSON_DEPTH) return false; // also stops cycles
        if (Array.isArray(value)) return this.writeArray(value, node, depth);
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return false;
        if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
        return this.writeObject(value as Record<string, unknown>, node, depth);
      }
      default:
        return false; // undefined, function, symbol, bigint
    }
  }

  private writeArray(array: unknown[], node: number, depth: number): boolean {
    const count = array.length;
    const elements = this.alloc(count * NODE_SIZE);
    const w = node >>> 2;
    this.u32[w] = KIND_ARRAY;
    this.u32[w + 1] = elements;
    this.u32[w + 2] = count;
    this.u32[w + 3] = 0;
    this.jsonBytes += 2 + count;
    for (let i = 0; i < count; i++) {
      const element = array[i];
      // JSON.stringify turns holes, undefined and functions into null: leave that to the JSON path.
      if (element === undefined) return false;
      if (!this.writeValue(element, elements + i * NODE_SIZE, depth + 1)) return false;
    }
    return true;
  }

  private writeObject(object: Record<string, unknown>, node: number, depth: number): boolean {
    // `for...in` lists the own enumerable string keys in JSON.stringify's order (the prototype
    // is Object.prototype, checked unpolluted, or null), and V8 reads `object[key]` inside it
    // through the enum cache, without a generic keyed lookup.
    const mark = this.top;
    let count = 0;
    this.jsonBytes += 2;
    for (const key in object) {
      const value = object[key];
      // JSON.stringify leaves such members out; so does the tape.
      if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
      const m = this.pushMember();
      const keyAddress = this.writeKey(key);
      if (keyAddress < 0) return false;
      this.u32[m >>> 2] = keyAddress;
      this.u32[(m >>> 2) + 1] = this.stringBytes;
      if (!this.writeValue(value, m + 8, depth + 1)) return false;
      count++;
      this.jsonBytes += 1; // the comma (one too many: an upper bound)
    }
    // Member i sits at mark - (i + 1) * MEMBER_SIZE on the stack: copy them out in order.
    const members = this.alloc(count * MEMBER_SIZE);
    const u32 = this.u32;
    let from = (this.base + mark) >>> 2;
    let to = members >>> 2;
    for (let i = 0; i < count; i++) {
      from -= MEMBER_SIZE >>> 2;
      u32[to] = u32[from];
      u32[to + 1] = u32[from + 1];
      u32[to + 2] = u32[from + 2];
      u32[to + 3] = u32[from + 3];
      u32[to + 4] = u32[from + 4];
      u32[to + 5] = u32[from + 5];
      to += MEMBER_SIZE >>> 2;
    }
    this.top = mark;
    const w = node >>> 2;
    u32[w] = KIND_OBJECT;
    u32[w + 1] = members;
    u32[w + 2] = count;
    u32[w + 3] = 0;
    return this.jsonBytes <= MAX_REQUEST_BYTES;
  }

  /** Write a key's UTF-8 bytes (from the cache when seen before); address, length in stringBytes. */
  private writeKey(key: string): number {
    const cached = this.keyCache.get(key);
    if (cached !== undefined) {
      const words = cached.words;
      const at = this.alloc(words.length << 2);
      const u32 = this.u32;
      const w = at >>> 2;
      for (let i = 0; i < words.length; i++) u32[w + i] = words[i];
      this.stringBytes = cached.bytes;
      this.jsonBytes += cached.json;
      return at;
    }
    const at = this.alloc(key.length * 3);
    if (!this.writeUtf8(key, at)) return -1;
    const bytes = this.stringBytes;
    this.release(at + bytes);
    const json = 2 + bytes + this.stringEscapes + 1; // quotes, escapes, the colon
    this.jsonBytes += json;
    if (key.length <= CACHED_KEY_MAX_LENGTH && this.keyCache.size < KEY_CACHE_LIMIT) {
      // Zero padding up to a word: the words are stored whole.
      const padded = new Uint8Array((bytes + 3) & ~3);
      padded.set(this.u8.subarray(at, at + bytes));
      this.keyCache.set(key, { words: new Uint32Array(padded.buffer), bytes, json });
    }
    return at;
  }

  /**
   * Write `text` as UTF-8 at absolute address `at` (room for 3 bytes per UTF-16 unit); false for
   * a lone surrogate (not representable in UTF-8). Sets stringBytes, stringCodePoints and
   * stringEscapes (extra JSON.stringify bytes: 1 for \" \\, at most 5 for controls).
   */
  private writeUtf8(text: string, at: number): boolean {
    const n = text.length;
    const u8 = this.u8;
    let p = at;
    let pairs = 0;
    let escapes = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        u8[p++] = c;
        if (c < 0x20) escapes += 5;
        else if (c === 0x22 || c === 0x5c) escapes += 1;
      } else if (c < 0x800) {
        u8[p++] = 0xc0 | (c >> 6);
        u8[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        u8[p++] = 0xe0 | (c >> 12);
        u8[p++] = 0x80 | ((c >> 6) & 0x3f);
        u8[p++] = 0x80 | (c & 0x3f);
      } else {
        const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return false;
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        u8[p++] = 0xf0 | (cp >> 18);
        u8[p++] = 0x80 | ((cp >> 12) & 0x3f);
        u8[p++] = 0x80 | ((cp >> 6) & 0x3f);
        u8[p++] = 0x80 | (cp & 0x3f);
        i++;
        pairs++;
      }
    }
    this.stringBytes = p - at;
    this.stringCodePoints = n - pairs;
    this.stringEscapes = escapes;
    return true;
  }
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Read the tape value whose Node is at absolute address `node` in `memory` back into a JS value
 * (numbers as doubles; objects with their keys in tape order). Checks what the engine would
 * check about strings (UTF-8, code point counts) and throws on any inconsistency.
 */
export function readTapeValue(memory: ArrayBuffer | SharedArrayBuffer, node: number): unknown {
  const view = new DataView(memory);
  const u8 = new Uint8Array(memory);
  const readString = (ptr: number, len: number): string => fatalDecoder.decode(u8.subarray(ptr, ptr + len));
  const read = (at: number, depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH + 1) throw new Error("tape nests too deeply");
    const kind = u8[at];
    switch (kind) {
      case KIND_NULL: return null;
      case KIND_FALSE: return false;
      case KIND_TRUE: return true;
      case KIND_NUMBER: return view.getFloat64(at + 8, true);
      case KIND_STRING: {
        const text = readString(view.getUint32(at + 4, true), view.getUint32(at + 8, true));
        const codePoints = view.getUint32(at + 12, true);
        let actual = 0;
        for (const _ of text) actual++;
        if (actual !== codePoints) throw new Error(`string ${JSON.stringify(text)}: ${codePoints} code points recorded, ${actual} actual`);
        return text;
      }
      case KIND_ARRAY: {
        const ptr = view.getUint32(at + 4, true);
        const count = view.getUint32(at + 8, true);
        const out: unknown[] = [];
        for (let i = 0; i < count; i++) out.push(read(ptr + i * NODE_SIZE, depth + 1));
        return out;
      }
      case KIND_OBJECT: {
        const ptr = view.getUint32(at + 4, true);
        const count = view.getUint32(at + 8, true);
        const out: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const m = ptr + i * MEMBER_SIZE;
          const key = readString(view.getUint32(m, true), view.getUint32(m + 4, true));
          if (Object.prototype.hasOwnProperty.call(out, key)) throw new Error(`duplicate key ${JSON.stringify(key)} in tape`);
          // defineProperty, so a "__proto__" key is an own property as JSON.parse makes it
          Object.defineProperty(out, key, { value: read(m + 8, depth + 1), enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
      default:
        throw new Error(`unknown node kind ${kind} at ${at}`);
    }
  };
  return read(node, 0);
}

/** The source lexeme of the number Node at `node`, or undefined when the writer kept none. */
export function readNumberLexeme(memory: ArrayBuffer | SharedArrayBuffer, node: number): string | undefined {
  const view = new DataView(memory);
  const ptr = view.getUint32(node + 4, true);
  if (ptr === 0) return undefined;
  const len = view.getUint32(node, true) >>> 8;
  return new TextDecoder().decode(new Uint8Array(memory, ptr, len));
}
