// `inlet retention`: what retention would purge (--dry-run), a purge now, and the record of every
// horizon. The purge is the housekeeping job's, run by hand: the same horizon, checks and chunks.
import { createInterface } from 'node:readline/promises';
import type { InletConfig } from '../config/schema.ts';
import type { LogSink } from '../domain/log-sink.ts';
import { describeBodyRun, describePlan, describeRun, planRetention, runBodyRetention, runRetention } from '../jobs/retention.ts';
import type { Store } from '../store/store.ts';
import { DirectoryAuthenticator } from '../api/directory.ts';
import { HttpError } from '../api/http.ts';
import { SIGNATURE_MEANINGS, describeSignature, verifySignature, type Signature } from '../api/signatures.ts';
import { UsageError, parse } from './args.ts';
import { cliActor, cliSource } from './actor.ts';
import { TERMINAL_INPUT, type PasswordInput } from './user.ts';

const USAGE = `usage: inlet retention <command>
  status                       the settings and every horizon recorded so far (who, when, why)
  run --dry-run                what a purge now would remove; changes nothing
  run --reason <text> [--signer <user>] [--meaning <meaning>] [--password-stdin]
                               advance the horizon to retention.keepDays and purge below it now
                               (as the nightly housekeeping job does; needs retention.enabled).
                               A purge is signed electronically by an Inlet administrator: their
                               name, password and the signature's meaning are asked on the terminal;
                               without one, give --signer and --meaning and pipe the password in
                               with --password-stdin. Meanings: ${SIGNATURE_MEANINGS.join(', ')}`;

/** Where the signer's name, password and meaning come from; tests replace it. */
export interface SignerInput extends PasswordInput {
  /** Asks with echo (the signer's name, the meaning). */
  ask(question: string): Promise<string>;
}

const TERMINAL_SIGNER: SignerInput = {
  ...TERMINAL_INPUT,
  async ask(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try { return await rl.question(question); } finally { rl.close(); }
  },
};

/**
 * The electronic signature of a purge (21 CFR Part 11 §11.200): an Inlet administrator with a global
 * role re-enters their password (checked by the directory for a directory account) and a meaning.
 */
async function signPurge(values: Record<string, unknown>, config: InletConfig, store: Store, input: SignerInput, at: number): Promise<Signature> {
  const fromStdin = values['password-stdin'] === true;
  if (!input.isTerminal && !fromStdin) {
    throw new UsageError('a purge is signed: no terminal to ask for the password, so give --signer <user> --meaning <meaning> and pipe the password in with --password-stdin');
  }
  let signer = typeof values.signer === 'string' ? values.signer.trim() : '';
  if (!signer && input.isTerminal && !fromStdin) signer = (await input.ask('Signed by (your Inlet user name): ')).trim();
  if (!signer) throw new UsageError('--signer <user> is required: the Inlet administrator who signs the purge');
  let meaning = typeof values.meaning === 'string' ? values.meaning.trim() : '';
  if (!meaning && input.isTerminal && !fromStdin) meaning = (await input.ask(`Meaning of your signature (${SIGNATURE_MEANINGS.join(', ')}): `)).trim();
  if (!(SIGNATURE_MEANINGS as readonly string[]).includes(meaning)) throw new UsageError(`--meaning must be one of ${SIGNATURE_MEANINGS.join(', ')}`);
  const user = await store.findUser(signer);
  // Refused before the password is asked: only an administrator of the whole site may sign a purge.
  if (user && (user.role !== 'administrator' || user.scope !== 'global')) {
    throw new SignatureRefused(`${user.username} is not an administrator of the whole site: only one may sign a purge; nothing was purged`);
  }
  const password = fromStdin ? (await input.readAll()).split(/\r?\n/)[0] : await input.prompt(`Password of ${signer}: `);
  const directory = config.directory.enabled ? new DirectoryAuthenticator(config.directory) : null;
  try {
    return await verifySignature(store, signer, { password, meaning }, at, cliSource(), { directory });
  } catch (err) {
    if (err instanceof HttpError) throw new SignatureRefused(`${err.message.replace(/; nothing was changed$/, '')}; nothing was purged`);
    throw err;
  }
}

class SignatureRefused extends Error {}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export async function retentionCommand(
  argv: string[], config: InletConfig, store: Store, out: (line: string) => void, now = Date.now, input: SignerInput = TERMINAL_SIGNER,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { retention } = config;
  const settings = `retention ${retention.enabled ? 'on' : 'off'}: keep data ${retention.keepDays || '(not set)'} days, ` +
    `audit trail ${retention.auditKeepDays ? `${retention.auditKeepDays} days` : 'kept for ever'}`;
  switch (sub) {
    case 'status': {
      parse(rest, {});
      out(settings);
      const horizons = await store.retentionHorizons();
      if (!horizons.length) { out('no retention horizon recorded: nothing has ever been purged'); return 0; }
      const signatures = await purgeSignatures(store);
      for (const h of horizons) {
        const signed = signatures.get(`${h.dataBefore}\u0000${h.setBy}`);
        out(`#${h.id} ${iso(h.at)} by ${h.setBy}: data before ${iso(h.dataBefore)} (uploads below #${h.belowUploadId}), audit trail before ${iso(h.auditBefore)}; reason: ${h.reason}` +
          `; ${signed ? describeSignature(signed) : 'not signed (the scheduled housekeeping job, or a version before signed purges)'}`);
      }
      return 0;
    }
    case 'run': {
      const { values } = parse(rest, {
        'dry-run': { type: 'boolean' }, reason: { type: 'string' }, signer: { type: 'string' }, meaning: { type: 'string' }, 'password-stdin': { type: 'boolean' },
      });
      if (retention.keepDays < 1) throw new UsageError('"retention.keepDays" is not set in the configuration: nothing to work out');
      if (values['dry-run']) {
        out(`dry run, nothing is changed. ${settings}`);
        const plan = await planRetention(store, retention, now());
        out(describePlan(plan));
        if (plan.blocked) out(`a purge now would be refused: ${plan.blocked}`);
        return 0;
      }
      if (!retention.enabled) throw new UsageError('"retention.enabled" is false in the configuration: set it to true to purge (inlet retention run --dry-run shows what would go)');
      const reason = values.reason?.trim();
      if (!reason) throw new UsageError('--reason is required: it is recorded with the horizon for the auditors (e.g. --reason "annual purge, SOP QA-12")');
      let signature: Signature;
      try {
        signature = await signPurge(values, config, store, input, now());
      } catch (err) {
        if (!(err instanceof SignatureRefused)) throw err;
        out(`purge refused: ${err.message}`);
        return 1;
      }
      out(`purge ${describeSignature(signature)}`);
      const log: LogSink = { info: (m) => out(m), warn: (m) => out(m), error: (m) => out(m) };
      const result = await runRetention(store, retention, { now: now(), setBy: cliActor(), source: cliSource(), reason, signature, log, progressEveryMs: 2000 });
      out(describeRun(result));
      if (retention.bodyKeepDays > 0) {
        out(describeBodyRun(await runBodyRetention(store, retention, { now: now(), setBy: cliActor(), reason, log, progressEveryMs: 2000 })));
      }
      return result.plan.blocked ? 1 : 0;
    }
    default:
      out(USAGE);
      return sub && sub !== 'help' ? 2 : 0;
  }
}

/** The signatures bound to the horizons' events (in the audit chain), by the horizon they advanced. */
async function purgeSignatures(store: Store): Promise<Map<string, Signature>> {
  const found = new Map<string, Signature>();
  const events = await store.events({ type: 'retention.horizon.advanced', limit: 10_000 });
  for (const e of events) {
    const data = e.data as { dataBefore?: number; setBy?: string; signature?: Signature } | null;
    if (data?.signature && typeof data.dataBefore === 'number') found.set(`${data.dataBefore}\u0000${data.setBy}`, data.signature);
  }
  return found;
}
