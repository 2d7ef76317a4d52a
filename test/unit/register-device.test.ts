// Registering a device: a Web Sensor model name Inlet does not know is refused as a likely typing
// slip, with the known names it resembles, unless the family is given for a model newer than the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistrationError, registerDevice } from '../../src/admin/devices.ts';
import { similarSoapModels } from '../../src/ingest/families.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

async function withStore(work: (store: SqliteStore) => Promise<void>): Promise<void> {
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  try { await work(store); } finally { await store.close(); }
}

test('similar model names: one wrong, missing, extra or swapped character', () => {
  assert.deepEqual(similarSoapModels('T351O'), ['T3510', 'T3511']);        // letter O for a digit
  assert.deepEqual(similarSoapModels('t3150'), ['T3510']);                 // swapped, lower case
  assert.ok(similarSoapModels('T351').includes('T3510'));                  // missing digit
  assert.deepEqual(similarSoapModels('P85411'), ['P8511', 'P8541']);      // extra digit
  assert.deepEqual(similarSoapModels('T9999'), []);
  assert.ok(!similarSoapModels('T3510').includes('T3510'));      // a name is not similar to itself
});

test('an unknown Web Sensor model is refused with what it resembles and how to register a newer model', async () => {
  await withStore(async (store) => {
    await assert.rejects(registerDevice(store, { serial: '20960050', model: 'T3150', name: 'Cold room 1' }, 'test', 1),
      (err: unknown) => err instanceof RegistrationError && !err.conflict && /"T3150" is not a Web Sensor model Inlet knows \(did you mean T3510\?\)/.test(err.message)
        && /--family soap/.test(err.message));
    await assert.rejects(registerDevice(store, { serial: '20960050', model: 'T351O', name: 'Cold room 1' }, 'test', 1),
      (err: unknown) => err instanceof RegistrationError && /cannot tell the device family of model "T351O" \(did you mean T3510 or T3511\?\)/.test(err.message));
    await assert.rejects(registerDevice(store, { serial: '20960051', model: 'T9999', name: 'x' }, 'test', 1),
      (err: unknown) => err instanceof RegistrationError && !/did you mean/.test(err.message));
    assert.deepEqual(await store.listDevices(), []);
  });
});

test('a known model gets its code and channels; with the family given, a newer model is registered without them', async () => {
  await withStore(async (store) => {
    const known = await registerDevice(store, { serial: '20960050', model: 't3510', name: 'Cold room 1' }, 'test', 1);
    assert.deepEqual([known.family, known.model, known.modelCode], ['soap', 'T3510', 4145]);
    assert.equal((await store.listChannels(known.id)).length, 3);
    const newer = await registerDevice(store, { serial: '20960052', model: 'T9999', name: 'New model', family: 'soap' }, 'test', 1);
    assert.deepEqual([newer.family, newer.model, newer.modelCode], ['soap', 'T9999', null]);
    assert.equal((await store.listChannels(newer.id)).length, 0);
  });
});
