// Composition root: config -> store (migrated) -> pipeline -> ingest + api on one HTTP server (and the
// same handler on an HTTPS server when enabled), and the scheduled jobs beside them.
// stop() is what SIGINT/SIGTERM and the Windows service stop request call.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { InletConfig } from './config/schema.ts';
import { dataPath } from './config/load.ts';
import type { Logger } from './log.ts';
import type { Store } from './store/store.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import { SpoolingSink } from './store/spool/spooling-sink.ts';
import { StoreUnavailableError } from './store/errors.ts';
import { readAfterApply } from './store/read-after-apply.ts';
import { Backoff } from './domain/backoff.ts';
import { CHAIN_KEY_FILE, resolveChainKey, type ChainKey } from './store/chain-key.ts';
import { HEADS_FILE } from './store/heads-file.ts';
import { ensureAuditBaseline } from './store/audit-baseline.ts';
import { ensureEveryEventLinkedMarker } from './store/event-links.ts';
import { recordConfigChanges } from './store/config-audit.ts';
import { DeviceRegistry } from './pipeline/registry.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import { AlarmMonitor } from './pipeline/alarm-monitor.ts';
import { createIngestHandler } from './ingest/http-handler.ts';
import { DeviceConnections } from './ingest/device-connections.ts';
import { createSoapAdapter } from './ingest/soap/index.ts';
import { wifiAdapter } from './ingest/wifi/index.ts';
import { websensorJsonAdapter } from './ingest/websensor-json/index.ts';
import { loggerAdapter } from './ingest/logger/index.ts';
import type { ApiDeps } from './api/app.ts';
import { DEFAULT_SESSION_SETTINGS, SessionStore } from './api/sessions.ts';
import { createJobScheduler } from './jobs/index.ts';
import { verifyInWorker } from './jobs/verify-in-worker.ts';
import type { JobScheduler } from './jobs/scheduler.ts';
import { loadTlsOptions } from './tls.ts';
import { RefusalRecorder } from './pipeline/refusals.ts';
import { DiskSpaceWatch } from './jobs/disk-space.ts';
import { SqliteReadSide } from './store/sqlite/read-side.ts';
import { withReadsOnWriteThread } from './store/sqlite/write-thread-reads.ts';
import { MssqlReadSide } from './store/mssql/read-side.ts';
import { storeTarget } from './report/draw.ts';
import { hostOf } from './api/host-check.ts';
import { secureDataDir } from './config/data-dir.ts';
import { boundOldGenerationGrowth, boundYoungGeneration, collectOnceWhenNotBusy, ingestBusyByRate, MAX_NEW_SPACE_MIB, QUIET_NEW_SPACE_MIB, reduceMemoryWhenQuiet } from './memory.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Gateway {
  url: string;
  port: number;
  /** Set when the HTTPS listener is enabled. */
  httpsUrl: string | null;
  httpsPort: number | null;
  store: Store;
  pipeline: Pipeline;
  registry: DeviceRegistry;
  alarmMonitor: AlarmMonitor;
  jobs: JobScheduler;
  /** Refused uploads on their way to the bounded refusal archive. */
  refusals: RefusalRecorder;
  disk: DiskSpaceWatch;
  /** The worker that answers the viewer's reads on a connection of its own (null when a test passes its own store). */
  readSide: SqliteReadSide | MssqlReadSide | null;
  /** Resolves true once every upload acknowledged so far is applied to the store, false after timeoutMs. */
  waitApplied(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function openStore(config: InletConfig): Promise<Store> {
  if (config.store.kind === 'mssql') {
    // Loaded only for SQL Server: the driver and its Azure libraries cost tens of MB of memory on the embedded store.
    const { MssqlStore } = await import('./store/mssql/mssql-store.ts');
    return new MssqlStore({ connectionString: config.store.mssql.connectionString });
  }
  return new SqliteStore({ file: dataPath(config, config.store.sqlite.file) });
}

/**
 * Tries `prepare` until it succeeds, waiting longer after each failure; rejects only when the
 * gateway stops first. Failures other than unavailability (a migration refused) are logged as
 * errors and tried again too: the spool keeps the data meanwhile and an administrator must act.
 */
function retryUntilReady(prepare: () => Promise<void>, control: { stop: boolean; backoff: Backoff }, log: Logger): Promise<void> {
  return (async () => {
    for (let attempt = 1; ; attempt++) {
      await control.backoff.sleep();
      if (control.stop) throw new Error('stopped before the database was back');
      try {
        await prepare();
        log.info('the database answers again: devices and alarm limits loaded, replaying the spool', { attempts: attempt });
        return;
      } catch (err) {
        const level = err instanceof StoreUnavailableError ? 'warn' : 'error';
        log[level]('the database is still unavailable; spooling continues', { error: (err as Error).message, retryInMs: control.backoff.nextMs });
      }
    }
  })();
}

/** Listens, turning the usual failures into messages that name the setting to change. */
function listen(server: http.Server, port: number, host: string, setting: 'http' | 'https'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(
      err.code === 'EADDRINUSE' ? new Error(`port ${port} is already in use: stop the other program or set ${setting}.port in the config`)
        : err.code === 'EACCES' ? new Error(`no permission to listen on port ${port}: run as a service/administrator or choose a port above 1023 (${setting}.port)`)
          : err));
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function displayUrl(scheme: 'http' | 'https', host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${scheme}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

export interface StartOptions {
  /** The store to use instead of the one the config names (tests wrap one to make it fail). */
  store?: Store;
  /** Longest a viewer or job read waits for acknowledged uploads to be applied (default READ_WAITS_FOR_APPLY_MS). */
  readWaitMs?: number;
  /** The configuration file the settings came from, named in the config.changed event. */
  configFile?: string | null;
}

/** Longest a viewer or job read waits for acknowledged uploads to be applied to the store. */
const READ_WAITS_FOR_APPLY_MS = 2000;

/** First wait before trying an unreachable database again at start; doubles up to the maximum. */
const STORE_RETRY_MS = { first: 1000, max: 30_000 };
/** How often, after start, the gateway looks for a moment with ingest not busy to give start-up's young generation back. */
const START_SHRINK_CHECK_MS = 3000;

/** How often the alarm limits are re-read, for changes made by `inlet limits` while the gateway runs. */
const LIMITS_RELOAD_MS = 10_000;

export async function startGateway(config: InletConfig, log: Logger, options: StartOptions = {}): Promise<Gateway> {
  const startedAt = Date.now();
  // A fleet's steady load would otherwise grow V8's young generation to 128 MB of mostly empty memory;
  // it may grow to its larger bound only while upload bytes come fast (memory.ts).
  let uploadBytesReceived = (): number => 0;
  const ingestBusy = ingestBusyByRate(() => uploadBytesReceived());
  boundYoungGeneration(() => (ingestBusy() ? MAX_NEW_SPACE_MIB : QUIET_NEW_SPACE_MIB));
  boundOldGenerationGrowth(ingestBusy);
  // Certificate problems stop the start before anything is opened.
  const tls = config.https.enabled ? loadTlsOptions(config.https, (file) => dataPath(config, file)) : null;
  // Owner-only (0700/0600) before the database is opened: it holds entry tokens and measured data.
  secureDataDir(config.dataDir);
  const store = options.store ?? await openStore(config);
  const registry = new DeviceRegistry(store, 2000, path.join(config.dataDir, 'devices.snapshot.json'));
  const alarmMonitor = new AlarmMonitor(store, log, undefined, { sensorErrorDelayS: config.alarms.sensorErrorDelayS });
  // Uploads the database cannot take right now wait in <dataDir>/spool and are replayed when it is back.
  // Set once the ingest handler exists (below): the apply yields only while devices wait for answers.
  let uploadsInFlight = (): number => 0;
  const spool = new SpoolingSink(store, {
    dir: path.join(config.dataDir, 'spool'), log,
    yieldMaxLagMs: config.ingest.applyYieldMaxLagS * 1000,
    uploadsWaiting: () => uploadsInFlight(),
    // Readings an earlier run acknowledged into the spool, and stopped before evaluating: their alarms now.
    onEarlierRunReplayed: (batch, result) => {
      const device = batch.upload.deviceId === null ? undefined : registry.get(batch.upload.deviceId);
      if (device && result.samplesStored > 0) alarmMonitor.observe(device, batch.samples);
    },
  });
  let chainKey: ChainKey | null = null;
  const prepareStore = async () => {
    const applied = await store.migrate((m) => log.info(m));
    if (applied.length) log.info('database migrated', { applied });
    chainKey = await resolveChainKey(store, path.join(config.dataDir, CHAIN_KEY_FILE), log);
    store.useChainKey(chainKey.key);
    await ensureAuditBaseline(store);
    await ensureEveryEventLinkedMarker(store);
    await recordConfigChanges(store, config, options.configFile ?? null);
    await registry.load();
    await alarmMonitor.load();
  };
  const offline = { stop: false, backoff: new Backoff(STORE_RETRY_MS.first, STORE_RETRY_MS.max) };
  let storeReady: Promise<void> | null = null;
  try {
    await prepareStore();
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) { await store.close().catch(() => undefined); throw err; }
    // A reboot while SQL Server is being patched must not silence the devices: Web Sensors keep no
    // cache, so what they send while no gateway listens is lost. Devices known from the last run's
    // snapshot are accepted into the spool until the database answers.
    const snapshot = await registry.useSnapshot();
    if (!snapshot.devices) { await store.close().catch(() => undefined); throw err; }
    log.error('the database is unavailable at start: accepting uploads of the devices known at the last run into the local spool until it answers', {
      error: (err as Error).message, devices: snapshot.devices, snapshotOf: new Date(snapshot.savedAt ?? 0).toISOString(),
    });
    storeReady = retryUntilReady(prepareStore, offline, log);
    spool.holdUntil(storeReady, `database unavailable since start: ${(err as Error).message}`);
  }
  await spool.open();
  // Alarms are evaluated at ingest and written once their readings are applied (bounded: an outage has its own retries).
  alarmMonitor.readingsStored = () => spool.waitApplied(READ_WAITS_FOR_APPLY_MS * 15, spool.journalEnd);
  // Limits set by `inlet limits` (another process) take effect within seconds, as device changes do.
  const limitsReload = setInterval(() => { alarmMonitor.reloadLimits().catch(() => undefined); }, LIMITS_RELOAD_MS);
  limitsReload.unref();
  // People's reads (and on SQLite the refusal archive) run on a worker thread with its own SQLite
  // connection, never on this thread, which answers devices. On SQL Server the reads are asynchronous,
  // but decoding their rows and formatting exports are not: a worker with a pool of its own does them.
  const readSide = options.store ? null
    : store instanceof SqliteStore ? new SqliteReadSide(store, dataPath(config, config.store.sqlite.file))
      : config.store.kind === 'mssql' ? new MssqlReadSide(store, config.store.mssql.connectionString) : null;
  const peopleStore = readSide?.store ?? store;
  // Entry tokens the registry does not know (mostly ones nobody was given) are looked up there too
  // (SQLite: synchronous; on SQL Server the lookup is a small asynchronous query on the gateway's pool).
  if (readSide instanceof SqliteReadSide) registry.lookUpMissesOn(readSide.store);
  // Refused uploads go to the bounded refusal archive, never to the chained uploads table.
  const refusals = new RefusalRecorder(peopleStore, config.security.refusals, log);
  const pipeline = new Pipeline({ sink: spool, registry, log, throttle: config.throttle, alarms: alarmMonitor, refusals, quarantineBackfill: config.security.quarantineBackfill });
  const disk = new DiskSpaceWatch(config.dataDir, config.security.minFreeDiskMiB, store);
  const adapters = [createSoapAdapter(config.ingest.soap), wifiAdapter, websensorJsonAdapter, loggerAdapter];
  const ingest = createIngestHandler({ adapters, decider: pipeline, log });
  uploadsInFlight = () => ingest.stats.inFlight;
  uploadBytesReceived = () => ingest.stats.bodyBytes;
  // Viewer sessions kept in the store: a restart signs nobody out.
  // (SQLite: written on the reader worker's connection, never by the thread answering devices.)
  const sessions = new SessionStore(DEFAULT_SESSION_SETTINGS, Date.now, peopleStore, (message, err) => log.warn(message, { error: err.message }));
  const loadSessions = () => sessions.load().then((n) => { if (n) log.info('viewer sessions kept from before the start', { sessions: n }); });
  if (storeReady) void storeReady.then(loadSessions).catch(() => undefined);
  else await loadSessions().catch((err: Error) => log.warn('could not read the viewer sessions kept in the store: everyone signs in again', { error: err.message }));
  // Devices are answered once their upload is journaled; the viewer and the jobs read what was
  // answered, waiting for the apply (a moment normally) up to READ_WAITS_FOR_APPLY_MS, on the
  // read side's own connection (SQLite: a worker thread), never on the thread that answers devices.
  const readStore = readAfterApply(peopleStore, spool, options.readWaitMs ?? READ_WAITS_FOR_APPLY_MS);
  // The offline sweep each minute reads on the SQLite write thread, which a fleet's load keeps
  // running, rather than starting the reader worker for its few rows (write-thread-reads.ts).
  const offlineStore = readSide instanceof SqliteReadSide && store instanceof SqliteStore
    ? readAfterApply(withReadsOnWriteThread(peopleStore, store), spool, options.readWaitMs ?? READ_WAITS_FOR_APPLY_MS) : readStore;
  // The viewer's API (express and every route) is loaded on its first request: an idle gateway, or
  // one that only takes device uploads, does without its memory.
  const apiDeps: ApiDeps = { store: readStore, pipeline, registry, alarmMonitor, config, log, ingestStats: ingest.stats, spool, startedAt, version: VERSION, sessions, refusals, disk };
  let app: http.RequestListener | null = null;
  let appLoading: Promise<http.RequestListener> | null = null;
  const api: http.RequestListener = (req, res) => {
    if (app) { app(req, res); return; }
    appLoading ??= import('./api/app.ts').then((m) => (app = m.createApiApp(apiDeps) as unknown as http.RequestListener));
    appLoading.then((a) => a(req, res), (err: unknown) => {
      log.error('the viewer API could not be loaded', { error: (err as Error).message });
      res.statusCode = 500;
      res.end();
    });
  };

  const handleRequest: http.RequestListener = (req, res) => {
    if (!ingest.handle(req, res)) api(req, res);
  };
  // security.viewerHttpsOnly: devices keep plain HTTP (most cannot do TLS), monitoring keeps /health and
  // /metrics; the viewer and its passwords are only served over HTTPS, which tells browsers so (HSTS).
  const viewerHttpsOnly = config.security.viewerHttpsOnly && tls !== null;
  const handlePlainRequest: http.RequestListener = (req, res) => {
    if (ingest.handle(req, res)) return;
    const pathname = (req.url ?? '/').split('?')[0];
    if (!viewerHttpsOnly || pathname === '/health' || pathname === '/metrics') { api(req, res); return; }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const host = hostOf(req.headers.host ?? '') || '127.0.0.1';
      res.writeHead(308, { Location: `https://${host.includes(':') ? `[${host}]` : host}:${httpsPort}${req.url ?? '/'}`, 'Content-Length': 0 });
      res.end();
      return;
    }
    const body = JSON.stringify({ error: 'the viewer is served over HTTPS only (security.viewerHttpsOnly): use its https:// address' });
    res.writeHead(403, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
  };
  const handleTlsRequest: http.RequestListener = (req, res) => {
    if (ingest.handle(req, res)) return;
    if (viewerHttpsOnly) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    api(req, res);
  };
  const connectionOptions = {
    keepAliveTimeout: config.http.keepAliveTimeoutS * 1000,
    requestTimeout: config.http.requestTimeoutS * 1000,
    headersTimeout: Math.min(config.http.requestTimeoutS, 20) * 1000,
    // Node checks both timeouts only this often (default 30 s): a slowloris client trickling headers
    // or a body would otherwise hold its socket up to 30 s past the timeout.
    connectionsCheckingInterval: 1000,
  };
  const server = http.createServer(connectionOptions, viewerHttpsOnly ? handlePlainRequest : handleRequest);
  const tlsServer = tls ? https.createServer({ ...connectionOptions, ...tls.options }, viewerHttpsOnly ? handleTlsRequest : handleRequest) : null;
  const servers = tlsServer ? [server, tlsServer] : [server];
  // Plain uploads to known entry points are read and answered without node:http's request objects;
  // every other request, and its connection, is node:http's as before (device-connections.ts).
  const deviceConnections = new DeviceConnections(ingest.uploads, {
    keepAliveTimeoutMs: connectionOptions.keepAliveTimeout, headersTimeoutMs: connectionOptions.headersTimeout,
    requestTimeoutMs: connectionOptions.requestTimeout, checkIntervalMs: connectionOptions.connectionsCheckingInterval,
  });
  deviceConnections.readFrom(server, 'connection');
  if (tlsServer) deviceConnections.readFrom(tlsServer, 'secureConnection');
  let port: number;
  let httpsPort: number | null = null;
  try {
    port = await listen(server, config.http.port, config.http.host, 'http');
    if (tlsServer) httpsPort = await listen(tlsServer, config.https.port, config.https.host, 'https');
  } catch (err) {
    for (const s of servers) s.close(() => undefined);
    deviceConnections.closeAll();
    await store.close();
    throw err;
  }
  const url = displayUrl('http', config.http.host, port);
  const httpsUrl = httpsPort === null ? null : displayUrl('https', config.https.host, httpsPort);
  log.info('Inlet listening', { http: url, https: httpsUrl, store: store.kind, dataDir: config.dataDir, version: VERSION });
  if (tls) {
    const validTo = new Date(tls.certificate.validTo);
    log.info('HTTPS certificate', { subject: tls.certificate.subject, validTo: validTo.toISOString(), clientCertificates: config.https.requireClientCert ? 'required' : config.https.caFile ? 'verified when sent' : 'not requested' });
    if (validTo.getTime() < Date.now()) log.warn('the HTTPS certificate has expired: devices that check it will refuse to connect; renew it (docs/https.md)', { validTo: validTo.toISOString() });
  }
  // The nightly verification walks every chain and hashes every upload: in a worker thread of its own.
  const verifyElsewhere = readSide ? (o: Parameters<typeof verifyInWorker>[1]) => verifyInWorker(storeTarget(config), o) : undefined;
  // The registry re-reads only devices changed since it last looked (one indexed query on the
  // gateway's own connection); while it knows devices only from its snapshot, the sweep reads the store.
  const anyDevice = async () => { await registry.refresh().catch(() => undefined); return registry.offline || registry.all().length > 0; };
  const jobs = createJobScheduler({ store: readStore, offlineStore, anyDevice, config, log, chainKey: () => chainKey, headsFile: path.join(config.dataDir, HEADS_FILE), verifyElsewhere });
  jobs.start();
  disk.start();
  // The young generation start-up grew goes back at the first moment ingest is not busy (memory.ts).
  const stopStartShrink = collectOnceWhenNotBusy(ingestBusy, START_SHRINK_CHECK_MS);
  // Start-up's garbage, and a quiet gateway's spare heap, go back to the system (memory.ts).
  const stopReducingMemory = reduceMemoryWhenQuiet(() => ingest.stats.received);

  let stopping: Promise<void> | null = null;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      log.info('stopping: no new connections, draining uploads in flight, letting running jobs finish');
      offline.stop = true;
      offline.backoff.wake();
      clearInterval(limitsReload);
      stopReducingMemory();
      stopStartShrink();
      const jobsStopped = jobs.stop();
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      for (const s of servers) s.closeIdleConnections();
      deviceConnections.closeIdle();
      const deadline = Date.now() + 15_000;
      while (ingest.stats.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      // A database that is away must not keep the spool from closing: what it holds waits for the next run.
      disk.stop();
      await refusals.flush();
      await readSide?.close();
      const flushed = store.flush().catch((err: unknown) => log.warn('stopping: the database did not take the last writes', { error: (err as Error).message }));
      await Promise.all([flushed, jobsStopped, alarmMonitor.stop()]);
      for (const s of servers) s.closeAllConnections();
      deviceConnections.closeAll();
      await closed;
      await storeReady?.catch(() => undefined);
      await spool.close();
      await registry.flushSnapshot();
      await store.close();
      log.info('stopped cleanly');
    })();
    return stopping;
  }
  return { url, port, httpsUrl, httpsPort, store: readStore, waitApplied: (timeoutMs) => spool.waitApplied(timeoutMs), pipeline, registry, alarmMonitor, jobs, refusals, disk, readSide, stop };
}
