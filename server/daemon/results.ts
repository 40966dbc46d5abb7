// Analysed images, cached by (model content and config, image content).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CancelledError } from '../engine/analyze';
import type { AnalysedImage } from '../protocol';
import { Lru } from './lru';
import type { ActiveModel } from './modelHost';

/** An analysis, with the bytes of the file as this call read them (for a further pass on the same content). */
export interface CachedAnalysis extends AnalysedImage { bytes: Uint8Array }

interface Entry {
  analysis: Promise<AnalysedImage>;
  /** Stops the worker's computation once no request waits for it any more. */
  controller: AbortController;
  waiting: number;
  settled: boolean;
}

export class ResultCache {
  private readonly entries: Lru<string, Entry>;

  constructor(capacity: number) { this.entries = new Lru(capacity); }

  resize(capacity: number): void { this.entries.resize(capacity); }

  /** Requests now waiting on an analysis (shared ones counted once per request). */
  get waiting(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.waiting;
    return n;
  }

  /**
   * Analyses `path` (or returns the cached analysis). `signal` abandons this request's wait; the shared
   * computation is cancelled only when every request waiting for it has gone.
   */
  async analyse(active: ActiveModel, path: string, signal?: AbortSignal): Promise<CachedAnalysis> {
    const bytes = await readFile(path);
    if (signal?.aborted) throw new CancelledError();
    const key = `${active.id}:${createHash('sha1').update(bytes).digest('hex')}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const controller = new AbortController();
      const created: Entry = { analysis: active.inference.analyseImage(path, bytes, controller.signal), controller, waiting: 0, settled: false };
      entry = created;
      this.entries.set(key, created);
      created.analysis.then(() => { created.settled = true; }, () => {
        created.settled = true;
        // Failures are not cached: the file may be fixed a moment later.
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    const analysed = await this.wait(key, entry, signal);
    // The same content may sit under another name: report the path that was asked for.
    const result = analysed.result.image === path ? analysed.result : { ...analysed.result, image: path };
    return { result, view: analysed.view, bytes };
  }

  clear(): void { this.entries.clear(); }

  private wait(key: string, entry: Entry, signal?: AbortSignal): Promise<AnalysedImage> {
    entry.waiting++;
    return new Promise<AnalysedImage>((resolve, reject) => {
      let done = false;
      const leave = () => {
        done = true;
        entry.waiting--;
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (done) return;
        leave();
        if (entry.waiting === 0 && !entry.settled) {
          entry.controller.abort();
          if (this.entries.get(key) === entry) this.entries.delete(key);
        }
        reject(new CancelledError());
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.analysis.then(
        (v) => { if (!done) { leave(); resolve(v); } },
        (e: Error) => { if (!done) { leave(); reject(e); } },
      );
    });
  }
}
