// The CRATE-alpha forward pass as an ONNX graph, exporting the same captures as the CRATE graph:
// the measures read the two-step code z2 (4 dim wide) where CRATE has its one-step code.
import type { CrateConfig } from '../../model/config';
import { ALPHA_BLOCK_LN_EPS, ALPHA_HEAD_LN_EPS, codeWidth, type AlphaWeights } from '../../model/families/alpha';
import type { GraphOptions } from './crateGraph';
import { GraphBuilder } from './graph';
import { captureSink, codeCaptures, graphOps, graphShape, mssa, patchGramOutput, pooled, withClsAndPositions } from './graphParts';

export function buildAlphaGraph(config: CrateConfig, weights: AlphaWeights, options: GraphOptions = {}): Uint8Array {
  const captures = options.captures ?? true;
  const g = new GraphBuilder();
  const { imageSize: S, patchSize: P, dim, numClasses } = config;
  const shape = graphShape(config);
  const { tokens, patches } = shape;
  const code = codeWidth(config);
  const eta = config.istaStepSize;
  const { vec, weight, layerNorm, linear, timesTransposed } = graphOps(g);

  const pixels = g.input({ name: 'pixels', dims: ['batch', 3, S, S] });
  const extremes = captures ? g.input({ name: 'extremes', dims: [], type: 'bool' }) : '';
  // Conv2d(3, dim, P, stride P), then [B, dim, grid, grid] -> [B, patches, dim] in row-major patch order.
  const stem = g.op('Conv', [pixels, weight(weights.stemWeight), vec('stem_b', weights.stemBias)], { kernel_shape: [P, P], strides: [P, P] });
  const x0 = g.op('Transpose', [g.op('Reshape', [stem, g.ints([0, dim, patches])])], { perm: [0, 2, 1] });
  let z = withClsAndPositions(g, pixels, x0, weights.clsToken, weights.posEmbedding, dim, tokens);

  let lastQkv = '';
  weights.layers.forEach((layer, l) => {
    const out = captureSink(g, l, captures);
    // MSSA as in CRATE; the output projection has no bias, and a residual is added as there.
    const w = linear(layerNorm(z, layer.norm1Weight, layer.norm1Bias, ALPHA_BLOCK_LN_EPS), layer.qkv, undefined, tokens);
    lastQkv = w;
    const mixed = mssa(g, w, shape, extremes, out, captures);
    const zHalf = g.op('Add', [z, layer.toOutWeight ? linear(mixed, layer.toOutWeight, undefined, tokens) : mixed]);

    // Two ISTA steps from zero over D [dim, code]: z1 = ReLU(eta x D - eta lambda),
    // z2 = ReLU(z1 - eta (z1 D^T - x) D - eta lambda); the block adds z2 D1^T to the stream.
    const xIn = layerNorm(zHalf, layer.norm2Weight, layer.norm2Bias, ALPHA_BLOCK_LN_EPS);
    const dict = weight(layer.dictionary);
    const shrink = g.scalar(eta * config.istaLambda);
    const drive = g.op('MatMul', [xIn, dict]);
    const z1 = g.op('Relu', [g.op('Sub', [g.op('Mul', [drive, g.scalar(eta)]), shrink])]);
    const grad = g.op('MatMul', [g.op('Sub', [timesTransposed(z1, dict, code, dim, tokens), xIn]), dict]);
    const z2 = g.op('Relu', [g.op('Sub', [g.op('Sub', [z1, g.op('Mul', [grad, g.scalar(eta)])]), shrink])]);
    z = g.op('Add', [zHalf, timesTransposed(z2, weight(layer.decoder), code, dim, tokens)]);
    if (captures) {
      // reconstructionError = ||x - z2 D^T|| / ||x||; istaResidual = ||(z1 D^T - x) D|| / ||x D||.
      const residual = g.op('Sub', [xIn, timesTransposed(z2, dict, code, dim, tokens)]);
      codeCaptures(g, out, z2, { width: code, inputWidth: dim, tokens }, { input: xIn, residual, step: grad, drive }, !!options.activations);
    }
  });

  if (captures) patchGramOutput(g, lastQkv, shape);
  const normed = layerNorm(pooled(g, z, config.pool), weights.headNormWeight, weights.headNormBias, ALPHA_HEAD_LN_EPS);
  g.output(linear(normed, weights.headWeight, weights.headBias), { name: 'logits', dims: ['batch', numClasses] });
  return g.toBytes();
}
