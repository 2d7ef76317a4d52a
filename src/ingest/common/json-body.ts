// A small, strict JSON body reader for device uploads. JSON.parse alone would accept a body of any size
// and nesting, silently keep the last of duplicate keys, and turn 1e999 into Infinity.
import { isUtf8 } from 'node:buffer';

export interface JsonBodyLimits {
  maxBytes: number;
  maxDepth: number;
}

export type JsonBodyResult =
  | { ok: true; value: unknown }
  | { ok: false; status: number; reason: string };

const UTF8_BOM = [0xef, 0xbb, 0xbf];

export function readJsonBody(raw: Buffer, limits: JsonBodyLimits): JsonBodyResult {
  if (raw.length > limits.maxBytes) {
    return { ok: false, status: 413, reason: `body is ${raw.length} bytes; the limit is ${limits.maxBytes}` };
  }
  // Defensive: no COMET source shows a BOM, but stripping one costs nothing.
  const bytes = UTF8_BOM.every((b, i) => raw[i] === b) ? raw.subarray(UTF8_BOM.length) : raw;
  // isUtf8 refuses what a fatal TextDecoder refuses (overlong forms, surrogates, beyond U+10FFFF)
  // and, with toString, is many times faster on a 10 MB logger backlog.
  if (!isUtf8(bytes)) return { ok: false, status: 400, reason: 'body is not valid UTF-8' };
  const text = bytes.toString('utf8');
  if (text.trim() === '') return { ok: false, status: 400, reason: 'body is empty' };

  // Checked before JSON.parse so that a hostile nesting depth never reaches the parser. The scan
  // reads the bytes: every character it looks for is ASCII, which UTF-8 never uses inside another.
  const scan = scanStructure(bytes, limits.maxDepth);
  if (scan.tooDeep) return { ok: false, status: 400, reason: `JSON nesting is deeper than ${limits.maxDepth} levels` };

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, status: 400, reason: `malformed JSON: ${(err as Error).message}` };
  }
  if (scan.duplicateKey !== null) {
    return { ok: false, status: 400, reason: `duplicate key "${scan.duplicateKey}" in a JSON object` };
  }
  const nonFinite = scan.mayOverflow ? findNonFiniteNumber(value) : null;
  if (nonFinite !== null) {
    return { ok: false, status: 400, reason: `number at ${nonFinite.replace(/^\./, '') || 'the top level'} is too large to be finite` };
  }
  return { ok: true, value };
}

/** An open object (with the keys seen so far) or array; arrays need no key set, and loggers send nothing else. */
interface Frame {
  keys: Set<string> | null;
  expectingKey: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const LOWER_E = 0x65;
const UPPER_E = 0x45;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** No number of fewer digits and no exponent can exceed Number.MAX_VALUE (about 1.8e308). */
const MAX_FINITE_DIGITS = 308;

/**
 * One linear pass over the bytes: nesting depth, the first key repeated within one object, and
 * whether a number might be too large to be finite (only one with an exponent or more than 308
 * digits can be, so a logger backlog is not walked again after parsing). Key detection assumes
 * well-formed JSON; on malformed input JSON.parse reports the real error.
 */
function scanStructure(bytes: Uint8Array, maxDepth: number): { tooDeep: boolean; duplicateKey: string | null; mayOverflow: boolean } {
  const stack: Frame[] = [];
  let duplicateKey: string | null = null;
  let mayOverflow = false;
  let digits = 0;
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i];
    if (ch >= DIGIT_0 && ch <= DIGIT_9) {
      if (++digits > MAX_FINITE_DIGITS) mayOverflow = true;
      continue;
    }
    digits = 0;
    if (ch === QUOTE) {
      const end = endOfString(bytes, i);
      const top = stack.at(-1);
      if (top?.keys && top.expectingKey && duplicateKey === null) {
        const key = decodeKey(Buffer.from(bytes.buffer, bytes.byteOffset + i, end + 1 - i).toString('utf8'));
        if (top.keys.has(key)) duplicateKey = key;
        top.keys.add(key);
        top.expectingKey = false;
      }
      i = end;
    } else if (ch === OPEN_OBJECT || ch === OPEN_ARRAY) {
      if (stack.length >= maxDepth) return { tooDeep: true, duplicateKey, mayOverflow };
      const isObject = ch === OPEN_OBJECT;
      stack.push({ keys: isObject ? new Set() : null, expectingKey: isObject });
    } else if (ch === CLOSE_OBJECT || ch === CLOSE_ARRAY) {
      stack.pop();
    } else if (ch === COMMA) {
      const top = stack.at(-1);
      if (top?.keys) top.expectingKey = true;
    } else if (ch === LOWER_E || ch === UPPER_E) {
      mayOverflow = true; // an exponent (or true/false: harmless, only the check after parsing runs)
    }
  }
  return { tooDeep: false, duplicateKey, mayOverflow };
}

/** Index of the closing quote of the string opening at `start` (or the end if unterminated). */
function endOfString(bytes: Uint8Array, start: number): number {
  for (let i = start + 1; i < bytes.length; i++) {
    const ch = bytes[i];
    if (ch === BACKSLASH) i++;
    else if (ch === QUOTE) return i;
  }
  return bytes.length;
}

function decodeKey(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted; // malformed escape: JSON.parse of the whole body will report it
  }
}

/**
 * The path (`[3].Val`, `.Channels[0].Val`) of the first non-finite number, or null. The path is built
 * on the way back up only, so a clean 10 MB logger backlog allocates no path strings.
 */
function findNonFiniteNumber(value: unknown): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : '';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonFiniteNumber(value[i]);
      if (found !== null) return `[${i}]${found}`;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const key in value) {
      const found = findNonFiniteNumber((value as Record<string, unknown>)[key]);
      if (found !== null) return `.${key}${found}`;
    }
  }
  return null;
}
