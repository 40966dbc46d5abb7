// The daemon's side of the layer comparison panel: one image in full, pictures of chosen layers,
// attention rollout through every layer for given options, and light per-image summaries for datasets.
import { analyzeImages, CancelledError } from '../engine/analyze';
import { rolloutCls } from '../analysis/rollout';
import { fusedAttention } from '../analysis/measures';
import type {
  HeadFusionName, ImageSummary, PanelImageParams, PanelImageResult, PanelLayersParams, PanelLayersResult, PanelRolloutParams,
  PanelRolloutResult, SummarizeParams, SummarizeResult,
} from '../protocol';
import { renderLayerPictures, renderPatchHeatmap, renderPcaMap, renderView } from './render';
import type { ActiveModel } from './modelHost';
import type { ResultCache } from './results';

const clampSize = (size: number | undefined, fallback: number) =>
  Number.isInteger(size) && size! >= 16 && size! <= 1024 ? size! : fallback;

export async function panelImage(active: ActiveModel, cache: ResultCache, params: PanelImageParams, signal: AbortSignal): Promise<PanelImageResult> {
  const { result, prepared } = await cache.analyse(active, params.image, signal);
  const size = clampSize(params.size, 224);
  return {
    model: active.summary,
    result,
    view: renderView(prepared.view, size),
    pca: result.pca ? renderPcaMap(result.pca, result.grid!.width, size) : undefined,
  };
}

export async function panelLayers(active: ActiveModel, cache: ResultCache, params: PanelLayersParams, signal: AbortSignal): Promise<PanelLayersResult> {
  const { result, prepared } = await cache.analyse(active, params.image, signal);
  const size = clampSize(params.size, 224), headSize = clampSize(params.headSize, 112);
  return { layers: params.layers.map((layer) => renderLayerPictures(prepared.view, result, layer, size, headSize)) };
}

/**
 * Drops the `discard` fraction of smallest entries of a [T, T] matrix (never entry 0), exactly as
 * the rollout's own preparation does, so that rolloutCls can then run with discard 0 on each prefix.
 */
function discardSmallest(source: Float32Array, tokens: number, discard: number): Float32Array {
  const size = tokens * tokens;
  const a = source.slice(0, size);
  const drop = Math.floor(size * discard);
  if (drop > 0) {
    const order = Array.from({ length: size }, (_, i) => i).sort((x, y) => a[x] - a[y] || x - y);
    for (let k = 0; k < drop; k++) if (order[k] !== 0) a[order[k]] = 0;
  }
  return a;
}

export async function panelRollout(active: ActiveModel, cache: ResultCache, params: PanelRolloutParams, signal: AbortSignal): Promise<PanelRolloutResult> {
  const fusion: HeadFusionName = params.fusion;
  if (fusion !== 'mean' && fusion !== 'max' && fusion !== 'min') throw new RangeError(`unknown head fusion "${String(fusion)}"`);
  const discard = Number(params.discard);
  if (!(discard >= 0 && discard < 1)) throw new RangeError('discard must be within [0, 1)');
  const { result, prepared } = await cache.analyse(active, params.image, signal);
  if (signal.aborted) throw new CancelledError();
  // The cached analysis keeps measures, not activations: one more forward pass gives the fused attention.
  const capture = await active.backend.forward(prepared.input, 1, { headExtremes: fusion !== 'mean' });
  if (signal.aborted) throw new CancelledError();
  const grid = result.grid!.width;
  const tokens = grid * grid + 1;
  const fused = fusedAttention(capture, fusion).map((f) => discardSmallest(f, tokens, discard));
  const cls = fused.map((_, layer) => rolloutCls(fused.slice(0, layer + 1), 0, tokens, 0));
  const size = clampSize(params.size, 224);
  return { fusion, discard, cls, pictures: cls.map((row) => renderPatchHeatmap(prepared.view, row, grid, size)) };
}

export async function summarize(active: ActiveModel, params: SummarizeParams, signal: AbortSignal): Promise<SummarizeResult> {
  const results = await analyzeImages(active.model, active.backend, params.images, { signal, topK: 1 });
  return {
    model: active.summary,
    results: results.map((r): ImageSummary => r.error || !r.layers ? { image: r.image, error: r.error ?? 'not analysed' } : {
      image: r.image,
      top: r.top?.[0],
      layers: r.layers.map((l) => ({
        sparsity: l.sparsity, reconstructionError: l.reconstructionError, istaResidual: l.istaResidual, codingRate: l.codingRate, histogram: l.histogram,
      })),
    }),
  };
}
