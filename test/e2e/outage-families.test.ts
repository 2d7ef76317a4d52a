// Store outage, every family: while the database is unreachable, uploads are still acknowledged
// because the spool (src/store/spool/, a local fsync'd journal) takes them; when the database
// returns they are replayed in order and idempotently. (test/e2e/outage.test.ts does the same
// through a running gateway whose SQLite file is locked.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Batch, CommitResult } from '../../src/domain/types.ts';
import type { BatchSink } from '../../src/pipeline/pipeline.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SpoolingSink } from '../../src/store/spool/spooling-sink.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import type { Store } from '../../src/store/store.ts';
import { DeviceRegistry } from '../../src/pipeline/registry.ts';
import type { IngestAdapter } from '../../src/ingest/adapter.ts';
import { createSoapAdapter } from '../../src/ingest/soap/index.ts';
import { wifiAdapter } from '../../src/ingest/wifi/index.ts';
import { websensorJsonAdapter } from '../../src/ingest/websensor-json/index.ts';
import { loggerAdapter } from '../../src/ingest/logger/index.ts';
import type { Family } from '../../src/domain/types.ts';
import { THROTTLE_OFF, openDataStore, tempDir } from './harness.ts';
import { auditDevice, fleetMessage, registerFleet } from './fleet.ts';
import { HANG_GUARD_MS } from '../support/hang-guard.ts';

/** The database as the spool sees it: a BatchSink that can be switched off. */
class UnreliableDatabase implements BatchSink {
  reachable = true;
  private readonly sink: BatchSink;
  constructor(sink: BatchSink) { this.sink = sink; }
  commit(batch: Batch): Promise<CommitResult> {
    return this.reachable ? this.sink.commit(batch) : Promise.reject(new Error('database unreachable (simulated outage)'));
  }
}

/** The real spool in front of the switchable database; an unreachable database is 'unavailable' to it. */
async function spoolSink(database: BatchSink, dir: string): Promise<SpoolingSink> {
  const store = { commit: (b: Batch) => database.commit(b).catch((e: Error) => { throw new StoreUnavailableError(e.message); }) } as Pick<Store, 'commit'>;
  const spool = new SpoolingSink(store as Store, { dir, log: quietLog, retryMs: 50, maxRetryMs: 200 });
  await spool.open();
  return spool;
}

const ADAPTERS: Record<Family, IngestAdapter> = { soap: createSoapAdapter(), wifi: wifiAdapter, 'websensor-json': websensorJsonAdapter, logger: loggerAdapter };
const quietLog = { info() {}, warn() {}, error() {} };

test('uploads of every family during a store outage are acknowledged from the spool and all land once the database returns', async () => {
  const dataDir = tempDir('inlet-outage-');
  const store = openDataStore(dataDir);
  await store.migrate();
  const fleet = await registerFleet(store, 2, 25_100_001);
  const registry = new DeviceRegistry(store);
  await registry.load();
  const database = new UnreliableDatabase(store);
  const spool = await spoolSink(database, path.join(dataDir, 'spool'));
  const pipeline = new Pipeline({ sink: spool, registry, log: quietLog, throttle: THROTTLE_OFF });
  const acknowledged = new Map(fleet.map((d) => [d, [] as number[]]));

  async function send(round: number): Promise<void> {
    await Promise.all(fleet.map(async (d) => {
      const m = fleetMessage(d, round);
      const parsed = ADAPTERS[d.family].parse(m.body, { entryToken: d.device.entryToken, receivedAt: Date.now(), remoteAddress: '127.0.0.1', contentType: m.contentType });
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      const verdict = await pipeline.accept(parsed.upload);
      assert.equal(verdict.retryLater, undefined, `${d.family} message ${round} acknowledged during the outage`);
      acknowledged.get(d)!.push(round);
    }));
  }

  for (let round = 1; round <= 5; round++) await send(round);
  database.reachable = false;
  for (let round = 6; round <= 15; round++) await send(round);
  database.reachable = true;
  for (let round = 16; round <= 20; round++) await send(round);
  const deadline = Date.now() + HANG_GUARD_MS;   // a give-up time: the loop waits for the drain
  while (spool.gauge().depth > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(spool.gauge().depth, 0, 'the journal drained');
  await spool.close();
  await store.flush();

  for (const d of fleet) {
    const audit = await auditDevice(store, d, acknowledged.get(d)!);
    assert.deepEqual(audit.lost, [], `${d.family} ${d.serial}: nothing acknowledged during the outage is lost`);
    assert.deepEqual(audit.duplicated, [], `${d.family} ${d.serial}: the replay stores nothing twice`);
  }
  await store.close();
});
