// Ingest isolated from a hostile LAN (issue 15): what an unauthenticated client can make the gateway
// do costs neither disk nor the devices' time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { spawnSync } from 'node:child_process';
import { statSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { newEntryToken } from '../../src/ingest/families.ts';
import { post } from '../../src/sim/client.ts';
import { THROTTLE_OFF, startTestGateway, tempDir } from './harness.ts';
import { fleetMessage, fleetSampleTime, fleetUrl, isAcknowledged, registerFleet, type FleetDevice } from './fleet.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { hashPassword } from '../../src/api/passwords.ts';
import { Caller } from './api-helpers.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

let gw: Awaited<ReturnType<typeof startTestGateway>>;
let fleet: FleetDevice[];

before(async () => {
  gw = await startTestGateway({
    throttle: THROTTLE_OFF,
    security: {
      ...DEFAULT_CONFIG.security, refusals: { ...DEFAULT_CONFIG.security.refusals, burst: 5, perSourcePerMinute: 1 },
      // long enough that 25 parallel guesses all arrive within the first wait however busy the machine
      signIn: { freeFailures: 3, firstDelayS: 120, maxDelayS: 900 },
    },
  });
  fleet = await registerFleet(gw.store, 1, 20_995_001);
});
after(async () => { await gw?.stop(); });

function databaseBytes(): number {
  return ['inlet.sqlite', 'inlet.sqlite-wal'].map((f) => path.join(gw.dataDir, f)).filter(existsSync).reduce((sum, f) => sum + statSync(f).size, 0);
}

/**
 * Sends the head of a POST announcing `announced` bytes and only the first `sent` of them; resolves
 * with what the server answered (or '' if it closed without an answer) and how many bytes it took.
 */
function postHeadOnly(urlPath: string, announced: number, sent: number): Promise<{ answer: string; bytesWritten: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gw.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c: Buffer) => { answer += c.toString(); });
    socket.on('error', () => { /* a reset after the answer: the close reports it */ });
    socket.on('close', () => resolve({ answer, bytesWritten: socket.bytesWritten }));
    socket.write(`POST ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${announced}\r\n\r\n`);
    socket.write(Buffer.alloc(sent, 'A'), (err) => { if (err) reject(err); });
  });
}

describe('refusals are cheap and bounded', () => {
  test('an unknown entry point is answered 404 before its body is read, and the database does not grow', async () => {
    const grownBefore = databaseBytes();
    for (const segment of ['logger', 'soap', 'wifi', 'json']) {
      // 16 MiB announced, 64 KiB sent: the answer comes without the rest of the body
      const r = await postHeadOnly(`/ingest/${segment}/${newEntryToken()}`, 16 * 1024 * 1024, 64 * 1024);
      assert.match(r.answer, /^HTTP\/1\.1 (404|200) /, segment);
      assert.match(r.answer, /unknown entry point/, segment);
      assert.match(r.answer, /Connection: close/i, segment);
    }
    await gw.refusals.flush();
    assert.equal((await gw.store.refusals({})).length, 0, 'no body archived');
    assert.equal((await gw.store.uploads({})).length, 0, 'nothing in the uploads table');
    assert.ok(databaseBytes() - grownBefore < 64 * 1024, `database grew ${databaseBytes() - grownBefore} bytes`);
    const health = await (await fetch(`${gw.url}/health`)).json() as { ingest: { unknownEntryPoints: number; inFlight: number } };
    assert.equal(health.ingest.unknownEntryPoints, 4);
    assert.equal(health.ingest.inFlight, 0);
  });

  test('refusals of one source beyond its rate are answered but not archived; the device itself is still served', async () => {
    const logger = fleet.find((d) => d.family === 'logger')!;
    const before = (await gw.store.refusals({})).length;
    for (let i = 0; i < 12; i++) {
      const res = await post(fleetUrl(gw.url, logger), Buffer.from(`{"truncated":${i}`), 'application/json');
      assert.equal(res.status, 400);
    }
    await gw.refusals.flush();
    assert.equal((await gw.store.refusals({})).length - before, 5, 'the burst of 5 archived, the rest only counted');
    const health = await (await fetch(`${gw.url}/health`)).json() as { refusals: { overRate: number }; warnings: string[] };
    assert.equal(health.refusals.overRate, 7);
    assert.deepEqual(health.warnings, []);
    const m = fleetMessage(logger, 1);
    const res = await post(fleetUrl(gw.url, logger), m.body, m.contentType);
    assert.ok(isAcknowledged(logger, res.status, res.body), 'good uploads are never rate-limited');
  });
});

/** A sign-in from another loopback address (Linux answers all of 127/8): another source for the slow-down. */
function signInFrom(localAddress: string, username: string, password: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username, password });
    const req = http.request(`${gw.url}/api/session`, {
      method: 'POST', localAddress,
      headers: { 'content-type': 'application/json', 'x-inlet-request': '1', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POST /api/session/password, keeping the renewed session cookie as the viewer's browser does. */
async function changePassword(caller: Caller, currentPassword: string, newPassword: string): Promise<{ status: number; body: { error?: string } }> {
  const res = await caller.request('POST', '/api/session/password', { currentPassword, newPassword });
  const setCookie = res.headers.get('set-cookie');
  if (res.ok && setCookie) caller.cookie = setCookie.split(';')[0];
  return { status: res.status, body: await res.json() as { error?: string } };
}

async function eventsOf(type: string) {
  await gw.refusals.flush();
  return gw.store.events({ type, limit: 1000 });
}

describe('sign-in rules', () => {
  const OPERATOR = { username: 'olga', password: 'Copper-Basin-58' };
  const ADMIN_USER = { username: 'adele', password: 'Quiet-Harbour-42' };

  before(async () => {
    await gw.store.addUser({ username: OPERATOR.username, role: 'operator', passwordHash: await hashPassword(OPERATOR.password) }, Date.now());
    await gw.store.addUser({ username: ADMIN_USER.username, role: 'administrator', passwordHash: await hashPassword(ADMIN_USER.password) }, Date.now());
  });

  test('guesses are counted before verifying: of 25 parallel wrong passwords 3 are verified, the rest slowed down; an unknown name is answered alike', async () => {
    for (const username of [OPERATOR.username, 'nobody-by-that-name']) {
      const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => new Caller(gw.url).signIn(username, `wrong-guess-${i}`)));
      const statuses = answers.map((r) => r.status).sort();
      assert.deepEqual(statuses, [...Array(3).fill(401), ...Array(22).fill(429)], username);
      const slowed = answers.find((r) => r.status === 429)!;
      assert.ok(Number(slowed.headers.get('retry-after')) >= 1, 'Retry-After says when to try again');
      assert.match(((await slowed.json()) as { error: string }).error, /too many failed sign-ins for this user name from your address/);
    }
    assert.equal((await eventsOf('user.signin.failed')).filter((e) => e.data?.username === OPERATOR.username).length, 3, 'one event per verified failure');
    assert.equal((await eventsOf('user.signin.slowed')).filter((e) => e.data?.username === OPERATOR.username).length, 1, 'slow-downs folded into one event');
  });

  test('failed sign-ins with ever new unknown names from one address add one event, not one each; a known user\'s failure keeps its own', async () => {
    const source = '127.0.0.3';
    // Two at a time: each still costs a full password hash (the decoy), and the hash slots are few.
    for (let i = 0; i < 40; i += 2) {
      const answers = await Promise.all([i, i + 1].map((k) => signInFrom(source, `no-such-user-${k}`, 'whatever-1')));
      assert.deepEqual(answers.map((a) => a.status), [401, 401]);
    }
    assert.equal((await signInFrom(source, ADMIN_USER.username, 'not-her-password')).status, 401);
    await gw.refusals.flush();
    const fromThere = (await eventsOf('user.signin.failed')).filter((e) => e.data?.source === source);
    const unknown = fromThere.filter((e) => e.data?.knownUser === false);
    assert.equal(unknown.length, 1, `40 unknown names: one event now, the rest counted into one summary when the window ends (${unknown.length} written)`);
    assert.match(String(unknown[0].data?.username), /^no-such-user-[01]$/, 'the first name tried (two went at once)');
    assert.equal(fromThere.filter((e) => e.data?.username === ADMIN_USER.username).length, 1, 'the failure of an existing account has its own event');
  });

  test('the account is not locked: its user signs in from another address at once; the guessing address still waits', async () => {
    const elsewhere = await signInFrom('127.0.0.2', OPERATOR.username, OPERATOR.password);
    assert.equal(elsewhere.status, 200, elsewhere.body);
    const here = await new Caller(gw.url).signIn(OPERATOR.username, OPERATOR.password);
    assert.equal(here.status, 429, 'the address that guessed still waits, whatever the password');
    const signedIn = (await eventsOf('user.signin')).filter((e) => e.data?.username === OPERATOR.username);
    assert.deepEqual(signedIn.map((e) => e.data?.source), ['127.0.0.2']);
  });

  test('a user changes their own password: the current one is checked, the policy applies, other sessions end', async () => {
    const user = { username: 'pavel', password: 'Meadow-Brook-91' };
    await gw.store.addUser({ username: user.username, role: 'viewer', passwordHash: await hashPassword(user.password) }, Date.now());
    const a = new Caller(gw.url);
    const b = new Caller(gw.url);
    assert.equal((await a.signIn(user.username, user.password)).status, 200);
    assert.equal((await b.signIn(user.username, user.password)).status, 200);
    assert.equal((await changePassword(a, 'Meadow-Brook-92', 'Granite-Falcon-Lake-3')).status, 403);
    const weak = await changePassword(a, user.password, 'Summer2026');
    assert.equal(weak.status, 400);
    assert.match(weak.body.error ?? '', /too easy to guess/);
    const changed = await changePassword(a, user.password, 'Granite-Falcon-Lake-3');
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal((await b.json('GET', '/api/session')).status, 401, 'the other session ended');
    assert.equal((await a.json('GET', '/api/session')).status, 200, 'this one was renewed');
    assert.equal((await new Caller(gw.url).signIn(user.username, 'Granite-Falcon-Lake-3')).status, 200);
    assert.equal((await eventsOf('user.password.changed')).filter((e) => e.data?.username === user.username).length, 1);
  });

  test('an administrator\'s reset forces a change at the next sign-in', async () => {
    const admin = new Caller(gw.url);
    assert.equal((await admin.signIn(ADMIN_USER.username, ADMIN_USER.password)).status, 200);
    const made = await admin.json<{ user: { id: number } }>('POST', '/api/users', { username: 'rita', role: 'viewer', password: 'Lantern-Ridge-77' });
    assert.equal(made.status, 201);
    assert.equal((await admin.json('PATCH', `/api/users/${made.body.user.id}`, { password: 'Temporary-Orchid-Path-8' })).status, 200);
    const rita = new Caller(gw.url);
    const signIn = await rita.signIn('rita', 'Temporary-Orchid-Path-8');
    assert.equal(signIn.status, 200);
    assert.equal(((await signIn.json()) as { mustChangePassword: boolean }).mustChangePassword, true);
    const blocked = await rita.json<{ error: string }>('GET', '/api/devices');
    assert.equal(blocked.status, 403);
    assert.match(blocked.body.error, /choose your own first/);
    assert.equal((await changePassword(rita, 'Temporary-Orchid-Path-8', 'Velvet-Canyon-Drum-5')).status, 200);
    assert.equal((await rita.json('GET', '/api/devices')).status, 200);
    assert.equal((await gw.store.findUser('rita'))!.mustChangePassword, false);
    assert.equal((await admin.json('GET', '/api/devices')).status, 200, 'the administrator who reset is not asked to change theirs');
  });
});

describe('viewer reads run off the ingest thread', () => {
  test('charts, tables, exports, reports, events and latest values are answered by the reader worker, never by the gateway\'s connection', async () => {
    const soap = fleet.find((d) => d.family === 'soap')!;
    for (let i = 0; i < 3; i++) {
      const m = fleetMessage(soap, 100 + i);
      assert.ok(isAcknowledged(soap, (await post(fleetUrl(gw.url, soap), m.body, m.contentType)).status, ''));
    }
    const admin = new Caller(gw.url);
    assert.equal((await admin.signIn('adele', 'Quiet-Harbour-42')).status, 200);
    const main = gw.store as SqliteStore;
    const mainBefore = main.viewerReads;
    const workerBefore = await gw.readSide!.viewerReads();
    const csvBefore = await gw.readSide!.csvDaysFormatted();
    const now = Date.now();
    const channels = `${soap.device.id}:${soap.tagChannel}`;
    for (const path of [
      `/api/series?channels=${channels}&from=${now - 3_600_000}&to=${now + 60_000}`,
      `/api/report?channels=${channels}&from=${now - 3_600_000}&to=${now + 60_000}`,
      `/api/samples?device=${soap.device.id}&from=${now - 3_600_000}&to=${now + 60_000}`,
      `/api/export.csv?channels=${channels}&from=${now - 3_600_000}&to=${now + 60_000}`,
      `/api/events`,
      `/api/devices`,
    ]) {
      const res = await admin.request('GET', path);
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
      await res.arrayBuffer();
    }
    assert.equal(main.viewerReads - mainBefore, 0, 'the connection of the thread that answers devices ran no viewer read');
    assert.ok(await gw.readSide!.viewerReads() - workerBefore >= 5, 'the reader worker answered them');
    assert.equal(main.csvDaysFormatted, 0, 'the thread that answers devices formatted no CSV rows');
    assert.equal(main.sessionWrites, 0, 'the sign-in\'s session was not written by the thread that answers devices');
    assert.ok(await gw.readSide!.sessionWrites() >= 1, 'the reader worker wrote it');
    assert.ok(await gw.readSide!.csvDaysFormatted() - csvBefore >= 1, 'the reader worker formatted the export\'s rows');
  });
});

test('the nightly verification runs on a thread of its own: the connection of the thread that answers devices reads no chain', async () => {
  const soap = fleet.find((d) => d.family === 'soap')!;
  for (let k = 100; k < 103; k++) {
    const m = fleetMessage(soap, k);
    assert.ok(isAcknowledged(soap, (await post(fleetUrl(gw.url, soap), m.body, m.contentType)).status, ''));
  }
  assert.ok(await gw.waitApplied(60_000));
  const main = gw.store as SqliteStore;
  const before = main.integrityReads;
  const outcome = await gw.jobs.runNow('verify');
  assert.ok(outcome.ran, JSON.stringify(outcome));
  if (!outcome.ran) return;
  assert.match(outcome.summary, /^intact \((full|incremental[^)]*)\): [1-9]\d* uploads/);
  const again = await gw.jobs.runNow('verify');
  assert.ok(again.ran && /^intact \(incremental/.test(again.summary), `the next night's run goes on from the progress recorded: ${JSON.stringify(again)}`);
  assert.equal(main.integrityReads - before, 0, 'the walk ran on the verification worker\'s connection');
  const [event] = await gw.store.events({ type: 'integrity.verified', limit: 1 });
  assert.ok(event, 'its outcome is recorded by the gateway as before');
});

test('CSV text fields are quoted whenever they hold , ; tab, a quote or a line break, whatever the chosen separator', async () => {
  const soap = fleet.find((d) => d.family === 'soap')!;
  await gw.store.updateDevice(soap.device.id, { name: ';=1+1 tab\there' }, Date.now());
  const admin = new Caller(gw.url);
  assert.equal((await admin.signIn('adele', 'Quiet-Harbour-42')).status, 200);
  const now = Date.now();
  for (const decimal of ['point', 'comma']) {
    const res = await admin.request('GET', `/api/export.csv?channels=${soap.device.id}:${soap.tagChannel}&from=${now - 3_600_000}&to=${now + 60_000}&decimal=${decimal}`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const header = text.split('\r\n')[0];
    assert.match(header, /(^|[,;])";=1\+1 tab\there [^"]*"([,;]|$)/, `${decimal}: ${header}`);
  }
});

describe('the viewer\'s doors', () => {
  /** A raw request, so that the Host header is what we say. */
  function rawRequest(method: string, urlPath: string, headers: Record<string, string>, body = ''): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method, path: urlPath, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  test('a Host name the gateway is not known by is refused (DNS rebinding); addresses, localhost and configured names pass', async () => {
    const evil = await rawRequest('GET', '/api/session', { host: 'attacker.example:8080' });
    assert.equal(evil.status, 421);
    assert.match((JSON.parse(evil.text) as { error: string }).error, /not known by the name "attacker\.example".*security\.allowedHosts/);
    for (const host of [`127.0.0.1:${gw.port}`, `localhost:${gw.port}`, '[::1]:8080', 'LOCALHOST.']) {
      assert.equal((await rawRequest('GET', '/api/session', { host })).status, 401, host);
    }
    assert.equal((await rawRequest('GET', '/health', { host: 'attacker.example' })).status, 200, '/health is not the viewer');
  });

  test('a JSON body nested too deep is a 400 before it is parsed', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const res = await rawRequest('POST', '/api/session', { host: '127.0.0.1', 'content-type': 'application/json', 'x-inlet-request': '1' }, deep);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /nesting is deeper than 32 levels/);
    const ok = await rawRequest('POST', '/api/session', { host: '127.0.0.1', 'content-type': 'application/json', 'x-inlet-request': '1' }, JSON.stringify({ username: 'x', password: 'y' }));
    assert.equal(ok.status, 401, 'a normal body still reaches sign-in');
  });

  test('the data folder and its files are owner-only', () => {
    assert.equal(statSync(gw.dataDir).mode & 0o777, 0o700);
    for (const file of ['inlet.sqlite', 'inlet.sqlite-wal']) {
      const full = path.join(gw.dataDir, file);
      if (existsSync(full)) assert.equal(statSync(full).mode & 0o077, 0, `${file} is not readable by group or others`);
    }
  });
});

const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;

describe('viewer over HTTPS only', { skip: HAVE_OPENSSL ? false : 'openssl is not installed: cannot make a test certificate' }, () => {
  let tlsGw: Awaited<ReturnType<typeof startTestGateway>>;
  let certPem: string;

  before(async () => {
    const dir = tempDir('inlet-https-only-');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', '/CN=inlet.test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    certPem = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    tlsGw = await startTestGateway({
      throttle: THROTTLE_OFF,
      https: { ...DEFAULT_CONFIG.https, enabled: true, host: '127.0.0.1', port: 0, certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') },
      security: { ...DEFAULT_CONFIG.security, viewerHttpsOnly: true },
    });
  });
  after(async () => { await tlsGw?.stop(); });

  function request(url: string, method = 'GET', body = ''): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const lib = url.startsWith('https:') ? https : http;
      const req = lib.request(url, { method, ca: certPem, headers: { 'content-type': 'application/json', 'x-inlet-request': '1', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  test('plain HTTP sends the viewer to HTTPS and refuses passwords; devices, /health and /metrics keep HTTP; HTTPS answers carry HSTS', async () => {
    const page = await request(`${tlsGw.url}/`);
    assert.equal(page.status, 308);
    assert.equal(page.headers.location, `https://127.0.0.1:${tlsGw.httpsPort}/`);
    const signIn = await request(`${tlsGw.url}/api/session`, 'POST', JSON.stringify({ username: 'a', password: 'b' }));
    assert.equal(signIn.status, 403, 'a password sent over plain HTTP is not looked at');
    assert.equal((await request(`${tlsGw.url}/health`)).status, 200);
    assert.equal((await request(`${tlsGw.url}/metrics`)).status, 200);
    const [logger] = (await registerFleet(tlsGw.store, 1, 20_996_001)).filter((d) => d.family === 'logger');
    const m = fleetMessage(logger, 1);
    const upload = await post(fleetUrl(tlsGw.url, logger), m.body, m.contentType);
    assert.ok(isAcknowledged(logger, upload.status, upload.body), 'a device uploads over plain HTTP');
    const secure = await request(`${tlsGw.httpsUrl}/api/session`);
    assert.equal(secure.status, 401);
    assert.match(String(secure.headers['strict-transport-security']), /max-age=\d{7,}/);
  });
});

test('readings dated before the device was registered are quarantined with an event, and an administrator can import them', async () => {
  const logger = fleet.find((d) => d.family === 'logger')!;
  const registered = (await gw.store.getDevice(logger.device.id))!.createdAt;
  const m = fleetMessage(logger, 700);   // sampled at 2026-01-01 + 700 s: before the registration
  assert.ok(fleetSampleTime(700) < registered - 3_600_000, 'the message predates the registration');
  const res = await post(fleetUrl(gw.url, logger), m.body, m.contentType);
  assert.ok(isAcknowledged(logger, res.status, res.body), 'the device is answered (it would resend otherwise)');
  assert.equal((await gw.store.samples(logger.device.id, logger.tagChannel, fleetSampleTime(700), fleetSampleTime(701))).length, 0, 'not stored as data');
  assert.ok((await gw.store.quarantined(logger.device.id)).length >= 1, 'kept aside');
  assert.equal((await gw.store.getDevice(logger.device.id))!.state, 'active', 'the device itself is not suspended');
  const [event] = await gw.store.events({ type: 'upload.backfill-quarantined', deviceId: logger.device.id });
  assert.match(event.message, /before it was registered/);
  const admin = new Caller(gw.url);
  assert.equal((await admin.signIn('adele', 'Quiet-Harbour-42')).status, 200);
  // releasing quarantined data is signed (21 CFR Part 11): the administrator re-enters the password
  const released = await admin.json<{ released: { samplesImported: number } }>('POST', `/api/devices/${logger.device.id}/resume`,
    { importData: true, signature: { password: 'Quiet-Harbour-42', meaning: 'released' } });
  assert.equal(released.status, 200, JSON.stringify(released.body));
  assert.equal((await gw.store.samples(logger.device.id, logger.tagChannel, fleetSampleTime(700), fleetSampleTime(701))).length, 1, 'imported on release');
});
