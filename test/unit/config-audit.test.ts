// Configuration changes are recorded at start (store/config-audit.ts): old → new per setting, secrets never.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { CONFIG_EVENT, recordConfigChanges } from '../../src/store/config-audit.ts';

test('a changed notification route, retention or SMTP password is an event; an unchanged start is none; secrets are never recorded', async () => {
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  try {
    const config = structuredClone(DEFAULT_CONFIG);
    assert.equal(await recordConfigChanges(store, config, 'inlet.config.json'), true, 'the first start records the settings');
    assert.equal(await recordConfigChanges(store, config, 'inlet.config.json'), false, 'nothing changed: no event');
    const changed = structuredClone(config);
    changed.retention = { ...changed.retention, keepDays: 30 };
    changed.smtp = { ...changed.smtp, password: 'Hunter-Secret-99' };
    assert.equal(await recordConfigChanges(store, changed, 'inlet.config.json'), true);
    const [event] = await store.events({ type: CONFIG_EVENT, limit: 1 });
    assert.equal(event.actor, 'configuration file');
    assert.equal(event.source, 'inlet.config.json');
    assert.match(event.message, /retention\.keepDays \d+ → 30/);
    assert.match(event.message, /smtp\.password "\(empty\)" → "\(set\)"/);
    assert.doesNotMatch(JSON.stringify(event), /Hunter-Secret-99/);
  } finally {
    await store.close();
  }
});
