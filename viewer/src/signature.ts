// Electronic signatures in the viewer: where the server asks for one (acknowledging alarms,
// releasing quarantined data, changing limits or units) the user types their password again and
// chooses what the signature means. Sent as `signature: { password, meaning }` (src/api/signatures.ts).
import { field, h } from './dom.ts';

export const SIGNATURE_MEANINGS = ['reviewed', 'approved', 'acknowledged', 'released', 'confirmed', 'responsible'] as const;

/** Password and meaning inputs, named signaturePassword and signatureMeaning, for a form or dialog. */
export function signatureInputs(defaultMeaning: (typeof SIGNATURE_MEANINGS)[number], label = 'your electronic signature'): { password: HTMLInputElement; meaning: HTMLSelectElement } {
  const password = h('input', { type: 'password', name: 'signaturePassword', required: true, autocomplete: 'current-password', 'aria-label': `Password for ${label}` }) as HTMLInputElement;
  const meaning = h('select', { name: 'signatureMeaning', 'aria-label': 'Meaning of the signature' },
    SIGNATURE_MEANINGS.map((m) => h('option', { value: m, ...(m === defaultMeaning ? { selected: true } : {}) }, m))) as HTMLSelectElement;
  return { password, meaning };
}

/** The two inputs as labelled dialog fields. */
export function signatureFields(defaultMeaning: (typeof SIGNATURE_MEANINGS)[number]): HTMLElement[] {
  const { password, meaning } = signatureInputs(defaultMeaning);
  // Labelled by the fields' <label>s here; an aria-label would override them.
  password.removeAttribute('aria-label');
  meaning.removeAttribute('aria-label');
  return [
    h('p', { class: 'meta' }, 'Sign this change: your password again, and what your signature means.'),
    field('Your password (signature)', password), field('Signature meaning', meaning),
  ];
}

/** The request member from a dialog's values or the inputs. */
export function signatureOf(values: { signaturePassword?: string; signatureMeaning?: string }): { password: string; meaning: string } {
  return { password: values.signaturePassword ?? '', meaning: values.signatureMeaning ?? 'reviewed' };
}
