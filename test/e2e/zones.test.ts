// Rights scoped to zones against a real gateway: two zones, users holding roles on one of them,
// and every API route walked to show that nothing of the other zone reaches them (ids, names,
// counts, alarms, events, the live stream), while their own zone works as their role allows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runSimulation } from '../../src/cli/simulate.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { ADMIN, Caller, REPO, startTestGateway, type TestGateway } from './api-helpers.ts';
import { waitUntil } from '../support/hang-guard.ts';

let t: TestGateway;
const admin = {} as { c: Caller };
const zone = { pharmacy: 0, lab: 0, hospital: 0 };
const dev = { pharmacy: 0, lab: 0 };
const alarm = { pharmacy: 0, lab: 0 };
// Names and serials of the laboratory's device that must never reach a pharmacy user.
const LAB = { serial: '20257777', name: 'Zeta-Lab-Incubator' };
const PHARMACY = { serial: '20256666', name: 'Alpha-Pharmacy-Fridge' };
const users = {
  pharmacyViewer: { password: 'Lantern-Ridge-77', grants: () => [{ zoneId: zone.pharmacy, role: 'viewer' }] },
  pharmacyOperator: { password: 'Copper-Basin-58', grants: () => [{ zoneId: zone.pharmacy, role: 'operator' }] },
  pharmacyAdmin: { password: 'Granite-Fjord-31', grants: () => [{ zoneId: zone.pharmacy, role: 'administrator' }] },
  hospitalViewer: { password: 'Willow-Summit-64', grants: () => [{ zoneId: zone.hospital, role: 'viewer' }] },
} as const;
type UserName = keyof typeof users;
const callers = {} as Record<UserName, Caller>;
const now = Date.now();
const HOUR = 3_600_000;
/** A PDF report of the laboratory, made by the global administrator: no pharmacy user may sign it. */
let labReportCode = '';

before(async () => {
  t = await startTestGateway();
  admin.c = new Caller(t.gateway.url);
  assert.equal((await admin.c.signIn(ADMIN.username, ADMIN.password)).status, 200);
  const hospital = await admin.c.json<{ zone: { id: number } }>('POST', '/api/zones', { name: 'Hospital', reason: 'site layout' });
  assert.equal(hospital.status, 201, JSON.stringify(hospital.body));
  zone.hospital = hospital.body.zone.id;
  zone.pharmacy = (await admin.c.json<{ zone: { id: number } }>('POST', '/api/zones', { reason: 'test fixture', name: 'Pharmacy', parentId: zone.hospital })).body.zone.id;
  zone.lab = (await admin.c.json<{ zone: { id: number } }>('POST', '/api/zones', { reason: 'test fixture', name: 'Laboratory', parentId: zone.hospital })).body.zone.id;
  const urls: Record<string, string> = {};
  for (const [key, d] of [['pharmacy', PHARMACY], ['lab', LAB]] as const) {
    const added = await admin.c.json<{ device: { id: number; location: string }; entryUrl: string }>('POST', '/api/devices', { reason: 'test fixture', serial: d.serial, model: 'T3510', name: d.name, zoneId: zone[key] });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.device.location, key === 'pharmacy' ? 'Hospital/Pharmacy' : 'Hospital/Laboratory');
    dev[key] = added.body.device.id;
    urls[key] = added.body.entryUrl;
    assert.equal((await admin.c.json('PUT', `/api/devices/${dev[key]}/interval`, { reason: 'test fixture', allowedIntervalS: 1 })).status, 200);
    // every reading above -100 °C is an alarm: each device gets one at its first upload
    const limits = await admin.c.json('PUT', `/api/devices/${dev[key]}/channels/1/alarm-limits`, { reason: 'test fixture', limits: [{ level: 'alarm', high: -100 }], signature: { password: ADMIN.password, meaning: 'approved' } });
    assert.equal(limits.status, 200, JSON.stringify(limits.body));
  }
  const report = await runSimulation({
    devices: [{ url: urls.pharmacy, serial: PHARMACY.serial, modelCode: soapModelCode('T3510')! }, { url: urls.lab, serial: LAB.serial, modelCode: soapModelCode('T3510')! }],
    count: 2, intervalMs: 1100, alarmEvery: 0, errorEvery: 0,
  });
  assert.equal(report.ok, 4, JSON.stringify(report));
  for (const key of ['pharmacy', 'lab'] as const) {
    alarm[key] = await waitUntil(`the ${key} alarm`, async () => (await t.gateway.store.alarms({ deviceId: dev[key], limit: 1 }))[0]?.id);
  }
  const labReport = await admin.c.request('GET', `/api/report.pdf?devices=${dev.lab}&from=${now - HOUR}&to=${now + HOUR}`);
  assert.equal(labReport.status, 200);
  labReportCode = labReport.headers.get('x-inlet-report-code')!;
  for (const [name, u] of Object.entries(users) as [UserName, (typeof users)[UserName]][]) {
    const made = await admin.c.json<{ user: { id: number } }>('POST', '/api/users', { reason: 'test fixture', username: name, role: 'viewer', password: u.password });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const scoped = await admin.c.json('PUT', `/api/users/${made.body.user.id}/zones`, { scope: 'zones', grants: u.grants(), reason: 'team set-up' });
    assert.equal(scoped.status, 200, JSON.stringify(scoped.body));
    callers[name] = new Caller(t.gateway.url);
    assert.equal((await callers[name].signIn(name, u.password)).status, 200);
  }
});

after(async () => { await t?.close(); });

interface RouteCase {
  method: string;
  path: string;
  body?: unknown;
  /** The route as written in src/api (for the coverage check below). */
  route: string;
  /** What the pharmacy operator gets. */
  pharmacyOperator: number;
}

/**
 * Every API route, aimed at the laboratory (another zone than the callers') or at everything.
 * Requests on the laboratory's things must answer 404 (as if they did not exist) or 403; lists
 * must answer 200 without a trace of the laboratory.
 */
function labRoutes(): RouteCase[] {
  const range = `from=${now - HOUR}&to=${now + HOUR}`;
  return [
    { route: 'GET /session', method: 'GET', path: '/api/session', pharmacyOperator: 200 },
    { route: 'GET /devices', method: 'GET', path: '/api/devices', pharmacyOperator: 200 },
    { route: 'GET /series', method: 'GET', path: `/api/series?channels=${dev.lab}:1&${range}`, pharmacyOperator: 404 },
    { route: 'GET /series', method: 'GET', path: `/api/series?channels=${dev.pharmacy}:1,${dev.lab}:1&${range}`, pharmacyOperator: 404 },
    { route: 'GET /report', method: 'GET', path: `/api/report?channels=${dev.lab}:1&${range}`, pharmacyOperator: 404 },
    { route: 'GET /report.pdf', method: 'GET', path: `/api/report.pdf?devices=${dev.lab}&${range}`, pharmacyOperator: 404 },
    { route: 'GET /report.pdf', method: 'GET', path: `/api/report.pdf?devices=${dev.pharmacy}&channels=${dev.lab}:1&${range}`, pharmacyOperator: 404 },
    { route: 'POST /reports/:code/sign', method: 'POST', path: `/api/reports/${labReportCode}/sign`, body: { signature: { password: 'x', meaning: 'approved' } }, pharmacyOperator: 404 },
    { route: 'GET /report-schedules', method: 'GET', path: '/api/report-schedules', pharmacyOperator: 403 },
    { route: 'POST /report-schedules', method: 'POST', path: '/api/report-schedules', body: { name: 'Lab', scope: 'devices', deviceIds: [dev.lab], period: 'daily', folder: '/tmp', reason: 'x' }, pharmacyOperator: 403 },
    { route: 'PUT /report-schedules/:id', method: 'PUT', path: '/api/report-schedules/1', body: { name: 'Lab', scope: 'devices', deviceIds: [dev.lab], period: 'daily', folder: '/tmp', reason: 'x' }, pharmacyOperator: 403 },
    { route: 'DELETE /report-schedules/:id', method: 'DELETE', path: '/api/report-schedules/1', body: { reason: 'x' }, pharmacyOperator: 403 },
    { route: 'GET /samples', method: 'GET', path: `/api/samples?device=${dev.lab}&${range}`, pharmacyOperator: 404 },
    { route: 'GET /export.csv', method: 'GET', path: `/api/export.csv?channels=${dev.lab}:1&${range}`, pharmacyOperator: 404 },
    { route: 'GET /completeness', method: 'GET', path: `/api/completeness?channels=${dev.lab}:1&${range}`, pharmacyOperator: 404 },
    { route: 'GET /completeness.csv', method: 'GET', path: `/api/completeness.csv?channels=${dev.lab}:1&${range}`, pharmacyOperator: 404 },
    { route: 'GET /events', method: 'GET', path: '/api/events', pharmacyOperator: 200 },
    { route: 'GET /events', method: 'GET', path: `/api/events?device=${dev.lab}`, pharmacyOperator: 404 },
    { route: 'GET /alarms', method: 'GET', path: '/api/alarms', pharmacyOperator: 200 },
    { route: 'GET /alarms', method: 'GET', path: `/api/alarms?device=${dev.lab}`, pharmacyOperator: 404 },
    { route: 'POST /alarms/:id/acknowledge', method: 'POST', path: `/api/alarms/${alarm.lab}/acknowledge`, body: { comment: 'not mine' }, pharmacyOperator: 404 },
    { route: 'GET /alarm-limits', method: 'GET', path: '/api/alarm-limits', pharmacyOperator: 200 },
    { route: 'GET /alarm-limits', method: 'GET', path: `/api/alarm-limits?device=${dev.lab}`, pharmacyOperator: 404 },
    { route: 'PUT /devices/:id/channels/:channel/alarm-limits', method: 'PUT', path: `/api/devices/${dev.lab}/channels/1/alarm-limits`, body: { reason: 'test fixture', limits: [] }, pharmacyOperator: 404 },
    { route: 'GET /devices/:id/quarantine', method: 'GET', path: `/api/devices/${dev.lab}/quarantine`, pharmacyOperator: 404 },
    { route: 'PATCH /devices/:id', method: 'PATCH', path: `/api/devices/${dev.lab}`, body: { reason: 'test fixture', name: 'renamed' }, pharmacyOperator: 404 },
    // moving their own device away: a viewer or operator lacks the role on their own zone (403), an administrator the sight of the other (404)
    { route: 'PATCH /devices/:id', method: 'PATCH', path: `/api/devices/${dev.pharmacy}`, body: { reason: 'test fixture', zoneId: zone.lab }, pharmacyOperator: 403 },
    { route: 'POST /devices/:id/suspend', method: 'POST', path: `/api/devices/${dev.lab}/suspend`, body: { reason: 'x' }, pharmacyOperator: 404 },
    { route: 'POST /devices/:id/resume', method: 'POST', path: `/api/devices/${dev.lab}/resume`, body: { reason: 'test fixture', importData: false }, pharmacyOperator: 404 },
    { route: 'POST /devices/:id/retire', method: 'POST', path: `/api/devices/${dev.lab}/retire`, body: { reason: 'x' }, pharmacyOperator: 404 },
    { route: 'POST /devices/:id/reinstate', method: 'POST', path: `/api/devices/${dev.lab}/reinstate`, body: { reason: 'x' }, pharmacyOperator: 404 },
    { route: 'POST /devices/:id/replace', method: 'POST', path: `/api/devices/${dev.lab}/replace`, body: { serial: '20258887', model: 'T3510', reason: 'x' }, pharmacyOperator: 404 },
    { route: 'POST /alarms/acknowledge', method: 'POST', path: '/api/alarms/acknowledge', body: { ids: [alarm.lab], comment: 'not mine' }, pharmacyOperator: 404 },
    { route: 'PUT /alarm-limits', method: 'PUT', path: '/api/alarm-limits', body: { reason: 'test fixture', channels: [`${dev.lab}:1`], limits: [{ level: 'alarm', high: 8 }] }, pharmacyOperator: 404 },
    { route: 'GET /devices/:id/channel-units', method: 'GET', path: `/api/devices/${dev.lab}/channel-units`, pharmacyOperator: 404 },
    { route: 'POST /devices/:id/channels/:channel/unit', method: 'POST', path: `/api/devices/${dev.lab}/channels/1/unit`, body: { unit: 'F', reason: 'x', signature: { password: 'x', meaning: 'confirmed' } }, pharmacyOperator: 404 },
    // The audit trail of their zones only (events of users, zones and the system are a global role's)
    { route: 'GET /audit', method: 'GET', path: '/api/audit', pharmacyOperator: 200 },
    { route: 'GET /audit', method: 'GET', path: `/api/audit?device=${dev.lab}`, pharmacyOperator: 404 },
    { route: 'GET /audit.csv', method: 'GET', path: '/api/audit.csv', pharmacyOperator: 200 },
    { route: 'GET /audit.pdf', method: 'GET', path: `/api/audit.pdf?device=${dev.lab}`, pharmacyOperator: 404 },
    { route: 'POST /audit/review', method: 'POST', path: '/api/audit/review', body: { comment: 'reviewed', signature: { password: 'x', meaning: 'reviewed' } }, pharmacyOperator: 200 },
    { route: 'POST /devices/:id/entry-point', method: 'POST', path: `/api/devices/${dev.lab}/entry-point`, body: { reason: 'takeover' }, pharmacyOperator: 404 },
    { route: 'PUT /devices/:id/interval', method: 'PUT', path: `/api/devices/${dev.lab}/interval`, body: { reason: 'test fixture', allowedIntervalS: 5 }, pharmacyOperator: 404 },
    { route: 'PUT /devices/:id/clock', method: 'PUT', path: `/api/devices/${dev.lab}/clock`, body: { loggerClock: 'utc', reason: 'takeover' }, pharmacyOperator: 404 },
    { route: 'POST /devices', method: 'POST', path: '/api/devices', body: { reason: 'test fixture', serial: '20258888', model: 'T3510', name: 'Intruder', zoneId: zone.lab }, pharmacyOperator: 404 },
    { route: 'POST /devices', method: 'POST', path: '/api/devices', body: { reason: 'test fixture', serial: '20258889', model: 'T3510', name: 'Intruder', location: 'Hospital/New wing' }, pharmacyOperator: 403 },
    { route: 'GET /zones', method: 'GET', path: '/api/zones', pharmacyOperator: 200 },
    { route: 'POST /zones', method: 'POST', path: '/api/zones', body: { reason: 'test fixture', name: 'Annex', parentId: zone.pharmacy }, pharmacyOperator: 403 },
    { route: 'PATCH /zones/:id', method: 'PATCH', path: `/api/zones/${zone.lab}`, body: { name: 'Mine', reason: 'takeover' }, pharmacyOperator: 403 },
    { route: 'DELETE /zones/:id', method: 'DELETE', path: `/api/zones/${zone.lab}`, body: { reason: 'takeover' }, pharmacyOperator: 403 },
    { route: 'GET /users/:id/zones', method: 'GET', path: '/api/users/1/zones', pharmacyOperator: 403 },
    { route: 'PUT /users/:id/zones', method: 'PUT', path: '/api/users/2/zones', body: { scope: 'global', grants: [], reason: 'escalate' }, pharmacyOperator: 403 },
    { route: 'GET /users', method: 'GET', path: '/api/users', pharmacyOperator: 403 },
    { route: 'POST /users', method: 'POST', path: '/api/users', body: { reason: 'test fixture', username: 'sneaky', role: 'administrator', password: 'Meadow-Brook-91' }, pharmacyOperator: 403 },
    { route: 'PATCH /users/:id', method: 'PATCH', path: '/api/users/1', body: { reason: 'test fixture', unlock: true }, pharmacyOperator: 403 },
  ];
}

function assertNoTrace(text: string, where: string): void {
  for (const secret of [LAB.serial, LAB.name, 'Laboratory', `"deviceId":${dev.lab},`]) {
    assert.ok(!text.includes(secret), `${where} leaks "${secret}": ${text.slice(0, 400)}`);
  }
}

describe('a pharmacy user sees and does nothing in the laboratory', () => {
  test('every API route of src/api has a case here (a new route must be added to this walk)', () => {
    const declared = new Set<string>();
    for (const file of readdirSync(path.join(REPO, 'src/api')).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(path.join(REPO, 'src/api', file), 'utf8');
      const prefix = file === 'users.ts' ? '/users' : '';
      for (const m of text.matchAll(/router\.(get|post|put|patch|delete)\('([^']+)'/g)) {
        // the stream is walked below; sign-in, sign-out and display mode act on the caller's own session, of no zone
        if (m[2] === '/live' || m[2].startsWith('/session') && m[1] !== 'get') continue;
        declared.add(`${m[1].toUpperCase()} ${`${prefix}${m[2]}`.replace(/\/$/, '') || '/'}`);
      }
    }
    const walked = new Set(labRoutes().map((r) => r.route));
    const missing = [...declared].filter((r) => !walked.has(r));
    assert.deepEqual(missing, [], 'routes not walked by the zone test');
  });

  for (const who of ['pharmacyViewer', 'pharmacyOperator', 'pharmacyAdmin'] as const) {
    test(`as ${who}`, async () => {
      for (const r of labRoutes()) {
        const res = await callers[who].request(r.method, r.path, r.body);
        const text = await res.text();
        const movesAway = r.route === 'PATCH /devices/:id' && r.path.endsWith(`/${dev.pharmacy}`);
        const expected = movesAway && who === 'pharmacyAdmin' ? 404 : r.pharmacyOperator;
        if (expected === 200) {
          // a viewer may be refused an operator's or administrator's list; what it gets must hold no trace
          assert.ok(res.status === 200 || res.status === 403, `${who} ${r.method} ${r.path}: ${res.status} ${text.slice(0, 200)}`);
        } else {
          assert.ok(res.status === 404 || res.status === 403, `${who} ${r.method} ${r.path}: expected 403/404, got ${res.status} ${text.slice(0, 200)}`);
          // a lower role may be refused (403) before the zone is looked at; the administrator, whom no
          // role check stops, must get the 404 that does not tell the laboratory's things exist
          if (expected === 404 && who === 'pharmacyAdmin') assert.equal(res.status, 404, `${who} ${r.method} ${r.path}: the laboratory's things answer as if they did not exist`);
        }
        assertNoTrace(text, `${who} ${r.method} ${r.path}`);
      }
      // and the laboratory's device is unchanged
      const lab = (await t.gateway.store.getDevice(dev.lab))!;
      assert.equal(lab.name, LAB.name);
      assert.equal(lab.state, 'active');
      assert.equal(lab.zoneId, zone.lab);
    });
  }

  test('lists hold their own zone: devices, alarms, events, limits and zones of the pharmacy only', async () => {
    const c = callers.pharmacyViewer;
    const tree = await c.json<{ locations: { name: string; devices: { id: number }[] }[] }>('GET', '/api/devices');
    assert.deepEqual(tree.body.locations.map((l) => [l.name, l.devices.map((d) => d.id)]), [['Hospital/Pharmacy', [dev.pharmacy]]]);
    // the pharmacy's limit alarm (and, on a slow machine, its own offline alarm), nothing else
    const alarms = await c.json<{ alarms: { id: number; deviceId: number | null }[] }>('GET', '/api/alarms');
    assert.ok(alarms.body.alarms.some((a) => a.id === alarm.pharmacy));
    assert.ok(alarms.body.alarms.every((a) => a.deviceId === dev.pharmacy), JSON.stringify(alarms.body.alarms));
    const events = await c.json<{ events: { deviceId: number | null }[] }>('GET', '/api/events');
    assert.ok(events.body.events.length > 0);
    assert.ok(events.body.events.every((e) => e.deviceId === dev.pharmacy), 'events of the pharmacy device only (no system or zone events)');
    const zones = await c.json<{ zones: { path: string; role: string }[] }>('GET', '/api/zones');
    assert.deepEqual(zones.body.zones.map((z) => `${z.path}:${z.role}`), ['Hospital/Pharmacy:viewer']);
    const own = await c.request('GET', `/api/series?channels=${dev.pharmacy}:1&from=${now - HOUR}&to=${now + HOUR}`);
    assert.equal(own.status, 200);
  });

  test('the live stream carries the caller\'s zones only', async () => {
    const res = await callers.pharmacyOperator.request('GET', '/api/live');
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.ok(text.includes(PHARMACY.name), text.slice(0, 300));
    assertNoTrace(text, 'live stream');
  });

  test('a role on a zone covers the zones below it; each role acts as it allows on its own zone', async () => {
    const tree = await callers.hospitalViewer.json<{ locations: { devices: { id: number }[] }[] }>('GET', '/api/devices');
    assert.deepEqual(tree.body.locations.flatMap((l) => l.devices.map((d) => d.id)).sort(), [dev.pharmacy, dev.lab].sort());
    assert.equal((await callers.hospitalViewer.request('POST', `/api/alarms/${alarm.lab}/acknowledge`, { comment: 'seen it' })).status, 403);
    assert.equal((await callers.pharmacyViewer.request('POST', `/api/alarms/${alarm.pharmacy}/acknowledge`, { comment: 'seen it' })).status, 403);
    assert.equal((await callers.pharmacyOperator.request('PUT', `/api/devices/${dev.pharmacy}/interval`, { reason: 'test fixture', allowedIntervalS: 2 })).status, 403);
    const ack = await callers.pharmacyOperator.json('POST', `/api/alarms/${alarm.pharmacy}/acknowledge`, { comment: 'door closed again', signature: { password: users.pharmacyOperator.password, meaning: 'reviewed' } });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.equal((await callers.pharmacyAdmin.request('PUT', `/api/devices/${dev.pharmacy}/interval`, { reason: 'test fixture', allowedIntervalS: 1 })).status, 200);
    const registered = await callers.pharmacyAdmin.json<{ device: { location: string } }>('POST', '/api/devices', { reason: 'test fixture', serial: '20255555', model: 'T3510', name: 'Second fridge', zoneId: zone.pharmacy });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal(registered.body.device.location, 'Hospital/Pharmacy');
  });
});

describe('zone administration', () => {
  test('renaming a zone moves its devices\' location with it, each change an event with who, old and new', async () => {
    const renamed = await admin.c.json<{ devicesMoved: number }>('PATCH', `/api/zones/${zone.lab}`, { name: 'Lab', reason: 'signage renewed' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal((await t.gateway.store.getDevice(dev.lab))!.location, 'Hospital/Lab');
    const [event] = await t.gateway.store.events({ type: 'zone.renamed', limit: 1 });
    assert.match(event.message, /zone "Hospital\/Laboratory" renamed to "Hospital\/Lab" \(by admin\); reason: signage renewed/);
    assert.deepEqual((event.data as { old: { name: string } }).old.name, 'Laboratory');
    assert.equal((await admin.c.request('PATCH', `/api/zones/${zone.hospital}`, { parentId: zone.pharmacy, reason: 'loop' })).status, 409, 'no zone below itself');
    assert.equal((await admin.c.request('DELETE', `/api/zones/${zone.lab}`, { reason: 'closing' })).status, 409, 'a zone holding devices stays');
    const empty = await admin.c.json<{ zone: { id: number } }>('POST', '/api/zones', { reason: 'test fixture', name: 'Spare', parentId: zone.hospital });
    assert.equal((await admin.c.request('DELETE', `/api/zones/${empty.body.zone.id}`, { reason: 'not needed' })).status, 204);
    const revert = await admin.c.json('PATCH', `/api/zones/${zone.lab}`, { name: 'Laboratory', reason: 'back' });
    assert.equal(revert.status, 200);
  });

  test('the only global administrator cannot be limited to zones', async () => {
    const adminId = (await t.gateway.store.findUser(ADMIN.username))!.id;
    const res = await admin.c.json('PUT', `/api/users/${adminId}/zones`, { scope: 'zones', grants: [{ zoneId: zone.lab, role: 'administrator' }], reason: 'test' });
    assert.equal(res.status, 409);
  });
});
