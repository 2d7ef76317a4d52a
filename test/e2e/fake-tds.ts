// A few hundred bytes of SQL Server's wire protocol (TDS 7.4), enough to drive the real mssql/tedious
// driver through a refused login, a successful one, and a statement the server refuses: the answers
// a real server gives when the database is missing, the password is wrong or a right is lacking.
// It speaks only without TLS (Encrypt=False), answers the pre-login with "encryption not supported",
// and ignores what the client sends beyond its packet type.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TdsError { number: number; message: string; state?: number; severity?: number }

/** Columns as NVARCHAR(4000) or nullable integers (INTN) of 4 or 8 bytes; enough for metadata queries. */
export interface ResultSet {
  columns: { name: string; type: 'nvarchar' | 'int' | 'bigint' }[];
  rows: (string | number | null)[][];
}

export interface FakeTdsBehaviour {
  /** Errors sent in answer to the login; none means the login succeeds. */
  loginErrors?: TdsError[];
  /** Errors sent in answer to every SQL batch or RPC after a successful login; none means an empty success. */
  requestErrors?: TdsError[];
  /** Answer no SQL batch or RPC at all (a server that hangs), so the driver's request timeout fires. */
  silentRequests?: boolean;
  /** Answer every SQL batch or RPC with this one result set (when no requestErrors are set). */
  resultSet?: ResultSet;
  /**
   * Answer a statement with the result set this returns for its text (undefined: as without it). The
   * text is the request decoded as UCS-2 at both byte alignments, enough to match a table's name.
   */
  resultSetFor?: (text: string) => ResultSet | undefined;
}

/** One statement the peer received: the application name its connection logged in with, and its text (see resultSetFor). */
export interface ReceivedRequest { appName: string; text: string }

const PACKET = { SQL_BATCH: 0x01, RPC: 0x03, TABULAR_RESULT: 0x04, ATTENTION: 0x06, TRANSACTION_MANAGER: 0x0e, LOGIN7: 0x10, PRELOGIN: 0x12 } as const;
const TOKEN = { COLMETADATA: 0x81, ERROR: 0xaa, LOGINACK: 0xad, ROW: 0xd1, DONE: 0xfd } as const;
const TYPE = { INTN: 0x26, NVARCHAR: 0xe7 } as const;
const DONE_COUNT = 0x0010;
const DONE_ERROR = 0x0002;

function packet(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt8(0x01, 1); // end of message
  header.writeUInt16BE(payload.length + 8, 2);
  header.writeUInt8(1, 6);
  return Buffer.concat([header, payload]);
}

const ucs2 = (text: string) => Buffer.from(text, 'utf16le');

function bVarChar(text: string): Buffer {
  return Buffer.concat([Buffer.from([text.length]), ucs2(text)]);
}

function usVarChar(text: string): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16LE(text.length);
  return Buffer.concat([length, ucs2(text)]);
}

function withLength(token: number, body: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt8(token, 0);
  head.writeUInt16LE(body.length, 1);
  return Buffer.concat([head, body]);
}

function errorToken(e: TdsError): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeInt32LE(e.number, 0);
  fixed.writeUInt8(e.state ?? 1, 4);
  fixed.writeUInt8(e.severity ?? 14, 5);
  const line = Buffer.alloc(4);
  line.writeInt32LE(1);
  return withLength(TOKEN.ERROR, Buffer.concat([fixed, usVarChar(e.message), bVarChar('FAKETDS'), bVarChar(''), line]));
}

function loginAckToken(): Buffer {
  const version = Buffer.alloc(5);
  version.writeUInt8(1, 0); // SQL_TSQL
  version.writeUInt32BE(0x74000004, 1); // TDS 7.4
  // ENVCHANGE 7: the database's collation (Latin1_General_CI_AS), which the driver needs to send varchar parameters.
  const collation = withLength(0xe3, Buffer.from([7, 5, 0x09, 0x04, 0xd0, 0x00, 0x34, 0]));
  return Buffer.concat([collation, withLength(TOKEN.LOGINACK, Buffer.concat([version, bVarChar('Microsoft SQL Server'), Buffer.from([16, 0, 0x10, 0x00])]))]);
}

function doneToken(status: number): Buffer {
  const done = Buffer.alloc(13);
  done.writeUInt8(TOKEN.DONE, 0);
  done.writeUInt16LE(status, 1);
  return done; // current command and row count stay zero
}

function u16(n: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; }
function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; }

function resultSetTokens(set: ResultSet): Buffer {
  const LATIN1_GENERAL_CI_AS = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);
  const metadata = [Buffer.from([TOKEN.COLMETADATA]), u16(set.columns.length), ...set.columns.flatMap((c) => [
    u32(0), u16(0x0001), // user type, flags: nullable
    c.type === 'nvarchar' ? Buffer.concat([Buffer.from([TYPE.NVARCHAR]), u16(8000), LATIN1_GENERAL_CI_AS]) : Buffer.from([TYPE.INTN, c.type === 'int' ? 4 : 8]),
    bVarChar(c.name),
  ])];
  const rows = set.rows.map((row) => Buffer.concat([Buffer.from([TOKEN.ROW]), ...row.map((value, i) => {
    const type = set.columns[i].type;
    if (type === 'nvarchar') return value === null ? u16(0xffff) : Buffer.concat([u16(Buffer.byteLength(String(value), 'utf16le')), ucs2(String(value))]);
    if (value === null) return Buffer.from([0]);
    const b = Buffer.alloc(type === 'int' ? 4 : 8);
    if (type === 'int') b.writeInt32LE(Number(value)); else b.writeBigInt64LE(BigInt(value));
    return Buffer.concat([Buffer.from([b.length]), b]);
  })]));
  const done = doneToken(DONE_COUNT);
  done.writeUInt32LE(set.rows.length, 5); // row count (low half of the 8-byte count)
  return Buffer.concat([...metadata, ...rows, done]);
}

function preloginAnswer(): Buffer {
  // Options: VERSION (6 bytes), ENCRYPTION (1 byte: 0x02 not supported), then the terminator.
  const table = Buffer.from([0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xff]);
  const data = Buffer.from([16, 0, 0x10, 0x00, 0, 0, 0x02]);
  return Buffer.concat([table, data]);
}

function answer(errors: TdsError[] | undefined, success: Buffer[]): Buffer {
  if (errors?.length) return Buffer.concat([...errors.map(errorToken), doneToken(DONE_ERROR)]);
  return Buffer.concat([...success, doneToken(0)]);
}

/**
 * The driver's own statements succeed whatever the behaviour, as they would on a server that refuses
 * ours: its session settings after login (a SQL batch of "set" lines: ALL_HEADERS, whose total length
 * comes first, then the text in UCS-2) and the pool's validation query, an RPC whose NVARCHAR parameter is exactly
 * "SELECT 1;" (its byte length, 18, just before the text).
 */
const VALIDATION = Buffer.from('SELECT 1;', 'utf16le');

function isDriverHousekeeping(type: number, payload: Buffer): boolean {
  if (type === PACKET.SQL_BATCH) {
    // The session settings: one "set <option> <value>" per line (set textsize, set xact_abort on, ...).
    const lines = payload.subarray(payload.readUInt32LE(0)).toString('utf16le').trim().split('\n');
    return lines.every((line) => /^set [a-z_]+( [\w-]+)+$/i.test(line.trim()));
  }
  const at = payload.indexOf(VALIDATION);
  return at >= 2 && payload.readUInt16LE(at - 2) === VALIDATION.length;
}

/**
 * The bytes from `offset` on read as UCS-2, from a fresh copy of even length: Node 24 crashed the
 * process (heap corruption) decoding UTF-16 straight from a pooled buffer at an odd offset or length.
 */
function ucs2From(bytes: Buffer, offset: number): string {
  const length = (bytes.length - offset) & ~1;
  const copy = Buffer.alloc(length);
  bytes.copy(copy, 0, offset, offset + length);
  return copy.toString('utf16le');
}

/** LOGIN7's application name: its offset and length in characters are at bytes 48 and 50 of the login record. */
function login7AppName(login: Buffer): string {
  const offset = login.readUInt16LE(48);
  const chars = login.readUInt16LE(50);
  return ucs2From(login.subarray(offset, offset + chars * 2), 0);
}

export interface FakeTdsServer {
  port: number; logins: number; requests: number;
  /** Every statement received (the driver's own housekeeping left out), in order. */
  received: ReceivedRequest[];
  /** The application name of every login, in order. */
  loginApps: string[];
  /** Cuts every open connection, as a failover does; the next request logs in again. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startFakeTds(behaviour: FakeTdsBehaviour): Promise<FakeTdsServer> {
  const sockets = new Set<net.Socket>();
  const state = { logins: 0, requests: 0 };
  const received: ReceivedRequest[] = [];
  const loginApps: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    let message: Buffer[] = [];
    let unanswered = false;
    let appName = '';
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8 && pending.length >= pending.readUInt16BE(2)) {
        const length = pending.readUInt16BE(2);
        const type = pending.readUInt8(0);
        const endOfMessage = (pending.readUInt8(1) & 0x01) === 1;
        message.push(pending.subarray(8, length));
        pending = pending.subarray(length);
        if (!endOfMessage) continue;
        const payload = Buffer.concat(message);
        message = [];
        if (type === PACKET.PRELOGIN) socket.write(packet(PACKET.TABULAR_RESULT, preloginAnswer()));
        else if (type === PACKET.LOGIN7) {
          state.logins++;
          appName = login7AppName(payload);
          loginApps.push(appName);
          socket.write(packet(PACKET.TABULAR_RESULT, answer(behaviour.loginErrors, [loginAckToken()])));
        } else if ((type === PACKET.SQL_BATCH || type === PACKET.RPC) && isDriverHousekeeping(type, payload)) {
          socket.write(packet(PACKET.TABULAR_RESULT, doneToken(0)));
        } else if (type === PACKET.SQL_BATCH || type === PACKET.RPC) {
          state.requests++;
          const text = `${ucs2From(payload, 0)}\n${ucs2From(payload, 1)}`;
          received.push({ appName, text });
          if (behaviour.silentRequests) { unanswered = true; continue; }
          const chosen = behaviour.requestErrors?.length ? undefined : behaviour.resultSetFor?.(text) ?? behaviour.resultSet;
          if (chosen) socket.write(packet(PACKET.TABULAR_RESULT, resultSetTokens(chosen)));
          else socket.write(packet(PACKET.TABULAR_RESULT, answer(behaviour.requestErrors, [])));
        } else if (type === PACKET.TRANSACTION_MANAGER) {
          // BEGIN, COMMIT and ROLLBACK TRANSACTION succeed, so a transaction's statements meet the errors.
          socket.write(packet(PACKET.TABULAR_RESULT, doneToken(0)));
        } else if (type === PACKET.ATTENTION) {
          // As SQL Server does: the cancelled request's response ends first, then the attention is acknowledged.
          if (unanswered) socket.write(packet(PACKET.TABULAR_RESULT, doneToken(0)));
          unanswered = false;
          socket.write(packet(PACKET.TABULAR_RESULT, doneToken(0x0020)));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get logins() { return state.logins; },
    get requests() { return state.requests; },
    received,
    loginApps,
    dropConnections: () => { for (const s of sockets) s.destroy(); },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
