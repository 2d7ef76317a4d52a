// Retention and system alarms on a synthetic clock against a real (in-memory) store: the horizon
// boundary, dry runs, chunked purges with progress, the integrity guard, the housekeeping job's
// line, the integrity alarm's rules, offline alarms mailed by the notification job, and the
// retention.* configuration checks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { describePlan, describeRun, planRetention, runRetention, type RetentionSettings } from '../../src/jobs/retention.ts';
import { createJobScheduler } from '../../src/jobs/index.ts';
import { signPolicy } from '../../src/jobs/retention-policy.ts';
import { recordVerification, verifyIntegrity, type IntegrityReport } from '../../src/jobs/verify.ts';
import { OfflineDetector } from '../../src/jobs/offline.ts';
import { NotificationJob } from '../../src/jobs/notify.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { DEFAULT_CONFIG, type InletConfig } from '../../src/config/schema.ts';
import { initialChannels, newEntryToken } from '../../src/ingest/families.ts';
import type { Device } from '../../src/domain/types.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
const SETTINGS: RetentionSettings = { keepDays: 30, auditKeepDays: 0, chunkSize: 100 };

function recordingLog() {
  const lines: string[] = [];
  return { lines, info: (m: string) => { lines.push(m); }, warn: (m: string) => { lines.push(m); }, error: (m: string) => { lines.push(m); } };
}

async function storeWithDevice(): Promise<{ store: SqliteStore; device: Device }> {
  const store = new SqliteStore({ file: ':memory:' });
  await store.migrate();
  const device = await store.addDevice({
    family: 'soap', serial: '40000001', modelCode: 4159, model: 'T3510', name: 'Fridge 4', location: 'Pharmacy', entryToken: newEntryToken(),
    allowedIntervalS: 60, channels: initialChannels('soap', 4159),
  }, T0);
  return { store, device };
}

/** One upload a day from T0, each with `samples` samples a minute apart. */
async function dailyUploads(store: SqliteStore, deviceId: number, days: number, samples = 3): Promise<number[]> {
  const ids: number[] = [];
  for (let day = 0; day < days; day++) {
    const at = T0 + day * DAY;
    const r = await store.commit({
      upload: { deviceId, family: 'soap', receivedAt: at, remoteAddress: '127.0.0.1', contentType: 'text/xml', raw: Buffer.from(`day ${day}`), verdict: 'accepted', reason: 'ok', serial: '40000001', counter: day },
      samples: Array.from({ length: samples }, (_, i) => ({ deviceId, channel: 1, time: at + i * 60_000, value: day + i / 10, errorCode: null, alarm: 'no' as const })),
      channels: [], events: [], quarantine: null, deviceSeen: { deviceId, at, declaredIntervalS: null }, suspend: null,
    });
    ids.push(r.uploadId);
  }
  return ids;
}

describe('retention', () => {
  test('dry run: the horizon lies keepDays before now, an upload received exactly then is kept, and nothing changes', async () => {
    const { store, device } = await storeWithDevice();
    const ids = await dailyUploads(store, device.id, 40);
    const now = T0 + 40 * DAY;                 // keep 30 days: days 0..9 go, day 10 (received exactly at the horizon) stays
    const plan = await planRetention(store, SETTINGS, now);
    assert.equal(plan.dataBefore, T0 + 10 * DAY);
    assert.equal(plan.advances, true);
    assert.equal(plan.blocked, null);
    assert.deepEqual(plan.preview, { belowUploadId: ids[10], uploads: 10, samples: 30, quarantined: 0, chains: 1, events: 0, alarms: 0 });
    assert.equal(describePlan(plan), `horizon would move to 2025-01-11T00:00:00.000Z (uploads below #${ids[10]}); below it: 10 uploads (0 quarantined) in 1 chains, 30 samples; events and alarms kept`);
    assert.equal((await planRetention(store, SETTINGS, now + 1)).preview.uploads, 11, 'a millisecond later, day 10 goes too');
    assert.equal(await store.retentionHorizon(), undefined);
    assert.equal((await store.uploads({})).length, 40);
    await store.close();
  });

  test('a run advances the horizon once, purges in chunks with progress lines, and verification stays green; a longer period later never moves it back', async () => {
    const { store, device } = await storeWithDevice();
    const ids = await dailyUploads(store, device.id, 40, 30);
    await recordVerification(store, await verifyIntegrity(store));
    const log = recordingLog();
    const now = T0 + 40 * DAY;
    const result = await runRetention(store, SETTINGS, { now, setBy: 'housekeeping job', reason: 'retention.keepDays = 30', log, progressEveryMs: 0 });
    assert.deepEqual([result.purged.samples, result.purged.uploads], [300, 10]);
    assert.equal(result.chunks, 3 + 10, '300 samples in chunks of 100, then uploads one per chunk (a hundredth)');
    assert.equal(result.purged.rollupHours, 12, 'ten hours, two of them cut by a chunk boundary and rebuilt twice');
    assert.match(log.lines[0], new RegExp(`^retention horizon advanced to 2025-01-11T00:00:00\\.000Z \\(uploads below #${ids[10]}\\)$`));
    assert.ok(log.lines.filter((l) => l.startsWith('retention purge in progress: ')).length >= 10);
    assert.equal(describeRun(result), `retention: horizon advanced to 2025-01-11T00:00:00.000Z (uploads below #${ids[10]}); ` +
      '300 samples, 10 uploads (0 quarantined), 0 events, 0 closed alarms purged; 12 hourly rollups rebuilt in 13 chunks');
    const report = await verifyIntegrity(store);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.uploadsChecked, 30);

    const again = await runRetention(store, SETTINGS, { now, setBy: 'housekeeping job', reason: 'again', log, progressEveryMs: 0 });
    assert.equal(describeRun(again), `retention: horizon unchanged at 2025-01-11T00:00:00.000Z (uploads below #${ids[10]}); nothing to purge`);
    const longer = await planRetention(store, { ...SETTINGS, keepDays: 365 }, now + DAY);
    assert.equal(longer.dataBefore, T0 + 10 * DAY, 'the horizon never moves back');
    assert.equal(longer.advances, false);
    assert.equal((await store.retentionHorizons()).length, 1);
    await store.close();
  });

  test('refused while an integrity alarm is open and unacknowledged; runs once someone has acknowledged it', async () => {
    const { store, device } = await storeWithDevice();
    await dailyUploads(store, device.id, 40);
    const broken: IntegrityReport = {
      ok: false, startedAt: T0, finishedAt: T0, uploadsChecked: 40, samplesChecked: 120, uploadsBelowHorizon: 0, chains: 1, heads: [], problemCount: 1,
      problems: [{ kind: 'hash-mismatch', chain: device.id, uploadId: 3, detail: 'changed' }],
    };
    const { raised } = await recordVerification(store, broken);
    const log = recordingLog();
    const blocked = await runRetention(store, SETTINGS, { now: T0 + 40 * DAY, setBy: 'job', reason: 'r', log });
    assert.match(describeRun(blocked), new RegExp(`^retention skipped: an integrity alarm \\(#${raised!.id}\\) is open and not acknowledged: purging now could destroy the evidence`));
    assert.equal(await store.retentionHorizon(), undefined);
    await store.acknowledgeAlarm(raised!.id, 'qa', 'tampering traced to a test script on the validation copy; see deviation 42', T0 + 40 * DAY);
    const ran = await runRetention(store, SETTINGS, { now: T0 + 40 * DAY, setBy: 'job', reason: 'r', log });
    assert.equal(ran.purged.uploads, 10);
    await store.close();
  });

  test('the housekeeping job purges only under a signed retention policy, naming its event, and says what retention did, then what maintenance did; retention is off by default', async () => {
    const { store, device } = await storeWithDevice();
    await dailyUploads(store, device.id, 5);
    const log = recordingLog();
    const off = createJobScheduler({ store, config: DEFAULT_CONFIG, log, now: () => T0 + 40 * DAY });
    const first = await off.runNow('housekeeping');
    assert.ok(first.ran && /^retention off; WAL checkpointed/.test(first.summary), JSON.stringify(first));
    const config: InletConfig = { ...DEFAULT_CONFIG, retention: { enabled: true, keepDays: 1, auditKeepDays: 0, chunkSize: 1000, bodyKeepDays: 0 } };
    const on = createJobScheduler({ store, config, log, now: () => T0 + 5 * DAY });
    // The configuration alone authorises nothing: an administrator signs the policy first.
    const unsigned = await on.runNow('housekeeping');
    assert.ok(unsigned.ran);
    assert.match(unsigned.summary, /^retention withheld: no retention policy has been signed: .*`inlet retention sign`; WAL checkpointed/);
    assert.equal(await store.retentionHorizon(), undefined, 'nothing was purged');
    const [withheld] = await store.events({ type: 'retention.purge.withheld' });
    assert.match(withheld.message, /^the nightly purge did not run: no retention policy has been signed/);
    const policy = await signPolicy(store, config.retention, { by: 'qa.admin', meaning: 'approved', at: T0 + 4 * DAY }, 'SOP QA-12', 'cli@test');
    const second = await on.runNow('housekeeping');
    assert.ok(second.ran);
    assert.match(second.summary, /^retention: horizon advanced to 2025-01-05T00:00:00\.000Z \(uploads below #5\); 12 samples, 4 uploads .* in 2 chunks; WAL checkpointed/);
    const [event] = await store.events({ type: 'retention.horizon.advanced' });
    assert.match(event.message, new RegExp(`by housekeeping job: .* Reason: retention\\.keepDays = 1, retention\\.auditKeepDays = 0 under the retention policy signed by qa\\.admin \\(approved\\) at 2025-01-05T00:00:00\\.000Z, event #${policy.eventId}; under the retention policy of event #${policy.eventId}, signed by qa\\.admin`));
    assert.equal((event.data as { policyEventId?: number }).policyEventId, policy.eventId, 'the purge names the signed policy\'s event');
    // Raw bodies on a retention of their own (data retention off): a changed setting waits for its signature.
    const bodiesConfig: InletConfig = { ...config, retention: { ...config.retention, enabled: false, bodyKeepDays: 1 } };
    const bodies = createJobScheduler({ store, config: bodiesConfig, log, now: () => T0 + 6 * DAY });
    const changed = await bodies.runNow('housekeeping');
    assert.ok(changed.ran, JSON.stringify(changed));
    assert.match(changed.summary, /^retention withheld: the configuration's retention settings \(keep data 1 days, audit trail kept for ever, raw bodies 1 days\) are not the policy signed by qa\.admin .* \(event #\d+: keep data 1 days, audit trail kept for ever, raw bodies kept with their uploads\)/);
    assert.ok((await store.uploads({ limit: 10 }))[0].raw.length > 0, 'no body was purged');
    await signPolicy(store, bodiesConfig.retention, { by: 'qa.admin', meaning: 'approved', at: T0 + 6 * DAY }, 'bodies for 1 day', null);
    const third = await bodies.runNow('housekeeping');
    assert.ok(third.ran, JSON.stringify(third));
    assert.match(third.summary, /^retention off; raw bodies received before 2025-01-06T00:00:00\.000Z: 1 purged \(\d+ bytes\) in 1 chunks, their SHA-256 kept; WAL checkpointed/);
    assert.equal((await store.uploads({ limit: 10 }))[0].raw.length, 0);
    const [bodyEvent] = await store.events({ type: 'retention.bodies.purged' });
    assert.match(bodyEvent.message, /by housekeeping job: 1 bodies .* Reason: retention\.bodyKeepDays = 1 under the retention policy signed by qa\.admin \(approved\) at 2025-01-07T00:00:00\.000Z, event #\d+$/);
    await store.close();
  });
});

describe('integrity alarm', () => {
  const report = (problemCount: number, at: number): IntegrityReport => ({
    ok: problemCount === 0, startedAt: at, finishedAt: at, uploadsChecked: 10, samplesChecked: 30, uploadsBelowHorizon: 0, chains: 1, heads: [],
    problemCount, problems: Array.from({ length: problemCount }, (_, i) => ({ kind: 'broken-link' as const, chain: 1, uploadId: i + 1, detail: 'deleted' })),
  });

  test('raised once for a broken state (value = problems), again only when more is broken, cleared by an intact verification', async () => {
    const { store } = await storeWithDevice();
    const first = await recordVerification(store, report(2, T0));
    assert.deepEqual([first.raised?.kind, first.raised?.deviceId, first.raised?.value, first.raised?.level], ['integrity', null, 2, 'alarm']);
    assert.match(first.raised!.message, /^integrity verification found 2 problem\(s\): .* First: broken-link in chain 1/);
    assert.equal((await recordVerification(store, report(2, T0 + DAY))).raised, null, 'the same state the next night');
    assert.equal((await recordVerification(store, report(1, T0 + 2 * DAY))).raised, null);
    const more = await recordVerification(store, report(5, T0 + 3 * DAY));
    assert.equal(more.raised?.value, 5);
    assert.equal((await store.events({ type: 'integrity.broken' })).length, 4, 'every broken run is still in the audit trail');
    assert.deepEqual(await recordVerification(store, report(0, T0 + 4 * DAY)), { raised: null, cleared: 2 });
    assert.deepEqual(await store.alarms({ kind: 'integrity', uncleared: true }), []);
    assert.equal((await store.alarms({ open: true })).length, 2, 'cleared, but open until someone acknowledges them');
    await store.close();
  });
});

describe('offline alarms and notifications', () => {
  test('the notification job mails an offline alarm to the device location once (repeat off), and not its event again', async () => {
    const { store } = await storeWithDevice();
    let now = T0;
    const sent: { to: string; subject: string }[] = [];
    const transport = { sendMail: async (m: { to: string; subject: string }) => { sent.push(m); return {}; } } as unknown as Transporter;
    const config: InletConfig = {
      ...DEFAULT_CONFIG,
      notifications: { enabled: true, schedule: '* * * * *', routes: [{ location: 'Pharmacy', to: ['pharmacist@hospital.local'], repeatMinutes: 0, escalateAfterMinutes: 0, escalateTo: [] }] },
    };
    const notifier = new NotificationJob(store, config, transport, () => now);
    assert.equal(await notifier.run(), '0 notification mail(s) sent');
    now = T0 + 10 * 60_000;
    await new OfflineDetector(store, { missedIntervals: 3 }, () => now).sweep();
    assert.equal(await notifier.run(), '1 notification mail(s) sent');
    assert.deepEqual(sent.map((m) => [m.to, m.subject]), [['pharmacist@hospital.local', '[Inlet alarm] Fridge 4 (Pharmacy): Fridge 4 (serial 40000001) is offline: never heard from since it was registered; check its power, network and entry point']]);
    now += 60_000;
    assert.equal(await notifier.run(), '0 notification mail(s) sent');
    await store.close();
  });
});

describe('retention configuration', () => {
  function configFile(content: unknown): string {
    const file = path.join(tempDir('inlet-retention-config-'), 'inlet.config.json');
    writeFileSync(file, JSON.stringify(content));
    return file;
  }

  test('off by default; enabled needs keepDays; the audit trail may not be kept shorter than the data; unknown keys and bad values are named', () => {
    assert.deepEqual(loadConfig(undefined, {}).config.retention, { enabled: false, keepDays: 0, auditKeepDays: 0, chunkSize: 5000, bodyKeepDays: 0 });
    assert.throws(() => loadConfig(configFile({ retention: { enabled: true } }), {}),
      (err: Error) => err instanceof ConfigError && /"retention\.enabled" is true but "retention\.keepDays" is not set: .*e\.g\. 3650/.test(err.message));
    assert.throws(() => loadConfig(configFile({ retention: { keepDays: 3650, auditKeepDays: 365 } }), {}),
      (err: Error) => err instanceof ConfigError && /"retention\.auditKeepDays" \(365\) is shorter than "retention\.keepDays" \(3650\)/.test(err.message));
    assert.throws(() => loadConfig(configFile({ retention: { keepDays: 1.5, keepYears: 10 } }), {}),
      (err: Error) => err instanceof ConfigError && /"retention\.keepDays" must be of type integer/.test(err.message) && /unknown key "retention\.keepYears"/.test(err.message));
    assert.throws(() => loadConfig(configFile({ retention: { chunkSize: 10 } }), {}), (err: Error) => /"retention\.chunkSize" must be >= 100/.test(err.message));
    const { config } = loadConfig(configFile({ retention: { enabled: true, keepDays: 3650, auditKeepDays: 7300 } }), {});
    assert.deepEqual(config.retention, { enabled: true, keepDays: 3650, auditKeepDays: 7300, chunkSize: 5000, bodyKeepDays: 0 });
  });
});
