// The contract every device family implements. An adapter knows one wire format only:
// bytes -> Upload, and a pipeline Verdict -> the exact answer that device family expects.
import type { Family, Upload, Verdict } from '../domain/types.ts';

export interface RequestContext {
  entryToken: string;
  receivedAt: number;        // ms UTC
  remoteAddress: string;
  contentType: string;
}

export type ParseResult =
  | { ok: true; upload: Upload }
  | { ok: false; reason: string; status: number; serial?: string };

export interface DeviceAnswer {
  status: number;
  contentType: string;
  body: string | Buffer;
  /**
   * The pipeline's verdict, sent as X-Inlet-Verdict / X-Inlet-Reason headers beside the family's own
   * answer (devices ignore them): a SOAP answer is 200 whether the upload was stored or kept aside,
   * and the simulator and tests must tell which.
   */
  verdict?: { kind: string; reason: string };
}

export interface IngestAdapter {
  family: Family;
  /** URL path segment: devices post to /ingest/<pathSegment>/<entryToken>. */
  pathSegment: string;
  /** Largest body accepted, bytes. */
  maxBodyBytes: number;
  parse(raw: Buffer, ctx: RequestContext): ParseResult;
  /** The answer for a decided upload (upload is null when parsing failed). */
  answer(verdict: Verdict, upload: Upload | null): DeviceAnswer;
}
