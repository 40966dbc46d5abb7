// The CRATE forward pass as an ONNX graph built from the weights, exporting what the measures read.
import type { CrateConfig } from '../../model/config';
import type { CrateWeights, LayerWeights, Tensor } from '../../model/weights';
import { GraphBuilder } from './graph';
import { captureSink, codeCaptures, graphOps, graphShape, mssa, patchGramOutput, pooled, withClsAndPositions } from './graphParts';

export interface GraphOptions {
  /** Export every per-layer capture (default); without, the graph computes the logits alone. */
  captures?: boolean;
  /** Also export each layer's ISTA input x = LN2(z + MSSA(z)) and sparse code whole, [B, T, *] (reference checks). */
  activations?: boolean;
}

export function buildCrateGraph(config: CrateConfig, weights: CrateWeights, options: GraphOptions = {}): Uint8Array {
  const captures = options.captures ?? true;
  const g = new GraphBuilder();
  const { imageSize: S, patchSize: P, channels: C, dim, numClasses } = config;
  const shape = graphShape(config);
  const { tokens, patches } = shape;
  const grid = S / P;
  const { layerNorm, linear, timesTransposed } = graphOps(g);

  const pixels = g.input({ name: 'pixels', dims: ['batch', C, S, S] });
  // True when the caller wants the max and min of the attention over heads (rollout with those fusions).
  const extremes = captures ? g.input({ name: 'extremes', dims: [], type: 'bool' }) : '';
  // b c (h p1) (w p2) -> b (h w) (p1 p2 c): channel fastest inside a patch vector.
  const split = g.op('Reshape', [pixels, g.ints([-1, C, grid, P, grid, P])]);
  const moved = g.op('Transpose', [split], { perm: [0, 2, 4, 3, 5, 1] });
  const patchVectors = g.op('Reshape', [moved, g.ints([-1, patches, P * P * C])]);
  // A CRATE-MAE encoder's conv stem has no LayerNorms around its linear map.
  const maybeNorm = (t: string, w?: Tensor, b?: Tensor) => (w && b ? layerNorm(t, w, b) : t);
  let x = maybeNorm(patchVectors, weights.patchNorm1Weight, weights.patchNorm1Bias);
  x = linear(x, weights.patchLinearWeight, weights.patchLinearBias, patches);
  x = maybeNorm(x, weights.patchNorm2Weight, weights.patchNorm2Bias);
  let z = withClsAndPositions(g, pixels, x, weights.clsToken, weights.posEmbedding, dim, tokens);

  let lastQkv = '';
  weights.layers.forEach((layer: LayerWeights, l: number) => {
    const out = captureSink(g, l, captures);
    const w = linear(layerNorm(z, layer.norm1Weight, layer.norm1Bias), layer.qkv, undefined, tokens);
    lastQkv = w;
    const mixed = mssa(g, w, shape, extremes, out, captures);
    const zHalf = g.op('Add', [z, layer.toOutWeight ? linear(mixed, layer.toOutWeight, layer.toOutBias, tokens) : mixed]);

    // ISTA: ReLU(x + eta (x D - x D^T D) - eta lambda) with x D - x D^T D = x (D - D^T D). The
    // folded matrix is a subgraph of initializers only, so the session computes it once at load.
    const xIn = layerNorm(zHalf, layer.norm2Weight, layer.norm2Bias);
    const dict = g.floatTensor('dict', layer.dictionary.shape, layer.dictionary.data);
    const folded = g.op('Sub', [dict, g.op('Gemm', [dict, dict], { transA: 1 })]);
    const step = g.op('MatMul', [xIn, folded]);
    const update = g.op('Sub', [g.op('Mul', [step, g.scalar(config.istaStepSize)]), g.scalar(config.istaStepSize * config.istaLambda)]);
    z = g.op('Relu', [g.op('Add', [xIn, update])]);
    if (captures) {
      const residual = g.op('Sub', [xIn, timesTransposed(z, dict, dim, dim, tokens)]);
      codeCaptures(g, out, z, { width: dim, inputWidth: dim, tokens }, { input: xIn, residual, step, drive: g.op('MatMul', [xIn, dict]) }, !!options.activations);
    }
  });

  if (captures) patchGramOutput(g, lastQkv, shape);
  const pooledState = pooled(g, z, config.pool);
  const { headNormWeight, headNormBias, headWeight, headBias } = weights;
  // Without a classifier (CRATE-MAE) the logits are [B, 0].
  const logits = headNormWeight && headNormBias && headWeight
    ? linear(layerNorm(pooledState, headNormWeight, headNormBias), headWeight, headBias)
    : g.op('Slice', [pooledState, g.ints([0]), g.ints([0]), g.ints([1])]);
  g.output(logits, { name: 'logits', dims: ['batch', numClasses] });
  return g.toBytes();
}
