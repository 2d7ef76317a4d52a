// The journal's apply on SQL Server, as far as the wire: both procedure calls and every table-valued
// parameter they carry (uploads, samples, linked events, links, channels, quarantine, suspensions,
// sightings) are encoded by the real mssql/tedious driver and reach the loopback TDS peer
// (fake-tds.ts), which answers without result sets. A TVP column whose type the driver cannot encode
// for its values fails here, before a server is ever involved. What the procedures do is the SQL
// Server contract's (test/contract/mssql.test.ts, with INLET_TEST_MSSQL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import type { Batch } from '../../src/domain/types.ts';
import { applySamples, buildApplyBatch, sealApplyBatch, writeSealed } from '../../src/store/mssql/apply-batch.ts';
import { appendEvents } from '../../src/store/mssql/event-chain.ts';
import { startFakeTds } from './fake-tds.ts';

const T = Date.UTC(2025, 0, 15, 8, 0, 0, 123);

const batch: Batch = {
  upload: {
    deviceId: 1, family: 'soap', receivedAt: T, remoteAddress: '192.0.2.1', contentType: 'text/xml', raw: Buffer.from('<x/>'),
    verdict: 'accepted', reason: 'ok', serial: '17', counter: 1, uploadKey: 'journal-1:0',
  },
  samples: [
    { deviceId: 1, channel: 1, time: T, value: 21.5, errorCode: null, alarm: 'no' },
    { deviceId: 1, channel: 2, time: T, value: null, errorCode: 3, alarm: 'hi' },
  ],
  channels: [{ deviceId: 1, channel: 3, quantity: 'pressure', unit: 'hPa' }],
  events: [{ at: T, deviceId: 1, type: 'device.interval', level: 'warning', message: 'too fast', data: { seconds: 5 } }],
  quarantine: [], deviceSeen: { deviceId: 1, at: T, declaredIntervalS: 60 }, suspend: { deviceId: 1, at: T, reason: 'too fast' },
};

test('both calls of the journal\'s apply, with every table-valued parameter, are encoded by the driver and reach the server', async () => {
  const server = await startFakeTds({});
  const pool = await new sql.ConnectionPool({
    server: '127.0.0.1', port: server.port, user: 'inlet_svc', password: 'not-a-secret', database: 'inlet', options: { encrypt: false },
  }).connect();
  const tx = pool.transaction();
  try {
    await tx.begin();
    const built = buildApplyBatch([batch], [true]);
    // The peer sends no result sets back: the call went out whole, and only reading its answer fails.
    await assert.rejects(applySamples(tx, built, 1000), (err: Error) => {
      assert.doesNotMatch(err.message, /could not be validated|invalid data/);
      return true;
    });
    assert.equal(server.requests, 1);
    const sealed = sealApplyBatch([batch], built, {
      stored: new Map(), firstId: 7, serverNow: T + 1000, alreadyStored: new Set(), heads: new Map(), channels: new Map(),
      eventHead: Buffer.alloc(32, 1),
      waiting: [{ id: 3, at: T, recordedAt: T, deviceId: null, type: 'dba.note', level: 'info', message: 'by hand', dataText: null, actor: null, source: null }],
    }, new Uint8Array(32).fill(5));
    assert.deepEqual([sealed.uploads.length, sealed.events.length, sealed.links.length, sealed.channelChanges.length, sealed.quarantine.length, sealed.suspensions.size, sealed.seen.size],
      [1, 2, 1, 1, 1, 1, 1], 'every table-valued parameter carries a row');
    await writeSealed(tx, [batch], sealed);
    assert.equal(server.requests, 2);
    await assert.rejects(appendEvents(tx, [{ at: T, deviceId: null, type: 'zone.added', level: 'info', message: 'zone', actor: 'admin', source: '192.0.2.1' }], null, 1000),
      (err: Error) => { assert.doesNotMatch(err.message, /could not be validated|invalid data/); return true; });
    assert.equal(server.requests, 3);
  } finally {
    // The transaction holds the pool's connection until it ends, whatever failed.
    await tx.rollback().catch(() => undefined);
    await pool.close();
    await server.close();
  }
});
