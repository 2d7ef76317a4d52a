// Sign-in. Wrong passwords and locked accounts get the server's own explanation.
import { api, type Me } from '../api.ts';
import { field, formValues, h, message, show } from '../dom.ts';

export function renderLogin(view: HTMLElement, signedIn: (me: Me) => void): void {
  const status = h('div');
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'login', onsubmit: async (event: Event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      signedIn(await api<Me>('POST', '/session', formValues(form)));
    } catch (err) {
      show(status, message((err as Error).message, 'error'));
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  } }, h('h1', {}, 'Inlet'), h('p', {}, 'Sign in to see your measurements.'), field('User name', username), field('Password', password), submit, status);
  show(view, form);
  username.focus();
}
