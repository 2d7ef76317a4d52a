// Integrity verification against a store filled by a real gateway, then tampered with through
// raw SQL as an attacker with DBA rights would: the append-only triggers dropped first.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { soapModelCode } from '../../src/ingest/families.ts';
import { recordVerification, verifyIntegrity, type IntegrityReport } from '../../src/jobs/verify.ts';
import { samplesDigest, uploadHash } from '../../src/domain/chain.ts';
import { openDataStore, registerSoapDevice, soapUrl, startTestGateway, copySqliteStore, chainKeyIn } from './harness.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

const CLI = new URL('../../src/cli/inlet.ts', import.meta.url).pathname;
const UPLOADS_PER_DEVICE = 6;
let baselineDir = '';
const deviceIds: number[] = [];
const dirs: string[] = [];

before(async () => {
  const gateway = await startTestGateway({ throttle: { ...DEFAULT_CONFIG.throttle, enabled: false } });
  baselineDir = gateway.dataDir;
  for (const serial of ['30000001', '30000002']) {
    const device = await registerSoapDevice(gateway.store, serial);
    await gateway.registry.load();
    deviceIds.push(device.id);
    for (let i = 0; i < UPLOADS_PER_DEVICE; i++) {
      const body = buildSoapMessage({ serial, modelCode: soapModelCode('T3510')!, temp: 4 + i / 10, alarms: [i === 3 ? 'hi' : 'no', 'no', 'no', 'no'] });
      assert.equal((await post(soapUrl(gateway.url, device), body, 'text/xml; charset=utf-8')).status, 200);
    }
  }
  // an upload to an unknown entry point: refused before its body is read, so nothing joins a chain
  await post(`${gateway.url}/ingest/soap/no-such-token`, buildSoapMessage({ serial: '39999999', modelCode: 4159 }), 'text/xml; charset=utf-8');
  await gateway.stop();
});

after(() => { for (const dir of [baselineDir, ...dirs]) rmSync(dir, { recursive: true, force: true }); });

/** A private copy of the filled store, so each case tampers with its own. */
function copyOfStore(): string {
  const dir = copySqliteStore(baselineDir, 'inlet-verify-');
  dirs.push(dir);
  return dir;
}

/** Raw SQL as a DBA would run it, append-only triggers dropped first. */
function tamper(dir: string, sql: string): void {
  const db = new DatabaseSync(path.join(dir, 'inlet.sqlite'));
  for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%append_only%'").all() as { name: string }[]) {
    db.exec(`DROP TRIGGER ${name}`);
  }
  db.exec(sql);
  db.close();
}

function query<T>(dir: string, sql: string): T[] {
  const db = new DatabaseSync(path.join(dir, 'inlet.sqlite'));
  try { return db.prepare(sql).all() as T[]; } finally { db.close(); }
}

async function verify(dir: string): Promise<IntegrityReport> {
  const store = openDataStore(dir);
  try {
    await store.migrate();
    return await verifyIntegrity(store, { chainKey: chainKeyIn(dir) });
  } finally {
    await store.close();
  }
}

/**
 * The problems of the upload chains. A sample changed in place is also a rollup hour that no longer
 * adds up (the rollup trigger follows inserts only): that is checked in its own test below.
 */
function uploadChainProblems(report: IntegrityReport) {
  return report.problems.filter((p) => p.kind !== 'rollup-mismatch');
}

function cliVerify(dir: string) {
  return spawnSync(process.execPath, [CLI, 'verify'], { encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: dir, INLET_CONFIG: '' } });
}

/** The n-th accepted upload (1-based) of the first device. */
function uploadOfFirstDevice(dir: string, n: number): number {
  return query<{ id: number }>(dir, `SELECT id FROM uploads WHERE device_id = ${deviceIds[0]} ORDER BY id LIMIT 1 OFFSET ${n - 1}`)[0].id;
}

describe('inlet verify', () => {
  test('an untouched store is intact: exit 0, checkpoints recorded, progress reported', async () => {
    const dir = copyOfStore();
    const progress: number[] = [];
    const store = openDataStore(dir);
    await store.migrate();
    const report = await verifyIntegrity(store, { pageSize: 4, onProgress: (p) => progress.push(p.percent), chainKey: chainKeyIn(dir) });
    await store.close();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.uploadsChecked, 2 * UPLOADS_PER_DEVICE);
    assert.equal(report.chains, 2);
    assert.ok(report.samplesChecked >= 2 * UPLOADS_PER_DEVICE * 3);
    assert.ok(progress.length >= 3 && progress.at(-1) === 100, `progress ${progress}`);

    const run = cliVerify(dir);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /integrity OK: 12 uploads/);
    assert.match(run.stderr, /verifying: 12\/12 uploads \(100\.0 %\), \d+ rows\/s/);
    assert.equal(query(dir, 'SELECT * FROM chain_checkpoints').length, 2);
    assert.equal(query(dir, "SELECT * FROM events WHERE type = 'integrity.verified'").length, 1);
  });

  test('an UPDATE of a sample value is found at the upload that stored it', async () => {
    const dir = copyOfStore();
    const target = uploadOfFirstDevice(dir, 3);
    tamper(dir, `UPDATE samples SET value = value - 2 WHERE upload_id = ${target} AND channel = 1`);
    const report = await verify(dir);
    assert.equal(report.ok, false);
    assert.deepEqual(uploadChainProblems(report).map((p) => [p.kind, p.chain, p.uploadId]), [['hash-mismatch', deviceIds[0], target]]);

    const run = cliVerify(dir);
    assert.equal(run.status, 1);
    // The changed sample also leaves its hour of the rollup not adding up: a second problem.
    assert.match(run.stdout, new RegExp(`INTEGRITY BROKEN: 2 problem.*\\n  hash-mismatch in chain ${deviceIds[0]} \\(device ${deviceIds[0]}\\) at upload #${target}.*\\n  rollup-mismatch \\(device ${deviceIds[0]}\\)`));
    const alarms = query<{ level: string; message: string }>(dir, "SELECT level, message FROM events WHERE type = 'integrity.broken'");
    assert.equal(alarms.length, 1);
    assert.equal(alarms[0].level, 'alarm');
  });

  test('an UPDATE of an upload row (its verdict reason) is found', async () => {
    const dir = copyOfStore();
    const target = uploadOfFirstDevice(dir, 2);
    tamper(dir, `UPDATE uploads SET reason = 'ok, honestly' WHERE id = ${target}`);
    const report = await verify(dir);
    assert.deepEqual(uploadChainProblems(report).map((p) => [p.kind, p.uploadId]), [['hash-mismatch', target]]);
  });

  test('a DELETE of an upload and its samples breaks the link of the next upload in that chain', async () => {
    const dir = copyOfStore();
    const [before, target, next] = [2, 3, 4].map((n) => uploadOfFirstDevice(dir, n));
    tamper(dir, `DELETE FROM samples WHERE upload_id = ${target}; DELETE FROM uploads WHERE id = ${target}`);
    const report = await verify(dir);
    assert.deepEqual(uploadChainProblems(report).map((p) => [p.kind, p.chain, p.uploadId]), [['broken-link', deviceIds[0], next]]);
    assert.match(report.problems[0].detail, new RegExp(`between upload #${before} and #${next} were deleted`));
  });

  test('a DELETE of an upload that leaves its samples behind also names the orphans', async () => {
    const dir = copyOfStore();
    const target = uploadOfFirstDevice(dir, 1);
    tamper(dir, `DELETE FROM uploads WHERE id = ${target}`);
    const kinds = (await verify(dir)).problems.map((p) => [p.kind, p.uploadId]);
    assert.deepEqual(kinds.sort(), [['broken-link', uploadOfFirstDevice(dir, 1)], ['orphan-samples', target]].sort());
  });

  test('an INSERT of a forged sample under an existing upload, or under no upload, is found', async () => {
    const dir = copyOfStore();
    const target = uploadOfFirstDevice(dir, 5);
    // Each forged sample after its device's last one, where no sample can hold its key: uploads are
    // stamped on receipt, and the next one (the device's own, or the other device's first) may come
    // a millisecond later.
    const lastOf = (deviceId: number) => query<{ last: number }>(dir, `SELECT MAX(time) AS last FROM samples WHERE device_id = ${deviceId}`)[0].last;
    tamper(dir, `INSERT INTO samples (device_id, channel, time, value, error_code, alarm, upload_id) VALUES
      (${deviceIds[0]}, 1, ${lastOf(deviceIds[0]) + 1}, 4.0, NULL, 'no', ${target}),
      (${deviceIds[1]}, 1, ${lastOf(deviceIds[1]) + 1}, 4.0, NULL, 'no', 999999)`);
    const report = await verify(dir);
    assert.deepEqual(uploadChainProblems(report).map((p) => [p.kind, p.uploadId]), [['hash-mismatch', target], ['orphan-samples', 999999]]);
    assert.equal(report.problems[1].chain, deviceIds[1]);
  });

  test('cutting the last uploads off a verified chain is found by its checkpoint', async () => {
    const dir = copyOfStore();
    const store = openDataStore(dir);
    await store.migrate();
    await recordVerification(store, await verifyIntegrity(store, { chainKey: chainKeyIn(dir) }));
    await store.close();
    const last = uploadOfFirstDevice(dir, UPLOADS_PER_DEVICE);
    tamper(dir, `DELETE FROM samples WHERE upload_id = ${last}; DELETE FROM uploads WHERE id = ${last}`);
    const report = await verify(dir);
    assert.deepEqual(uploadChainProblems(report).map((p) => [p.kind, p.chain, p.uploadId]), [['checkpoint-lost', deviceIds[0], last]]);
  });
});

describe('the chain heads in syslog', () => {
  test('after a verification `inlet verify` sends the heads to the configured syslog server (UDP, RFC 5424), signed as the heads file is', async () => {
    const dir = copyOfStore();
    const server = dgram.createSocket('udp4');
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    const received: string[] = [];
    server.on('message', (msg) => received.push(msg.toString('utf8')));
    try {
      const config = path.join(dir, 'inlet.config.json');
      writeFileSync(config, JSON.stringify({ dataDir: '.', audit: { syslog: { enabled: true, host: '127.0.0.1', port: server.address().port, protocol: 'udp' } } }));
      const child = spawn(process.execPath, [CLI, 'verify', '--quiet', '--config', config], { env: { ...process.env, INLET_DATA_DIR: dir, INLET_CONFIG: '' } });
      let stdout = '';
      child.stdout.on('data', (d) => { stdout += d; });
      const [code] = await once(child, 'exit') as [number];
      assert.equal(code, 0, stdout);
      assert.match(stdout, /chain heads sent to syslog 127\.0\.0\.1:\d+\/udp \(2 messages\)/);
      while (received.length < 2) await once(server, 'message');
      const heads = JSON.parse(readFileSync(path.join(dir, 'chain.heads'), 'utf8')) as { signature: string; events: { id: number; hash: string } };
      assert.match(received[0], new RegExp(`^<109>1 \\S+ \\S+ inlet \\d+ chain-heads \\[inlet@32473 outcome="intact" problems="0" .* chains="2" eventsHeadId="${heads.events.id}" eventsHeadHash="${heads.events.hash}" headsHmac="${heads.signature}"\\]`));
      assert.match(received[1], new RegExp(` chain-heads-part .* ${deviceIds[0]}:\\d+:[0-9a-f]{64} ${deviceIds[1]}:\\d+:[0-9a-f]{64}$`));
    } finally {
      server.close();
    }
  });
});

describe('the chain key', () => {
  /**
   * What someone with full rights on the database but not the gateway's key file can do: change a
   * sample, then recompute that upload's hash and every later link of its chain with plain SHA-256.
   */
  async function rewriteChainWithoutKey(dir: string, deviceId: number, target: number): Promise<void> {
    tamper(dir, `UPDATE samples SET value = value + 5 WHERE upload_id = ${target}`);
    const store = openDataStore(dir);
    await store.migrate();
    const uploads = (await store.uploads({ deviceId })).sort((a, b) => a.id - b.id);
    const samples = await store.uploadSamples(uploads[0].id, null);
    await store.close();
    const db = new DatabaseSync(path.join(dir, 'inlet.sqlite'));
    let prev: Uint8Array | null = null;
    for (const u of uploads) {
      const prevHash = prev ?? u.prevHash;
      if (u.id >= target) {
        const stored = samples.filter((x) => x.uploadId === u.id);
        const hash = uploadHash(prevHash, u, samplesDigest(stored));
        db.prepare('UPDATE uploads SET prev_hash = ?, hash = ? WHERE id = ?').run(prevHash, hash, u.id);
        prev = hash;
      } else {
        prev = u.hash;
      }
    }
    db.close();
  }

  test('the gateway made a key beside the database on its first start, and the database names only its fingerprint', () => {
    const key = chainKeyIn(baselineDir);
    assert.ok(key, 'chain.key exists in the data folder');
    assert.equal(key.keyedFromUploadId, 1, 'a new database: every upload is keyed');
    const markers = query<{ data: string }>(baselineDir, "SELECT data FROM events WHERE type = 'integrity.chain-key'");
    assert.equal(markers.length, 1);
    assert.deepEqual(JSON.parse(markers[0].data), { fingerprint: key.fingerprint, keyedFromUploadId: 1 });
    assert.ok(!query<{ n: number }>(baselineDir, "SELECT COUNT(*) AS n FROM events WHERE data LIKE '%' || '" + Buffer.from(key.key).toString('hex') + "' || '%'")[0].n, 'the key itself is nowhere in the database');
  });

  test('a changed sample whose chain was recomputed without the key is still found', async () => {
    const dir = copyOfStore();
    const target = uploadOfFirstDevice(dir, 3);
    await rewriteChainWithoutKey(dir, deviceIds[0], target);
    const report = await verify(dir);
    assert.equal(report.ok, false);
    assert.deepEqual(
      uploadChainProblems(report).map((p) => [p.kind, p.uploadId]),
      [3, 4, 5, 6].map((n) => ['hash-mismatch', uploadOfFirstDevice(dir, n)]),
      'every rewritten link fails under the key',
    );
  });

  test('without the key file, verification refuses to pretend, and the gateway refuses to start', async () => {
    const dir = copyOfStore();
    rmSync(path.join(dir, 'chain.key'));
    const run = cliVerify(dir);
    assert.equal(run.status, 2, run.stdout + run.stderr);
    assert.match(run.stdout, /cannot verify: this database's uploads are linked under a chain key, and .*chain\.key is missing/);
    const start = spawnSync(process.execPath, [CLI, 'start'], { encoding: 'utf8', timeout: HANG_GUARD_MS, env: { ...process.env, INLET_DATA_DIR: dir, INLET_CONFIG: '', INLET_HTTP_PORT: '0', INLET_HTTP_HOST: '127.0.0.1' } });
    assert.notEqual(start.status, 0);
    assert.match(start.stdout + start.stderr, /linked under a chain key \(fingerprint [0-9a-f]{16}\) but .*chain\.key is missing: copy chain\.key from the Inlet instance that made it/);
  });
});

