// The CRATE forward pass as an ONNX graph built from the weights, exporting what the measures read.
import type { CrateConfig } from '../../model/config';
import type { CrateWeights, LayerWeights, Tensor } from '../../model/weights';
import { GraphBuilder } from './graph';

export const LAYER_OUTPUTS = ['attnCls', 'attnMean', 'attnMax', 'attnMin', 'istaOutput', 'zerosPerToken', 'codeMax', 'inputSq', 'residualSq', 'stepSq', 'driveSq', 'gram'] as const;
export type LayerOutput = (typeof LAYER_OUTPUTS)[number] | 'istaInput';

export function layerOutputName(layer: number, output: LayerOutput): string { return `l${layer}_${output}`; }

export interface GraphOptions {
  /** Export every per-layer capture (default); without, the graph computes the logits alone. */
  captures?: boolean;
  /** Also export each layer's ISTA input x = LN2(z + MSSA(z)) whole, [B, T, dim] (reference checks). */
  activations?: boolean;
}

export function buildCrateGraph(config: CrateConfig, weights: CrateWeights, options: GraphOptions = {}): Uint8Array {
  const captures = options.captures ?? true;
  const g = new GraphBuilder();
  const { imageSize: S, patchSize: P, channels: C, dim, heads, dimHead, numClasses } = config;
  const grid = S / P;
  const patches = grid * grid;
  const tokens = patches + 1;
  const inner = heads * dimHead;
  const eps = { float: 1e-5 };

  const vec = (prefix: string, t: Tensor) => g.floatTensor(prefix, [t.data.length], t.data);
  const layerNorm = (x: string, w: Tensor, b: Tensor) =>
    g.op('LayerNormalization', [x, vec('ln_w', w), vec('ln_b', b)], { axis: -1, epsilon: eps });
  /**
   * x W^T (+ b) for a torch Linear weight W of shape [out, in] and x of shape [..., rows, in]: a Gemm
   * with transB over the rows flattened, so the weight goes into the model as it is, never transposed
   * into a second copy.
   */
  const linear = (x: string, w: Tensor, b?: Tensor, rows?: number) => {
    const [outDim, inDim] = w.shape;
    const flat = rows === undefined ? x : g.op('Reshape', [x, g.ints([-1, inDim])]);
    const inputs = [flat, g.floatTensor('w', w.shape, w.data), ...(b ? [vec('b', b)] : [])];
    const y = g.op('Gemm', inputs, { transB: 1 });
    return rows === undefined ? y : g.op('Reshape', [y, g.ints([-1, rows, outDim])]);
  };
  /** x D^T for x of shape [B, rows, dim] and a constant D, as a Gemm with transB. */
  const timesTransposed = (x: string, d: string, rows: number, dim: number) =>
    g.op('Reshape', [g.op('Gemm', [g.op('Reshape', [x, g.ints([-1, dim])]), d], { transB: 1 }), g.ints([-1, rows, dim])]);

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

  const batchDim = g.op('Slice', [g.op('Shape', [pixels]), g.ints([0]), g.ints([1])]);
  const clsShape = g.op('Concat', [batchDim, g.ints([1, dim])], { axis: 0 });
  const cls = g.op('Expand', [g.floatTensor('cls', [1, 1, dim], weights.clsToken.data), clsShape]);
  let z = g.op('Add', [g.op('Concat', [cls, x], { axis: 1 }), g.floatTensor('pos', [1, tokens, dim], weights.posEmbedding.data)]);

  let lastQkv = '';
  weights.layers.forEach((layer: LayerWeights, l: number) => {
    const out = (name: (typeof LAYER_OUTPUTS)[number], value: string, dims: (number | string)[]) => {
      if (captures) g.output(value, { name: layerOutputName(l, name), dims: ['batch', ...dims] });
    };

    // MSSA: one projection per head is query, key and value.
    const w = linear(layerNorm(z, layer.norm1Weight, layer.norm1Bias), layer.qkv, undefined, tokens);
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
      // The norms the measures need, per token: the [B, T, dim] tensors themselves stay inside.
      const perToken = (t: string) => g.op('ReduceSumSquare', [t], { axes: [2], keepdims: 0 });
      out('istaOutput', z, [tokens, dim]);
      // Counted here, vectorised: a JS loop over half-zero data mispredicts every other branch.
      const isZero = g.op('Cast', [g.op('Equal', [z, g.scalar(0)])], { to: 1 });
      out('zerosPerToken', g.op('ReduceSum', [isZero, g.ints([2])], { keepdims: 0 }), [tokens]);
      out('codeMax', g.op('ReduceMax', [z], { axes: [1, 2], keepdims: 0 }), []);
      out('inputSq', perToken(xIn), [tokens]);
      out('stepSq', perToken(step), [tokens]);
      out('driveSq', perToken(g.op('MatMul', [xIn, dict])), [tokens]);
      out('residualSq', perToken(g.op('Sub', [xIn, timesTransposed(z, dict, tokens, dim)])), [tokens]);
      if (options.activations) g.output(xIn, { name: layerOutputName(l, 'istaInput'), dims: ['batch', tokens, dim] });
    }
  });

  if (captures) {
    // PCA works on the patch-by-patch Gram matrix of the centred last-layer features.
    const patchFeatures = g.op('Slice', [lastQkv, g.ints([1]), g.ints([tokens]), g.ints([1])]);
    const centred = g.op('Sub', [patchFeatures, g.op('ReduceMean', [patchFeatures], { axes: [1], keepdims: 1 })]);
    g.output(g.op('MatMul', [centred, g.op('Transpose', [centred], { perm: [0, 2, 1] })]), { name: 'patchGram', dims: ['batch', patches, patches] });
  }
  const pooled = config.pool === 'mean'
    ? g.op('ReduceMean', [z], { axes: [1], keepdims: 0 })
    : g.op('Squeeze', [g.op('Gather', [z, g.ints([0])], { axis: 1 }), g.ints([1])]);
  const { headNormWeight, headNormBias, headWeight, headBias } = weights;
  // Without a classifier (CRATE-MAE) the logits are [B, 0].
  const logits = headNormWeight && headNormBias && headWeight
    ? linear(layerNorm(pooled, headNormWeight, headNormBias), headWeight, headBias)
    : g.op('Slice', [pooled, g.ints([0]), g.ints([0]), g.ints([1])]);
  g.output(logits, { name: 'logits', dims: ['batch', numClasses] });
  return g.toBytes();
}
