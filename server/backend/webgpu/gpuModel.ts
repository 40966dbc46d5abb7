// One model on one device: weights uploaded once, forward passes split into passes of at most
// `maxImages` images, each pass's captures read back chunk by chunk through two staging buffers.
import type { CrateConfig } from '../../model/config';
import { isAlphaWeights, type ModelWeights } from '../../model/families/alpha';
import { centredPatchGram } from '../../analysis/pca';
import type { ForwardCapture, LayerCapture } from '../types';
import { MapMode } from './dawn';
import { uploadAlphaWeights, type GpuAlphaWeights } from './gpuAlphaWeights';
import { uploadWeights, type GpuWeights } from './gpuWeights';
import { Kernels, kernelShape, type KernelStyle } from './kernels';
import { CAPTURE_KEYS, captureFloats, maxImagesPerPass, shapesOf, type Shapes } from './layout';
import { captureName, recordProgram } from './program';
import { recordAlphaProgram } from './programAlpha';
import { Workspace, type Chunk } from './workspace';

export interface ModelOptions {
  /** Kernel style; default cooperative on hardware adapters, serial on software ones. */
  kernels?: KernelStyle;
  /** Caps the size of each working buffer below maxStorageBufferBindingSize (tests use it to force several passes per call). */
  maxBindingSize?: number;
  /** Most bytes one stage's readback may need; default 1 GiB. */
  stagingLimit?: number;
  /** Readbacks are grouped into chunks of about this many bytes (default 64 MiB); two chunks are in flight. */
  readbackChunkBytes?: number;
}

/** Runs `scope` inside validation and out-of-memory error scopes and throws the first error either caught. */
export async function withErrorScopes<T>(device: GPUDevice, what: string, scope: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await scope();
  } catch (e) {
    failure = e;
  }
  const oom = await device.popErrorScope().catch(() => null);
  const invalid = await device.popErrorScope().catch(() => null);
  // A scope's error is the cause; a failed readback is usually only its consequence.
  if (oom) throw new Error(`WebGPU ran out of memory ${what}: ${oom.message}`);
  if (invalid) throw new Error(`WebGPU rejected ${what}: ${invalid.message}`);
  if (failure !== undefined) throw failure;
  return result as T;
}

export class GpuModel {
  readonly shapes: Shapes;
  readonly maxImages: number;
  private readonly kernels: Kernels;
  private readonly weights: GpuWeights | GpuAlphaWeights;
  private workspace?: Workspace;

  constructor(private readonly device: GPUDevice, private readonly config: CrateConfig, weights: ModelWeights, private readonly limits: ModelOptions = {}) {
    const dl = device.limits;
    const maxBinding = Math.min(dl.maxStorageBufferBindingSize, limits.maxBindingSize ?? Infinity);
    this.shapes = shapesOf(config);
    this.kernels = new Kernels(device, kernelShape(dl, limits.kernels));
    this.maxImages = maxImagesPerPass(this.shapes, {
      maxStorageBufferBindingSize: maxBinding,
      maxBufferSize: dl.maxBufferSize,
      maxComputeWorkgroupsPerDimension: dl.maxComputeWorkgroupsPerDimension,
      stagingLimit: limits.stagingLimit ?? 1024 ** 3,
    }, this.kernels.shape.matmul);
    this.weights = isAlphaWeights(weights)
      ? uploadAlphaWeights(device, weights, dl.maxStorageBufferBindingSize)
      : uploadWeights(device, weights, dl.maxStorageBufferBindingSize);
    // The program dispatches the head when the weights have one; the logits must then have a width, and only then.
    if (!('family' in this.weights) && !this.weights.head !== (this.shapes.classes === 0)) {
      throw new Error(`numClasses ${this.shapes.classes} does not match the weights (${this.weights.head ? 'a' : 'no'} classifier head)`);
    }
  }

  get weightBytes(): number { return this.weights.bytes; }

  async forward(input: Float32Array, batch: number): Promise<ForwardCapture> {
    const s = this.shapes;
    const pixels = s.channels * s.imageSize * s.imageSize;
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
    if (input.length !== batch * pixels) throw new Error(`input has ${input.length} values, expected ${batch * pixels}`);

    const outputs = new Map<string, Float32Array>();
    const perImage = captureFloats(s);
    for (let l = 0; l < s.depth; l++) for (const key of CAPTURE_KEYS) outputs.set(captureName(l, key), new Float32Array(batch * perImage[key]));
    outputs.set('logits', new Float32Array(batch * s.classes));
    outputs.set('lastQkv', new Float32Array(batch * s.tokens * s.inner));

    const ws = await this.ensureWorkspace(Math.min(batch, this.maxImages));
    await withErrorScopes(this.device, 'the forward pass', () => this.run(ws, input, batch, pixels, outputs));

    const layers: LayerCapture[] = [];
    for (let l = 0; l < s.depth; l++) {
      layers.push(Object.fromEntries(CAPTURE_KEYS.map((key) => [key, outputs.get(captureName(l, key))!])) as unknown as LayerCapture);
    }
    // The patch Gram for PCA is formed here from the read-back features (N x N per image, small).
    const lastQkv = outputs.get('lastQkv')!;
    const perImageGram = s.patches * s.patches;
    const patchGram = new Float32Array(batch * perImageGram);
    for (let i = 0; i < batch; i++) patchGram.set(centredPatchGram(lastQkv, i * s.tokens * s.inner, s.tokens, s.inner), i * perImageGram);
    return { batch, logits: outputs.get('logits')!, layers, patchGram };
  }

  private async ensureWorkspace(images: number): Promise<Workspace> {
    if (this.workspace && this.workspace.capacity >= images) return this.workspace;
    this.workspace?.destroy();
    this.workspace = undefined;
    const ws = await withErrorScopes(this.device, `allocating buffers for ${images} image(s)`, () => new Workspace(this.device, this.shapes, images, this.limits.readbackChunkBytes))
      .catch((e: Error) => { throw new Error(`${e.message} (try a smaller batch)`); });
    this.workspace = ws;
    return ws;
  }

  private async run(ws: Workspace, input: Float32Array, batch: number, pixels: number, outputs: Map<string, Float32Array>): Promise<void> {
    const dl = this.device.limits;
    const limits = { maxWorkgroupsPerDim: dl.maxComputeWorkgroupsPerDimension, uniformAlign: dl.minUniformBufferOffsetAlignment };
    const w = this.weights;
    const record = (images: number) => ('family' in w
      ? recordAlphaProgram(this.device, this.kernels, this.config, this.shapes, w, ws.buffers, images, limits)
      : recordProgram(this.device, this.kernels, this.config, this.shapes, w, ws.buffers, images, limits));
    // A readout never rejects (it resolves to its error), so nothing is left unhandled while the other slot is awaited.
    const pending: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
    let firstError: unknown;
    const settle = async (slot: number) => {
      const e = await pending[slot];
      pending[slot] = Promise.resolve();
      if (e !== undefined && firstError === undefined) firstError = e;
    };
    // Every program is recorded first: recording may grow the staging buffers, never while they are in use.
    const passes: { start: number; images: number; chunks: Chunk[] }[] = [];
    for (let start = 0; start < batch; start += ws.capacity) {
      const images = Math.min(ws.capacity, batch - start);
      passes.push({ start, images, chunks: ws.program(images, record) });
    }
    let ring = 0;
    try {
      for (const { start, images, chunks } of passes) {
        if (firstError !== undefined) break;
        this.device.queue.writeBuffer(ws.buffers.pixels, 0, input as Float32Array<ArrayBuffer>, start * pixels, images * pixels);
        for (const chunk of chunks) {
          const slot = ring++ % 2;
          await settle(slot);
          if (firstError !== undefined) break;
          this.submit(chunk, ws.slot(slot));
          pending[slot] = readOut(ws.slot(slot), chunk, outputs, start).then(() => undefined, (e: unknown) => e ?? new Error('readback failed'));
        }
      }
    } finally {
      await settle(0);
      await settle(1);
    }
    if (firstError !== undefined) throw firstError;
  }

  private submit(chunk: Chunk, staging: GPUBuffer): void {
    const encoder = this.device.createCommandEncoder();
    let offset = 0;
    for (const stage of chunk.program.stages.slice(chunk.first, chunk.end)) {
      const pass = encoder.beginComputePass();
      for (const d of stage.dispatches) {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(...d.groups);
      }
      pass.end();
      // Copied before the next stage overwrites the working buffers.
      for (const r of stage.readbacks) {
        encoder.copyBufferToBuffer(r.source, 0, staging, offset, r.bytes);
        offset += r.bytes;
      }
    }
    this.device.queue.submit([encoder.finish()]);
  }

  destroy(): void {
    this.workspace?.destroy();
    this.workspace = undefined;
  }
}

async function readOut(staging: GPUBuffer, chunk: Chunk, outputs: Map<string, Float32Array>, firstImage: number): Promise<void> {
  await staging.mapAsync(MapMode.READ, 0, chunk.bytes);
  try {
    const mapped = staging.getMappedRange(0, chunk.bytes);
    let offset = 0;
    for (const stage of chunk.program.stages.slice(chunk.first, chunk.end)) {
      for (const r of stage.readbacks) {
        outputs.get(r.target.name)!.set(new Float32Array(mapped, offset, r.bytes / 4), firstImage * r.target.perImage);
        offset += r.bytes;
      }
    }
  } finally {
    staging.unmap();
  }
}
