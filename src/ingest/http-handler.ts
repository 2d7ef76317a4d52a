// Device uploads: POST /ingest/<family>/<entry token>, decided here for both readers: the device
// reader (device-connections.ts, through `uploads`) for plain uploads, raw node:http (`handle`) for
// the rest. Kept off express on purpose (see bench/ingest-soap.ts): this path is hot and needs
// nothing express offers. Every answer has a Content-Length and is never chunked, as the devices require.
import type { LogSink } from '../domain/log-sink.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Upload, Verdict } from '../domain/types.ts';
import type { DeviceAnswer, IngestAdapter, RequestContext } from './adapter.ts';
import { headerText, type DeviceUploads } from './device-connections.ts';

/** What the ingest layer needs from the pipeline. */
export interface UploadDecider {
  accept(upload: Upload): Promise<Verdict>;
  reject(rejected: {
    family: IngestAdapter['family'] | 'unknown'; entryToken: string | null; receivedAt: number; remoteAddress: string;
    raw: Buffer; contentType: string; reason: string; serial?: string;
  }, status: number): Promise<Verdict>;
  /** Whether a device has this entry token; asked before the body is read. Absent: every token is read. */
  knowsEntryPoint?(token: string): Promise<boolean>;
  /** true when the token is already known to lead to a device (answered without a promise), else undefined. */
  knowsEntryPointNow?(token: string): true | undefined;
  /** The verdict for an upload to an unknown entry point, whose body is never read. */
  refuseUnknownEntryPoint?(r: { family: IngestAdapter['family']; receivedAt: number; remoteAddress: string; contentType: string }): Verdict;
}

export type IngestLogger = Pick<LogSink, 'warn' | 'error'>;

export interface IngestHandlerOptions {
  adapters: IngestAdapter[];
  decider: UploadDecider;
  log: IngestLogger;
  now?: () => number;
}

const PREFIX = '/ingest/';
const TOKEN = /^[A-Za-z0-9_-]{8,64}$/;

function send(res: ServerResponse, answer: DeviceAnswer, close = false): void {
  const body = answer.body;
  // Headers as a flat list, and a text body handed over as text: node then writes the head and the
  // body in one piece, which an answer sent to every upload feels.
  const headers: (string | number)[] = ['Content-Type', answer.contentType, 'Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.length];
  if (close) headers.push('Connection', 'close');
  if (answer.verdict) headers.push('X-Inlet-Verdict', answer.verdict.kind, 'X-Inlet-Reason', headerText(answer.verdict.reason));
  res.writeHead(answer.status, headers);
  res.end(body);
}

function plain(status: number, message: string): DeviceAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${message}\n` };
}

/** A device's client certificate, when the HTTPS listener verified it against the configured CA (spec §8). */
function verifiedClientCertificate(socket: Socket) {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return null;
  const cert = socket.getPeerX509Certificate();
  return cert ? { subject: cert.subject, issuer: cert.issuer, serialNumber: cert.serialNumber, fingerprint256: cert.fingerprint256 } : null;
}

export interface IngestStats {
  inFlight: number;
  received: number;
  /** Bytes of the bodies read whole from known entry points (memory.ts sizes the young generation by their rate). */
  bodyBytes: number;
  tooLarge: number;
  unknownEntryPoints: number;
  /** Uploads read and answered by the device reader (device-connections.ts); the rest went through node:http. */
  readByDeviceReader: number;
}

/** Returns a request handler that answers /ingest/ requests and returns false for anything else. */
export function createIngestHandler(options: IngestHandlerOptions) {
  const bySegment = new Map(options.adapters.map((a) => [a.pathSegment, a]));
  const now = options.now ?? Date.now;
  const stats: IngestStats = { inFlight: 0, received: 0, bodyBytes: 0, tooLarge: 0, unknownEntryPoints: 0, readByDeviceReader: 0 };

  async function decide(adapter: IngestAdapter, raw: Buffer, ctx: RequestContext, socket: Socket): Promise<DeviceAnswer> {
    const parsed = adapter.parse(raw, ctx);
    if (!parsed.ok) {
      const verdict = await options.decider.reject({ family: adapter.family, ...ctx, raw, reason: parsed.reason, serial: parsed.serial }, parsed.status);
      return { ...adapter.answer(verdict, null), verdict: { kind: verdict.kind, reason: verdict.reason } };
    }
    const certificate = verifiedClientCertificate(socket);
    if (certificate) parsed.upload.meta.clientCertificate = certificate;
    const verdict = await options.decider.accept(parsed.upload);
    return { ...adapter.answer(verdict, parsed.upload), verdict: { kind: verdict.kind, reason: verdict.reason } };
  }

  /** The decision, or 503 asking the device to retry when the upload could not be journaled. */
  function decideOrRetryLater(adapter: IngestAdapter, raw: Buffer, ctx: RequestContext, socket: Socket): Promise<DeviceAnswer> {
    return decide(adapter, raw, ctx, socket).catch((err: Error) => {
      options.log.error('upload could not be stored; the device is asked to retry', { family: adapter.family, error: err.message });
      return adapter.answer({ kind: 'refused', reason: 'temporarily unable to store; retry later', httpStatus: 503, stored: 0, retryLater: true }, null);
    });
  }

  /** The answer to an upload to an entry point no device has, given before its body is read. */
  function refuseUnknown(adapter: IngestAdapter, receivedAt: number, remoteAddress: string, contentType: string): DeviceAnswer {
    stats.unknownEntryPoints++;
    const verdict = options.decider.refuseUnknownEntryPoint!({ family: adapter.family, receivedAt, remoteAddress, contentType: contentType.slice(0, 200) });
    return adapter.answer(verdict, null);
  }

  /** The family's adapter (undefined when the path names none) and the entry token of a request target. */
  function entryPointOf(url: string): { adapter: IngestAdapter | undefined; token: string } {
    const [segment = '', token = ''] = url.slice(PREFIX.length).split(/[/?#]/, 2);
    return { adapter: bySegment.get(segment), token };
  }

  /**
   * Plain uploads read by device-connections.ts without node:http, within the family's body limit:
   * a token not seen before is looked up first, and an unknown one refused before its body is read,
   * as handle() does. The rest (a malformed path or token, a body over the limit) go to handle()
   * below through node:http, which answers them as before.
   */
  const uploads: DeviceUploads<{ adapter: IngestAdapter; token: string }> = {
    route(head, socket) {
      const { adapter, token } = entryPointOf(head.target);
      if (!adapter || head.contentLength > adapter.maxBodyBytes || !TOKEN.test(token)) return null;
      const { decider } = options;
      if (decider.knowsEntryPointNow?.(token)) return { route: { adapter, token } };
      if (!decider.knowsEntryPoint || !decider.refuseUnknownEntryPoint) return null;
      return decider.knowsEntryPoint(token).then((known) => {
        if (known) return { route: { adapter, token } };
        stats.received++;
        return { refusal: refuseUnknown(adapter, now(), socket.remoteAddress ?? '', head.contentType) };
      });
    },
    decide({ adapter, token }, body, socket, head) {
      const receivedAt = now();
      stats.received++;
      stats.readByDeviceReader++;
      stats.inFlight++;
      stats.bodyBytes += body.length;
      const ctx = { entryToken: token, receivedAt, remoteAddress: socket.remoteAddress ?? '', contentType: head.contentType };
      return decideOrRetryLater(adapter, body, ctx, socket).finally(() => { stats.inFlight--; });
    },
  };

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    if (!url.startsWith(PREFIX)) return false;
    const receivedAt = now();
    stats.received++;
    const { adapter: found, token } = entryPointOf(url);
    if (!found || !TOKEN.test(token)) {
      req.resume();
      send(res, plain(404, `no such ingest entry point: use /ingest/{${[...bySegment.keys()].join('|')}}/<entry token> as printed by 'inlet device add'`));
      return true;
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      send(res, plain(405, 'devices upload with POST'));
      return true;
    }
    const adapter: IngestAdapter = found;
    const chunks: Buffer[] = [];
    let size = 0;
    let overLimit = false;
    stats.inFlight++;
    let done = false;
    const finish = (answer: DeviceAnswer, close = false) => {
      if (!done) { done = true; stats.inFlight--; }
      if (!res.headersSent && !res.destroyed) send(res, answer, close);
    };
    req.on('error', () => { if (!done) { done = true; stats.inFlight--; } if (!res.headersSent) res.destroy(); });
    const { knowsEntryPoint, refuseUnknownEntryPoint } = options.decider;
    if (options.decider.knowsEntryPointNow?.(token)) {
      readBody();
    } else if (knowsEntryPoint && refuseUnknownEntryPoint) {
      // Nothing of an unknown entry point's body is read, so a flood of them costs no memory, no disk
      // and no parsing: the answer goes out with Connection: close and the socket is ended after it.
      req.pause();
      knowsEntryPoint.call(options.decider, token).then((known) => {
        if (known) { readBody(); return; }
        const refusal = refuseUnknown(adapter, receivedAt, req.socket.remoteAddress ?? '', String(req.headers['content-type'] ?? ''));
        res.once('finish', () => req.socket.destroySoon());
        finish(refusal, true);
      }, (err: Error) => {
        options.log.error('could not look up an entry point; the device is asked to retry', { family: adapter.family, error: err.message });
        finish(adapter.answer({ kind: 'refused', reason: 'temporarily unable to store; retry later', httpStatus: 503, stored: 0, retryLater: true }, null), true);
      });
    } else {
      readBody();
    }
    return true;

    function readBody(): void {
      // The first maxBodyBytes are archived with the refusal; the rest is never read.
      const refuseTooLarge = () => {
        stats.tooLarge++;
        req.pause();
        const reason = `body over the ${adapter.maxBodyBytes}-byte limit for ${adapter.family} uploads`;
        const raw = Buffer.concat(chunks).subarray(0, adapter.maxBodyBytes);
        options.decider.reject({
          family: adapter.family, entryToken: token, receivedAt, remoteAddress: req.socket.remoteAddress ?? '', raw,
          contentType: String(req.headers['content-type'] ?? ''), reason,
        }, 413).catch((err) => options.log.error('could not archive an oversized upload', { error: (err as Error).message }))
          .finally(() => finish(plain(413, reason), true));
      };
      req.on('data', (chunk: Buffer) => {
        if (overLimit) return;
        size += chunk.length;
        chunks.push(chunk);
        if (size > adapter.maxBodyBytes) {
          overLimit = true;
          refuseTooLarge();
        }
      });
      req.on('end', () => {
        if (overLimit) return;
        const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        stats.bodyBytes += size;
        const ctx = { entryToken: token, receivedAt, remoteAddress: req.socket.remoteAddress ?? '', contentType: String(req.headers['content-type'] ?? '') };
        decideOrRetryLater(adapter, raw, ctx, req.socket).then((answer) => finish(answer));
      });
      req.resume();
    }
  }

  return { handle, uploads, stats };
}
