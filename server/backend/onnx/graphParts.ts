// The pieces of a forward-pass graph that CRATE and CRATE-alpha share: constants, linear maps, the
// CLS + position embedding, MSSA with its attention captures, the sparse code's captures, the PCA
// Gram matrix and the pooling.
import type { CrateConfig } from '../../model/config';
import type { Tensor } from '../../model/weights';
import { HISTOGRAM_BINS } from '../../analysis/sparsity';
import type { GraphBuilder, ValueSpec } from './graph';

export const LAYER_OUTPUTS = ['attnCls', 'attnMean', 'attnMax', 'attnMin', 'codeBins', 'zerosPerToken', 'codeMax', 'inputSq', 'residualSq', 'stepSq', 'driveSq', 'gram'] as const;
/** Exported only by a graph built with `activations`: the [B, T, *] ISTA input and output whole. */
export const ACTIVATION_OUTPUTS = ['istaInput', 'istaOutput'] as const;
export type LayerOutput = (typeof LAYER_OUTPUTS)[number] | (typeof ACTIVATION_OUTPUTS)[number];

export function layerOutputName(layer: number, output: LayerOutput): string { return `l${layer}_${output}`; }

/** Exports one layer's capture under its stable name (a no-op when the graph has no captures). */
export type CaptureSink = (name: LayerOutput, value: string, dims: (number | string)[], type?: ValueSpec['type']) => void;

export function captureSink(g: GraphBuilder, layer: number, enabled: boolean): CaptureSink {
  return (name, value, dims, type) => { if (enabled) g.output(value, { name: layerOutputName(layer, name), dims: ['batch', ...dims], type }); };
}

export interface GraphShape { tokens: number; patches: number; heads: number; dimHead: number }

export function graphShape(config: CrateConfig): GraphShape {
  const patches = (config.imageSize / config.patchSize) ** 2;
  return { tokens: patches + 1, patches, heads: config.heads, dimHead: config.dimHead };
}

/** Constants and linear maps; weights go into the model as they are, never transposed into a second copy. */
export function graphOps(g: GraphBuilder) {
  const vec = (prefix: string, t: Tensor) => g.floatTensor(prefix, [t.data.length], t.data);
  const weight = (t: Tensor) => g.floatTensor('w', t.shape, t.data);
  const layerNorm = (x: string, w: Tensor, b: Tensor, eps = 1e-5) =>
    g.op('LayerNormalization', [x, vec('ln_w', w), vec('ln_b', b)], { axis: -1, epsilon: { float: eps } });
  /** x W^T (+ b) over [B, rows, in] for a [out, in] weight already in the graph, as one Gemm with transB. */
  const timesTransposed = (x: string, w: string, inDim: number, outDim: number, rows: number, b?: string) =>
    g.op('Reshape', [g.op('Gemm', [g.op('Reshape', [x, g.ints([-1, inDim])]), w, ...(b ? [b] : [])], { transB: 1 }), g.ints([-1, rows, outDim])]);
  /** x W^T (+ b) for a torch Linear weight W [out, in]: over [B, rows, in], or over [B, in] without rows. */
  const linear = (x: string, w: Tensor, b: Tensor | undefined, rows?: number) => {
    const [outDim, inDim] = w.shape;
    const bias = b ? vec('b', b) : undefined;
    if (rows !== undefined) return timesTransposed(x, weight(w), inDim, outDim, rows, bias);
    return g.op('Gemm', [x, weight(w), ...(bias ? [bias] : [])], { transB: 1 });
  };
  return { vec, weight, layerNorm, timesTransposed, linear };
}

/** concat(CLS, patch embeddings) + position embedding, the CLS token broadcast over the batch. */
export function withClsAndPositions(g: GraphBuilder, pixels: string, patchEmbeddings: string, cls: Tensor, pos: Tensor, dim: number, tokens: number): string {
  const batchDim = g.op('Slice', [g.op('Shape', [pixels]), g.ints([0]), g.ints([1])]);
  const clsShape = g.op('Concat', [batchDim, g.ints([1, dim])], { axis: 0 });
  const clsTokens = g.op('Expand', [g.floatTensor('cls', [1, 1, dim], cls.data), clsShape]);
  return g.op('Add', [g.op('Concat', [clsTokens, patchEmbeddings], { axis: 1 }), g.floatTensor('pos', [1, tokens, dim], pos.data)]);
}

/**
 * MSSA from the qkv features `w` [B, T, heads*dimHead] (one projection per head is query, key and
 * value): per head softmax(w w^T / sqrt(dimHead)) w, heads concatenated. Exports the CLS attention
 * rows, the attention fused over heads (max and min only when `extremes` is true at run time, through
 * an If node) and each head's Gram matrix of unit-norm token rows (coding rate).
 */
export function mssa(g: GraphBuilder, w: string, s: GraphShape, extremes: string, out: CaptureSink, captures: boolean): string {
  const { tokens, heads, dimHead } = s;
  const perHead = g.op('Transpose', [g.op('Reshape', [w, g.ints([0, 0, heads, dimHead])])], { perm: [0, 2, 1, 3] });
  const scores = g.op('Mul', [g.op('MatMul', [perHead, g.op('Transpose', [perHead], { perm: [0, 1, 3, 2] })]), g.scalar(dimHead ** -0.5)]);
  const attn = g.op('Softmax', [scores], { axis: -1 });
  if (captures) {
    out('attnCls', g.op('Gather', [attn, g.ints([0])], { axis: 2 }), [heads, 1, tokens]);
    // Sum over heads as a [1, heads] x [heads, T*T] product, then / heads: ReduceMean over a middle axis is
    // about 2.5x slower in onnxruntime.
    const headSum = g.op('MatMul', [g.floatTensor('ones', [1, heads], new Float32Array(heads).fill(1)), g.op('Reshape', [attn, g.ints([0, heads, tokens * tokens])])]);
    out('attnMean', g.op('Reshape', [g.op('Div', [headSum, g.scalar(heads)]), g.ints([-1, tokens, tokens])]), [tokens, tokens]);
    const [max, min] = g.ifElse(extremes,
      (b) => [b.op('ReduceMax', [attn], { axes: [1], keepdims: 0 }), b.op('ReduceMin', [attn], { axes: [1], keepdims: 0 })],
      (b) => { const none = b.floatTensor('none', [0, tokens, tokens], new Float32Array(0)); return [none, none]; });
    out('attnMax', max, [tokens, tokens]);
    out('attnMin', min, [tokens, tokens]);
    const unit = g.op('LpNormalization', [perHead], { axis: -1, p: 2 });
    out('gram', g.op('MatMul', [g.op('Transpose', [unit], { perm: [0, 1, 3, 2] }), unit]), [heads, dimHead, dimHead]);
  }
  return g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [attn, perHead])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, heads * dimHead])]);
}

/** The per-token tensors whose squared norms the measures divide (see LayerCapture). */
export interface CodeNorms { input: string; residual: string; step: string; drive: string }

/** The code's width, the ISTA input's width (the model's dim) and the token count. */
export interface CodeShape { width: number; inputWidth: number; tokens: number }

/**
 * What the measures read of the sparse code [B, T, width], counted here (vectorised: a JS loop over
 * half-zero data mispredicts every other branch): its zeros per token, its largest value per image and
 * each value's histogram bin (uint8, a quarter of the code's bytes); the code and the ISTA input
 * (`norms.input`, [B, T, inputWidth]) themselves only with `activations`. Also the per-token squared
 * norms of `norms`: the [B, T, *] tensors behind them stay inside the graph.
 */
export function codeCaptures(g: GraphBuilder, out: CaptureSink, code: string, shape: CodeShape, norms: CodeNorms, activations: boolean): void {
  const { width, inputWidth, tokens } = shape;
  // Mul + ReduceSum: onnxruntime's ReduceSumSquare over the last axis is about 2.5x slower.
  const perToken = (t: string) => g.op('ReduceSum', [g.op('Mul', [t, t]), g.ints([2])], { keepdims: 0 });
  if (activations) {
    out('istaInput', norms.input, [tokens, inputWidth]);
    out('istaOutput', code, [tokens, width]);
  }
  const isZero = g.op('Cast', [g.op('Equal', [code, g.scalar(0)])], { to: 1 });
  out('zerosPerToken', g.op('ReduceSum', [isZero, g.ints([2])], { keepdims: 0 }), [tokens]);
  const max = g.op('ReduceMax', [code], { axes: [1, 2], keepdims: 1 });
  out('codeMax', g.op('Reshape', [max, g.ints([-1])]), []);
  // bin = min(floor(v * bins / max), bins - 1), all in float32 (sparsity.ts); an all-zero code has scale 0.
  const scale = g.op('Where', [g.op('Greater', [max, g.scalar(0)]), g.op('Div', [g.scalar(HISTOGRAM_BINS), max]), g.scalar(0)]);
  const bin = g.op('Min', [g.op('Floor', [g.op('Mul', [code, scale])]), g.scalar(HISTOGRAM_BINS - 1)]);
  out('codeBins', g.op('Cast', [bin], { to: 2 }), [tokens, width], 'uint8');
  out('inputSq', perToken(norms.input), [tokens]);
  out('stepSq', perToken(norms.step), [tokens]);
  out('driveSq', perToken(norms.drive), [tokens]);
  out('residualSq', perToken(norms.residual), [tokens]);
}

/** PCA works on the patch-by-patch Gram matrix of the centred last-layer qkv features. */
export function patchGramOutput(g: GraphBuilder, lastQkv: string, s: GraphShape): void {
  const patchFeatures = g.op('Slice', [lastQkv, g.ints([1]), g.ints([s.tokens]), g.ints([1])]);
  const centred = g.op('Sub', [patchFeatures, g.op('ReduceMean', [patchFeatures], { axes: [1], keepdims: 1 })]);
  g.output(g.op('MatMul', [centred, g.op('Transpose', [centred], { perm: [0, 2, 1] })]), { name: 'patchGram', dims: ['batch', s.patches, s.patches] });
}

/** The CLS token's state, or the mean over all tokens, as the config's pool says. */
export function pooled(g: GraphBuilder, z: string, pool: CrateConfig['pool']): string {
  return pool === 'mean'
    ? g.op('ReduceMean', [z], { axes: [1], keepdims: 0 })
    : g.op('Squeeze', [g.op('Gather', [z, g.ints([0])], { axis: 1 }), g.ints([1])]);
}
