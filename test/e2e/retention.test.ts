// Retention end to end: a real gateway stores uploads, the older half is purged below a horizon
// (synthetic clock), and then `inlet verify` (the CLI) stays green; a DELETE of a recent row
// straight in SQLite is refused by the triggers, and one made around them (triggers dropped) is
// found by `inlet verify`, as is a forged anchor. `inlet retention` status and dry run, the CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { runBodyRetention, runRetention } from '../../src/jobs/retention.ts';
import { retentionCommand, type SignerInput } from '../../src/cli/retention.ts';
import { hashPassword } from '../../src/api/passwords.ts';
import type { Store } from '../../src/store/store.ts';
import { openDataStore, registerSoapDevice, soapUrl, startTestGateway, copySqliteStore } from './harness.ts';

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
const DAY = 86_400_000;
let baselineDir = '';
let cut = 0;
const deviceIds: number[] = [];
const dirs: string[] = [];

async function postReadings(url: string, serial: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const body = buildSoapMessage({ serial, modelCode: soapModelCode('T3510')!, temp: 4 + i / 10 });
    assert.equal((await post(url, body, 'text/xml; charset=utf-8')).status, 200);
  }
}

before(async () => {
  const gateway = await startTestGateway({ throttle: { ...DEFAULT_CONFIG.throttle, enabled: false } });
  baselineDir = gateway.dataDir;
  const devices = [];
  for (const serial of ['31000001', '31000002']) {
    devices.push(await registerSoapDevice(gateway.store, serial));
    deviceIds.push(devices.at(-1)!.id);
  }
  await gateway.registry.load();
  for (const [i, d] of devices.entries()) await postReadings(soapUrl(gateway.url, d), d.serial, 3 + i);
  await new Promise((r) => setTimeout(r, 20));
  cut = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  await postReadings(soapUrl(gateway.url, devices[0]), devices[0].serial, 3);   // the second device has nothing after the cut
  await gateway.stop();
});

after(() => { for (const dir of [baselineDir, ...dirs]) rmSync(dir, { recursive: true, force: true }); });

function copyOfStore(): string {
  const dir = copySqliteStore(baselineDir, 'inlet-retention-');
  dirs.push(dir);
  return dir;
}

function cli(dir: string, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: dir, INLET_CONFIG: '' } });
}

function raw(dir: string, sql: string, dropTriggers = false): void {
  const db = new DatabaseSync(path.join(dir, 'inlet.sqlite'));
  try {
    if (dropTriggers) {
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE '%append_only%' OR name LIKE '%decided_by%')").all() as { name: string }[]) db.exec(`DROP TRIGGER ${name}`);
    }
    db.exec(sql);
  } finally {
    db.close();
  }
}

function ids(dir: string, sql: string): number[] {
  const db = new DatabaseSync(path.join(dir, 'inlet.sqlite'));
  try { return (db.prepare(sql).all() as { id: number }[]).map((r) => r.id); } finally { db.close(); }
}

/** Purges everything received before `cut`, as the housekeeping job would one day later with keepDays 1. */
async function purgeOlderHalf(dir: string): Promise<void> {
  const store = openDataStore(dir);
  await store.migrate();
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const result = await runRetention(store, { keepDays: 1, auditKeepDays: 0, chunkSize: 100 }, { now: cut + DAY, setBy: 'e2e', reason: 'test', log });
  assert.equal(result.purged.uploads, 7);
  await store.close();
}

/** An administrator of the whole site (qa.admin) and an operator (op.one), the signers the purge tests try. */
async function addSigners(store: Store): Promise<void> {
  await store.addUser({ username: 'qa.admin', role: 'administrator', passwordHash: await hashPassword('Purge-Signer-2026!') }, Date.now());
  await store.addUser({ username: 'op.one', role: 'operator', passwordHash: await hashPassword('Operator-Only-2026!') }, Date.now());
}

/** A signer's password piped in (--password-stdin), with no terminal to ask on. */
function pipedPassword(password: string): SignerInput {
  return { isTerminal: false, prompt: async () => assert.fail('no terminal'), ask: async () => assert.fail('no terminal'), readAll: async () => `${password}\n` };
}

describe('retention and inlet verify', () => {
  test('a purge keeps `inlet verify` green, from the chain anchors; the second device, with no upload left, is anchored too', async () => {
    const dir = copyOfStore();
    const before = cli(dir, 'verify');
    assert.equal(before.status, 0, before.stdout + before.stderr);
    await purgeOlderHalf(dir);
    assert.deepEqual(ids(dir, 'SELECT chain AS id FROM chain_anchors ORDER BY chain'), deviceIds, 'one anchor per device chain');
    assert.deepEqual(ids(dir, `SELECT id FROM uploads WHERE device_id = ${deviceIds[1]}`), []);
    const run = cli(dir, 'verify');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /integrity OK: 3 uploads/);

    const status = cli(dir, 'retention', 'status');
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^retention off: keep data \(not set\) days, audit trail kept for ever\n#1 .* by e2e: data before .* \(uploads below #\d+\), audit trail before -; reason: test; not signed \(the scheduled housekeeping job of a version before signed policies, or a version before signed purges\)\n$/);
  });

  test('deleting a recent upload or sample straight in SQLite is refused by the triggers', async () => {
    const dir = copyOfStore();
    await purgeOlderHalf(dir);
    const [recent] = ids(dir, 'SELECT MIN(id) AS id FROM uploads');
    assert.throws(() => raw(dir, `DELETE FROM samples WHERE upload_id = ${recent}`), /append-only: only samples of uploads below the retention horizon/);
    assert.throws(() => raw(dir, `DELETE FROM uploads WHERE id = ${recent}`), /append-only: only uploads below the retention horizon/);
    assert.throws(() => raw(dir, 'DELETE FROM retention_horizons'), /append-only/);
    assert.throws(() => raw(dir, 'UPDATE chain_anchors SET upload_id = upload_id + 1'), /append-only/);
    assert.equal(cli(dir, 'verify').status, 0);
  });

  test('deleting a recent upload with the triggers dropped is found by `inlet verify` at the anchor', async () => {
    const dir = copyOfStore();
    await purgeOlderHalf(dir);
    const [first, second] = ids(dir, `SELECT id FROM uploads WHERE device_id = ${deviceIds[0]} ORDER BY id`);
    raw(dir, `DELETE FROM samples WHERE upload_id = ${first}; DELETE FROM uploads WHERE id = ${first}`, true);
    const run = cli(dir, 'verify');
    assert.equal(run.status, 1, run.stdout);
    assert.match(run.stdout, new RegExp(`broken-link in chain ${deviceIds[0]} .* at upload #${second}: prev_hash does not match the hash of upload #\\d+`));
    assert.match(run.stdout, /Integrity alarm #\d+ was raised/);
  });

  test('a forged anchor above the horizon, to hide deleted uploads, is found', async () => {
    const dir = copyOfStore();
    await purgeOlderHalf(dir);
    const [first, second] = ids(dir, `SELECT id FROM uploads WHERE device_id = ${deviceIds[0]} ORDER BY id`);
    raw(dir, `DELETE FROM samples WHERE upload_id = ${first}; DELETE FROM uploads WHERE id = ${first};
      INSERT INTO chain_anchors (horizon_id, chain, upload_id, hash) SELECT 1, ${deviceIds[0]}, ${first}, prev_hash FROM uploads WHERE id = ${second}`, true);
    const run = cli(dir, 'verify');
    assert.equal(run.status, 1, run.stdout);
    assert.match(run.stdout, new RegExp(`anchor-beyond-horizon in chain ${deviceIds[0]} .* at upload #${first}`));
  });

  test('`inlet retention run --dry-run` shows what would go and changes nothing; a real run needs retention enabled and a reason', async () => {
    const dir = copyOfStore();
    const config = path.join(dir, 'inlet.config.json');
    writeFileSync(config, JSON.stringify({ dataDir: '.', retention: { enabled: false, keepDays: 3650 } }));
    const dry = cli(dir, 'retention', 'run', '--dry-run', '--config', config);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /^dry run, nothing is changed\. retention off: keep data 3650 days, audit trail kept for ever\nno horizon yet, and none needed; below it: 0 uploads \(0 quarantined\) in 0 chains, 0 samples; events and alarms kept\n$/);
    const refused = cli(dir, 'retention', 'run', '--reason', 'x', '--config', config);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /"retention\.enabled" is false/);
    writeFileSync(config, JSON.stringify({ dataDir: '.', retention: { enabled: true, keepDays: 3650 } }));
    const noReason = cli(dir, 'retention', 'run', '--config', config);
    assert.match(noReason.stderr, /--reason is required/);
    const unsigned = cli(dir, 'retention', 'run', '--reason', 'annual purge', '--config', config);
    assert.equal(unsigned.status, 2);
    assert.match(unsigned.stderr, /a purge is signed: no terminal to ask for the password, so give --signer <user> --meaning <meaning> and pipe the password in with --password-stdin/);
    const added = spawnSync(process.execPath, [CLI, 'user', 'add', '--username', 'qa.admin', '--role', 'administrator', '--password-stdin', '--reason', 'purge signer', '--config', config],
      { encoding: 'utf8', input: 'Purge-Signer-2026!\n', env: { ...process.env, INLET_DATA_DIR: dir, INLET_CONFIG: '' } });
    assert.equal(added.status, 0, added.stderr);
    const nothing = spawnSync(process.execPath, [CLI, 'retention', 'run', '--reason', 'annual purge', '--signer', 'qa.admin', '--meaning', 'approved', '--password-stdin', '--config', config],
      { encoding: 'utf8', input: 'Purge-Signer-2026!\n', env: { ...process.env, INLET_DATA_DIR: dir, INLET_CONFIG: '' } });
    assert.equal(nothing.status, 0, nothing.stderr);
    assert.match(nothing.stdout, /^purge signed by qa\.admin \(approved\) at .*\nretention: no horizon; nothing to purge\n$/);
    assert.deepEqual(ids(dir, 'SELECT id FROM retention_horizons'), []);
  });

  test('a purge by hand is signed: a wrong password or a signer who is no administrator purges nothing; the signature is in the event and in `inlet retention status`', async () => {
    const dir = copyOfStore();
    const store = openDataStore(dir);
    try {
      await store.migrate();
      await addSigners(store);
      const config = structuredClone(DEFAULT_CONFIG);
      config.retention = { ...config.retention, enabled: true, keepDays: 1 };
      const run = async (signer: string, password: string) => {
        const lines: string[] = [];
        const input = pipedPassword(password);
        const code = await retentionCommand(['run', '--reason', 'annual purge, SOP QA-12', '--signer', signer, '--meaning', 'approved', '--password-stdin'],
          config, store, (l) => lines.push(l), () => cut + DAY, input);
        return { code, text: lines.join('\n') };
      };
      const wrong = await run('qa.admin', 'not-the-password');
      assert.equal(wrong.code, 1, wrong.text);
      assert.match(wrong.text, /^purge refused: signature refused: the password is not yours .*; nothing was purged$/);
      const operator = await run('op.one', 'Operator-Only-2026!');
      assert.equal(operator.code, 1, operator.text);
      assert.match(operator.text, /op\.one is not an administrator of the whole site: only one may sign a purge; nothing was purged/);
      assert.deepEqual(ids(dir, 'SELECT id FROM retention_horizons'), []);
      const [refusal] = await store.events({ type: 'signature.refused', limit: 1 });
      assert.match(refusal.message, /electronic signature of qa\.admin \(approved\) refused: wrong password/);

      const signed = await run('qa.admin', 'Purge-Signer-2026!');
      assert.equal(signed.code, 0, signed.text);
      assert.match(signed.text, /^purge signed by qa\.admin \(approved\) at \d{4}-/);
      assert.match(signed.text, /7 uploads/);
      const [event] = await store.events({ type: 'retention.horizon.advanced', limit: 1 });
      assert.match(event.message, /Reason: annual purge, SOP QA-12; electronic signature: qa\.admin \(approved\) at /);
      assert.equal((event.data as { signature: { by: string; meaning: string } }).signature.by, 'qa.admin');
      assert.equal((event.data as { signature: { by: string; meaning: string } }).signature.meaning, 'approved');
      const lines: string[] = [];
      assert.equal(await retentionCommand(['status'], config, store, (l) => lines.push(l)), 0);
      assert.match(lines.join('\n'), /#1 .* reason: annual purge, SOP QA-12; signed by qa\.admin \(approved\) at \d{4}-/);
    } finally {
      await store.close();
    }
  });

  test('the nightly purge\'s policy is signed with `inlet retention sign` by an administrator of the whole site; `status` says whether it is in force', async () => {
    const dir = copyOfStore();
    const store = openDataStore(dir);
    try {
      await store.migrate();
      await addSigners(store);
      const config = structuredClone(DEFAULT_CONFIG);
      config.retention = { ...config.retention, enabled: true, keepDays: 400, auditKeepDays: 0, bodyKeepDays: 60 };
      const command = async (argv: string[], password = '') => {
        const lines: string[] = [];
        const input = pipedPassword(password);
        try {
          return { code: await retentionCommand(argv, config, store, (l) => lines.push(l), Date.now, input), text: lines.join('\n') };
        } catch (err) {
          return { code: 2, text: (err as Error).message };
        }
      };
      const status = async () => (await command(['status'])).text;
      assert.match(await status(), /the nightly purge is withheld: no retention policy has been signed: the configuration's settings \(keep data 400 days, audit trail kept for ever, raw bodies 60 days\) take effect once an administrator of the whole site signs them with `inlet retention sign`/);
      const sign = (signer: string, password: string, reason = 'retention per SOP QA-12') =>
        command(['sign', '--reason', reason, '--signer', signer, '--meaning', 'approved', '--password-stdin'], password);
      assert.match((await command(['sign', '--signer', 'qa.admin', '--meaning', 'approved', '--password-stdin'], 'Purge-Signer-2026!')).text, /--reason is required/);
      const operator = await sign('op.one', 'Operator-Only-2026!');
      assert.equal(operator.code, 1, operator.text);
      assert.match(operator.text, /op\.one is not an administrator of the whole site: only one may sign the retention policy; the policy was not signed/);
      const wrong = await sign('qa.admin', 'not-the-password');
      assert.equal(wrong.code, 1, wrong.text);
      assert.match(wrong.text, /refused: signature refused: the password is not yours .*; the policy was not signed$/);
      assert.deepEqual(await store.events({ type: 'retention.policy.signed' }), []);

      const signed = await sign('qa.admin', 'Purge-Signer-2026!');
      assert.equal(signed.code, 0, signed.text);
      assert.match(signed.text, /^retention policy to sign: keep data 400 days, audit trail kept for ever, raw bodies 60 days \(retention on in the configuration\)\nretention policy signed by qa\.admin \(approved\) at \S+ \(event #\d+\): the nightly purge acts on it$/);
      const [event] = await store.events({ type: 'retention.policy.signed' });
      assert.equal(event.actor, 'qa.admin');
      assert.match(event.source ?? '', /^cli@/);
      assert.deepEqual((event.data as { policy: unknown }).policy, { keepDays: 400, auditKeepDays: 0, bodyKeepDays: 60 });
      assert.match(await status(), new RegExp(`the nightly purge acts under the retention policy signed by qa\\.admin \\(approved\\) at \\S+ \\(event #${event.id}\\); reason: retention per SOP QA-12`));
      // Someone edits the configuration: the nightly purge stops until the new settings are signed.
      config.retention.keepDays = 30;
      assert.match(await status(), new RegExp(`the nightly purge is withheld: the configuration's retention settings \\(keep data 30 days, .*\\) are not the policy signed by qa\\.admin at \\S+ \\(event #${event.id}: keep data 400 days`));
    } finally {
      await store.close();
    }
  });
});

describe('raw bodies on a retention of their own', () => {
  test('bodies older than bodyKeepDays are emptied, SHA-256 kept: `inlet verify` stays green, full and incremental; a false digest is found', async () => {
    const dir = copyOfStore();
    const first = cli(dir, 'verify');
    assert.equal(first.status, 0, first.stdout + first.stderr);
    const store = openDataStore(dir);
    await store.migrate();
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    // As the housekeeping job would one day after the cut with bodyKeepDays 1.
    const result = await runBodyRetention(store, { chunkSize: 300, bodyKeepDays: 1 }, { now: cut + DAY, setBy: 'e2e', reason: 'retention.bodyKeepDays = 1', log });
    assert.ok(!('blocked' in result));
    assert.deepEqual([result.bodies, result.chunks], [7, 3], 'the seven uploads before the cut, three bodies a chunk');
    assert.equal((await store.events({ type: 'retention.bodies.purged' })).length, 3);
    await store.close();
    assert.deepEqual(ids(dir, 'SELECT id FROM uploads WHERE length(raw) > 0 ORDER BY id').length, 3, 'the uploads after the cut keep their bodies');
    assert.equal(ids(dir, 'SELECT upload_id AS id FROM upload_body_purges').length, 7);

    const full = cli(dir, 'verify');
    assert.equal(full.status, 0, full.stdout + full.stderr);
    assert.match(full.stdout, /integrity OK: 10 uploads/);
    const incremental = cli(dir, 'verify', '--incremental');
    assert.equal(incremental.status, 0, incremental.stdout + incremental.stderr);
    assert.match(incremental.stdout, /integrity OK: .*; incremental: new uploads and uploads #1-#2 of the rolling full pass/);

    const [target] = ids(dir, 'SELECT upload_id AS id FROM upload_body_purges ORDER BY upload_id LIMIT 1 OFFSET 2');
    raw(dir, `UPDATE upload_body_purges SET raw_sha256 = zeroblob(32) WHERE upload_id = ${target}`, true);
    const broken = cli(dir, 'verify');
    assert.equal(broken.status, 1, broken.stdout + broken.stderr);
    assert.match(broken.stdout, new RegExp(`hash-mismatch in chain \\d+ \\(device \\d+\\) at upload #${target}`));
  });
});
