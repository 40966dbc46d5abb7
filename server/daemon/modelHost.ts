// Owns the daemon's model: which one is wanted, the inference worker that holds it (restarted after a
// crash), and reloads when settings or the model's files change. The weights live in the worker only.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { DaemonSettings, DaemonState, ModelSummary, WorkerInfo } from '../protocol';
import { checkpointOf, lastChangeMs, modelFiles, modelFilesStamp } from '../worker/fileStamp';
import type { Inference, ModelSpec } from '../worker/protocol';
import { RestartPolicy } from './restartPolicy';
import { SupersededError, WORKER_ENTRY, WorkerClient } from './workerClient';
import { workerInference } from './workerInference';

export interface ActiveModel {
  summary: ModelSummary;
  /** Content hash of the checkpoint plus the resolved config: results are cached under it. */
  id: string;
  inference: Inference;
}

/** One load: what was asked, when the worker was asked to read the files, and their stamp then. */
interface Attempt { generation: number; spec: ModelSpec; readFrom?: number; stamp?: string; settled: boolean }

/** File times come from a coarse clock: a change this long before a read may still have overlapped it. */
const TIMESTAMP_SLACK_MS = 50;
/** A stamp no file state matches. */
const UNSETTLED = 'unsettled';

const specOf = (s: DaemonSettings): ModelSpec => ({ checkpoint: s.checkpoint, config: s.config, backend: s.backend, resize: s.resize, imageSize: s.imageSize || undefined });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ignore = () => undefined;

export class ModelHost {
  private active: Promise<ActiveModel> | undefined;
  private attempt: Attempt | undefined;
  private key = '';
  private generation = 0;
  private worker: WorkerClient | undefined;
  private readonly policy = new RestartPolicy();
  private restartAt = 0;
  private restarts = 0;
  private lastCrash: string | undefined;
  private disposed = false;
  private watcher: { close(): void } | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private lastFileEvent = 0;

  constructor(
    private readonly announce: (state: DaemonState) => void,
    private readonly log: (message: string) => void,
    private readonly workerEntry = WORKER_ENTRY,
  ) {}

  /** Applies settings; starts a (re)load when they change what the model is. */
  configure(settings: DaemonSettings): void {
    if (settings.blocked) {
      this.key = '';
      this.attempt = undefined;
      this.generation++;
      this.watch([]);
      this.setActive(Promise.reject(new Error(settings.blocked)));
      this.announce({ state: 'blocked', message: settings.blocked, worker: this.workerInfo() });
      return;
    }
    const spec = specOf(settings);
    const key = JSON.stringify(spec);
    if (key === this.key && this.active) return;
    this.key = key;
    // A model chosen again gets a fresh allowance of restarts.
    this.policy.reset();
    this.load(spec);
  }

  /**
   * The loaded model, waiting for a load in progress; rejects with the load's error. When the model's
   * files changed on disk since they were read, it reloads first: an answer never comes from a model
   * whose file has since been replaced or deleted.
   */
  async current(): Promise<ActiveModel> {
    for (let round = 0; ; round++) {
      const active = this.active;
      const attempt = this.attempt;
      if (!active) throw new Error('no model configured yet');
      const outcome = await active.then((model) => ({ model }), (error: Error) => ({ error }));
      const last = round >= 4;
      if (!last && this.active !== active) continue;
      if (!last && attempt && attempt === this.attempt && attempt.settled && attempt.stamp !== undefined && attempt.stamp !== modelFilesStamp(attempt.spec)) {
        this.log('the model files changed on disk: reloading');
        this.load(attempt.spec);
        continue;
      }
      if ('error' in outcome) throw outcome.error;
      return outcome.model;
    }
  }

  /** Runs `work` on the current model; if the worker replaced that model meanwhile, on the new one. */
  async use<T>(work: (active: ActiveModel) => Promise<T>): Promise<T> {
    for (let round = 0; ; round++) {
      const active = await this.current();
      try {
        return await work(active);
      } catch (e) {
        if (!(e instanceof SupersededError) || round >= 2) throw e;
      }
    }
  }

  workerInfo(): WorkerInfo {
    return { pid: this.worker?.pid, restarts: this.restarts, lastCrash: this.lastCrash };
  }

  private setActive(next: Promise<ActiveModel>): void {
    this.active = next;
    next.catch(ignore);
  }

  private load(spec: ModelSpec): void {
    const generation = ++this.generation;
    const attempt: Attempt = { generation, spec, settled: false };
    this.attempt = attempt;
    this.announce({ state: 'loading', checkpoint: checkpointOf(spec) ?? 'default model', worker: this.workerInfo() });
    const previous = this.active;
    const loading = (async (): Promise<ActiveModel> => {
      // One load at a time: wait for the previous one to settle before reading the next file.
      await previous?.catch(ignore);
      if (generation !== this.generation) throw new Error('superseded by a newer model selection');
      const worker = await this.ensureWorker();
      if (generation !== this.generation) throw new Error('superseded by a newer model selection');
      const readFrom = Date.now();
      attempt.readFrom = readFrom;
      attempt.stamp = modelFilesStamp(spec);
      try {
        const info = await worker.call('load', generation, { model: spec });
        return { summary: info.summary, id: info.id, inference: workerInference(worker, generation) };
      } finally {
        // A file written while (or just before) it was read may have been read half-written, and a write
        // in place need not move its times again: such a load is trusted by no request, which reloads.
        if (lastChangeMs(modelFiles(spec)) >= readFrom - TIMESTAMP_SLACK_MS) attempt.stamp = UNSETTLED;
      }
    })();
    loading.then(() => { attempt.settled = true; }, () => { attempt.settled = true; });
    this.setActive(loading);
    void this.announceOutcome(loading, generation);
    this.watch(modelFiles(spec));
  }

  private async announceOutcome(loading: Promise<ActiveModel>, generation: number): Promise<void> {
    try {
      const active = await loading;
      if (generation === this.generation) this.announce({ state: 'ready', model: active.summary, worker: this.workerInfo() });
    } catch (e) {
      if (generation !== this.generation) return;
      const message = (e as Error).message;
      this.log(`model load failed: ${message}`);
      this.announce({ state: 'error', message, worker: this.workerInfo() });
    }
  }

  private async ensureWorker(): Promise<WorkerClient> {
    const wait = this.restartAt - Date.now();
    if (!this.worker && wait > 0) await sleep(wait);
    if (this.disposed) throw new Error('the daemon is shutting down');
    if (!this.worker) {
      const worker: WorkerClient = new WorkerClient(this.workerEntry, {
        log: (message) => this.log(message),
        crashed: (reason) => this.crashed(worker, reason),
      });
      this.worker = worker;
      this.log(`inference worker started (pid ${worker.pid})`);
    }
    return this.worker;
  }

  /** The worker died unexpectedly: restart it with the same model, unless it keeps crashing. */
  private crashed(worker: WorkerClient, reason: string): string {
    if (worker !== this.worker || this.disposed) return `inference worker crashed (${reason})`;
    this.worker = undefined;
    this.restarts++;
    this.lastCrash = reason;
    const verdict = this.policy.crashed(Date.now());
    if (!verdict.restart) {
      const message = `inference worker crashed ${verdict.recent} times within ${this.policy.windowMs / 1000} s (last: ${reason}); not restarted: select the checkpoint again or run "CRATE Lens: Restart Daemon"`;
      this.log(message);
      this.key = '';
      this.attempt = undefined;
      this.generation++;
      this.watch([]);
      this.setActive(Promise.reject(new Error(message)));
      this.announce({ state: 'error', message, worker: this.workerInfo() });
      return `inference worker crashed (${reason}); not restarted`;
    }
    this.restartAt = Date.now() + verdict.delayMs;
    this.log(`inference worker (pid ${worker.pid}) crashed (${reason}); restarting${verdict.delayMs ? ` in ${verdict.delayMs} ms` : ''}`);
    if (this.attempt) this.load(this.attempt.spec);
    return `inference worker crashed (${reason}); restarted`;
  }

  /** Reload when a model file changes on disk (replaced, rewritten or deleted), without waiting for a request. */
  private watch(files: string[]): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (files.length === 0) return;
    const names = new Set(files.map((f) => basename(f)));
    const watchers: FSWatcher[] = [];
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      try {
        watchers.push(watch(dir, (_event, name) => {
          if (name && names.has(name.toString())) this.scheduleReload();
        }));
      } catch (e) {
        this.log(`cannot watch ${dir}: ${(e as Error).message}`);
      }
    }
    this.watcher = { close: () => watchers.forEach((w) => w.close()) };
  }

  private scheduleReload(): void {
    this.lastFileEvent = Date.now();
    clearTimeout(this.reloadTimer);
    // Writers often truncate then write: wait for the file to settle.
    this.reloadTimer = setTimeout(() => {
      const attempt = this.attempt;
      if (!attempt) return;
      // A request may have reloaded it since, or a load about to read the files is under way.
      const upToDate = attempt.readFrom === undefined ? !attempt.settled : attempt.readFrom > this.lastFileEvent;
      if (upToDate) return;
      this.log('checkpoint or config changed on disk: reloading');
      this.load(attempt.spec);
    }, 400);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.watcher?.close();
    clearTimeout(this.reloadTimer);
    await this.worker?.stop();
  }
}
