// The viewer API against a real gateway: every route for anonymous, viewer, operator and
// administrator callers, and what the routes return after simulated device uploads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '../../src/cli/simulate.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import type { SampleRow } from '../../src/domain/types.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from './api-helpers.ts';
import { withinGiveUp } from '../support/hang-guard.ts';

type Role = 'anonymous' | 'viewer' | 'operator' | 'administrator';
const RANK: Record<Role, number> = { anonymous: 0, viewer: 1, operator: 2, administrator: 3 };
const PASSWORD = { viewer: 'Lantern-Ridge-77', operator: 'Copper-Basin-58' };

let t: TestGateway;
const callers = {} as Record<Role, Caller>;
let deviceId = 0;
let entryUrl = '';
const now = Date.now();
const HOUR = 3_600_000;

before(async () => {
  t = await startTestGateway();
  for (const role of ['anonymous', 'viewer', 'operator', 'administrator'] as Role[]) callers[role] = new Caller(t.gateway.url);
  assert.equal((await callers.administrator.signIn(ADMIN.username, ADMIN.password)).status, 200);
  for (const role of ['viewer', 'operator'] as const) {
    const made = await callers.administrator.json('POST', '/api/users', { reason: 'test fixture', username: role, role, password: PASSWORD[role] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal((await callers[role].signIn(role, PASSWORD[role])).status, 200);
  }
  const added = await callers.administrator.json<{ device: { id: number }; entryUrl: string }>('POST', '/api/devices', { reason: 'test fixture', serial: '20250001', model: 'T3510', name: 'Cold room 1', location: 'Store' });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  deviceId = added.body.device.id;
  entryUrl = added.body.entryUrl;
  // one second between uploads is allowed once the administrator says so
  assert.equal((await callers.administrator.json('PUT', `/api/devices/${deviceId}/interval`, { reason: 'test fixture', allowedIntervalS: 1 })).status, 200);
  const report = await runSimulation({ devices: [{ url: entryUrl, serial: '20250001', modelCode: soapModelCode('T3510')! }], count: 3, intervalMs: 1100, alarmEvery: 3, errorEvery: 0 });
  assert.equal(report.ok, 3, JSON.stringify(report));
});

after(async () => { await t?.close(); });

/** Every route, the least role it needs, and a request that role may make. */
function routes() {
  const range = `from=${now - HOUR}&to=${now + HOUR}`;
  return [
    { method: 'GET', path: '/api/session', min: 'viewer' },
    { method: 'GET', path: '/api/devices', min: 'viewer' },
    { method: 'GET', path: `/api/series?channels=${deviceId}:1,${deviceId}:2&${range}`, min: 'viewer' },
    { method: 'GET', path: `/api/report?channels=${deviceId}:1&${range}`, min: 'viewer' },
    { method: 'GET', path: `/api/samples?device=${deviceId}&${range}`, min: 'viewer' },
    { method: 'GET', path: `/api/export.csv?channels=${deviceId}:1&${range}`, min: 'viewer' },
    { method: 'GET', path: `/api/completeness?channels=${deviceId}:1&${range}`, min: 'viewer' },
    { method: 'GET', path: `/api/completeness.csv?channels=${deviceId}:1&${range}`, min: 'viewer' },
    { method: 'GET', path: '/api/events', min: 'viewer' },
    { method: 'GET', path: `/api/devices/${deviceId}/quarantine`, min: 'operator' },
    { method: 'PATCH', path: `/api/devices/${deviceId}`, body: { reason: 'test fixture', location: 'Store' }, min: 'operator' },
    { method: 'POST', path: `/api/devices/${deviceId}/suspend`, body: { reason: 'test' }, min: 'operator', then: { method: 'POST', path: `/api/devices/${deviceId}/resume`, body: { reason: 'test fixture', importData: false, signature: { password: '', meaning: 'released' } } } },
    { method: 'POST', path: `/api/devices/${deviceId}/entry-point`, body: { reason: 'renewed' }, min: 'administrator' },
    { method: 'PUT', path: `/api/devices/${deviceId}/interval`, body: { reason: 'test fixture', allowedIntervalS: 1 }, min: 'administrator' },
    { method: 'POST', path: '/api/devices', body: { reason: 'test fixture', serial: '20259999', model: 'T0510', name: 'Spare' }, min: 'administrator' },
    { method: 'GET', path: '/api/users', min: 'administrator' },
    { method: 'POST', path: '/api/users', body: { reason: 'test fixture', username: 'extra', role: 'viewer', password: 'Meadow-Brook-91' }, min: 'administrator' },
    { method: 'PATCH', path: '/api/users/2', body: { reason: 'test fixture', unlock: true }, min: 'administrator' },
  ] as { method: string; path: string; body?: unknown; min: Role; then?: { method: string; path: string; body: unknown } }[];
}

describe('every route refuses anonymous and under-privileged callers', () => {
  for (const role of ['anonymous', 'viewer', 'operator', 'administrator'] as Role[]) {
    test(`as ${role}`, async () => {
      for (const r of routes()) {
        const res = await callers[role].request(r.method, r.path, r.body);
        const answer = await res.text();
        // A new entry point replaces the device's old one: the later tests post to the new one.
        if (res.ok && r.path.endsWith('/entry-point')) entryUrl = (JSON.parse(answer) as { entryUrl: string }).entryUrl;
        const expected = role === 'anonymous' ? 401 : RANK[role] < RANK[r.min] ? 403 : res.status;
        assert.equal(res.status, expected, `${role} ${r.method} ${r.path}`);
        if (RANK[role] >= RANK[r.min]) {
          assert.ok(res.status === 200 || res.status === 201, `${role} ${r.method} ${r.path} answered ${res.status}`);
          // A follow-up that releases data is signed with the caller's own password.
          const signed = (body: unknown) => (body && typeof body === 'object' && 'signature' in body
            ? { ...body, signature: { ...(body as { signature: object }).signature, password: role === 'administrator' ? ADMIN.password : PASSWORD[role as keyof typeof PASSWORD] } } : body);
          if (r.then) assert.equal((await callers[role].request(r.then.method, r.then.path, signed(r.then.body))).status, 200);
        }
      }
      const live = await callers[role].request('GET', '/api/live');
      assert.equal(live.status, role === 'anonymous' ? 401 : 200);
      await live.body?.cancel();
    });
  }

  test('a state change without the custom header or from another site is refused (CSRF)', async () => {
    const admin = callers.administrator;
    const bare = await fetch(`${t.gateway.url}/api/devices/${deviceId}`, { method: 'PATCH', headers: { cookie: admin.cookie, 'content-type': 'application/json' }, body: '{"location":"x"}' });
    assert.equal(bare.status, 403);
    const foreign = await admin.request('PATCH', `/api/devices/${deviceId}`, { reason: 'test fixture', location: 'x' }, { origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
  });
});

describe('sign-in', () => {
  test('sets a session cookie that scripts and other sites cannot use', async () => {
    const res = await new Caller(t.gateway.url).signIn('viewer', PASSWORD.viewer);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^inlet_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);   // no Secure over plain http
  });

  test('an administrator\'s unlock (of an account an older version locked) is still accepted', async () => {
    const id = (await t.gateway.store.findUser('operator'))!.id;
    assert.equal((await callers.administrator.json('PATCH', `/api/users/${id}`, { reason: 'test fixture', unlock: true })).status, 200);
    // the slow-down that replaced lock-out is tested in isolation.test.ts
  });

  test('refuses weak passwords and keeps the last administrator', async () => {
    const weak = await callers.administrator.json('POST', '/api/users', { reason: 'test fixture', username: 'weakling', role: 'viewer', password: 'short' });
    assert.equal(weak.status, 400);
    const named = await callers.administrator.json('POST', '/api/users', { reason: 'test fixture', username: 'weakling', role: 'viewer', password: 'weakling-123456' });
    assert.equal(named.status, 400);
    const adminId = (await t.gateway.store.findUser(ADMIN.username))!.id;
    assert.equal((await callers.administrator.json('PATCH', `/api/users/${adminId}`, { reason: 'test fixture', role: 'viewer' })).status, 409);
  });

  test('sign-out ends the session', async () => {
    const c = new Caller(t.gateway.url);
    await c.signIn('viewer', PASSWORD.viewer);
    assert.equal((await c.request('DELETE', '/api/session')).status, 204);
    assert.equal((await c.request('GET', '/api/devices')).status, 401);
  });
});

describe('registering devices', () => {
  test('a mistyped Web Sensor model is refused with the names it resembles; with its family a newer model is taken', async () => {
    const typo = await callers.administrator.json<{ error: string }>('POST', '/api/devices', { reason: 'test fixture', serial: '20250003', model: 'T3150', name: 'Typo' });
    assert.equal(typo.status, 400);
    assert.match(typo.body.error, /"T3150" is not a Web Sensor model Inlet knows \(did you mean T3510\?\)/);
    const newer = await callers.administrator.json<{ device: { model: string } }>('POST', '/api/devices', { reason: 'test fixture', serial: '20250003', model: 'T9999', name: 'Newer', family: 'soap' });
    assert.equal(newer.status, 201, JSON.stringify(newer.body));
    assert.equal(newer.body.device.model, 'T9999');
  });
});

describe('data after simulated uploads', () => {
  test('completeness per channel and day: samples received against the device interval', async () => {
    await t.gateway.store.updateDevice(deviceId, { allowedIntervalS: 60 }, Date.now());
    const day = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const { status, body } = await callers.viewer.json<{ channels: { channel: number; overall: number; days: { day: number; received: number; expected: number }[] }[] }>(
      'GET', `/api/completeness?channels=${deviceId}:1&from=${day}&to=${day + 86_400_000}`);
    assert.equal(status, 200);
    const [today] = body.channels[0].days;
    assert.equal(today.day, day);
    assert.ok(today.received >= 3, `the simulated uploads are counted (${today.received})`);
    assert.ok(today.expected > 0 && today.expected <= 1440, 'expected only up to now, at one per minute');
    const response = await callers.viewer.request('GET', `/api/completeness.csv?channels=${deviceId}:1&from=${day}&to=${day + 86_400_000}`, undefined, { 'accept-language': 'en-GB' });
    const csv = Buffer.from(await response.arrayBuffer()).toString('utf8');   // .text() would drop the BOM
    assert.match(csv, /^\uFEFFday \(UTC\),device,location,channel,received,expected,completeness %\r\n\d{4}-\d\d-\d\d,/);
  });

  test('the tree has the device under its location with latest values, units, alarm and status', async () => {
    await t.gateway.store.updateDevice(deviceId, { allowedIntervalS: 60 }, Date.now());   // online for 3 minutes after its last upload
    const { body } = await callers.viewer.json<{ locations: { name: string; devices: Record<string, unknown>[] }[] }>('GET', '/api/devices');
    const store = body.locations.find((l) => l.name === 'Store')!;
    const device = store.devices.find((d) => d.id === deviceId) as { status: string; alarm: boolean; lastSeenAt: number; channels: { channel: number; quantity: string; unit: string; value: number; alarm: string; time: number }[] };
    assert.equal(device.status, 'ok');
    assert.ok(device.lastSeenAt > now - 60_000);
    assert.equal(JSON.stringify(device).includes('entryToken'), false, 'the entry token is never in the tree');
    const temperature = device.channels.find((c) => c.channel === 1)!;
    assert.equal(temperature.quantity, 'temperature');
    assert.equal(temperature.unit, '°C');
    assert.equal(temperature.alarm, 'hi', 'the third upload raised a high alarm');
    assert.ok(Math.abs(temperature.value - 30) <= 1.6, `alarm temperature near 30, got ${temperature.value}`);
    assert.equal(device.alarm, true);
    const humidity = device.channels.find((c) => c.channel === 2)!;
    assert.equal(humidity.unit, '%RH');
    assert.ok(humidity.value >= 50 && humidity.value <= 70);
  });

  test('a device with no upload for three of its intervals is offline', async () => {
    await t.gateway.store.updateDevice(deviceId, { allowedIntervalS: 1 }, Date.now());
    await new Promise((r) => setTimeout(r, 3200));
    const { body } = await callers.viewer.json<{ locations: { devices: { id: number; status: string }[] }[] }>('GET', '/api/devices');
    assert.equal(body.locations.flatMap((l) => l.devices).find((d) => d.id === deviceId)!.status, 'offline');
  });

  test('raw series when the device\'s interval gives few enough points, with every sample', async () => {
    // at the 1 s interval set above, 20 minutes hold at most 1200 samples: under the 2000 points asked
    const { status, body } = await callers.viewer.json<{ series: { bucketMs: number; time: number[]; avg: number[] }[] }>('GET', `/api/series?channels=${deviceId}:1&from=${now - 600_000}&to=${now + 600_000}`);
    assert.equal(status, 200);
    assert.equal(body.series[0].bucketMs, 0);
    assert.equal(body.series[0].time.length, 3);
  });

  test('long ranges come downsampled to at most the asked points, with min/max per bucket', async () => {
    const added = await callers.administrator.json<{ device: { id: number } }>('POST', '/api/devices', { reason: 'test fixture', serial: '20250002', model: 'T0510', name: 'Archive', location: 'Store' });
    const id = added.body.device.id;
    const start = Date.UTC(2024, 0, 1);
    const samples: SampleRow[] = [];
    for (let i = 0; i < 60 * 24 * 40; i++) samples.push({ deviceId: id, channel: 1, time: start + i * 60_000, value: i % 1000, errorCode: null, alarm: 'no' });
    await t.gateway.store.commit({
      upload: { deviceId: id, family: 'soap', receivedAt: Date.now(), remoteAddress: 'test', contentType: '', raw: Buffer.alloc(0), verdict: 'accepted', reason: 'test data', serial: '20250002', counter: null },
      samples, channels: [{ deviceId: id, channel: 1, quantity: 'temperature', unit: 'C' }], events: [], quarantine: null, deviceSeen: null, suspend: null,
    });
    const { body } = await callers.viewer.json<{ series: { bucketMs: number; time: number[]; min: number[]; max: number[] }[] }>('GET', `/api/series?channels=${id}:1&from=${start}&to=${start + 40 * 24 * HOUR}&points=500`);
    const s = body.series[0];
    assert.equal(s.bucketMs, 2 * HOUR);
    assert.equal(s.time.length, 480);
    assert.ok(s.time.length <= 500);
    assert.deepEqual([Math.min(...s.min), Math.max(...s.max)], [0, 999]);
    const table = await callers.viewer.json<{ rows: unknown[]; next: number }>('GET', `/api/samples?device=${id}&from=${start}&to=${start + 40 * 24 * HOUR}&limit=50`);
    assert.equal(table.body.rows.length, 50);
    assert.equal(table.body.next, start + 50 * 60_000);
  });

  test('CSV export for Excel: BOM, separator by language, UTC and local times', async () => {
    const path = `/api/export.csv?channels=${deviceId}:1,${deviceId}:2&from=${now - HOUR}&to=${now + HOUR}&tz=Europe/Prague`;
    const german = await callers.viewer.request('GET', path, undefined, { 'accept-language': 'de-DE,de;q=0.9' });
    assert.match(german.headers.get('content-disposition') ?? '', /attachment; filename="inlet-export-\d{8}-\d{8}\.csv"/);
    const text = Buffer.from(await german.arrayBuffer()).toString('utf8');
    assert.ok(text.startsWith('\uFEFFtime (UTC);time (Europe/Prague);Cold room 1 temperature [°C];'), text.slice(0, 120));
    const lines = text.trim().split('\r\n');
    assert.equal(lines.length, 4);
    assert.match(lines[3], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z;\d{4}-\d\d-\d\d \d\d:\d\d:\d\d;\d+(,\d+)?;alarm hi;\d+(,\d+)?;$/);
    const english = await (await callers.viewer.request('GET', path, undefined, { 'accept-language': 'en-GB' })).text();
    assert.ok(english.split('\r\n')[1].split(',').length === 6);
  });

  test('queries are validated and capped', async () => {
    const v = callers.viewer;
    assert.equal((await v.request('GET', `/api/series?channels=${deviceId}:1&from=${now}&to=${now - 1}`)).status, 400);
    assert.equal((await v.request('GET', `/api/series?channels=${deviceId}:1&from=0&to=${now}`)).status, 400, 'more than 20 years');
    assert.equal((await v.request('GET', `/api/series?channels=${deviceId}:1&from=${now - HOUR}&to=${now}&points=100000`)).status, 400);
    assert.equal((await v.request('GET', `/api/series?channels=${deviceId}:1;drop&from=${now - HOUR}&to=${now}`)).status, 400);
    assert.equal((await v.request('GET', `/api/series?channels=999:1&from=${now - HOUR}&to=${now}`)).status, 404);
    assert.equal((await v.request('GET', `/api/export.csv?channels=${deviceId}:1&from=${now - 500 * 24 * HOUR}&to=${now}`)).status, 400);
    assert.equal((await v.request('GET', `/api/export.csv?channels=${deviceId}:1&from=${now - HOUR}&to=${now}&tz=Mars/Olympus`)).status, 400);
    assert.equal((await v.request('GET', '/api/events?limit=abc')).status, 400);
    assert.equal((await v.request('GET', '/api/nothing-here')).status, 404);
  });

  test('live stream sends the tree, then the new value after an upload', async () => {
    const res = await callers.viewer.request('GET', '/api/live');
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    let received = '';
    // reads until the pattern comes (each read waits for the server's next write), or the stream ends
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) return false;
        received += new TextDecoder().decode(value);
      }
      return true;
    };
    assert.ok(await withinGiveUp('the first tree on the live stream', readUntil(/event: tree\ndata: \{.*\}\n\n/)));
    received = '';
    await runSimulation({ devices: [{ url: entryUrl, serial: '20250001', modelCode: soapModelCode('T3510')! }], count: 1, intervalMs: 1000, alarmEvery: 0, errorEvery: 1 });
    assert.ok(await withinGiveUp('the sensor error on the live stream', readUntil(/"errorCode":1/)), 'the sensor error reaches the stream');
    await reader.cancel();
  });

  test('admin actions are recorded as events with who did them', async () => {
    const { body } = await callers.viewer.json<{ events: { type: string; message: string }[] }>('GET', `/api/events?device=${deviceId}`);
    assert.ok(body.events.some((e) => e.type === 'device.suspended' && e.message.includes('(by operator)')));
    assert.ok(body.events.some((e) => e.type === 'device.added' && e.message.includes('(by admin)')));
  });
});
