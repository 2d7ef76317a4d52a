// Scheduled reports: a week that is over is reported once, mailed through a real SMTP server on
// loopback as a PDF attachment and written to a folder; each run is an event; a failed delivery is
// tried again at the next run, a delivered one is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { createTransport } from '../../src/jobs/notify.ts';
import { previousPeriod, runScheduledReports, SCHEDULED_EVENT } from '../../src/report/schedule.ts';
import { verifyReportPdf } from '../../src/report/issue.ts';
import { WEEK_FROM, WEEK_TO, seedColdRoom } from '../helpers/report-data.ts';
import { formatLocal } from '../../src/report/time-zone.ts';

interface Received { to: string[]; data: string }

async function startMailServer(): Promise<{ port: number; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, size: 20 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => { received.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8') }); callback(); });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.server.address() as AddressInfo).port, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('the previous day, week (from Monday) and month, in the reports\' time zone', () => {
  const tz = 'Europe/Prague';
  const now = Date.UTC(2026, 10, 11, 9);   // Wednesday 2026-11-11 10:00 in Prague
  const show = (p: { from: number; to: number }) => [formatLocal(p.from, tz), formatLocal(p.to, tz)];
  assert.deepEqual(show(previousPeriod('daily', now, tz)), ['2026-11-10 00:00', '2026-11-11 00:00']);
  assert.deepEqual(show(previousPeriod('weekly', now, tz)), ['2026-11-02 00:00', '2026-11-09 00:00']);
  assert.deepEqual(show(previousPeriod('monthly', now, tz)), ['2026-10-01 00:00', '2026-11-01 00:00']);
  assert.deepEqual(show(previousPeriod('monthly', Date.UTC(2027, 0, 1, 12), tz)), ['2026-12-01 00:00', '2027-01-01 00:00']);
  // a Monday reports the week that ended at its midnight
  assert.deepEqual(show(previousPeriod('weekly', Date.UTC(2026, 10, 9, 0, 30), tz)), ['2026-11-02 00:00', '2026-11-09 00:00']);
});

test('a weekly report of a location is mailed as an attachment and written to a folder, once; each run is an event', async (t) => {
  const mail = await startMailServer();
  t.after(mail.close);
  const store = new SqliteStore({ file: ':memory:' });
  t.after(() => store.close());
  await store.migrate();
  await seedColdRoom(store);
  const folder = path.join(mkdtempSync(path.join(os.tmpdir(), 'inlet-share-')), 'QA', 'reports');
  const config: InletConfig = structuredClone(DEFAULT_CONFIG);
  config.smtp = { ...config.smtp, host: '127.0.0.1', port: mail.port, from: 'inlet@plant.example' };
  config.reports = { ...config.reports, timezone: 'Europe/Prague', site: 'Brno warehouse', schedules: [{ name: 'Config daily', location: 'Nowhere', period: 'daily', mailTo: [], folder }] };
  await store.saveReportSchedule(undefined, {
    name: 'Cold room 2 weekly', scope: 'location', location: 'Cold room 2', deviceIds: [], period: 'weekly', mailTo: ['qa@plant.example'], folder, enabled: true,
  }, 'admin', 'GDP', WEEK_FROM);
  const now = WEEK_TO + 20 * 60_000;   // Monday 00:20, when the job runs
  const deps = { store, config, version: '0.1.0', now: () => now, transport: () => createTransport(config.smtp) };

  await assert.rejects(runScheduledReports(deps), /1 scheduled report\(s\) failed/, 'the configured schedule names a location without devices');
  const files = readdirSync(folder);
  assert.deepEqual(files, ['inlet-report-Cold-room-2-weekly-2026-11-02_2026-11-08.pdf']);
  const pdf = readFileSync(path.join(folder, files[0]));
  assert.equal((await verifyReportPdf(store, pdf)).verdict, 'authentic');
  assert.equal(mail.received.length, 1);
  assert.deepEqual(mail.received[0].to, ['qa@plant.example']);
  assert.match(mail.received[0].data, /Subject: =\?UTF-8\?Q\?=5BInlet_report=5D_Cold_room_2_weekly/);
  assert.match(mail.received[0].data, /Content-Type: application\/pdf;\s+name=inlet-report-Cold-room-2-weekly-2026-11-02_2026-11-08\.pdf/);
  const attached = /Content-Disposition: attachment;\s+filename=[^\r\n]+\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(mail.received[0].data);
  assert.ok(attached, 'the PDF is attached');
  assert.equal((await verifyReportPdf(store, Buffer.from(attached[1].replace(/\s+/g, ''), 'base64'))).verdict, 'authentic', 'the mailed PDF is the issued one');
  const events = await store.events({ type: SCHEDULED_EVENT, limit: 10 });
  const delivered = events.find((e) => e.data?.name === 'Cold room 2 weekly')!;
  assert.equal(delivered.data?.delivered, true);
  assert.deepEqual(delivered.data?.mailedTo, ['qa@plant.example']);
  assert.equal(events.find((e) => e.data?.name === 'Config daily')?.level, 'warning');

  // the next run: the weekly one is done; the failing one is tried (and fails) again
  await assert.rejects(runScheduledReports(deps), /Config daily: no devices/);
  assert.equal(mail.received.length, 1, 'no second mail for the same week');
  assert.equal(readdirSync(folder).length, 1);
});

test('a mail that cannot be delivered is an event and is tried again at the next run', async (t) => {
  const store = new SqliteStore({ file: ':memory:' });
  t.after(() => store.close());
  await store.migrate();
  await seedColdRoom(store, { from: WEEK_FROM, to: WEEK_FROM + 86_400_000 });
  const config: InletConfig = structuredClone(DEFAULT_CONFIG);
  config.reports = { ...config.reports, timezone: 'Europe/Prague' };
  await store.saveReportSchedule(undefined, { name: 'Daily', scope: 'location', location: 'Cold room 2', deviceIds: [], period: 'daily', mailTo: ['qa@plant.example'], folder: '', enabled: true }, 'admin', 'GDP', WEEK_FROM);
  let attempts = 0;
  const failing = { sendMail: async () => { attempts++; throw new Error('connect ECONNREFUSED 127.0.0.1:25'); } } as unknown as ReturnType<typeof createTransport>;
  const deps = { store, config, version: '0.1.0', now: () => WEEK_FROM + 86_400_000 + 3_600_000, transport: () => failing };
  await assert.rejects(runScheduledReports(deps), /Daily: failed/);
  await assert.rejects(runScheduledReports(deps), /Daily: failed/);
  assert.equal(attempts, 2);
  const [event] = await store.events({ type: SCHEDULED_EVENT, limit: 1 });
  assert.equal(event.level, 'warning');
  assert.match(event.message, /FAILED \(mailing to qa@plant\.example: connect ECONNREFUSED/);
});
