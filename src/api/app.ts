// The HTTP API beside ingest: health and metrics for IT, the viewer's JSON API under /api
// (every route signed in, roles checked here, not only in the pages), and the viewer itself.
import express, { type Express } from 'express';
import type { InletConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import type { AlarmMonitor } from '../pipeline/alarm-monitor.ts';
import type { DeviceRegistry } from '../pipeline/registry.ts';
import type { SpoolGauge } from '../store/spool/spooling-sink.ts';
import type { IngestStats } from '../ingest/http-handler.ts';
import type { RefusalRecorder } from '../pipeline/refusals.ts';
import type { DiskSpaceWatch } from '../jobs/disk-space.ts';
import { alarmsRouter } from './alarms.ts';
import { auditRouter } from './audit.ts';
import { PasswordChangeRequired, authenticate, csrfGuard, requireGlobalRole, requirePasswordChanged, sessionRouter } from './auth.ts';
import { setPasswordHashConcurrency } from './passwords.ts';
import { DEFAULT_SLOW_DOWN, SignInGuard } from './sign-in-guard.ts';
import { hostAllowList } from './host-check.ts';
import { readJsonBody } from '../ingest/common/json-body.ts';
import { dataRouter } from './data.ts';
import { devicesRouter } from './devices.ts';
import { HttpError, errorHandler, type ErrorLogger } from './http.ts';
import { liveRouter } from './live.ts';
import { SessionStore } from './sessions.ts';
import { usersRouter } from './users.ts';
import { reportsRouter } from './reports.ts';
import { viewerStatic } from './viewer-static.ts';
import { scopeGuard } from './scope.ts';
import { zonesRouter } from './zones.ts';
import { DirectoryAuthenticator } from './directory.ts';
import { configureSignatureChecks } from './signatures.ts';

export interface ApiDeps {
  store: Store;
  pipeline: Pipeline;
  registry: DeviceRegistry;
  alarmMonitor: AlarmMonitor;
  config: InletConfig;
  log: ErrorLogger;
  ingestStats: IngestStats;
  /** The local journal in front of the store (depth > 0 while the database is away or catching up). */
  spool?: { gauge(): SpoolGauge };
  startedAt: number;
  version: string;
  /** Tests pass their own (short idle time); the gateway keeps one for its lifetime. */
  sessions?: SessionStore;
  now?: () => number;
  /** The refusal archive's counters, for /health. */
  refusals?: Pick<RefusalRecorder, 'counters' | 'recordEvent'>;
  /** Free space in the data folder: a warning in /health when low. */
  disk?: Pick<DiskSpaceWatch, 'last' | 'warning'>;
}

export function healthReport(deps: ApiDeps) {
  const store = deps.store.health();
  return {
    status: store.ok ? 'ok' : 'degraded',
    version: deps.version,
    uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
    store: { kind: deps.store.kind, ...store },
    spool: deps.spool?.gauge() ?? null,
    ingest: { ...deps.ingestStats },
    uploads: { ...deps.pipeline.counters },
    refusals: deps.refusals ? { ...deps.refusals.counters } : null,
    disk: deps.disk?.last ?? null,
    /** Conditions an administrator should act on while the gateway still serves (status stays "ok"). */
    warnings: [deps.disk?.warning()].filter((w): w is string => typeof w === 'string'),
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
    '# HELP inlet_spool_depth Uploads waiting in the local journal for the database.',
    '# TYPE inlet_spool_depth gauge',
    `inlet_spool_depth ${h.spool?.depth ?? 0}`,
    '# HELP inlet_spool_oldest_age_seconds Age of the oldest upload waiting in the journal.',
    '# TYPE inlet_spool_oldest_age_seconds gauge',
    `inlet_spool_oldest_age_seconds ${((h.spool?.oldestAgeMs ?? 0) / 1000).toFixed(3)}`,
    '# HELP inlet_apply_lag_seconds How long the oldest acknowledged upload not yet applied to the store has waited (0: all applied).',
    '# TYPE inlet_apply_lag_seconds gauge',
    `inlet_apply_lag_seconds ${((h.spool?.oldestAgeMs ?? 0) / 1000).toFixed(3)}`,
    '# HELP inlet_apply_yielding 1 while the apply to the store waits because answering uploads saturates the CPUs (ingest.applyYieldMaxLagS).',
    '# TYPE inlet_apply_yielding gauge',
    `inlet_apply_yielding ${h.spool?.yieldingToIngest ? 1 : 0}`,
    '# HELP inlet_journaled_total Uploads appended to the local journal (acknowledged) since start.',
    '# TYPE inlet_journaled_total counter',
    `inlet_journaled_total ${h.spool?.journaled ?? 0}`,
    '# HELP inlet_applied_total Journaled uploads applied to the store since start.',
    '# TYPE inlet_applied_total counter',
    `inlet_applied_total ${h.spool?.applied ?? 0}`,
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

/** Nesting no viewer request needs; deeper bodies are refused before parsing. */
const API_MAX_JSON_DEPTH = 32;

export function createApiApp(deps: ApiDeps): Express {
  setPasswordHashConcurrency(deps.config.security.concurrentPasswordHashes);
  // The breached-password estimator (zxcvbn's word lists, tens of MB) is built at the first password
  // set or changed, not here: /health and /metrics load this API, and a monitored idle gateway must stay small.
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    const report = healthReport(deps);
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(prometheusMetrics(deps));
  });
  // The API is what a rebinding page would read or drive; the static viewer files hold nothing secret.
  app.use('/api', hostAllowList(deps.config.publicUrl, deps.config.security.allowedHosts), viewerApi(deps));
  app.use(viewerStatic());
  app.use((_req, res) => { res.status(404).json({ error: 'not found' }); });
  app.use(errorHandler(deps.log));
  return app;
}

function viewerApi(deps: ApiDeps): express.Router {
  const { store, registry, config } = deps;
  const sessions = deps.sessions ?? new SessionStore();
  const now = deps.now ?? Date.now;
  const api = express.Router();
  api.use((_req, res, next) => { res.set('Cache-Control', 'no-store'); next(); });
  // Read raw and parsed by the same strict reader as device bodies: nesting beyond 32 levels is a 400
  // before JSON.parse or the validators ever recurse into it (a 5,000-deep body was a 500).
  api.use(express.raw({ type: ['application/json', 'application/*+json'], limit: '16kb' }), (req, _res, next) => {
    if (!Buffer.isBuffer(req.body)) { next(); return; }
    if (req.body.length === 0) { req.body = {}; next(); return; }   // as express.json() did
    const parsed = readJsonBody(req.body, { maxBytes: 16 * 1024, maxDepth: API_MAX_JSON_DEPTH });
    if (!parsed.ok) throw new HttpError(400, `request body refused: ${parsed.reason}`);
    req.body = parsed.value;
    next();
  });
  api.use(csrfGuard);
  const passwordChange = new PasswordChangeRequired();
  const { freeFailures, firstDelayS, maxDelayS } = config.security.signIn;
  const guard = new SignInGuard({ ...DEFAULT_SLOW_DOWN, freeFailures, firstDelayMs: firstDelayS * 1000, maxDelayMs: maxDelayS * 1000 });
  const directory = config.directory.enabled ? new DirectoryAuthenticator(config.directory) : undefined;
  // Electronic signatures check directory accounts by the directory, and wrong signing passwords count
  // with the sign-ins of the same name and source.
  configureSignatureChecks({ directory, guard });
  api.use(sessionRouter(store, sessions, now, directory,
    { events: deps.refusals, passwordChange, guard }));
  api.use(liveRouter(store, sessions, config.jobs.offline.missedIntervals, undefined, now));
  // everything below needs a session; the routers check roles per route, on the zone of what
  // the request names (scopeGuard), and filter lists to the caller's zones
  api.use(authenticate(sessions));
  api.use(requirePasswordChanged(passwordChange));
  api.use(scopeGuard(store));
  api.use(devicesRouter({ store, registry, config, now }));
  api.use(dataRouter(store));
  api.use(reportsRouter({ store, config, version: deps.version, now }));
  api.use(alarmsRouter({ store, alarmMonitor: deps.alarmMonitor, now }));
  api.use(auditRouter({ store, now }));
  api.use(zonesRouter(store, sessions, now));
  api.use('/users', requireGlobalRole('administrator'), usersRouter(store, sessions, now));
  api.use(() => { throw new HttpError(404, 'no such API route'); });
  return api;
}
