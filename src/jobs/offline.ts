// Device offline detection. A device is offline when it has been silent for more than
// `missedIntervals` of its interval (the administrator's, else the one it declares, else the
// family default; see pipeline/throttle.ts). Going offline raises a system alarm of kind 'offline'
// bound to the device (acknowledged in the viewer like a limit alarm, mailed by the notify job) and
// writes a 'device.offline' event; the first sweep that sees the device back clears that alarm and
// writes 'device.online'. Each sweep reads the uncleared offline alarms from the store, so a restart
// neither raises an open one again nor forgets to clear it; the store keeps at most one per device.
import type { DeviceLiveness } from '../domain/types.ts';
import { allowedIntervalS } from '../pipeline/throttle.ts';
import type { Store } from '../store/store.ts';

export interface OfflineSettings {
  /** Silence longer than this many intervals makes a device offline. */
  missedIntervals: number;
}

type OfflineStore = Pick<Store, 'deviceLiveness' | 'getDevice' | 'alarms' | 'raiseAlarm' | 'clearAlarm' | 'addEvent'> & Partial<Pick<Store, 'retirements'>>;

/** Pure: whether a device counts as silent at `now`. A device never heard from counts from its registration. */
export function isSilent(device: DeviceLiveness, now: number, settings: OfflineSettings): boolean {
  const intervalMs = allowedIntervalS(device.family, device.allowedIntervalS, device.declaredIntervalS) * 1000;
  return now - (device.lastSeenAt ?? device.createdAt) > settings.missedIntervals * intervalMs;
}

export class OfflineDetector {
  private readonly store: OfflineStore;
  private readonly settings: OfflineSettings;
  private readonly now: () => number;

  /**
   * Whether any device is registered, asked first where that is cheap (the gateway's device
   * registry): with none, a sweep has nothing to look at, and an idle gateway does not start its
   * reader thread each minute to learn that. Absent: every sweep reads the store.
   */
  private readonly anyDevice: (() => Promise<boolean>) | null;

  constructor(store: OfflineStore, settings: OfflineSettings, now: () => number = Date.now, anyDevice: (() => Promise<boolean>) | null = null) {
    this.store = store;
    this.settings = settings;
    this.now = now;
    this.anyDevice = anyDevice;
  }

  /** One sweep: raises and clears what changed since the last one and says what changed. */
  async sweep(): Promise<string> {
    // Devices are never deleted (retired at most), and an offline alarm belongs to a device: with no
    // device there is neither one to raise nor one to clear.
    if (this.anyDevice && !(await this.anyDevice())) return '0 devices, 0 offline; went offline: none; back online: none';
    // A few numbers per device: the full rows (names, tokens' hashes...) are read only for a device whose state changes.
    const devices = await this.store.deviceLiveness();
    const open = new Map((await this.store.alarms({ kind: 'offline', uncleared: true, limit: 10_000 }))
      .map((a) => [a.deviceId!, a]));
    const retired = new Set((await this.store.retirements?.() ?? []).map((r) => r.deviceId));
    const at = this.now();
    const wentOffline: number[] = [];
    const cameBack: number[] = [];
    for (const d of devices) {
      const alarm = open.get(d.id);
      // a retired device is out of use: it goes silent on purpose
      if (retired.has(d.id)) {
        if (alarm) await this.store.clearAlarm(alarm.id, at, null);
        continue;
      }
      const silent = isSilent(d, at, this.settings);
      if (silent && !alarm) {
        const { name, serial } = await this.describe(d.id);
        // labelled UTC: the server does not know the reader's zone, and a bare ISO time reads as local next to the viewer's times
        const since = d.lastSeenAt ? `last heard from ${new Date(d.lastSeenAt).toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'never heard from since it was registered';
        const message = `${name} (serial ${serial}) is offline: ${since}; check its power, network and entry point`;
        const raised = await this.store.raiseAlarm({
          deviceId: d.id, channel: null, source: 'system', kind: 'offline', level: 'alarm', direction: null, raisedAt: at, value: null, message,
        });
        await this.store.addEvent({ at, deviceId: d.id, type: 'device.offline', level: 'alarm', message, data: { lastSeenAt: d.lastSeenAt, alarmId: raised.id } });
        open.set(d.id, raised);
        wentOffline.push(d.id);
      } else if (!silent && alarm) {
        const { name, serial } = await this.describe(d.id);
        await this.store.clearAlarm(alarm.id, at, null);
        await this.store.addEvent({
          at, deviceId: d.id, type: 'device.online', level: 'info',
          message: `${name} (serial ${serial}) is back online`, data: { lastSeenAt: d.lastSeenAt, alarmId: alarm.id },
        });
        open.delete(d.id);
        cameBack.push(d.id);
      }
    }
    const names = (ids: number[]) => ids.join(', ') || 'none';
    return `${devices.length} devices, ${open.size} offline; went offline: ${names(wentOffline)}; back online: ${names(cameBack)}`;
  }

  /** A device's name and serial for an alarm's text (devices are never deleted). */
  private async describe(id: number): Promise<{ name: string; serial: string }> {
    const device = await this.store.getDevice(id);
    return { name: device?.name ?? `device #${id}`, serial: device?.serial ?? 'unknown' };
  }
}
