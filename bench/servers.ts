// Servers under test, one per child process so the load generator does not share their event loop.
// usage: node bench/servers.ts <bare|soap-package|parse-only|inlet|inlet-sustained|inlet-no-store|inlet-fleet|register-fleet> <devices-file>
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseSoap } from '../src/ingest/soap/parse.ts';
import { createSoapAdapter } from '../src/ingest/soap/index.ts';
import { openStore, startGateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';
import { initialChannels, newEntryToken } from '../src/ingest/families.ts';
import { tempDir, testConfig } from '../test/e2e/harness.ts';
import { registerFleet, type FleetDevice } from '../test/e2e/fleet.ts';

const [mode, devicesFile] = process.argv.slice(2);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 500);

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function ready(server: http.Server, urls: string[]): void {
  const port = (server.address() as AddressInfo).port;
  writeFileSync(devicesFile, JSON.stringify(urls.map((u) => u.replace('PORT', String(port)))));
  process.stdout.write('READY\n');
}

const placeholderUrls = Array.from({ length: DEVICES }, (_, i) => `http://127.0.0.1:PORT/ingest/soap/tok${String(i).padStart(10, '0')}|${30_000_000 + i}`);
const OK = Buffer.from('<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><InsertTx5xxSampleResponse xmlns="http://cometsystem.cz/schemas/soapTx5xx_v2.xsd"/></soap:Body></soap:Envelope>');

if (mode === 'bare') {
  // The baseline: reads the same body and answers 200 with a fixed envelope.
  const server = http.createServer(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': OK.length });
    res.end(OK);
  }).listen(0, '127.0.0.1', () => ready(server, placeholderUrls));
} else if (mode === 'parse-only') {
  // Our parser and answer on raw node:http, nothing stored: the cost of the parser choice.
  const adapter = createSoapAdapter();
  const server = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    const parsed = parseSoap(raw, { entryToken: 'x', receivedAt: Date.now(), remoteAddress: '', contentType: '' });
    const answer = adapter.answer({ kind: parsed.ok ? 'accepted' : 'refused', reason: parsed.ok ? 'ok' : parsed.reason, httpStatus: parsed.ok ? 200 : 400, stored: 0 }, parsed.ok ? parsed.upload : null);
    const body = Buffer.from(answer.body);
    res.writeHead(answer.status, { 'Content-Type': answer.contentType, 'Content-Length': body.length });
    res.end(body);
  }).listen(0, '127.0.0.1', () => ready(server, placeholderUrls));
} else if (mode === 'soap-package') {
  // The customer's chosen `soap` package serving the same operation from a WSDL (parse only, nothing stored).
  // Loaded in this mode only: the gateway's memory figures must not include a library it does not use.
  const soap = await import('soap');
  const wsdl = readFileSync(new URL('./fixtures/comet-tx5xx.wsdl', import.meta.url), 'utf8');
  const server = http.createServer((_req, res) => { res.writeHead(404); res.end(); });
  const service = { Tx5xxService: { Tx5xxPort: { InsertTx5xxSample: () => ({}) } } };
  server.listen(0, '127.0.0.1', () => {
    soap.listen(server, { path: '/ingest/soap', services: service, xml: wsdl });
    ready(server, placeholderUrls);
  });
} else if (mode === 'register-fleet') {
  // Registers the fleet in BENCH_DATA_DIR and stops, as devices are registered over a gateway's life
  // (inlet-fleet runs this in a child process first): the memory measured at fleet load is then that
  // of a gateway started with 10,000 devices, not of one that also just made 10,000 entry tokens.
  const config = testConfig(process.env.BENCH_DATA_DIR!, {});
  config.log = { ...config.log, file: false, console: false };
  const gateway = await startGateway(config, createLogger(config, { quiet: true }));
  const fleet = await registerFleet(gateway.store, Math.ceil(DEVICES / 4), 40_000_001);
  await gateway.stop();
  writeFileSync(devicesFile, JSON.stringify(fleet));
  process.exit(0);
} else if (mode === 'inlet' || mode === 'inlet-sustained' || mode === 'inlet-no-store' || mode === 'inlet-fleet') {
  // The real gateway, durable: every answer waits for the SQLite group commit (WAL, synchronous=FULL).
  // Throttling is off: benchmarks compress device intervals in time. inlet-fleet registers a mixed
  // fleet (test/e2e/fleet.ts, DEVICES split over the four families) and writes it with the gateway's URL.
  // inlet-no-store is NOT durable: the same gateway with commit() answering at once and writing
  // nothing, to show what HTTP, parsing and the pipeline alone allow (the ceiling of any store).
  const dataDir = tempDir('inlet-bench-');
  let fleet: FleetDevice[] = [];
  if (mode === 'inlet-fleet') {
    const registered = spawnSync(process.execPath, [process.argv[1], 'register-fleet', devicesFile], { env: { ...process.env, BENCH_DATA_DIR: dataDir }, stdio: ['ignore', 'inherit', 'inherit'] });
    if (registered.status !== 0) throw new Error(`registering the fleet failed (exit code ${registered.status})`);
    fleet = JSON.parse(readFileSync(devicesFile, 'utf8')) as FleetDevice[];
  }
  const config = testConfig(dataDir, {});
  config.log = { ...config.log, file: false, console: false };
  config.throttle = { ...config.throttle, enabled: false };
  // inlet-sustained: the apply never yields to ingest (ingest.applyYieldMaxLagS = 0), so the rate it
  // holds is the one both the answers and the store keep up with, however long the load lasts.
  if (mode === 'inlet-sustained') config.ingest = { ...config.ingest, applyYieldMaxLagS: 0 };
  const store = await openStore(config);
  if (mode === 'inlet-no-store') {
    store.commit = async (batch) => ({ uploadId: 0, verdict: batch.upload.verdict, samplesStored: batch.samples.length, samplesDuplicate: 0 });
    // The journal's apply too: uploads are journaled (fsync'd) and answered, the store writes nothing.
    store.applyJournal = async () => ({ applied: 0, durable: true, refused: [] });
  }
  const gateway = await startGateway(config, createLogger(config, { quiet: true }), { store });
  if (mode === 'inlet-fleet') {
    writeFileSync(devicesFile, JSON.stringify({ url: gateway.url, fleet }));
  } else {
    const urls: string[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const serial = String(30_000_000 + i);
      const d = await gateway.store.addDevice({
        family: 'soap', serial, modelCode: 4145, model: 'T3510', name: `bench ${i}`, entryToken: newEntryToken(), channels: initialChannels('soap', 4145),
      }, Date.now());
      urls.push(`${gateway.url}/ingest/soap/${d.entryToken}|${serial}`);
    }
    writeFileSync(devicesFile, JSON.stringify(urls));
  }
  await gateway.registry.refresh();
  process.stdout.write('READY\n');
  process.on('SIGTERM', () => {
    const c = gateway.pipeline.counters;
    process.stderr.write(`inlet counters: ${JSON.stringify(c)}\n`);
    gateway.stop().then(() => process.exit(0));
  });
} else {
  process.stderr.write('usage: node bench/servers.ts <bare|soap-package|parse-only|inlet|inlet-sustained|inlet-no-store|inlet-fleet|register-fleet> <devices-file>\n');
  process.exit(2);
}
