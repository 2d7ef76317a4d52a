// MKT and the per-channel analysis of a report, against values worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MktAccumulator, meanKineticTemperatureK, toKelvin, fromKelvin, DEFAULT_ACTIVATION_ENERGY_KJ_PER_MOL } from '../../src/report/mkt.ts';
import { analyseChannel, type AnalysisOptions } from '../../src/report/analysis.ts';
import type { SampleRow } from '../../src/domain/types.ts';
import { formatDuration, formatLocal, localDayStarts, formatOffset } from '../../src/report/time-zone.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const near = (actual: number | null, expected: number, digits = 6) => {
  assert.ok(actual !== null, 'expected a number, got null');
  assert.ok(Math.abs(actual - expected) < 10 ** -digits, `${actual} is not ${expected}`);
};

test('MKT of a constant temperature is that temperature', () => {
  near(meanKineticTemperatureK([298.15, 298.15, 298.15]), 298.15, 9);
});

test('MKT of 20 °C and 30 °C with ΔH = 83.144 kJ/mol is 26.26 °C (worked by hand)', () => {
  // ΔH/R = 83144 / 8.3144 = 10000 K
  // e^(-10000/293.15) = e^(-34.112229) = 1.531959e-15
  // e^(-10000/303.15) = e^(-32.986970) = 4.719988e-15
  // mean = 3.125973e-15, ln(mean) = -33.399031
  // MKT = 10000 / 33.399031 = 299.409887 K = 26.259887 °C (the arithmetic mean is 25 °C)
  const mkt = meanKineticTemperatureK([toKelvin(20, '°C')!, toKelvin(30, 'C')!]);
  near(mkt, 299.409887, 5);
  near(fromKelvin(mkt!, '°C')!, 26.259887, 5);
  assert.equal(DEFAULT_ACTIVATION_ENERGY_KJ_PER_MOL, 83.144);
});

test('MKT depends on the activation energy: 60 kJ/mol gives 25.91 °C for 20 and 30 °C', () => {
  near(fromKelvin(meanKineticTemperatureK([293.15, 303.15], 60)!, 'C')!, 25.907477, 5);
});

test('MKT of 2, 8, 8 and 25 °C is 15.48 °C', () => {
  near(fromKelvin(meanKineticTemperatureK([2, 8, 8, 25].map((c) => c + 273.15))!, 'C')!, 15.483852, 5);
});

test('MKT stays exact over a million samples and in a deep freezer', () => {
  const acc = new MktAccumulator();
  for (let i = 0; i < 1_000_000; i++) acc.add(i % 2 ? 293.15 : 303.15);
  near(acc.kelvin(), 299.409887, 5);
  near(meanKineticTemperatureK([193.15, 193.15]), 193.15, 9);   // -80 °C: e^(-51.8) must not underflow to 0
  assert.equal(new MktAccumulator().kelvin(), null);
  assert.throws(() => new MktAccumulator(0), /activation energy must be positive/);
});

test('Fahrenheit and kelvin convert both ways', () => {
  near(toKelvin(212, '°F')!, 373.15, 9);
  near(fromKelvin(273.15, 'F')!, 32, 9);
  assert.equal(toKelvin(50, '%RH'), undefined);
});

function options(overrides: Partial<AnalysisOptions> = {}): AnalysisOptions {
  return {
    from: T0, to: T0 + 60 * MIN, end: T0 + 60 * MIN, intervalMs: MIN,
    limits: [{ level: 'alarm', high: 8, low: 2 }], temperatureUnit: 'C', activationEnergyKJPerMol: 83.144,
    dayStarts: [T0], chartPoints: 1000, ...overrides,
  };
}

const sample = (minute: number, value: number | null, errorCode: number | null = null): SampleRow =>
  ({ deviceId: 1, channel: 1, time: T0 + minute * MIN, value, errorCode, alarm: 'no' });

test('statistics, time beyond the limits and an excursion with its peak, start, end and duration', () => {
  // minutes 0..59 at 5 °C except 10..14 at 9, 10, 11, 10, 9 °C (above the high limit 8)
  const values = Array.from({ length: 60 }, (_, m) => (m >= 10 && m <= 14 ? [9, 10, 11, 10, 9][m - 10] : 5));
  const a = analyseChannel(values.map((v, m) => sample(m, v)), options());
  assert.equal(a.received, 60);
  assert.equal(a.valid, 60);
  assert.equal(a.min, 5);
  assert.equal(a.max, 11);
  assert.equal(a.maxAt, T0 + 12 * MIN);
  near(a.mean, (55 * 5 + 49) / 60, 9);
  assert.equal(a.excursions.length, 1);
  const [e] = a.excursions;
  assert.deepEqual({ ...e }, {
    level: 'alarm', direction: 'high', limit: 8, start: T0 + 10 * MIN, end: T0 + 15 * MIN, durationMs: 5 * MIN, peak: 11, peakAt: T0 + 12 * MIN, endedBy: 'return',
  });
  assert.deepEqual(a.beyond.map((b) => [b.direction, b.ms]), [['high', 5 * MIN], ['low', 0]]);
  assert.equal(a.inRangeMs, 55 * MIN);
  assert.equal(a.coveredMs, 60 * MIN);
  assert.deepEqual(a.interruptions, []);
  assert.equal(a.completeness, 1);
  assert.ok(a.mkt !== null && a.mkt > a.mean! && a.mkt < 11);
  assert.ok(!a.chart.includes(null), 'a complete series draws one unbroken line');
});

test('a gap is reported, not credited, breaks the chart and ends an excursion', () => {
  // minutes 0..19 then nothing until 40..59; values above 8 from minute 18 to 19 and at 40
  const samples = [...Array.from({ length: 20 }, (_, m) => sample(m, m >= 18 ? 9 : 5)), ...Array.from({ length: 20 }, (_, i) => sample(40 + i, i === 0 ? 9.5 : 5))];
  const a = analyseChannel(samples, options({ chartPoints: 60 }));
  assert.deepEqual(a.interruptions.map((i) => [i.kind, (i.start - T0) / MIN, (i.end - T0) / MIN]), [['gap', 19, 40]]);
  assert.equal(a.coveredMs, 40 * MIN, 'the silence of minutes 20..39 is not credited to the last value');
  assert.deepEqual(a.excursions.map((e) => [(e.start - T0) / MIN, e.end === null ? null : (e.end - T0) / MIN, e.endedBy, e.peak]), [[18, 20, 'gap', 9], [40, 41, 'return', 9.5]]);
  assert.ok(a.chart.includes(null), 'the chart line breaks at the gap');
  near(a.completeness!, 40 / 60, 9);
  assert.deepEqual(a.days.map((d) => [d.received, d.valid, d.expected]), [[40, 40, 60]]);
});

test('sensor errors are a period of their own and count as no data', () => {
  const samples = Array.from({ length: 60 }, (_, m) => (m >= 30 && m < 33 ? sample(m, null, 9999) : sample(m, 5)));
  const a = analyseChannel(samples, options());
  assert.equal(a.errors, 3);
  assert.equal(a.valid, 57);
  assert.deepEqual(a.interruptions.map((i) => [i.kind, (i.start - T0) / MIN, (i.end - T0) / MIN, i.samples, i.errorCodes]), [['sensor error', 30, 33, 3, [9999]]]);
  assert.equal(a.coveredMs, 57 * MIN);
  assert.ok(a.chart.includes(null));
});

test('no data at all is one gap over the whole period, and an excursion still open at the end says so', () => {
  const empty = analyseChannel([], options());
  assert.deepEqual(empty.interruptions.map((i) => [i.kind, i.start, i.end]), [['gap', T0, T0 + 60 * MIN]]);
  assert.equal(empty.mkt, null);
  assert.equal(empty.completeness, 0);
  const open = analyseChannel(Array.from({ length: 60 }, (_, m) => sample(m, m >= 50 ? 1 : 5)), options());
  assert.deepEqual(open.excursions.map((e) => [e.direction, e.end, e.endedBy, e.durationMs / MIN, e.peak]), [['low', null, 'still open', 10, 1]]);
});

test('completeness per local day and durations read as people write them', () => {
  // Prague changes to summer time on 2026-03-29: that day has 23 hours
  const from = Date.UTC(2026, 2, 28, 23);   // 2026-03-29 00:00 in Prague
  const days = localDayStarts(from, from + 2 * 86_400_000, 'Europe/Prague');
  assert.deepEqual(days.map((d) => formatLocal(d, 'Europe/Prague')), ['2026-03-29 00:00', '2026-03-30 00:00', '2026-03-31 00:00']);
  assert.equal(days[1] - days[0], 23 * 3_600_000);
  assert.equal(formatOffset(days[1], 'Europe/Prague'), 'UTC+02:00');
  assert.equal(formatDuration(5 * MIN), '5 min');
  assert.equal(formatDuration(26 * 60 * MIN + 5 * MIN), '1 d 2 h 05 min');
});

test('an excursion is matched to the limit alarm raised while it lasted, or before the period when it was already under way', async () => {
  const { matchAlarms } = await import('../../src/report/model.ts');
  const alarm = (id: number, raisedAt: number, clearedAt: number | null) => ({
    id, deviceId: 1, channel: 1, source: 'limit' as const, kind: null, level: 'alarm' as const, direction: 'high' as const, raisedAt, value: 9, message: 'm',
    acknowledgedAt: raisedAt + MIN, acknowledgedBy: 'jana', ackComment: `ack ${id}`, clearedAt, clearedValue: null,
  });
  const excursion = (start: number, end: number | null) => ({ level: 'alarm' as const, direction: 'high' as const, limit: 8, start, end, durationMs: 0, peak: 9, peakAt: start, endedBy: 'return' as const });
  const rows = matchAlarms(
    [excursion(T0, T0 + 10 * MIN), excursion(T0 + 30 * MIN, T0 + 40 * MIN), excursion(T0 + 50 * MIN, null)],
    [alarm(1, T0 - 60 * MIN, T0 + 10 * MIN), alarm(2, T0 + 35 * MIN, T0 + 40 * MIN), alarm(3, T0 - 120 * MIN, T0 - 90 * MIN)],
    MIN, T0, T0 + 60 * MIN,
  );
  assert.deepEqual(rows.map((r) => r.alarm?.ackComment ?? null), ['ack 1', 'ack 2', null]);
});
