// The one place where the data exchanged between the engine, the CLI, the daemon, the extension and
// the webview is typed. Field names here are the CLI's JSON names: changing one is a breaking change.

export interface ModelSummary {
  imageSize: number;
  patchSize: number;
  channels: number;
  dim: number;
  depth: number;
  heads: number;
  dimHead: number;
  numClasses: number;
  parameters: number;
  /** Where the config came from, e.g. "sidecar /path/model.crate.json" or "inferred (heads from preset 'base')". */
  configSource: string;
  configWarnings: string[];
  pool: 'cls' | 'mean';
  istaStepSize: number;
  istaLambda: number;
  resize: 'squash' | 'center-crop';
  checkpoint: string;
  checkpointFormat: 'pytorch-zip' | 'safetensors';
  /** Where in the file the state dict was found. */
  container: string;
  backend: string;
  device: string;
}

export interface HistogramResult { max: number; counts: number[]; zeros: number }

export interface LayerResult {
  index: number;
  /** [heads][T]: softmax row of the CLS query over all tokens, t = 0 being CLS. */
  clsAttention: number[][];
  /** Fraction of exact zeros in the ISTA output. */
  sparsity: number;
  zeroCount: number;
  /** ||x - z D^T||_F / ||x||_F with x the ISTA input and z its output. */
  reconstructionError: number;
  /** ||x D - x D^T D||_F / ||x D||_F: the size of the ISTA step. */
  istaResidual: number;
  /** sum over heads of 1/2 logdet(I + p/(T eps^2) X_k X_k^T), unit-norm token rows, eps^2 = 0.01. */
  codingRate: number;
  /** Histogram of the ISTA output's non-zero values over (0, max]. */
  histogram: HistogramResult;
  /** Zero entries per token of the ISTA output, CLS first. */
  zerosPerToken: number[];
  /** DINO threshold-0.6 masks over patches: per head, and of the heads' mean. */
  dinoMask: number[][];
  dinoMaskMerged: number[];
}

export interface PredictionResult { index: number; label: string; probability: number }

export interface RolloutResult { fusion: 'mean' | 'max' | 'min'; discard: number; cls: number[] }

export interface ImageResult {
  image: string;
  /** Present when this image could not be analysed; the other fields are then absent. */
  error?: string;
  width?: number;
  height?: number;
  grid?: { width: number; height: number };
  logits?: number[];
  top?: PredictionResult[];
  layers?: LayerResult[];
  rollout?: RolloutResult;
  /** [N][3]: the last layer's first three principal components per patch, each scaled to [0, 1]. */
  pca?: number[][];
  /** Heatmap PNG files written for this image (with --out). */
  heatmaps?: string[];
}

export interface AnalyzeReport {
  model: ModelSummary;
  results: ImageResult[];
}

export interface DictionaryStats {
  layer: number;
  /** ||D^T D - I||_F / sqrt(dim): how far the dictionary is from orthogonal. */
  orthogonalityGap: number;
  singularMin: number;
  singularMax: number;
}

export interface InspectReport {
  model: ModelSummary;
  dictionaries: DictionaryStats[];
}

// ---- Requests between the extension and the daemon (LSP custom methods, all under "crateLens/"). ----

/** Everything the daemon needs from the extension's settings; sent on start and on every change. */
export interface DaemonSettings {
  /** Checkpoint path; empty for the embedded default model. */
  checkpoint: string;
  /** JSON config path or preset name; empty to use the sidecar or infer. */
  config: string;
  backend: 'cpu' | 'auto' | 'webgpu';
  resize: 'config' | 'squash' | 'center-crop';
  hover: { enabled: boolean; layer: number; head: number | 'mean' };
  /** Analysed images kept in memory. */
  cacheSize: number;
  /** Why the checkpoint must not be loaded yet (e.g. an untrusted workspace); the daemon waits. */
  blocked?: string;
}

export type DaemonState =
  | { state: 'loading'; checkpoint: string }
  | { state: 'ready'; model: ModelSummary; restarted?: boolean }
  | { state: 'blocked'; message: string }
  | { state: 'error'; message: string };

export interface AnalyzeParams { images: string[] }

/** One image rendered for a panel: its result and pictures as data URIs. */
export interface RenderParams {
  image: string;
  /** Layers to render; negative counts from the end. */
  layers: number[];
  /** Render every head (else only the heads merged). */
  allHeads: boolean;
}

export interface RenderedLayer {
  index: number;
  /** Heads merged, then one per head when asked. */
  merged: string;
  heads: string[];
  mask: string;
}

export interface RenderResult {
  model: ModelSummary;
  result: ImageResult;
  view: string;
  layers: RenderedLayer[];
}

export const Methods = {
  /** Extension -> daemon request: new settings (loads or reloads the model as needed). */
  configure: 'crateLens/configure',
  /** Extension -> daemon request: analyse images with the current model -> AnalyzeReport. */
  analyze: 'crateLens/analyze',
  /** Extension -> daemon request: one image's result with rendered heatmaps -> RenderResult. */
  render: 'crateLens/render',
  /** Extension -> daemon request: an HTML report of images -> { html }. */
  report: 'crateLens/report',
  /** Extension -> daemon request: summary and dictionary statistics of the current model -> InspectReport. */
  inspect: 'crateLens/inspect',
  /** Daemon -> extension notification: the model's state changed -> DaemonState. */
  state: 'crateLens/state',
} as const;

export interface Spread { mean: number; std: number; min: number; max: number }

export interface EvalLayerStats {
  index: number;
  sparsity: Spread;
  reconstructionError: Spread;
  istaResidual: Spread;
  codingRate: Spread;
}

export interface SegmentationStats {
  /** DINO threshold of the last layer's heads-merged CLS attention mask. */
  threshold: number;
  /** Images whose foreground or mask was non-empty. */
  images: number;
  /** Mean pixel IoU of the attention mask against the foreground (pixel > 0). */
  meanIoU: number;
  /** Mean IoU of the same number of patches nearest the centre. */
  centrePriorIoU: number;
  /** Mean fraction of patches in the attention mask. */
  meanMaskArea: number;
}

export interface EvalReport {
  model: ModelSummary;
  images: number;
  correct: number;
  /** Percent of images whose top-1 class equals the label. */
  accuracy: number;
  /** confusion[label][predicted] */
  confusion: number[][];
  layers: EvalLayerStats[];
  segmentation?: SegmentationStats;
  failed: { image: string; error: string }[];
  seconds: number;
}

// ---- Messages between the extension and its webview panels. ----

export type PanelToExtension =
  | { type: 'selectLayers'; a: number; b: number }
  | { type: 'ready' };

export type ExtensionToPanel =
  | { type: 'layers'; a: RenderedLayer; b: RenderedLayer; depth: number }
  | { type: 'error'; message: string };

/** Validates a message from a webview: pages are untrusted, their messages are checked before use. */
export function parsePanelMessage(raw: unknown): PanelToExtension | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (m.type === 'ready') return { type: 'ready' };
  if (m.type === 'selectLayers' && Number.isInteger(m.a) && Number.isInteger(m.b)) return { type: 'selectLayers', a: m.a as number, b: m.b as number };
  return undefined;
}
