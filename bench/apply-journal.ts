// The apply thread's CPU per upload, by how many uploads one apply round takes: the gateway journals
// real SOAP uploads (its apply held back, the records kept), then the same records are applied
// to copies of its database in chunks of each size, on this thread, measured with
// process.cpuUsage(). CPU time rather than a rate: a busy machine changes it less (it still inflates it).
// Each size is applied BENCH_REPEAT times to a fresh copy and the least CPU is printed: other work
// on the machine only ever adds to a thread's CPU time (cache misses, migrations).
// usage: node bench/apply-journal.ts  (BENCH_UPLOADS, BENCH_DEVICES, BENCH_CHUNKS=25,200,1000,5000, BENCH_REPEAT=3)
// BENCH_BASELINE=<another checkout, e.g. of main>: the same records are also applied by that checkout's
// writer to a database its own migrations made (the same devices), alternating with this code.
import http from 'node:http';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { buildSoapMessage } from '../src/sim/soap.ts';
import { openStore, startGateway } from '../src/main.ts';
import { createLogger } from '../src/log.ts';
import { initialChannels, newEntryToken } from '../src/ingest/families.ts';
import { tempDir, testConfig } from '../test/e2e/harness.ts';
import { JOURNAL_AUTOCHECKPOINT_PAGES, SQLITE_PRAGMAS, SqliteWriter, journalCheckpointPages } from '../src/store/sqlite/writer.ts';
import { applyJournalChunk } from '../src/store/sqlite/apply-journal.ts';
import { splitRecords } from '../src/store/spool/journal.ts';
import { decodeBatch, uploadKeyOf } from '../src/store/spool/record-codec.ts';
import { packWriteGroup } from '../src/store/sqlite/write-group.ts';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 20_000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 500);
const CHUNKS = (process.env.BENCH_CHUNKS ?? '25,200,1000,5000').split(',').map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const CONNECTIONS = 50;

const dataDir = tempDir('inlet-bench-apply-');
const config = testConfig(dataDir, {});
config.log = { ...config.log, file: false, console: false };
config.throttle = { ...config.throttle, enabled: false };
const store = await openStore(config);
// The apply is held back: each chunk the journal offers is kept (its bytes) and reported applied.
const captured: { position: number; bytes: Buffer; journalId: string }[] = [];
store.applyJournal = async (chunk) => {
  captured.push({ position: chunk.position, bytes: Buffer.from(chunk.bytes), journalId: chunk.journalId });
  return { applied: 0, durable: true, refused: [] };
};
const gateway = await startGateway(config, createLogger(config, { quiet: true }), { store });
const targets: { path: string; serial: string }[] = [];
const deviceIds: number[] = [];
const newDevice = (i: number) => ({
  family: 'soap' as const, serial: String(30_000_000 + i), modelCode: 4145, model: 'T3510', name: `bench ${i}`, entryToken: newEntryToken(), channels: initialChannels('soap', 4145),
});
for (let i = 0; i < DEVICES; i++) {
  const d = await gateway.store.addDevice(newDevice(i), Date.now());
  targets.push({ path: `/ingest/soap/${d.entryToken}`, serial: d.serial });
  deviceIds.push(d.id);
}
await gateway.registry.refresh();

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
let next = 0;
await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
  while (next < UPLOADS) {
    const i = next++;
    const t = targets[i % targets.length];
    const body = Buffer.from(buildSoapMessage({ serial: t.serial, modelCode: 4145, temp: 20 + (i % 50) / 10, relHum: 45 }));
    await new Promise<void>((resolve, reject) => {
      http.request(`${gateway.url}${t.path}`, {
        method: 'POST', agent, headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length },
      }, (res) => { res.resume(); res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)))); }).on('error', reject).end(body);
    });
  }
}));
agent.destroy();
await gateway.stop();

// The records, back to back from the first position (the journal offers them in order).
captured.sort((a, b) => a.position - b.position);
const journal = Buffer.concat(captured.map((c) => c.bytes));
const start = captured[0].position;
const records = splitRecords(journal, start);
const file = config.store.sqlite.file.startsWith('/') ? config.store.sqlite.file : path.join(dataDir, config.store.sqlite.file);
console.log(`apply thread CPU per upload (SOAP, ${records.length} uploads of ${DEVICES} devices, 3 samples each; Node ${process.version})`);
// The baseline checkout's writer and a database of its schema holding the same devices under the same ids.
const thisCode: { SQLITE_PRAGMAS: string; JOURNAL_AUTOCHECKPOINT_PAGES: number; journalCheckpointPages?: (bytes: number) => number; SqliteWriter: typeof SqliteWriter; applyJournalChunk: typeof applyJournalChunk; file: string } = { SQLITE_PRAGMAS, JOURNAL_AUTOCHECKPOINT_PAGES, journalCheckpointPages, SqliteWriter, applyJournalChunk, file };
let baseline: typeof thisCode | null = null;
if (process.env.BENCH_BASELINE) {
  const root = path.resolve(process.env.BENCH_BASELINE);
  const writerModule = await import(path.join(root, 'src/store/sqlite/writer.ts'));
  const { SqliteStore: BaselineStore } = await import(path.join(root, 'src/store/sqlite/sqlite-store.ts'));
  const baselineFile = path.join(dataDir, 'baseline.sqlite');
  const baselineStore = new BaselineStore({ file: baselineFile, writeInWorker: false });
  await baselineStore.migrate();
  for (let i = 0; i < DEVICES; i++) {
    const d = await baselineStore.addDevice(newDevice(i), Date.now());
    if (d.id !== deviceIds[i]) throw new Error(`the baseline's device ${i} has id ${d.id}, this code's ${deviceIds[i]}`);
  }
  await baselineStore.close();
  baseline = { ...writerModule, applyJournalChunk: (await import(path.join(root, 'src/store/sqlite/apply-journal.ts'))).applyJournalChunk, file: baselineFile };
}

/** Bytes of a chunk of the first `size` records, as the journal offers it to the write thread. */
function chunkBytesOf(size: number): number {
  return records.slice(0, size).reduce((sum, r) => sum + (r.end - r.offset), 0);
}

/** Applies every record in chunks of `size` to a fresh copy of the database; CPU µs (total, system) per upload. */
function applyAll(size: number, run: number, experiment = ''): { micros: number; system: number } {
  const code = experiment === 'baseline' ? baseline! : thisCode;
  const { SQLITE_PRAGMAS, JOURNAL_AUTOCHECKPOINT_PAGES, SqliteWriter, applyJournalChunk, file } = code;
  // As the write thread sets it for chunks of this size (a baseline without the rule: its constant).
  const checkpointPages = code.journalCheckpointPages?.(chunkBytesOf(size)) ?? JOURNAL_AUTOCHECKPOINT_PAGES;
  const copy = path.join(dataDir, `apply-${size}-${run}${experiment}.db`);
  copyFileSync(file, copy);
  if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
  const db = new DatabaseSync(copy);
  db.exec(SQLITE_PRAGMAS);
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec(`PRAGMA wal_autocheckpoint = ${checkpointPages}`); // as the write thread applies the journal
  if (experiment.startsWith('autocheckpoint-')) db.exec(`PRAGMA wal_autocheckpoint = ${Number(experiment.slice(15))}`);
  const writer = new SqliteWriter(db);
  writer.chainKey = new Uint8Array(randomBytes(32));
  const before = process.cpuUsage();
  let applied = 0;
  for (let k = 0; k < records.length; k += size) {
    const first = records[k];
    const last = records[Math.min(k + size, records.length) - 1];
    const bytes = journal.subarray(first.offset - start, last.end - start);
    if (experiment === 'objects') {
      // The apply as it was: every record decoded to objects (one per sample), then packed.
      const batches = splitRecords(bytes, first.offset).map((r) => {
        const b = decodeBatch(r.payload);
        b.upload.uploadKey ??= uploadKeyOf(captured[0].journalId, r.offset);
        return b;
      });
      applied += writer.writeGroup(packWriteGroup(batches, batches.map(() => false))).length;
    } else {
      applied += applyJournalChunk(writer, { bytes, position: first.offset, journalId: captured[0].journalId, maybeStoredBefore: 0, sync: false }).applied;
    }
  }
  const cpu = process.cpuUsage(before);
  db.close();
  rmSync(copy, { force: true });
  rmSync(`${copy}-wal`, { force: true });
  if (applied !== records.length) throw new Error(`applied ${applied} of ${records.length}`);
  return { micros: (cpu.user + cpu.system) / applied, system: cpu.system / applied };
}

// An experiment (BENCH_EXPERIMENT: autocheckpoint-<pages>; objects, records decoded to an object per
// sample as before) and the baseline run alternately with the code as it is, so that all see the same load.
const variants = ['', ...(process.env.BENCH_EXPERIMENT ? [process.env.BENCH_EXPERIMENT] : []), ...(baseline ? ['baseline'] : [])];
for (const size of CHUNKS) {
  const runs = variants.map(() => [] as { micros: number; system: number }[]);
  for (let run = 0; run < REPEAT; run++) variants.forEach((v, i) => runs[i].push(applyAll(size, run, v)));
  variants.forEach((v, i) => {
    const sorted = runs[i].sort((a, b) => a.micros - b.micros);
    console.log(`  ${String(size).padStart(5)} uploads per apply${v ? ` (${v})` : ''}, checkpoint every ${journalCheckpointPages(chunkBytesOf(size))} pages: ` +
      `${sorted[0].micros.toFixed(1)} µs per upload (${sorted[0].system.toFixed(1)} system; ` +
      `runs: ${sorted.map((r) => r.micros.toFixed(0)).join(', ')})`);
  });
}
rmSync(dataDir, { recursive: true, force: true });
