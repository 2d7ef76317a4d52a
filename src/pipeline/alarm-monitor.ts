// Applies the alarm limits (rules in alarm-rules.ts) to every reading the pipeline stores and
// records the alarms it raises and clears. Evaluation is synchronous and in arrival order; the
// store writes queue behind one another, so a clear is never written before its raise.
import type { AlarmLimit, Device, SampleRow } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { evaluateReading, initialLimitState, type AlarmTransition, type LimitState } from './alarm-rules.ts';
import type { PipelineLogger } from './pipeline.ts';

type AlarmStore = Pick<Store, 'alarmLimits' | 'alarms' | 'raiseAlarm' | 'clearAlarm'>;

interface Watched {
  limit: AlarmLimit;
  state: LimitState;
  /** Id of the raised, uncleared alarm; set once its raise is written. */
  alarmId: number | null;
}

const key = (deviceId: number, channel: number, level: string) => `${deviceId}:${channel}:${level}`;

export class AlarmMonitor {
  private readonly store: AlarmStore;
  private readonly log: PipelineLogger;
  private watched = new Map<string, Watched>();
  private byChannel = new Map<string, Watched[]>();
  private writes: Promise<void> = Promise.resolve();

  constructor(store: AlarmStore, log: PipelineLogger) {
    this.store = store;
    this.log = log;
  }

  /** Reads the limits and picks up limit alarms still raised (not cleared) from before a restart. */
  async load(): Promise<void> {
    await this.reloadLimits();
    for (const alarm of await this.store.alarms({ open: true, limit: 10_000 })) {
      if (alarm.source !== 'limit' || alarm.clearedAt !== null || alarm.deviceId === null || alarm.channel === null) continue;
      const w = this.watched.get(key(alarm.deviceId, alarm.channel, alarm.level));
      if (w && w.alarmId === null) { w.state = initialLimitState(alarm.direction); w.alarmId = alarm.id; }
    }
  }

  /** After an administrator changed limits: unchanged limits keep their state, changed ones start afresh. */
  async reloadLimits(): Promise<void> {
    const watched = new Map<string, Watched>();
    const byChannel = new Map<string, Watched[]>();
    for (const limit of await this.store.alarmLimits()) {
      const k = key(limit.deviceId, limit.channel, limit.level);
      const old = this.watched.get(k);
      const same = old && JSON.stringify(old.limit) === JSON.stringify(limit);
      const w: Watched = same ? old : { limit, state: initialLimitState(old?.state.raised ?? null), alarmId: old?.alarmId ?? null };
      watched.set(k, w);
      const ck = `${limit.deviceId}:${limit.channel}`;
      byChannel.set(ck, [...(byChannel.get(ck) ?? []), w]);
    }
    // a limit removed while its alarm is raised: nothing could ever clear that alarm otherwise
    for (const [k, old] of this.watched) {
      const alarmId = old.alarmId;
      if (!watched.has(k) && alarmId !== null) this.enqueue(async () => { await this.store.clearAlarm(alarmId, Date.now(), null); });
    }
    this.watched = watched;
    this.byChannel = byChannel;
  }

  /** Evaluates stored readings of one device; the resulting alarms are written in the background. */
  observe(device: Device, samples: SampleRow[]): void {
    for (const sample of [...samples].sort((a, b) => a.time - b.time)) {
      for (const w of this.byChannel.get(`${device.id}:${sample.channel}`) ?? []) {
        const { state, transitions } = evaluateReading(w.limit, w.state, sample);
        w.state = state;
        for (const t of transitions) this.enqueue(() => this.record(device, w, t));
      }
    }
  }

  private async record(device: Device, w: Watched, t: AlarmTransition): Promise<void> {
    const { limit } = w;
    if (t.kind === 'clear') {
      if (w.alarmId !== null) await this.store.clearAlarm(w.alarmId, t.at, t.value);
      w.alarmId = null;
      return;
    }
    const alarm = await this.store.raiseAlarm({
      deviceId: device.id, channel: limit.channel, source: 'limit', level: limit.level, direction: t.direction, raisedAt: t.at, value: t.value,
      message: `${device.name} (serial ${device.serial}) channel ${limit.channel}: ${t.value} is ${t.direction === 'high' ? 'above' : 'below'} ` +
        `the ${limit.level} ${t.direction} limit ${t.limit}${limit.delayS ? ` for ${limit.delayS} s` : ''}`,
    });
    w.alarmId = alarm.id;
  }

  private enqueue(write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((err: Error) => this.log.error('could not record an alarm', { error: err.message }));
  }

  /** Resolves once every alarm evaluated so far is written. */
  idle(): Promise<void> {
    return this.writes;
  }
}
