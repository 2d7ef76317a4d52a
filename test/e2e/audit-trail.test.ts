// Every change is an event (issue 18): this walks every state-changing route of the viewer API, read
// from the express router itself, and every changing subcommand of `inlet device` and `inlet user`,
// read from their usage text, performs each one and checks that it left an event naming who did it
// (and, for the API, from which address). A new route or subcommand without a case here fails the test.
import { after, before, test } from 'node:test';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { createApiApp, type ApiDeps } from '../../src/api/app.ts';
import { deviceCommand } from '../../src/cli/device.ts';
import { userCommand } from '../../src/cli/user.ts';
import { zoneCommand } from '../../src/cli/zone.ts';
import { limitsCommand } from '../../src/cli/limits.ts';
import { retentionCommand, type SignerInput } from '../../src/cli/retention.ts';
import { REPORT_USAGE, reportCommand } from '../../src/cli/report.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import type { StoredEvent } from '../../src/store/store.ts';
import { ADMIN, Caller, startTestGateway, type TestGateway } from './api-helpers.ts';
import { REASON_REQUIRED } from '../../src/api/reason.ts';

let t: TestGateway;
let admin: Caller;
const SIGNATURE = { password: ADMIN.password, meaning: 'approved' };

before(async () => {
  t = await startTestGateway();
  admin = new Caller(t.gateway.url);
  assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
});
after(async () => { await t?.close(); });

/** Every route of an express app as "METHOD /path", nested routers included. */
function routesOf(app: { router: { stack: unknown[] } }): string[] {
  const found: string[] = [];
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; rawPath?: string; matchers?: unknown[] };
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const full = `${prefix}${layer.route.path}`;
        for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${full.length > 1 ? full.replace(/\/$/, '') : full}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk(app.router.stack as Layer[], '');
  return found;
}

/** The router's mount points are not kept by express 5, so the API's are named here (src/api/app.ts). */
function apiRoutes(): string[] {
  const deps = { store: t.gateway.store, config: DEFAULT_CONFIG, log: { error() {} } } as unknown as ApiDeps;
  const app = createApiApp(deps) as unknown as { router: { stack: unknown[] } };
  return routesOf(app);
}

async function newEvents(afterId: number): Promise<StoredEvent[]> {
  return (await t.gateway.store.events({ limit: 200 })).filter((e) => e.id > afterId);
}

async function lastEventId(): Promise<number> {
  return (await t.gateway.store.events({ limit: 1 }))[0]?.id ?? 0;
}

async function sendReading(entryUrl: string, serial: string, temp: number): Promise<void> {
  const body = buildSoapMessage({ serial, modelCode: soapModelCode('T3510')!, temp, alarms: ['no', 'no', 'no', 'no'] });
  assert.equal((await post(entryUrl, body, 'text/xml; charset=utf-8')).status, 200);
}

async function addDevice(serial: string, name: string): Promise<{ id: number; entryUrl: string }> {
  const made = await admin.json<{ device: { id: number }; entryUrl: string }>('POST', '/api/devices', { serial, model: 'T3510', name, reason: 'test fixture' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal((await admin.json('PUT', `/api/devices/${made.body.device.id}/interval`, { allowedIntervalS: 1, reason: 'test fixture' })).status, 200);
  return { id: made.body.device.id, entryUrl: made.body.entryUrl };
}

test('every state-changing API route leaves an event with actor, source address and what changed', async () => {
  const fridge = await addDevice('71000001', 'Fridge');
  await sendReading(fridge.entryUrl, '71000001', 4);
  await t.gateway.store.setAlarmLimits(fridge.id, 1, [{ deviceId: fridge.id, channel: 1, level: 'alarm', high: 5, low: null, delayS: 0, hysteresis: 0 }], 'admin', Date.now());
  const alarm = await t.gateway.store.raiseAlarm({ deviceId: fridge.id, channel: 1, source: 'limit', level: 'alarm', direction: 'high', raisedAt: Date.now(), value: 9, message: 'test alarm' });
  const bulkAlarm = await t.gateway.store.raiseAlarm({ deviceId: fridge.id, channel: 2, source: 'limit', level: 'alarm', direction: 'high', raisedAt: Date.now(), value: 99, message: 'test alarm 2' });
  const zoned = await admin.json<{ user: { id: number } }>('POST', '/api/users', { username: 'zoned', role: 'viewer', password: 'Harbor-Lights-84', reason: 'fixture' });
  const pharmacy = await admin.json<{ zone: { id: number } }>('POST', '/api/zones', { name: 'Pharmacy', reason: 'fixture' });
  let newZoneId = 0;
  const spare = await addDevice('71000007', 'Spare probe');
  const loggerDevice = (await admin.json<{ device: { id: number } }>('POST', '/api/devices', { serial: '71000009', model: 'MS6D', name: 'Logger', family: 'logger', reason: 'fixture' })).body.device;
  // a user of their own for the routes a user acts on for themselves: sign-in, password change, sign-out
  assert.equal((await admin.json('POST', '/api/users', { username: 'walker', role: 'operator', password: 'Quiet-Harbor-Lantern-51', reason: 'fixture' })).status, 201);
  const walker = new Caller(t.gateway.url);
  assert.equal((await admin.json('POST', '/api/users', { username: 'wallscreen', role: 'operator', password: 'Copper-Meadow-Kettle-28', reason: 'fixture' })).status, 201);
  const display = new Caller(t.gateway.url);
  assert.equal((await display.signIn('wallscreen', 'Copper-Meadow-Kettle-28')).status, 200);
  /** A report made just before it is signed: signing refuses one whose data changed since. */
  const freshReport = async () => {
    const made = await admin.request('GET', `/api/report.pdf?devices=${fridge.id}&from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}&tz=UTC`);
    assert.equal(made.status, 200, await made.clone().text());
    return made.headers.get('x-inlet-report-code')!;
  };
  let scheduleId = 0;
  const schedule = { name: 'Fridge daily', scope: 'devices', deviceIds: [fridge.id], period: 'daily', folder: tmpdir(), reason: 'QA asks for it' };

  /** For each route: how to call it with a valid change, and the event type it must leave. */
  const CASES: Record<string, { call: () => Promise<Response>; event: string | RegExp; actor?: string }> = {
    'POST /api/session': { call: () => walker.signIn('walker', 'Quiet-Harbor-Lantern-51'), event: 'user.signin', actor: 'walker' },
    'POST /api/session/password': {
      call: async () => {
        const res = await walker.request('POST', '/api/session/password', { currentPassword: 'Quiet-Harbor-Lantern-51', newPassword: 'Amber-Glacier-Violin-73' });
        walker.cookie = res.headers.get('set-cookie')?.split(';')[0] ?? walker.cookie;   // the session is renewed with the password
        return res;
      },
      event: 'user.password.changed', actor: 'walker',
    },
    'POST /api/session/display': { call: () => display.request('POST', '/api/session/display', { reason: 'wall screen in the cold room' }), event: 'session.display', actor: 'wallscreen' },
    'DELETE /api/session': { call: () => walker.request('DELETE', '/api/session'), event: 'user.signout', actor: 'walker' },
    'POST /api/reports/:code/sign': { call: async () => admin.request('POST', `/api/reports/${await freshReport()}/sign`, { signature: SIGNATURE }), event: 'report.signed' },
    'POST /api/report-schedules': {
      call: async () => {
        const res = await admin.request('POST', '/api/report-schedules', schedule);
        scheduleId = ((await res.clone().json()) as { id: number }).id;
        return res;
      },
      event: 'report.schedule.changed',
    },
    'PUT /api/report-schedules/:id': { call: () => admin.request('PUT', `/api/report-schedules/${scheduleId}`, { ...schedule, period: 'weekly', reason: 'weekly is enough' }), event: 'report.schedule.changed' },
    'DELETE /api/report-schedules/:id': { call: () => admin.request('DELETE', `/api/report-schedules/${scheduleId}`, { reason: 'replaced by the monthly report' }), event: 'report.schedule.changed' },
    'POST /api/devices': { call: () => admin.request('POST', '/api/devices', { serial: '71000002', model: 'T3510', name: 'Spare', reason: 'new room' }), event: 'device.added' },
    'PATCH /api/devices/:id': { call: () => admin.request('PATCH', `/api/devices/${fridge.id}`, { name: 'Fridge 2', location: 'Lab 2', reason: 'moved' }), event: /^device\.(zone|renamed)$/ },
    'POST /api/devices/:id/entry-point': { call: () => admin.request('POST', `/api/devices/${fridge.id}/entry-point`, { reason: 'the URL was mailed in clear' }), event: 'device.token' },
    'PUT /api/devices/:id/interval': { call: () => admin.request('PUT', `/api/devices/${fridge.id}/interval`, { allowedIntervalS: 2, reason: 'slower' }), event: 'device.interval' },
    'POST /api/devices/:id/suspend': { call: () => admin.request('POST', `/api/devices/${fridge.id}/suspend`, { reason: 'calibration' }), event: 'device.suspended' },
    'POST /api/devices/:id/resume': { call: () => admin.request('POST', `/api/devices/${fridge.id}/resume`, { importData: false, reason: 'calibrated', signature: { ...SIGNATURE, meaning: 'released' } }), event: 'device.resumed' },
    'POST /api/devices/:id/channels/:channel/unit': { call: () => admin.request('POST', `/api/devices/${fridge.id}/channels/1/unit`, { unit: 'F', reason: 'probe replaced', signature: { ...SIGNATURE, meaning: 'confirmed' } }), event: 'channel.unit.changed' },
    'POST /api/alarms/:id/acknowledge': { call: () => admin.request('POST', `/api/alarms/${alarm.id}/acknowledge`, { comment: 'checked the door', signature: SIGNATURE }), event: 'alarm.acknowledged' },
    'POST /api/alarms/acknowledge': { call: () => admin.request('POST', '/api/alarms/acknowledge', { ids: [bulkAlarm.id], comment: 'checked all', signature: SIGNATURE }), event: 'alarm.acknowledged' },
    'PUT /api/devices/:id/channels/:channel/alarm-limits': { call: () => admin.request('PUT', `/api/devices/${fridge.id}/channels/1/alarm-limits`, { limits: [{ level: 'alarm', high: 8 }], reason: 'SOP 12', signature: SIGNATURE }), event: 'alarm.limits.changed' },
    'POST /api/users': { call: () => admin.request('POST', '/api/users', { username: 'auditee', role: 'viewer', password: 'Granite-Falls-63', reason: 'new QA staff' }), event: 'user.added' },
    'PATCH /api/users/:id': { call: () => admin.request('PATCH', `/api/users/${zoned.body.user.id}`, { role: 'operator', reason: 'promoted' }), event: 'user.role.changed' },
    'POST /api/zones': {
      call: async () => {
        const res = await admin.request('POST', '/api/zones', { name: 'Cold store', reason: 'new building' });
        newZoneId = ((await res.clone().json()) as { zone: { id: number } }).zone.id;
        return res;
      },
      event: 'zone.added',
    },
    'PATCH /api/zones/:id': { call: () => admin.request('PATCH', `/api/zones/${newZoneId}`, { name: 'Cold store B', reason: 'renamed building' }), event: 'zone.renamed' },
    'DELETE /api/zones/:id': { call: () => admin.request('DELETE', `/api/zones/${newZoneId}`, { reason: 'building sold' }), event: 'zone.removed' },
    'PUT /api/users/:id/zones': {
      call: () => admin.request('PUT', `/api/users/${zoned.body.user.id}/zones`, { scope: 'zones', grants: [{ zoneId: pharmacy.body.zone.id, role: 'viewer' }], reason: 'pharmacy only' }),
      event: 'user.scope.changed',
    },
    'PUT /api/devices/:id/clock': { call: () => admin.request('PUT', `/api/devices/${loggerDevice.id}/clock`, { loggerClock: 'utc', reason: 'logger set to UTC' }), event: /^device\.clock/ },
    'POST /api/devices/:id/retire': { call: () => admin.request('POST', `/api/devices/${spare.id}/retire`, { reason: 'broken probe' }), event: 'device.retired' },
    'POST /api/devices/:id/reinstate': { call: () => admin.request('POST', `/api/devices/${spare.id}/reinstate`, { reason: 'repaired' }), event: 'device.reinstated' },
    'POST /api/devices/:id/replace': { call: () => admin.request('POST', `/api/devices/${spare.id}/replace`, { serial: '71000008', model: 'T3510', reason: 'new probe' }), event: /^device\./ },
    'PUT /api/alarm-limits': { call: () => admin.request('PUT', '/api/alarm-limits', { channels: [`${fridge.id}:2`], limits: [{ level: 'alarm', high: 90 }], reason: 'template', signature: SIGNATURE }), event: 'alarm.limits.changed' },
    'POST /api/audit/review': { call: () => admin.request('POST', '/api/audit/review', { from: 0, to: Date.now() + 1000, comment: 'monthly review', signature: { ...SIGNATURE, meaning: 'reviewed' } }), event: 'audit.reviewed' },
  };
  /** Every changing route is walked: none is left out. */
  const ELSEWHERE = new Set<string>();

  const changing = apiRoutes().filter((r) => !r.startsWith('GET ') && !r.startsWith('HEAD '));
  assert.ok(changing.length >= 10, `found the routes: ${changing.join(', ')}`);
  const uncovered = changing.filter((r) => !CASES[r] && !ELSEWHERE.has(r));
  assert.deepEqual(uncovered, [], 'every state-changing route needs a case here (and must record an event)');

  for (const route of changing.filter((r) => CASES[r])) {
    const before = await lastEventId();
    const res = await CASES[route].call();
    assert.ok(res.status < 300, `${route} answered ${res.status}: ${await res.text()}`);
    const expected = CASES[route].event;
    // Sign-in records reach the store through the refusal archive's writer, a moment after the answer.
    let events = await newEvents(before);
    let event: StoredEvent | undefined;
    for (const waitUntil = Date.now() + 60_000; ;) {
      // another session's sign-in may land in the same moment: the event looked for is the one of this actor
      event = events.find((e) => (typeof expected === 'string' ? e.type === expected : expected.test(e.type)) && (!CASES[route].actor || e.actor === CASES[route].actor));
      if (event || !/^(POST|DELETE) \/api\/session/.test(route) || Date.now() > waitUntil) break;
      await new Promise((r) => setTimeout(r, 20));
      events = await newEvents(before);
    }
    assert.ok(event, `${route} left no ${expected} event (found ${events.map((e) => e.type).join(', ') || 'none'})`);
    assert.equal(event.actor, CASES[route].actor ?? ADMIN.username, `${route}: the event names who did it`);
    assert.match(event.source ?? '', /127\.0\.0\.1/, `${route}: the event names the client's address`);
    assert.ok(typeof event.recordedAt === 'number', `${route}: the event says when the store wrote it`);
  }
});

test('every configuration-changing API route refuses a missing or blank reason with 400 and changes nothing', async () => {
  const device = await addDevice('74000001', 'Reasonless fridge');
  await sendReading(device.entryUrl, '74000001', 4);
  const loggerDevice = (await admin.json<{ device: { id: number } }>('POST', '/api/devices', { serial: '74000002', model: 'MS6D', name: 'Reasonless logger', family: 'logger', reason: 'fixture' })).body.device;
  const user = (await admin.json<{ user: { id: number } }>('POST', '/api/users', { username: 'reasonless', role: 'viewer', password: 'Pebble-Orchard-Bugle-47', reason: 'fixture' })).body.user;
  const zone = (await admin.json<{ zone: { id: number } }>('POST', '/api/zones', { name: 'Reasonless room', reason: 'fixture' })).body.zone;
  const schedule = { name: 'Reasonless daily', scope: 'devices', deviceIds: [device.id], period: 'daily', folder: tmpdir() };
  const scheduleId = (await admin.json<{ id: number }>('POST', '/api/report-schedules', { ...schedule, reason: 'fixture' })).body.id;
  assert.equal((await admin.json('POST', `/api/devices/${device.id}/suspend`, { reason: 'fixture: something to resume' })).status, 200);
  assert.ok(loggerDevice && user && zone && scheduleId, 'the fixtures were made');

  /** Each configuration route with an otherwise valid body, without its reason. */
  const WITHOUT_REASON: Record<string, [method: string, path: string, body: Record<string, unknown>]> = {
    'POST /api/devices': ['POST', '/api/devices', { serial: '74000003', model: 'T3510', name: 'Spare' }],
    'PATCH /api/devices/:id': ['PATCH', `/api/devices/${device.id}`, { name: 'Renamed fridge', location: 'Lab 9' }],
    'PUT /api/devices/:id/interval': ['PUT', `/api/devices/${device.id}/interval`, { allowedIntervalS: 60 }],
    'PUT /api/devices/:id/clock': ['PUT', `/api/devices/${loggerDevice.id}/clock`, { loggerClock: 'utc' }],
    'POST /api/devices/:id/suspend': ['POST', `/api/devices/${loggerDevice.id}/suspend`, {}],
    'POST /api/devices/:id/resume': ['POST', `/api/devices/${device.id}/resume`, { importData: false, signature: { ...SIGNATURE, meaning: 'released' } }],
    'POST /api/devices/:id/retire': ['POST', `/api/devices/${loggerDevice.id}/retire`, {}],
    'POST /api/devices/:id/reinstate': ['POST', `/api/devices/${loggerDevice.id}/reinstate`, {}],
    'POST /api/devices/:id/replace': ['POST', `/api/devices/${loggerDevice.id}/replace`, { serial: '74000004', model: 'MS6D' }],
    'POST /api/devices/:id/entry-point': ['POST', `/api/devices/${device.id}/entry-point`, {}],
    'POST /api/devices/:id/channels/:channel/unit': ['POST', `/api/devices/${device.id}/channels/1/unit`, { unit: 'F', signature: { ...SIGNATURE, meaning: 'confirmed' } }],
    'PUT /api/devices/:id/channels/:channel/alarm-limits': ['PUT', `/api/devices/${device.id}/channels/1/alarm-limits`, { limits: [{ level: 'alarm', high: 8 }], signature: SIGNATURE }],
    'PUT /api/alarm-limits': ['PUT', '/api/alarm-limits', { channels: [`${device.id}:1`], limits: [{ level: 'alarm', high: 9 }], signature: SIGNATURE }],
    'POST /api/users': ['POST', '/api/users', { username: 'reasonless2', role: 'viewer', password: 'Velvet-Canyon-Drum-62' }],
    'PATCH /api/users/:id': ['PATCH', `/api/users/${user.id}`, { role: 'operator' }],
    'PUT /api/users/:id/zones': ['PUT', `/api/users/${user.id}/zones`, { scope: 'zones', grants: [{ zoneId: zone.id, role: 'viewer' }] }],
    'POST /api/zones': ['POST', '/api/zones', { name: 'Another room' }],
    'PATCH /api/zones/:id': ['PATCH', `/api/zones/${zone.id}`, { name: 'Renamed room' }],
    'DELETE /api/zones/:id': ['DELETE', `/api/zones/${zone.id}`, {}],
    'POST /api/report-schedules': ['POST', '/api/report-schedules', schedule],
    'PUT /api/report-schedules/:id': ['PUT', `/api/report-schedules/${scheduleId}`, { ...schedule, period: 'weekly' }],
    'DELETE /api/report-schedules/:id': ['DELETE', `/api/report-schedules/${scheduleId}`, {}],
  };
  /** Not configuration: signing in and out, a user's own password, the wall display (which asks a reason of its own), signing a report, acknowledging (a comment), reviewing the trail. */
  const NOT_CONFIGURATION = new Set(['POST /api/session', 'POST /api/session/password', 'POST /api/session/display', 'DELETE /api/session',
    'POST /api/reports/:code/sign', 'POST /api/alarms/:id/acknowledge', 'POST /api/alarms/acknowledge', 'POST /api/audit/review']);
  const changing = apiRoutes().filter((r) => !r.startsWith('GET ') && !r.startsWith('HEAD '));
  assert.deepEqual(changing.filter((r) => !WITHOUT_REASON[r] && !NOT_CONFIGURATION.has(r)), [], 'every state-changing route is either a configuration change (needs a reason) or named as not one');

  for (const [route, [method, url, body]] of Object.entries(WITHOUT_REASON)) {
    for (const reason of [undefined, '', '   \t']) {
      const before = await lastEventId();
      const res = await admin.json<{ error: string; message: string }>(method, url, reason === undefined ? body : { ...body, reason });
      assert.equal(res.status, 400, `${route} with reason ${JSON.stringify(reason)} answered ${res.status}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, REASON_REQUIRED, `${route}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, /reason/, `${route}: the message says what is missing`);
      // Background work records events of its own meanwhile (on a slow machine the offline sweep found a
      // device of an earlier test silent: 'device.offline' with no actor, 'alarm.raised' by 'system');
      // an event this request recorded names the administrator who sent it (the test above checks that).
      const byRequest = (await newEvents(before)).filter((e) => e.actor === ADMIN.username);
      assert.deepEqual(byRequest.map((e) => `${e.type}: ${e.message}`), [], `${route} without a reason recorded nothing`);
    }
  }
  // and nothing changed: the device kept its name, interval and state, the user their role, the zone its name
  const kept = (await t.gateway.store.listDevices()).find((d) => d.id === device.id)!;
  assert.equal(kept.name, 'Reasonless fridge');
  assert.equal(kept.allowedIntervalS, 1);
  assert.equal(kept.state, 'suspended');
  assert.equal((await t.gateway.store.findUser('reasonless'))!.role, 'viewer');
  assert.equal(await t.gateway.store.findUser('reasonless2'), undefined);
  assert.equal((await admin.json<{ zones: { id: number; name: string }[] }>('GET', '/api/zones')).body.zones.find((z) => z.id === zone.id)?.name, 'Reasonless room');
});

test('every changing `inlet device` and `inlet user` subcommand leaves an event naming the operating-system account', async () => {
  const out: string[] = [];
  const collect = (line: string) => out.push(line);
  const store = t.gateway.store;
  const passwords = { isTerminal: false, prompt: async () => '', readAll: async () => 'Summit-Crane-29\n' };
  await deviceCommand(['help'], t.config, store, collect);
  await userCommand(['help'], t.config, store, collect, passwords);
  const verbs: string[] = [...new Set(Array.from(out.join('\n').matchAll(/inlet (device|user) ([a-z-]+)/g), (m) => `${m[1]} ${m[2]}`))];
  const READ_ONLY = new Set(['device list', 'device show', 'user list']);
  const CASES: Record<string, { args: string[]; event: string }> = {
    'device add': { args: ['add', '--serial', '72000001', '--model', 'T3510', '--name', 'CLI fridge', '--reason', 'new'], event: 'device.added' },
    'device suspend': { args: ['suspend', '--serial', '72000001', '--reason', 'maintenance'], event: 'device.suspended' },
    'device resume': { args: ['resume', '--serial', '72000001', '--reason', 'done'], event: 'device.resumed' },
    'device set-interval': { args: ['set-interval', '--serial', '72000001', '--seconds', '30', '--reason', 'slower'], event: 'device.interval' },
    'device new-token': { args: ['new-token', '--serial', '72000001', '--reason', 'leaked'], event: 'device.token' },
    'device set-clock': { args: ['set-clock', '--serial', '71000009', '--clock', 'local', '--reason', 'logger set to local time'], event: 'device.clock-setting' },
    'user add': { args: ['add', '--username', 'cliuser', '--role', 'viewer', '--password-stdin', '--reason', 'new'], event: 'user.added' },
    'user passwd': { args: ['passwd', '--username', 'cliuser', '--password-stdin', '--reason', 'forgotten'], event: 'user.password.set' },
    'user unlock': { args: ['unlock', '--username', 'cliuser', '--reason', 'locked out'], event: 'user.unlocked' },
  };
  const changing = verbs.filter((v) => !READ_ONLY.has(v));
  assert.deepEqual(changing.filter((v) => !CASES[v]), [], 'every changing subcommand needs a case here');
  await store.updateUser((await store.findUser(ADMIN.username))!.id, {});   // no-op: nothing audited changes, no event
  for (const verb of changing) {
    const before = await lastEventId();
    if (verb === 'user unlock') await store.updateUser((await store.findUser('cliuser'))!.id, { failedLogins: 5, lockedUntil: Date.now() + 60_000 });
    const [family] = verb.split(' ');
    const code = family === 'device' ? await deviceCommand(CASES[verb].args, t.config, store, collect) : await userCommand(CASES[verb].args, t.config, store, collect, passwords);
    assert.equal(code, 0, `${verb}: ${out.slice(-3).join(' | ')}`);
    const event = (await newEvents(before)).find((e) => e.type === CASES[verb].event);
    assert.ok(event, `inlet ${verb} left no ${CASES[verb].event} event`);
    assert.match(event.actor ?? '', /\(command line\)$/, `inlet ${verb}: the event names the operating-system account`);
    assert.match(event.source ?? '', /^cli@/);
  }
  // one --reason covers a whole file of devices, and each registration records it
  const csv = path.join(tmpdir(), `inlet-walk-${process.pid}.csv`);
  (await import('node:fs')).writeFileSync(csv, 'serial,model,name\n72000011,T3510,File fridge 1\n72000012,T3510,File fridge 2\n');
  const before = await lastEventId();
  assert.equal(await deviceCommand(['add', '--from', csv, '--reason', 'commissioning ward C'], t.config, store, collect), 0, out.slice(-3).join(' | '));
  rmSync(csv);
  const fromFile = (await newEvents(before)).filter((e) => e.type === 'device.added');
  assert.equal(fromFile.length, 2);
  for (const e of fromFile) assert.equal((e.data as { reason?: string }).reason, 'commissioning ward C', JSON.stringify(e.data));
  const passwordEvent = (await store.events({ type: 'user.password.set', limit: 1 }))[0];
  assert.doesNotMatch(JSON.stringify(passwordEvent), /Summit-Crane-29|scrypt|\$/, 'a password is recorded as changed, never its value or hash');
});

// `inlet notify test` is not walked: it only sends a test mail and changes nothing (test/e2e/notify.test.ts).
test('every changing `inlet zone`, `inlet limits`, `inlet retention` and `inlet report` subcommand leaves an event naming the operating-system account, or the verified signer where it is signed', async () => {
  const out: string[] = [];
  const collect = (line: string) => out.push(line);
  const store = t.gateway.store;
  const walked = await addDevice('73000001', 'Walk fridge');
  await sendReading(walked.entryUrl, '73000001', 4);
  while ((await store.listChannels()).filter((c) => c.deviceId === walked.id).length < 2) await new Promise((r) => setTimeout(r, 20));
  if (!await store.findUser('zoned')) await store.addUser({ username: 'zoned', role: 'viewer', passwordHash: 'x' }, Date.now());
  await zoneCommand(['help'], store, collect);
  await limitsCommand(['help'], store, collect);
  const verbs = [...new Set(Array.from(out.join('\n').matchAll(/inlet (zone|limits) ([a-z-]+)/g), (m) => `${m[1]} ${m[2]}`))];
  out.length = 0;
  await retentionCommand(['help'], t.config, store, collect);
  verbs.push(...Array.from(out.join('\n').matchAll(/^ {2}([a-z-]+) /gm), (m) => `retention ${m[1]}`));
  verbs.push(...new Set(Array.from(REPORT_USAGE.matchAll(/inlet report( [a-z]+)? --/g), (m) => `report${m[1] ?? ''}`)));
  verbs.push(...Array.from(REPORT_USAGE.matchAll(/inlet report (verify) </g), (m) => `report ${m[1]}`));
  const READ_ONLY = new Set(['zone list', 'limits show', 'retention status', 'report verify']);
  const DAY = 86_400_000;
  const reportFile = path.join(tmpdir(), `inlet-walk-${process.pid}.pdf`);
  const signer: SignerInput = { isTerminal: false, prompt: async () => '', ask: async () => '', readAll: async () => `${ADMIN.password}\n` };
  const purging = { ...t.config, retention: { ...t.config.retention, enabled: true, keepDays: 1 } };
  const SIGNED = ['--signer', ADMIN.username, '--meaning', 'approved', '--password-stdin'];
  /** signer: the change is signed electronically and its actor is the verified signer, not the account. */
  const CASES: Record<string, { run: () => Promise<number>; event: RegExp; signer?: string }> = {
    'zone add': { run: () => zoneCommand(['add', '--path', 'Walk/Room A', '--reason', 'new room'], store, collect), event: /^zone\./ },
    'zone rename': { run: () => zoneCommand(['rename', '--zone', 'Walk/Room A', '--name', 'Room B', '--reason', 'new signage'], store, collect), event: /^zone\./ },
    'zone move': { run: () => zoneCommand(['move', '--zone', 'Walk/Room B', '--to', '/', '--reason', 'a building of its own'], store, collect), event: /^zone\./ },
    'zone remove': { run: () => zoneCommand(['remove', '--zone', 'Walk', '--reason', 'empty now'], store, collect), event: /^zone\./ },
    'zone place': { run: () => zoneCommand(['place', '--serial', '73000001', '--zone', 'Room B', '--reason', 'moved there'], store, collect), event: /^(device|zone)\./ },
    'zone grant': { run: () => zoneCommand(['grant', '--username', 'zoned', '--zone', 'Room B', '--role', 'viewer', '--reason', 'reads the room'], store, collect), event: /^(user|zone)\./ },
    'zone revoke': { run: () => zoneCommand(['revoke', '--username', 'zoned', '--zone', 'Room B', '--reason', 'no longer'], store, collect), event: /^(user|zone)\./ },
    'zone global': { run: () => zoneCommand(['global', '--username', 'zoned', '--reason', 'site-wide again'], store, collect), event: /^(user|zone)\./ },
    'limits set': {
      run: () => limitsCommand(['set', '--channels', '73000001:1', '--high', '7', '--reason', 'tighter range, SOP 12', ...SIGNED], store, collect, { config: t.config, input: signer }),
      event: /^alarm\.limits\.changed$/, signer: ADMIN.username,
    },
    'limits copy': {
      run: () => limitsCommand(['copy', '--from', '73000001:1', '--to', '73000001:2', '--reason', 'same product', ...SIGNED], store, collect, { config: t.config, input: signer }),
      event: /^alarm\.limits\.changed$/, signer: ADMIN.username,
    },
    'retention sign': {
      run: () => retentionCommand(['sign', '--reason', 'walk: the policy of SOP QA-12', ...SIGNED], purging, store, collect, Date.now, signer),
      event: /^retention\.policy\.signed$/, signer: ADMIN.username,
    },
    'retention run': {
      run: () => retentionCommand(['run', '--reason', 'walk: purge by hand', '--signer', ADMIN.username, '--meaning', 'approved', '--password-stdin'], purging, store, collect, () => Date.now() + DAY - 1, signer),
      event: /^retention\.horizon\.advanced$/,
    },
    report: {
      run: async () => reportCommand(['--devices', String((await store.listDevices()).find((d) => d.serial === '73000001')!.id), '--from', '2026-01-01T00:00Z', '--to', new Date(Date.now() + DAY).toISOString(), '--out', reportFile, '--tz', 'UTC'],
        t.config, 'test', async () => store, collect),
      event: /^report\.issued$/,
    },
  };
  const changing = [...new Set(verbs)].filter((v) => !READ_ONLY.has(v));
  assert.deepEqual(changing.filter((v) => !CASES[v]), [], `every changing subcommand needs a case here (found ${verbs.join(', ')})`);
  assert.ok(changing.length >= 12, verbs.join(', '));
  try {
    for (const verb of changing) {
      const before = await lastEventId();
      const code = await CASES[verb].run();
      assert.equal(code, 0, `${verb}: ${out.slice(-3).join(' | ')}`);
      const event = (await newEvents(before)).find((e) => CASES[verb].event.test(e.type));
      assert.ok(event, `inlet ${verb} left no ${CASES[verb].event} event (it said: ${out.slice(-3).join(" | ")})`);
      if (CASES[verb].signer) assert.equal(event.actor, CASES[verb].signer, `inlet ${verb}: the event names the verified signer`);
      else assert.match(event.actor ?? '', /\((command line|inlet report on .*)\)$/, `inlet ${verb}: the event names the operating-system account (${event.actor})`);
      assert.match(event.source ?? '', /^cli@/, `inlet ${verb}: the event names the machine`);
    }
  } finally {
    rmSync(reportFile, { force: true });
  }
});

test('the audit trail pages through everything and exports it as CSV and PDF (rendered and read back)', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const total = (await t.gateway.store.events({ limit: 10_000 })).length;
  let before: number | null = null;
  const seen: number[] = [];
  do {
    const page: { status: number; body: { events: StoredEvent[]; nextBefore: number | null } } = await admin.json('GET', `/api/audit?limit=7${before ? `&before=${before}` : ''}`);
    assert.equal(page.status, 200);
    seen.push(...page.body.events.map((e) => e.id));
    before = page.body.nextBefore;
  } while (before !== null);
  assert.equal(seen.length, total, 'paging reaches every event, not only the newest');
  assert.deepEqual(seen, [...seen].sort((a, b) => b - a));

  const csv = await (await admin.request('GET', '/api/audit.csv?type=user.')).text();
  const lines = csv.trim().split('\r\n');
  assert.match(lines[0], /^\uFEFF?# Inlet audit trail: type user\./);
  assert.equal(lines[1], '"id","time (UTC)","recorded (UTC)","user","source","device","type","level","message","data"');
  assert.ok(lines.slice(2).every((l) => /"user\./.test(l)), 'only user events');

  const pdf = Buffer.from(await (await admin.request('GET', '/api/audit.pdf?type=alarm.')).arrayBuffer());
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  const dir = path.join(new URL('../../', import.meta.url).pathname, 'test-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'audit-trail.pdf'), pdf);
  const text = execFileSync('pdftotext', ['-layout', path.join(dir, 'audit-trail.pdf'), '-'], { encoding: 'utf8' });
  assert.match(text, /Audit trail/);
  assert.match(text, /type alarm\.\. Exported by admin/);
  assert.match(text, /alarm\.acknowledged/);
  execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', path.join(dir, 'audit-trail.pdf'), path.join(dir, 'audit-trail')]);
});
