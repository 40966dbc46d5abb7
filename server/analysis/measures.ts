// Turns one image's slice of a forward-pass capture into the per-layer measures of the protocol.
import type { ForwardCapture } from '../backend/types';
import type { CrateConfig } from '../model/config';
import type { LayerResult, RolloutResult } from '../protocol';
import { clsRows, dinoMask, mergedPatchAttention } from './attention';
import { codingRate } from './codingRate';
import { sumSquares } from './linalg';
import { pcaMap } from './pca';
import { rolloutCls, type HeadFusion } from './rollout';
import { sparsityStats } from './sparsity';

export interface MeasureOptions {
  rolloutFusion: HeadFusion;
  rolloutDiscard: number;
  dinoThreshold: number;
}

export const DEFAULT_MEASURE_OPTIONS: MeasureOptions = { rolloutFusion: 'mean', rolloutDiscard: 0, dinoThreshold: 0.6 };

function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? Math.sqrt(numerator / denominator) : 0;
}

export function layerMeasures(capture: ForwardCapture, image: number, config: CrateConfig, threshold: number): LayerResult[] {
  const tokens = (config.imageSize / config.patchSize) ** 2 + 1;
  const { dim, heads, dimHead } = config;
  const act = image * tokens * dim;
  return capture.layers.map((layer, index) => {
    const rows = clsRows(layer.attnCls, image * heads * tokens, heads, tokens);
    const stats = sparsityStats(layer.istaOutput, act, tokens, dim);
    const span = [act, act + tokens * dim] as const;
    return {
      index,
      clsAttention: rows,
      sparsity: stats.sparsity,
      zeroCount: stats.zeroCount,
      reconstructionError: ratio(sumSquares(layer.reconResidual, ...span), sumSquares(layer.istaInput, ...span)),
      istaResidual: ratio(sumSquares(layer.istaStep, ...span), sumSquares(layer.istaDrive, ...span)),
      codingRate: codingRate(layer.gram, image * heads * dimHead * dimHead, heads, dimHead, tokens),
      histogram: stats.histogram,
      zerosPerToken: stats.zerosPerToken,
      dinoMask: rows.map((row) => dinoMask(row.slice(1), threshold)),
      dinoMaskMerged: dinoMask(mergedPatchAttention(rows), threshold),
    };
  });
}

export function rollout(capture: ForwardCapture, image: number, config: CrateConfig, fusion: HeadFusion, discard: number): RolloutResult {
  const tokens = (config.imageSize / config.patchSize) ** 2 + 1;
  const key = fusion === 'mean' ? 'attnMean' : fusion === 'max' ? 'attnMax' : 'attnMin';
  const cls = rolloutCls(capture.layers.map((l) => l[key]), image * tokens * tokens, tokens, discard);
  return { fusion, discard, cls };
}

export function lastLayerPca(capture: ForwardCapture, image: number, config: CrateConfig): number[][] {
  const tokens = (config.imageSize / config.patchSize) ** 2 + 1;
  const width = config.heads * config.dimHead;
  return pcaMap(capture.lastQkv, image * tokens * width, tokens, width);
}
