// parse.ts reads the usual Web Sensor message with a flat reader (readFlatSoap) instead of an element
// tree. It must read exactly what the tree reads, and leave everything else to the tree: these check
// that the usual messages do take the flat path (so that comparing the two means something), that
// each shape it does not read falls back, and that the two agree on messages mutated at random.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFlatSoap } from '../../src/ingest/soap/xml.ts';
import { parseSoap, parseSoapByTree } from '../../src/ingest/soap/parse.ts';
import { fieldEditedSoap, flatReaderDisagreement, flatSoapChars, flatSoapSeeds, mutated } from '../helpers/fuzz-targets.ts';
import { fixture } from '../helpers/fixtures.ts';

const ctx = { entryToken: 'tok12345678', receivedAt: Date.UTC(2026, 11, 6, 9, 0, 0), remoteAddress: '10.0.0.5', contentType: 'text/xml' };
const NAMES = ['InsertTx5xxSample', 'InsertTx5xxCO2Sample', 'passKey', 'temp'];
const text = (raw: Buffer) => (raw[0] === 0xef ? raw.toString('utf8', 3) : raw.toString());

test('the manual\'s messages and the simulator\'s are read flat, with the fields in document order', () => {
  for (const raw of flatSoapSeeds) {
    const flat = readFlatSoap(text(raw), NAMES);
    assert.ok(flat, text(raw).slice(0, 200));
    assert.match(flat.operation, /^InsertTx5xx(CO2)?Sample$/);
    assert.ok(flat.count >= 10);
    assert.equal(flatReaderDisagreement(raw), null);
  }
  const trhp = readFlatSoap(fixture('soap', 't7611-trhp.xml').toString(), NAMES)!;
  assert.deepEqual(trhp.locals.slice(0, 3), ['passKey', 'device', 'temp']);
  assert.deepEqual(trhp.texts.slice(0, 3), ['21950017', '4178', '4.3']);
});

test('every other shape is left to the element tree, which reads it as before', () => {
  const base = fixture('soap', 't7611-trhp.xml').toString();
  const variants: [string, string][] = [
    ['an entity reference', base.replace('<compType>Dew point', '<compType>Dew&#32;point')],
    ['a comment', base.replace('<temp>', '<!-- t --><temp>')],
    ['CDATA', base.replace('<temp>4.3', '<temp><![CDATA[4.3]]>')],
    ['a SOAP Header', base.replace('<soap:Body>', '<soap:Header/><soap:Body>')],
    ['an attribute on a field', base.replace('<temp>', '<temp unit="C">')],
    ['white space in a field tag', base.replace('</temp>', '</temp >')],
    ['an empty-element field', base.replace('<timer>60</timer>', '<timer/>')],
    ['a nested field', base.replace('<temp>4.3</temp>', '<temp><v>4.3</v></temp>')],
    ['text between fields', base.replace('<temp>', 'x<temp>')],
    ['a no-break space between fields', base.replace('   <temp>', '\u00a0<temp>')],
    ['a processing instruction', base.replace('<temp>', '<?pi x?><temp>')],
    ['a P-line message', fixture('soap', 'p8541-provisional.xml').toString()],
    ['an unclosed field', base.replace('</temp>', '')],
    ['a mismatched close tag', base.replace('</temp>', '</tempX>')],
    ['a duplicate attribute', base.replace('<soap:Body>', '<soap:Body a="1" a="2">')],
    ['"<" in an attribute value', base.replace('<soap:Body>', '<soap:Body a="<">')],
    ['text after the envelope', `${base}x`],
    ['a Body of another name', base.replace('<soap:Body>', '<soap:Bodies>').replace('</soap:Body>', '</soap:Bodies>')],
    ['an Envelope of another name', base.replace('<soap:Envelope', '<soap:Letter').replace('</soap:Envelope>', '</soap:Letter>')],
    ['a non-empty Header before the Body', base.replace('<soap:Body>', '<soap:Header><auth>x</auth></soap:Header><soap:Body>')],
  ];
  for (const [what, xml] of variants) {
    assert.equal(readFlatSoap(xml, NAMES), null, what);
    assert.equal(flatReaderDisagreement(Buffer.from(xml)), null, what);
  }
  // The tree reader still refuses what it refused, with its own reasons.
  const nested = parseSoap(Buffer.from(variants[7][1]), ctx);
  assert.ok(!nested.ok && nested.reason === 'element <temp> must hold text, not elements');
  const unclosed = parseSoap(Buffer.from(variants[12][1]), ctx);
  assert.ok(!unclosed.ok && unclosed.reason.startsWith('malformed XML'));
  const noBody = parseSoap(Buffer.from(variants[17][1]), ctx);
  assert.ok(!noBody.ok && noBody.reason === 'SOAP <Body> element missing');
  const withHeader = parseSoap(Buffer.from(variants[19][1]), ctx);
  assert.ok(withHeader.ok, 'a Header is read by the tree');
});

test('refusals found by the flat path are those of the tree: a repeated field, a bad number', () => {
  const base = fixture('soap', 't7611-trhp.xml').toString();
  for (const xml of [base.replace('<temp>4.3</temp>', '<temp>4.3</temp><temp>4.4</temp>'), base.replace('<temp>4.3', '<temp>4,3')]) {
    assert.ok(readFlatSoap(xml, NAMES), 'read flat');
    const flat = parseSoap(Buffer.from(xml), ctx);
    assert.ok(!flat.ok);
    assert.deepEqual(flat, parseSoapByTree(Buffer.from(xml), ctx));
  }
});

test('the flat reader and the element tree agree on 3,000 mutated messages, a good share of them read flat', () => {
  let readFlat = 0;
  let accepted = 0;
  fc.assert(fc.property(fc.oneof(fieldEditedSoap, mutated(flatSoapSeeds, flatSoapChars)), (raw) => {
    if (readFlatSoap(text(raw), NAMES)) readFlat++;
    if (parseSoap(raw, ctx).ok) accepted++;
    const problem = flatReaderDisagreement(raw);
    if (problem) throw new Error(problem);
  }), { seed: 20261206, numRuns: 3000 });
  // Mutations that keep the shape must be common, or the comparison above says little.
  assert.ok(readFlat >= 1000, `${readFlat} of 3000 read flat`);
  assert.ok(accepted >= 50, `${accepted} of 3000 accepted`);
});
