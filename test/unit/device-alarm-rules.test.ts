import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateDeviceReading, initialDeviceChannelState, type DeviceChannelState } from '../../src/pipeline/device-alarm-rules.ts';
import type { AlarmState } from '../../src/domain/types.ts';

const T0 = Date.UTC(2026, 0, 10);
const MIN = 60_000;

function run(readings: [number, number | null, number | null, AlarmState][], delayS = 0, state: DeviceChannelState = initialDeviceChannelState()) {
  const out: string[] = [];
  for (const [minute, value, errorCode, alarm] of readings) {
    const r = evaluateDeviceReading(state, { time: T0 + minute * MIN, value, errorCode, alarm }, delayS);
    state = r.state;
    for (const t of r.transitions) out.push(`${minute}:${t.kind} ${t.what}${'direction' in t ? ` ${t.direction}` : ''}`);
  }
  return { out, state };
}

test('the device\'s own alarm state raises and clears an alarm; hi straight to lo is two alarms', () => {
  const { out } = run([[0, 5, null, 'no'], [1, 9, null, 'hi'], [2, 9.5, null, 'hi'], [3, 1, null, 'lo'], [4, 5, null, 'no']]);
  assert.deepEqual(out, ['1:raise device high', '3:clear device high', '3:raise device low', '4:clear device low']);
});

test('a sensor error raises an alarm once it has lasted the delay, and clears at the first value', () => {
  const { out } = run([[0, null, 1, 'no'], [4, null, 1, 'no'], [5, null, 1, 'no'], [6, null, 1, 'no'], [7, 4.2, null, 'no']], 300);
  assert.deepEqual(out, ['5:raise sensor', '7:clear sensor']);
});

test('a short sensor error within the delay raises nothing; with delay 0 the first error raises', () => {
  assert.deepEqual(run([[0, null, 1, 'no'], [2, 4, null, 'no'], [3, null, 2, 'no'], [6, 4, null, 'no']], 300).out, []);
  assert.deepEqual(run([[0, null, 1, 'no']], 0).out, ['0:raise sensor']);
});

test('error readings leave the device alarm as it is; old or repeated readings change nothing', () => {
  assert.deepEqual(run([[1, 9, null, 'hi'], [2, null, 1, 'no'], [3, 9, null, 'hi']], 600).out, ['1:raise device high']);
  assert.deepEqual(run([[5, 9, null, 'hi'], [4, 5, null, 'no'], [5, 5, null, 'no']]).out, ['5:raise device high']);
});

test('a state restored after a restart clears when the device says so', () => {
  assert.deepEqual(run([[0, 5, null, 'no']], 0, initialDeviceChannelState('high', true)).out, ['0:clear sensor', '0:clear device high']);
});
