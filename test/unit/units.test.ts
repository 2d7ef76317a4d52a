// The closed set of units per quantity and their canonical texts (domain/units.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalUnit, unitsOf } from '../../src/domain/units.ts';
import { canonicaliseUnits, unitChanges } from '../../src/pipeline/validate.ts';
import type { Upload } from '../../src/domain/types.ts';

test('C, °C, degC and ℃ are one unit, °C; F and °F are °F; % is %RH for humidity', () => {
  for (const text of ['C', '°C', 'degC', '℃', ' C ']) assert.equal(canonicalUnit('temperature', text), '°C', text);
  for (const text of ['F', '°F', 'degF']) assert.equal(canonicalUnit('dew_point', text), '°F', text);
  assert.equal(canonicalUnit('relative_humidity', '%'), '%RH');
  assert.equal(canonicalUnit('pressure', 'mBar'), 'mbar');
  assert.equal(canonicalUnit('pressure', 'oz/in^2'), 'oz/in²');
  assert.equal(canonicalUnit('binary', ''), '');
});

test('a text that is no unit of its quantity is refused, whatever it means elsewhere', () => {
  assert.equal(canonicalUnit('temperature', 'hPa'), null);
  assert.equal(canonicalUnit('temperature', 'degK?'), null);
  assert.equal(canonicalUnit('relative_humidity', '°C'), null);
  assert.equal(canonicalUnit('some_logger_label', 'furlongs'), null);
  assert.deepEqual(unitsOf('temperature'), ['°C', '°F', 'K']);
});

function upload(readings: { channel: number; quantity: string; unit: string }[]): Upload {
  return { readings: readings.map((r) => ({ ...r, value: 1, errorCode: null, alarm: 'no', sampleTime: 0 })) } as unknown as Upload;
}

test('an upload is rewritten to canonical units, or refused naming the channel and what is expected', () => {
  const ok = upload([{ channel: 1, quantity: 'temperature', unit: 'degC' }, { channel: 2, quantity: 'relative_humidity', unit: '%' }]);
  assert.equal(canonicaliseUnits(ok), null);
  assert.deepEqual(ok.readings.map((r) => r.unit), ['°C', '%RH']);
  const bad = canonicaliseUnits(upload([{ channel: 1, quantity: 'temperature', unit: 'Kelvinish' }]));
  assert.equal(bad?.status, 422);
  assert.match(bad!.reason, /channel 1: "Kelvinish" is not a unit Inlet knows for temperature \(expected °C, °F, K\)/);
});

test('a unit different from the registered one is a change; the same unit in another spelling is not', () => {
  const registered = new Map([[1, { quantity: 'temperature', unit: '°C' }]]);
  const same = upload([{ channel: 1, quantity: 'temperature', unit: 'C' }]);
  canonicaliseUnits(same);
  assert.deepEqual(unitChanges(registered, same), []);
  const changed = upload([{ channel: 1, quantity: 'temperature', unit: 'F' }, { channel: 2, quantity: 'relative_humidity', unit: '%RH' }]);
  canonicaliseUnits(changed);
  assert.deepEqual(unitChanges(registered, changed), [{ channel: 1, from: 'temperature in °C', to: 'temperature in °F' }]);
});
