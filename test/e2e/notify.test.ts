import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { buildSoapMessage } from '../../src/sim/soap.ts';
import { post } from '../../src/sim/client.ts';
import { notifyCommand } from '../../src/cli/notify.ts';
import { registerSoapDevice, soapUrl, startTestGateway } from './harness.ts';
import { waitUntil } from '../support/hang-guard.ts';

interface Received { to: string[]; data: string }

/** A real SMTP server on loopback that keeps what it receives. */
async function startMailServer(): Promise<{ port: number; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => { received.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8') }); callback(); });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('a reading over an alarm limit reaches the location\'s recipients by mail through the local SMTP server; acknowledging stops repeats', async () => {
  const mail = await startMailServer();
  const gw = await startTestGateway({
    smtp: { ...DEFAULT_CONFIG.smtp, host: '127.0.0.1', port: mail.port, from: 'inlet@plant.local' },
    notifications: {
      enabled: true, schedule: '* * * * * *',
      routes: [{ location: 'Cold store', to: ['quality@plant.local'], repeatMinutes: 0, escalateAfterMinutes: 0, escalateTo: [] }],
    },
  });
  try {
    const device = await registerSoapDevice(gw.store, '20990001', 'T3510');
    await gw.store.updateDevice(device.id, { location: 'Cold store', name: 'Freezer 1' }, Date.now());
    await gw.store.setAlarmLimits(device.id, 1, [{ deviceId: device.id, channel: 1, level: 'alarm', high: -15, low: null, delayS: 0, hysteresis: 0.5 }], 'admin', Date.now());
    await gw.alarmMonitor.reloadLimits();
    await gw.registry.refresh();
    const res = await post(soapUrl(gw.url, device), buildSoapMessage({ serial: '20990001', modelCode: 4145, temp: -9.5 }), 'text/xml');
    assert.equal(res.status, 200);

    const first = await waitUntil('the alarm mail', () => mail.received.find((m) => m.to.includes('quality@plant.local')));
    // the subject holds "°C", so it comes as RFC 2047 encoded words: read it as a mail client shows it
    assert.match(decodedSubject(first.data), /^\[Inlet alarm\] Freezer 1 \(Cold store\), channel 1/);
    assert.match(first.data, /From: inlet@plant\.local/);

    const [open] = await gw.store.alarms({ open: true, deviceId: device.id });
    await gw.store.acknowledgeAlarm(open.id, 'quality', 'freezer door was open; closed', Date.now());
    const count = mail.received.length;
    // one whole run of the notification job after the acknowledgement (a condition, not a pause that a busy machine may not fill)
    await waitUntil('a run of the notification job after the acknowledgement', async () => ((await gw.jobs.runNow('notify')).ran ? true : undefined));
    assert.equal(mail.received.length, count, 'no more mails once acknowledged (repeat is off, and nothing new)');
  } finally {
    await gw.stop();
    await mail.close();
  }
});

test('inlet notify test sends a test mail, and says clearly when the server refuses', async () => {
  const mail = await startMailServer();
  const lines: string[] = [];
  const config = { ...DEFAULT_CONFIG, smtp: { ...DEFAULT_CONFIG.smtp, host: '127.0.0.1', port: mail.port } };
  assert.equal(await notifyCommand(['test', '--to', 'it@plant.local'], config, (l) => lines.push(l)), 0);
  assert.match(lines.join('\n'), /test mail accepted by 127\.0\.0\.1/);
  assert.match(mail.received[0].data, /Subject: \[Inlet\] test notification/);
  await mail.close();
  const closed = { ...config, smtp: { ...config.smtp, port: mail.port } };
  assert.equal(await notifyCommand(['test', '--to', 'it@plant.local'], closed, (l) => lines.push(l)), 1);
  assert.match(lines.at(-1)!, /did not take the mail/);
});

/** The Subject header of a raw message, unfolded, its =?UTF-8?Q?…?= words decoded. */
function decodedSubject(raw: string): string {
  const header = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1] ?? '';
  return header.replace(/\r?\n[ \t]/g, ' ').replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?Q\?([^?]*)\?=/gi, (_, text: string) => Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'));
}
