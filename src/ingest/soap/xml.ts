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
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element, entity-decoded. */
  text: string;
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

const NAME_START = /[A-Za-z_:]/;
const NAME = /[A-Za-z0-9._:-]/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** Decodes the five predefined entities and character references; anything else is an error. */
function decode(raw: string, offset: number): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;]{0,12});?/g, (match, body: string, at: number) => {
    if (!match.endsWith(';')) throw new XmlError('"&" must start an entity reference such as &amp;', offset + at);
    if (body in PREDEFINED) return PREDEFINED[body];
    const code = /^#x[0-9A-Fa-f]{1,6}$/.test(body) ? parseInt(body.slice(2), 16) : /^#[0-9]{1,7}$/.test(body) ? parseInt(body.slice(1), 10) : NaN;
    if (!Number.isInteger(code) || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new XmlError(`unknown or invalid entity reference ${match}`, offset + at);
    }
    return String.fromCodePoint(code);
  });
}

export function parseXml(xml: string, limits: XmlLimits = DEFAULT_LIMITS): XmlElement {
  let pos = 0;
  const n = xml.length;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let elements = 0;

  const fail = (message: string, at = pos): never => { throw new XmlError(message, at); };
  const skipSpace = () => { while (pos < n && (xml[pos] === ' ' || xml[pos] === '\n' || xml[pos] === '\r' || xml[pos] === '\t')) pos++; };
  const readName = (): string => {
    const start = pos;
    if (pos >= n || !NAME_START.test(xml[pos])) fail('expected a name');
    pos++;
    while (pos < n && NAME.test(xml[pos])) pos++;
    return xml.slice(start, pos);
  };

  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    pos = end + 2;
  }

  while (pos < n) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > pos) {
      const raw = xml.slice(pos, textEnd);
      if (stack.length) stack[stack.length - 1].text += decode(raw, pos);
      else if (raw.trim()) fail('text outside the root element');
      pos = textEnd;
      if (lt < 0) break;
    }
    // pos is at '<'
    const next = xml[pos + 1];
    if (next === '!') {
      if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (xml.startsWith('<![CDATA[', pos)) {
        if (!stack.length) fail('CDATA outside the root element');
        const end = xml.indexOf(']]>', pos + 9);
        if (end < 0) fail('unterminated CDATA section');
        stack[stack.length - 1].text += xml.slice(pos + 9, end);
        pos = end + 3;
      } else {
        fail('DTD or entity declarations are not allowed');
      }
    } else if (next === '?') {
      if (/^xml[\s?]/i.test(xml.slice(pos + 2, pos + 6))) fail('the XML declaration is allowed only at the very start');
      const end = xml.indexOf('?>', pos + 2);
      if (end < 0) fail('unterminated processing instruction');
      pos = end + 2;
    } else if (next === '/') {
      pos += 2;
      const name = readName();
      skipSpace();
      if (xml[pos] !== '>') fail(`expected ">" to close </${name}`);
      pos++;
      const open = stack.pop();
      if (!open) fail(`closing tag </${name}> without an opening tag`);
      if (open!.name !== name) fail(`closing tag </${name}> does not match <${open!.name}>`);
    } else {
      pos++;
      const name = readName();
      const element: XmlElement = { name, local: localName(name), attributes: {}, children: [], text: '' };
      if (++elements > limits.maxElements) fail(`more than ${limits.maxElements} elements`);
      for (;;) {
        const before = pos;
        skipSpace();
        if (xml[pos] === '>' || xml.startsWith('/>', pos)) break;
        if (pos === before) fail(`expected whitespace, ">" or "/>" in <${name}>`);
        const attr = readName();
        skipSpace();
        if (xml[pos] !== '=') fail(`attribute ${attr} needs a value`);
        pos++;
        skipSpace();
        const quote = xml[pos];
        if (quote !== '"' && quote !== "'") fail(`value of attribute ${attr} must be quoted`);
        const end = xml.indexOf(quote, pos + 1);
        if (end < 0) fail(`unterminated value of attribute ${attr}`);
        const raw = xml.slice(pos + 1, end);
        if (raw.includes('<')) fail(`"<" in the value of attribute ${attr}`);
        if (attr in element.attributes) fail(`attribute ${attr} appears twice in <${name}>`);
        element.attributes[attr] = decode(raw, pos + 1);
        pos = end + 1;
      }
      if (stack.length) stack[stack.length - 1].children.push(element);
      else if (root) fail('more than one root element');
      else root = element;
      if (xml[pos] === '/') {
        pos += 2; // empty element
      } else {
        pos++;
        if (stack.length + 1 > limits.maxDepth) fail(`elements nested deeper than ${limits.maxDepth}`);
        stack.push(element);
      }
    }
  }
  if (stack.length) fail(`element <${stack[stack.length - 1].name}> is not closed`);
  if (!root) fail('no root element');
  return root!;
}
