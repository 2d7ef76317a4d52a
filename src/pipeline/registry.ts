// The gateway's view of registered devices, keyed by secret entry token. Devices are changed
// by the CLI or the viewer, possibly from another process, so the cache re-reads rows whose
// updated_at moved, at most every `refreshMs`.
import type { Device } from '../domain/types.ts';
import type { Store } from '../store/store.ts';

export class DeviceRegistry {
  private readonly byToken = new Map<string, Device>();
  private readonly byId = new Map<number, Device>();
  private watermark = 0;
  private lastRefresh = 0;
  private refreshing: Promise<void> | null = null;
  private readonly store: Store;
  private readonly refreshMs: number;
  /** Called when a device row changed (admin action): runtime state such as throttling resets. */
  onChange: (device: Device) => void = () => {};

  constructor(store: Store, refreshMs = 2000) {
    this.store = store;
    this.refreshMs = refreshMs;
  }

  async load(): Promise<void> {
    for (const d of await this.store.listDevices()) this.put(d);
    this.lastRefresh = Date.now();
  }

  private put(device: Device): void {
    const old = this.byId.get(device.id);
    if (old && old.entryToken !== device.entryToken) this.byToken.delete(old.entryToken);
    this.byToken.set(device.entryToken, device);
    this.byId.set(device.id, device);
    this.watermark = Math.max(this.watermark, device.updatedAt);
    if (old && old.updatedAt !== device.updatedAt) this.onChange(device);
  }

  /** Picks up changes made elsewhere; cheap when nothing changed (one indexed query). */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          for (const d of await this.store.devicesChangedSince(this.watermark - 1)) {
            const cached = this.byId.get(d.id);
            if (!cached || cached.updatedAt !== d.updatedAt || cached.entryToken !== d.entryToken) this.put(d);
          }
          this.lastRefresh = Date.now();
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  async byEntryToken(token: string, now = Date.now()): Promise<Device | undefined> {
    if (now - this.lastRefresh > this.refreshMs) await this.refresh().catch(() => undefined);
    const cached = this.byToken.get(token);
    if (cached) return cached;
    const found = await this.store.findDeviceByToken(token);
    if (found) this.put(found);
    return found;
  }

  get(id: number): Device | undefined { return this.byId.get(id); }

  /** The pipeline's own change (suspension) applied without waiting for a refresh. */
  update(id: number, patch: Partial<Device>): void {
    const d = this.byId.get(id);
    if (d) { const next = { ...d, ...patch }; this.byId.set(id, next); this.byToken.set(next.entryToken, next); }
  }

  all(): Device[] { return [...this.byId.values()]; }
}
