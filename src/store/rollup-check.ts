// Recomputing the hourly rollup from the samples (verification): which devices one run covers.
// A nightly run checks a rolling share of the devices (device id modulo `of` equal to `part`, with
// `part` advancing each night); `inlet verify --rollup full` checks all of them.
import type { RollupMismatch } from './store.ts';

export function rollupShareSql(share: { part: number; of: number } | null): { where: (column: string) => string; values: number[] } {
  if (!share || share.of <= 1) return { where: () => '1 = 1', values: [] };
  return { where: (column) => `${column} % ? = ?`, values: [share.of, share.part] };
}

type Figures = [number | null, number | null, number | null, number | null, number | null, number | null];

function describe(f: Figures): string {
  if (f.every((v) => v === null)) return 'nothing';
  const [min, max, sum, valued, samples, errors] = f;
  return `min ${min}, max ${max}, sum ${sum === null ? null : Number(sum.toPrecision(12))}, ${valued} values, ${samples} samples, ${errors} errors`;
}

/** A mismatch row as both adapters select it: stored figures s_*, recomputed r_*. */
export function toRollupMismatch(r: Record<string, unknown>): RollupMismatch {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const hour = r.hour_start instanceof Date ? r.hour_start.getTime() : Number(r.hour_start);
  return {
    deviceId: Number(r.device_id), channel: Number(r.channel), hourStart: hour,
    stored: describe([n(r.s_min), n(r.s_max), n(r.s_sum), n(r.s_vc), n(r.s_sc), n(r.s_ec)]),
    recomputed: describe([n(r.r_min), n(r.r_max), n(r.r_sum), n(r.r_vc), n(r.r_sc), n(r.r_ec)]),
  };
}
