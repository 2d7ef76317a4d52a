// `inlet zone`: the tree from the command line, devices placed in it, users limited to zones, and
// every change an event naming the command line's user and the reason given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { zoneCommand } from '../../src/cli/zone.ts';
import { registerDevice } from '../../src/admin/devices.ts';
import { UsageError } from '../../src/cli/args.ts';

test('inlet zone add, place, rename, grant, global, remove', async () => {
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  const lines: string[] = [];
  const run = (...argv: string[]) => zoneCommand(argv, store, (l) => lines.push(l));
  try {
    await assert.rejects(run('add', '--path', 'Hospital/Pharmacy/Fridge room'), (e: Error) => e instanceof UsageError && /--reason is required/.test(e.message));
    assert.deepEqual(await store.listZones(), [], 'nothing was changed without a reason');
    assert.equal(await run('add', '--path', 'Hospital/Pharmacy/Fridge room', '--reason', 'new pharmacy'), 0);
    assert.match(lines.pop()!, /zone 3: Hospital\/Pharmacy\/Fridge room/);
    const device = await registerDevice(store, { serial: '20961234', model: 'T3510', name: 'Vaccine fridge' }, 'admin', Date.now());
    assert.equal(device.zoneId, null);
    await assert.rejects(run('place', '--serial', '20961234', '--zone', 'Hospital/Pharmacy/Fridge room'), (e: Error) => e instanceof UsageError && /--reason/.test(e.message));
    assert.equal(await run('place', '--serial', '20961234', '--zone', 'Hospital/Pharmacy/Fridge room', '--reason', 'installed'), 0);
    assert.equal((await store.getDevice(device.id))!.location, 'Hospital/Pharmacy/Fridge room');
    assert.equal(await run('rename', '--zone', 'Hospital/Pharmacy', '--name', 'Pharmacy West', '--reason', 'new signage'), 0);
    assert.equal((await store.getDevice(device.id))!.location, 'Hospital/Pharmacy West/Fridge room', 'the device follows its zone');
    const user = await store.addUser({ username: 'nurse', role: 'viewer', passwordHash: 'h' }, Date.now());
    await store.addUser({ username: 'admin', role: 'administrator', passwordHash: 'h' }, Date.now());
    assert.equal(await run('grant', '--username', 'nurse', '--zone', 'Hospital/Pharmacy West', '--role', 'operator', '--reason', 'ward QA'), 0);
    assert.deepEqual(await store.userZoneRoles(user.id), [{ userId: user.id, zoneId: 2, role: 'operator' }]);
    assert.deepEqual([(await store.findUser('nurse'))!.scope, (await store.findUser('nurse'))!.role], ['zones', 'operator']);
    await assert.rejects(run('remove', '--zone', 'Hospital/Pharmacy West', '--reason', 'closing'), /sub-zones/);
    assert.equal(await run('global', '--username', 'nurse', '--reason', 'back to all'), 0);
    assert.equal((await store.findUser('nurse'))!.scope, 'global');
    await assert.rejects(run('grant', '--username', 'admin', '--zone', 'Hospital', '--role', 'administrator', '--reason', 'oops'), /only global administrator/);
    assert.equal(await run('list'), 0);
    assert.ok(lines.some((l) => /Fridge room\s+\(1 device\)/.test(l)), lines.join('\n'));
    const types = (await store.events({ limit: 100 })).map((e) => e.type);
    for (const t of ['zone.added', 'device.zone', 'zone.renamed', 'device.zone.path', 'user.zones.changed', 'user.scope.changed']) assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
    const [renamed] = await store.events({ type: 'zone.renamed', limit: 1 });
    assert.match(renamed.message, /\(command line\)\); reason: new signage|\(command line\)\)?; reason: new signage/);
  } finally {
    await store.close();
  }
});
