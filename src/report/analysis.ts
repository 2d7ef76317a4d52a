// One channel's samples over a report period, read once in time order: statistics, MKT, time
// beyond each limit, excursions, gaps and sensor-error periods, completeness per day and the
// chart's points. Pure (no I/O) so that tests drive it with hand-made samples.
//
// How time is counted: a valid sample stands for the time until the next sample, but for at most
// one interval of the device: a silence longer than that is not credited to the last value.
// A gap is a silence longer than GAP_FACTOR intervals (so one missed sample is a gap); gaps and
// error readings are reported and break the chart's line, never bridged.
import { MktAccumulator, fromKelvin, toKelvin } from './mkt.ts';
import type { AlarmDirection, AlarmLevel, SampleRow } from '../domain/types.ts';

export const GAP_FACTOR = 1.5;

export interface LimitLine { level: AlarmLevel; high: number | null; low: number | null }

export interface AnalysisOptions {
  from: number;
  /** Exclusive end of the period. */
  to: number;
  /** Data is expected up to here: min(to, now). */
  end: number;
  intervalMs: number;
  limits: LimitLine[];
  /** Set for temperature channels (the channel's unit): MKT is computed then. */
  temperatureUnit: string | null;
  activationEnergyKJPerMol: number;
  /** Starts of the days (local midnights) that the per-day table uses; the first may lie before `from`. */
  dayStarts: number[];
  /** Most points the chart gets. */
  chartPoints: number;
}

export interface Excursion {
  level: AlarmLevel;
  direction: AlarmDirection;
  limit: number;
  start: number;
  /** First sample back inside the limit, or where the data stopped; null: still beyond at the end of the period. */
  end: number | null;
  durationMs: number;
  peak: number;
  peakAt: number;
  endedBy: 'return' | 'gap' | 'sensor error' | 'still open';
}

export interface Interruption {
  kind: 'gap' | 'sensor error';
  start: number;
  end: number;
  /** Error readings in it (sensor errors), or 0. */
  samples: number;
  errorCodes: number[];
}

export interface TimeBeyond { level: AlarmLevel; direction: AlarmDirection; limit: number; ms: number }

export interface DayRow { start: number; received: number; valid: number; errors: number; expected: number; ratio: number | null }

export interface ChartPoint { time: number; min: number; max: number; avg: number }

export interface ChannelAnalysis {
  received: number;
  valid: number;
  errors: number;
  min: number | null; minAt: number | null;
  max: number | null; maxAt: number | null;
  mean: number | null;
  /** In the channel's unit; null for other quantities or without samples. */
  mkt: number | null;
  /** Time credited to valid samples (see above). */
  coveredMs: number;
  /** Time within every limit. */
  inRangeMs: number;
  beyond: TimeBeyond[];
  excursions: Excursion[];
  interruptions: Interruption[];
  days: DayRow[];
  /** Chart points, in time order; null marks a break (gap or error) the line must not cross. */
  chart: (ChartPoint | null)[];
  chartBucketMs: number;
  /** Overall completeness: valid samples over expected. */
  completeness: number | null;
}

interface OpenExcursion { start: number; peak: number; peakAt: number; lastOut: number }

interface Bucket { index: number; min: number; max: number; sum: number; n: number }

export class ChannelAnalyzer {
  private readonly o: AnalysisOptions;
  private readonly gapMs: number;
  private readonly mkt: MktAccumulator | null;
  private received = 0;
  private valid = 0;
  private errors = 0;
  private sum = 0;
  private min: number | null = null; private minAt: number | null = null;
  private max: number | null = null; private maxAt: number | null = null;
  private coveredMs = 0;
  private inRangeMs = 0;
  private readonly beyondMs: number[];
  private readonly directions: { level: AlarmLevel; direction: AlarmDirection; limit: number }[];
  private readonly open: (OpenExcursion | null)[];
  private readonly excursions: Excursion[] = [];
  private readonly interruptions: Interruption[] = [];
  private errorRun: Interruption | null = null;
  private previousTime: number | null = null;
  /** The previous sample's value; null when it was an error reading. */
  private previousValue: number | null = null;
  private readonly days: DayRow[];
  private dayIndex = 0;
  private readonly bucketMs: number;
  private bucket: Bucket | null = null;
  private readonly chart: (ChartPoint | null)[] = [];

  constructor(options: AnalysisOptions) {
    this.o = options;
    this.gapMs = options.intervalMs * GAP_FACTOR;
    this.mkt = options.temperatureUnit === null ? null : new MktAccumulator(options.activationEnergyKJPerMol);
    this.directions = options.limits.flatMap((l) => [
      ...(l.high === null ? [] : [{ level: l.level, direction: 'high' as const, limit: l.high }]),
      ...(l.low === null ? [] : [{ level: l.level, direction: 'low' as const, limit: l.low }]),
    ]);
    this.beyondMs = this.directions.map(() => 0);
    this.open = this.directions.map(() => null);
    this.days = options.dayStarts.map((start, i) => {
      const next = options.dayStarts[i + 1] ?? options.to;
      const covered = Math.max(0, Math.min(next, options.end) - Math.max(start, options.from));
      return { start, received: 0, valid: 0, errors: 0, expected: covered / options.intervalMs, ratio: null };
    });
    // A bucket at least two intervals wide always holds a sample unless data is missing, so an
    // empty bucket is a real gap and the line breaks only there.
    this.bucketMs = Math.max(Math.ceil((options.to - options.from) / options.chartPoints), 2 * options.intervalMs);
  }

  /** Samples must come in time order, each time once. */
  add(s: SampleRow): void {
    this.addSample(s.time, s.value, s.errorCode);
  }

  /** add() without a row object: a year of one-minute samples is read as columns. */
  addSample(time: number, value: number | null, errorCode: number | null): void {
    if (time < this.o.from || time >= this.o.to) return;
    const hadPrevious = this.previousTime !== null;
    const sinceLast = hadPrevious ? time - this.previousTime! : time - this.o.from;
    if (sinceLast > this.gapMs) this.interrupt(hadPrevious ? this.previousTime! : this.o.from, time);
    if (hadPrevious && this.previousValue !== null) this.credit(this.previousValue, Math.min(time - this.previousTime!, this.o.intervalMs));
    this.received++;
    const error = value === null || errorCode !== null;
    this.countDay(time, error);
    if (error) {
      this.errors++;
      this.closeAll(time, 'sensor error');
      if (this.errorRun) { this.errorRun.samples++; this.errorRun.end = time; }
      else this.errorRun = { kind: 'sensor error', start: time, end: time, samples: 1, errorCodes: [] };
      if (errorCode !== null && !this.errorRun.errorCodes.includes(errorCode) && this.errorRun.errorCodes.length < 5) this.errorRun.errorCodes.push(errorCode);
      this.breakChart();
    } else {
      if (this.errorRun) { this.errorRun.end = time; this.interruptions.push(this.errorRun); this.errorRun = null; }
      this.addValue(time, value);
    }
    this.previousTime = time;
    this.previousValue = error ? null : value;
  }

  private interrupt(start: number, end: number): void {
    this.closeAll(start + (this.previousTime !== null ? this.o.intervalMs : 0), 'gap', this.previousTime ?? undefined);
    if (this.errorRun) { this.interruptions.push(this.errorRun); this.errorRun = null; }
    this.interruptions.push({ kind: 'gap', start, end, samples: 0, errorCodes: [] });
    this.breakChart();
  }

  private credit(value: number, ms: number): void {
    this.coveredMs += ms;
    let inside = true;
    this.directions.forEach((d, i) => {
      if (d.direction === 'high' ? value > d.limit : value < d.limit) { this.beyondMs[i] += ms; inside = false; }
    });
    if (inside) this.inRangeMs += ms;
  }

  private countDay(time: number, error: boolean): void {
    while (this.dayIndex + 1 < this.days.length && this.days[this.dayIndex + 1].start <= time) this.dayIndex++;
    const day = this.days[this.dayIndex];
    if (!day) return;
    day.received++;
    if (error) day.errors++;
    else day.valid++;
  }

  private addValue(time: number, value: number): void {
    this.valid++;
    this.sum += value;
    if (this.min === null || value < this.min) { this.min = value; this.minAt = time; }
    if (this.max === null || value > this.max) { this.max = value; this.maxAt = time; }
    if (this.mkt) {
      const k = toKelvin(value, this.o.temperatureUnit!);
      if (k !== undefined) this.mkt.add(k);
    }
    this.directions.forEach((d, i) => {
      const out = d.direction === 'high' ? value > d.limit : value < d.limit;
      const open = this.open[i];
      if (out) {
        if (!open) this.open[i] = { start: time, peak: value, peakAt: time, lastOut: time };
        else {
          open.lastOut = time;
          if (d.direction === 'high' ? value > open.peak : value < open.peak) { open.peak = value; open.peakAt = time; }
        }
      } else if (open) {
        this.close(i, time, 'return');
      }
    });
    const index = Math.floor((time - this.o.from) / this.bucketMs);
    if (this.bucket && this.bucket.index !== index) {
      // an empty bucket between two filled ones is missing data: break the line there
      if (index > this.bucket.index + 1) { this.flushBucket(); this.chart.push(null); } else this.flushBucket();
    }
    if (!this.bucket) this.bucket = { index, min: value, max: value, sum: 0, n: 0 };
    this.bucket.min = Math.min(this.bucket.min, value);
    this.bucket.max = Math.max(this.bucket.max, value);
    this.bucket.sum += value;
    this.bucket.n++;
  }

  private flushBucket(): void {
    const b = this.bucket;
    if (!b) return;
    this.chart.push({ time: this.o.from + (b.index + 0.5) * this.bucketMs, min: b.min, max: b.max, avg: b.sum / b.n });
    this.bucket = null;
  }

  private breakChart(): void {
    this.flushBucket();
    if (this.chart.length && this.chart[this.chart.length - 1] !== null) this.chart.push(null);
  }

  private close(i: number, end: number | null, endedBy: Excursion['endedBy'], endForDuration?: number): void {
    const open = this.open[i];
    if (!open) return;
    const d = this.directions[i];
    const until = end ?? endForDuration ?? this.o.end;
    this.excursions.push({ level: d.level, direction: d.direction, limit: d.limit, start: open.start, end, durationMs: Math.max(0, until - open.start), peak: open.peak, peakAt: open.peakAt, endedBy });
    this.open[i] = null;
  }

  private closeAll(at: number, endedBy: Excursion['endedBy'], lastSample?: number): void {
    this.open.forEach((open, i) => {
      if (!open) return;
      // a gap ends the excursion one interval after its last sample beyond the limit; we do not know more
      const end = endedBy === 'gap' && lastSample !== undefined ? open.lastOut + this.o.intervalMs : at;
      this.close(i, end, endedBy);
    });
  }

  finish(): ChannelAnalysis {
    const prevTime = this.previousTime;
    if (prevTime !== null && this.previousValue !== null) this.credit(this.previousValue, Math.max(0, Math.min(this.o.end - prevTime, this.o.intervalMs)));
    if (this.errorRun) { this.errorRun.end = Math.max(this.errorRun.end, Math.min(this.o.end, this.errorRun.end + this.o.intervalMs)); this.interruptions.push(this.errorRun); this.errorRun = null; }
    const lastTime = prevTime ?? this.o.from;
    if (this.o.end - lastTime > this.gapMs) {
      this.closeAll(lastTime + this.o.intervalMs, 'gap', prevTime ?? undefined);
      this.interruptions.push({ kind: 'gap', start: lastTime, end: this.o.end, samples: 0, errorCodes: [] });
    }
    this.open.forEach((_, i) => this.close(i, null, 'still open'));
    this.flushBucket();
    while (this.chart.length && this.chart[this.chart.length - 1] === null) this.chart.pop();
    for (const d of this.days) d.ratio = d.expected > 0 ? Math.min(1, d.valid / d.expected) : null;
    const expected = this.days.reduce((n, d) => n + d.expected, 0);
    const mktK = this.mkt?.kelvin() ?? null;
    return {
      received: this.received, valid: this.valid, errors: this.errors,
      min: this.min, minAt: this.minAt, max: this.max, maxAt: this.maxAt,
      mean: this.valid ? this.sum / this.valid : null,
      mkt: mktK === null ? null : fromKelvin(mktK, this.o.temperatureUnit!) ?? null,
      coveredMs: this.coveredMs, inRangeMs: this.inRangeMs,
      beyond: this.directions.map((d, i) => ({ ...d, ms: this.beyondMs[i] })),
      excursions: this.excursions.sort((a, b) => a.start - b.start),
      interruptions: this.interruptions.sort((a, b) => a.start - b.start),
      days: this.days,
      chart: this.chart, chartBucketMs: this.bucketMs,
      completeness: expected > 0 ? Math.min(1, this.valid / expected) : null,
    };
  }
}

export function analyseChannel(samples: Iterable<SampleRow>, options: AnalysisOptions): ChannelAnalysis {
  const a = new ChannelAnalyzer(options);
  for (const s of samples) a.add(s);
  return a.finish();
}
