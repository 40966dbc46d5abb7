// Turns one image's slice of a forward-pass capture into the per-layer measures of the protocol.
import type { ForwardCapture } from '../backend/types';
import type { CrateConfig } from '../model/config';
import { codeWidth } from '../model/families/alpha';
import type { LayerResult, RolloutResult } from '../protocol';
import { clsRows, dinoMask, mergedPatchAttention } from './attention';
import { codingRate } from './codingRate';
import { pcaFromGram } from './pca';
import { rolloutCls, type HeadFusion } from './rollout';
import { sparsityStats } from './sparsity';

export interface MeasureOptions {
  rolloutFusion: HeadFusion;
  rolloutDiscard: number;
  dinoThreshold: number;
}

export const DEFAULT_MEASURE_OPTIONS: MeasureOptions = { rolloutFusion: 'mean', rolloutDiscard: 0, dinoThreshold: 0.6 };

/** sqrt(sum numerator / sum denominator) over one image's T per-token squared norms, summed in float64. */
function normRatio(numerator: Float32Array, denominator: Float32Array, offset: number, tokens: number): number {
  let num = 0, den = 0;
  for (let t = offset; t < offset + tokens; t++) { num += numerator[t]; den += denominator[t]; }
  return den > 0 ? Math.sqrt(num / den) : 0;
}

export function layerMeasures(capture: ForwardCapture, image: number, config: CrateConfig, threshold: number): LayerResult[] {
  const tokens = (config.imageSize / config.patchSize) ** 2 + 1;
  const { heads, dimHead } = config;
  // The sparse code is dim wide for CRATE, 4 dim for CRATE-alpha.
  const code = codeWidth(config);
  return capture.layers.map((layer, index) => {
    const rows = clsRows(layer.attnCls, image * heads * tokens, heads, tokens);
    const stats = sparsityStats(layer, image, tokens, code);
    return {
      index,
      clsAttention: rows,
      sparsity: stats.sparsity,
      zeroCount: stats.zeroCount,
      reconstructionError: normRatio(layer.residualSq, layer.inputSq, image * tokens, tokens),
      istaResidual: normRatio(layer.stepSq, layer.driveSq, image * tokens, tokens),
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
  const cls = rolloutCls(fusedAttention(capture, fusion), image * tokens * tokens, tokens, discard);
  return { fusion, discard, cls };
}

/** Each layer's attention fused over heads as `fusion` asks; max and min need a forward pass with headExtremes. */
export function fusedAttention(capture: ForwardCapture, fusion: HeadFusion): Float32Array[] {
  const key = fusion === 'mean' ? 'attnMean' : fusion === 'max' ? 'attnMax' : 'attnMin';
  return capture.layers.map((l) => {
    const fused = l[key];
    if (!fused) throw new Error(`the forward pass did not capture the ${fusion} of the attention over heads`);
    return fused;
  });
}

export function lastLayerPca(capture: ForwardCapture, image: number, config: CrateConfig): number[][] {
  const patches = (config.imageSize / config.patchSize) ** 2;
  return pcaFromGram(capture.patchGram, image * patches * patches, patches);
}
