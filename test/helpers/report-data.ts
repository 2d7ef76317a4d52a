// A week of one-minute data of a cold room, with what a report must show: an excursion above the
// alarm limit (an alarm raised and acknowledged with a comment), a three-hour gap and ten minutes of
// sensor errors. Written through the Store interface, as the gateway stores uploads.
import type { Batch, SampleRow } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import type { Device } from '../../src/domain/types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-11-02 00:00 in Europe/Prague (UTC+01:00). */
export const WEEK_FROM = Date.UTC(2026, 10, 1, 23);
export const WEEK_TO = WEEK_FROM + 7 * 24 * HOUR;
export const EXCURSION = { start: WEEK_FROM + 2 * 24 * HOUR + 10 * HOUR, minutes: 30, peak: 9.4 };
export const GAP = { start: WEEK_FROM + 3 * 24 * HOUR + 2 * HOUR, end: WEEK_FROM + 3 * 24 * HOUR + 5 * HOUR };
export const ERRORS = { start: WEEK_FROM + 4 * 24 * HOUR + 12 * HOUR, minutes: 10 };
export const ACK_COMMENT = 'door left open during the delivery; goods checked';

/** The temperature at minute m of the week (°C), or null for a sensor error, or undefined in the gap. */
export function temperatureAt(time: number): number | null | undefined {
  if (time >= GAP.start && time < GAP.end) return undefined;
  if (time >= ERRORS.start && time < ERRORS.start + ERRORS.minutes * MIN) return null;
  if (time >= EXCURSION.start && time < EXCURSION.start + EXCURSION.minutes * MIN) {
    const m = (time - EXCURSION.start) / MIN;   // rises to the peak at minute 15 and falls back
    return Math.round((EXCURSION.peak - Math.abs(m - 15) * 0.08) * 100) / 100;
  }
  const minuteOfDay = ((time - WEEK_FROM) / MIN) % 1440;
  return Math.round((5 + 1.2 * Math.sin((minuteOfDay / 1440) * 2 * Math.PI)) * 100) / 100;
}

export async function seedColdRoom(store: Store, options: { from?: number; to?: number; intervalMs?: number } = {}): Promise<Device> {
  const from = options.from ?? WEEK_FROM;
  const to = options.to ?? WEEK_TO;
  const step = options.intervalMs ?? MIN;
  const device = await store.addDevice({
    family: 'soap', serial: '17960123', modelCode: 0x0d13, model: 'T3510', name: 'Cold room 2 sensor', location: 'Cold room 2',
    entryToken: `tok-${Math.random().toString(36).slice(2)}`, allowedIntervalS: step / 1000,
    channels: [{ channel: 1, quantity: 'temperature', unit: 'C' }, { channel: 2, quantity: 'relative_humidity', unit: '%RH' }],
  }, from - HOUR);
  await store.setAlarmLimits(device.id, 1, [
    { deviceId: device.id, channel: 1, level: 'alarm', high: 8, low: 2, delayS: 300, hysteresis: 0.2 },
    { deviceId: device.id, channel: 1, level: 'warning', high: 7, low: null, delayS: 0, hysteresis: 0.2 },
  ], 'qa.manager', from - HOUR);
  let samples: SampleRow[] = [];
  const flush = async (at: number) => {
    if (!samples.length) return;
    const batch: Batch = {
      upload: { deviceId: device.id, family: 'soap', receivedAt: at, remoteAddress: '192.0.2.10', contentType: 'text/xml', raw: Buffer.from('<seed/>'), verdict: 'accepted', reason: 'ok', serial: device.serial, counter: null },
      samples, channels: [], events: [], quarantine: null, deviceSeen: null, suspend: null,
    };
    await store.commit(batch);
    samples = [];
  };
  for (let t = from; t < to; t += step) {
    const v = temperatureAt(t);
    if (v === undefined) continue;
    samples.push({ deviceId: device.id, channel: 1, time: t, value: v, errorCode: v === null ? 9999 : null, alarm: v !== null && v > 8 ? 'hi' : 'no' });
    samples.push({ deviceId: device.id, channel: 2, time: t, value: v === null ? null : 45, errorCode: v === null ? 9999 : null, alarm: 'no' });
    if (samples.length >= 20_000) await flush(t);
  }
  await flush(to);
  if (from <= EXCURSION.start && EXCURSION.start < to) {
    const alarm = await store.raiseAlarm({
      deviceId: device.id, channel: 1, source: 'limit', kind: null, level: 'alarm', direction: 'high', raisedAt: EXCURSION.start + 5 * MIN,
      value: 8.6, message: 'Cold room 2 sensor channel 1: 8.6 is above the alarm high limit 8',
    });
    await store.acknowledgeAlarm(alarm.id, 'operator.jana', ACK_COMMENT, EXCURSION.start + 20 * MIN);
    await store.clearAlarm(alarm.id, EXCURSION.start + EXCURSION.minutes * MIN, 6.2);
  }
  return device;
}
