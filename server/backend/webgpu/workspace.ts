// Working buffers for up to `capacity` images, the programs recorded over them, and a pair of
// staging buffers for readback; all reused across calls and replaced only when the batch grows.
import { BufferUsage } from './dawn';
import { WORK_BUFFERS, workFloats, type Shapes, type WorkBuffer } from './layout';
import type { Program } from './program';

/** Readbacks of consecutive stages are grouped up to this size, so copying out one group overlaps the GPU's next. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

export interface Chunk { program: Program; first: number; end: number; bytes: number }

export class Workspace {
  readonly buffers: Record<WorkBuffer, GPUBuffer>;
  private readonly programs = new Map<number, { program: Program; chunks: Chunk[] }>();
  private staging: GPUBuffer[] = [];
  private stagingSize = 0;

  constructor(private readonly device: GPUDevice, shapes: Shapes, readonly capacity: number, private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {
    const floats = workFloats(shapes);
    const entries = WORK_BUFFERS.map((name) => [name, device.createBuffer({
      // Never zero-sized: a 16-byte floor keeps bindings valid for degenerate shapes.
      size: Math.max(16, floats[name] * capacity * 4),
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      label: `crate-${name}`,
    })] as const);
    this.buffers = Object.fromEntries(entries) as Record<WorkBuffer, GPUBuffer>;
  }

  /** The program for `images` (<= capacity) and its readback chunks, recorded on first use. */
  program(images: number, record: (images: number) => Program): Chunk[] {
    let entry = this.programs.get(images);
    if (!entry) {
      const program = record(images);
      entry = { program, chunks: chunkStages(program, this.chunkBytes) };
      this.programs.set(images, entry);
    }
    this.ensureStaging(Math.max(...entry.chunks.map((c) => c.bytes)));
    return entry.chunks;
  }

  slot(index: number): GPUBuffer { return this.staging[index % 2]; }

  private ensureStaging(bytes: number): void {
    if (bytes <= this.stagingSize) return;
    for (const b of this.staging) b.destroy();
    this.staging = [0, 1].map((i) => this.device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: `crate-staging-${i}` }));
    this.stagingSize = bytes;
  }

  destroy(): void {
    for (const b of Object.values(this.buffers)) b.destroy();
    for (const { program } of this.programs.values()) program.uniforms.destroy();
    for (const b of this.staging) b.destroy();
    this.programs.clear();
    this.staging = [];
    this.stagingSize = 0;
  }
}

function chunkStages(program: Program, target: number): Chunk[] {
  const chunks: Chunk[] = [];
  let first = 0;
  let bytes = 0;
  program.stages.forEach((stage, i) => {
    const own = stage.readbacks.reduce((n, r) => n + r.bytes, 0);
    if (bytes > 0 && bytes + own > target) {
      chunks.push({ program, first, end: i, bytes });
      first = i;
      bytes = 0;
    }
    bytes += own;
  });
  chunks.push({ program, first, end: program.stages.length, bytes });
  return chunks;
}
