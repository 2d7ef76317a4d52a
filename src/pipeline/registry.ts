// The gateway's view of registered devices, keyed by the SHA-256 of their secret entry token. Devices are changed
// by the CLI or the viewer, possibly from another process, so the cache re-reads rows whose
// updated_at moved, at most every `refreshMs`.
//
// A snapshot of the devices is kept in a local file so that a gateway started while its database
// is unreachable (SQL Server being patched when the server reboots) can still recognise its devices
// and spool their uploads. Entry tokens are secrets: the store and the snapshot hold only their SHA-256.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Device } from '../domain/types.ts';
import { entryTokenSha256 } from '../domain/entry-token.ts';
import type { Store } from '../store/store.ts';
import { channelKind } from './channel-kind.ts';

type SnapshotDevice = Device;
interface Snapshot { savedAt: number; devices: SnapshotDevice[] }

/** How long after a change the snapshot is written: changes come in bursts (a refresh, an import). */
const SNAPSHOT_DELAY_MS = 500;

export class DeviceRegistry {
  /** By the SHA-256 of the entry token (Device.entryTokenSha256). */
  private readonly byTokenHash = new Map<string, Device>();
  private readonly byId = new Map<number, Device>();
  private watermark = 0;
  private lastRefresh = 0;
  private refreshing: Promise<void> | null = null;
  private readonly store: Store;
  private readonly refreshMs: number;
  private readonly snapshotFile: string | null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private snapshotWrite: Promise<void> = Promise.resolve();
  /** Devices from the snapshot by token hash, while the store has not been read (offline start). */
  private fromSnapshot: Map<string, SnapshotDevice> | null = null;
  /**
   * Where a token the cache does not know is looked up (a device registered since the last refresh,
   * or, far more often, a token nobody was given): by default the store; the gateway points it at its
   * read side, so that no unauthenticated request runs a query on the thread answering devices.
   */
  private missLookup: Pick<Store, 'findDeviceByToken'>;
  /** Called when a device row changed (admin action): runtime state such as throttling resets. */
  onChange: (device: Device) => void = () => {};
  /** Each device's channels as registered (quantity, canonical unit), read once per device and dropped when it changes. */
  private readonly channelCache = new Map<number, Map<number, { quantity: string; unit: string }>>();
  /**
   * The hash of each entry token that led to a device, by the token: a registered device's every upload
   * would otherwise hash its token again. Only tokens of devices found are kept (never a stranger's),
   * so it holds about one entry per device; a token that no longer leads anywhere is dropped on use.
   */
  private readonly knownTokenHashes = new Map<string, string>();

  constructor(store: Store, refreshMs = 2000, snapshotFile: string | null = null) {
    this.store = store;
    this.missLookup = store;
    this.refreshMs = refreshMs;
    this.snapshotFile = snapshotFile;
  }

  /** Looks up tokens the cache does not know on `lookup` (the gateway's read side) instead of the store. */
  lookUpMissesOn(lookup: Pick<Store, 'findDeviceByToken'>): void { this.missLookup = lookup; }

  async load(): Promise<void> {
    for (const d of await this.store.listDevices()) this.put(d);
    this.lastRefresh = Date.now();
    this.fromSnapshot = null;
    this.saveSnapshotSoon();
  }

  /** True while devices are known only from the snapshot (the store has not answered since start). */
  get offline(): boolean { return this.fromSnapshot !== null; }

  /**
   * Starts from the snapshot instead of the store; load() later replaces it. Resolves with the
   * number of devices found, 0 when there is no snapshot (a first start: nothing to recognise).
   */
  async useSnapshot(): Promise<{ devices: number; savedAt: number | null }> {
    if (!this.snapshotFile) return { devices: 0, savedAt: null };
    let snapshot: Snapshot;
    try {
      snapshot = JSON.parse(await readFile(this.snapshotFile, 'utf8')) as Snapshot;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { devices: 0, savedAt: null };
      throw new Error(`the device snapshot ${this.snapshotFile} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    this.fromSnapshot = new Map(snapshot.devices.map((d) => [d.entryTokenSha256, d]));
    return { devices: snapshot.devices.length, savedAt: snapshot.savedAt };
  }

  private saveSnapshotSoon(): void {
    if (!this.snapshotFile || this.fromSnapshot || this.snapshotTimer) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      this.snapshotWrite = this.snapshotWrite.then(() => this.writeSnapshot()).catch(() => undefined);
    }, SNAPSHOT_DELAY_MS);
    this.snapshotTimer.unref();
  }

  private async writeSnapshot(): Promise<void> {
    const file = this.snapshotFile!;
    const devices: SnapshotDevice[] = [...this.byId.values()];
    // Written aside and renamed, so a crash never leaves half a snapshot.
    await writeFile(`${file}.tmp`, JSON.stringify({ savedAt: Date.now(), devices } satisfies Snapshot), { flush: true });
    await rename(`${file}.tmp`, file);
  }

  /** Writes a pending snapshot now (at stop). */
  async flushSnapshot(): Promise<void> {
    if (this.snapshotTimer) {
      clearTimeout(this.snapshotTimer);
      this.snapshotTimer = null;
      this.snapshotWrite = this.snapshotWrite.then(() => this.writeSnapshot()).catch(() => undefined);
    }
    await this.snapshotWrite;
  }

  private put(device: Device): void {
    const old = this.byId.get(device.id);
    if (old && old.entryTokenSha256 !== device.entryTokenSha256) this.byTokenHash.delete(old.entryTokenSha256);
    this.byTokenHash.set(device.entryTokenSha256, device);
    this.byId.set(device.id, device);
    this.watermark = Math.max(this.watermark, device.updatedAt);
    if (old && old.updatedAt !== device.updatedAt) { this.channelCache.delete(device.id); this.onChange(device); }
    if (!old || old.updatedAt !== device.updatedAt || old.entryTokenSha256 !== device.entryTokenSha256) this.saveSnapshotSoon();
  }

  /** Picks up changes made elsewhere; cheap when nothing changed (one indexed query). */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          for (const d of await this.store.devicesChangedSince(this.watermark - 1)) {
            const cached = this.byId.get(d.id);
            if (!cached || cached.updatedAt !== d.updatedAt || cached.entryTokenSha256 !== d.entryTokenSha256) this.put(d);
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
    const known = this.knownByEntryToken(token, now);
    if (known) return known;
    const hash = entryTokenSha256(token);
    if (this.fromSnapshot) return this.rememberToken(token, hash, this.fromSnapshot.get(hash));
    if (now - this.lastRefresh > this.refreshMs) await this.refresh().catch(() => undefined);
    const cached = this.byTokenHash.get(hash);
    if (cached) return this.rememberToken(token, hash, cached);
    const found = await this.missLookup.findDeviceByToken(token);
    if (found) this.put(found);
    return this.rememberToken(token, hash, found);
  }

  /**
   * The device of a token this registry has already matched, at once (no hash, no promise: the path of
   * every upload of a registered device); undefined when that needs byEntryToken: a token not seen
   * before, a device since changed or removed, or a refresh due.
   */
  knownByEntryToken(token: string, now = Date.now()): Device | undefined {
    const hash = this.knownTokenHashes.get(token);
    if (hash === undefined) return undefined;
    if (this.fromSnapshot) return this.fromSnapshot.get(hash);
    if (now - this.lastRefresh > this.refreshMs) return undefined;
    const device = this.byTokenHash.get(hash);
    if (!device) this.knownTokenHashes.delete(token);
    return device;
  }

  private rememberToken(token: string, hash: string, device: Device | undefined): Device | undefined {
    if (device) {
      // Rotated tokens leave entries behind; past twice the fleet they are dropped wholesale.
      if (this.knownTokenHashes.size > 2 * Math.max(this.byId.size, this.fromSnapshot?.size ?? 0) + 64) this.knownTokenHashes.clear();
      this.knownTokenHashes.set(token, hash);
    }
    return device;
  }

  get(id: number): Device | undefined { return this.byId.get(id); }

  /** The pipeline's own change (suspension) applied without waiting for a refresh. */
  update(id: number, patch: Partial<Device>): void {
    const d = this.byId.get(id);
    if (d) { const next = { ...d, ...patch }; this.byId.set(id, next); this.byTokenHash.set(next.entryTokenSha256, next); this.saveSnapshotSoon(); }
    else if (this.fromSnapshot) {
      // Offline: keep the pipeline's own change (a suspension) for the rest of this run.
      for (const [hash, s] of this.fromSnapshot) if (s.id === id) this.fromSnapshot.set(hash, { ...s, ...patch });
    }
  }

  all(): Device[] { return [...this.byId.values()]; }

  /**
   * The device's registered channels, to compare an upload's units with (units never change history:
   * a different unit is held back until an administrator confirms it). null while the store is away:
   * the check then waits for the store, and the journal keeps the upload meanwhile.
   */
  /** registeredChannels when they are already read (no promise), else undefined. */
  knownRegisteredChannels(deviceId: number): Map<number, { quantity: string; unit: string }> | undefined {
    return this.channelCache.get(deviceId);
  }

  async registeredChannels(deviceId: number): Promise<Map<number, { quantity: string; unit: string }> | null> {
    const cached = this.channelCache.get(deviceId);
    if (cached) return cached;
    try {
      // Only channels that hold data: the channels a device is registered with are its model's guess,
      // which its first upload corrects (a sensor set to °F) without anything to hold back.
      const [channels_, latest] = await Promise.all([this.store.listChannels(deviceId), this.store.latestValues(deviceId)]);
      const withData = new Set(latest.map((v) => v.channel));
      const channels = new Map(channels_.filter((c) => withData.has(c.channel)).map((c) => [c.channel, channelKind(c.quantity, c.unit)]));
      this.channelCache.set(deviceId, channels);
      return channels;
    } catch {
      return null;
    }
  }

  /** Channels the pipeline just stored for the first time, so that the cache stays in step without a read. */
  noteChannels(deviceId: number, channels: { channel: number; quantity: string; unit: string }[]): void {
    const cached = this.channelCache.get(deviceId);
    if (cached) for (const c of channels) if (!cached.has(c.channel)) cached.set(c.channel, channelKind(c.quantity, c.unit));
  }

  /** After an administrator confirmed a unit change. */
  forgetChannels(deviceId: number): void { this.channelCache.delete(deviceId); }
}
