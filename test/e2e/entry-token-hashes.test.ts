// Entry tokens are kept only as their SHA-256 (issue 15): a data folder upgraded from a version that
// stored them in clear keeps every device working, and afterwards the token is nowhere in the data
// folder: not in the database, its WAL, the journal, the device snapshot or a backup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { startGateway } from '../../src/main.ts';
import { createLogger } from '../../src/log.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { backupCommand } from '../../src/cli/backup.ts';
import { CHAIN_KEY_FILE } from '../../src/store/chain-key.ts';
import { entryTokenSha256 } from '../../src/domain/entry-token.ts';
import { tempDir, testConfig } from './harness.ts';

const CLEAR_TOKEN = 'Clear-Token-Of-Old-Fridge-01';
const OTHER_TOKEN = 'Clear-Token-Of-Old-Freezer-2';

/** Every file under dir (recursively) whose bytes contain text, as paths relative to dir. */
function filesContaining(dir: string, text: string): string[] {
  const found: string[] = [];
  const needle = Buffer.from(text);
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const file = path.join(d, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (readFileSync(file).includes(needle)) found.push(path.relative(dir, file));
    }
  };
  walk(dir);
  return found;
}

test('a data folder with entry tokens in clear: after the upgrade its devices still post, and the tokens are nowhere in the folder', async () => {
  const dataDir = tempDir();
  const file = path.join(dataDir, 'inlet.sqlite');
  // The database as the version before migration 24 left it: tokens in clear.
  const early = new SqliteStore({ file });
  await early.migrate(undefined, { upTo: 23 });
  await early.close();
  const db = new DatabaseSync(file);
  const at = Date.now() - 3_600_000;
  db.exec(`INSERT INTO devices (family, serial, model_code, model, name, location, entry_token, created_at, updated_at)
    VALUES ('soap', '20970001', 4145, 'T3510', 'Old fridge', '', '${CLEAR_TOKEN}', ${at}, ${at}),
           ('soap', '20970002', 4145, 'T3510', 'Old freezer', '', '${OTHER_TOKEN}', ${at}, ${at})`);
  db.close();
  assert.deepEqual(filesContaining(dataDir, CLEAR_TOKEN), ['inlet.sqlite'], 'the fixture holds the token in clear');

  const config = testConfig(dataDir);
  const gateway = await startGateway(config, createLogger(config), {});
  try {
    const body = buildSoapMessage({ serial: '20970001', modelCode: 4145, temp: 4.5, relHum: 40, compQuant: 5 });
    const res = await post(`${gateway.url}/ingest/soap/${CLEAR_TOKEN}`, body, 'text/xml; charset=utf-8');
    assert.equal(res.status, 200, res.body);
    assert.doesNotMatch(res.body, /unknown entry point/);
    assert.ok(await gateway.waitApplied(60_000), 'the upload is applied to the store');
    const [device] = (await gateway.store.listDevices()).filter((d) => d.serial === '20970001');
    assert.equal(device.entryTokenSha256, entryTokenSha256(CLEAR_TOKEN));
    assert.equal((await gateway.store.samples(device.id, 1, 0, Date.now() + 60_000)).length, 1, 'the reading is stored');
    const wrong = await post(`${gateway.url}/ingest/soap/${entryTokenSha256(CLEAR_TOKEN)}`, body, 'text/xml; charset=utf-8');
    assert.equal(wrong.status, 404, 'the stored hash is not an entry point');
  } finally {
    await gateway.stop();
  }
  const backup = path.join(dataDir, 'inlet-backup.sqlite');
  assert.equal(await backupCommand(['--out', backup], config, path.join(dataDir, CHAIN_KEY_FILE), () => {}), 0);

  assert.deepEqual(filesContaining(dataDir, CLEAR_TOKEN), [], 'the posted token is in no file of the data folder');
  assert.deepEqual(filesContaining(dataDir, OTHER_TOKEN), [], 'the token of the device that did not post is in no file either');
});
