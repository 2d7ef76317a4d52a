// Hostile input against a real gateway, table-driven. Each device upload from the corpus in
// test/hostile/<family>/<attack>.* gets a clear 4xx (or its family's documented answer), is
// archived with its raw bytes and logged, and a good upload from the same device is served right
// after. Generated attacks (huge and slow bodies, floods, replays, wrong entry points) and bad
// viewer API calls follow. README in test/hostile/ says how to add a case.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Family } from '../../src/domain/types.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { newEntryToken } from '../../src/ingest/families.ts';
import { createSoapAdapter } from '../../src/ingest/soap/index.ts';
import { wifiAdapter } from '../../src/ingest/wifi/index.ts';
import { websensorJsonAdapter } from '../../src/ingest/websensor-json/index.ts';
import { loggerAdapter } from '../../src/ingest/logger/index.ts';
import { createAgent, post, type PostResult } from '../../src/sim/client.ts';
import { ADMIN, Caller, cliAddUser } from './api-helpers.ts';
import { startTestGateway } from './harness.ts';
import { fleetMessage, fleetUrl, isAcknowledged, registerFleet, type FleetDevice } from './fleet.ts';

const CORPUS = new URL('../hostile/', import.meta.url);
const FIXTURES = new URL('../fixtures/', import.meta.url);
/** Short, so that slow clients are cut within the test; Node checks it every second (src/main.ts). */
const REQUEST_TIMEOUT_S = 2;

let gw: Awaited<ReturnType<typeof startTestGateway>>;
const devices = new Map<Family, FleetDevice>();
let nextGood = 1;

before(async () => {
  // throttling is off: its suspensions are tested in soap-ingest.test.ts, and here they would only quarantine
  gw = await startTestGateway({
    http: { ...DEFAULT_CONFIG.http, host: '127.0.0.1', port: 0, requestTimeoutS: REQUEST_TIMEOUT_S },
    throttle: { ...DEFAULT_CONFIG.throttle, enabled: false },
  });
  // the corpus files name these serials: 20990001 SOAP, ...02 WiFi, ...03 TAx6xx, ...04 logger
  for (const d of await registerFleet(gw.store, 1, 20_990_001)) devices.set(d.family, d);
  for (const d of devices.values()) await assertGoodUploadServed(d);
});
after(async () => { await gw?.stop(); });

function contentType(family: Family): string {
  return family === 'soap' ? 'text/xml; charset=utf-8' : 'application/json';
}

/** The device's next well-formed message is acknowledged: the gateway still serves. */
async function assertGoodUploadServed(d: FleetDevice, context = ''): Promise<PostResult> {
  const m = fleetMessage(d, nextGood++);
  const res = await post(fleetUrl(gw.url, d), m.body, m.contentType);
  assert.ok(isAcknowledged(d, res.status, res.body), `a good ${d.family} upload is served ${context}: ${res.status} ${res.body.slice(0, 200)}`);
  return res;
}

async function lastUploadId(): Promise<number> {
  const all = await gw.store.uploads({ limit: 100_000 });
  return all.at(-1)?.id ?? 0;
}

async function lastRefusalId(): Promise<number> {
  await gw.refusals.flush();
  return (await gw.store.refusals({ limit: 100_000 })).at(-1)?.id ?? 0;
}

/** Refusals archived after `afterId`, once the recorder has written what it holds. */
async function refusalsAfter(afterId: number) {
  await gw.refusals.flush();
  return gw.store.refusals({ afterId });
}

const PREFIX_BYTES = DEFAULT_CONFIG.security.refusals.prefixBytes;

/** The archive keeps a refused body as its first bytes, its length and its SHA-256: nothing more. */
function assertArchivedAsPrefix(archived: { bodyPrefix: Buffer; bodyLength: number; bodySha256: Buffer }, body: Buffer, what: string): void {
  assert.ok(archived.bodyPrefix.equals(body.subarray(0, PREFIX_BYTES)), `${what}: the first ${PREFIX_BYTES} bytes are archived`);
  assert.equal(archived.bodyLength, body.length, `${what}: its length`);
  assert.ok(archived.bodySha256.equals(createHash('sha256').update(body).digest()), `${what}: its SHA-256`);
}

interface CorpusCase {
  /** Relative to test/hostile/ (or test/fixtures/ when it starts with "fixtures/"). */
  file: string;
  status: number;
  /** Matches the device-visible answer; for refusals it also matches the archived reason. */
  answer: RegExp;
  verdict: 'refused' | 'accepted';
}

const JSON_FAMILIES = ['wifi', 'websensor-json'] as const;

/** What each corpus file must get. Answers name the problem; SOAP faults escape < and >. */
const CORPUS_CASES: CorpusCase[] = [
  { file: 'soap/xxe-external-file.xml', status: 400, answer: /DTD or entity declarations are not allowed/, verdict: 'refused' },
  { file: 'soap/xxe-parameter-entity.xml', status: 400, answer: /DTD or entity declarations are not allowed/, verdict: 'refused' },
  { file: 'soap/xxe-lowercase-doctype.xml', status: 400, answer: /DTD or entity declarations are not allowed/, verdict: 'refused' },
  { file: 'fixtures/soap/bad/billion-laughs.xml', status: 400, answer: /DTD or entity declarations are not allowed/, verdict: 'refused' },
  { file: 'soap/deep-nesting.xml', status: 400, answer: /nested deeper than 32/, verdict: 'refused' },
  { file: 'soap/malformed-mismatched-tags.xml', status: 400, answer: /malformed XML: closing tag/, verdict: 'refused' },
  { file: 'soap/malformed-binary-garbage.bin', status: 400, answer: /malformed XML/, verdict: 'refused' },
  { file: 'soap/malformed-utf16.xml', status: 400, answer: /malformed XML/, verdict: 'refused' },
  { file: 'soap/malformed-unknown-entity.xml', status: 400, answer: /unknown or invalid entity reference/, verdict: 'refused' },
  { file: 'fixtures/soap/bad/unknown-operation.xml', status: 400, answer: /unknown SOAP operation/, verdict: 'refused' },
  { file: 'soap/wrong-type-temp-text.xml', status: 400, answer: /temp.* must be a decimal number with a dot, got "warm"/, verdict: 'refused' },
  { file: 'soap/wrong-type-temp-exponent.xml', status: 400, answer: /must be a decimal number with a dot, got "2.1e1"/, verdict: 'refused' },
  { file: 'soap/duplicate-element.xml', status: 400, answer: /temp.* appears more than once/, verdict: 'refused' },
  { file: 'soap/nan-temp.xml', status: 400, answer: /got "NaN"/, verdict: 'refused' },
  { file: 'soap/infinity-temp.xml', status: 400, answer: /got "-Infinity"/, verdict: 'refused' },
  { file: 'soap/huge-number-temp.xml', status: 422, answer: /temperature value Infinity is not a finite number/, verdict: 'refused' },
  { file: 'soap/huge-number-unbounded-channel.xml', status: 422, answer: /absolute_humidity value Infinity is not a finite number/, verdict: 'refused' },
  { file: 'soap/sql-in-passkey.xml', status: 400, answer: /passKey.* must be the 8-digit serial number/, verdict: 'refused' },
  { file: 'soap/sql-in-unknown-element.xml', status: 200, answer: /InsertTx5xxSampleResponse/, verdict: 'accepted' },
  ...JSON_FAMILIES.flatMap((family): CorpusCase[] => [
    { file: `${family}/nan-literal.json`, status: 400, answer: /"Result":false.*malformed JSON/, verdict: 'refused' },
    { file: `${family}/infinity-overflow.json`, status: 400, answer: /number at Interval is too large to be finite/, verdict: 'refused' },
    { file: `${family}/huge-number.json`, status: 422, answer: /field OrderId must be <= 4294967295/, verdict: 'refused' },
    { file: `${family}/nan-hex-value.json`, status: 422, answer: /is NaN, not a measurement/, verdict: 'refused' },
    { file: `${family}/infinity-hex-value.json`, status: 422, answer: /is Infinity, not a measurement/, verdict: 'refused' },
    { file: `${family}/deep-nesting.json`, status: 400, answer: /JSON nesting is deeper than 8 levels/, verdict: 'refused' },
    { file: `${family}/wrong-type-sn-number.json`, status: 422, answer: /field Sn must be of type string/, verdict: 'refused' },
    { file: `${family}/wrong-type-channels-object.json`, status: 422, answer: /field Channels must be of type array/, verdict: 'refused' },
    { file: `${family}/malformed-truncated.json`, status: 400, answer: /malformed JSON/, verdict: 'refused' },
    { file: `${family}/malformed-invalid-utf8.json`, status: 400, answer: /body is not valid UTF-8/, verdict: 'refused' },
    { file: `${family}/malformed-array-top-level.json`, status: 422, answer: /expected a JSON object/, verdict: 'refused' },
    { file: `${family}/duplicate-key-sn.json`, status: 400, answer: /duplicate key .Sn./, verdict: 'refused' },
    // a caching device answered anything but 200 + Result:true would resend a refused message forever (json-ack.ts)
    { file: `${family}/unknown-serial.json`, status: 200, answer: /"Result":true,"Message":"refused: entry point belongs to serial/, verdict: 'refused' },
    { file: `${family}/prototype-pollution.json`, status: 200, answer: /"Result":true,"Message":"stored 1"/, verdict: 'accepted' },
    // its unit text is SQL, no unit of its quantity: refused (issue 18), its bytes archived verbatim
    { file: `${family}/sql-in-text-fields.json`, status: 200, answer: /"Result":true,"Message":"refused: channel 2: .* is not a unit Inlet knows/, verdict: 'refused' },
  ]),
  { file: 'fixtures/wifi/bad-duplicate-key.json', status: 400, answer: /duplicate key/, verdict: 'refused' },
  { file: 'logger/deep-nesting.json', status: 400, answer: /JSON nesting is deeper than 8 levels/, verdict: 'refused' },
  { file: 'logger/malformed-object-not-array.json', status: 422, answer: /expected a logger message/, verdict: 'refused' },
  { file: 'logger/malformed-truncated.json', status: 400, answer: /malformed JSON/, verdict: 'refused' },
  { file: 'logger/nan-literal.json', status: 400, answer: /malformed JSON/, verdict: 'refused' },
  { file: 'logger/infinity-overflow.json', status: 400, answer: /too large to be finite/, verdict: 'refused' },
  { file: 'logger/nan-hex-value.json', status: 422, answer: /is NaN, not a measurement/, verdict: 'refused' },
  { file: 'logger/wrong-type-time.json', status: 422, answer: /field Time \(element 9\) must be of type string/, verdict: 'refused' },
  { file: 'logger/wrong-type-sn-string.json', status: 422, answer: /field Sn \(element 6\) must be an integer/, verdict: 'refused' },
  { file: 'logger/huge-number-sn.json', status: 422, answer: /field Sn \(element 6\) must be <= 99999999/, verdict: 'refused' },
  { file: 'logger/unknown-serial.json', status: 403, answer: /entry point belongs to serial 20990004/, verdict: 'refused' },
  { file: 'logger/sql-in-text-fields.json', status: 422, answer: /channel 2: .* is not a unit Inlet knows/, verdict: 'refused' },
];

function corpusBytes(file: string): Buffer {
  return file.startsWith('fixtures/') ? readFileSync(new URL(file.slice('fixtures/'.length), FIXTURES)) : readFileSync(new URL(file, CORPUS));
}

function familyOf(file: string): Family {
  return file.replace(/^fixtures\//, '').split('/')[0] as Family;
}

/** Archived reasons of every refusal the gateway logged, read from its JSON log file. */
async function loggedRefusalReasons(expected: number): Promise<Set<string>> {
  let reasons = new Set<string>();
  // winston writes the file asynchronously: wait for the lines rather than racing them
  for (let i = 0; i < 100 && reasons.size < expected; i++) {
    if (i) await new Promise((r) => setTimeout(r, 20));
    reasons = new Set(readFileSync(`${gw.dataDir}/logs/inlet.log`, 'utf8').split('\n').filter(Boolean)
      .map((line) => JSON.parse(line) as { message: string; reason?: string })
      .filter((entry) => entry.message === 'upload refused').map((entry) => entry.reason ?? ''));
  }
  return reasons;
}

describe('the hostile corpus: every upload answered, archived, logged; the gateway keeps serving', () => {
  const refusedReasons: string[] = [];
  for (const c of CORPUS_CASES) {
    test(c.file, async () => {
      const device = devices.get(familyOf(c.file))!;
      const body = corpusBytes(c.file);
      const before = await lastUploadId();
      const refusalsBefore = await lastRefusalId();
      const res = await post(fleetUrl(gw.url, device), body, contentType(device.family));
      assert.equal(res.status, c.status, res.body);
      assert.match(res.body, c.answer);
      const stored = await gw.store.uploads({ afterId: before });
      const refused = await refusalsAfter(refusalsBefore);
      if (c.verdict === 'accepted') {
        assert.equal(stored.length, 1, 'exactly one stored upload');
        assert.equal(refused.length, 0, 'nothing in the refusal archive');
        assert.ok(stored[0].raw.equals(body), 'stored byte for byte');
      } else {
        assert.equal(stored.length, 0, 'a refused upload is not written to the chained uploads table');
        assert.equal(refused.length, 1, 'exactly one archived refusal');
        assert.equal(refused[0].deviceId, device.device.id);
        assertArchivedAsPrefix(refused[0], body, c.file);
        refusedReasons.push(refused[0].reason);
      }
      await assertGoodUploadServed(device, `after ${c.file}`);
    });
  }

  test('every refusal above is in the log with its reason', async () => {
    const logged = await loggedRefusalReasons(refusedReasons.length);
    assert.deepEqual(refusedReasons.filter((r) => !logged.has(r)), []);
  });

  test('SQL metacharacters are stored verbatim, never executed', async () => {
    // the corpus files post them as channel 2's unit: no unit Inlet knows, so the upload is refused
    // (issue 18) and the text is kept verbatim in the archived refusal's reason
    const refusedWith = async (family: Family, text: string) => (await gw.store.refusals({ limit: 100_000 }))
      .some((r) => r.deviceId === devices.get(family)!.device.id && r.reason.includes(text));
    assert.ok(await refusedWith('wifi', `'; DROP--"%_\\`));
    assert.ok(await refusedWith('websensor-json', `'; DROP--"%_\\`));
    assert.ok(await refusedWith('logger', `"';--`));
    for (const d of devices.values()) assert.ok((await gw.store.samples(d.device.id, d.tagChannel, 0, Number.MAX_SAFE_INTEGER)).length > 0, 'samples table intact');
    assert.ok((await gw.store.uploads({ limit: 1 })).length === 1, 'uploads table intact');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution from __proto__ keys');
  });
});

/** Sends a request head and then trickles the rest a byte at a time; resolves when the server closes. */
/** `closedAt`: performance.now() when the connection closed; `sentAll`: the client had written all of `rest` by then. */
function trickle(port: number, head: string, rest: string, everyMs: number): Promise<{ ms: number; answer: string; closedAt: number; sentAll: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let i = 0;
    const timer = setInterval(() => { if (i < rest.length) socket.write(rest[i++]); }, everyMs);
    socket.on('data', (c: Buffer) => { answer += c.toString(); });
    socket.on('error', () => { /* reset by the server: the close below reports it */ });
    socket.on('close', () => { clearInterval(timer); const closedAt = performance.now(); resolve({ ms: closedAt - started, answer, closedAt, sentAll: i >= rest.length }); });
    socket.write(head);
  });
}

describe('generated attacks', () => {
  const BODY_CAPS: Record<Family, number> = Object.fromEntries(
    [createSoapAdapter(), wifiAdapter, websensorJsonAdapter, loggerAdapter].map((a) => [a.family, a.maxBodyBytes])) as Record<Family, number>;

  test('a body over the family cap gets 413 and a closed connection; its first bytes are archived', async () => {
    for (const d of devices.values()) {
      const cap = BODY_CAPS[d.family];
      const before = await lastRefusalId();
      const res = await post(fleetUrl(gw.url, d), Buffer.alloc(cap + 64 * 1024, 'A'), contentType(d.family));
      assert.equal(res.status, 413, d.family);
      assert.match(res.body, new RegExp(`over the ${cap}-byte limit`));
      const [archived] = await refusalsAfter(before);
      assert.equal(archived?.reasonCode, 'too-large', d.family);
      assert.equal(archived.bodyPrefix.length, Math.min(cap, PREFIX_BYTES), `${d.family}: only a prefix is archived`);
      assert.equal(archived.bodyLength, cap, `${d.family}: the bytes read before the limit are counted`);
      await assertGoodUploadServed(d, 'after a huge body');
    }
  });

  test('slowloris: trickled headers and a trickled body are cut at the timeout while other devices are served', async () => {
    const soap = devices.get('soap')!;
    const m = fleetMessage(soap, 10_000);
    const path = new URL(fleetUrl(gw.url, soap)).pathname;
    const slowHeaders = trickle(gw.port, `POST ${path} HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: 1\r\n'.repeat(100), 100);
    const slowBody = trickle(gw.port, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${m.body.length}\r\n\r\n`, m.body.toString(), 100);
    // Conditions, not clocks (a busy machine makes any request slow): a good upload is answered while
    // both slow connections are still open, so they do not hold the gateway up; each slow one is cut
    // by the gateway's timeout (408, and not before it) before its client had sent everything.
    const servedAt: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (const d of devices.values()) { await assertGoodUploadServed(d, 'during slowloris'); servedAt.push(performance.now()); }
      await new Promise((r) => setTimeout(r, 200));
    }
    const [headers, body] = await Promise.all([slowHeaders, slowBody]);
    for (const [what, r] of [['headers', headers], ['body', body]] as const) {
      assert.match(r.answer, /^HTTP\/1\.1 408/, `slow ${what} answered 408`);
      assert.ok(!r.sentAll, `slow ${what} cut by the gateway before the client had sent it all (${r.ms.toFixed(0)} ms)`);
      assert.ok(r.ms >= REQUEST_TIMEOUT_S * 1000 - 50, `slow ${what} not cut before the timeout (${r.ms.toFixed(0)} ms)`);
    }
    assert.ok(servedAt[0] < Math.min(headers.closedAt, body.closedAt), 'a good upload was answered while both slow connections were open');
  });

  test('unknown devices: a well-formed token nobody owns is refused with the family\'s answer before its body is read; nothing is archived', async () => {
    const expected: Record<Family, RegExp> = {
      soap: /^404$/, logger: /^404$/, wifi: /^200$/, 'websensor-json': /^200$/,
    };
    for (const d of devices.values()) {
      const before = await lastUploadId();
      const refusalsBefore = await lastRefusalId();
      const m = fleetMessage(d, 20_000);
      const res = await post(fleetUrl(gw.url, { ...d, device: { ...d.device, entryToken: newEntryToken() } }), m.body, m.contentType);
      assert.match(String(res.status), expected[d.family], d.family);
      assert.match(res.body, /unknown entry point/);
      assert.equal((await gw.store.uploads({ afterId: before })).length, 0, `${d.family}: nothing in the uploads table`);
      assert.equal((await refusalsAfter(refusalsBefore)).length, 0, `${d.family}: nothing in the refusal archive`);
    }
  });

  test('wrong entry points: another family\'s path, an unknown family, a malformed token, GET', async () => {
    const soap = devices.get('soap')!;
    const wifi = devices.get('wifi')!;
    const soapBody = fleetMessage(soap, 30_000).body;
    const wifiBody = fleetMessage(wifi, 30_000).body;
    const cases: { url: string; body: Buffer; status: number; answer: RegExp }[] = [
      { url: `${gw.url}/ingest/soap/${wifi.device.entryToken}`, body: soapBody, status: 403, answer: /entry point belongs to a wifi device, but a soap message was posted/ },
      { url: `${gw.url}/ingest/json/${wifi.device.entryToken}`, body: wifiBody, status: 422, answer: /JsonType 2 is not a TAx6xx\/PAx6xx Web Sensor message/ },
      { url: `${gw.url}/ingest/modbus/${soap.device.entryToken}`, body: soapBody, status: 404, answer: /no such ingest entry point/ },
      { url: `${gw.url}/ingest/soap/..%2F..%2Fetc%2Fpasswd`, body: soapBody, status: 404, answer: /no such ingest entry point/ },
      { url: `${gw.url}/ingest/soap/'%20OR%201=1--`, body: soapBody, status: 404, answer: /no such ingest entry point/ },
    ];
    for (const c of cases) {
      const res = await post(c.url, c.body, 'text/xml');
      assert.equal(res.status, c.status, c.url);
      assert.match(res.body, c.answer, c.url);
    }
    const get = await fetch(fleetUrl(gw.url, soap));
    assert.equal(get.status, 405);
    await get.arrayBuffer();
    await assertGoodUploadServed(soap, 'after wrong entry points');
  });

  test('replays: a cached JSON or logger message sent twice is stored once; a SOAP replay is a new sample (the message has no time)', async () => {
    for (const d of devices.values()) {
      const m = fleetMessage(d, 40_000);
      const url = fleetUrl(gw.url, d);
      const first = await post(url, m.body, m.contentType);
      const replay = await post(url, m.body, m.contentType);
      assert.ok(isAcknowledged(d, first.status, first.body) && isAcknowledged(d, replay.status, replay.body), d.family);
      const [, last] = (await gw.store.uploads({ deviceId: d.device.id, limit: 100_000 })).slice(-2);
      assert.equal(last.verdict, d.family === 'soap' ? 'accepted' : 'duplicate', d.family);
    }
  });

  test('a flood of unknown, malformed and oversized uploads: all refused, one refusal event per source and reason, good devices served', async () => {
    const soap = devices.get('soap')!;
    const wifi = devices.get('wifi')!;
    const eventsBefore = (await gw.store.events({ type: 'upload.refused', limit: 10_000 })).length;
    const agent = createAgent(gw.url, 32);
    const junk = Buffer.from('<not-a-soap-message/>');
    const token = newEntryToken();
    const statuses: Record<number, number> = {};
    const flood = Array.from({ length: 600 }, async (_, i) => {
      const [url, body] = i % 3 === 0 ? [`${gw.url}/ingest/soap/${token}`, fleetMessage(soap, 50_000 + i).body]
        : i % 3 === 1 ? [fleetUrl(gw.url, wifi), Buffer.from('{"JsonType":')]
          : [fleetUrl(gw.url, soap), junk];
      const res = await post(url, body, 'text/xml', agent).catch(() => ({ status: 0 }));
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    });
    const served: number[] = [];
    const during = (async () => {
      for (let i = 0; i < 5; i++) for (const d of devices.values()) served.push((await assertGoodUploadServed(d, 'during the flood')).ms);
    })();
    await Promise.all([...flood, during]);
    agent.destroy();
    assert.deepEqual(statuses, { 404: 200, 400: 400 });
    const events = (await gw.store.events({ type: 'upload.refused', limit: 10_000 })).length - eventsBefore;
    assert.ok(events <= 3, `refusal events are rate-limited per source and reason (${events} new)`);
    const health = await (await fetch(`${gw.url}/health`)).json() as { ingest: { inFlight: number } };
    assert.equal(health.ingest.inFlight, 0, 'nothing left in flight');
  });
});

describe('bad viewer API calls get a clear 4xx', () => {
  /** Raw request line: fetch() would normalise the ../ away. */
  function rawGet(path: string, headers = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(gw.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (c: Buffer) => { answer += c.toString(); });
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
    });
  }

  test('table of refusals', async () => {
    const admin = new Caller(gw.url);
    const made = cliAddUser(gw.dataDir, ADMIN.username, 'administrator', ADMIN.password);
    assert.equal(made.status, 0, made.stderr);
    assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
    assert.equal((await admin.json('POST', '/api/users', { reason: 'test fixture', username: 'vera', role: 'viewer', password: 'Lantern-Ridge-77' })).status, 201);
    const viewer = new Caller(gw.url);
    assert.equal((await viewer.signIn('vera', 'Lantern-Ridge-77')).status, 200);
    const anonymous = new Caller(gw.url);
    const soapId = devices.get('soap')!.device.id;
    const now = Date.now();
    const cases: { who: Caller; method: string; path: string; body?: unknown; headers?: Record<string, string>; status: number; error: RegExp }[] = [
      { who: anonymous, method: 'GET', path: '/api/devices', status: 401, error: /not signed in/ },
      { who: anonymous, method: 'GET', path: `/api/export.csv?channels=${soapId}:1&from=0&to=1`, status: 401, error: /not signed in/ },
      { who: anonymous, method: 'POST', path: '/api/session', body: { username: "admin' OR '1'='1", password: "' OR 1=1--" }, status: 401, error: /wrong user name or password/ },
      { who: anonymous, method: 'POST', path: '/api/session', body: { username: ['admin'], password: { $ne: 1 } }, status: 400, error: /must be string/ },
      { who: anonymous, method: 'POST', path: '/api/session', body: { username: 'a'.repeat(100_000), password: 'x' }, status: 413, error: /request body too large/ },
      { who: anonymous, method: 'POST', path: '/api/session', body: { username: 'admin', password: 'x' }, headers: { 'x-inlet-request': '' }, status: 403, error: /header is missing/ },
      { who: viewer, method: 'GET', path: '/api/users', status: 403, error: /needs the administrator role/ },
      { who: viewer, method: 'POST', path: '/api/devices', body: { serial: '20259999', model: 'T0510', name: 'x' }, status: 403, error: /needs the administrator role/ },
      { who: viewer, method: 'POST', path: `/api/devices/${soapId}/suspend`, body: { reason: 'x' }, status: 403, error: /needs the operator role/ },
      { who: admin, method: 'GET', path: `/api/series?channels=${soapId}:1&from=NaN&to=1e400`, status: 400, error: /must be integer/ },
      { who: admin, method: 'GET', path: `/api/export.csv?channels=${soapId}:1&from=${now - 3_600_000}&to=${now}&tz=Mars/Olympus_Mons`, status: 400, error: /zone|tz/i },
      { who: admin, method: 'GET', path: `/api/events?limit=999999999999&type=${encodeURIComponent("' OR 1=1--")}`, status: 400, error: /limit/ },
      { who: admin, method: 'GET', path: `/api/series?channels=${`${soapId}:1,`.repeat(200)}&from=0&to=1`, status: 400, error: /channels/ },
      { who: admin, method: 'GET', path: '/api/devices/1e3', status: 404, error: /no such|no device/ },
      { who: admin, method: 'PATCH', path: `/api/devices/${soapId}`, body: JSON.parse('{"reason":"prototype pollution attempt","constructor":{"prototype":{"polluted":1}}}'), status: 400, error: /unknown body parameter "constructor"/ },
    ];
    for (const c of cases) {
      const res = await c.who.request(c.method, c.path, c.body, c.headers);
      const text = await res.text();
      assert.equal(res.status, c.status, `${c.method} ${c.path.slice(0, 80)}: ${text.slice(0, 200)}`);
      assert.match((JSON.parse(text) as { error: string }).error, c.error, `${c.method} ${c.path.slice(0, 80)}`);
    }
    for (const path of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2fpackage.json', '/..%5c..%5cpackage.json', '/index.html%00.js', '//etc/passwd']) {
      assert.match(await rawGet(path), /^HTTP\/1\.1 404 /, `path traversal ${path}`);
    }
    assert.match(await rawGet(`/api/devices?${'x'.repeat(20_000)}`), /^HTTP\/1\.1 431 /, 'oversized query: request header fields too large');
    assert.match(await rawGet('/api/devices', `Cookie: inlet_session=${'A'.repeat(20_000)}\r\n`), /^HTTP\/1\.1 431 /, 'oversized cookie');
    for (const d of devices.values()) await assertGoodUploadServed(d, 'after the API attacks');
  });
});
