// The signed retention policy: the authority of the nightly purge. The retention settings live in
// the configuration file, which anyone who can edit it can change without a trace in the database;
// so the scheduled purge acts only on settings an administrator of the whole site has signed
// electronically (`inlet retention sign`, 21 CFR Part 11 §11.200). The signature is a
// 'retention.policy.signed' event in the audit chain; each nightly purge names that event in its own.
// When no policy is signed, or the configuration's settings differ from the last one signed, the
// nightly purge does not run and records why (docs/retention.md "Who authorises the nightly purge").
import type { LogSink } from '../domain/log-sink.ts';
import type { Store } from '../store/store.ts';
import type { Signature } from '../api/signatures.ts';
import { describeBodyRun, describeRun, runBodyRetention, runRetention, type RetentionSettings } from './retention.ts';

export const POLICY_SIGNED_EVENT = 'retention.policy.signed';
export const PURGE_WITHHELD_EVENT = 'retention.purge.withheld';

/** What the nightly purge acts on: the retention.* days of the configuration. */
export interface RetentionPolicy { keepDays: number; auditKeepDays: number; bodyKeepDays: number }

export interface SignedPolicy { eventId: number; policy: RetentionPolicy; signature: Signature; reason: string }

export function policyOf(retention: RetentionPolicy): RetentionPolicy {
  return { keepDays: retention.keepDays, auditKeepDays: retention.auditKeepDays, bodyKeepDays: retention.bodyKeepDays };
}

export function describePolicy(p: RetentionPolicy): string {
  return `keep data ${p.keepDays || '(not set)'} days, audit trail ${p.auditKeepDays ? `${p.auditKeepDays} days` : 'kept for ever'}, ` +
    `raw bodies ${p.bodyKeepDays ? `${p.bodyKeepDays} days` : 'kept with their uploads'}`;
}

const samePolicy = (a: RetentionPolicy, b: RetentionPolicy) =>
  a.keepDays === b.keepDays && a.auditKeepDays === b.auditKeepDays && a.bodyKeepDays === b.bodyKeepDays;

function isPolicy(v: unknown): v is RetentionPolicy {
  const p = v as RetentionPolicy | null;
  return !!p && [p.keepDays, p.auditKeepDays, p.bodyKeepDays].every((n) => Number.isInteger(n) && n >= 0);
}

/** The last signed policy (the newest 'retention.policy.signed' event), or null when none was ever signed. */
export async function latestSignedPolicy(store: Pick<Store, 'events'>): Promise<SignedPolicy | null> {
  const [event] = await store.events({ type: POLICY_SIGNED_EVENT, limit: 1 });
  const data = event?.data as { policy?: unknown; signature?: Signature; reason?: string } | null | undefined;
  if (!event || !data || !isPolicy(data.policy) || !data.signature) return null;
  return { eventId: event.id, policy: policyOf(data.policy), signature: data.signature, reason: String(data.reason ?? '') };
}

/** The signed policy the configuration's settings are, or why the nightly purge may not act on them. */
export async function signedPolicyInForce(store: Pick<Store, 'events'>, retention: RetentionPolicy): Promise<{ signed: SignedPolicy } | { withheld: string }> {
  const configured = policyOf(retention);
  const signed = await latestSignedPolicy(store);
  if (!signed) {
    return { withheld: `no retention policy has been signed: the configuration's settings (${describePolicy(configured)}) take effect once an administrator of the whole site signs them with \`inlet retention sign\`` };
  }
  if (!samePolicy(signed.policy, configured)) {
    return {
      withheld: `the configuration's retention settings (${describePolicy(configured)}) are not the policy signed by ${signed.signature.by} ` +
        `at ${new Date(signed.signature.at).toISOString()} (event #${signed.eventId}: ${describePolicy(signed.policy)}): ` +
        'they take effect once an administrator of the whole site signs them with `inlet retention sign`',
    };
  }
  return { signed };
}

/** Records the signature of the configuration's settings as the policy in force; returns it as stored. */
export async function signPolicy(
  store: Pick<Store, 'events' | 'addEvent'>, retention: RetentionPolicy, signature: Signature, reason: string, source: string | null,
): Promise<SignedPolicy> {
  const policy = policyOf(retention);
  const previous = await latestSignedPolicy(store);
  const at = new Date(signature.at).toISOString();
  await store.addEvent({
    at: signature.at, deviceId: null, type: POLICY_SIGNED_EVENT, level: 'warning', actor: signature.by, source,
    message: `retention policy signed by ${signature.by} (${signature.meaning}) at ${at}: ${describePolicy(policy)}` +
      `${previous ? ` (was: ${describePolicy(previous.policy)}, event #${previous.eventId})` : ' (the first signed policy)'}; the nightly purge acts on it. Reason: ${reason}`,
    data: { policy, old: previous ? { ...previous.policy, eventId: previous.eventId } : null, signature, reason },
  });
  const stored = await latestSignedPolicy(store);
  if (!stored) throw new Error('the signed retention policy was not found after it was recorded');
  return stored;
}

/**
 * The housekeeping job's retention: under the signed policy, naming its event; withheld (with an
 * event and a warning saying why) when the configuration's settings are not the signed policy.
 */
export async function runNightlyRetention(
  store: Store, retention: RetentionSettings & RetentionPolicy & { enabled: boolean }, options: { now: number; log: LogSink },
): Promise<string> {
  if (!retention.enabled && retention.bodyKeepDays <= 0) return 'retention off';
  const inForce = await signedPolicyInForce(store, retention);
  if ('withheld' in inForce) {
    options.log.warn(`retention withheld: ${inForce.withheld}`);
    await store.addEvent({
      at: options.now, deviceId: null, type: PURGE_WITHHELD_EVENT, level: 'warning', actor: 'housekeeping job', source: null,
      message: `the nightly purge did not run: ${inForce.withheld}`, data: { configured: policyOf(retention), reason: inForce.withheld },
    });
    return `retention withheld: ${inForce.withheld}`;
  }
  const { signed } = inForce;
  const authority = `the retention policy signed by ${signed.signature.by} (${signed.signature.meaning}) at ${new Date(signed.signature.at).toISOString()}, event #${signed.eventId}`;
  const purge = retention.enabled
    ? describeRun(await runRetention(store, retention, {
      now: options.now, setBy: 'housekeeping job', log: options.log, policy: { eventId: signed.eventId, signature: signed.signature },
      reason: `retention.keepDays = ${retention.keepDays}, retention.auditKeepDays = ${retention.auditKeepDays} under ${authority}`,
    }))
    : 'retention off';
  const bodies = retention.bodyKeepDays > 0
    ? `; ${describeBodyRun(await runBodyRetention(store, retention, {
      now: options.now, setBy: 'housekeeping job', log: options.log, reason: `retention.bodyKeepDays = ${retention.bodyKeepDays} under ${authority}`,
    }))}`
    : '';
  return `${purge}${bodies}`;
}
