// A small, strict JSON body reader for device uploads. JSON.parse alone would accept a body of any size
// and nesting, silently keep the last of duplicate keys, and turn 1e999 into Infinity.

export interface JsonBodyLimits {
  maxBytes: number;
  maxDepth: number;
}

export type JsonBodyResult =
  | { ok: true; value: unknown }
  | { ok: false; status: number; reason: string };

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function readJsonBody(raw: Buffer, limits: JsonBodyLimits): JsonBodyResult {
  if (raw.length > limits.maxBytes) {
    return { ok: false, status: 413, reason: `body is ${raw.length} bytes; the limit is ${limits.maxBytes}` };
  }
  // Defensive: no COMET source shows a BOM, but stripping one costs nothing.
  const start = UTF8_BOM.every((b, i) => raw[i] === b) ? UTF8_BOM.length : 0;
  let text: string;
  try {
    text = strictUtf8.decode(raw.subarray(start));
  } catch {
    return { ok: false, status: 400, reason: 'body is not valid UTF-8' };
  }
  if (text.trim() === '') return { ok: false, status: 400, reason: 'body is empty' };

  // Checked before JSON.parse so that a hostile nesting depth never reaches the parser.
  const scan = scanStructure(text, limits.maxDepth);
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
  const nonFinite = findNonFiniteNumber(value, '');
  if (nonFinite !== null) {
    return { ok: false, status: 400, reason: `number at ${nonFinite || 'the top level'} is too large to be finite` };
  }
  return { ok: true, value };
}

interface Frame {
  isObject: boolean;
  keys: Set<string>;
  expectingKey: boolean;
}

/**
 * One linear pass over the text: nesting depth, and the first key repeated within one object.
 * Key detection assumes well-formed JSON; on malformed input JSON.parse reports the real error.
 */
function scanStructure(text: string, maxDepth: number): { tooDeep: boolean; duplicateKey: string | null } {
  const stack: Frame[] = [];
  let duplicateKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const end = endOfString(text, i);
      const top = stack.at(-1);
      if (top?.isObject && top.expectingKey && duplicateKey === null) {
        const key = decodeKey(text.slice(i, end + 1));
        if (top.keys.has(key)) duplicateKey = key;
        top.keys.add(key);
        top.expectingKey = false;
      }
      i = end;
    } else if (ch === '{' || ch === '[') {
      if (stack.length >= maxDepth) return { tooDeep: true, duplicateKey };
      stack.push({ isObject: ch === '{', keys: new Set(), expectingKey: ch === '{' });
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      const top = stack.at(-1);
      if (top?.isObject) top.expectingKey = true;
    }
  }
  return { tooDeep: false, duplicateKey };
}

/** Index of the closing quote of the string opening at `start` (or the text's end if unterminated). */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length;
}

function decodeKey(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted; // malformed escape: JSON.parse of the whole body will report it
  }
}

function findNonFiniteNumber(value: unknown, path: string): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonFiniteNumber(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = findNonFiniteNumber(item, path ? `${path}.${key}` : key);
      if (found !== null) return found;
    }
  }
  return null;
}
