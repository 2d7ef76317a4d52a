// The electronic signature asked for when acknowledging alarms and changing limits: the user's own
// password and what the signature means. Sent as `signature: { password, meaning }`; the server
// checks the password against the signed-in user.
import { field, h } from './dom.ts';

export const MEANINGS: [string, string][] = [['reviewed', 'Reviewed'], ['acknowledged', 'Acknowledged'], ['approved', 'Approved']];

export function signatureFields(meaning: string): HTMLElement[] {
  return [
    h('fieldset', { class: 'signature' }, h('legend', {}, 'Electronic signature'),
      field('Your password', h('input', { name: 'signaturePassword', type: 'password', required: true, autocomplete: 'current-password' })),
      field('Meaning', h('select', { name: 'signatureMeaning' }, MEANINGS.map(([value, label]) => h('option', { value, selected: value === meaning }, label))))),
  ];
}

export function signatureFrom(values: Record<string, string>): { password: string; meaning: string } {
  return { password: values.signaturePassword ?? '', meaning: values.signatureMeaning || 'reviewed' };
}

/** Password and meaning inputs for an inline form (the audit review): labelled by aria-label. */
export function signatureInputs(defaultMeaning: string, label = 'your electronic signature'): { password: HTMLInputElement; meaning: HTMLSelectElement } {
  const password = h('input', { type: 'password', name: 'signaturePassword', required: true, autocomplete: 'current-password', 'aria-label': `Password for ${label}` }) as HTMLInputElement;
  const meaning = h('select', { name: 'signatureMeaning', 'aria-label': 'Meaning of the signature' },
    MEANINGS.map(([value, text]) => h('option', { value, selected: value === defaultMeaning }, text))) as HTMLSelectElement;
  return { password, meaning };
}

export const signatureOf = signatureFrom;
