// Messages between the daemon and its inference worker (a child process over Node's IPC channel with
// structured-clone serialization, so typed arrays travel as they are). Re-exported by server/protocol.ts.
import type { Raster } from '../image';
import type { DaemonSettings, DictionaryStats, HeadFusionName, ImageResult, ModelSummary } from '../protocol';

/** The settings that decide which model is loaded and how. */
export type ModelSpec = Pick<DaemonSettings, 'checkpoint' | 'config' | 'backend' | 'resize' | 'imageSize'>;

/** An image analysed by the worker: its result and the model's view of it (for the daemon's pictures). */
export interface AnalysedImage { result: ImageResult; view: Raster }

export interface LoadedInfo {
  summary: ModelSummary;
  /** Content hash of the checkpoint plus the resolved config: the daemon caches results under it. */
  id: string;
}

/** What the daemon asks of a loaded model. The worker runs it; tests may run the same code in-process. */
export interface Inference {
  analyseImage(path: string, bytes: Uint8Array, signal?: AbortSignal): Promise<AnalysedImage>;
  analyzeImages(paths: string[], options: { topK?: number }, signal?: AbortSignal): Promise<ImageResult[]>;
  /** [layer][patch]: the CLS rollout through layers 0..layer, heads fused and the smallest `discard` dropped. */
  rollouts(bytes: Uint8Array, fusion: HeadFusionName, discard: number, signal?: AbortSignal): Promise<number[][]>;
  dictionaryStats(signal?: AbortSignal): Promise<DictionaryStats[]>;
}

/** Each worker method's parameters and result. */
export interface WorkerCalls {
  load: { params: { model: ModelSpec }; result: LoadedInfo };
  analyseImage: { params: { path: string; bytes: Uint8Array }; result: AnalysedImage };
  analyzeImages: { params: { paths: string[]; topK?: number }; result: ImageResult[] };
  rollouts: { params: { bytes: Uint8Array; fusion: HeadFusionName; discard: number }; result: number[][] };
  dictionaryStats: { params: Record<string, never>; result: DictionaryStats[] };
}

export type WorkerMethod = keyof WorkerCalls;

/**
 * A call. `generation` names the model it is meant for (the daemon's load counter): a call for a
 * model the worker no longer holds fails as `superseded`, never runs on another model.
 */
export type WorkerCall = {
  [M in WorkerMethod]: { type: 'call'; id: number; generation: number; method: M; params: WorkerCalls[M]['params'] };
}[WorkerMethod];

export type DaemonToWorker = WorkerCall | { type: 'cancel'; id: number };

export type WorkerErrorKind = 'cancelled' | 'superseded' | 'failed';

export type WorkerToDaemon =
  | { [M in WorkerMethod]: { type: 'result'; id: number; method: M; result: WorkerCalls[M]['result'] } }[WorkerMethod]
  | { type: 'error'; id: number; kind: WorkerErrorKind; message: string }
  | { type: 'log'; message: string };
