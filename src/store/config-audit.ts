// Configuration changes are changes too: notification routes, retention, throttling, jobs and the
// rest live in the configuration file, which Inlet only reads. At each start the effective settings
// (secrets left out) are compared with those recorded at the previous start, and any difference is
// recorded as a 'config.changed' event with every changed setting's old and new value.
import type { Store } from './store.ts';

export const CONFIG_EVENT = 'config.changed';

/** Settings whose values are secrets: recorded as "(changed)" only, never their value. */
const SECRET = /password|connectionString|secret|token/i;

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = SECRET.test(prefix) ? (value ? '(set)' : '(empty)') : value;
  }
  return out;
}

/** Writes a config.changed event when the effective configuration differs from the one last recorded. */
export async function recordConfigChanges(store: Pick<Store, 'events' | 'addEvent'>, config: unknown, source: string | null, at = Date.now()): Promise<boolean> {
  const now = flatten(config);
  const [last] = await store.events({ type: CONFIG_EVENT, limit: 1 });
  const before = (last?.data as { settings?: Record<string, unknown> } | null)?.settings ?? null;
  const changed = Object.keys({ ...now, ...(before ?? {}) })
    .filter((k) => JSON.stringify(now[k]) !== JSON.stringify(before?.[k]))
    .sort();
  if (before && !changed.length) return false;
  const diff = Object.fromEntries(changed.map((k) => [k, { old: before?.[k] ?? null, new: now[k] ?? null }]));
  await store.addEvent({
    at, deviceId: null, type: CONFIG_EVENT, level: 'warning', actor: 'configuration file', source,
    message: before
      ? `configuration changed: ${changed.map((k) => `${k} ${JSON.stringify(before[k] ?? null)} → ${JSON.stringify(now[k] ?? null)}`).join('; ').slice(0, 2000)}`
      : 'configuration recorded for the first time (the audit trail began)',
    data: { settings: now, changes: before ? diff : null },
  });
  return true;
}
