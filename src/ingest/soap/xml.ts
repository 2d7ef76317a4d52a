// A strict, small XML reader for device SOAP messages (well under 16 KiB, a few dozen flat
// elements). Written for the hot ingest path: about ten times faster here than a general
// parser (bench/ingest-soap.ts, mode parse-only), and it refuses by construction what devices
// never send: DTDs, entity declarations, any entity but the five predefined ones and
// character references. Not a general XML parser: no namespace resolution beyond prefixes.

export interface XmlElement {
  /** Name as written, with its prefix if any. */
  name: string;
  /** Name without prefix. */
  local: string;
  /** Read-only for callers (an element without attributes shares one empty object). */
  attributes: Record<string, string>;
  /** Read-only for callers (an element without children shares one empty list). */
  children: XmlElement[];
  /** Concatenated character data directly inside this element, entity-decoded. */
  text: string;
}

/**
 * obj[key] = value as an own property whatever the key: plain assignment would set the prototype
 * for "__proto__". Device input names keys here, so inherited names must mean nothing.
 */
export function setOwn(obj: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

export class XmlError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at character ${offset})`);
    this.offset = offset;
  }
}

export interface XmlLimits { maxDepth: number; maxElements: number }
const DEFAULT_LIMITS: XmlLimits = { maxDepth: 32, maxElements: 5000 };

// Most elements of a device message have no attributes and no children: they share these until
// they get their own (a message's dozens of elements then allocate a dozen fewer objects each).
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_CHILDREN: XmlElement[] = Object.freeze([]) as unknown as XmlElement[];

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

// Name characters by char code, built from the two classes they stand for: a table lookup per
// character instead of a one-character string and a regex test (the reader's main cost before).
const NAME_START_CHAR = 1;
const NAME_CHAR = 2;
const NAME_CLASS = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const ch = String.fromCharCode(code);
  if (/[A-Za-z_:]/.test(ch)) NAME_CLASS[code] |= NAME_START_CHAR;
  if (/[A-Za-z0-9._:-]/.test(ch)) NAME_CLASS[code] |= NAME_CHAR;
}

const TAB = 9, LF = 10, CR = 13, SPACE = 32, BANG = 33, DOUBLE_QUOTE = 34, SINGLE_QUOTE = 39, SLASH = 47, EQUALS = 61, GT = 62, QUESTION = 63;

function failAt(message: string, at: number): never { throw new XmlError(message, at); }

/** End of the name that starts at `start`; refuses a position where no name starts. */
function nameEnd(xml: string, start: number): number {
  const first = xml.charCodeAt(start); // NaN past the end, which is no name character
  if (!(first < 128 && NAME_CLASS[first] & NAME_START_CHAR)) failAt('expected a name', start);
  let pos = start + 1;
  for (let code = xml.charCodeAt(pos); code < 128 && NAME_CLASS[code] & NAME_CHAR; code = xml.charCodeAt(++pos));
  return pos;
}

function isNameChar(code: number): boolean { return code < 128 && (NAME_CLASS[code] & NAME_CHAR) !== 0; }

// Attribute names devices send, handed out as these constant strings: used as a property key,
// a constant is found by its cached hash, where a newly sliced name is hashed and interned.
const COMMON_ATTRIBUTE_NAMES = ['xmlns', 'xmlns:soap', 'xmlns:xsi', 'xmlns:xsd', 'xmlns:s', 'xmlns:SOAP-ENV', 'i'];

function attributeName(xml: string, start: number, end: number): string {
  for (const name of COMMON_ATTRIBUTE_NAMES) if (name.length === end - start && xml.startsWith(name, start)) return name;
  return xml.slice(start, end);
}

/** First position at or after `pos` that is not XML white space. */
function skipSpace(xml: string, pos: number): number {
  for (let code = xml.charCodeAt(pos); code === SPACE || code === LF || code === CR || code === TAB; code = xml.charCodeAt(++pos));
  return pos;
}

/** Decodes the five predefined entities and character references; anything else is an error. */
function decode(raw: string, offset: number): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;]{0,12});?/g, (match, body: string, at: number) => {
    if (!match.endsWith(';')) throw new XmlError('"&" must start an entity reference such as &amp;', offset + at);
    if (Object.hasOwn(PREDEFINED, body)) return PREDEFINED[body];
    const code = /^#x[0-9A-Fa-f]{1,6}$/.test(body) ? parseInt(body.slice(2), 16) : /^#[0-9]{1,7}$/.test(body) ? parseInt(body.slice(1), 10) : NaN;
    if (!Number.isInteger(code) || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new XmlError(`unknown or invalid entity reference ${match}`, offset + at);
    }
    return String.fromCodePoint(code);
  });
}

export function parseXml(xml: string, limits: XmlLimits = DEFAULT_LIMITS): XmlElement {
  const n = xml.length;
  const stack: XmlElement[] = [];
  let current: XmlElement | null = null; // the innermost open element, top of the stack
  let root: XmlElement | null = null;
  let elements = 0;
  let pos = 0;
  const mayHaveEntities = xml.includes('&'); // one search for the document instead of one per text run

  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) failAt('unterminated XML declaration', pos);
    pos = end + 2;
  }

  while (pos < n) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > pos) {
      const raw = xml.slice(pos, textEnd);
      if (current) {
        const text = mayHaveEntities ? decode(raw, pos) : raw;
        current.text = current.text === '' ? text : current.text + text; // usually the only run: no concatenation
      }
      else if (raw.trim()) failAt('text outside the root element', pos);
      pos = textEnd;
      if (lt < 0) break;
    }
    // pos is at '<'
    const next = xml.charCodeAt(pos + 1);
    if (next === BANG) {
      if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos + 4);
        if (end < 0) failAt('unterminated comment', pos);
        pos = end + 3;
      } else if (xml.startsWith('<![CDATA[', pos)) {
        if (!current) failAt('CDATA outside the root element', pos);
        const end = xml.indexOf(']]>', pos + 9);
        if (end < 0) failAt('unterminated CDATA section', pos);
        current!.text += xml.slice(pos + 9, end);
        pos = end + 3;
      } else {
        failAt('DTD or entity declarations are not allowed', pos);
      }
    } else if (next === QUESTION) {
      if (/^xml[\s?]/i.test(xml.slice(pos + 2, pos + 6))) failAt('the XML declaration is allowed only at the very start', pos);
      const end = xml.indexOf('?>', pos + 2);
      if (end < 0) failAt('unterminated processing instruction', pos);
      pos = end + 2;
    } else if (next === SLASH) {
      const nameStart = pos + 2;
      // Usual case first: the open element's name, compared in place, and no longer name
      // after it; otherwise read the name for the error message.
      let end = current === null ? -1 : nameStart + current.name.length;
      const matches = current !== null && xml.startsWith(current.name, nameStart) && !isNameChar(xml.charCodeAt(end));
      if (!matches) end = nameEnd(xml, nameStart);
      const name = matches ? current!.name : xml.slice(nameStart, end);
      pos = skipSpace(xml, end);
      if (xml.charCodeAt(pos) !== GT) failAt(`expected ">" to close </${name}`, pos);
      pos++;
      if (!current) failAt(`closing tag </${name}> without an opening tag`, pos);
      if (!matches) failAt(`closing tag </${name}> does not match <${current!.name}>`, pos);
      stack.pop();
      current = stack.length ? stack[stack.length - 1] : null;
    } else {
      const nameStart = pos + 1;
      pos = nameEnd(xml, nameStart);
      const name = xml.slice(nameStart, pos);
      const colon = name.indexOf(':');
      const element: XmlElement = { name, local: colon < 0 ? name : name.slice(colon + 1), attributes: NO_ATTRIBUTES, children: NO_CHILDREN, text: '' };
      if (++elements > limits.maxElements) failAt(`more than ${limits.maxElements} elements`, pos);
      for (;;) {
        const before = pos;
        pos = skipSpace(xml, pos);
        const code = xml.charCodeAt(pos);
        if (code === GT || (code === SLASH && xml.charCodeAt(pos + 1) === GT)) break;
        if (pos === before) failAt(`expected whitespace, ">" or "/>" in <${name}>`, pos);
        const attrStart = pos;
        pos = nameEnd(xml, attrStart);
        const attr = attributeName(xml, attrStart, pos);
        pos = skipSpace(xml, pos);
        if (xml.charCodeAt(pos) !== EQUALS) failAt(`attribute ${attr} needs a value`, pos);
        pos = skipSpace(xml, pos + 1);
        const quote = xml.charCodeAt(pos);
        if (quote !== DOUBLE_QUOTE && quote !== SINGLE_QUOTE) failAt(`value of attribute ${attr} must be quoted`, pos);
        const end = xml.indexOf(quote === DOUBLE_QUOTE ? '"' : "'", pos + 1);
        if (end < 0) failAt(`unterminated value of attribute ${attr}`, pos);
        const raw = xml.slice(pos + 1, end);
        if (raw.includes('<')) failAt(`"<" in the value of attribute ${attr}`, pos);
        if (element.attributes === NO_ATTRIBUTES) element.attributes = {};
        else if (Object.hasOwn(element.attributes, attr)) failAt(`attribute ${attr} appears twice in <${name}>`, pos);
        setOwn(element.attributes, attr, decode(raw, pos + 1));
        pos = end + 1;
      }
      if (current) {
        if (current.children === NO_CHILDREN) current.children = [element];
        else current.children.push(element);
      }
      else if (root) failAt('more than one root element', pos);
      else root = element;
      if (xml.charCodeAt(pos) === SLASH) {
        pos += 2; // empty element
      } else {
        pos++;
        if (stack.length + 1 > limits.maxDepth) failAt(`elements nested deeper than ${limits.maxDepth}`, pos);
        stack.push(element);
        current = element;
      }
    }
  }
  if (current) failAt(`element <${current.name}> is not closed`, pos);
  if (!root) failAt('no root element', pos);
  return root!;
}

// ---------------------------------------------------------------------------------------------
// The flat reader: the one shape every Web Sensor sends, read without building elements.

/**
 * What readFlatSoap read: the operation's local name, and its fields' local names and texts in
 * document order. One object, overwritten by every call: the reader runs on one thread and its
 * result is read before the next message.
 */
export interface FlatSoap { operation: string; count: number; locals: string[]; texts: string[] }

const FLAT: FlatSoap = { operation: '', count: 0, locals: [], texts: [] };
/** More fields than any device sends: such a message is left to parseXml. */
const MAX_FLAT_FIELDS = 64;
/** Attributes a wrapper element may carry here (namespace declarations); more are left to parseXml. */
const MAX_FLAT_ATTRIBUTES = 8;
const attributeStarts = new Int32Array(MAX_FLAT_ATTRIBUTES);
const attributeEnds = new Int32Array(MAX_FLAT_ATTRIBUTES);
const LT = 60;
const NOT_FLAT = -1;

/** End of the name at `start` as nameEnd() reads it, or NOT_FLAT where no name starts. */
function flatNameEnd(xml: string, start: number): number {
  const first = xml.charCodeAt(start);
  if (!(first < 128 && NAME_CLASS[first] & NAME_START_CHAR)) return NOT_FLAT;
  let pos = start + 1;
  for (let code = xml.charCodeAt(pos); code < 128 && NAME_CLASS[code] & NAME_CHAR; code = xml.charCodeAt(++pos));
  return pos;
}

/** Whether xml[a, a + length) and xml[b, b + length) hold the same characters. */
function sameText(xml: string, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (xml.charCodeAt(a + k) !== xml.charCodeAt(b + k)) return false;
  return true;
}

/** Where the local name of the name xml[start, end) starts: after its first colon, as XmlElement.local. */
function localStart(xml: string, start: number, end: number): number {
  for (let i = start; i < end; i++) if (xml.charCodeAt(i) === 58 /* : */) return i + 1;
  return start;
}

/** xml[start, end) as one of `names` when it is one (a constant string), else sliced. */
function internedText(xml: string, start: number, end: number, names: readonly string[]): string {
  for (const name of names) if (name.length === end - start && xml.startsWith(name, start)) return name;
  return xml.slice(start, end);
}

/**
 * The attributes of the start tag whose name ends at `pos`, up to and past its ">", checked as
 * parseXml checks them (whitespace before each, a name, "=", a quoted value without "<", no name
 * twice); their values are not kept. The position after ">", or NOT_FLAT for anything else,
 * "/>" included.
 */
function flatAttributes(xml: string, pos: number): number {
  let count = 0;
  for (;;) {
    const before = pos;
    pos = skipSpace(xml, pos);
    if (xml.charCodeAt(pos) === GT) return pos + 1;
    if (pos === before || count === MAX_FLAT_ATTRIBUTES) return NOT_FLAT;
    const nameStart = pos;
    pos = flatNameEnd(xml, nameStart);
    if (pos === NOT_FLAT) return NOT_FLAT;
    for (let a = 0; a < count; a++) {
      if (attributeEnds[a] - attributeStarts[a] === pos - nameStart && sameText(xml, attributeStarts[a], nameStart, pos - nameStart)) return NOT_FLAT;
    }
    attributeStarts[count] = nameStart;
    attributeEnds[count++] = pos;
    pos = skipSpace(xml, pos);
    if (xml.charCodeAt(pos) !== EQUALS) return NOT_FLAT;
    pos = skipSpace(xml, pos + 1);
    const quote = xml.charCodeAt(pos);
    if (quote !== DOUBLE_QUOTE && quote !== SINGLE_QUOTE) return NOT_FLAT;
    const end = xml.indexOf(quote === DOUBLE_QUOTE ? '"' : "'", pos + 1);
    if (end < 0) return NOT_FLAT;
    const lt = xml.indexOf('<', pos + 1);
    if (lt >= 0 && lt < end) return NOT_FLAT;
    pos = end + 1;
  }
}

/** Where the name of the start tag flatStartTag() last read starts and ends (set there, to return one number). */
let tagNameStart = 0;
let tagNameEnd = 0;

/**
 * A wrapper's start tag after white space from `pos`, with the local name `local` (any, if null),
 * its attributes checked by flatAttributes(): the position after its ">", or NOT_FLAT.
 */
function flatStartTag(xml: string, pos: number, local: string | null): number {
  pos = skipSpace(xml, pos);
  if (xml.charCodeAt(pos) !== LT) return NOT_FLAT;
  const nameStart = pos + 1;
  const nameEnd = flatNameEnd(xml, nameStart);
  if (nameEnd === NOT_FLAT || (local !== null && !isLocal(xml, nameStart, nameEnd, local))) return NOT_FLAT;
  tagNameStart = nameStart;
  tagNameEnd = nameEnd;
  return flatAttributes(xml, nameEnd);
}

/** The position after the close tag of the element named xml[nameStart, nameEnd) when one starts at `pos`, else NOT_FLAT. */
function flatCloseTag(xml: string, pos: number, nameStart: number, nameEnd: number): number {
  const length = nameEnd - nameStart;
  if (xml.charCodeAt(pos) !== LT || xml.charCodeAt(pos + 1) !== SLASH || !sameText(xml, nameStart, pos + 2, length)) return NOT_FLAT;
  return xml.charCodeAt(pos + 2 + length) === GT ? pos + 3 + length : NOT_FLAT;
}

/**
 * Reads a SOAP message of exactly this shape, the one Web Sensors send, without building an element
 * per tag (parseXml's tree was most of the cost and of the memory of reading an upload):
 *
 *     [<?xml ...?>] <p:Envelope attributes> <p:Body attributes> <Operation attributes>
 *         <field>text</field> ...   </Operation> </p:Body> </p:Envelope>
 *
 * with only XML white space between tags. Anything else returns null: entity or character
 * references, comments, CDATA, processing instructions, a Header, text between elements, attributes
 * or white space in a field's tags, nested or empty-element fields, another tag. parseXml then reads
 * the message, and gives its errors. Whatever this reads, parseXml reads the same way, with the same
 * names and texts; test/helpers/fuzz-targets.ts holds them to it. `names` are returned as constants
 * when a local name is one of them.
 */
export function readFlatSoap(xml: string, names: readonly string[]): FlatSoap | null {
  if (xml.includes('&')) return null; // entity and character references: parseXml decodes them
  let pos = 0;
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) return null;
    pos = end + 2;
  }
  // The three wrappers: Envelope, Body, the operation.
  pos = flatStartTag(xml, pos, 'Envelope');
  if (pos === NOT_FLAT) return null;
  const envelopeStart = tagNameStart;
  const envelopeEnd = tagNameEnd;
  pos = flatStartTag(xml, pos, 'Body');
  if (pos === NOT_FLAT) return null;
  const bodyStart = tagNameStart;
  const bodyEnd = tagNameEnd;
  pos = flatStartTag(xml, pos, null);
  if (pos === NOT_FLAT) return null;
  const operationStart = tagNameStart;
  const operationEnd = tagNameEnd;
  // The fields, up to the operation's close tag.
  let count = 0;
  for (;;) {
    pos = skipSpace(xml, pos);
    if (xml.charCodeAt(pos) !== LT) return null;
    if (xml.charCodeAt(pos + 1) === SLASH) break;
    const nameStart = pos + 1;
    const nameEnd = flatNameEnd(xml, nameStart);
    if (nameEnd === NOT_FLAT || xml.charCodeAt(nameEnd) !== GT || count === MAX_FLAT_FIELDS) return null;
    const textStart = nameEnd + 1;
    const lt = xml.indexOf('<', textStart);
    if (lt < 0) return null;
    const after = flatCloseTag(xml, lt, nameStart, nameEnd);
    if (after === NOT_FLAT) return null;
    FLAT.locals[count] = internedText(xml, localStart(xml, nameStart, nameEnd), nameEnd, names);
    FLAT.texts[count++] = xml.slice(textStart, lt);
    pos = after;
  }
  pos = flatCloseTag(xml, pos, operationStart, operationEnd);
  if (pos === NOT_FLAT) return null;
  pos = flatCloseTag(xml, skipSpace(xml, pos), bodyStart, bodyEnd);
  if (pos === NOT_FLAT) return null;
  pos = flatCloseTag(xml, skipSpace(xml, pos), envelopeStart, envelopeEnd);
  if (pos === NOT_FLAT || skipSpace(xml, pos) !== xml.length) return null;
  FLAT.operation = internedText(xml, localStart(xml, operationStart, operationEnd), operationEnd, names);
  FLAT.count = count;
  // Texts of an earlier, longer message are let go.
  FLAT.locals.length = count;
  FLAT.texts.length = count;
  return FLAT;
}

/** Whether the local name of xml[start, end) is `local`. */
function isLocal(xml: string, start: number, end: number, local: string): boolean {
  const at = localStart(xml, start, end);
  return end - at === local.length && xml.startsWith(local, at);
}
