// The HTTP API beside ingest: health and metrics for IT now; the viewer's API mounts here too.
import express, { type Express } from 'express';
import type { Store } from '../store/store.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import type { IngestStats } from '../ingest/http-handler.ts';

export interface ApiDeps {
  store: Store;
  pipeline: Pipeline;
  ingestStats: IngestStats;
  startedAt: number;
  version: string;
}

export function healthReport(deps: ApiDeps) {
  const store = deps.store.health();
  return {
    status: store.ok ? 'ok' : 'degraded',
    version: deps.version,
    uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
    store: { kind: deps.store.kind, ...store },
    ingest: { ...deps.ingestStats },
    uploads: { ...deps.pipeline.counters },
  };
}

export function prometheusMetrics(deps: ApiDeps): string {
  const h = healthReport(deps);
  const c = h.uploads;
  const lines = [
    '# HELP inlet_uploads_total Device uploads by verdict.',
    '# TYPE inlet_uploads_total counter',
    ...(['accepted', 'duplicate', 'refused', 'quarantined'] as const).map((v) => `inlet_uploads_total{verdict="${v}"} ${c[v]}`),
    '# HELP inlet_samples_stored_total Samples newly stored.',
    '# TYPE inlet_samples_stored_total counter',
    `inlet_samples_stored_total ${c.samplesStored}`,
    '# HELP inlet_suspensions_total Devices suspended for sending faster than allowed.',
    '# TYPE inlet_suspensions_total counter',
    `inlet_suspensions_total ${c.suspensions}`,
    '# HELP inlet_ingest_in_flight Uploads being received or stored now.',
    '# TYPE inlet_ingest_in_flight gauge',
    `inlet_ingest_in_flight ${h.ingest.inFlight}`,
    '# HELP inlet_store_up 1 when the store accepts writes.',
    '# TYPE inlet_store_up gauge',
    `inlet_store_up ${h.store.ok ? 1 : 0}`,
    '# HELP inlet_store_commit_seconds Duration of the last group commit.',
    '# TYPE inlet_store_commit_seconds gauge',
    `inlet_store_commit_seconds ${((h.store.commitLatencyMs ?? 0) / 1000).toFixed(6)}`,
    '# HELP inlet_store_pending_batches Uploads waiting for the next group commit.',
    '# TYPE inlet_store_pending_batches gauge',
    `inlet_store_pending_batches ${h.store.pendingBatches}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    const report = healthReport(deps);
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(prometheusMetrics(deps));
  });
  app.use((_req, res) => { res.status(404).json({ error: 'not found' }); });
  return app;
}
