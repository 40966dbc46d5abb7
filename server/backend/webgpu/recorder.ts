// Records a fixed sequence of compute dispatches once, with every parameter block in one uniform
// buffer, so that a forward pass only replays prebuilt bind groups.
import { BufferUsage } from './dawn';

export interface Dispatch { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; groups: [number, number, number] }

/** A contiguous range of a GPU buffer to read back into `target` at image offset. */
export interface Readback<T> { source: GPUBuffer; bytes: number; target: T }

export interface Stage<T> { dispatches: Dispatch[]; readbacks: Readback<T>[] }

interface PendingDispatch {
  pipeline: GPUComputePipeline;
  buffers: [number, GPUBuffer][];
  params: ArrayBuffer;
  groups: [number, number, number];
}

export class Recorder<T> {
  private pending: PendingDispatch[] = [];
  private stages: { dispatches: PendingDispatch[]; readbacks: Readback<T>[] }[] = [];

  constructor(private readonly device: GPUDevice, private readonly maxWorkgroupsPerDim: number) {}

  /** `buffers` bind at 1, 2, ... in order (binding 0 is the uniform); a [binding, buffer] pair binds elsewhere. */
  dispatch(pipeline: GPUComputePipeline, buffers: (GPUBuffer | [number, GPUBuffer])[], params: ArrayBuffer, groups: [number, number, number]): void {
    if (groups.some((g) => g > this.maxWorkgroupsPerDim)) throw new Error(`dispatch of ${groups.join('x')} workgroups exceeds the device limit ${this.maxWorkgroupsPerDim}`);
    this.pending.push({ pipeline, params, groups, buffers: buffers.map((b, i) => (Array.isArray(b) ? b : [i + 1, b])) });
  }

  /** Enough (x, y) workgroups for `count` items of `perGroup`; kernels fold y back into a linear index. */
  linear(count: number, perGroup: number): [number, number, number] {
    const groups = Math.max(1, Math.ceil(count / perGroup));
    const x = Math.min(groups, this.maxWorkgroupsPerDim);
    return [x, Math.ceil(groups / x), 1];
  }

  endStage(readbacks: Readback<T>[]): void {
    this.stages.push({ dispatches: this.pending, readbacks });
    this.pending = [];
  }

  /** Builds the uniform buffer and bind groups. */
  finish(uniformAlign: number): { stages: Stage<T>[]; uniforms: GPUBuffer } {
    if (this.pending.length > 0) this.endStage([]);
    const all = this.stages.flatMap((s) => s.dispatches);
    const offsets: number[] = [];
    let size = 0;
    for (const d of all) {
      offsets.push(size);
      size += Math.ceil(d.params.byteLength / uniformAlign) * uniformAlign;
    }
    const uniforms = this.device.createBuffer({ size: Math.max(size, 16), usage: BufferUsage.UNIFORM, mappedAtCreation: true, label: 'crate-params' });
    const bytes = new Uint8Array(uniforms.getMappedRange());
    all.forEach((d, i) => bytes.set(new Uint8Array(d.params), offsets[i]));
    uniforms.unmap();
    let index = 0;
    const stages = this.stages.map((s) => ({
      readbacks: s.readbacks,
      dispatches: s.dispatches.map((d) => {
        const offset = offsets[index++];
        const bindGroup = this.device.createBindGroup({
          layout: d.pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: uniforms, offset, size: d.params.byteLength } },
            ...d.buffers.map(([binding, buffer]) => ({ binding, resource: { buffer } })),
          ],
        });
        return { pipeline: d.pipeline, bindGroup, groups: d.groups };
      }),
    }));
    return { stages, uniforms };
  }
}
