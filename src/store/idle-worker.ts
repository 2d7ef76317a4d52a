// A worker thread that answers requests by id, started by the first request and stopped after idleMs
// without one: a worker thread is a V8 instance of its own (15-20 MB), which an idle gateway gives
// back. The SQLite write thread and both stores' reader threads are run by it.
import type { Transferable, Worker } from 'node:worker_threads';
import { StoreUnavailableError } from './errors.ts';

export interface IdleWorkerOptions<Reply> {
  /** For error messages ("the reader worker"); asked when one is made. */
  name: () => string;
  idleMs: number;
  /** Makes a new worker (at the first request, and at the first one after an idle stop). */
  start: () => Worker;
  /** Unreferenced while it owes no answer, so that it alone never keeps the process running. */
  unrefWhenIdle?: boolean;
  /**
   * Runs before an idle worker is stopped (it may still send requests); a request that arrives
   * meanwhile keeps the worker running. What it returns runs only if the worker is then stopped.
   */
  beforeIdleStop?: () => Promise<() => void>;
  /** Sees every reply before its caller does. */
  onReply?: (reply: Reply) => void;
}

export class IdleWorker<Reply extends { id: number }> {
  private worker: Worker | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>();
  private readonly options: IdleWorkerOptions<Reply>;
  /** Workers started so far (the first, and each one after an idle stop). */
  workersStarted = 0;

  constructor(options: IdleWorkerOptions<Reply>) { this.options = options; }

  /** Whether a worker is running (it stops after idleMs without a request). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Posts the message made for a new request id, starting a worker if none runs; resolves with the reply to that id. */
  request(message: (id: number) => unknown, transfer: readonly Transferable[] = []): Promise<Reply> {
    const worker = this.worker ??= this.launch();
    const id = this.nextId++;
    // Referenced while it owes an answer: a start that awaits a read before anything else holds the
    // event loop must not end the process instead.
    if (this.options.unrefWhenIdle) worker.ref();
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage(message(id), transfer as Transferable[]);
    });
  }

  /** Posts a message that has no reply to the running worker, if any (a new worker is told at its start). */
  notify(message: unknown): void {
    this.worker?.postMessage(message);
  }

  private launch(): Worker {
    const worker = this.options.start();
    this.workersStarted++;
    worker.on('message', (reply: Reply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0 && this.options.unrefWhenIdle) worker.unref();
      this.options.onReply?.(reply);
      w?.resolve(reply);
      if (this.waiting.size === 0) this.stopWhenIdle();
    });
    const fail = (err: Error) => {
      // A worker stopped for idleness (or by close()) has no request left: those waiting belong to its successor.
      if (this.worker !== worker) return;
      this.worker = null;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', (err) => fail(new StoreUnavailableError(`${this.options.name()} failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new StoreUnavailableError(`${this.options.name()} exited with code ${code}`)));
    if (this.options.unrefWhenIdle) worker.unref();
    return worker;
  }

  /** (Re)arms the idle timer: the worker stops once it has had no request for idleMs. */
  private stopWhenIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => { this.idleTimer = null; void this.stopIfIdle(); }, this.options.idleMs);
    this.idleTimer.unref();
  }

  private async stopIfIdle(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.waiting.size > 0) return;
    if (this.options.beforeIdleStop) {
      const stopping = await this.options.beforeIdleStop();
      if (this.worker !== worker || this.waiting.size > 0) return;   // a request came meanwhile: it stays
      // beforeIdleStop's own request re-armed the timer when answered
      if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
      stopping();
    }
    // Messages are handled in order and none is waiting: the worker closes its connection and ends.
    this.worker = null;
    worker.postMessage('close');
  }

  /** Stops the worker and waits for its exit; requests still waiting are refused. */
  async close(): Promise<void> {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    // An unreferenced worker would let a process whose last work is this close() (the gateway's stop)
    // end before the worker's exit, with the close still pending (exit code 13).
    worker.ref();
    await new Promise<void>((resolve) => { worker.once('exit', () => resolve()); worker.postMessage('close'); });
    // Requests still waiting had only this worker to answer them (its exit no longer rejects them: see launch()).
    for (const w of this.waiting.values()) w.reject(new StoreUnavailableError(`${this.options.name()} was closed`));
    this.waiting.clear();
  }
}
