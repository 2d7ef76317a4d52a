// A report drawn in the worker thread (as the gateway does, beside ingest) is the report drawn on
// this thread: the same content, the same figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { drawInThread, drawInWorker } from '../../src/report/draw.ts';
import { contentDigest } from '../../src/report/issue.ts';
import { ReportRequestError } from '../../src/report/model.ts';
import { WEEK_FROM, seedColdRoom } from '../helpers/report-data.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('the worker thread draws the same report as this thread, and refuses a bad request the same way', async (t) => {
  const config: InletConfig = structuredClone(DEFAULT_CONFIG);
  config.dataDir = tempDir('inlet-report-draw-');
  const store = new SqliteStore({ file: path.join(config.dataDir, config.store.sqlite.file) });
  t.after(() => store.close());
  await store.migrate();
  const device = await seedColdRoom(store, { from: WEEK_FROM, to: WEEK_FROM + 86_400_000 });
  const request = { deviceIds: [device.id], from: WEEK_FROM, to: WEEK_FROM + 86_400_000, timeZone: 'Europe/Prague' };
  const settings = { site: 'test', activationEnergyKJPerMol: 83.144, version: 'test' };
  const issue = { code: 'AAAA-BBBB-CCCC-DDDD', generatedAt: WEEK_FROM + 2 * 86_400_000, generatedBy: 'qa', signature: null };
  const inWorker = await drawInWorker(config, store)(request, settings, issue.generatedAt, issue);
  const here = await drawInThread(store)(request, settings, issue.generatedAt, issue);
  assert.notEqual(inWorker.threadId, 0, 'drawn off the main thread');
  assert.equal(here.threadId, 0);
  assert.equal(contentDigest(inWorker.model), contentDigest(here.model));
  assert.equal(inWorker.model.channels[0].analysis.received, 1440);
  assert.ok(inWorker.pdf.subarray(0, 5).equals(Buffer.from('%PDF-')));
  await assert.rejects(drawInWorker(config, store)({ ...request, deviceIds: [99] }, settings, issue.generatedAt, issue),
    (err: Error) => err instanceof ReportRequestError && /no device with id 99/.test(err.message));
});
