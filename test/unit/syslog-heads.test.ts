// The chain heads sent to syslog (RFC 5424) after a verification: the message format, the escaping of
// structured data, parts that fit one UDP datagram, and delivery over UDP and TCP (RFC 6587 framing)
// to listeners on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { exportHeadsToSyslog, headsMessages, structuredData, type SyslogSettings } from '../../src/jobs/syslog-heads.ts';
import { headsSignature } from '../../src/store/heads-file.ts';
import type { IntegrityReport } from '../../src/jobs/verify.ts';

const KEY = new Uint8Array(32).fill(7);
const hash = (n: number) => Buffer.alloc(32, n);

function report(chains: number, ok = true): IntegrityReport {
  return {
    ok, startedAt: 1_767_000_000_000, finishedAt: 1_767_000_001_000, uploadsChecked: chains * 3, samplesChecked: chains * 12, uploadsBelowHorizon: 0,
    chains, problems: [], problemCount: ok ? 0 : 2,
    heads: Array.from({ length: chains }, (_, i) => ({ at: 1_767_000_000_000, chain: i + 1, uploadId: 100 + i, hash: hash(i % 250) })),
    eventsHead: { id: 42, hash: hash(9) },
  };
}

const RFC5424 = /^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) inlet (\d+) (chain-heads(?:-part)?) (\[inlet@32473(?: [A-Za-z]+="(?:[^"\\\]]|\\.)*")*\]) (.*)$/s;

test('the summary is an RFC 5424 message naming the outcome, the audit chain\'s head and the heads file\'s HMAC', () => {
  const r = report(3);
  const [summary, ...parts] = headsMessages(r, KEY, { facility: 13, protocol: 'udp' });
  const m = RFC5424.exec(summary);
  assert.ok(m, summary);
  assert.equal(Number(m[1]), 13 * 8 + 5, 'facility log audit, severity notice');
  assert.equal(m[2], '2025-12-29T09:20:01.000Z');
  assert.equal(m[5], 'chain-heads');
  const expectedHmac = headsSignature(KEY, {
    writtenAt: r.finishedAt, uploads: r.heads.map((h) => ({ chain: h.chain, uploadId: h.uploadId, hash: h.hash.toString('hex') })), events: { id: 42, hash: hash(9).toString('hex') },
  });
  assert.match(m[6], new RegExp(`outcome="intact" problems="0" .* chains="3" eventsHeadId="42" eventsHeadHash="${hash(9).toString('hex')}" headsHmac="${expectedHmac}"`));
  assert.equal(parts.length, 1);
  assert.match(parts[0], new RegExp(` 1:100:${hash(0).toString('hex')} 2:101:${hash(1).toString('hex')} 3:102:${hash(2).toString('hex')}$`));
});

test('a broken verification is an alert; values with ", \\ or ] are escaped', () => {
  const [summary] = headsMessages(report(1, false), null, { facility: 13, protocol: 'udp' });
  assert.match(summary, /^<105>1 .* outcome="broken" problems="2" .* headsHmac="-"\] inlet verify: INTEGRITY BROKEN, 2 problem\(s\)/);
  assert.equal(structuredData({ a: 'q"b\\c]d', n: 5 }), '[inlet@32473 a="q\\"b\\\\c\\]d" n="5"]');
});

test('10,000 chains go in parts of at most 1,400 bytes over UDP, every head exactly once', () => {
  const messages = headsMessages(report(10_000), KEY, { facility: 13, protocol: 'udp' });
  assert.ok(messages.every((m) => Buffer.byteLength(m) <= 1400), `largest ${Math.max(...messages.map((m) => Buffer.byteLength(m)))} bytes`);
  const entries = messages.slice(1).flatMap((m) => RFC5424.exec(m)![7].split(' '));
  assert.equal(entries.length, 10_000);
  assert.equal(new Set(entries.map((e) => e.split(':')[0])).size, 10_000);
});

const settings = (port: number, protocol: 'udp' | 'tcp'): SyslogSettings => ({ enabled: true, host: '127.0.0.1', port, protocol, facility: 13, timeoutMs: 5000 });

test('sent over UDP to a loopback listener: one datagram per message', async () => {
  const server = dgram.createSocket('udp4');
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  const received: string[] = [];
  const all = new Promise<void>((resolve) => server.on('message', (msg) => { received.push(msg.toString('utf8')); if (received.length === 2) resolve(); }));
  try {
    assert.equal(await exportHeadsToSyslog(settings(server.address().port, 'udp'), report(2), KEY), 2);
    await all;
    assert.match(received[0], /^<109>1 .* chain-heads \[inlet@32473 outcome="intact"/);
    assert.match(received[1], / chain-heads-part \[inlet@32473 verifiedAt="[^"]+" part="1"\] 1:100:/);
  } finally {
    server.close();
  }
});

test('sent over TCP with octet-counting frames (RFC 6587)', async () => {
  const chunks: Buffer[] = [];
  const server = net.createServer((socket) => socket.on('data', (d) => chunks.push(d)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const closed = new Promise<void>((resolve) => server.once('connection', (s) => s.once('close', () => resolve())));
  try {
    await exportHeadsToSyslog(settings((server.address() as net.AddressInfo).port, 'tcp'), report(2), KEY);
    await closed;
    let rest = Buffer.concat(chunks);
    const frames: string[] = [];
    while (rest.length) {
      const space = rest.indexOf(0x20);
      const length = Number(rest.subarray(0, space).toString());
      frames.push(rest.subarray(space + 1, space + 1 + length).toString('utf8'));
      rest = rest.subarray(space + 1 + length);
    }
    assert.equal(frames.length, 2);
    assert.ok(frames.every((f) => RFC5424.test(f)), frames.join('\n'));
  } finally {
    server.close();
  }
});

test('an unreachable TCP syslog server is an error with its reason, not a hang', async () => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await assert.rejects(exportHeadsToSyslog(settings(port, 'tcp'), report(1), KEY), /ECONNREFUSED/);
});
