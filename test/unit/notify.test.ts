import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planEventMails, planNotifications, type RouteState } from '../../src/jobs/notify.ts';
import type { NotificationRoute } from '../../src/config/schema.ts';
import type { Device } from '../../src/domain/types.ts';
import type { StoredAlarm } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 5, 1, 8);
const MIN = 60_000;
const device = { id: 7, name: 'Freezer 2', location: 'Pharmacy' } as Device;
const devices = new Map([[7, device]]);
const alarm = (over: Partial<StoredAlarm> = {}): StoredAlarm => ({
  id: 1, deviceId: 7, channel: 1, source: 'limit', kind: null, level: 'alarm', direction: 'high', raisedAt: T0, value: -12.5,
  message: 'temperature -12.5 C above the alarm limit -15 C', acknowledgedAt: null, acknowledgedBy: null, ackComment: null,
  clearedAt: null, clearedValue: null, ...over,
});
const routes: NotificationRoute[] = [
  { location: 'Pharmacy', to: ['pharmacist@hospital.local'], repeatMinutes: 30, escalateAfterMinutes: 60, escalateTo: ['head@hospital.local'] },
  { location: 'Kitchen', to: ['chef@hospital.local'], repeatMinutes: 0, escalateAfterMinutes: 0, escalateTo: [] },
];

/** Runs the planner at the given minutes after T0 and returns who got mail at each run. */
function simulate(minutes: number[], alarmAt: (m: number) => StoredAlarm) {
  let state = new Map<string, RouteState>();
  return minutes.map((m) => {
    const plan = planNotifications([alarmAt(m)], devices, routes, state, T0 + m * MIN);
    state = plan.state;
    return plan.mails.map((mail) => `${mail.to.join('+')}:${mail.subject.split(':')[0]}`);
  });
}

test('first mail at once, only to the alarm location, repeated every repeatMinutes, escalated once after escalateAfterMinutes', () => {
  const sent = simulate([0, 1, 29, 30, 59, 60, 61, 90], () => alarm());
  assert.deepEqual(sent, [
    ['pharmacist@hospital.local:[Inlet alarm] Freezer 2 (Pharmacy), channel 1'],
    [], [],
    ['pharmacist@hospital.local:STILL UNACKNOWLEDGED'],
    [],
    ['pharmacist@hospital.local:STILL UNACKNOWLEDGED', 'head@hospital.local:ESCALATED'],
    [],
    ['pharmacist@hospital.local:STILL UNACKNOWLEDGED'],
  ]);
});

test('acknowledging or clearing stops the mails', () => {
  const acked = simulate([0, 30, 60], (m) => alarm(m >= 20 ? { acknowledgedAt: T0 + 20 * MIN, acknowledgedBy: 'nurse', ackComment: 'door closed' } : {}));
  assert.deepEqual(acked.map((x) => x.length), [1, 0, 0]);
  const cleared = simulate([0, 30, 60], (m) => alarm(m >= 10 ? { clearedAt: T0 + 10 * MIN, clearedValue: -18 } : {}));
  assert.deepEqual(cleared.map((x) => x.length), [1, 0, 0]);
});

test("a route with repeatMinutes 0 mails once; a device with no route's location gets no mail", () => {
  const kitchen = new Map([[7, { ...device, location: 'Kitchen' } as Device]]);
  let state = new Map<string, RouteState>();
  const counts = [0, 30, 600].map((m) => { const p = planNotifications([alarm()], kitchen, routes, state, T0 + m * MIN); state = p.state; return p.mails.length; });
  assert.deepEqual(counts, [1, 0, 0]);
  const elsewhere = new Map([[7, { ...device, location: 'Lab' } as Device]]);
  assert.equal(planNotifications([alarm()], elsewhere, routes, new Map(), T0).mails.length, 0);
});

test('"*" routes take every location and system alarms; alarm-level events are mailed, info events are not', () => {
  const all: NotificationRoute[] = [{ location: '*', to: ['it@hospital.local'], repeatMinutes: 0, escalateAfterMinutes: 0, escalateTo: [] }];
  const system = alarm({ id: 9, deviceId: null, channel: null, source: 'system', message: 'integrity check found 2 problems' });
  assert.equal(planNotifications([system], devices, all, new Map(), T0).mails[0].to[0], 'it@hospital.local');
  const mails = planEventMails([
    { id: 1, at: T0, deviceId: 7, type: 'device.suspended', level: 'alarm', message: 'Freezer 2 suspended: it sent too fast', data: null },
    { id: 2, at: T0, deviceId: 7, type: 'device.renamed', level: 'info', message: 'renamed', data: null },
    { id: 3, at: T0, deviceId: 7, type: 'alarm.raised', level: 'alarm', message: 'mailed as an alarm, not again as an event', data: null },
    { id: 4, at: T0, deviceId: 7, type: 'device.offline', level: 'alarm', message: 'its offline alarm is mailed, not this event', data: null },
    { id: 5, at: T0, deviceId: null, type: 'integrity.broken', level: 'alarm', message: 'its integrity alarm is mailed, not this event', data: null },
  ], devices, all);
  assert.deepEqual(mails.map((m) => [m.to, m.subject]), [[['it@hospital.local'], '[Inlet event] Freezer 2 (Pharmacy): Freezer 2 suspended: it sent too fast']]);
});

test('offline alarms go to the device location like limit alarms, repeated until acknowledged; integrity alarms only to "*" routes', () => {
  const offline = alarm({ id: 11, channel: null, source: 'system', kind: 'offline', direction: null, value: null, message: 'Freezer 2 (serial 1) is offline' });
  const sent = simulate([0, 30], () => offline);
  assert.deepEqual(sent, [['pharmacist@hospital.local:[Inlet alarm] Freezer 2 (Pharmacy)'], ['pharmacist@hospital.local:STILL UNACKNOWLEDGED']]);
  const integrity = alarm({ id: 12, deviceId: null, channel: null, source: 'system', kind: 'integrity', direction: null, value: 2, message: 'integrity verification found 2 problem(s)' });
  assert.equal(planNotifications([integrity], devices, routes, new Map(), T0).mails.length, 0, 'no location route takes an alarm of no device');
  const all: NotificationRoute[] = [...routes, { location: '*', to: ['qa@hospital.local'], repeatMinutes: 0, escalateAfterMinutes: 0, escalateTo: [] }];
  assert.deepEqual(planNotifications([integrity], devices, all, new Map(), T0).mails.map((m) => [m.to, m.subject]),
    [[['qa@hospital.local'], '[Inlet alarm] Inlet: integrity verification found 2 problem(s)']]);
});
