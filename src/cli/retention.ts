// `inlet retention`: what retention would purge (--dry-run), a purge now, the record of every
// horizon, and signing the policy the nightly purge acts on (retention-policy.ts). The purge is the
// housekeeping job's, run by hand: the same horizon, checks and chunks.
import type { InletConfig } from '../config/schema.ts';
import type { LogSink } from '../domain/log-sink.ts';
import { describeBodyRun, describePlan, describeRun, planRetention, runBodyRetention, runRetention } from '../jobs/retention.ts';
import type { Store } from '../store/store.ts';
import { SIGNATURE_MEANINGS, describeSignature, type Signature } from '../api/signatures.ts';
import { UsageError, parse, requiredReason } from './args.ts';
import { describePolicy, policyOf, signPolicy, signedPolicyInForce } from '../jobs/retention-policy.ts';
import { cliActor, cliSource } from './actor.ts';
import { SIGNER_OPTIONS, SignatureRefused, TERMINAL_SIGNER, siteAdministratorOnly, signOnCommandLine, type SignedAction, type SignerInput } from './signature.ts';

const USAGE = `usage: inlet retention <command>
  status                       the settings, the signed policy in force (or why the nightly purge
                               waits) and every horizon recorded so far (who, when, why, signed by)
  run --dry-run                what a purge now would remove; changes nothing
  run --reason <text> [--signer <user>] [--meaning <meaning>] [--password-stdin]
                               advance the horizon to retention.keepDays and purge below it now
                               (as the nightly housekeeping job does; needs retention.enabled).
                               A purge is signed electronically by an Inlet administrator: their
                               name, password and the signature's meaning are asked on the terminal;
                               without one, give --signer and --meaning and pipe the password in
                               with --password-stdin. Meanings: ${SIGNATURE_MEANINGS.join(', ')}
  sign --reason <text> [--signer <user>] [--meaning <meaning>] [--password-stdin]
                               sign the configuration's retention settings (keepDays, auditKeepDays,
                               bodyKeepDays) as the policy the nightly housekeeping purge acts on: it
                               purges nothing until an administrator of the whole site has signed
                               them, and stops again when the configuration's settings change`;

export type { SignerInput };

/** The electronic signature of a purge: an Inlet administrator with a global role (signature.ts). */
const PURGE: SignedAction = { what: 'a purge', nothingDone: 'nothing was purged', refuseSigner: siteAdministratorOnly('a purge') };
/** The retention policy the nightly purge acts on is signed by the same (retention-policy.ts). */
const POLICY: SignedAction = {
  what: 'the retention policy', nothingDone: 'the policy was not signed', refuseSigner: siteAdministratorOnly('the retention policy'),
};

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
      if (retention.enabled || retention.bodyKeepDays > 0) {
        const inForce = await signedPolicyInForce(store, retention);
        out('withheld' in inForce
          ? `the nightly purge is withheld: ${inForce.withheld}`
          : `the nightly purge acts under the retention policy ${describeSignature(inForce.signed.signature)} (event #${inForce.signed.eventId}); reason: ${inForce.signed.reason}`);
      }
      const horizons = await store.retentionHorizons();
      if (!horizons.length) { out('no retention horizon recorded: nothing has ever been purged'); return 0; }
      const { signatures, policies } = await purgeSignatures(store);
      for (const h of horizons) {
        const signed = signatures.get(`${h.dataBefore}\u0000${h.setBy}`);
        const policy = policies.get(`${h.dataBefore}\u0000${h.setBy}`);
        out(`#${h.id} ${iso(h.at)} by ${h.setBy}: data before ${iso(h.dataBefore)} (uploads below #${h.belowUploadId}), audit trail before ${iso(h.auditBefore)}; reason: ${h.reason}` +
          `; ${signed ? describeSignature(signed) : policy ? `under the retention policy of event #${policy.eventId}, ${describeSignature(policy.signature)}`
            : 'not signed (the scheduled housekeeping job of a version before signed policies, or a version before signed purges)'}`);
      }
      return 0;
    }
    case 'run': {
      const { values } = parse(rest, {
        'dry-run': { type: 'boolean' }, reason: { type: 'string' }, ...SIGNER_OPTIONS,
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
        signature = await signOnCommandLine(values, config, store, input, now(), PURGE);
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
    case 'sign': {
      const { values } = parse(rest, { reason: { type: 'string' }, ...SIGNER_OPTIONS });
      const reason = requiredReason(values);
      const policy = policyOf(retention);
      out(`retention policy to sign: ${describePolicy(policy)} (retention ${retention.enabled ? 'on' : 'off'} in the configuration)`);
      let signature: Signature;
      try {
        signature = await signOnCommandLine(values, config, store, input, now(), POLICY);
      } catch (err) {
        if (!(err instanceof SignatureRefused)) throw err;
        out(`refused: ${err.message}`);
        return 1;
      }
      const signed = await signPolicy(store, policy, signature, reason, cliSource());
      out(`retention policy ${describeSignature(signature)} (event #${signed.eventId}): the nightly purge acts on it`);
      return 0;
    }
    default:
      out(USAGE);
      return sub && sub !== 'help' ? 2 : 0;
  }
}

/**
 * The signatures bound to the horizons' events (in the audit chain), by the horizon they advanced: a
 * purge by hand's own, or the signed policy a scheduled purge acted under.
 */
async function purgeSignatures(store: Store): Promise<{ signatures: Map<string, Signature>; policies: Map<string, { eventId: number; signature: Signature }> }> {
  const signatures = new Map<string, Signature>();
  const policies = new Map<string, { eventId: number; signature: Signature }>();
  const events = await store.events({ type: 'retention.horizon.advanced', limit: 10_000 });
  for (const e of events) {
    const data = e.data as { dataBefore?: number; setBy?: string; signature?: Signature; policyEventId?: number; policySignature?: Signature } | null;
    if (typeof data?.dataBefore !== 'number') continue;
    const key = `${data.dataBefore}\u0000${data.setBy}`;
    if (data.signature) signatures.set(key, data.signature);
    if (data.policySignature && typeof data.policyEventId === 'number') policies.set(key, { eventId: data.policyEventId, signature: data.policySignature });
  }
  return { signatures, policies };
}
