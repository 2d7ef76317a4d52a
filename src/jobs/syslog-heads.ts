// The chain heads sent to a syslog server after every verification (config audit.syslog), besides
// the signed heads file beside chain.key: a copy on another machine, which someone who can rewrite
// this server's disk cannot take back. RFC 5424 messages, over UDP (one datagram each) or TCP
// (octet-counted frames, RFC 6587). One summary message says the outcome, the audit chain's head,
// how many chains there are and the heads file's HMAC (checkable with chain.key); the upload chains'
// heads follow in parts small enough for one UDP datagram each.
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { headsSignature, type ExportedHeads } from '../store/heads-file.ts';
import type { IntegrityReport } from './verify.ts';

export interface SyslogSettings {
  enabled: boolean;
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  /** RFC 5424 facility; 13 is "log audit". */
  facility: number;
  timeoutMs: number;
}

/** The SD-ID of our structured data: "inlet" under 32473, the private enterprise number RFC 5612 sets aside for documentation. */
export const SD_ID = 'inlet@32473';
const SEVERITY = { alert: 1, notice: 5 } as const;
/** Keeps each message within a datagram every receiver takes without fragmenting on a LAN. */
const UDP_MESSAGE_BYTES = 1400;
const TCP_MESSAGE_BYTES = 8000;

/** RFC 5424 §6.3.3: ", \ and ] are escaped in a PARAM-VALUE. */
function paramValue(value: string | number): string {
  return String(value).replace(/[\\"\]]/g, (c) => `\\${c}`);
}

export function structuredData(params: Record<string, string | number>): string {
  return `[${SD_ID}${Object.entries(params).map(([name, value]) => ` ${name}="${paramValue(value)}"`).join('')}]`;
}

/** One RFC 5424 message: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG. */
export function syslogMessage(facility: number, severity: number, at: number, msgId: string, sd: string, text: string): string {
  const host = (os.hostname() || '-').replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
  return `<${facility * 8 + severity}>1 ${new Date(at).toISOString()} ${host} inlet ${process.pid} ${msgId} ${sd} ${text}`;
}

/** The messages one verification sends: the summary, then the upload chains' heads in parts. */
export function headsMessages(report: IntegrityReport, key: Uint8Array | null, settings: Pick<SyslogSettings, 'facility' | 'protocol'>): string[] {
  const heads: ExportedHeads = {
    writtenAt: report.finishedAt,
    uploads: report.heads.map((h) => ({ chain: h.chain, uploadId: h.uploadId, hash: h.hash.toString('hex') })),
    events: report.eventsHead ? { id: report.eventsHead.id, hash: report.eventsHead.hash.toString('hex') } : null,
  };
  const severity = report.ok ? SEVERITY.notice : SEVERITY.alert;
  const summary = syslogMessage(settings.facility, severity, report.finishedAt, 'chain-heads', structuredData({
    outcome: report.ok ? 'intact' : 'broken', problems: report.problemCount, verifiedAt: new Date(report.finishedAt).toISOString(),
    uploads: report.uploadsChecked, chains: heads.uploads.length,
    eventsHeadId: heads.events?.id ?? 0, eventsHeadHash: heads.events?.hash ?? '-',
    headsHmac: key ? headsSignature(key, heads) : '-',
  }), report.ok
    ? `inlet verify: integrity OK; heads of ${heads.uploads.length} upload chains follow`
    : `inlet verify: INTEGRITY BROKEN, ${report.problemCount} problem(s); the heads as found follow`);
  const budget = settings.protocol === 'udp' ? UDP_MESSAGE_BYTES : TCP_MESSAGE_BYTES;
  const messages = [summary];
  let part: string[] = [];
  let partBytes = 0;
  const flush = () => {
    if (!part.length) return;
    const sd = structuredData({ verifiedAt: new Date(report.finishedAt).toISOString(), part: messages.length });
    messages.push(syslogMessage(settings.facility, severity, report.finishedAt, 'chain-heads-part', sd, part.join(' ')));
    part = [];
    partBytes = 0;
  };
  // Header and structured data take under 400 bytes (a host name of at most 255): the rest is for heads.
  for (const h of heads.uploads) {
    const entry = `${h.chain}:${h.uploadId}:${h.hash}`;
    if (part.length && partBytes + 1 + entry.length + 400 > budget) flush();
    part.push(entry);
    partBytes += entry.length + 1;
  }
  flush();
  return messages;
}

function sendUdp(settings: SyslogSettings, messages: string[]): Promise<void> {
  const socket = dgram.createSocket(net.isIPv6(settings.host) ? 'udp6' : 'udp4');
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error(`no answer from the resolver or network within ${settings.timeoutMs} ms`)); }, settings.timeoutMs);
    socket.once('error', (err) => { clearTimeout(timer); socket.close(); reject(err); });
    let i = 0;
    const next = () => {
      if (i === messages.length) { clearTimeout(timer); socket.close(); resolve(); return; }
      socket.send(Buffer.from(messages[i++], 'utf8'), settings.port, settings.host, (err) => {
        if (err) { clearTimeout(timer); socket.close(); reject(err); return; }
        next();
      });
    };
    next();
  });
}

function sendTcp(settings: SyslogSettings, messages: string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: settings.host, port: settings.port });
    socket.setTimeout(settings.timeoutMs, () => socket.destroy(new Error(`no connection or answer within ${settings.timeoutMs} ms`)));
    socket.once('error', reject);
    socket.once('connect', () => {
      // RFC 6587 octet counting: "LENGTH SP MESSAGE", so a message may hold any character.
      const frames = messages.map((m) => { const bytes = Buffer.from(m, 'utf8'); return Buffer.concat([Buffer.from(`${bytes.length} `), bytes]); });
      socket.end(Buffer.concat(frames), () => resolve());
    });
  });
}

/** Sends the heads of one verification; throws with the reason when the syslog server cannot be reached. */
export async function exportHeadsToSyslog(settings: SyslogSettings, report: IntegrityReport, key: Uint8Array | null): Promise<number> {
  const messages = headsMessages(report, key, settings);
  if (settings.protocol === 'tcp') await sendTcp(settings, messages);
  else await sendUdp(settings, messages);
  return messages.length;
}
