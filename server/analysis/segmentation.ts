// How well a patch mask covers the object: IoU against the image's foreground, and a centre prior.
import type { Raster } from '../image';

/** 1 where any channel of the model's view is above `background` (Fashion-MNIST's background is exactly 0). */
export function foregroundMask(view: Raster, background = 0): Uint8Array {
  const { width, height, channels, data } = view;
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < channels; c++) if (data[i * channels + c] > background) { mask[i] = 1; break; }
  }
  return mask;
}

/** Pixel IoU of a patch-grid mask (row-major, `grid` x `grid`) against a pixel mask of the view. */
export function patchMaskIoU(patchMask: ArrayLike<number>, pixels: Uint8Array, size: number, grid: number): number | undefined {
  const patch = size / grid;
  let inter = 0, union = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const m = patchMask[Math.floor(y / patch) * grid + Math.floor(x / patch)] ? 1 : 0;
      const f = pixels[y * size + x];
      inter += m & f;
      union += m | f;
    }
  }
  return union === 0 ? undefined : inter / union;
}

/** The `count` patches nearest the image centre (ties broken by index): a baseline of the same area. */
export function centrePriorMask(grid: number, count: number): number[] {
  const centre = (grid - 1) / 2;
  const order = Array.from({ length: grid * grid }, (_, i) => i)
    .sort((a, b) => dist(a) - dist(b) || a - b);
  const mask = new Array<number>(grid * grid).fill(0);
  for (const i of order.slice(0, count)) mask[i] = 1;
  return mask;
  function dist(i: number): number { return (Math.floor(i / grid) - centre) ** 2 + ((i % grid) - centre) ** 2; }
}
