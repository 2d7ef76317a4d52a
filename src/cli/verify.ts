// `inlet verify`: checks the hash chains of the whole store, prints progress for large stores
// and every problem found, records the outcome (checkpoints, or an integrity alarm) and exits
// non-zero when anything was changed, inserted or deleted outside Inlet.
import type { Store } from '../store/store.ts';
import path from 'node:path';
import { describeProblem, exportHeads, recordVerification, type VerifyProgress } from '../jobs/verify.ts';
import { ROLLING_NIGHTS, recordVerifyProgress, verifyIncrementally } from '../jobs/verify-incremental.ts';
import { HEADS_FILE } from '../store/heads-file.ts';
import { UsageError } from './args.ts';
import { parse } from './args.ts';
import { CHAIN_KEY_EVENT, readChainKey } from '../store/chain-key.ts';
import { exportHeadsToSyslog, type SyslogSettings } from '../jobs/syslog-heads.ts';

/** Exit code when verification finds problems; usage errors keep 2. */
export const EXIT_INTEGRITY_BROKEN = 1;

const PROGRESS_EVERY_MS = 1000;

export async function verifyCommand(
  argv: string[], store: Store, keyFile: string, out: (line: string) => void, progressOut: (text: string) => void, syslog?: SyslogSettings,
): Promise<number> {
  const { values } = parse(argv, { quiet: { type: 'boolean' }, rollup: { type: 'string' }, full: { type: 'boolean' }, incremental: { type: 'boolean' } });
  if (values.full && values.incremental) throw new UsageError('--full and --incremental exclude each other');
  const rollup = (values.rollup as string | undefined) ?? 'all';
  if (rollup !== 'all' && rollup !== 'skip') throw new UsageError('--rollup takes all (recompute the whole hourly rollup from the samples, the default) or skip');
  // The key comes from the gateway's file, never from the database, which an intruder could rewrite.
  const chainKey = readChainKey(keyFile);
  const [marker] = await store.events({ type: CHAIN_KEY_EVENT, limit: 1 });
  if (!chainKey && marker) {
    out(`cannot verify: this database's uploads are linked under a chain key, and ${keyFile} is missing; run inlet verify where the gateway's chain.key is (or copy it from the backup)`);
    return 2;
  }
  let lastShown = 0;
  const showProgress = (p: VerifyProgress) => {
    if (values.quiet || (Date.now() - lastShown < PROGRESS_EVERY_MS && p.checked < p.total)) return;
    lastShown = Date.now();
    progressOut(`verifying: ${p.checked}/${p.total} uploads (${p.percent.toFixed(1)} %), ${p.rowsPerSecond} rows/s\n`);
  };
  // Events this command records (integrity.verified, integrity.broken) are linked under the key too.
  if (chainKey) store.useChainKey(chainKey.key);
  const headsFile = path.join(path.dirname(keyFile), HEADS_FILE);
  // By hand the whole store is verified (--full, the default); --incremental runs what the nightly job
  // runs: from the last verified upload on, plus a share of the rolling full pass (verify-incremental.ts).
  const report = await verifyIncrementally(store, {
    onProgress: showProgress, chainKey, rollup: values.incremental && rollup === 'all' ? { part: Math.floor(Date.now() / 86_400_000) % ROLLING_NIGHTS, of: ROLLING_NIGHTS } : rollup,
    headsFile: chainKey ? headsFile : undefined, full: !values.incremental,
  });
  const { raised, cleared } = await recordVerification(store, report);
  await recordVerifyProgress(store, chainKey?.key ?? null, report);
  // A copy of the heads on another machine (audit.syslog), whatever the outcome; a failed send is said, not fatal.
  if (syslog?.enabled) {
    try {
      const sent = await exportHeadsToSyslog(syslog, report, chainKey?.key ?? null);
      out(`chain heads sent to syslog ${syslog.host}:${syslog.port}/${syslog.protocol} (${sent} messages)`);
    } catch (err) {
      out(`warning: the chain heads could not be sent to syslog ${syslog.host}:${syslog.port}/${syslog.protocol}: ${(err as Error).message}`);
    }
  }
  const seconds = ((report.finishedAt - report.startedAt) / 1000).toFixed(1);
  const counted = `${report.uploadsChecked} uploads, ${report.samplesChecked} samples, ${report.chains} chains in ${seconds} s`;
  if (report.ok) {
    if (chainKey) exportHeads(headsFile, chainKey.key, report);
    const belowHorizon = report.uploadsBelowHorizon ? `; ${report.uploadsBelowHorizon} uploads below the retention horizon await their purge` : '';
    const scope = report.mode === 'incremental'
      ? `; incremental: new uploads${report.rollingSlice ? ` and uploads #${report.rollingSlice.from}-#${report.rollingSlice.to} of the rolling full pass` : ''}`
      : '';
    out(`integrity OK: ${counted}${scope}${belowHorizon}; audit chain: ${report.eventsChecked ?? 0} events, ${report.recordsChecked ?? 0} recorded rows (users, zones, devices, alarms, limits, channels, unit versions); rollup recomputed: ${report.rollupChecked ?? 'all'}`);
    if (cleared) out(`${cleared} integrity alarm(s) cleared.`);
    return 0;
  }
  out(`INTEGRITY BROKEN: ${report.problemCount} problem(s) in ${counted}`);
  for (const p of report.problems) out(`  ${describeProblem(p)}`);
  if (report.problemCount > report.problems.length) out(`  ... and ${report.problemCount - report.problems.length} more`);
  out(`${raised ? `Integrity alarm #${raised.id} was raised.` : 'An integrity alarm for this damage is already open.'} Keep this database as it is for investigation and compare it with your backups.`);
  return EXIT_INTEGRITY_BROKEN;
}
