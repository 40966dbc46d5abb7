// Attention rollout through every prefix of layers (the layer comparison's rollout row), from one
// forward pass's fused attention.
import { fusedAttention } from '../analysis/measures';
import { discardSmallest, rolloutCls } from '../analysis/rollout';
import type { ForwardCapture } from '../backend/types';
import type { HeadFusionName } from '../protocol';

/** [layer][patch]: the CLS rollout through layers 0..layer of the first image of `capture` (with the head extremes when fusing by max or min). */
export function layerRollouts(capture: ForwardCapture, grid: number, fusion: HeadFusionName, discard: number): number[][] {
  const tokens = grid * grid + 1;
  // Discarded once per layer here, so that every prefix's rollout runs with discard 0.
  const fused = fusedAttention(capture, fusion).map((f) => {
    const a = f.slice(0, tokens * tokens);
    discardSmallest(a, discard);
    return a;
  });
  return fused.map((_, layer) => rolloutCls(fused.slice(0, layer + 1), 0, tokens, 0));
}
