// Making, signing and verifying report PDFs. Each PDF gets a fresh verification code, printed on
// every page and in the document info; the SHA-256 of its content (the report model) and of the
// file are recorded with the code in issued_reports and as an event. `inlet report verify` hashes a
// file and looks it up: found means made by this Inlet and unchanged since. Signing rebuilds the
// report from the recorded request and refuses when its content is no longer the one recorded, so
// a signature always applies to exactly what the approver was shown.
import { createHash, randomBytes } from 'node:crypto';
import type { InletConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { IssuedReport } from '../store/report-records.ts';
import type { ReportModel, ReportRequest, ReportSettings } from './model.ts';
import { drawInThread, type DrawReport } from './draw.ts';

export class ReportConflictError extends Error {}
export class ReportNotFoundError extends Error {}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_PATTERN = /inlet-verification-code:([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/;

/** 80 random bits as "7KQ2-M9XD-4TBE-HW3A" (Crockford base32: no I, L, O or U to misread). */
export function newVerificationCode(): string {
  const bytes = randomBytes(10);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let text = '';
  for (let i = 0; i < 16; i++) { text = CROCKFORD[Number(bits & 31n)] + text; bits >>= 5n; }
  return text.match(/.{4}/g)!.join('-');
}

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The hash of what a report says (the model), independent of when and by whom it was drawn. */
export function contentDigest(model: ReportModel): string {
  return sha256(JSON.stringify(model));
}

/** Reads the verification code back out of a PDF's document info; null when it has none. */
export function codeInPdf(pdf: Buffer): string | null {
  return CODE_PATTERN.exec(pdf.toString('latin1'))?.[1] ?? null;
}

export function reportSettings(config: InletConfig, version: string): ReportSettings {
  return { site: config.reports.site, activationEnergyKJPerMol: config.reports.activationEnergyKJPerMol, version };
}

export function reportTimeZone(config: InletConfig): string {
  return config.reports.timezone || config.jobs.timezone || 'UTC';
}

export interface MadeReport { pdf: Buffer; issued: IssuedReport; model: ReportModel }

function describeRequest(request: ReportRequest, model: ReportModel): Record<string, unknown> {
  return {
    deviceIds: request.deviceIds, ...(request.channels ? { channels: request.channels } : {}), from: request.from, to: request.to,
    timeZone: request.timeZone, ...(request.title ? { title: request.title } : { title: model.title }),
    period: `${new Date(request.from).toISOString()} – ${new Date(request.to).toISOString()}`,
  };
}

/** Builds, draws (on this thread unless told where) and records one report. */
/** `source`: where the report was asked for (the client's address, `cli@host`), for its event. */
export async function makeReport(
  store: Store, request: ReportRequest, settings: ReportSettings, generatedBy: string, now: number = Date.now(), draw: DrawReport = drawInThread(store), source: string | null = null,
): Promise<MadeReport> {
  const code = newVerificationCode();
  const { model, pdf } = await draw(request, settings, now, { code, generatedAt: now, generatedBy, signature: null });
  const issued: IssuedReport = {
    code, fileSha256: sha256(pdf), contentSha256: contentDigest(model), generatedAt: now, generatedBy,
    request: describeRequest(request, model), signature: null,
  };
  await store.recordIssuedReport(issued, source);
  return { pdf, issued, model };
}

/**
 * Makes the signed copy of the report `code`: the same content with the signature shown. The
 * caller has checked the signer's password (verifySignature). Refuses a signed copy, an unknown code, and a report
 * whose data changed since it was made.
 */
export async function signReport(
  store: Store, code: string, signer: string, meaning: string, settings: ReportSettings, now: number = Date.now(), draw: DrawReport = drawInThread(store), source: string | null = null,
): Promise<MadeReport> {
  const original = await store.findIssuedReport({ code });
  if (!original) throw new ReportNotFoundError(`no report with verification code ${code}`);
  if (original.signature) throw new ReportConflictError(`report ${code} is itself a signed copy (of ${original.signature.signsCode}): sign the original`);
  const r = original.request as { deviceIds: number[]; channels?: string[]; from: number; to: number; timeZone: string; title?: string };
  const request: ReportRequest = { deviceIds: r.deviceIds, channels: r.channels, from: r.from, to: r.to, timeZone: r.timeZone, title: r.title };
  const signedCode = newVerificationCode();
  const signature = { by: signer, at: now, meaning, signsCode: code };
  // The content is rebuilt as it was made (the same "now" for a period that was still running then)
  // and drawn with the signature; it is kept only if it is the content that was issued.
  const { model, pdf } = await draw(request, settings, original.generatedAt, { code: signedCode, generatedAt: now, generatedBy: signer, signature });
  if (contentDigest(model) !== original.contentSha256) {
    throw new ReportConflictError(`the data behind report ${code} changed after it was made (late samples, an acknowledged alarm, or new events): make a new report, check it, and sign that one`);
  }
  const issued: IssuedReport = {
    code: signedCode, fileSha256: sha256(pdf), contentSha256: original.contentSha256, generatedAt: now, generatedBy: signer, request: original.request, signature,
  };
  await store.recordIssuedReport(issued, source);
  return { pdf, issued, model };
}

export type Verification =
  | { verdict: 'authentic'; issued: IssuedReport }
  | { verdict: 'altered'; code: string; issued: IssuedReport | undefined }
  | { verdict: 'unknown' };

/** authentic: this exact file was issued here; altered: it names a code but is not that file; unknown: no trace of it. */
export async function verifyReportPdf(store: Store, pdf: Buffer): Promise<Verification> {
  const issued = await store.findIssuedReport({ fileSha256: sha256(pdf) });
  if (issued) return { verdict: 'authentic', issued };
  const code = codeInPdf(pdf);
  if (code) return { verdict: 'altered', code, issued: await store.findIssuedReport({ code }) };
  return { verdict: 'unknown' };
}
