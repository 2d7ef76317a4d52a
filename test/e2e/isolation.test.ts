// Ingest isolated from a hostile LAN (issue 15): what an unauthenticated client can make the gateway
// do costs neither disk nor the devices' time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { newEntryToken } from '../../src/ingest/families.ts';
import { post } from '../../src/sim/client.ts';
import { THROTTLE_OFF, startTestGateway } from './harness.ts';
import { fleetMessage, fleetUrl, isAcknowledged, registerFleet, type FleetDevice } from './fleet.ts';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';

let gw: Awaited<ReturnType<typeof startTestGateway>>;
let fleet: FleetDevice[];

before(async () => {
  gw = await startTestGateway({
    throttle: THROTTLE_OFF,
    security: { ...DEFAULT_CONFIG.security, refusals: { ...DEFAULT_CONFIG.security.refusals, burst: 5, perSourcePerMinute: 1 } },
  });
  fleet = await registerFleet(gw.store, 1, 20_995_001);
});
after(async () => { await gw?.stop(); });

function databaseBytes(): number {
  return ['inlet.sqlite', 'inlet.sqlite-wal'].map((f) => path.join(gw.dataDir, f)).filter(existsSync).reduce((sum, f) => sum + statSync(f).size, 0);
}

/**
 * Sends the head of a POST announcing `announced` bytes and only the first `sent` of them; resolves
 * with what the server answered (or '' if it closed without an answer) and how many bytes it took.
 */
function postHeadOnly(urlPath: string, announced: number, sent: number): Promise<{ answer: string; bytesWritten: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gw.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c: Buffer) => { answer += c.toString(); });
    socket.on('error', () => { /* a reset after the answer: the close reports it */ });
    socket.on('close', () => resolve({ answer, bytesWritten: socket.bytesWritten }));
    socket.write(`POST ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${announced}\r\n\r\n`);
    socket.write(Buffer.alloc(sent, 'A'), (err) => { if (err) reject(err); });
  });
}

describe('refusals are cheap and bounded', () => {
  test('an unknown entry point is answered 404 before its body is read, and the database does not grow', async () => {
    const grownBefore = databaseBytes();
    for (const segment of ['logger', 'soap', 'wifi', 'json']) {
      // 16 MiB announced, 64 KiB sent: the answer comes without the rest of the body
      const r = await postHeadOnly(`/ingest/${segment}/${newEntryToken()}`, 16 * 1024 * 1024, 64 * 1024);
      assert.match(r.answer, /^HTTP\/1\.1 (404|200) /, segment);
      assert.match(r.answer, /unknown entry point/, segment);
      assert.match(r.answer, /Connection: close/i, segment);
    }
    await gw.refusals.flush();
    assert.equal((await gw.store.refusals({})).length, 0, 'no body archived');
    assert.equal((await gw.store.uploads({})).length, 0, 'nothing in the uploads table');
    assert.ok(databaseBytes() - grownBefore < 64 * 1024, `database grew ${databaseBytes() - grownBefore} bytes`);
    const health = await (await fetch(`${gw.url}/health`)).json() as { ingest: { unknownEntryPoints: number; inFlight: number } };
    assert.equal(health.ingest.unknownEntryPoints, 4);
    assert.equal(health.ingest.inFlight, 0);
  });

  test('refusals of one source beyond its rate are answered but not archived; the device itself is still served', async () => {
    const logger = fleet.find((d) => d.family === 'logger')!;
    const before = (await gw.store.refusals({})).length;
    for (let i = 0; i < 12; i++) {
      const res = await post(fleetUrl(gw.url, logger), Buffer.from(`{"truncated":${i}`), 'application/json');
      assert.equal(res.status, 400);
    }
    await gw.refusals.flush();
    assert.equal((await gw.store.refusals({})).length - before, 5, 'the burst of 5 archived, the rest only counted');
    const health = await (await fetch(`${gw.url}/health`)).json() as { refusals: { overRate: number }; warnings: string[] };
    assert.equal(health.refusals.overRate, 7);
    assert.deepEqual(health.warnings, []);
    const m = fleetMessage(logger, 1);
    const res = await post(fleetUrl(gw.url, logger), m.body, m.contentType);
    assert.ok(isAcknowledged(logger, res.status, res.body), 'good uploads are never rate-limited');
  });
});
