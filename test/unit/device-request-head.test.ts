// The device request head reader takes only the plain upload shape; every other head is left to
// node:http (null). Each null case below is one node:http reads differently, or refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeviceRequestHead } from '../../src/ingest/device-request-head.ts';

const PLAIN = ['POST /ingest/soap/k7Q2vX9pLr HTTP/1.1', 'Host: 192.168.1.10:8080', 'Content-Type: text/xml; charset=utf-8', 'Content-Length: 512'];
const head = (lines: string[]) => lines.join('\r\n');

test('a plain device upload is read: target, length, type; keep-alive by default', () => {
  assert.deepEqual(parseDeviceRequestHead(head(PLAIN)), { target: '/ingest/soap/k7Q2vX9pLr', contentLength: 512, contentType: 'text/xml; charset=utf-8', close: false });
});

test('header names in any case, spaces around values, unknown headers ignored, Connection options', () => {
  const r = parseDeviceRequestHead(head(['POST /ingest/json/Zp4cQ81mWt?x=1 HTTP/1.1', 'HOST: a', 'content-length:   0  ', 'X-Anything: "quoted", (odd) \t', 'Connection: Keep-Alive, close']));
  assert.deepEqual(r, { target: '/ingest/json/Zp4cQ81mWt?x=1', contentLength: 0, contentType: '', close: true });
  assert.equal(parseDeviceRequestHead(head([...PLAIN, 'Connection: keep-alive']))?.close, false);
});

test('every other request shape is left to node:http', () => {
  const cases: [string, string[]][] = [
    ['GET', ['GET /ingest/soap/k7Q2vX9pLr HTTP/1.1', ...PLAIN.slice(1)]],
    ['lower-case method', ['post /ingest/soap/k7Q2vX9pLr HTTP/1.1', ...PLAIN.slice(1)]],
    ['not under /ingest/', ['POST /api/devices HTTP/1.1', ...PLAIN.slice(1)]],
    ['absolute form', ['POST http://gw/ingest/soap/k7Q2vX9pLr HTTP/1.1', ...PLAIN.slice(1)]],
    ['HTTP/1.0', ['POST /ingest/soap/k7Q2vX9pLr HTTP/1.0', ...PLAIN.slice(1)]],
    ['HTTP/2 preface', ['PRI * HTTP/2.0']],
    ['two spaces in the request line', ['POST  /ingest/soap/k7Q2vX9pLr HTTP/1.1', ...PLAIN.slice(1)]],
    ['a space in the target', ['POST /ingest/soap/k7Q2 vX9pLr HTTP/1.1', ...PLAIN.slice(1)]],
    ['a non-ASCII byte in the target', ['POST /ingest/soap/k7Q2\xe9 HTTP/1.1', ...PLAIN.slice(1)]],
    ['no Content-Length', PLAIN.slice(0, 3)],
    ['two Content-Length', [...PLAIN, 'Content-Length: 512']],
    ['a signed Content-Length', [...PLAIN.slice(0, 3), 'Content-Length: +512']],
    ['a list as Content-Length', [...PLAIN.slice(0, 3), 'Content-Length: 512, 512']],
    ['an 11-digit Content-Length', [...PLAIN.slice(0, 3), 'Content-Length: 10000000000']],
    ['chunked', [...PLAIN.slice(0, 3), 'Transfer-Encoding: chunked']],
    ['chunked beside a length', [...PLAIN, 'Transfer-Encoding: chunked']],
    ['Expect: 100-continue', [...PLAIN, 'Expect: 100-continue']],
    ['Upgrade', [...PLAIN, 'Connection: Upgrade', 'Upgrade: websocket']],
    ['another Connection option', [...PLAIN, 'Connection: TE']],
    ['no Host', [PLAIN[0], ...PLAIN.slice(2)]],
    ['two Host', [...PLAIN, 'Host: other']],
    ['two Content-Type', [...PLAIN, 'Content-Type: text/plain']],
    ['a folded header', [...PLAIN, 'X-Long: a', ' continued']],
    ['a space before the colon', [...PLAIN, 'X-Name : v']],
    ['an empty header name', [...PLAIN, ': v']],
    ['a line without a colon', [...PLAIN, 'garbage']],
    ['a bare LF inside a line', [...PLAIN, 'X-A: a\nX-B: b']],
    ['a bare CR inside a value', [...PLAIN, 'X-A: a\rb']],
    ['a NUL in a value', [...PLAIN, 'X-A: a\x00b']],
    ['obs-text in a value', [...PLAIN, 'X-Name: Sklad \xe8. 2']],
    ['an empty line inside the head', [PLAIN[0], '', ...PLAIN.slice(1)]],
  ];
  for (const [name, lines] of cases) assert.equal(parseDeviceRequestHead(head(lines)), null, name);
});
