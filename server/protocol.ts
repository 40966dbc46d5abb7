// The one place where the data exchanged between the engine, the CLI, the daemon, the extension and
// the webview is typed. Field names here are the CLI's JSON names: changing one is a breaking change.

export interface ModelSummary {
  /** The architecture, read from the checkpoint's keys. */
  family: 'crate' | 'crate-alpha' | 'crate-mae';
  /** Width of each layer's sparse code: dim for CRATE and CRATE-MAE, 4 dim for CRATE-alpha. */
  codeDim: number;
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

/**
 * The ISTA output's values: `counts` has 32 bins over (0, max], a positive value v in bin
 * min(floor(v * fround(32 / max)), 31) computed in float32; the `zeros` are counted apart.
 */
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
  /** Analysis size in pixels (the position embedding is resized to it); absent or 0: the config's. */
  imageSize?: number;
  hover: { enabled: boolean; layer: number; head: number | 'mean' };
  /** Analysed images kept in memory. */
  cacheSize: number;
  security: {
    /**
     * Let image references in documents reach files whose real path lies outside the workspace
     * folders (with no folder open: outside the document's folder). Off by default.
     */
    allowImagesOutsideWorkspace: boolean;
  };
  /** Why the checkpoint must not be loaded yet (e.g. an untrusted workspace); the daemon waits. */
  blocked?: string;
}

/** The inference worker: the daemon's child process that holds the weights and runs forward passes. */
export interface WorkerInfo {
  /** Absent while no worker runs (none started yet, or between a crash and its restart). */
  pid?: number;
  /** Workers that crashed and were replaced since the daemon started. */
  restarts: number;
  /** How the last one ended, e.g. "SIGSEGV" or "exit code 134". */
  lastCrash?: string;
}

export type DaemonState =
  | { state: 'loading'; checkpoint: string; worker?: WorkerInfo }
  | { state: 'ready'; model: ModelSummary; restarted?: boolean; worker?: WorkerInfo }
  | { state: 'blocked'; message: string; worker?: WorkerInfo }
  | { state: 'error'; message: string; worker?: WorkerInfo };

/** The daemon's processes, for diagnostics and tests. */
export interface DaemonStatus { pid: number; worker: WorkerInfo }

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
  /** Extension -> daemon request: the daemon's and its inference worker's processes -> DaemonStatus. */
  status: 'crateLens/status',
} as const;

// Between the daemon and its inference worker (Node IPC, not LSP): typed in server/worker/protocol.ts.
export type {
  AnalysedImage, DaemonToWorker, Inference, LoadedInfo, ModelSpec, WorkerCall, WorkerCalls, WorkerErrorKind, WorkerMethod, WorkerToDaemon,
} from './worker/protocol';

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


// ---- Layer comparison panel (webview/, extension/sidePanel*.ts): daemon requests and page messages. ----

export const PanelMethods = {
  /** Extension -> daemon request: one image's full result, its model view and PCA map -> PanelImageResult. */
  image: 'crateLens/panelImage',
  /** Extension -> daemon request: pictures of some layers of one image -> PanelLayersResult. */
  layers: 'crateLens/panelLayers',
  /** Extension -> daemon request: attention rollout through every layer, for given options -> PanelRolloutResult. */
  rollout: 'crateLens/panelRollout',
  /** Extension -> daemon request: the per-layer numbers of a batch of images (no pictures) -> SummarizeResult. */
  summarize: 'crateLens/summarize',
} as const;

export type HeadFusionName = RolloutResult['fusion'];

/** The four per-layer measures the panel charts, in this order wherever a list of them is sent. */
export const PANEL_MEASURES = ['sparsity', 'reconstructionError', 'istaResidual', 'codingRate'] as const;
export type PanelMeasure = (typeof PANEL_MEASURES)[number];

export interface PanelImageParams { image: string; size?: number }

export interface PanelImageResult {
  model: ModelSummary;
  result: ImageResult;
  /** The model's view of the image (what it was fed), upscaled, as a PNG data URI. */
  view: string;
  /** The last layer's PCA map (ImageResult.pca as a patch grid), as a PNG data URI. */
  pca?: string;
}

export interface PanelLayersParams {
  image: string;
  /** Layers to render; negative counts from the end. */
  layers: number[];
  /** Side of the merged and mask pictures (default 224). */
  size?: number;
  /** Side of the per-head pictures (default 112). */
  headSize?: number;
}

export interface LayerPictures {
  index: number;
  /** CLS attention, heads merged (mean), over the image. */
  merged: string;
  /** DINO threshold-0.6 mask of the merged attention. */
  mask: string;
  /** CLS attention of each head. */
  heads: string[];
  /** DINO mask of each head. */
  headMasks: string[];
}

export interface PanelLayersResult { layers: LayerPictures[] }

export interface PanelRolloutParams {
  image: string;
  fusion: HeadFusionName;
  /** Fraction of the smallest fused attention entries dropped per layer, in [0, 1). */
  discard: number;
  size?: number;
}

export interface PanelRolloutResult {
  fusion: HeadFusionName;
  discard: number;
  /** [layer][patch]: rollout through layers 0..layer, CLS row over patches, max = 1. The last equals ImageResult.rollout. */
  cls: number[][];
  /** [layer]: the same as heatmaps over the image, PNG data URIs. */
  pictures: string[];
}

export interface SummarizeParams { images: string[] }

export interface LayerSummary {
  sparsity: number;
  reconstructionError: number;
  istaResidual: number;
  codingRate: number;
  histogram: HistogramResult;
}

export interface ImageSummary {
  image: string;
  error?: string;
  top?: PredictionResult;
  layers?: LayerSummary[];
}

export interface SummarizeResult { model: ModelSummary; results: ImageSummary[] }

/** One layer of a dataset aggregate: each measure's spread over the images, and their pooled histogram. */
export interface DatasetLayerAggregate {
  index: number;
  sparsity: Spread;
  reconstructionError: Spread;
  istaResidual: Spread;
  codingRate: Spread;
  /** The images' ISTA-output histograms pooled over (0, max] (bins of images with a smaller max are spread proportionally). */
  histogram: HistogramResult;
}

export interface DatasetAggregate {
  /** Images analysed so far (failures excluded). */
  images: number;
  failed: number;
  layers: DatasetLayerAggregate[];
}

/** One image of a dataset run, as the page lists and sorts it. */
export interface DatasetRow {
  image: string;
  /** Path relative to the workspace (for display). */
  name: string;
  error?: string;
  label?: string;
  probability?: number;
  /** [layer][measure], measures in PANEL_MEASURES order. */
  values?: number[][];
}

export type DatasetPhase = 'running' | 'done' | 'cancelled' | 'error';

export interface PanelModelState {
  state: DaemonState['state'];
  message?: string;
  depth?: number;
  heads?: number;
  /** Patches per side. */
  grid?: number;
}

/** Messages from the layer comparison page to the extension (validated by parseLayerPanelMessage). */
export type LayerPanelToExtension =
  | { type: 'ready' }
  | { type: 'pickImage' }
  | { type: 'useLastImage' }
  | { type: 'openImage'; image: string }
  | { type: 'selectLayers'; a: number; b: number }
  | { type: 'rollout'; fusion: HeadFusionName; discard: number }
  | { type: 'pickFolder' }
  | { type: 'runDataset'; source: string }
  | { type: 'cancelDataset' }
  | { type: 'exportPng'; name: string; dataUrl: string }
  | { type: 'exportData'; scope: 'image' | 'dataset'; format: 'csv' | 'json' };

/** Messages from the extension to the layer comparison page. */
export type ExtensionToLayerPanel =
  | { type: 'model'; model: PanelModelState }
  | { type: 'lastImage'; image?: string; name?: string }
  | { type: 'busy'; message?: string }
  | { type: 'error'; message: string }
  | { type: 'notice'; message: string }
  | { type: 'image'; image: string; name: string; data: PanelImageResult; a: number; b: number }
  | { type: 'layers'; image: string; pictures: LayerPictures[] }
  | { type: 'rollout'; image: string; rollout: PanelRolloutResult }
  | { type: 'showDataset' }
  | { type: 'datasetSource'; source: string }
  | {
    type: 'dataset';
    source: string;
    phase: DatasetPhase;
    done: number;
    total: number;
    aggregate: DatasetAggregate;
    /** Rows new since the last message; all rows when `reset`. */
    rows: DatasetRow[];
    reset: boolean;
    message?: string;
  };

/** Largest PNG data URL a page may send for export (bytes of text). */
export const MAX_EXPORT_DATA_URL = 64 * 1024 * 1024;

const isLayerIndex = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 4096;
const isShortString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** Validates a message from the layer comparison page: pages are untrusted, their messages are checked before use. */
export function parseLayerPanelMessage(raw: unknown): LayerPanelToExtension | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
    case 'pickImage':
    case 'useLastImage':
    case 'pickFolder':
    case 'cancelDataset':
      return { type: m.type };
    case 'openImage':
      return isShortString(m.image, 4096) ? { type: 'openImage', image: m.image } : undefined;
    case 'selectLayers':
      return isLayerIndex(m.a) && isLayerIndex(m.b) ? { type: 'selectLayers', a: m.a, b: m.b } : undefined;
    case 'rollout':
      return (m.fusion === 'mean' || m.fusion === 'max' || m.fusion === 'min') && typeof m.discard === 'number' && m.discard >= 0 && m.discard < 1
        ? { type: 'rollout', fusion: m.fusion, discard: m.discard } : undefined;
    case 'runDataset':
      return isShortString(m.source, 4096) && m.source.trim().length > 0 ? { type: 'runDataset', source: m.source.trim() } : undefined;
    case 'exportPng':
      return isShortString(m.name, 200) && /^[A-Za-z0-9._-]+$/.test(m.name) && isShortString(m.dataUrl, MAX_EXPORT_DATA_URL)
        && /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/.test(m.dataUrl)
        ? { type: 'exportPng', name: m.name, dataUrl: m.dataUrl } : undefined;
    case 'exportData':
      return (m.scope === 'image' || m.scope === 'dataset') && (m.format === 'csv' || m.format === 'json')
        ? { type: 'exportData', scope: m.scope, format: m.format } : undefined;
    default:
      return undefined;
  }
}

/** The family as reports name it. */
export function familyLabel(m: Pick<ModelSummary, 'family' | 'codeDim'>): string {
  switch (m.family) {
    case 'crate-alpha': return `CRATE-alpha (sparse code ${m.codeDim} wide)`;
    case 'crate-mae': return 'CRATE-MAE encoder (no classifier head)';
    default: return 'CRATE';
  }
}
