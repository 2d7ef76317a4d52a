// Samples column by column, in typed arrays: a logger backlog holds 100,000 samples, and as objects
// they cost an allocation each to build, to structured-clone to the write thread and to collect.
// Typed arrays cross to the write thread by transfer, without a copy. No I/O here.
import type { AlarmState, SampleRow } from './types.ts';

export interface SampleColumns {
  length: number;
  deviceId: Float64Array;
  channel: Float64Array;
  time: Float64Array;
  /** NaN where the sample has no value (SQLite stores a bound NaN as NULL too). */
  value: Float64Array;
  /** NaN where the sample has no error code. */
  errorCode: Float64Array;
  /** ALARM_CODES index of the alarm state. */
  alarm: Uint8Array;
}

export const ALARM_CODES: readonly AlarmState[] = ['no', 'hi', 'lo'];
const ALARM_CODE: Record<AlarmState, number> = { no: 0, hi: 1, lo: 2 };

/** Empty columns for `length` samples: two buffers in all, so a transfer list stays short. */
export function allocateSampleColumns(length: number): SampleColumns {
  const numbers = new Float64Array(length * 5);
  return {
    length,
    deviceId: numbers.subarray(0, length),
    channel: numbers.subarray(length, 2 * length),
    time: numbers.subarray(2 * length, 3 * length),
    value: numbers.subarray(3 * length, 4 * length),
    errorCode: numbers.subarray(4 * length, 5 * length),
    alarm: new Uint8Array(length),
  };
}

/** Writes one sample row at index i. */
export function setSample(cols: SampleColumns, i: number, s: SampleRow): void {
  cols.deviceId[i] = s.deviceId;
  cols.channel[i] = s.channel;
  cols.time[i] = s.time;
  cols.value[i] = s.value ?? Number.NaN;
  cols.errorCode[i] = s.errorCode ?? Number.NaN;
  cols.alarm[i] = ALARM_CODE[s.alarm];
}

/** The rows of several lists one after another, in one set of columns. */
export function packSampleRows(lists: readonly (readonly SampleRow[])[]): SampleColumns {
  let length = 0;
  for (const rows of lists) length += rows.length;
  const cols = allocateSampleColumns(length);
  let i = 0;
  for (const rows of lists) for (const s of rows) setSample(cols, i++, s);
  return cols;
}

export function valueAt(cols: SampleColumns, i: number): number | null {
  const v = cols.value[i];
  return Number.isNaN(v) ? null : v;
}

export function errorCodeAt(cols: SampleColumns, i: number): number | null {
  const e = cols.errorCode[i];
  return Number.isNaN(e) ? null : e;
}

export function sampleAt(cols: SampleColumns, i: number): SampleRow {
  return {
    deviceId: cols.deviceId[i], channel: cols.channel[i], time: cols.time[i],
    value: valueAt(cols, i), errorCode: errorCodeAt(cols, i), alarm: ALARM_CODES[cols.alarm[i]],
  };
}
