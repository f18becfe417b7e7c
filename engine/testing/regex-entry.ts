// Test entry for engine/regex.ts: exports the validator and the VM over two growable buffers
// that a test fills with a program and a UTF-8 string (compiler/regex/vm.test.ts).
import { regexValidate, regexSearch, regexFind, REGEX_VERSION, MAX_PROGRAM_BYTES } from "../regex";
import {
  REGEX_OP_MATCH as OP_MATCH, REGEX_OP_CHAR as OP_CHAR, REGEX_OP_RANGES as OP_RANGES, REGEX_OP_SPLIT as OP_SPLIT,
  REGEX_OP_JMP as OP_JMP, REGEX_OP_ASSERT as OP_ASSERT, REGEX_OP_SAVE as OP_SAVE,
  REGEX_ASSERT_BEGIN_TEXT as ASSERT_BEGIN_TEXT, REGEX_ASSERT_END_TEXT as ASSERT_END_TEXT,
  REGEX_ASSERT_BEGIN_LINE as ASSERT_BEGIN_LINE, REGEX_ASSERT_END_LINE as ASSERT_END_LINE,
  REGEX_ASSERT_WORD_BOUNDARY as ASSERT_WORD_BOUNDARY, REGEX_ASSERT_NOT_WORD_BOUNDARY as ASSERT_NOT_WORD_BOUNDARY,
} from "../generated/bytecode";
import { arenaReset } from "../arena";

let progPtr: usize = 0;
let progCap: usize = 0;
let textPtr: usize = 0;
let textCap: usize = 0;

/** Address of a program buffer of at least `cap` bytes (reused between calls). */
export function programBuffer(cap: u32): usize {
  if (<usize>cap > progCap) { progCap = <usize>cap; progPtr = heap.alloc(progCap == 0 ? 1 : progCap); }
  return progPtr;
}

/** Address of a text buffer of at least `cap` bytes (reused between calls). */
export function textBuffer(cap: u32): usize {
  if (<usize>cap > textCap) { textCap = <usize>cap; textPtr = heap.alloc(textCap == 0 ? 1 : textCap); }
  return textPtr;
}

export function validate(progLen: u32): bool { arenaReset(); return regexValidate(programBuffer(0), progLen); }

export function search(progLen: u32, textLen: u32): bool {
  arenaReset();
  return regexSearch(programBuffer(0), progLen, textBuffer(0), textLen);
}

export function find(progLen: u32, textLen: u32, from: u32): i64 {
  arenaReset();
  return regexFind(programBuffer(0), progLen, textBuffer(0), textLen, from);
}

/** The format constants, in the order the test lists them, so it can compare with compile.ts. */
export function formatConstant(i: u32): u32 {
  switch (i) {
    case 0: return REGEX_VERSION;
    case 1: return MAX_PROGRAM_BYTES;
    case 2: return OP_MATCH;
    case 3: return OP_CHAR;
    case 4: return OP_RANGES;
    case 5: return OP_SPLIT;
    case 6: return OP_JMP;
    case 7: return OP_ASSERT;
    case 8: return OP_SAVE;
    case 9: return ASSERT_BEGIN_TEXT;
    case 10: return ASSERT_END_TEXT;
    case 11: return ASSERT_BEGIN_LINE;
    case 12: return ASSERT_END_LINE;
    case 13: return ASSERT_WORD_BOUNDARY;
    case 14: return ASSERT_NOT_WORD_BOUNDARY;
    default: return 0xffffffff;
  }
}
