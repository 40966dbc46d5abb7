// The interface every inference backend implements, and what a forward pass captures.
import type { CrateConfig } from '../model/config';
import type { ModelWeights } from '../model/families/alpha';

/** Per-layer tensors the measures are computed from; B images, T = patches + 1 tokens. */
export interface LayerCapture {
  /** [B, heads, T]: the attention row of the CLS query, per head. */
  attnCls: Float32Array;
  /** [B, T, T] each: attention fused over heads, for rollout; max and min only when asked for. */
  attnMean: Float32Array;
  attnMax?: Float32Array;
  attnMin?: Float32Array;
  /**
   * [B, T, dim]: the ISTA output z_next (the sparse code). The CPU backend returns it only when asked
   * for activations, and otherwise what the measures read of it: zerosPerToken, codeMax, codeBins.
   */
  istaOutput?: Float32Array;
  /** [B, T, dim]: each value's histogram bin (see sparsity.ts), where the backend counts them. */
  codeBins?: Uint8Array;
  /** [B, T] exact zeros of each token's code and [B] its largest value, where the backend counts them. */
  zerosPerToken?: Float32Array;
  codeMax?: Float32Array;
  /**
   * [B, T] each, per token: the squared norms of x = LN2(z + MSSA(z)) (the ISTA input), of the
   * reconstruction residual x - z_next D^T, of the unscaled ISTA step x D - x D^T D and of x D.
   * The measures need only these norms, so the [B, T, dim] tensors stay inside the backend.
   */
  inputSq: Float32Array;
  residualSq: Float32Array;
  stepSq: Float32Array;
  driveSq: Float32Array;
  /** [B, heads, dimHead, dimHead]: X_k^T X_k of head k's qkv features with unit-norm token rows. */
  gram: Float32Array;
  /** [B, T, dim]: the ISTA input x itself, only when the forward pass was asked for activations. */
  istaInput?: Float32Array;
}

export interface ForwardCapture {
  batch: number;
  /** [B, numClasses] */
  logits: Float32Array;
  layers: LayerCapture[];
  /** [B, N, N]: C C^T for C the last layer's qkv features of the N patch tokens, centred over them (PCA). */
  patchGram: Float32Array;
}

export interface ForwardOptions {
  /** Capture each layer's ISTA input whole (`istaInput`), for checks against a reference. */
  activations?: boolean;
  /** Capture the max and min of the attention over heads (`attnMax`, `attnMin`) too. */
  headExtremes?: boolean;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** What runs the model, e.g. "onnxruntime-node 1.30.0, CPU, 2 threads". */
  readonly device: string;
  /** `input` is [batch, channels, imageSize, imageSize] preprocessed pixels. */
  forward(input: Float32Array, batch: number, options?: ForwardOptions): Promise<ForwardCapture>;
  dispose(): Promise<void>;
}

export type BackendFactory = (config: CrateConfig, weights: ModelWeights) => Promise<Backend>;
