// The one request shape a device upload has, read without node:http: `POST /ingest/<segment>/<token>
// HTTP/1.1` with Host and a Content-Length, no transfer coding, nothing to negotiate. Anything else —
// another method or version, a chunked body, Expect, Upgrade, a duplicated or malformed header, bytes
// outside printable ASCII — is not refused here but handed to node:http with the connection, which
// reads it as before (device-connections.ts). So this reader only has to be right about what it
// accepts, never about what it turns away.

/** Longest request head read here, as node:http's default limit (larger heads go to node:http, which answers 431). */
export const MAX_DEVICE_HEAD_BYTES = 16 * 1024;

export interface DeviceRequestHead {
  /** The request target as sent, e.g. /ingest/soap/k7Q2vX9pLr. */
  target: string;
  contentLength: number;
  /** The Content-Type header, '' when absent. */
  contentType: string;
  /** The device asked for the connection to be closed after the answer (Connection: close). */
  close: boolean;
}

const REQUEST_LINE = /^POST (\/ingest\/[\x21-\x7e]*) HTTP\/1\.1$/;
// RFC 9110 field name (token) and a value of printable ASCII, spaces and tabs; no obs-fold, no obs-text.
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\x20-\x7e\t]*?)[ \t]*$/;
const DIGITS = /^\d{1,10}$/;

/**
 * Reads a request head, `head` being the bytes before its blank line (CRLF CRLF excluded).
 * Returns null for every request that is not a plain device upload: node:http reads those.
 */
export function parseDeviceRequestHead(head: string): DeviceRequestHead | null {
  const lines = head.split('\r\n');
  const requestLine = REQUEST_LINE.exec(lines[0]);
  if (!requestLine) return null;
  let contentLength = -1;
  let contentType: string | null = null;
  let close = false;
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const field = FIELD.exec(lines[i]);
    if (!field) return null;
    const name = field[1].toLowerCase();
    const value = field[2];
    switch (name) {
      case 'content-length':
        if (contentLength !== -1 || !DIGITS.test(value)) return null;
        contentLength = Number(value);
        break;
      case 'content-type':
        if (contentType !== null) return null;
        contentType = value;
        break;
      case 'host':
        hosts++;
        break;
      case 'connection':
        for (const option of value.toLowerCase().split(',')) {
          const o = option.trim();
          if (o === 'close') close = true;
          else if (o !== 'keep-alive' && o !== '') return null;
        }
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return null;
      default:
        break;
    }
  }
  if (contentLength < 0 || hosts !== 1) return null;
  return { target: requestLine[1], contentLength, contentType: contentType ?? '', close };
}
