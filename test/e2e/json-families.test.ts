// The JSON families through a running gateway: WiFi Wx7xx, TAx6xx/PAx6xx and GSM/LTE loggers over
// HTTP, a logger backlog of 100,000 samples, and HTTPS with client certificates made here with openssl.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import type { Device, Upload } from '../../src/domain/types.ts';
import type { IssuedDevice } from '../../src/store/store.ts';
import { createAgent, post, type PostResult } from '../../src/sim/client.ts';
import { buildWifiBody, type SimWifiMessage } from '../../src/sim/wifi.ts';
import { buildWebsensorBody } from '../../src/sim/websensor-json.ts';
import { buildLoggerBody, loggerBacklogMessages, type SimLoggerMessage } from '../../src/sim/logger.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway } from '../../src/main.ts';
import { runSimulation } from '../../src/cli/simulate.ts';
import { ingestUrl, registerDevice, startTestGateway, tempDir, testConfig } from './harness.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const JSON_TYPE = 'application/json';
const S = 1000;

/** A WiFi message of a W3711 (T+RH) sampled `agoS` seconds before now. */
function wifiMessage(serial: string, orderId: number, agoS: number, extra: Partial<SimWifiMessage> = {}): SimWifiMessage {
  const sampleTime = Date.now() - agoS * S;
  return {
    serial, model: 4, orderId, msgType: 'periodic', interval: 60, sampleTime,
    channels: [
      { nr: 1, label: 'Temperature', value: 5 + (orderId % 10) / 10, unit: '°C' },
      { nr: 2, label: 'Relative humidity', value: 45.5, unit: '%RH' },
    ],
    ...extra,
  };
}

function assertJsonAck(res: PostResult, message: string | RegExp): void {
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.body)));
  assert.equal(res.headers['transfer-encoding'], undefined, 'never chunked');
  assert.equal(res.headers['content-type'], JSON_TYPE);
  const ack = JSON.parse(res.body) as { Result: boolean; Message: string };
  assert.equal(ack.Result, true);
  if (typeof message === 'string') assert.equal(ack.Message, message);
  else assert.match(ack.Message, message);
}

async function sampleCount(gw: TestGateway, device: Device, channels: number[]): Promise<number> {
  let n = 0;
  for (const channel of channels) n += (await gw.store.samples(device.id, channel, 0, Date.now() + 60 * S, 1_000_000)).length;
  return n;
}

describe('JSON families over HTTP', () => {
  let gw: TestGateway;
  before(async () => { gw = await startTestGateway(); });
  after(async () => { await gw.stop(); });

  test('WiFi: exact answers on one keep-alive connection; a cached resend of a stored message is acknowledged again but not stored twice', async () => {
    const device = await registerDevice(gw.store, { family: 'wifi', serial: '21960311', model: 'W3711', modelCode: 4 });
    const url = ingestUrl(gw.url, device);
    const agent = createAgent(url);
    const first = wifiMessage(device.serial, 17, 62);
    assertJsonAck(await post(url, buildWifiBody(first), JSON_TYPE, agent), 'stored 2');
    const second = await post(url, buildWifiBody(wifiMessage(device.serial, 18, 2)), JSON_TYPE, agent);
    assertJsonAck(second, 'stored 2');
    assert.equal(second.headers.connection, 'keep-alive');
    // the answer to the first message was lost: the device resends it from its cache (MsgCache 3, SOCK_ERR)
    const resend = await post(url, buildWifiBody({ ...first, msgCache: 3, now: Date.now() }), JSON_TYPE, agent);
    // Answered from the journal: the device learns only that it is safe; the store finds the duplicate when it applies it.
    assertJsonAck(resend, 'stored 2');
    agent.destroy();

    const uploads = await gw.store.uploads({ deviceId: device.id });
    assert.deepEqual(uploads.map((u) => u.verdict), ['accepted', 'accepted', 'duplicate']);
    assert.deepEqual(uploads.map((u) => u.counter), [17, 18, 17]);
    assert.equal(await sampleCount(gw, device, [1, 2]), 4);
    const latest = await gw.store.latestValues(device.id);
    assert.deepEqual(latest.map((l) => [l.channel, l.quantity, l.unit, l.value]), [
      [1, 'temperature', '°C', 5.8], [2, 'relative_humidity', '%RH', 45.5],
    ]);
  });

  test('TAx6xx: 200 with the JSON ack; an error value is stored as an error, not a number', async () => {
    const device = await registerDevice(gw.store, { family: 'websensor-json', serial: '26690042', model: 'TA7610', modelCode: 3 });
    const body = buildWebsensorBody({
      serial: device.serial, model: 3, orderId: 412, msgType: 'periodic', interval: 60, sampleTime: Date.now() - 5 * S,
      channels: [
        { nr: 1, label: 'Temperature', value: 4.3, unit: '°C', type: [3, 255] },
        { nr: 2, label: 'Relative humidity', value: { errorCode: 4 }, unit: '%RH', type: [6, 255] },
        { nr: 3, label: 'Atmospheric pressure', value: 1008.6, unit: 'hPa', type: [8, 255] },
      ],
    });
    assertJsonAck(await post(ingestUrl(gw.url, device), body, JSON_TYPE), 'stored 3');
    const rh = await gw.store.samples(device.id, 2, 0, Date.now() + S);
    assert.equal(rh.length, 1);
    assert.equal(rh[0].value, null);
    assert.equal(rh[0].errorCode, 4);
    const [t] = await gw.store.samples(device.id, 1, 0, Date.now() + S);
    assert.equal(t.value, 4.3);
  });

  test('a skipped message counter is stored and raises one warning event', async () => {
    const device = await registerDevice(gw.store, { family: 'wifi', serial: '21960312', model: 'W3711', modelCode: 4 });
    const url = ingestUrl(gw.url, device);
    for (const [orderId, agoS] of [[1, 130], [2, 70], [5, 10]]) {
      assertJsonAck(await post(url, buildWifiBody(wifiMessage(device.serial, orderId, agoS)), JSON_TYPE), 'stored 2');
    }
    const events = await gw.store.events({ deviceId: device.id, type: 'upload.counter-break' });
    assert.equal(events.length, 1);
    assert.match(events[0].message, /2 message\(s\) missing \(OrderId 2 was followed by 5\)/);
    assert.equal(events[0].level, 'warning');
  });

  test('alarm messages and a cache flush do not suspend a device; periodic messages sent too fast do', async () => {
    const calm = await registerDevice(gw.store, { family: 'wifi', serial: '21960320', model: 'W3711', modelCode: 4 });
    const calmUrl = ingestUrl(gw.url, calm);
    const agent = createAgent(calmUrl);
    let orderId = 0;
    assertJsonAck(await post(calmUrl, buildWifiBody(wifiMessage(calm.serial, orderId++, 20)), JSON_TYPE, agent), 'stored 2');
    // an alarm going on and off several times: asynchronous messages, each with fresh samples
    for (let i = 0; i < 8; i++) {
      const alarms: [number, number] = i % 2 ? [0, 0] : [0, 1];
      const msg = wifiMessage(calm.serial, orderId++, 19 - i, { msgType: 'async' });
      msg.channels[0] = { ...msg.channels[0], alarms, alarmModes: [1, 2] };
      assertJsonAck(await post(calmUrl, buildWifiBody(msg), JSON_TYPE, agent), 'stored 2');
    }
    // back online after a network outage: 300 cached periodic messages, one per minute of the outage, at full speed
    for (let i = 300; i >= 1; i--) {
      const msg = wifiMessage(calm.serial, orderId++, 60 * i + 30, { msgCache: 1, now: Date.now() });
      assertJsonAck(await post(calmUrl, buildWifiBody(msg), JSON_TYPE, agent), 'stored 2');
    }
    agent.destroy();
    assert.equal((await gw.store.getDevice(calm.id))?.state, 'active');
    assert.equal(await sampleCount(gw, calm, [1, 2]), 2 * (1 + 8 + 300));

    const hasty = await registerDevice(gw.store, { family: 'wifi', serial: '21960321', model: 'W3711', modelCode: 4 });
    const hastyUrl = ingestUrl(gw.url, hasty);
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(hastyUrl, buildWifiBody(wifiMessage(hasty.serial, i, 5 - i)), JSON_TYPE);
      assert.equal(res.status, 200);
      answers.push((JSON.parse(res.body) as { Message: string }).Message);
    }
    assert.deepEqual(answers.slice(0, 3), ['stored 2', 'stored 2', 'stored 2']);
    assert.match(answers[3], /^quarantined: suspended now: sending faster than allowed/);
    assert.match(answers[4], /^quarantined: device suspended since/);
    const suspended = await gw.store.getDevice(hasty.id);
    assert.equal(suspended?.state, 'suspended');
    assert.equal((await gw.store.quarantined(hasty.id)).length, 2);
  });

  test('logger: a single message and a buffered batch are answered 200 OK and stored sample by sample', async () => {
    const device = await registerDevice(gw.store, { family: 'logger', serial: '19990042', model: 'U3631M', modelCode: 1, customerUid: 'k3F9q2Lm7xA1b0Zc' });
    const url = ingestUrl(gw.url, device);
    const message = (orderId: number, agoS: number): SimLoggerMessage => ({
      serial: 19990042, model: 1, orderId, sampleTime: Date.now() - agoS * S, customerUid: 'k3F9q2Lm7xA1b0Zc', intervalPowerMode: 600,
      channels: [
        { nr: 1, label: 'Temperature', value: -6.5, unit: '°C' },
        { nr: 2, binary: true, label: 'Door', state: 0, descriptions: ['closed', 'open'] },
      ],
    });
    const single = await post(url, buildLoggerBody(message(37, 1800)), JSON_TYPE);
    assert.deepEqual([single.status, single.body, single.headers['content-length'], single.headers['transfer-encoding']], [200, 'OK', '2', undefined]);
    const batch = await post(url, buildLoggerBody([message(38, 1200), message(39, 600), message(40, 5)]), JSON_TYPE);
    assert.deepEqual([batch.status, batch.body], [200, 'OK']);
    assert.equal(await sampleCount(gw, device, [1, 2]), 2 * 4);
    const uploads = await gw.store.uploads({ deviceId: device.id });
    assert.deepEqual(uploads.map((u) => [u.verdict, u.counter]), [['accepted', 37], ['accepted', 40]]);
    // a wrong CustomerUid is refused, not stored
    const forged = await post(url, buildLoggerBody({ ...message(41, 1), customerUid: 'someone-else' }), JSON_TYPE);
    assert.equal(forged.status, 403);
  });

  test('logger: a backlog of 100,000 samples in one upload is stored completely and acknowledged once', async () => {
    const device = await registerDevice(gw.store, { family: 'logger', serial: '19990043', model: 'U4440M', modelCode: 1, customerUid: 'backlog-test' });
    const now = Date.now();
    const messages = loggerBacklogMessages({
      serial: 19990043, customerUid: 'backlog-test', samples: 100_000, channels: 4, intervalS: 60, newestSampleTime: now - 30 * S, now,
    });
    const body = buildLoggerBody(messages);
    const res = await post(ingestUrl(gw.url, device), body, JSON_TYPE);
    assert.deepEqual([res.status, res.body], [200, 'OK']);
    const uploads = await gw.store.uploads({ deviceId: device.id });
    assert.equal(uploads.length, 1, 'one upload row for the whole backlog');
    assert.equal(uploads[0].verdict, 'accepted');
    assert.equal(uploads[0].raw.length, body.length, 'the raw body is kept whole');
    assert.equal(await sampleCount(gw, device, [1, 2, 3, 4]), 100_000);
    assert.equal((await gw.store.getDevice(device.id))?.state, 'active', 'a backlog is not live traffic');
  });

  test('inlet simulate plays every JSON family, with a cache flush and a logger backlog first', async () => {
    const wifi = await registerDevice(gw.store, { family: 'wifi', serial: '99100001', model: 'W3711', modelCode: 4 });
    const ta = await registerDevice(gw.store, { family: 'websensor-json', serial: '99100002', model: 'TA3610', modelCode: 1 });
    const logger = await registerDevice(gw.store, { family: 'logger', serial: '98100001', model: 'U3631M', modelCode: 1, customerUid: 'inlet-simulator' });
    const report = await runSimulation({
      devices: [wifi, ta, logger].map((d) => ({ url: ingestUrl(gw.url, d), serial: d.serial, modelCode: d.modelCode!, family: d.family, customerUid: d.customerUid ?? undefined })),
      count: 2, intervalMs: 1000, alarmEvery: 0, errorEvery: 2, cacheFlush: 30, backlogSamples: 1000,
    });
    assert.deepEqual(report.statuses, { 200: 3 * 2 + 30 + 30 + 1 });
    for (const device of [wifi, ta]) {
      assert.equal(await sampleCount(gw, device, [1, 2]), 2 * (30 + 2));
      assert.equal((await gw.store.getDevice(device.id))?.state, 'active');
    }
    assert.equal(await sampleCount(gw, logger, [1, 2]), 1000 + 2 * 2);
    const errors = (await gw.store.samples(logger.id, 2, 0, Date.now() + S)).filter((r) => r.errorCode === 4);
    assert.equal(errors.length, 1, 'every second live message reports a humidity error');
    assert.equal((await gw.store.events({ type: 'upload.counter-break' })).filter((e) => [wifi.id, ta.id, logger.id].includes(e.deviceId!)).length, 0);
  });
});

const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;

interface Pki { dir: string; caCert: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; otherKey: string }

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A site CA (standing in for the COMET root or a user CA), a server certificate for 127.0.0.1 and a device certificate. */
function makePki(): Pki {
  const dir = tempDir('inlet-pki-');
  const subj = (cn: string) => ['-subj', `/O=Inlet test/CN=${cn}`];
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', ...subj('Test device CA')]);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', 'inlet.test'], ['client', 'TA7610 26690050']]) {
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, ...subj(cn)]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  }
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key']);
  const at = (f: string) => path.join(dir, f);
  return { dir, caCert: at('ca.pem'), serverCert: at('server.pem'), serverKey: at('server.key'), clientCert: at('client.pem'), clientKey: at('client.key'), otherKey: at('other.key') };
}

describe('HTTPS with client certificates', { skip: HAVE_OPENSSL ? false : 'openssl is not installed: cannot make test certificates (apt-get install openssl)' }, () => {
  let gw: TestGateway;
  let pki: Pki;
  let device: IssuedDevice;
  const seen: Upload[] = [];
  before(async () => {
    pki = makePki();
    gw = await startTestGateway({
      https: { enabled: true, host: '127.0.0.1', port: 0, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caCert, requireClientCert: true },
    });
    // the verified certificate travels in the upload meta: watch what the pipeline is given
    const accept = gw.pipeline.accept.bind(gw.pipeline);
    gw.pipeline.accept = (upload) => { seen.push(upload); return accept(upload); };
    device = await registerDevice(gw.store, { family: 'websensor-json', serial: '26690050', model: 'TA7610', modelCode: 3 });
  });
  after(async () => { await gw?.stop(); });

  const body = (orderId: number) => buildWebsensorBody({
    serial: '26690050', model: 3, orderId, msgType: 'periodic', interval: 60, sampleTime: Date.now() - (90 - orderId * 60) * S,
    channels: [{ nr: 1, label: 'Temperature', value: 21.5, unit: '°C', type: [3, 255] }],
  });
  const deviceTls = () => ({ ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });

  test('a device with a certificate from the configured CA is served, and its certificate is recorded', async () => {
    const url = ingestUrl(gw.httpsUrl!, device);
    const agent = createAgent(url, 1, deviceTls());
    assertJsonAck(await post(url, body(0), JSON_TYPE, agent), 'stored 1');
    agent.destroy();
    const certificate = seen.at(-1)?.meta.clientCertificate as { subject: string; fingerprint256: string };
    assert.match(certificate.subject, /CN=TA7610 26690050/);
    assert.match(certificate.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  test('over one TLS connection: an upload read by the device reader, a /health request, then uploads node:https reads', async () => {
    const url = ingestUrl(gw.httpsUrl!, device);
    const agent = createAgent(url, 1, deviceTls());
    const health = async (over = agent) => {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        https.get(`${gw.httpsUrl}/health`, { agent: over }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (d: string) => { text += d; });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
        }).on('error', reject);
      });
      assert.equal(res.status, 200);
      return (JSON.parse(res.body) as { ingest: { readByDeviceReader: number } }).ingest.readByDeviceReader;
    };
    const before = seen.length;
    const monitor = createAgent(url, 1, deviceTls());
    const readBefore = await health(monitor);
    monitor.destroy();
    assertJsonAck(await post(url, body(3), JSON_TYPE, agent), 'stored 1');
    assert.equal(await health(), readBefore + 1, 'the first upload was read by the device reader');
    assertJsonAck(await post(url, body(4), JSON_TYPE, agent), 'stored 1');
    assert.equal(await health(), readBefore + 1, 'the connection is node:https\'s after the /health request');
    agent.destroy();
    assert.equal(seen.length, before + 2);
    for (const upload of seen.slice(before)) assert.match((upload.meta.clientCertificate as { subject: string }).subject, /CN=TA7610 26690050/);
  });

  test('TLS 1.2 is offered beside 1.3', async () => {
    const protocol = await new Promise<string | null>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: gw.httpsPort!, maxVersion: 'TLSv1.2', ...deviceTls() }, () => {
        resolve(socket.getProtocol());
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.equal(protocol, 'TLSv1.2');
    const url = ingestUrl(gw.httpsUrl!, device);
    const agent = createAgent(url, 1, { ...deviceTls(), maxVersion: 'TLSv1.2' });
    assertJsonAck(await post(url, body(1), JSON_TYPE, agent), 'stored 1');
    agent.destroy();
  });

  test('a device without a client certificate is refused at the TLS layer, before any HTTP', async () => {
    const url = ingestUrl(gw.httpsUrl!, device);
    const before = (await gw.store.uploads({})).length;
    const agent = createAgent(url, 1, { ca: readFileSync(pki.caCert) });
    await assert.rejects(post(url, body(2), JSON_TYPE, agent), (err: NodeJS.ErrnoException) => {
      assert.match(`${err.code} ${err.message}`, /certificate required|ECONNRESET|socket hang up/i);
      return true;
    });
    agent.destroy();
    assert.equal((await gw.store.uploads({})).length, before, 'nothing reached the pipeline');
  });

  test('start-up stops with a clear message for a missing file or a key that does not match the certificate', async () => {
    const start = (https: Partial<typeof DEFAULT_CONFIG.https>) => {
      const config = testConfig(tempDir(), { https: { ...DEFAULT_CONFIG.https, enabled: true, port: 0, host: '127.0.0.1', certFile: pki.serverCert, keyFile: pki.serverKey, ...https } });
      return startGateway(config, createLogger(config));
    };
    await assert.rejects(start({ certFile: path.join(pki.dir, 'missing.pem') }), /HTTPS certificate file .*missing\.pem \(https\.certFile\) does not exist/);
    await assert.rejects(start({ keyFile: pki.otherKey }), /HTTPS private key .*other\.key \(https\.keyFile\) does not belong to the certificate/);
    await assert.rejects(start({ requireClientCert: true, caFile: '' }), /https\.requireClientCert is true but https\.caFile is empty/);
    await assert.rejects(start({ keyFile: pki.caCert }), /cannot be used|does not belong/);
  });
});
