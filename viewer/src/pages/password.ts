// Changing one's own password: from the header at any time, and as the only page after an
// administrator set the password (the server refuses everything else until then). The server's
// policy decides; its refusal (too weak, wrong current password) is shown as it was given.
import { api, type Me } from '../api.ts';
import { dialogForm, field, formValues, h, message, show } from '../dom.ts';
import { reopenLive } from '../live.ts';

function passwordFields(): { current: HTMLInputElement; fresh: HTMLInputElement; again: HTMLInputElement; fields: HTMLElement[] } {
  const current = h('input', { name: 'currentPassword', type: 'password', autocomplete: 'current-password', required: true, maxlength: 200 });
  const fresh = h('input', { name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true, maxlength: 200 });
  const again = h('input', { name: 'newPasswordAgain', type: 'password', autocomplete: 'new-password', required: true, maxlength: 200 });
  return {
    current, fresh, again,
    fields: [field('Current password', current), field('New password', fresh, 'At least 10 characters; common, breached and easily guessed passwords are refused.'), field('New password again', again)],
  };
}

/** Sends the change; the two new entries must match before the server is asked. */
async function changePassword(values: Record<string, string>): Promise<Me> {
  if (values.newPassword !== values.newPasswordAgain) throw new Error('the two new passwords differ; type the same one twice');
  const renewed = await api<Me>('POST', '/session/password', { currentPassword: values.currentPassword, newPassword: values.newPassword });
  reopenLive();   // the live stream follows the renewed session cookie
  return renewed;
}

/** The header's "Change password": a dialog that stays open until the server accepts. Resolves with the renewed session, or null. */
export async function changePasswordDialog(): Promise<Me | null> {
  let changed: Me | null = null;
  await dialogForm('Change your password', passwordFields().fields, 'Change password', async (values) => { changed = await changePassword(values); });
  return changed;
}

/** The whole page while a change is required: nothing else is reachable until it succeeds. */
export function renderRequiredPasswordChange(view: HTMLElement, me: Me, changed: (me: Me) => void, signOut: () => void): void {
  const status = h('div');
  const { current, fields } = passwordFields();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Change password');
  const form = h('form', { class: 'login', 'aria-label': 'Choose your own password', onsubmit: async (event: Event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      changed(await changePassword(formValues(form)));
    } catch (err) {
      show(status, message((err as Error).message, 'error'));
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, 'Choose your own password'),
  h('p', {}, `${me.username}, an administrator set your password. Before you continue, replace it with one only you know.`),
  ...fields, submit, status,
  h('p', {}, h('button', { type: 'button', onclick: signOut }, 'Sign out')));
  show(view, form);
  current.focus();
}
