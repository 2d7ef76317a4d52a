import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { createAgent, post } from '../../src/sim/client.ts';
import { runSimulation } from '../../src/cli/simulate.ts';
import { registerSoapDevice, soapUrl, startTestGateway } from './harness.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
let gw: TestGateway;

before(async () => { gw = await startTestGateway(); });
after(async () => { await gw.stop(); });

const XML = 'text/xml; charset=utf-8';

/** Sends raw HTTP/1.1 requests on one socket and returns the raw responses. */
function rawExchange(port: number, requests: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (c) => {
      data += c.toString();
      if ((data.match(/HTTP\/1\.1 /g) ?? []).length === requests.length && /<\/soap:Envelope>$/.test(data)) socket.end();
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.write(requests.join(''));
  });
}

/** The gateway's count of uploads read by the device reader rather than node:http, from /health. */
async function readByDeviceReader(): Promise<number> {
  const health = await (await fetch(`${gw.url}/health`)).json() as { ingest: { readByDeviceReader: number } };
  return health.ingest.readByDeviceReader;
}

test('a registered Web Sensor posts over one keep-alive connection; every answer is 200 with Content-Length, never chunked', async () => {
  const device = await registerSoapDevice(gw.store, '20960050', 'T3510');
  const url = new URL(soapUrl(gw.url, device));
  const requests = [1, 2, 3].map((i) => {
    const body = buildSoapMessage({ serial: '20960050', modelCode: 4145, temp: 20 + i, relHum: 40 + i, compQuant: 5 + i });
    return `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  });
  const readBefore = await readByDeviceReader();
  const raw = await rawExchange(gw.port, requests);
  const heads = raw.split('HTTP/1.1 ').slice(1);
  assert.equal(heads.length, 3);
  assert.equal(await readByDeviceReader() - readBefore, 3, 'plain uploads are read without node:http (device-connections.ts)');
  for (const h of heads) {
    assert.match(h, /^200 OK/);
    assert.match(h, /Content-Length: \d+/i);
    assert.doesNotMatch(h, /Transfer-Encoding/i);
    assert.match(h, /<InsertTx5xxSampleResponse xmlns="http:\/\/cometsystem.cz\/schemas\/soapTx5xx_v2.xsd"\/>/);
  }
  const latest = await gw.store.latestValues(device.id);
  assert.deepEqual(latest.map((l) => [l.channel, l.quantity, l.unit, l.value]), [
    [1, 'temperature', '°C', 23], [2, 'relative_humidity', '%RH', 43], [3, 'dew_point', '°C', 8],
  ]);
  const uploads = await gw.store.uploads({ deviceId: device.id });
  assert.equal(uploads.length, 3);
  assert.ok(uploads.every((u) => u.verdict === 'accepted'));
  assert.match(uploads[0].raw.toString(), /<passKey>20960050<\/passKey>/, 'the raw upload is kept byte for byte');
  const stored = await gw.registry.byEntryToken(device.entryToken);
  assert.ok(stored);
  const fresh = await gw.store.getDevice(device.id);
  assert.equal(fresh?.declaredIntervalS, 60);
  assert.ok(fresh?.lastSeenAt);
});

test('any Content-Type or SOAPAction a device may send is accepted', async () => {
  const device = await registerSoapDevice(gw.store, '20960060', 'T7611');
  const body = buildSoapMessage({ serial: '20960060', modelCode: 4178, pressure: 1001.5 });
  const variants: Record<string, string>[] = [
    { 'Content-Type': 'text/xml' }, { 'Content-Type': 'application/soap+xml; charset=utf-8' },
    { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""' },
    { 'Content-Type': 'text/xml', SOAPAction: 'http://cometsystem.cz/InsertTx5xxSample' }, { 'Content-Type': 'application/octet-stream' },
  ];
  for (const headers of variants) {
    const res = await post(soapUrl(gw.url, device), body, headers['Content-Type'], undefined, headers);
    assert.equal(res.status, 200, JSON.stringify(headers));
    await new Promise((r) => setTimeout(r, 2)); // distinct receive times: one sample per channel and millisecond
  }
  const pressure = (await gw.store.latestValues(device.id)).find((l) => l.quantity === 'pressure');
  assert.equal(pressure?.value, 1001.5);
});

test('bad uploads get a clear error, are archived with their raw bytes and logged, and the gateway keeps serving', async () => {
  const device = await registerSoapDevice(gw.store, '20960070', 'T3510');
  const good = buildSoapMessage({ serial: '20960070', modelCode: 4145 });
  const cases: { name: string; url: string; body: string; status: number; reason: RegExp }[] = [
    { name: 'unknown entry point', url: `${gw.url}/ingest/soap/NoSuchToken123456789`, body: good, status: 404, reason: /unknown entry point/ },
    { name: 'serial does not match the entry point', url: soapUrl(gw.url, device), body: good.replace('20960070', '20960071'), status: 403, reason: /belongs to serial 20960070/ },
    { name: 'model does not match', url: soapUrl(gw.url, device), body: good.replace('<device>4145</device>', '<device>4178</device>'), status: 403, reason: /registered as model code 4145/ },
    { name: 'implausible humidity', url: soapUrl(gw.url, device), body: buildSoapMessage({ serial: '20960070', modelCode: 4145, relHum: 150 }), status: 422, reason: /relative_humidity 150 %RH is outside the physical range/ },
    { name: 'XXE', url: soapUrl(gw.url, device), body: readFileSync(new URL('../fixtures/soap/bad/doctype-xxe.xml', import.meta.url), 'utf8'), status: 400, reason: /DTD/ },
    { name: 'malformed', url: soapUrl(gw.url, device), body: good.slice(0, 200), status: 400, reason: /malformed XML/ },
  ];
  for (const c of cases) {
    const res = await post(c.url, c.body, XML);
    assert.equal(res.status, c.status, c.name);
    assert.match(res.body, /<soap:Fault>/, c.name);
    assert.match(res.body, c.reason, c.name);
  }
  await gw.refusals.flush();
  const refused = await gw.store.refusals({});
  for (const c of cases) {
    // an unknown entry point is answered before its body is read: there is nothing to archive
    if (c.status === 404) continue;
    assert.ok(refused.some((u) => c.reason.test(u.reason) && u.bodyPrefix.toString() === c.body.slice(0, 4096) && u.bodyLength === Buffer.byteLength(c.body)), `archived: ${c.name}`);
  }
  assert.equal((await gw.store.uploads({ verdict: 'refused' })).length, 0, 'refusals stay out of the chained uploads table');
  assert.equal((await gw.store.samples(device.id, 2, 0, Date.now() + 1)).length, 0, 'nothing refused was stored as data');
  // one event per source, family and kind of refusal, however many of the kind came
  const events = await gw.store.events({ type: 'upload.refused' });
  assert.deepEqual(new Set(events.map((e) => e.data?.code)), new Set(['unknown-entry-point', 'identity-mismatch', 'implausible-readings', 'malformed']));
  // winston writes the file asynchronously: wait for the line rather than racing it
  let log = '';
  for (let i = 0; i < 100 && !/upload refused.*relative_humidity 150/.test(log); i++) {
    await new Promise((r) => setTimeout(r, 20));
    log = readFileSync(`${gw.dataDir}/logs/inlet.log`, 'utf8');
  }
  assert.match(log, /upload refused.*relative_humidity 150/);
  assert.doesNotMatch(log, new RegExp(device.entryToken), 'entry tokens are secrets and never logged');
  const health = await fetch(`${gw.url}/health`);
  assert.equal(health.status, 200);
});

test('a body over the cap is refused with 413 and the connection closed; GET is 405', async () => {
  const device = await registerSoapDevice(gw.store, '20960080', 'T3510');
  const huge = `<x>${'a'.repeat(64 * 1024)}</x>`;
  const res = await post(soapUrl(gw.url, device), huge, XML);
  assert.equal(res.status, 413);
  assert.match(res.body, /over the 16384-byte limit/);
  const get = await fetch(soapUrl(gw.url, device));
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  await gw.refusals.flush();
  const archived = (await gw.store.refusals({})).find((u) => u.deviceId === device.id && /over the/.test(u.reason));
  assert.ok(archived && archived.bodyLength === 16384 && archived.bodyPrefix.length === 4096, 'the first 4 KiB of the 16 KiB read of the oversized body are archived');
});

test('a device that keeps sending faster than allowed is suspended, its data quarantined and answered 200, and resume imports it', async () => {
  const device = await registerSoapDevice(gw.store, '20960090', 'T3510', { allowedIntervalS: 3600 });
  const url = soapUrl(gw.url, device);
  const agent = createAgent(url);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    statuses.push((await post(url, buildSoapMessage({ serial: '20960090', modelCode: 4145, temp: 10 + i }), XML, agent)).status);
    await new Promise((r) => setTimeout(r, 2));
  }
  agent.destroy();
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
  const d = await gw.store.getDevice(device.id);
  assert.equal(d?.state, 'suspended');
  assert.match(d?.suspendedReason ?? '', /3 of the last 4 periodic messages came early/);
  const verdicts = (await gw.store.uploads({ deviceId: device.id })).map((u) => u.verdict);
  assert.deepEqual(verdicts, ['accepted', 'accepted', 'accepted', 'quarantined', 'quarantined', 'quarantined']);
  assert.equal((await gw.store.samples(device.id, 1, 0, Date.now() + 1)).length, 3);
  const events = await gw.store.events({ deviceId: device.id, type: 'device.suspended' });
  assert.equal(events.length, 1);
  assert.match(events[0].message, /inlet device resume --serial 20960090/);

  const released = await gw.store.releaseQuarantine(device.id, true, Date.now());
  await gw.store.updateDevice(device.id, { state: 'active' }, Date.now());
  assert.deepEqual(released, { uploads: 3, samplesImported: 9 });
  assert.deepEqual((await gw.store.samples(device.id, 1, 0, Date.now() + 1)).map((s) => s.value), [10, 11, 12, 13, 14, 15]);
});

test('50 sensors posting at once are all stored, each answered only after its commit', async () => {
  const devices = await Promise.all(Array.from({ length: 50 }, (_, i) => registerSoapDevice(gw.store, String(21000000 + i), 'T3510')));
  const before = gw.pipeline.counters.accepted + gw.pipeline.counters.duplicate;
  const report = await runSimulation({
    devices: devices.map((d) => ({ url: soapUrl(gw.url, d), serial: d.serial, modelCode: 4145 })),
    count: 3, intervalMs: 0, alarmEvery: 0, errorEvery: 0, // a fourth message this fast would be throttled
  });
  assert.equal(report.ok, 150);
  // two uploads of one device in the same millisecond would share a sample time: the second counts as a duplicate
  const { accepted, duplicate } = gw.pipeline.counters;
  assert.equal(accepted + duplicate - before, 150);
  for (const d of devices) {
    const rows = await gw.store.samples(d.id, 1, 0, Date.now() + 1);
    assert.ok(rows.length >= 1 && rows.length <= 3, 'same-millisecond resends collapse, never duplicate');
  }
  const uploads = await gw.store.uploads({ deviceId: devices[0].id });
  assert.equal(uploads.length, 3);
});

test('the ingest path answers only /ingest/<family>/<token>; other paths go to the API', async () => {
  const res = await fetch(`${gw.url}/ingest/nope/abc`, { method: 'POST', body: 'x' });
  assert.equal(res.status, 404);
  assert.match(await res.text(), /no such ingest entry point/);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(metrics, /inlet_uploads_total\{verdict="accepted"\} \d+/);
  assert.match(metrics, /inlet_spool_depth 0/);
  const health = await (await fetch(`${gw.url}/health`)).json() as { spool: { depth: number } };
  assert.equal(health.spool.depth, 0);
  await new Promise<void>((resolve) => http.get(`${gw.url}/health`, (r) => { r.resume(); r.on('end', () => resolve()); }));
});
