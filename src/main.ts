// Composition root: config -> store (migrated) -> pipeline -> ingest + api on one HTTP server.
// stop() is what SIGINT/SIGTERM and the Windows service stop request call.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { InletConfig } from './config/schema.ts';
import { dataPath } from './config/load.ts';
import type { Logger } from './log.ts';
import type { Store } from './store/store.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import { DeviceRegistry } from './pipeline/registry.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import { createIngestHandler } from './ingest/http-handler.ts';
import { createSoapAdapter } from './ingest/soap/index.ts';
import { wifiAdapter } from './ingest/wifi/index.ts';
import { websensorJsonAdapter } from './ingest/websensor-json/index.ts';
import { loggerAdapter } from './ingest/logger/index.ts';
import { createApiApp } from './api/app.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Gateway {
  url: string;
  port: number;
  store: Store;
  pipeline: Pipeline;
  registry: DeviceRegistry;
  stop(): Promise<void>;
}

export async function openStore(config: InletConfig): Promise<Store> {
  if (config.store.kind === 'mssql') {
    throw new Error('store.kind "mssql" is not available in this build yet; use "sqlite"');
  }
  return new SqliteStore({ file: dataPath(config, config.store.sqlite.file) });
}

export async function startGateway(config: InletConfig, log: Logger): Promise<Gateway> {
  const startedAt = Date.now();
  const store = await openStore(config);
  const applied = await store.migrate((m) => log.info(m));
  if (applied.length) log.info('database migrated', { applied });
  const registry = new DeviceRegistry(store);
  await registry.load();
  const pipeline = new Pipeline({ sink: store, registry, log, throttle: config.throttle });
  const adapters = [createSoapAdapter(config.ingest.soap), wifiAdapter, websensorJsonAdapter, loggerAdapter];
  const ingest = createIngestHandler({ adapters, decider: pipeline, log });
  const app = createApiApp({ store, pipeline, registry, config, log, ingestStats: ingest.stats, startedAt, version: VERSION });

  const server = http.createServer({
    keepAliveTimeout: config.http.keepAliveTimeoutS * 1000,
    requestTimeout: config.http.requestTimeoutS * 1000,
    headersTimeout: Math.min(config.http.requestTimeoutS, 20) * 1000,
    // Node checks both timeouts only this often (default 30 s): a slowloris client trickling headers
    // or a body would otherwise hold its socket up to 30 s past the timeout.
    connectionsCheckingInterval: 1000,
  }, (req, res) => {
    if (!ingest.handle(req, res)) app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(
      err.code === 'EADDRINUSE' ? new Error(`port ${config.http.port} is already in use: stop the other program or set http.port in the config`)
        : err.code === 'EACCES' ? new Error(`no permission to listen on port ${config.http.port}: run as a service/administrator or choose a port above 1023`)
          : err));
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info('Inlet listening', { http: url, store: store.kind, dataDir: config.dataDir, version: VERSION });

  let stopping: Promise<void> | null = null;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      log.info('stopping: no new connections, draining uploads in flight');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + 15_000;
      while (ingest.stats.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await store.flush();
      server.closeAllConnections();
      await closed;
      await store.close();
      log.info('stopped cleanly');
    })();
    return stopping;
  }
  return { url, port, store, pipeline, registry, stop };
}
