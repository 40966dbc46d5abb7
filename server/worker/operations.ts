// The daemon's requests run against one loaded model and its backend: the inference worker serves
// them over IPC, and tests call them in-process.
import type { Backend } from '../backend/types';
import { analyzeImages, CancelledError, prepareImageBytes } from '../engine/analyze';
import { dictionaryStats, type DictionarySource } from '../engine/inspect';
import type { Inference } from './protocol';
import { ForwardQueue } from './queue';
import { ImageBatcher } from './batcher';
import { layerRollouts } from './rollouts';

/** The backend with its forward passes put through `queue` under `signal`; everything else as it is. */
function queued(backend: Backend, queue: ForwardQueue, signal: AbortSignal | undefined): Backend {
  const forward = (...args: Parameters<Backend['forward']>) => queue.run(signal, () => backend.forward(...args));
  return new Proxy(backend, {
    get(target, property) {
      if (property === 'forward') return forward;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * `dictionaries` gives the config and the dictionaries (Inspect), which are kept: the inference worker
 * passes copies of the dictionaries, so that the rest of the checkpoint is freed.
 */
export function modelOperations(dictionaries: DictionarySource, backend: Backend, queue = new ForwardQueue()): Inference {
  const model = { config: dictionaries.config };
  const batcher = new ImageBatcher(model, backend, queue);
  return {
    async analyseImage(path, bytes, signal) {
      const prepared = prepareImageBytes(path, bytes, model.config);
      const result = await batcher.analyse(prepared, signal);
      return { result, view: prepared.view };
    },
    analyzeImages(paths, options, signal) {
      return analyzeImages(model, queued(backend, queue, signal), paths, { signal, topK: options.topK });
    },
    async rollouts(bytes, fusion, discard, signal) {
      const prepared = prepareImageBytes('', bytes, model.config);
      const capture = await queue.run(signal, () => backend.forward(prepared.input, 1, { headExtremes: fusion !== 'mean' }));
      if (signal?.aborted) throw new CancelledError();
      return layerRollouts(capture, model.config.imageSize / model.config.patchSize, fusion, discard);
    },
    async dictionaryStats(signal) {
      if (signal?.aborted) throw new CancelledError();
      return dictionaryStats(dictionaries);
    },
  };
}
