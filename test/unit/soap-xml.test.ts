import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { XMLValidator } from 'fast-xml-parser';
import { XmlError, parseXml } from '../../src/ingest/soap/xml.ts';

test('reads elements, prefixes, attributes, entities, character references, CDATA and comments', () => {
  const root = parseXml(`<?xml version="1.0"?>\n<!-- c --><s:E xmlns:s="u" a='1 &amp; 2'><x>&lt;a&gt; &#65;&#x42; &quot;&apos;</x><y/><z><![CDATA[<raw>&]]></z><?pi x?></s:E>`);
  assert.equal(root.name, 's:E');
  assert.equal(root.local, 'E');
  assert.deepEqual(root.attributes, { 'xmlns:s': 'u', a: '1 & 2' });
  assert.deepEqual(root.children.map((c) => [c.local, c.text]), [['x', '<a> AB "\''], ['y', ''], ['z', '<raw>&']]);
});

const malformed: [string, RegExp][] = [
  ['<a><b></a></b>', /does not match/],
  ['<a>', /not closed/],
  ['</a>', /without an opening tag/],
  ['<a></a><b></b>', /more than one root/],
  ['text<a/>', /text outside the root/],
  ['<a x=1/>', /must be quoted/],
  ['<a x="1" x="2"/>', /appears twice/],
  ['<a x="<"/>', /"<" in the value/],
  ['<a>&bogus;</a>', /unknown or invalid entity/],
  ['<a>& </a>', /must start an entity reference/],
  ['<a>&#0;</a>', /invalid entity/],
  ['<!DOCTYPE a><a/>', /DTD/],
  ['<a><!ENTITY x "y"></a>', /DTD/],
  ['<a><!-- x</a>', /unterminated comment/],
  ['<a x="1"y="2"/>', /expected whitespace/],
  ['', /no root element/],
  ['<1a/>', /expected a name/],
];
for (const [xml, reason] of malformed) {
  test(`refuses ${JSON.stringify(xml)}`, () => {
    assert.throws(() => parseXml(xml), (e: Error) => e instanceof XmlError && reason.test(e.message));
  });
}

test('depth and element count are capped', () => {
  assert.throws(() => parseXml('<a>'.repeat(40) + '</a>'.repeat(40)), /nested deeper than 32/);
  assert.throws(() => parseXml(`<a>${'<b/>'.repeat(6000)}</a>`), /more than 5000 elements/);
});

/** Deterministic pseudo-random mutations of real fixtures. */
function* mutations(seedText: string, count: number): Generator<string> {
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = ['<', '>', '/', '&', ';', '"', "'", '=', ' ', 'a', ':', '!', '?', '-', '[', ']', '#', 'x'];
  for (let i = 0; i < count; i++) {
    let s = seedText;
    for (let k = 1 + rnd(3); k > 0; k--) {
      const at = rnd(s.length);
      const op = rnd(3);
      if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + rnd(4));
      else if (op === 1) s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at);
      else s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at + 1);
    }
    yield s;
  }
}

test('fuzz: only XmlError escapes, and nothing the reference validator calls malformed is accepted', () => {
  const dir = new URL('../fixtures/soap/', import.meta.url);
  const seeds = readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => readFileSync(new URL(f, dir), 'utf8').replace(/^\uFEFF/, ''));
  let accepted = 0;
  let checked = 0;
  for (const seed of seeds) {
    for (const xml of mutations(seed, 1500)) {
      checked++;
      let ok = false;
      try { parseXml(xml); ok = true; } catch (e) { assert.ok(e instanceof XmlError, `unexpected ${(e as Error).name}: ${(e as Error).message}`); }
      if (ok) {
        accepted++;
        const reference = XMLValidator.validate(xml);
        assert.equal(reference, true, `accepted what the reference validator rejects: ${JSON.stringify(xml)} -> ${JSON.stringify(reference)}`);
      }
    }
  }
  assert.ok(accepted > 100 && accepted < checked, `the mutations exercise both outcomes (${accepted} of ${checked} accepted)`);
});

test('attribute names are own keys only: __proto__ and toString are ordinary names, each allowed once', () => {
  const root = parseXml('<a __proto__="1" toString="2"/>');
  assert.deepEqual(Object.keys(root.attributes), ['__proto__', 'toString']);
  assert.equal(Object.getPrototypeOf(root.attributes), Object.prototype);
  assert.throws(() => parseXml('<a toString="1" toString="2"/>'), /attribute toString appears twice/);
  assert.throws(() => parseXml('<a>&constructor;</a>'), /unknown or invalid entity reference &constructor;/);
});
