// Loads Dawn's Node bindings (npm `webgpu`) on first use, so a missing or broken native addon
// only fails the WebGPU backend, never the daemon that imports this module.
import type { create as CreateGpu } from 'webgpu';

/** GPUBufferUsage / GPUMapMode values from the WebGPU spec; Dawn's globals are not installed on globalThis. */
export const BufferUsage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MapMode = { READ: 0x1 } as const;

let createFn: typeof CreateGpu | undefined;

/** A fresh GPU entry point (navigator.gpu). Drop every reference to it, after destroying its devices, to let Node exit. */
export function createGpu(flags: string[] = []): GPU {
  if (!createFn) {
    try {
      createFn = (require('webgpu') as { create: typeof CreateGpu }).create;
    } catch (e) {
      throw new Error(`WebGPU is unavailable: cannot load the 'webgpu' package (${(e as Error).message})`);
    }
  }
  return createFn(flags);
}
