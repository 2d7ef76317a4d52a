// PDF reports end to end: made by the real gateway at GET /api/report.pdf, parsed back with
// pdftotext (text and numbers right), rendered with pdftoppm (every page), checked with
// `inlet report verify`, signed with a re-entered password, and the scheduled reports' API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, Caller, REPO, startTestGateway } from './api-helpers.ts';
import { ACK_COMMENT, WEEK_FROM, WEEK_TO, seedColdRoom, temperatureAt } from '../helpers/report-data.ts';
import { meanKineticTemperatureK } from '../../src/report/mkt.ts';

const MIN = 60_000;

function pdfText(pdf: Buffer, dir: string, name: string): string {
  const file = path.join(dir, `${name}.pdf`);
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

/** Renders every page; returns the PNG files (copied to INLET_REPORT_PNG_DIR when set, for a person to look at). */
function renderPages(pdf: Buffer, dir: string, name: string): string[] {
  const file = path.join(dir, `${name}.pdf`);
  writeFileSync(file, pdf);
  execFileSync('pdftoppm', ['-png', '-r', '60', file, path.join(dir, name)]);
  const pages = readdirSync(dir).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.png')).sort().map((f) => path.join(dir, f));
  if (process.env.INLET_REPORT_PNG_DIR) {
    mkdirSync(process.env.INLET_REPORT_PNG_DIR, { recursive: true });
    for (const p of pages) writeFileSync(path.join(process.env.INLET_REPORT_PNG_DIR, path.basename(p)), readFileSync(p));
  }
  return pages;
}

function cli(dataDir: string, args: string[]) {
  return spawnSync(process.execPath, ['src/cli/inlet.ts', ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, INLET_DATA_DIR: dataDir, INLET_CONFIG: '' } });
}

test('a week of a cold room: the server-made PDF says what QA needs, verifies, and signs', async (t) => {
  const { gateway, dataDir, close } = await startTestGateway();
  t.after(close);
  const work = mkdtempSync(path.join(os.tmpdir(), 'inlet-report-'));
  const device = await seedColdRoom(gateway.store);
  const admin = new Caller(gateway.url);
  assert.equal((await admin.signIn(ADMIN.username, ADMIN.password)).status, 200);
  const query = `devices=${device.id}&from=${WEEK_FROM}&to=${WEEK_TO}&tz=Europe/Prague`;

  await t.test('refused without a session, for an empty period and for an unknown device', async () => {
    assert.equal((await new Caller(gateway.url).request('GET', `/api/report.pdf?${query}`)).status, 401);
    const empty = await admin.json('GET', `/api/report.pdf?devices=${device.id}&from=${WEEK_TO}&to=${WEEK_FROM}`);
    assert.equal(empty.status, 400);
    assert.match(String(empty.body.error), /"to" must be after "from"/);
    assert.equal((await admin.json('GET', `/api/report.pdf?devices=999&from=${WEEK_FROM}&to=${WEEK_TO}`)).status, 404);
    assert.equal((await admin.json('GET', `/api/report.pdf?${query.replace('Europe/Prague', 'Mars/Olympus')}`)).status, 400);
  });

  const res = await admin.request('GET', `/api/report.pdf?${query}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  const code = res.headers.get('x-inlet-report-code')!;
  assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  const pdf = Buffer.from(await res.arrayBuffer());

  await t.test('the text and numbers are in the PDF, right', () => {
    const text = pdfText(pdf, work, 'week');
    const flat = text.replace(/\s+/g, ' ');
    for (const expected of [
      'Measurement report: Cold room 2', 'T3510', '17960123', 'Cold room 2 sensor',
      '2026-11-02 00:00 – 2026-11-09 00:00', 'Europe/Prague (UTC+01:00 at the start)', `by ${ADMIN.username}`, code,
      'alarm: low 2, high 8 °C', 'Temperature [°C]', 'Relative humidity [%RH]',
    ]) assert.ok(flat.includes(expected), `the PDF says "${expected}"`);
    // MKT from every valid sample, computed here independently of the report code's analysis
    const kelvins: number[] = [];
    for (let time = WEEK_FROM; time < WEEK_TO; time += MIN) {
      const v = temperatureAt(time);
      if (typeof v === 'number') kelvins.push(v + 273.15);
    }
    const mkt = (meanKineticTemperatureK(kelvins)! - 273.15).toFixed(2);
    assert.match(flat, new RegExp(`Mean kinetic temperature ${mkt} °C \\(USP <1079>, activation energy 83.144 kJ/mol, from ${kelvins.length} samples\\)`));
    assert.match(flat, /Minimum 3\.80 °C at 2026-11-02 17:40/);
    assert.match(flat, /Maximum 9\.40 °C at 2026-11-04 10:15/);
    assert.match(flat, /Samples 9900 received, 9890 valid, 10 sensor errors; device interval 60 s/);
    assert.match(flat, /Time above alarm high \(8\) 30 min/);
    // the excursion above 8 °C, its peak, and the alarm's acknowledgement with the comment
    assert.match(flat, /alarm high 8 2026-11-04 10:00 2026-11-04 10:30 30 min 9\.40 °C at 10:15 alarm #1 raised 2026-11-04 10:05;/);
    assert.match(flat, /acknowledged 2026-11-04 10:20 by/);
    assert.ok(flat.includes('operator.jana'));
    assert.ok(flat.includes(ACK_COMMENT.slice(0, 14)));
    // the gap and the sensor errors, shown and never bridged
    assert.match(flat, /gap 2026-11-05 01:59 2026-11-05 05:00 3 h 01 min/);
    assert.match(flat, /sensor error 2026-11-06 12:00 2026-11-06 12:10 10 min 10 error readings, code 9999/);
    assert.match(flat, /Time without valid data 3 h 10 min/);
    // completeness per local day: the day of the gap misses 180 of 1440 samples
    assert.match(flat, /2026-11-05 1260 1260 0 1440\.0 87\.5 %/);
    assert.match(flat, /2026-11-06 1440 1430 10 1440\.0 99\.3 %/);
    assert.match(flat, /Events of the period \(3\)/);
    assert.match(flat, /Not signed/);
  });

  await t.test('every page renders', () => {
    const pages = renderPages(pdf, work, 'week');
    const info = execFileSync('pdfinfo', [path.join(work, 'week.pdf')], { encoding: 'utf8' });
    assert.equal(pages.length, Number(/Pages:\s+(\d+)/.exec(info)![1]));
    assert.ok(pages.length >= 4, 'title, two channels, events');
    for (const p of pages) assert.ok(statSync(p).size > 3000, `${path.basename(p)} has something drawn on it`);
  });

  await t.test('inlet report verify: this file is authentic, a changed copy is not, a foreign PDF is unknown', () => {
    writeFileSync(path.join(work, 'copy.pdf'), pdf);
    const ok = cli(dataDir, ['report', 'verify', path.join(work, 'copy.pdf')]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`AUTHENTIC: .* is report ${code}, made by this Inlet .* by ${ADMIN.username}, and is unchanged`));
    const altered = Buffer.from(pdf);
    const at = altered.indexOf('9.40');
    if (at >= 0) altered.write('9.10', at); else altered[altered.length - 10] ^= 1;
    writeFileSync(path.join(work, 'altered.pdf'), altered);
    const changed = cli(dataDir, ['report', 'verify', path.join(work, 'altered.pdf')]);
    assert.equal(changed.status, 1);
    assert.match(changed.stdout, new RegExp(`CHANGED: .* names report ${code}`));
    writeFileSync(path.join(work, 'foreign.pdf'), '%PDF-1.4\n% not from Inlet\n');
    const foreign = cli(dataDir, ['report', 'verify', path.join(work, 'foreign.pdf')]);
    assert.equal(foreign.status, 1);
    assert.match(foreign.stdout, /NOT ISSUED HERE/);
  });

  await t.test('signing: a viewer may not, a wrong password signs nothing, the right one gives a signed copy that shows the signature', async () => {
    for (const [username, role] of [['vera.viewer', 'viewer'], ['petra.novakova', 'operator']]) {
      assert.equal((await admin.json('POST', '/api/users', { reason: 'test fixture', username, role, password: 'Linden-Table-Quartz-7' })).status, 201);
    }
    const viewer = new Caller(gateway.url);
    await viewer.signIn('vera.viewer', 'Linden-Table-Quartz-7');
    assert.equal((await viewer.json('POST', `/api/reports/${code}/sign`, { signature: { password: 'Linden-Table-Quartz-7', meaning: 'approved' } })).status, 403);
    const approver = new Caller(gateway.url);
    await approver.signIn('petra.novakova', 'Linden-Table-Quartz-7');
    const wrong = await approver.json('POST', `/api/reports/${code}/sign`, { signature: { password: 'not-my-password', meaning: 'approved' } });
    assert.equal(wrong.status, 403);
    assert.match(String(wrong.body.error), /password is not right: the report was not signed/);
    assert.equal((await gateway.store.events({ type: 'report.signed', limit: 10 })).length, 0);
    // Checked as every signature is (verifySignature): the refusal is an event naming who and from where.
    const [refused] = await gateway.store.events({ type: 'signature.refused', limit: 1 });
    assert.equal(refused.actor, 'petra.novakova');
    assert.match(refused.message, /electronic signature of petra\.novakova \(approved\) refused: wrong password/);
    assert.match(refused.source ?? '', /127\.0\.0\.1/);
    const signed = await approver.request('POST', `/api/reports/${code}/sign`, { signature: { password: 'Linden-Table-Quartz-7', meaning: 'approved' } });
    assert.equal(signed.status, 200);
    const signedCode = signed.headers.get('x-inlet-report-code')!;
    assert.notEqual(signedCode, code);
    const signedPdf = Buffer.from(await signed.arrayBuffer());
    const flat = pdfText(signedPdf, work, 'signed').replace(/\s+/g, ' ');
    assert.match(flat, /Electronically signed: APPROVED/);
    assert.match(flat, new RegExp(`Signed by petra\\.novakova on 2\\d{3}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(Europe/Prague\\), re-entering their password, with the meaning "approved"\\. The signature applies to report ${code}`));
    renderPages(signedPdf, work, 'signed');
    const [event] = await gateway.store.events({ type: 'report.signed', limit: 1 });
    assert.equal(event.data?.by, 'petra.novakova');
    assert.equal(event.data?.signsCode, code);
    writeFileSync(path.join(work, 'signed-copy.pdf'), signedPdf);
    const verified = cli(dataDir, ['report', 'verify', path.join(work, 'signed-copy.pdf')]);
    assert.equal(verified.status, 0);
    assert.match(verified.stdout, new RegExp(`It is signed: approved by petra\\.novakova on .* for report ${code}`));
    assert.equal((await approver.json('POST', `/api/reports/${signedCode}/sign`, { signature: { password: 'Linden-Table-Quartz-7', meaning: 'approved' } })).status, 409, 'a signed copy is not signed again');
  });

  await t.test('a report whose data changed since it was made is not signed', async () => {
    await gateway.store.commit({
      upload: { deviceId: device.id, family: 'soap', receivedAt: Date.now(), remoteAddress: '192.0.2.10', contentType: 'text/xml', raw: Buffer.from('<late/>'), verdict: 'accepted', reason: 'ok', serial: device.serial, counter: null },
      samples: [{ deviceId: device.id, channel: 1, time: WEEK_FROM + 3 * 86_400_000 + 3 * 3_600_000, value: 5.5, errorCode: null, alarm: 'no' }],
      channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
    });
    const late = await admin.json('POST', `/api/reports/${code}/sign`, { signature: { password: ADMIN.password, meaning: 'approved' } });
    assert.equal(late.status, 409);
    assert.match(String(late.body.error), /changed after it was made/);
  });

  await t.test('scheduled reports: administrators only; each change is an event with old and new', async () => {
    const viewer = new Caller(gateway.url);
    await viewer.signIn('vera.viewer', 'Linden-Table-Quartz-7');
    assert.equal((await viewer.json('GET', '/api/report-schedules')).status, 403);
    const body = { name: 'Cold room 2 weekly', scope: 'location', location: 'Cold room 2', period: 'weekly', mailTo: ['qa@example.com'], reason: 'GDP audit finding 4' };
    const nowhere = await admin.json('POST', '/api/report-schedules', { ...body, mailTo: [] });
    assert.equal(nowhere.status, 400);
    const added = await admin.json<{ id: number }>('POST', '/api/report-schedules', body);
    assert.equal(added.status, 201);
    assert.equal((await admin.json('POST', '/api/report-schedules', body)).status, 409);
    assert.equal((await admin.json('PUT', `/api/report-schedules/${added.body.id}`, { ...body, period: 'monthly', reason: 'monthly is enough' })).status, 200);
    const list = await admin.json<{ schedules: { period: string }[] }>('GET', '/api/report-schedules');
    assert.deepEqual(list.body.schedules.map((s) => s.period), ['monthly']);
    assert.equal((await admin.json('DELETE', `/api/report-schedules/${added.body.id}`, { reason: 'room closed' })).status, 204);
    const events = (await gateway.store.events({ type: 'report.schedule.changed', limit: 10 })).reverse();
    assert.deepEqual(events.map((e) => [e.data?.by, e.data?.reason]), [['admin', 'GDP audit finding 4'], ['admin', 'monthly is enough'], ['admin', 'room closed']]);
  });
});

test('inlet report makes the same kind of PDF from the command line, in the configured time zone', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'inlet-report-cli-'));
  const { SqliteStore } = await import('../../src/store/sqlite/sqlite-store.ts');
  const store = new SqliteStore({ file: path.join(dataDir, 'inlet.sqlite') });
  await store.migrate();
  const device = await seedColdRoom(store, { from: WEEK_FROM, to: WEEK_FROM + 86_400_000 });
  await store.close();
  const out = path.join(dataDir, 'day.pdf');
  const made = cli(dataDir, ['report', '--devices', String(device.id), '--channels', `${device.id}:1`, '--from', '2026-11-02', '--to', '2026-11-03', '--tz', 'Europe/Prague', '--out', out]);
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /wrote .*day\.pdf: report [0-9A-Z-]{19}, 1 channel\(s\), 2026-11-02 00:00 – 2026-11-03 00:00 \(Europe\/Prague\)/);
  const flat = execFileSync('pdftotext', ['-layout', out, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  assert.match(flat, /Samples 1440 received, 1440 valid, 0 sensor errors/);
  assert.match(flat, new RegExp(`by ${os.userInfo().username} \\(inlet report on `), 'made by the account that ran the command');
  const named = cli(dataDir, ['report', '--devices', String(device.id), '--from', '2026-11-02', '--to', '2026-11-03', '--by', 'qa.cli', '--out', out]);
  assert.equal(named.status, 2, 'no free-text author: nothing verifies one');
  assert.match(named.stderr, /Unknown option '--by'/);
  const reopened = new SqliteStore({ file: path.join(dataDir, 'inlet.sqlite') });
  try {
    const [issued] = await reopened.events({ type: 'report.issued', limit: 1 });
    assert.match(issued.source ?? '', /^cli@/, 'the event names the machine');
  } finally {
    await reopened.close();
  }
  assert.ok(!flat.includes('Relative humidity [%RH]'), 'only the channel asked for');
  const bad = cli(dataDir, ['report', '--devices', String(device.id), '--from', 'yesterday', '--to', '2026-11-03', '--out', out]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--from "yesterday" is not a date/);
});
