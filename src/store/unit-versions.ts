// Units never change history (issue 18): a channel's samples are shown, exported and reported in the
// unit that was valid at their time (channel_units, migration 019), not in the channel's current unit.
// A channel whose unit changed inside the asked range becomes one segment per unit version: its own
// series, table column, CSV column and report row, labelled with when the unit was valid. Values are
// never converted.
import type { Channel, Device } from '../domain/types.ts';
import type { SeriesPoint, Store } from './store.ts';

const HOUR = 3_600_000;

export interface ChannelRefLike { device: Device; channel: Channel }

/** One unit version of a channel, clipped to the asked range. */
export interface UnitSegment<R extends ChannelRefLike = ChannelRefLike> {
  ref: R;
  quantity: string;
  unit: string;
  /** The part of the asked range this unit covers. */
  from: number;
  to: number;
  /** When this unit began, if inside the asked range (null: it was valid before the range began). */
  unitFrom: number | null;
  /** When the next unit began, if inside the asked range (null: still valid at the range's end). */
  unitUntil: number | null;
}

type UnitVersion = { channel: number; validFrom: number; quantity: string; unit: string };

/**
 * Splits each channel at the unit changes inside [from, to). The first version of a channel holds
 * from the beginning (samples a logger sends from before its registration were in that unit too).
 */
export async function unitSegments<R extends ChannelRefLike>(store: Pick<Store, 'channelUnits'>, refs: R[], from: number, to: number): Promise<UnitSegment<R>[]> {
  const byDevice = new Map<number, UnitVersion[]>();
  for (const deviceId of new Set(refs.map((r) => r.device.id))) byDevice.set(deviceId, await store.channelUnits(deviceId));
  return refs.flatMap((ref) => segmentsOf(ref, (byDevice.get(ref.device.id) ?? []).filter((v) => v.channel === ref.channel.channel), from, to));
}

export function segmentsOf<R extends ChannelRefLike>(ref: R, versions: UnitVersion[], from: number, to: number): UnitSegment<R>[] {
  const sorted = [...versions].sort((a, b) => a.validFrom - b.validFrom);
  if (!sorted.length) return [{ ref, quantity: ref.channel.quantity, unit: ref.channel.unit, from, to, unitFrom: null, unitUntil: null }];
  const segments: UnitSegment<R>[] = [];
  sorted.forEach((v, i) => {
    const start = i === 0 ? -Infinity : v.validFrom;
    const end = i + 1 < sorted.length ? sorted[i + 1].validFrom : Infinity;
    if (end <= from || start >= to || end <= start) return;
    segments.push({
      ref, quantity: v.quantity, unit: v.unit, from: Math.max(from, start), to: Math.min(to, end),
      unitFrom: start > from ? start : null, unitUntil: end < to ? end : null,
    });
  });
  // Neighbouring versions with the same unit (a confirmation that changed nothing) are one segment.
  return segments.reduce<UnitSegment<R>[]>((out, s) => {
    const last = out[out.length - 1];
    if (last && last.unit === s.unit && last.quantity === s.quantity) { last.to = s.to; last.unitUntil = s.unitUntil; } else out.push(s);
    return out;
  }, []);
}

/** Whether the channel of this segment has other segments in the range (its unit changed inside it). */
export const splitByUnit = (s: Pick<UnitSegment, 'unitFrom' | 'unitUntil'>) => s.unitFrom !== null || s.unitUntil !== null;

/** "from 2026-03-01 10:00 UTC", "until …", "from … until …" for a split segment; '' otherwise. */
export function validityText(s: Pick<UnitSegment, 'unitFrom' | 'unitUntil'>, format: (ms: number) => string = utcMinute): string {
  const parts = [...(s.unitFrom !== null ? [`from ${format(s.unitFrom)}`] : []), ...(s.unitUntil !== null ? [`until ${format(s.unitUntil)}`] : [])];
  return parts.join(' ');
}

const utcMinute = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * A bucketed series of one segment. Buckets of whole hours are read from the hourly rollup, which
 * knows no units: the hour in which the unit changed holds samples in both units, so the segment's
 * share of that hour is computed from its own samples instead and merged into its bucket.
 */
export async function segmentSeries(store: Pick<Store, 'series' | 'samples'>, deviceId: number, channel: number, seg: Pick<UnitSegment, 'from' | 'to' | 'unitFrom' | 'unitUntil'>, bucketMs: number): Promise<SeriesPoint[]> {
  if (bucketMs % HOUR !== 0 || !splitByUnit(seg)) return store.series({ deviceId, channel, from: seg.from, to: seg.to, bucketMs });
  const innerFrom = seg.unitFrom !== null && seg.unitFrom % HOUR !== 0 ? seg.unitFrom - (seg.unitFrom % HOUR) + HOUR : seg.from;
  const innerTo = seg.unitUntil !== null && seg.unitUntil % HOUR !== 0 ? seg.unitUntil - (seg.unitUntil % HOUR) : seg.to;
  const inner = innerFrom < innerTo ? await store.series({ deviceId, channel, from: innerFrom, to: innerTo, bucketMs }) : [];
  const edges = [
    ...(innerFrom > seg.from ? await store.samples(deviceId, channel, seg.from, Math.min(innerFrom, seg.to), 1_000_000) : []),
    ...(innerTo < seg.to && innerTo >= innerFrom ? await store.samples(deviceId, channel, Math.max(innerTo, seg.from), seg.to, 1_000_000) : []),
  ];
  const buckets = new Map(inner.map((p) => [p.time, { ...p }]));
  for (const s of edges) {
    const time = s.time - (s.time % bucketMs);
    const p = buckets.get(time) ?? { time, min: null, max: null, avg: null, count: 0, errors: 0 };
    const valued = p.count - p.errors;
    if (s.value !== null && s.errorCode === null) {
      p.min = p.min === null ? s.value : Math.min(p.min, s.value);
      p.max = p.max === null ? s.value : Math.max(p.max, s.value);
      p.avg = ((p.avg ?? 0) * valued + s.value) / (valued + 1);
    }
    p.count++;
    if (s.errorCode !== null) p.errors++;
    buckets.set(time, p);
  }
  return [...buckets.values()].sort((a, b) => a.time - b.time);
}
