import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelKind } from '../../src/pipeline/channel-kind.ts';

test('a quantity and unit pair is one shared, frozen object however often it is asked for', () => {
  const a = channelKind('temperature', '°C');
  assert.equal(channelKind('temperature', '°C'), a);
  assert.deepEqual({ ...a }, { quantity: 'temperature', unit: '°C' });
  assert.notEqual(channelKind('temperature', '°F'), a);
  assert.notEqual(channelKind('humidity', '°C'), a);
  assert.ok(Object.isFrozen(a), 'shared by every device: nobody may change it');
});
