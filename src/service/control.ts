// The stop channel for the service host.
//
// A Windows service gets no SIGTERM and no console Ctrl+C that we can rely on, so the gateway also
// accepts "stop" on a local channel and runs the same graceful stop() as its signal handlers:
//   - a named pipe \\.\pipe\inlet-<instanceName> on Windows, or a unix socket in the data folder elsewhere
//     (the line protocol is identical, so the Windows path is exercised by the Linux tests);
//   - optionally a line `stop` on stdin (for hosts that keep stdin open and write to it).
//
// Line protocol (UTF-8, one request per line, answers end with \n):
//   stop    -> "stopping <pid>" at once, then "stopped" after onStop() resolved (or "error <message>")
//   status  -> "running <pid>"
//   other   -> "error unknown request ..."
// The "stopping <pid>" answer lets `inlet service stop-signal` enforce a deadline on the process it talked to.
//
// Who may stop the gateway: on Windows the pipe gets node's default DACL (full control for SYSTEM,
// Administrators and the owner; read-only for others, and a client needs write access to send a line);
// elsewhere the socket file is chmod 0600.
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createHash } from 'node:crypto';

export interface StopChannelOptions {
  /** Names the pipe/socket so that two instances on one host do not collide. [A-Za-z0-9_.-], max 64. */
  instanceName: string;
  /** The data folder; the unix socket lives here (not used for the Windows pipe name). */
  dataDir: string;
  /** Treat a line `stop` on stdin as a stop request. EOF on stdin is ignored (WinSW closes it at start). */
  stdin?: boolean;
  /** Listen on the named pipe / unix socket. Default true. */
  socket?: boolean;
  /** Stream read for stdin requests; default process.stdin (tests pass their own). */
  input?: NodeJS.ReadableStream;
  /** Defaults to process.platform; tests may force one. */
  platform?: NodeJS.Platform;
  /** Where the channel reports what it did; default: nothing. */
  log?: (message: string) => void;
}

const INSTANCE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
// sun_path is 108 bytes on Linux and 104 on macOS, including the terminating NUL.
const MAX_UNIX_SOCKET_PATH = 100;

export function validateInstanceName(name: string): void {
  if (!INSTANCE_NAME.test(name)) {
    throw new Error(`Instance name ${JSON.stringify(name)} is not valid: use 1-64 letters, digits, '_', '.' or '-' ` +
      '(it names the service stop pipe). Fix "instanceName" in the config file.');
  }
}

/** Where the stop channel listens for an instance: the Windows pipe name or the unix socket path. */
export function stopEndpoint(instanceName: string, dataDir: string, platform: NodeJS.Platform = process.platform): string {
  validateInstanceName(instanceName);
  if (platform === 'win32') return `\\\\.\\pipe\\inlet-${instanceName}`;
  const inData = path.join(path.resolve(dataDir), `inlet-${instanceName}.sock`);
  if (Buffer.byteLength(inData) <= MAX_UNIX_SOCKET_PATH) return inData;
  // A deep data folder would overflow sun_path: use a short, deterministic name in the temp folder instead.
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `inlet-${digest}-${instanceName}.sock`);
}

/** Stops listening (pipe/socket closed, socket file removed, stdin released). Idempotent. */
export type CloseStopChannel = () => Promise<void>;

/**
 * Listen for stop requests; onStop runs at most once, however many requests arrive and from where.
 * Rejects (with a message that says what to do) if another live process already listens on the endpoint.
 */
export async function listenForStopRequests(onStop: () => Promise<void>, options: StopChannelOptions): Promise<CloseStopChannel> {
  const platform = options.platform ?? process.platform;
  const log = options.log ?? (() => {});
  let stopping: Promise<void> | null = null;
  const requestStop = (source: string): Promise<void> => {
    if (!stopping) {
      log(`stop requested via ${source}`);
      stopping = Promise.resolve().then(onStop);
    }
    return stopping;
  };

  const closers: Array<() => Promise<void>> = [];
  try {
    if (options.socket !== false) {
      const endpoint = stopEndpoint(options.instanceName, options.dataDir, platform);
      closers.push(await listenOnEndpoint(endpoint, platform, requestStop, log));
    }
    if (options.stdin) closers.push(listenOnStdin(options.input ?? process.stdin, requestStop, log));
  } catch (err) {
    for (const close of closers) await close();
    throw err;
  }

  let closed: Promise<void> | null = null;
  return () => {
    closed ??= Promise.all(closers.map((close) => close())).then(() => {});
    return closed;
  };
}

function listenOnStdin(input: NodeJS.ReadableStream, requestStop: (source: string) => Promise<void>, log: (m: string) => void): () => Promise<void> {
  const rl = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
  rl.on('line', (line) => {
    if (line.trim().toLowerCase() === 'stop') requestStop('stdin').catch(() => {});
  });
  // EOF is deliberately not a stop request: WinSW and many hosts close stdin right after start.
  rl.on('close', () => log('stdin closed; stdin stop requests no longer possible'));
  return async () => {
    rl.close();
    if ('pause' in input && typeof input.pause === 'function') input.pause();
  };
}

async function listenOnEndpoint(endpoint: string, platform: NodeJS.Platform, requestStop: (source: string) => Promise<void>,
  log: (m: string) => void): Promise<() => Promise<void>> {
  const isUnix = platform !== 'win32';
  if (isUnix) {
    fs.mkdirSync(path.dirname(endpoint), { recursive: true });
    if (fs.existsSync(endpoint)) {
      const other = await probe(endpoint);
      if (other.alive) throw alreadyRunning(endpoint, undefined, other.pid);
      fs.rmSync(endpoint, { force: true }); // stale socket left by a crash
    }
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('utf8');
    const rl = readline.createInterface({ input: socket, crlfDelay: Infinity, terminal: false });
    rl.on('line', (raw) => {
      const request = raw.trim().toLowerCase();
      if (request === '') return;
      if (request === 'status') { reply(socket, `running ${process.pid}`); return; }
      if (request !== 'stop') { reply(socket, `error unknown request ${JSON.stringify(raw.trim().slice(0, 40))}; send "stop" or "status"`); return; }
      reply(socket, `stopping ${process.pid}`);
      requestStop(isUnix ? 'unix socket' : 'named pipe').then(
        () => { reply(socket, 'stopped'); socket.end(); },
        (err: unknown) => { reply(socket, `error ${oneLine(err)}`); socket.end(); });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES') { reject(err); return; }
      probe(endpoint).then((other) => reject(alreadyRunning(endpoint, err, other.pid)), () => reject(alreadyRunning(endpoint, err)));
    });
    server.listen(endpoint, () => resolve());
  });
  server.on('error', (err) => log(`stop channel error: ${oneLine(err)}`));
  if (isUnix) fs.chmodSync(endpoint, 0o600);
  server.unref(); // the channel alone must not keep the process alive
  log(`listening for stop requests on ${endpoint}`);
  return async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    if (isUnix) fs.rmSync(endpoint, { force: true });
  };
}

function reply(socket: net.Socket, line: string): void {
  if (!socket.destroyed && socket.writable) socket.write(line + '\n');
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
}

/**
 * Names the running process and how to stop it. Another instanceName is no way out: two gateways on
 * one data folder would share its database, spool and jobs.
 */
function alreadyRunning(endpoint: string, cause?: Error, pid?: number): Error {
  const who = pid !== undefined ? `(PID ${pid})` : '(its PID did not answer)';
  const stop = process.platform === 'win32'
    ? `stop it first: inlet service stop, or inlet service stop-signal${pid !== undefined ? `, or taskkill /PID ${pid}` : ''}`
    : `stop it first: inlet service stop-signal${pid !== undefined ? `, or kill ${pid}` : ''} (it drains and exits)`;
  return new Error(`Another Inlet gateway ${who} is already running with this instance name (it listens on ${endpoint}): ${stop}. ` +
    'Only one gateway may use a data folder at a time.',
  cause ? { cause } : undefined);
}

/** Whether a process answers on the endpoint, and its PID when it says (the "status" request). */
function probe(endpoint: string): Promise<{ alive: boolean; pid?: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(endpoint);
    let alive = false;
    let answer = '';
    const done = (pid?: number) => { socket.destroy(); resolve({ alive, pid }); };
    socket.setEncoding('utf8');
    socket.once('connect', () => { alive = true; socket.write('status\n'); });
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const line = /^running (\d+)\s*$/m.exec(answer);
      if (line) done(Number(line[1]));
      else if (answer.includes('\n') || answer.length > 200) done();
    });
    // A live process that does not answer still counts as running (pid unknown), without waiting for ever.
    socket.setTimeout(2000, () => done());
    socket.once('error', () => done());
    socket.once('close', () => done());
  });
}

export interface StopRequestResult {
  /** The process's answer to "stop" arrived: it has begun stopping. */
  delivered: boolean;
  /** The pid the process reported, if it answered. */
  pid?: number;
  /** It reported that its graceful stop finished (it is about to exit). */
  stopped: boolean;
  /** Why not, in words for a person. */
  error?: string;
}

export interface SendStopOptions {
  instanceName: string;
  dataDir: string;
  platform?: NodeJS.Platform;
  /** How long to keep trying to connect (the process may still be starting). Default 5000 ms. */
  connectWithinMs?: number;
  /** How long to wait for "stopped" after "stopping". Default 30000 ms. */
  stopWithinMs?: number;
}

/** Client side of the channel: send `stop` and wait for the answer. Never throws. */
export async function sendStopRequest(options: SendStopOptions): Promise<StopRequestResult> {
  const endpoint = stopEndpoint(options.instanceName, options.dataDir, options.platform);
  const connectDeadline = Date.now() + (options.connectWithinMs ?? 5000);
  let socket: net.Socket | null = null;
  let lastError = '';
  while (!socket) {
    try {
      socket = await connect(endpoint);
    } catch (err) {
      lastError = oneLine(err);
      if (Date.now() >= connectDeadline) {
        return { delivered: false, stopped: false, error: `No Inlet process answers on ${endpoint} (${lastError}). Is it running?` };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const conn = socket;
  return new Promise<StopRequestResult>((resolve) => {
    const result: StopRequestResult = { delivered: false, stopped: false };
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error && !result.error) result.error = error;
      conn.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(result.delivered
      ? `The process ${result.pid ?? ''} did not finish stopping within ${options.stopWithinMs ?? 30000} ms.`
      : `No answer from ${endpoint}.`), options.stopWithinMs ?? 30000);
    conn.setEncoding('utf8');
    const rl = readline.createInterface({ input: conn, crlfDelay: Infinity, terminal: false });
    rl.on('line', (line) => {
      const m = /^stopping (\d+)$/.exec(line.trim());
      if (m) { result.delivered = true; result.pid = Number(m[1]); return; }
      if (line.trim() === 'stopped') { result.stopped = true; finish(); return; }
      if (line.startsWith('error ')) finish(`The process answered: ${line.slice(6)}`);
    });
    // The server ends the connection after "stopped"; a close without it means the process exited mid-stop.
    conn.on('close', () => finish(result.stopped ? undefined : result.delivered ? undefined : `${endpoint} closed without an answer.`));
    conn.on('error', (err) => finish(oneLine(err)));
    conn.write('stop\n');
  });
}

function connect(endpoint: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(endpoint);
    socket.once('connect', () => { socket.removeAllListeners('error'); resolve(socket); });
    socket.once('error', reject);
  });
}
