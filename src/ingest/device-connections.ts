// Device connections read without node:http's request machinery. A device upload is one small POST
// on a kept-alive connection, and node:http's general path (IncomingMessage, ServerResponse, header
// objects, streams) cost the answering thread about as much as everything Inlet does with the upload
// (bench:ingest). So each new connection is read here first: a plain upload (device-request-head.ts)
// is read whole, decided and answered by this file (an unknown entry point is refused before its
// body is read), and anything else — the viewer, a chunked body, a body over the family's limit, a
// malformed head — hands the connection, with every byte read so far, to node:http, which serves it
// from then on exactly as it would have from the start. Timeouts are node:http's settings:
// a head must be complete within headersTimeout, a request within requestTimeout (else 408 and
// close), and an idle kept-alive connection is closed after keepAliveTimeout.
import { STATUS_CODES } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { DeviceAnswer } from './adapter.ts';
import { MAX_DEVICE_HEAD_BYTES, parseDeviceRequestHead, type DeviceRequestHead } from './device-request-head.ts';

/** What an upload's head leads to: its route, an answer sent without reading the body, or null: node:http reads it. */
export type DeviceRouting<Route> = { route: Route } | { refusal: DeviceAnswer } | null;

/** Where a plain upload goes. */
export interface DeviceUploads<Route> {
  /**
   * The routing of a request head: a promise when the entry point must be looked up first (a token
   * not seen before); null hands the request to node:http (a body over the family's limit…).
   */
  route(head: DeviceRequestHead, socket: Socket): DeviceRouting<Route> | Promise<DeviceRouting<Route>>;
  /** Decides an upload whose body has been read whole; never rejects (errors become an answer). */
  decide(route: Route, body: Buffer, socket: Socket, head: DeviceRequestHead): Promise<DeviceAnswer>;
}

export interface DeviceConnectionTimeouts {
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** How often deadlines are checked, as node:http's connectionsCheckingInterval. */
  checkIntervalMs: number;
}

/** Bytes a connection may hold beyond the request being decided (a pipelining client) before it is paused. */
const MAX_BUFFERED_WHILE_DECIDING = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** A header value as sent: printable ASCII only (no accents or line breaks from a device name), 300 characters at most. */
export function headerText(text: string): string {
  return /^[\x20-\x7e]{0,300}$/.test(text) ? text : text.replace(/[^\x20-\x7e]+/g, '?').slice(0, 300);
}

let dateSecond = -1;
let dateText = '';
/** The Date header's value, formatted once a second as node:http does. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) { dateSecond = second; dateText = new Date(second * 1000).toUTCString(); }
  return dateText;
}

/** An answer's bytes: status line, headers, body; one write. */
export function deviceAnswerBytes(answer: DeviceAnswer, close: boolean, keepAliveS: number): Buffer | string {
  const body = answer.body;
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}\r\nContent-Type: ${headerText(answer.contentType)}\r\nContent-Length: ${length}\r\n`;
  if (answer.verdict) head += `X-Inlet-Verdict: ${headerText(answer.verdict.kind)}\r\nX-Inlet-Reason: ${headerText(answer.verdict.reason)}\r\n`;
  head += `Date: ${httpDate()}\r\n${close ? 'Connection: close\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveS}\r\n`}\r\n`;
  return typeof body === 'string' ? head + body : Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

class DeviceConnection<Route> {
  /** Bytes received and not yet consumed by a request. */
  private buffered: Buffer | null = null;
  /**
   * Room that `buffered` grows into (it starts at this buffer's first byte): a head trickled a byte at
   * a time is copied once per doubling, not once per byte, so a slow client costs what node:http's
   * incremental parser would. Dropped once a request is taken from it (its body may lie there).
   */
  private room: Buffer | null = null;
  /** Where the search for the head's end resumes (bytes before it have been searched). */
  private searchedTo = 0;
  private deciding = false;
  private requestStartedAt = 0;
  private closeAfterAnswer = false;
  /** An answer has been sent on this connection (a keep-alive timeout then closes it without one). */
  private answered = false;
  /** The routing of the head buffered, once its entry point has been looked up. */
  private looked: DeviceRouting<Route> | undefined;
  /** A body still arriving, its chunks kept as received and joined once (a logger's backlog is megabytes). */
  private body: { route: Route; head: DeviceRequestHead; chunks: Buffer[]; received: number } | null = null;
  /** When this connection is closed unless something happens (0: no deadline, an upload is being decided). */
  deadline: number;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onEnd = () => this.peerEnded();
  private readonly onError = () => this.socket.destroy();
  private readonly onClose = () => this.owner.forget(this);
  readonly socket: Socket;
  private readonly owner: DeviceConnections<Route>;
  private readonly handOffToHttp: (socket: Socket) => void;

  constructor(socket: Socket, owner: DeviceConnections<Route>, handOffToHttp: (socket: Socket) => void) {
    this.socket = socket;
    this.owner = owner;
    this.handOffToHttp = handOffToHttp;
    this.deadline = Date.now() + owner.timeouts.headersTimeoutMs;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  get idle(): boolean {
    return !this.deciding && this.buffered === null && this.body === null;
  }

  private receive(chunk: Buffer): void {
    if (this.body) { this.receiveBody(this.body, chunk); return; }
    this.buffered = this.buffered ? this.append(this.buffered, chunk) : chunk;
    if (this.deciding) {
      if (this.buffered.length > MAX_BUFFERED_WHILE_DECIDING) this.socket.pause();
      return;
    }
    this.next();
  }

  private append(buffered: Buffer, chunk: Buffer): Buffer {
    const length = buffered.length + chunk.length;
    const room = this.room;
    if (room && buffered.buffer === room.buffer && buffered.byteOffset === room.byteOffset && length <= room.length) {
      chunk.copy(room, buffered.length);
      return room.subarray(0, length);
    }
    const grown = Buffer.allocUnsafe(Math.max(length, 2 * buffered.length, 1024));
    buffered.copy(grown, 0);
    chunk.copy(grown, buffered.length);
    this.room = grown;
    return grown.subarray(0, length);
  }

  /** Reads the next request from what is buffered, if it is complete. */
  private next(): void {
    const buffered = this.buffered;
    if (buffered === null) {
      this.requestStartedAt = 0;
      this.deadline = Date.now() + this.owner.timeouts.keepAliveTimeoutMs;
      return;
    }
    if (this.requestStartedAt === 0) {
      this.requestStartedAt = Date.now();
      this.deadline = this.requestStartedAt + this.owner.timeouts.headersTimeoutMs;
    }
    const headEnd = buffered.indexOf(HEAD_END, Math.max(0, this.searchedTo - 3));
    if (headEnd < 0) {
      if (buffered.length > MAX_DEVICE_HEAD_BYTES) this.handOff();
      else this.searchedTo = buffered.length;
      return;
    }
    const head = headEnd <= MAX_DEVICE_HEAD_BYTES ? parseDeviceRequestHead(buffered.toString('latin1', 0, headEnd)) : null;
    if (!head) { this.handOff(); return; }
    const routing = this.looked ?? this.owner.uploads.route(head, this.socket);
    this.looked = undefined;
    if (routing instanceof Promise) {
      // A token not seen before: its lookup, then this head again (bytes arriving meanwhile are buffered).
      this.deciding = true;
      this.deadline = 0;
      routing.then((looked) => {
        this.deciding = false;
        if (this.socket.destroyed) return;
        this.looked = looked;
        this.next();
        // Paused while the lookup held more than a head (MAX_BUFFERED_WHILE_DECIDING): read on, unless handed off.
        if (this.socket.isPaused() && (this.body || this.deciding)) this.socket.resume();
      }, () => {
        // The lookup failed (the store away): node:http reads the request and answers it as before (503).
        this.deciding = false;
        if (!this.socket.destroyed) this.handOff();
      });
      return;
    }
    if (routing === null) { this.handOff(); return; }
    if ('refusal' in routing) {
      // Unknown entry point: nothing of the body is read; the answer closes the connection.
      this.buffered = null;
      this.room = null;
      this.closeAfterAnswer = true;
      this.answer(routing.refusal);
      return;
    }
    const bodyStart = headEnd + 4;
    const bodyEnd = bodyStart + head.contentLength;
    this.searchedTo = 0;
    this.room = null;
    if (buffered.length < bodyEnd) {
      this.body = { route: routing.route, head, chunks: [buffered.subarray(bodyStart)], received: buffered.length - bodyStart };
      this.buffered = null;
      this.deadline = this.requestStartedAt + this.owner.timeouts.requestTimeoutMs;
      return;
    }
    this.buffered = buffered.length > bodyEnd ? buffered.subarray(bodyEnd) : null;
    this.decide(routing.route, head, buffered.subarray(bodyStart, bodyEnd));
  }

  private receiveBody(body: NonNullable<typeof this.body>, chunk: Buffer): void {
    body.chunks.push(chunk);
    body.received += chunk.length;
    const length = body.head.contentLength;
    if (body.received < length) return;
    this.body = null;
    const whole = body.chunks.length === 1 ? body.chunks[0] : Buffer.concat(body.chunks, body.received);
    // What follows the body (a pipelined request) is copied out, so it does not keep the body's memory.
    this.buffered = whole.length > length ? Buffer.from(whole.subarray(length)) : null;
    this.decide(body.route, body.head, whole.subarray(0, length));
  }

  private decide(route: Route, head: DeviceRequestHead, body: Buffer): void {
    this.deciding = true;
    this.deadline = 0;
    if (head.close) this.closeAfterAnswer = true;
    this.owner.uploads.decide(route, body, this.socket, head).then((answer) => this.answer(answer));
  }

  private answer(answer: DeviceAnswer): void {
    this.answered = true;
    this.deciding = false;
    this.requestStartedAt = 0;
    const socket = this.socket;
    if (socket.destroyed) return;
    const close = this.closeAfterAnswer || this.owner.closing;
    socket.write(deviceAnswerBytes(answer, close, this.owner.keepAliveS));
    if (close) {
      // Nothing more is read; the socket is destroyed once the answer is flushed, as node:http does.
      this.owner.forget(this);
      socket.removeListener('data', this.onData);
      socket.destroySoon();
      return;
    }
    if (socket.isPaused()) socket.resume();
    this.next();
  }

  /**
   * The device closed its side (the servers allow half-open connections): an upload being decided is
   * still answered, then the connection closed; anything else is closed now.
   */
  private peerEnded(): void {
    if (this.deciding) { this.closeAfterAnswer = true; return; }
    this.owner.forget(this);
    this.socket.destroy();
  }

  /** node:http reads this connection from here on, starting with the bytes buffered. */
  private handOff(): void {
    const socket = this.socket;
    this.owner.forget(this);
    socket.removeListener('data', this.onData);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('error', this.onError);
    socket.removeListener('close', this.onClose);
    socket.pause();
    if (this.buffered) socket.unshift(this.buffered);
    this.buffered = null;
    this.room = null;
    this.handOffToHttp(socket);
    socket.resume();
  }

  /**
   * Past its deadline, as node:http does: a request begun, or a new connection that sent nothing, is
   * answered 408 and closed (a browser retries a request it sent at that moment on a 408); a
   * kept-alive connection idle after an answer is closed.
   */
  expire(): void {
    this.owner.forget(this);
    const socket = this.socket;
    if ((this.requestStartedAt !== 0 || !this.answered) && socket.writable) {
      socket.write(deviceAnswerBytes({ status: 408, contentType: 'text/plain; charset=utf-8', body: 'request not received in time\n' }, true, 0));
    }
    socket.destroy();
  }
}

/** The device connections of one or more listeners, with their deadlines. */
export class DeviceConnections<Route> {
  private readonly open = new Set<DeviceConnection<Route>>();
  private readonly checker: NodeJS.Timeout;
  readonly keepAliveS: number;
  closing = false;
  readonly uploads: DeviceUploads<Route>;
  readonly timeouts: DeviceConnectionTimeouts;

  constructor(uploads: DeviceUploads<Route>, timeouts: DeviceConnectionTimeouts) {
    this.uploads = uploads;
    this.timeouts = timeouts;
    this.keepAliveS = Math.floor(timeouts.keepAliveTimeoutMs / 1000);
    this.checker = setInterval(() => this.expireOverdue(), timeouts.checkIntervalMs).unref();
  }

  /**
   * Takes over a node:http (or https) server's connections: each is read here first, and handed to
   * the server's own listener for the event (`connection`, or `secureConnection` for TLS) when it is
   * not a plain device upload. The server keeps listening, closing and tracking what it is handed.
   */
  readFrom(server: NetServer, event: 'connection' | 'secureConnection'): void {
    const [serverListener, ...others] = server.listeners(event) as ((socket: Socket) => void)[];
    if (!serverListener || others.length > 0) throw new Error(`expected the server's one ${event} listener`);
    server.removeListener(event, serverListener);
    server.on(event, (socket: Socket) => {
      if (this.closing) { serverListener.call(server, socket); return; }
      this.open.add(new DeviceConnection(socket, this, (s) => serverListener.call(server, s)));
    });
  }

  forget(connection: DeviceConnection<Route>): void {
    this.open.delete(connection);
  }

  get size(): number {
    return this.open.size;
  }

  private expireOverdue(): void {
    const now = Date.now();
    for (const c of this.open) if (c.deadline !== 0 && now >= c.deadline) c.expire();
  }

  /** Stopping: idle connections are closed now, the others after their answer. */
  closeIdle(): void {
    this.closing = true;
    for (const c of this.open) if (c.idle) { this.forget(c); c.socket.destroy(); }
  }

  closeAll(): void {
    this.closing = true;
    clearInterval(this.checker);
    for (const c of this.open) c.socket.destroy();
    this.open.clear();
  }
}
