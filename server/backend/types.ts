// The interface every inference backend implements, and what a forward pass captures.
import type { CrateConfig } from '../model/config';
import type { CrateWeights } from '../model/weights';

/** Per-layer tensors the measures are computed from; B images, T = patches + 1 tokens. */
export interface LayerCapture {
  /** [B, heads, T]: the attention row of the CLS query, per head. */
  attnCls: Float32Array;
  /** [B, T, T] each: attention fused over heads, for rollout. */
  attnMean: Float32Array;
  attnMax: Float32Array;
  attnMin: Float32Array;
  /** [B, T, dim]: x = LN2(z + MSSA(z)), the ISTA input. */
  istaInput: Float32Array;
  /** [B, T, dim]: the ISTA output z_next (the sparse code). */
  istaOutput: Float32Array;
  /** [B, T, dim]: x - z_next D^T, the reconstruction residual. */
  reconResidual: Float32Array;
  /** [B, T, dim]: x D - x D^T D, the unscaled ISTA step. */
  istaStep: Float32Array;
  /** [B, T, dim]: x D. */
  istaDrive: Float32Array;
  /** [B, heads, dimHead, dimHead]: X_k^T X_k of head k's qkv features with unit-norm token rows. */
  gram: Float32Array;
}

export interface ForwardCapture {
  batch: number;
  /** [B, numClasses] */
  logits: Float32Array;
  layers: LayerCapture[];
  /** [B, T, heads*dimHead]: the last layer's qkv features, for PCA. */
  lastQkv: Float32Array;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** What runs the model, e.g. "onnxruntime-node 1.30.0, CPU, 2 threads". */
  readonly device: string;
  /** `input` is [batch, channels, imageSize, imageSize] preprocessed pixels. */
  forward(input: Float32Array, batch: number): Promise<ForwardCapture>;
  dispose(): Promise<void>;
}

export type BackendFactory = (config: CrateConfig, weights: CrateWeights) => Promise<Backend>;
