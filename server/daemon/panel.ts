// The daemon's side of the layer comparison panel: one image in full, pictures of chosen layers,
// attention rollout through every layer for given options, and light per-image summaries for datasets.
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
  const { result, view } = await cache.analyse(active, params.image, signal);
  const size = clampSize(params.size, 224);
  return {
    model: active.summary,
    result,
    view: renderView(view, size),
    pca: result.pca ? renderPcaMap(result.pca, result.grid!.width, size) : undefined,
  };
}

export async function panelLayers(active: ActiveModel, cache: ResultCache, params: PanelLayersParams, signal: AbortSignal): Promise<PanelLayersResult> {
  const { result, view } = await cache.analyse(active, params.image, signal);
  const size = clampSize(params.size, 224), headSize = clampSize(params.headSize, 112);
  return { layers: params.layers.map((layer) => renderLayerPictures(view, result, layer, size, headSize)) };
}

export async function panelRollout(active: ActiveModel, cache: ResultCache, params: PanelRolloutParams, signal: AbortSignal): Promise<PanelRolloutResult> {
  const fusion: HeadFusionName = params.fusion;
  if (fusion !== 'mean' && fusion !== 'max' && fusion !== 'min') throw new RangeError(`unknown head fusion "${String(fusion)}"`);
  const discard = Number(params.discard);
  if (!(discard >= 0 && discard < 1)) throw new RangeError('discard must be within [0, 1)');
  const { result, view, bytes } = await cache.analyse(active, params.image, signal);
  // The cached analysis keeps measures, not activations: one more forward pass gives the fused attention.
  const cls = await active.inference.rollouts(bytes, fusion, discard, signal);
  const size = clampSize(params.size, 224);
  return { fusion, discard, cls, pictures: cls.map((row) => renderPatchHeatmap(view, row, result.grid!.width, size)) };
}

export async function summarize(active: ActiveModel, params: SummarizeParams, signal: AbortSignal): Promise<SummarizeResult> {
  const results = await active.inference.analyzeImages(params.images, { topK: 1 }, signal);
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
