// Hovers that arrive while a forward pass runs wait for it together, then go through the model as
// one batch: with many images in flight the matrix products work on more rows per call.
import type { Backend } from '../backend/types';
import { analyzePrepared, CancelledError, type ModelForAnalysis, type PreparedImage } from '../engine/analyze';
import type { ImageResult } from '../protocol';
import type { ForwardQueue } from './queue';

interface Waiting {
  prepared: PreparedImage;
  signal: AbortSignal | undefined;
  resolve: (result: ImageResult) => void;
  reject: (error: unknown) => void;
}

export class ImageBatcher {
  private waiting: Waiting[] = [];
  private flushQueued = false;

  constructor(
    private readonly model: ModelForAnalysis,
    private readonly backend: Backend,
    private readonly queue: ForwardQueue,
    private readonly maxBatch = 8,
  ) {}

  analyse(prepared: PreparedImage, signal?: AbortSignal): Promise<ImageResult> {
    return new Promise<ImageResult>((resolve, reject) => {
      this.waiting.push({ prepared, signal, resolve, reject });
      this.queueFlush();
    });
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // The flush takes its turn in the forward queue, after the pass running now.
    this.queue.run(undefined, () => this.flush()).catch(() => undefined);
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const live: Waiting[] = [];
    while (this.waiting.length > 0 && live.length < this.maxBatch) {
      const w = this.waiting.shift()!;
      if (w.signal?.aborted) w.reject(new CancelledError());
      else live.push(w);
    }
    if (this.waiting.length > 0) this.queueFlush();
    if (live.length === 0) return;
    try {
      const results = await analyzePrepared(this.model, this.backend, live.map((w) => w.prepared));
      live.forEach((w, i) => w.resolve(results[i]));
    } catch (e) {
      for (const w of live) w.reject(e);
    }
  }
}
