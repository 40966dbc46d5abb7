// The CRATE-alpha forward pass as recorded dispatches: the same stages and captures as CRATE's
// program, with a Conv2d stem (patchify + matmul) and the two-step overcomplete sparse-coding block.
import type { CrateConfig } from '../../model/config';
import { ALPHA_BLOCK_LN_EPS, ALPHA_HEAD_LN_EPS } from '../../model/families/alpha';
import type { GpuAlphaWeights } from './gpuAlphaWeights';
import type { Kernels } from './kernels';
import type { Shapes, WorkBuffer } from './layout';
import { endLayerStage, readbackOf, recordMssa, type Program, type Target } from './program';
import { Recorder } from './recorder';

export function recordAlphaProgram(
  device: GPUDevice, kernels: Kernels, config: CrateConfig, s: Shapes, w: GpuAlphaWeights,
  buf: Record<WorkBuffer, GPUBuffer>, images: number, limits: { maxWorkgroupsPerDim: number; uniformAlign: number },
): Program {
  const rec = new Recorder<Target>(device, limits.maxWorkgroupsPerDim);
  const k = kernels;
  const { tokens: T, dim, code, inner } = s;
  const rows = images * T;
  const eta = config.istaStepSize;
  const lambda = config.istaLambda;
  const readback = readbackOf(images);

  // Stem: the convolution as patch vectors times the reordered kernel, then CLS + position embedding.
  k.patchify(rec, buf.pixels, buf.patches, images, s);
  k.linear(rec, buf.patches, w.stemWeight, w.stemBias, buf.embed, images * s.patches, s.patchDim, dim);
  k.assemble(rec, buf.embed, w.clsToken, w.posEmbedding, buf.zA, images, T, dim);
  rec.endStage([]);

  // Row-major products with D [dim, code] read through strides: x D (b 'n') and c D^T (b 'k').
  const timesD = { M: rows, N: code, K: dim, batch: 1, zInner: 1, alpha: 1,
    a: { off: 0, outer: 0, inner: 0, m: dim, k: 1 }, b: { off: 0, outer: 0, inner: 0, k: code, n: 1 }, c: { off: 0, outer: 0, inner: 0, m: code } };
  const timesDt = { M: rows, N: dim, K: code, batch: 1, zInner: 1, alpha: 1,
    a: { off: 0, outer: 0, inner: 0, m: code, k: 1 }, b: { off: 0, outer: 0, inner: 0, k: 1, n: code }, c: { off: 0, outer: 0, inner: 0, m: dim } };

  w.layers.forEach((lw, l) => {
    const z = l % 2 === 0 ? buf.zA : buf.zB;
    const zNext = l % 2 === 0 ? buf.zB : buf.zA;
    recordMssa(rec, k, s, lw, buf, images, z, ALPHA_BLOCK_LN_EPS);

    // drive = x D; z1 = ReLU(eta drive - eta lambda); step = (x - z1 D^T) D, the negative lasso
    // gradient; z2 = ReLU(z1 + eta step - eta lambda); z_next = z_half + z2 D1^T.
    k.layerNorm(rec, buf.zHalf, lw.norm2Weight, lw.norm2Bias, buf.x, rows, dim, ALPHA_BLOCK_LN_EPS);
    k.matmul(rec, { a: 'k', b: 'n' }, timesD, { a: buf.x, b: lw.dictionary, c: buf.drive });
    k.shrink(rec, buf.drive, buf.code1, rows * code, eta, lambda);
    k.matmul(rec, { a: 'k', b: 'k', residual: 'subtract' }, timesDt, { a: buf.code1, b: lw.dictionary, c: buf.y, r: buf.x });
    k.matmul(rec, { a: 'k', b: 'n' }, timesD, { a: buf.y, b: lw.dictionary, c: buf.step });
    k.secondStep(rec, buf.code1, buf.step, buf.code2, rows * code, eta, lambda);
    k.linear(rec, buf.code2, lw.decoder, undefined, zNext, rows, code, dim, buf.zHalf);
    k.matmul(rec, { a: 'k', b: 'k', residual: 'subtract' }, timesDt, { a: buf.code2, b: lw.dictionary, c: buf.recon, r: buf.x });
    endLayerStage(rec, k, s, buf, images, l, buf.code2, code);
  });

  const last = s.depth % 2 === 0 ? buf.zA : buf.zB;
  k.pool(rec, last, buf.pooled, images, T, dim, config.pool === 'mean');
  k.layerNorm(rec, buf.pooled, w.headNormWeight, w.headNormBias, buf.pooledLn, images, dim, ALPHA_HEAD_LN_EPS);
  k.linear(rec, buf.pooledLn, w.headWeight, w.headBias, buf.logits, images, dim, s.classes);
  rec.endStage([readback(buf.logits, 'logits', s.classes), readback(buf.qkv, 'lastQkv', T * inner)]);

  const { stages, uniforms } = rec.finish(limits.uniformAlign);
  return { images, stages, uniforms };
}
