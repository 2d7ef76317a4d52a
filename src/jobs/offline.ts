// Device offline detection. A device is offline when it has been silent for more than
// `missedIntervals` of its interval (the administrator's, else the one it declares, else the
// family default; see pipeline/throttle.ts). Going offline raises one 'device.offline' alarm
// event; the first sweep that sees it back records one 'device.online'. The current state of
// each device is the latest of those two events, so a restart neither repeats nor forgets them.
import type { Device, EventRow } from '../domain/types.ts';
import { allowedIntervalS } from '../pipeline/throttle.ts';
import type { Store } from '../store/store.ts';

export interface OfflineSettings {
  /** Silence longer than this many intervals makes a device offline. */
  missedIntervals: number;
}

/** Pure: whether a device counts as silent at `now`. A device never heard from counts from its registration. */
export function isSilent(device: Device, now: number, settings: OfflineSettings): boolean {
  const intervalMs = allowedIntervalS(device.family, device.allowedIntervalS, device.declaredIntervalS) * 1000;
  return now - (device.lastSeenAt ?? device.createdAt) > settings.missedIntervals * intervalMs;
}

export class OfflineDetector {
  private readonly store: Store;
  private readonly settings: OfflineSettings;
  private readonly now: () => number;
  /** Device ids currently offline; null until read from the events on the first sweep. */
  private offline: Set<number> | null = null;

  constructor(store: Store, settings: OfflineSettings, now: () => number = Date.now) {
    this.store = store;
    this.settings = settings;
    this.now = now;
  }

  private async knownOffline(devices: Device[]): Promise<Set<number>> {
    const offline = new Set<number>();
    for (const d of devices) {
      const [down] = await this.store.events({ deviceId: d.id, type: 'device.offline', limit: 1 });
      if (!down) continue;
      const [up] = await this.store.events({ deviceId: d.id, type: 'device.online', limit: 1 });
      if (!up || up.id < down.id) offline.add(d.id);
    }
    return offline;
  }

  /** One sweep: records the changes since the last one and says what changed. */
  async sweep(): Promise<string> {
    const devices = await this.store.listDevices();
    this.offline ??= await this.knownOffline(devices);
    const at = this.now();
    const changes: EventRow[] = [];
    for (const d of devices) {
      const silent = isSilent(d, at, this.settings);
      if (silent && !this.offline.has(d.id)) {
        this.offline.add(d.id);
        const since = d.lastSeenAt ? `last heard from ${new Date(d.lastSeenAt).toISOString()}` : 'never heard from since it was registered';
        changes.push({
          at, deviceId: d.id, type: 'device.offline', level: 'alarm',
          message: `${d.name} (serial ${d.serial}) is offline: ${since}; check its power, network and entry point`,
          data: { lastSeenAt: d.lastSeenAt },
        });
      } else if (!silent && this.offline.has(d.id)) {
        this.offline.delete(d.id);
        changes.push({
          at, deviceId: d.id, type: 'device.online', level: 'info',
          message: `${d.name} (serial ${d.serial}) is back online`, data: { lastSeenAt: d.lastSeenAt },
        });
      }
    }
    for (const e of changes) await this.store.addEvent(e);
    const names = (type: string) => changes.filter((e) => e.type === type).map((e) => e.deviceId).join(', ') || 'none';
    return `${devices.length} devices, ${this.offline.size} offline; went offline: ${names('device.offline')}; back online: ${names('device.online')}`;
  }
}
