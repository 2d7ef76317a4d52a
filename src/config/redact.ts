// Secrets never printed: a copy of the configuration (or any settings object) with every value whose
// key names a secret replaced by a note saying whether it is set. Used by `inlet config check` and
// anywhere settings are shown or logged.
const SECRET_KEY = /password|passphrase|secret|token|connectionstring|apikey|privatekey/i;

export const HIDDEN = '(set, hidden)';

export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    copy[key] = SECRET_KEY.test(key) && typeof v === 'string' ? (v ? HIDDEN : '') : redactSecrets(v);
  }
  return copy as T;
}
