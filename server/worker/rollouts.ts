// Attention rollout through every prefix of layers (the layer comparison's rollout row), from one
// forward pass's fused attention.
import { fusedAttention } from '../analysis/measures';
import { rolloutCls } from '../analysis/rollout';
import type { ForwardCapture } from '../backend/types';
import type { HeadFusionName } from '../protocol';

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

/** [layer][patch]: the CLS rollout through layers 0..layer of the first image of `capture` (with the head extremes when fusing by max or min). */
export function layerRollouts(capture: ForwardCapture, grid: number, fusion: HeadFusionName, discard: number): number[][] {
  const tokens = grid * grid + 1;
  const fused = fusedAttention(capture, fusion).map((f) => discardSmallest(f, tokens, discard));
  return fused.map((_, layer) => rolloutCls(fused.slice(0, layer + 1), 0, tokens, 0));
}
