// The rows of a CSV export, formatted where the samples are read: on SQLite that is the reader
// worker (store/sqlite/read-worker.ts), so that the thread answering devices neither formats the
// rows nor receives thousands of sample objects from the worker, only finished text. Pure: no I/O.
import type { SampleRow } from './types.ts';

export interface CsvRowOptions {
  decimalComma: boolean;
  /** IANA time zone of the second time column (checked by the caller before the download starts). */
  timeZone: string;
  /** Rows to write at most; the caller counts across calls. */
  maxRows: number;
}

/** One column pair of the export: a channel within one of its unit versions' [from, to). */
export interface CsvChannel { deviceId: number; channel: number; from: number; to: number }

export interface CsvRows {
  text: string;
  rows: number;
  /** True when rows were left out because maxRows was reached. */
  truncated: boolean;
}

/** Local wall-clock time "YYYY-MM-DD HH:mm:ss", the form Excel reads as a date and time; throws RangeError for an unknown zone. */
export function localTimeFormatter(timeZone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  return (ms) => format.format(ms);
}

export function csvText(text: string, separator: string): string {
  // a leading = + - @ would make Excel evaluate a name as a formula
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  // Quoted whenever it holds any separator a spreadsheet might split on (its locale's, not only ours),
  // a quote or a line break: `;=1+1` must not become a formula cell in a `;`-locale Excel.
  return /[",;\t\r\n]/.test(safe) || safe.includes(separator) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function sampleState(s: SampleRow): string {
  if (s.errorCode !== null) return `error ${s.errorCode}`;
  return s.alarm === 'no' ? '' : `alarm ${s.alarm}`;
}

/** One line per sample time, the channels' value and state side by side, in time order. */
export function csvRows(perChannel: SampleRow[][], options: CsvRowOptions): CsvRows {
  const sep = options.decimalComma ? ';' : ',';
  const number = (v: number) => (options.decimalComma ? String(v).replace('.', ',') : String(v));
  const localTime = localTimeFormatter(options.timeZone);
  const rows = new Map<number, (SampleRow | undefined)[]>();
  perChannel.forEach((samples, i) => {
    for (const s of samples) {
      let row = rows.get(s.time);
      // filled, not sparse: flatMap below skips the holes of a sparse array, which would shift
      // later channels' values into the columns of earlier ones
      if (!row) { row = Array.from({ length: perChannel.length }, () => undefined); rows.set(s.time, row); }
      row[i] = s;
    }
  });
  const times = [...rows.keys()].sort((a, b) => a - b);
  const lines: string[] = [];
  for (const time of times.slice(0, options.maxRows)) {
    const cells = rows.get(time)!.flatMap((s) => (s ? [s.value === null ? '' : number(s.value), sampleState(s)] : ['', '']));
    lines.push(`${new Date(time).toISOString()}${sep}${localTime(time)}${sep}${cells.join(sep)}\r\n`);
  }
  return { text: lines.join(''), rows: lines.length, truncated: times.length > options.maxRows };
}
