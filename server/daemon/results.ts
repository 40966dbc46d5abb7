// Analysed images, cached by (model content and config, image content).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { analyzePrepared, CancelledError, type PreparedImage } from '../engine/analyze';
import { decodeImage, modelView, toInputTensor } from '../image';
import type { ImageResult } from '../protocol';
import { Lru } from './lru';
import type { ActiveModel } from './modelHost';

export interface AnalysedImage { result: ImageResult; prepared: PreparedImage }

export class ResultCache {
  private readonly entries: Lru<string, Promise<AnalysedImage>>;

  constructor(capacity: number) { this.entries = new Lru(capacity); }

  resize(capacity: number): void { this.entries.resize(capacity); }

  /** Analyses `path` (or returns the cached analysis); `signal` abandons the wait, not a shared computation. */
  async analyse(active: ActiveModel, path: string, signal?: AbortSignal): Promise<AnalysedImage> {
    const bytes = await readFile(path);
    const key = `${active.id}:${createHash('sha1').update(bytes).digest('hex')}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = (async () => {
        const image = decodeImage(bytes);
        const view = modelView(image, active.model.config);
        const prepared: PreparedImage = { path, view, input: toInputTensor(view, active.model.config), width: image.width, height: image.height };
        const [result] = await analyzePrepared(active.model, active.backend, [prepared]);
        return { result, prepared };
      })();
      this.entries.set(key, entry);
      // Failures are not cached: the file may be fixed a moment later.
      entry.catch(() => this.entries.delete(key));
    }
    const analysed = await abortable(entry, signal);
    // The same content may sit under another name: report the path that was asked for.
    return analysed.result.image === path ? analysed : { ...analysed, result: { ...analysed.result, image: path } };
  }

  clear(): void { this.entries.clear(); }
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new CancelledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}
