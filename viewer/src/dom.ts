// Building DOM from code: text is always set as text (never parsed as HTML), so names and
// messages from devices or users cannot inject markup.
type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces everything inside el. */
export function show(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren(...children.flat().filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
}

/** A status line for results and errors; screen readers announce it. */
export function message(text: string, kind: 'info' | 'error' = 'info'): HTMLElement {
  return h('p', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Reads a form's named fields as strings (checkboxes as "on" or absent). */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  new FormData(form).forEach((v, k) => { values[k] = String(v); });
  return values;
}

/**
 * A modal form in a <dialog> (focus is kept inside and Escape cancels). Resolves with the
 * field values, or null when cancelled. With `submit`, the dialog stays open until it succeeds:
 * its error is shown in the dialog and nothing typed is lost.
 */
export function dialogForm(title: string, fields: (Node | null)[], submitLabel: string, submit?: (values: Record<string, string>) => Promise<void>): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const problem = h('div', { class: 'dialog-status' });
    const ok = h('button', { type: 'submit', value: 'ok', class: 'primary' }, submitLabel);
    const form = h('form', { method: 'dialog' },
      h('h2', {}, title), ...fields.filter((f): f is Node => f !== null), problem,
      h('div', { class: 'actions' },
        ok,
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel')));
    const dialog = h('dialog', { 'aria-label': title }, form);
    let done = false;
    if (submit) {
      form.addEventListener('submit', (event) => {
        if ((event as SubmitEvent).submitter !== ok || done) return;
        event.preventDefault();
        ok.disabled = true;
        const values = formValues(form);
        submit(values).then(() => { done = true; dialog.close('ok'); }, (err: Error) => {
          show(problem, message(err.message, 'error'));
          ok.disabled = false;
        });
      });
    }
    dialog.addEventListener('close', () => {
      const values = dialog.returnValue === 'ok' ? formValues(form) : null;
      dialog.remove();
      resolve(values);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * The reason every configuration change carries (issue 18): required and not blank, so the form
 * does not submit without it (the server refuses it too, with 400 "reason required").
 */
export function reasonField(placeholder = 'why this change is made'): HTMLElement {
  // The browser's own words ("Please match the requested format") do not say what is wanted: say it.
  const input = h('input', {
    name: 'reason', required: true, maxlength: 500, pattern: '.*\\S.*', placeholder, autocomplete: 'off',
    oninvalid: (event: Event) => (event.target as HTMLInputElement).setCustomValidity('A reason is required: say why this change is made (spaces alone are not a reason).'),
    oninput: (event: Event) => (event.target as HTMLInputElement).setCustomValidity(''),
  });
  return field('Reason', input, 'required: kept in the audit trail with the change');
}

/** A labelled input; the label is tied to the field for screen readers and clicks. */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  const id = `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', {}, hint) : null);
}
