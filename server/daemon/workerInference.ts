// One loaded model as the daemon sees it: each operation is a call to the worker, bound to the
// model's generation so that it never runs on a model loaded after it.
import type { Inference } from '../worker/protocol';
import type { WorkerClient } from './workerClient';

export function workerInference(worker: WorkerClient, generation: number): Inference {
  return {
    analyseImage: (path, bytes, signal) => worker.call('analyseImage', generation, { path, bytes }, signal),
    analyzeImages: (paths, options, signal) => worker.call('analyzeImages', generation, { paths, topK: options.topK }, signal),
    rollouts: (bytes, fusion, discard, signal) => worker.call('rollouts', generation, { bytes, fusion, discard }, signal),
    dictionaryStats: (signal) => worker.call('dictionaryStats', generation, {}, signal),
  };
}
