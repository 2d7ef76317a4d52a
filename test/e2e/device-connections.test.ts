// Device connections read without node:http (src/ingest/device-connections.ts), on a real loopback
// server: plain uploads are answered by the device reader ("fast …" bodies here), everything else by
// node:http ("node …"), in order, on the same connection; node:http's timeouts hold for both.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { DeviceConnections, type DeviceUploads } from '../../src/ingest/device-connections.ts';
import { parseDeviceRequestHead } from '../../src/ingest/device-request-head.ts';

interface Gateway { port: number; connections: DeviceConnections<string>; decided: string[]; gate: { wait: Promise<void> | null }; lookup: { wait: Promise<void> | null }; close(): void }

const TIMEOUTS = { keepAliveTimeoutMs: 400, headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 50 };

async function startGateway(timeouts = TIMEOUTS): Promise<Gateway> {
  const server = http.createServer({ keepAliveTimeout: timeouts.keepAliveTimeoutMs, headersTimeout: timeouts.headersTimeoutMs, requestTimeout: timeouts.requestTimeoutMs, connectionsCheckingInterval: 50 }, (req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => { n += d.length; });
    req.on('end', () => {
      const body = `node ${req.method} ${req.url} ${n}`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
      res.end(body);
    });
  });
  const decided: string[] = [];
  const gate: Gateway['gate'] = { wait: null };
  const lookup: Gateway['lookup'] = { wait: null };
  const uploads: DeviceUploads<string> = {
    route(head) {
      if (head.contentLength > 100_000) return null;
      if (head.target.startsWith('/ingest/unknown/')) return { refusal: { status: 404, contentType: 'text/plain', body: 'unknown entry point' } };
      if (head.target.startsWith('/ingest/new/')) return (lookup.wait ?? Promise.resolve()).then(() => ({ route: 'looked-up' }));
      if (head.target.startsWith('/ingest/failing/')) return Promise.reject(new Error('store away'));
      return { route: 'known' };
    },
    async decide(route, body, _socket, head) {
      decided.push(`${head.target} ${body.toString()}`);
      if (gate.wait) await gate.wait;
      return { status: 200, contentType: 'text/plain', body: `fast ${route} ${head.target} ${body.length}`, verdict: { kind: 'accepted', reason: 'stored' } };
    },
  };
  const connections = new DeviceConnections(uploads, timeouts);
  connections.readFrom(server, 'connection');
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port, connections, decided, gate, lookup,
    close: () => { connections.closeAll(); server.closeAllConnections(); server.close(); },
  };
}

const gateway = await startGateway();
after(() => gateway.close());

const post = (target: string, body: string, extra = '') => `POST ${target} HTTP/1.1\r\nHost: gw\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

interface Answer { status: number; headers: Record<string, string>; body: string }

/** Answers read from a raw connection: each by its Content-Length. */
function answersOf(text: string): Answer[] {
  const answers: Answer[] = [];
  let rest = text;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) { const i = l.indexOf(':'); headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
    const length = Number(headers['content-length'] ?? 0);
    answers.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(headEnd + 4, headEnd + 4 + length) });
    rest = rest.slice(headEnd + 4 + length);
  }
  return answers;
}

/** A raw client: write, then wait for a number of answers or for the server to close. */
function client(port = gateway.port) {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => { text += d; for (const w of waiters.splice(0)) w(); });
  socket.on('close', () => { closed = true; for (const w of waiters.splice(0)) w(); });
  socket.on('error', () => undefined);
  const until = async (done: () => boolean) => { while (!done()) await new Promise<void>((r) => waiters.push(r)); };
  return {
    socket,
    write: (s: string) => new Promise<void>((r) => socket.write(s, 'latin1', () => r())),
    answers: async (n: number) => { await until(() => closed || answersOf(text).length >= n); return answersOf(text); },
    closed: async () => { await until(() => closed); return answersOf(text); },
    get isClosed() { return closed; },
    end: () => socket.destroy(),
  };
}

test('plain uploads are answered by the device reader; a request node:http must read takes the connection, in order', async () => {
  const c = client();
  await c.write(post('/ingest/soap/tokenAAAA1', 'one'));
  assert.deepEqual((await c.answers(1)).map((a) => a.body), ['fast known /ingest/soap/tokenAAAA1 3']);
  // Pipelined in one write: an upload, a viewer request, then an upload node:http now reads too.
  await c.write(post('/ingest/soap/tokenAAAA1', 'two') + 'GET /api/live HTTP/1.1\r\nHost: gw\r\n\r\n' + post('/ingest/soap/tokenAAAA1', 'three'));
  const answers = await c.answers(4);
  assert.deepEqual(answers.map((a) => a.body), [
    'fast known /ingest/soap/tokenAAAA1 3', 'fast known /ingest/soap/tokenAAAA1 3', 'node GET /api/live 0', 'node POST /ingest/soap/tokenAAAA1 5',
  ]);
  const fast = answers[0];
  assert.equal(fast.status, 200);
  assert.equal(fast.headers['content-length'], String(fast.body.length));
  assert.equal(fast.headers.connection, 'keep-alive');
  assert.equal(fast.headers['keep-alive'], 'timeout=0');
  assert.equal(fast.headers['x-inlet-verdict'], 'accepted');
  assert.match(fast.headers.date, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.equal(fast.headers['transfer-encoding'], undefined);
  c.end();
});

test('a request trickled byte by byte, and a body sent long after its head, are read whole', async () => {
  const c = client();
  const bytes = post('/ingest/json/tokenBBBB2', '{"Sn":"1"}');
  for (const ch of bytes.slice(0, -5)) await c.write(ch);
  await new Promise((r) => setTimeout(r, 100));
  await c.write(bytes.slice(-5));
  assert.deepEqual((await c.answers(1)).map((a) => a.body), ['fast known /ingest/json/tokenBBBB2 10']);
  c.end();
});

test('Connection: close is answered and the connection closed', async () => {
  const c = client();
  await c.write(post('/ingest/soap/tokenCCCC3', 'x', 'Connection: close\r\n'));
  const answers = await c.closed();
  assert.equal(answers.length, 1);
  assert.equal(answers[0].headers.connection, 'close');
});

test('an unknown entry point is answered without its body being read, and the connection closed', async () => {
  const before = gateway.decided.length;
  const c = client();
  await c.write(post('/ingest/unknown/tokenDDDD4', 'never read'));
  const answers = await c.closed();
  assert.deepEqual(answers.map((a) => [a.status, a.body, a.headers.connection]), [[404, 'unknown entry point', 'close']]);
  assert.equal(gateway.decided.length, before);
});

test('a token looked up first: bytes arriving meanwhile are kept, then the upload is read by the device reader', async () => {
  let release!: () => void;
  gateway.lookup.wait = new Promise<void>((r) => { release = r; });
  const c = client();
  // More than the connection holds while it waits (64 KiB): it pauses, and reads on after the lookup.
  const bytes = post('/ingest/new/tokenEEEE5', 'b'.repeat(90_000));
  const headEnd = bytes.indexOf('\r\n\r\n') + 4;
  await c.write(bytes.slice(0, headEnd));
  await new Promise((r) => setTimeout(r, 50));
  await c.write(bytes.slice(headEnd));
  await new Promise((r) => setTimeout(r, 100));
  release();
  gateway.lookup.wait = null;
  assert.deepEqual((await c.answers(1)).map((a) => a.body), ['fast looked-up /ingest/new/tokenEEEE5 90000']);
  c.end();
});

test('a lookup that fails hands the request to node:http', async () => {
  const c = client();
  await c.write(post('/ingest/failing/tokenLLLL1', 'abc'));
  assert.deepEqual((await c.answers(1)).map((a) => a.body), ['node POST /ingest/failing/tokenLLLL1 3']);
  c.end();
});

test('pipelined uploads sent while one is decided are answered in order', async () => {
  let release!: () => void;
  gateway.gate.wait = new Promise<void>((r) => { release = r; });
  const c = client();
  await c.write(post('/ingest/soap/tokenFFFF6', '1') + post('/ingest/soap/tokenFFFF6', '22') + post('/ingest/soap/tokenFFFF6', '333'));
  await new Promise((r) => setTimeout(r, 50));
  gateway.gate.wait = null;
  release();
  assert.deepEqual((await c.answers(3)).map((a) => a.body.split(' ').at(-1)), ['1', '2', '3']);
  c.end();
});

test('requests of another shape go to node:http: over the route\'s limit, chunked, HTTP/1.0, Expect, a head over 16 KiB', async () => {
  const cases: [string, string, number][] = [
    [post('/ingest/soap/tokenGGGG7', 'y'.repeat(100_001)), 'node POST /ingest/soap/tokenGGGG7 100001', 200],
    ['POST /ingest/soap/tokenGGGG7 HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'node POST /ingest/soap/tokenGGGG7 3', 200],
    ['POST /ingest/soap/tokenGGGG7 HTTP/1.0\r\nContent-Length: 2\r\n\r\nab', 'node POST /ingest/soap/tokenGGGG7 2', 200],
    [post('/ingest/soap/tokenGGGG7', 'abcd', 'Expect: 100-continue\r\n'), 'node POST /ingest/soap/tokenGGGG7 4', 200],
    [post('/ingest/soap/tokenGGGG7', 'a', `X-Big: ${'b'.repeat(17 * 1024)}\r\n`), '', 431],
  ];
  for (const [bytes, body, status] of cases) {
    const c = client();
    await c.write(bytes);
    const [answer] = (await c.answers(1)).filter((a) => a.status !== 100);
    assert.equal(answer.status, status, bytes.slice(0, 60));
    if (body) assert.equal(answer.body, body);
    c.end();
  }
});

test('node:http\'s timeouts hold: no head, or a head or body not finished in time, is answered 408 and closed; an idle kept-alive connection is closed', async () => {
  const silent = client();
  assert.deepEqual((await silent.closed()).map((a) => a.status), [408], 'a connection that sends nothing');

  const slow = client();
  await slow.write('POST /ingest/soap/tokenHHHH8 HTTP/1.1\r\nHost: gw\r\n');
  const answers = await slow.closed();
  assert.deepEqual(answers.map((a) => a.status), [408]);

  const body = client();
  await body.write(post('/ingest/soap/tokenHHHH8', 'abc').slice(0, -2));
  assert.deepEqual((await body.closed()).map((a) => a.status), [408]);

  const idle = client();
  await idle.write(post('/ingest/soap/tokenHHHH8', 'abc'));
  assert.equal((await idle.answers(1)).length, 1);
  const started = Date.now();
  assert.equal((await idle.closed()).length, 1, 'closed with nothing more sent');
  assert.ok(Date.now() - started >= TIMEOUTS.keepAliveTimeoutMs - 100, 'not before the keep-alive timeout');
  assert.equal(gateway.connections.size, 0);
});

test('what the device reader accepts, node:http accepts with the same target and length (mutated heads)', async () => {
  const plain = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => { n += d.length; });
    req.on('end', () => { const b = `${req.url} ${n}`; res.writeHead(200, { 'Content-Length': b.length }); res.end(b); });
  });
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  const port = (plain.address() as AddressInfo).port;
  const seeds = [
    post('/ingest/soap/tokenIIII9', 'abc'), post('/ingest/json/tokenIIII9?x=1', '{}', 'Connection: keep-alive\r\nX-Y: z\r\n'),
  ].map((s) => s.slice(0, s.indexOf('\r\n\r\n')));
  const alphabet = fc.constantFrom(' ', '\t', ':', '\r', '\n', '\r\n', 'Content-Length: 3', 'Host: h', 'Transfer-Encoding: chunked', '0', '9', 'é', '\x00', 'HTTP/1.0', 'a');
  const heads = fc.sample(fc.tuple(fc.constantFrom(...seeds), fc.array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 6 }), text: alphabet }), { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    let s = seed;
    for (const e of edits) { const at = e.at % (s.length + 1); s = s.slice(0, at) + e.text + s.slice(Math.min(s.length, at + e.cut)); }
    return s;
  }), { numRuns: 1200, seed: 20261206 });
  let accepted = 0;
  try {
    for (const h of heads) {
      const parsed = parseDeviceRequestHead(h);
      if (!parsed || h.includes('\r\n\r\n')) continue;
      accepted++;
      const c = client(port);
      await c.write(`${h}\r\n\r\n${'x'.repeat(parsed.contentLength)}`);
      const [answer] = await c.answers(1);
      c.end();
      assert.ok(answer, `node:http answered nothing to ${JSON.stringify(h)}`);
      assert.equal(answer.status, 200, JSON.stringify(h));
      assert.equal(answer.body, `${parsed.target} ${parsed.contentLength}`, JSON.stringify(h));
    }
  } finally {
    plain.closeAllConnections();
    plain.close();
  }
  assert.ok(accepted >= 80, `only ${accepted} of the mutated heads were plain uploads: the sample tests too little`);
});

test('stopping: idle connections close at once, one being decided is answered with Connection: close', async () => {
  const g = await startGateway();
  try {
    const idle = client(g.port);
    await idle.write(post('/ingest/soap/tokenJJJJ1', 'a'));
    await idle.answers(1);
    let release!: () => void;
    g.gate.wait = new Promise<void>((r) => { release = r; });
    const busy = client(g.port);
    await busy.write(post('/ingest/soap/tokenJJJJ1', 'b'));
    while (g.decided.length < 2) await new Promise((r) => setTimeout(r, 5));
    g.connections.closeIdle();
    await idle.closed();
    assert.equal(busy.isClosed, false);
    release();
    const answers = await busy.closed();
    assert.deepEqual(answers.map((a) => [a.status, a.headers.connection]), [[200, 'close']]);
  } finally {
    g.close();
  }
});

test('a device that closes its side is answered what it sent, and its connection closed at once (not at the keep-alive timeout)', async () => {
  const g = await startGateway({ ...TIMEOUTS, keepAliveTimeoutMs: 3_600_000 });
  try {
    const after = client(g.port);
    await after.write(post('/ingest/soap/tokenKKKK1', 'a'));
    await after.answers(1);
    after.socket.end();
    assert.equal((await after.closed()).length, 1);

    let release!: () => void;
    g.gate.wait = new Promise<void>((r) => { release = r; });
    const during = client(g.port);
    await during.write(post('/ingest/soap/tokenKKKK1', 'b'));
    during.socket.end();
    while (g.decided.length < 2) await new Promise((r) => setTimeout(r, 5));
    release();
    assert.deepEqual((await during.closed()).map((a) => [a.status, a.headers.connection]), [[200, 'close']]);
    assert.equal(g.connections.size, 0);
  } finally {
    g.close();
  }
});
