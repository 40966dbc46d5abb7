// Picks the graph builder of a model's family.
import type { CrateConfig } from '../../model/config';
import { isAlphaWeights, type ModelWeights } from '../../model/families/alpha';
import { buildAlphaGraph } from './alphaGraph';
import { buildCrateGraph, type GraphOptions } from './crateGraph';

export function buildModelGraph(config: CrateConfig, weights: ModelWeights, options: GraphOptions = {}): Uint8Array {
  return isAlphaWeights(weights) ? buildAlphaGraph(config, weights, options) : buildCrateGraph(config, weights, options);
}
