// The CRATE forward pass for a fixed number of images as recorded dispatches, stage by stage
// (embedding, each layer, head), with the captures each stage reads back.
import type { CrateConfig } from '../../model/config';
import type { GpuWeights } from './gpuWeights';
import type { Kernels } from './kernels';
import { CAPTURE_KEYS, captureFloats, type Shapes, type WorkBuffer } from './layout';
import { Recorder, type Readback, type Stage } from './recorder';

/** Where a readback lands: the output named `name`, `perImage` floats per image. */
export interface Target { name: string; perImage: number }

export const captureName = (layer: number, key: string) => `l${layer}.${key}`;

/** A readback of `perImage` floats per image of `source` into the output `name`. */
export const readbackOf = (images: number) => (source: GPUBuffer, name: string, perImage: number): Readback<Target> =>
  ({ source, bytes: images * perImage * 4, target: { name, perImage } });

/**
 * Ends a layer's stage, shared by the families: the per-token squared norms the measures divide
 * (buf.x, buf.recon over dim; buf.step, buf.drive over the code width) and the layer's readbacks,
 * with `code` as the sparse code.
 */
export function endLayerStage(rec: Recorder<Target>, k: Kernels, s: Shapes, buf: Record<WorkBuffer, GPUBuffer>, images: number, layer: number, code: GPUBuffer, codeWidth: number): void {
  const rows = images * s.tokens;
  k.rowSquares(rec, buf.x, buf.inputSq, rows, s.dim);
  k.rowSquares(rec, buf.recon, buf.residualSq, rows, s.dim);
  k.rowSquares(rec, buf.step, buf.stepSq, rows, codeWidth);
  k.rowSquares(rec, buf.drive, buf.driveSq, rows, codeWidth);
  const sources: Record<(typeof CAPTURE_KEYS)[number], GPUBuffer> = {
    attnCls: buf.attnCls, attnMean: buf.attnMean, attnMax: buf.attnMax, attnMin: buf.attnMin, istaInput: buf.x,
    istaOutput: code, inputSq: buf.inputSq, residualSq: buf.residualSq, stepSq: buf.stepSq, driveSq: buf.driveSq, gram: buf.gram,
  };
  const perImage = captureFloats(s);
  const readback = readbackOf(images);
  rec.endStage(CAPTURE_KEYS.map((key) => readback(sources[key], captureName(layer, key), perImage[key])));
}

export interface Program {
  images: number;
  stages: Stage<Target>[];
  uniforms: GPUBuffer;
}

export function recordProgram(
  device: GPUDevice, kernels: Kernels, config: CrateConfig, s: Shapes, w: GpuWeights,
  buf: Record<WorkBuffer, GPUBuffer>, images: number, limits: { maxWorkgroupsPerDim: number; uniformAlign: number },
): Program {
  const rec = new Recorder<Target>(device, limits.maxWorkgroupsPerDim);
  const k = kernels;
  const { tokens: T, dim, inner } = s;
  const rows = images * T;
  const readback = readbackOf(images);

  // Embedding: patchify, LayerNorm, Linear, LayerNorm, then CLS + position embedding. A CRATE-MAE
  // encoder's stem is the Linear alone (its conv reordered at load), reading the patch vectors directly.
  const patchRows = images * s.patches;
  k.patchify(rec, buf.pixels, buf.patches, images, s);
  let stemIn = buf.patches;
  if (w.patchNorm1) {
    k.layerNorm(rec, buf.patches, w.patchNorm1.weight, w.patchNorm1.bias, buf.patchesLn, patchRows, s.patchDim);
    stemIn = buf.patchesLn;
  }
  k.linear(rec, stemIn, w.patchLinearWeight, w.patchLinearBias, buf.embed, patchRows, s.patchDim, dim);
  let stemOut = buf.embed;
  if (w.patchNorm2) {
    k.layerNorm(rec, buf.embed, w.patchNorm2.weight, w.patchNorm2.bias, buf.embedLn, patchRows, dim);
    stemOut = buf.embedLn;
  }
  k.assemble(rec, stemOut, w.clsToken, w.posEmbedding, buf.zA, images, T, dim);
  rec.endStage([]);

  w.layers.forEach((lw, l) => {
    const z = l % 2 === 0 ? buf.zA : buf.zB;
    const zNext = l % 2 === 0 ? buf.zB : buf.zA;

    recordMssa(rec, k, s, lw, buf, images, z, 1e-5);

    // ISTA in crate.py's order: drive = x D, step = x D - (x D^T) D, z = ReLU(x + eta step - eta lambda).
    k.layerNorm(rec, buf.zHalf, lw.norm2Weight, lw.norm2Bias, buf.x, rows, dim);
    const plain = (b: 'k' | 'n') => ({
      M: rows, N: dim, K: dim, batch: 1, zInner: 1, alpha: 1,
      a: { off: 0, outer: 0, inner: 0, m: dim, k: 1 },
      b: { off: 0, outer: 0, inner: 0, k: b === 'n' ? dim : 1, n: b === 'n' ? 1 : dim },
      c: { off: 0, outer: 0, inner: 0, m: dim },
    });
    k.matmul(rec, { a: 'k', b: 'n' }, plain('n'), { a: buf.x, b: lw.dictionary, c: buf.drive });
    k.matmul(rec, { a: 'k', b: 'k' }, plain('k'), { a: buf.x, b: lw.dictionary, c: buf.y });
    k.matmul(rec, { a: 'k', b: 'n', residual: 'subtract' }, plain('n'), { a: buf.y, b: lw.dictionary, c: buf.step, r: buf.drive });
    k.ista(rec, buf.x, buf.step, zNext, rows * dim, config.istaStepSize, config.istaLambda);
    k.matmul(rec, { a: 'k', b: 'k', residual: 'subtract' }, plain('k'), { a: zNext, b: lw.dictionary, c: buf.recon, r: buf.x });
    endLayerStage(rec, k, s, buf, images, l, zNext, dim);
  });

  // Head: pool, LayerNorm, Linear. Without a classifier (numClasses 0) nothing is pooled and the
  // logits are empty, as the CPU graph returns them.
  const finals = [readback(buf.qkv, 'lastQkv', T * inner)];
  if (w.head) {
    const last = s.depth % 2 === 0 ? buf.zA : buf.zB;
    k.pool(rec, last, buf.pooled, images, T, dim, config.pool === 'mean');
    k.layerNorm(rec, buf.pooled, w.head.norm.weight, w.head.norm.bias, buf.pooledLn, images, dim);
    k.linear(rec, buf.pooledLn, w.head.weight, w.head.bias, buf.logits, images, dim, s.classes);
    finals.unshift(readback(buf.logits, 'logits', s.classes));
  }
  rec.endStage(finals);

  const { stages, uniforms } = rec.finish(limits.uniformAlign);
  return { images, stages, uniforms };
}

/** The MSSA half of a layer, shared by the families: buf.zHalf = z + MSSA(LN1(z)), with the attention captures. */
export function recordMssa<T>(
  rec: Recorder<T>, k: Kernels, s: Shapes,
  lw: { norm1Weight: GPUBuffer; norm1Bias: GPUBuffer; qkv: GPUBuffer; toOutWeight?: GPUBuffer; toOutBias?: GPUBuffer },
  buf: Record<WorkBuffer, GPUBuffer>, images: number, z: GPUBuffer, eps: number,
): void {
  const { tokens: T, dim, heads: h, dimHead: dh, inner } = s;
  const rows = images * T;
  const headOffsets = { outer: T * inner, inner: dh };
  // MSSA: w = LN1(z) Wqkv^T; per head A = softmax(w w^T / sqrt(dh)); out = A w.
  k.layerNorm(rec, z, lw.norm1Weight, lw.norm1Bias, buf.ln1, rows, dim, eps);
  k.linear(rec, buf.ln1, lw.qkv, undefined, buf.qkv, rows, dim, inner);
  k.matmul(rec, { a: 'k', b: 'k' }, {
    M: T, N: T, K: dh, batch: images * h, zInner: h, alpha: dh ** -0.5,
    a: { off: 0, ...headOffsets, m: inner, k: 1 },
    b: { off: 0, ...headOffsets, k: 1, n: inner },
    c: { off: 0, outer: h * T * T, inner: T * T, m: T },
  }, { a: buf.qkv, b: buf.qkv, c: buf.attn });
  k.softmax(rec, buf.attn, images * h * T, T);
  k.fuseHeads(rec, buf.attn, { mean: buf.attnMean, max: buf.attnMax, min: buf.attnMin, cls: buf.attnCls }, images, h, T);
  // Gram X_k^T X_k of unit-norm token rows, per head, for the coding rate.
  k.rowNorm(rec, buf.qkv, buf.unit, rows, h, dh);
  k.matmul(rec, { a: 'm', b: 'n' }, {
    M: dh, N: dh, K: T, batch: images * h, zInner: h, alpha: 1,
    a: { off: 0, ...headOffsets, m: 1, k: inner },
    b: { off: 0, ...headOffsets, k: inner, n: 1 },
    c: { off: 0, outer: h * dh * dh, inner: dh * dh, m: dh },
  }, { a: buf.unit, b: buf.unit, c: buf.gram });
  k.matmul(rec, { a: 'k', b: 'n' }, {
    M: T, N: dh, K: T, batch: images * h, zInner: h, alpha: 1,
    a: { off: 0, outer: h * T * T, inner: T * T, m: T, k: 1 },
    b: { off: 0, ...headOffsets, k: inner, n: 1 },
    c: { off: 0, ...headOffsets, m: inner },
  }, { a: buf.attn, b: buf.qkv, c: buf.mixed });
  if (lw.toOutWeight) k.linear(rec, buf.mixed, lw.toOutWeight, lw.toOutBias, buf.zHalf, rows, inner, dim, z);
  else k.add(rec, z, buf.mixed, buf.zHalf, rows * dim);
}
