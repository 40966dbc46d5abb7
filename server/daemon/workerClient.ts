// The daemon's end of one inference worker process: forks it, sends calls with ids, forwards
// cancellations, and fails every call in flight when the process dies.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { CancelledError } from '../engine/analyze';
import type { DaemonToWorker, WorkerCalls, WorkerMethod, WorkerToDaemon } from '../worker/protocol';

/** The call's model was replaced in the worker; asking the current model again is safe. */
export class SupersededError extends Error {}

/** The worker process died while the call ran. */
export class WorkerCrashedError extends Error {}

/** The bundled worker beside the daemon's bundle (dist/worker.js). */
export const WORKER_ENTRY = join(__dirname, 'worker.js');

export interface WorkerEvents {
  log(message: string): void;
  /** The process died unexpectedly (`reason`: the signal or exit code); returns the error message for calls in flight. */
  crashed(reason: string): string;
}

interface Pending { resolve(value: unknown): void; reject(error: Error): void }

/**
 * The worker's environment: the daemon's, plus a fixed glibc mmap threshold (other C libraries ignore
 * it). glibc otherwise raises the threshold when a mmapped block is freed, so whether onnxruntime's
 * per-tensor copies during a load are mmapped (and returned when freed) or stay in the heap depended
 * on when the checkpoint's copies were collected: about 90 MB of peak memory for CRATE-B, by chance.
 */
function workerEnvironment(): NodeJS.ProcessEnv {
  return { MALLOC_MMAP_THRESHOLD_: String(1 << 20), ...process.env };
}

export class WorkerClient {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private gone: Error | undefined;
  private sendFailed = false;
  /** Settles when the process has exited. */
  readonly exited: Promise<void>;

  constructor(entry: string, private readonly events: WorkerEvents) {
    this.child = fork(entry, [], {
      serialization: 'advanced',
      // The daemon's stdout may be its LSP channel: the worker's output goes to the log instead.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // A debugged daemon's --inspect port must not be taken twice.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')),
      env: workerEnvironment(),
    });
    this.forwardLines(this.child.stdout);
    this.forwardLines(this.child.stderr);
    this.child.on('message', (message: WorkerToDaemon) => this.onMessage(message));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.onExit(signal ?? `exit code ${code}`);
        resolve();
      });
      // A process that could not be started emits no exit.
      this.child.once('error', (e) => {
        if (this.child.pid === undefined) { this.onExit(`not started: ${e.message}`); resolve(); }
        else events.log(`inference worker: ${e.message}`);
      });
    });
  }

  get pid(): number | undefined { return this.child.pid; }

  call<M extends WorkerMethod>(method: M, generation: number, params: WorkerCalls[M]['params'], signal?: AbortSignal): Promise<WorkerCalls[M]['result']> {
    if (this.gone) return Promise.reject(this.gone);
    if (signal?.aborted) return Promise.reject(new CancelledError());
    const id = this.nextId++;
    return new Promise<WorkerCalls[M]['result']>((resolve, reject) => {
      const onAbort = () => {
        // The worker drops the call if it has not started; a late answer finds no pending entry.
        if (this.pending.delete(id)) {
          this.send({ type: 'cancel', id });
          reject(new CancelledError());
        }
      };
      this.pending.set(id, {
        resolve: (v) => { signal?.removeEventListener('abort', onAbort); resolve(v as WorkerCalls[M]['result']); },
        reject: (e) => { signal?.removeEventListener('abort', onAbort); reject(e); },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ type: 'call', id, generation, method, params } as DaemonToWorker);
    });
  }

  /** Ends the process on purpose: calls in flight fail, and no crash is reported. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }

  private send(message: DaemonToWorker): void {
    // A channel that is closed or fails (EPIPE) belongs to a dying worker: its exit, due next, fails the
    // call with the crash's reason.
    if (!this.child.connected) return;
    this.child.send(message, (e) => {
      if (e && !this.gone && !this.sendFailed) this.events.log(`inference worker: cannot send (${e.message})`);
      if (e) this.sendFailed = true;
    });
  }

  private onMessage(message: WorkerToDaemon): void {
    switch (message.type) {
      case 'log':
        this.events.log(message.message);
        return;
      case 'result':
        this.settle(message.id, message.result);
        return;
      case 'error': {
        const error = message.kind === 'cancelled' ? new CancelledError() : message.kind === 'superseded' ? new SupersededError(message.message) : new Error(message.message);
        this.settle(message.id, undefined, error);
        return;
      }
    }
  }

  private settle(id: number, value: unknown, error?: Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  private onExit(reason: string): void {
    if (this.gone) return;
    this.gone = this.stopping ? new WorkerCrashedError('inference worker stopped') : new WorkerCrashedError(this.events.crashed(reason));
    for (const pending of this.pending.values()) pending.reject(this.gone);
    this.pending.clear();
  }

  private forwardLines(stream: Readable | null): void {
    if (!stream) return;
    createInterface({ input: stream }).on('line', (line) => this.events.log(`worker: ${line}`));
  }
}
