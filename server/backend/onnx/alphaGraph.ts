// The CRATE-alpha forward pass as an ONNX graph, exporting the same captures as the CRATE graph:
// the measures read the two-step code z2 (4 dim wide) where CRATE has its one-step code.
import type { CrateConfig } from '../../model/config';
import { ALPHA_BLOCK_LN_EPS, ALPHA_HEAD_LN_EPS, codeWidth, type AlphaWeights } from '../../model/families/alpha';
import type { Tensor } from '../../model/weights';
import { layerOutputName, type GraphOptions, type LAYER_OUTPUTS } from './crateGraph';
import { GraphBuilder } from './graph';

export function buildAlphaGraph(config: CrateConfig, weights: AlphaWeights, options: GraphOptions = {}): Uint8Array {
  const captures = options.captures ?? true;
  const g = new GraphBuilder();
  const { imageSize: S, patchSize: P, dim, heads, dimHead, numClasses } = config;
  const grid = S / P;
  const patches = grid * grid;
  const tokens = patches + 1;
  const inner = heads * dimHead;
  const code = codeWidth(config);
  const eta = config.istaStepSize;

  const vec = (prefix: string, t: Tensor) => g.floatTensor(prefix, [t.data.length], t.data);
  const layerNorm = (x: string, w: Tensor, b: Tensor, eps: number) =>
    g.op('LayerNormalization', [x, vec('ln_w', w), vec('ln_b', b)], { axis: -1, epsilon: { float: eps } });
  /** x W^T (+ b) over [B, rows, in] for a [out, in] weight already in the graph, as one Gemm with transB. */
  const timesTransposed = (x: string, w: string, inDim: number, outDim: number, rows: number, b?: string) =>
    g.op('Reshape', [g.op('Gemm', [g.op('Reshape', [x, g.ints([-1, inDim])]), w, ...(b ? [b] : [])], { transB: 1 }), g.ints([-1, rows, outDim])]);
  const weight = (t: Tensor) => g.floatTensor('w', t.shape, t.data);
  const linear = (x: string, w: Tensor, rows: number, b?: Tensor) => timesTransposed(x, weight(w), w.shape[1], w.shape[0], rows, b ? vec('b', b) : undefined);

  const pixels = g.input({ name: 'pixels', dims: ['batch', 3, S, S] });
  const extremes = captures ? g.input({ name: 'extremes', dims: [], type: 'bool' }) : '';
  // Conv2d(3, dim, P, stride P), then [B, dim, grid, grid] -> [B, patches, dim] in row-major patch order.
  const stem = g.op('Conv', [pixels, weight(weights.stemWeight), vec('stem_b', weights.stemBias)], { kernel_shape: [P, P], strides: [P, P] });
  const x0 = g.op('Transpose', [g.op('Reshape', [stem, g.ints([0, dim, patches])])], { perm: [0, 2, 1] });
  const batchDim = g.op('Slice', [g.op('Shape', [pixels]), g.ints([0]), g.ints([1])]);
  const cls = g.op('Expand', [g.floatTensor('cls', [1, 1, dim], weights.clsToken.data), g.op('Concat', [batchDim, g.ints([1, dim])], { axis: 0 })]);
  let z = g.op('Add', [g.op('Concat', [cls, x0], { axis: 1 }), g.floatTensor('pos', [1, tokens, dim], weights.posEmbedding.data)]);

  let lastQkv = '';
  weights.layers.forEach((layer, l) => {
    const out = (name: (typeof LAYER_OUTPUTS)[number], value: string, dims: (number | string)[]) => {
      if (captures) g.output(value, { name: layerOutputName(l, name), dims: ['batch', ...dims] });
    };

    // MSSA as in CRATE; the output projection has no bias, and a residual is added as there.
    const w = linear(layerNorm(z, layer.norm1Weight, layer.norm1Bias, ALPHA_BLOCK_LN_EPS), layer.qkv, tokens);
    lastQkv = w;
    const perHead = g.op('Transpose', [g.op('Reshape', [w, g.ints([0, 0, heads, dimHead])])], { perm: [0, 2, 1, 3] });
    const scores = g.op('Mul', [g.op('MatMul', [perHead, g.op('Transpose', [perHead], { perm: [0, 1, 3, 2] })]), g.scalar(dimHead ** -0.5)]);
    const attn = g.op('Softmax', [scores], { axis: -1 });
    if (captures) {
      out('attnCls', g.op('Gather', [attn, g.ints([0])], { axis: 2 }), [heads, 1, tokens]);
      out('attnMean', g.op('ReduceMean', [attn], { axes: [1], keepdims: 0 }), [tokens, tokens]);
      const [max, min] = g.ifElse(extremes,
        (b) => [b.op('ReduceMax', [attn], { axes: [1], keepdims: 0 }), b.op('ReduceMin', [attn], { axes: [1], keepdims: 0 })],
        (b) => { const none = b.floatTensor('none', [0, tokens, tokens], new Float32Array(0)); return [none, none]; });
      out('attnMax', max, [tokens, tokens]);
      out('attnMin', min, [tokens, tokens]);
      const unit = g.op('LpNormalization', [perHead], { axis: -1, p: 2 });
      out('gram', g.op('MatMul', [g.op('Transpose', [unit], { perm: [0, 1, 3, 2] }), unit]), [heads, dimHead, dimHead]);
    }
    const mixed = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [attn, perHead])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, inner])]);
    const zHalf = g.op('Add', [z, layer.toOutWeight ? linear(mixed, layer.toOutWeight, tokens) : mixed]);

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
      const perToken = (t: string) => g.op('ReduceSumSquare', [t], { axes: [2], keepdims: 0 });
      out('istaOutput', z2, [tokens, code]);
      const isZero = g.op('Cast', [g.op('Equal', [z2, g.scalar(0)])], { to: 1 });
      out('zerosPerToken', g.op('ReduceSum', [isZero, g.ints([2])], { keepdims: 0 }), [tokens]);
      out('codeMax', g.op('ReduceMax', [z2], { axes: [1, 2], keepdims: 0 }), []);
      // reconstructionError = ||x - z2 D^T|| / ||x||; istaResidual = ||(z1 D^T - x) D|| / ||x D||.
      out('inputSq', perToken(xIn), [tokens]);
      out('stepSq', perToken(grad), [tokens]);
      out('driveSq', perToken(drive), [tokens]);
      out('residualSq', perToken(g.op('Sub', [xIn, timesTransposed(z2, dict, code, dim, tokens)])), [tokens]);
      if (options.activations) g.output(xIn, { name: layerOutputName(l, 'istaInput'), dims: ['batch', tokens, dim] });
    }
  });

  if (captures) {
    const patchFeatures = g.op('Slice', [lastQkv, g.ints([1]), g.ints([tokens]), g.ints([1])]);
    const centred = g.op('Sub', [patchFeatures, g.op('ReduceMean', [patchFeatures], { axes: [1], keepdims: 1 })]);
    g.output(g.op('MatMul', [centred, g.op('Transpose', [centred], { perm: [0, 2, 1] })]), { name: 'patchGram', dims: ['batch', patches, patches] });
  }
  const pooled = config.pool === 'mean'
    ? g.op('ReduceMean', [z], { axes: [1], keepdims: 0 })
    : g.op('Squeeze', [g.op('Gather', [z, g.ints([0])], { axis: 1 }), g.ints([1])]);
  const normed = layerNorm(pooled, weights.headNormWeight, weights.headNormBias, ALPHA_HEAD_LN_EPS);
  const logits = g.op('Gemm', [normed, weight(weights.headWeight), vec('b', weights.headBias)], { transB: 1 });
  g.output(logits, { name: 'logits', dims: ['batch', numClasses] });
  return g.toBytes();
}
