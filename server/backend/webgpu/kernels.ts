// Compiled pipelines of one device, and typed helpers that record each kernel's dispatch.
import type { Recorder } from './recorder';
import {
  addShader, assembleShader, fuseHeadsShader, istaShader, packParams, patchifyShader, poolShader, rowNormShader,
  secondStepShader, shrinkShader,
} from './shaders/elementwise';
import { matmulKey, matmulParams, matmulShader, matmulTile, type MatmulDims, type MatmulShape, type MatmulVariant } from './shaders/matmul';
import { layerNormParams, layerNormShader, ROW_THREADS, rowSquaresParams, rowSquaresShader, softmaxParams, softmaxShader } from './shaders/rows';

export interface KernelShape {
  /** Threads per workgroup of the one-output-per-thread kernels. */
  elementThreads: number;
  matmul: MatmulShape;
  /** Workgroup-memory tiles and cooperative row reductions (GPUs) or plain per-thread loops (CPU emulations). */
  cooperative: boolean;
}

export type KernelStyle = 'cooperative' | 'serial';

/**
 * Workgroup sizes within maxComputeInvocationsPerWorkgroup (256 in core WebGPU, 128 in compatibility
 * mode). Serial kernels suit software adapters, which pay for every barrier with a thread switch.
 */
export function kernelShape(limits: GPUSupportedLimits, style: KernelStyle = 'cooperative'): KernelShape {
  const cooperative = style === 'cooperative';
  if (!cooperative) return { elementThreads: Math.min(64, limits.maxComputeInvocationsPerWorkgroup), matmul: { wx: 8, wy: 8, tiled: false }, cooperative };
  const invocations = limits.maxComputeInvocationsPerWorkgroup;
  const sizeX = limits.maxComputeWorkgroupSizeX;
  const sizeY = limits.maxComputeWorkgroupSizeY;
  const wx = Math.min(16, sizeX);
  const wy = invocations >= 256 && sizeY >= 16 ? 16 : 8;
  if (wx < 16 || wx * wy > invocations || ROW_THREADS > invocations) {
    throw new Error(`the WebGPU adapter allows only ${invocations} invocations per workgroup (${sizeX}x${sizeY}); at least 128 (16x8) are needed`);
  }
  return { elementThreads: Math.min(256, invocations, sizeX), matmul: { wx, wy, tiled: true }, cooperative };
}

export interface MatmulBuffers { a: GPUBuffer; b: GPUBuffer; c: GPUBuffer; bias?: GPUBuffer; r?: GPUBuffer }

export class Kernels {
  private readonly cache = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice, readonly shape: KernelShape) {}

  private pipeline(key: string, source: () => string): GPUComputePipeline {
    let p = this.cache.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: source(), label: key });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
      this.cache.set(key, p);
    }
    return p;
  }

  private elementwise<T>(rec: Recorder<T>, name: string, shader: (threads: number) => string, buffers: GPUBuffer[], params: (number | { f32: number })[], total: number): void {
    const t = this.shape.elementThreads;
    rec.dispatch(this.pipeline(`${name}:${t}`, () => shader(t)), buffers, packParams([total, ...params]), rec.linear(total, t));
  }

  matmul<T>(rec: Recorder<T>, variant: Omit<MatmulVariant, 'bias' | 'residual'> & Partial<MatmulVariant>, dims: MatmulDims, bufs: MatmulBuffers): void {
    const v: MatmulVariant = { bias: false, residual: 'none', ...variant };
    if (v.bias !== Boolean(bufs.bias) || (v.residual !== 'none') !== Boolean(bufs.r)) throw new Error('matmul variant and buffers disagree');
    const s = this.shape.matmul;
    const { tm, tn } = matmulTile(s);
    const buffers: [number, GPUBuffer][] = [[1, bufs.a], [2, bufs.b], [3, bufs.c]];
    if (bufs.bias) buffers.push([4, bufs.bias]);
    if (bufs.r) buffers.push([5, bufs.r]);
    rec.dispatch(this.pipeline(matmulKey(v, s), () => matmulShader(v, s)), buffers, matmulParams(dims),
      [Math.ceil(dims.N / tn), Math.ceil(dims.M / tm), dims.batch]);
  }

  /** y = x W^T (+ b) for a torch Linear weight W [out, in] over `rows` rows. */
  linear<T>(rec: Recorder<T>, x: GPUBuffer, w: GPUBuffer, bias: GPUBuffer | undefined, y: GPUBuffer, rows: number, inDim: number, outDim: number, residual?: GPUBuffer): void {
    this.matmul(rec, { a: 'k', b: 'k', bias: Boolean(bias), residual: residual ? 'add' : 'none' }, {
      M: rows, N: outDim, K: inDim, batch: 1, zInner: 1, alpha: 1,
      a: { off: 0, outer: 0, inner: 0, m: inDim, k: 1 },
      b: { off: 0, outer: 0, inner: 0, k: 1, n: inDim },
      c: { off: 0, outer: 0, inner: 0, m: outDim },
    }, { a: x, b: w, c: y, bias, r: residual });
  }

  layerNorm<T>(rec: Recorder<T>, x: GPUBuffer, gamma: GPUBuffer, beta: GPUBuffer, y: GPUBuffer, rows: number, width: number, eps = 1e-5): void {
    const c = this.shape.cooperative;
    rec.dispatch(this.pipeline(`layerNorm:${c}`, () => layerNormShader(c)), [x, gamma, beta, y], layerNormParams(rows, width, eps), rec.linear(rows, c ? 1 : ROW_THREADS));
  }

  /** out[row] = sum_j x[row, j]^2 over `rows` rows of `width`. */
  rowSquares<T>(rec: Recorder<T>, x: GPUBuffer, out: GPUBuffer, rows: number, width: number): void {
    const c = this.shape.cooperative;
    rec.dispatch(this.pipeline(`rowSquares:${c}`, () => rowSquaresShader(c)), [x, out], rowSquaresParams(rows, width), rec.linear(rows, c ? 1 : ROW_THREADS));
  }

  softmax<T>(rec: Recorder<T>, s: GPUBuffer, rows: number, width: number): void {
    const c = this.shape.cooperative;
    rec.dispatch(this.pipeline(`softmax:${c}`, () => softmaxShader(c)), [s], softmaxParams(rows, width), rec.linear(rows, c ? 1 : ROW_THREADS));
  }

  patchify<T>(rec: Recorder<T>, pixels: GPUBuffer, out: GPUBuffer, images: number, p: { channels: number; imageSize: number; patchSize: number; grid: number; patches: number; patchDim: number }): void {
    this.elementwise(rec, 'patchify', patchifyShader, [pixels, out],
      [p.channels, p.imageSize, p.patchSize, p.grid, p.patches, p.patchDim], images * p.patches * p.patchDim);
  }

  assemble<T>(rec: Recorder<T>, embed: GPUBuffer, cls: GPUBuffer, pos: GPUBuffer, z: GPUBuffer, images: number, tokens: number, dim: number): void {
    this.elementwise(rec, 'assemble', assembleShader, [embed, cls, pos, z], [tokens, dim], images * tokens * dim);
  }

  add<T>(rec: Recorder<T>, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer, count: number): void {
    this.elementwise(rec, 'add', addShader, [a, b, c], [], count);
  }

  ista<T>(rec: Recorder<T>, x: GPUBuffer, step: GPUBuffer, z: GPUBuffer, count: number, eta: number, lambda: number): void {
    // eta * lambda is formed in double precision and rounded once, as PyTorch does with Python floats.
    this.elementwise(rec, 'ista', istaShader, [x, step, z], [{ f32: eta }, { f32: eta * lambda }], count);
  }

  shrink<T>(rec: Recorder<T>, drive: GPUBuffer, z: GPUBuffer, count: number, eta: number, lambda: number): void {
    this.elementwise(rec, 'shrink', shrinkShader, [drive, z], [{ f32: eta }, { f32: eta * lambda }], count);
  }

  secondStep<T>(rec: Recorder<T>, z1: GPUBuffer, g: GPUBuffer, z: GPUBuffer, count: number, eta: number, lambda: number): void {
    this.elementwise(rec, 'secondStep', secondStepShader, [z1, g, z], [{ f32: eta }, { f32: eta * lambda }], count);
  }

  rowNorm<T>(rec: Recorder<T>, w: GPUBuffer, u: GPUBuffer, rows: number, heads: number, dimHead: number): void {
    this.elementwise(rec, 'rowNorm', rowNormShader, [w, u], [heads, dimHead], rows * heads);
  }

  fuseHeads<T>(rec: Recorder<T>, attn: GPUBuffer, out: { mean: GPUBuffer; max: GPUBuffer; min: GPUBuffer; cls: GPUBuffer }, images: number, heads: number, tokens: number): void {
    this.elementwise(rec, 'fuseHeads', fuseHeadsShader, [attn, out.mean, out.max, out.min, out.cls], [heads, tokens], images * tokens * tokens);
  }

  pool<T>(rec: Recorder<T>, z: GPUBuffer, y: GPUBuffer, images: number, tokens: number, dim: number, mean: boolean): void {
    this.elementwise(rec, 'pool', poolShader, [z, y], [tokens, dim, mean ? 1 : 0], images * dim);
  }
}
