// The server-made PDF report (the same as `inlet report`): a button that downloads it for the
// report page's channels and range, and signing it, re-entering the password with the meaning
// "approved". The signed copy downloads in turn and shows the signature.
import { ApiError } from '../api.ts';
import { dialogForm, field, h, message, show } from '../dom.ts';

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Fetches a PDF, saves it under the server's file name, and returns the report's verification code. */
async function downloadPdf(method: 'GET' | 'POST', path: string, body?: unknown): Promise<string> {
  const res = await fetch(`/api${path}`, {
    method, credentials: 'same-origin',
    headers: { 'x-inlet-request': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const data = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` })) as { error?: string };
    throw new ApiError(res.status, data.error ?? `${res.status} ${res.statusText}`);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'inlet-report.pdf';
  const url = URL.createObjectURL(await res.blob());
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return res.headers.get('x-inlet-report-code') ?? '';
}

export function pdfReportTools(channels: string, range: { from: number; to: number }): HTMLElement {
  const status = h('div', { class: 'pdf-status', 'aria-live': 'polite' });
  const devices = [...new Set(channels.split(',').filter(Boolean).map((c) => c.split(':')[0]))].join(',');
  let code = '';
  const sign = h('button', { type: 'button', hidden: true, onclick: async () => {
    const values = await dialogForm(`Sign report ${code}`, [
      h('p', {}, 'Your signature means that you approve this report. Re-enter your password to sign it.'),
      field('Meaning', h('select', { name: 'meaning' }, h('option', { value: 'approved' }, 'approved'))),
      field('Password', h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' })),
    ], 'Sign');
    if (!values) return;
    try {
      const signed = await downloadPdf('POST', `/reports/${encodeURIComponent(code)}/sign`, { signature: { password: values.password, meaning: values.meaning } });
      show(status, message(`Report ${code} signed (${values.meaning}); the signed copy ${signed} was downloaded.`));
    } catch (err) {
      show(status, message((err as Error).message, 'error'));
    }
  } }, 'Sign…');
  const make = h('button', { type: 'button', class: 'primary', onclick: async () => {
    show(status, message('Making the PDF on the server…'));
    try {
      code = await downloadPdf('GET', `/report.pdf?${new URLSearchParams({ devices, channels, from: String(range.from), to: String(range.to), tz: ZONE })}`);
      show(status, message(`PDF report ${code} downloaded (times in ${ZONE}).`));
      sign.hidden = false;
    } catch (err) {
      show(status, message((err as Error).message, 'error'));
    }
  } }, 'PDF report');
  return h('span', { class: 'pdf-tools' }, make, sign, status);
}
