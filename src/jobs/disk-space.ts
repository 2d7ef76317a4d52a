// Free space in the data folder's file system, watched so that nobody learns of a full disk from lost
// readings: below security.minFreeDiskMiB a system alarm is raised (once, cleared when space is back)
// and /health carries a warning.
import { statfs } from 'node:fs/promises';
import type { Store } from '../store/store.ts';

/** How the disk alarm is recognised after a restart (system alarms of no device have no kind for it). */
export const LOW_DISK_PREFIX = 'Low disk space';

export interface DiskReading { freeMiB: number; minFreeMiB: number; low: boolean; checkedAt: number }

type DiskStore = Pick<Store, 'alarms' | 'raiseAlarm' | 'clearAlarm' | 'addEvent'>;

export class DiskSpaceWatch {
  last: DiskReading | null = null;
  private readonly dir: string;
  private readonly minFreeMiB: number;
  private readonly store: DiskStore;
  private readonly freeBytes: (dir: string) => Promise<number>;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<DiskReading> | null = null;

  constructor(dir: string, minFreeMiB: number, store: DiskStore, freeBytes?: (dir: string) => Promise<number>) {
    this.dir = dir;
    this.minFreeMiB = minFreeMiB;
    this.store = store;
    this.freeBytes = freeBytes ?? (async (d) => { const s = await statfs(d); return s.bavail * s.bsize; });
  }

  start(everyMs = 30_000): void {
    this.check().catch(() => undefined);
    this.timer = setInterval(() => { this.check().catch(() => undefined); }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A warning for /health, or null. */
  warning(): string | null {
    const r = this.last;
    return r?.low ? `${LOW_DISK_PREFIX}: ${r.freeMiB} MiB free in the data folder, below the ${r.minFreeMiB} MiB watermark (security.minFreeDiskMiB)` : null;
  }

  check(at = Date.now()): Promise<DiskReading> {
    this.checking ??= (async () => {
      try {
        const freeMiB = Math.floor((await this.freeBytes(this.dir)) / 1_048_576);
        const reading = { freeMiB, minFreeMiB: this.minFreeMiB, low: freeMiB < this.minFreeMiB, checkedAt: at };
        this.last = reading;
        const open = (await this.store.alarms({ uncleared: true, limit: 1000 }))
          .find((a) => a.source === 'system' && a.deviceId === null && a.kind === null && a.message.startsWith(LOW_DISK_PREFIX));
        if (reading.low && !open) {
          const message = `${this.warning()}: free space or move the data folder, or devices' readings will be lost`;
          const alarm = await this.store.raiseAlarm({
            deviceId: null, channel: null, source: 'system', kind: null, level: 'alarm', direction: null, raisedAt: at, value: freeMiB, message,
          });
          await this.store.addEvent({ at, deviceId: null, type: 'disk.low', level: 'alarm', message, data: { freeMiB, minFreeMiB: this.minFreeMiB, alarmId: alarm.id } });
        } else if (!reading.low && open) {
          await this.store.clearAlarm(open.id, at, freeMiB);
          await this.store.addEvent({ at, deviceId: null, type: 'disk.ok', level: 'info', message: `Disk space back above the watermark: ${freeMiB} MiB free`, data: { freeMiB, alarmId: open.id } });
        }
        return reading;
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }
}
