// Nearest-neighbour upscaling for showing small model inputs (28 px) crisply in reports.
import type { Raster } from '../image';

export function upscaleNearest(view: Raster, size: number): Raster {
  const { width, height, channels, data } = view;
  const out = new Uint8Array(size * size * channels);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(height - 1, Math.floor((y * height) / size));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(width - 1, Math.floor((x * width) / size));
      const from = (sy * width + sx) * channels, to = (y * size + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = data[from + c];
    }
  }
  return { width: size, height: size, channels, data: out };
}
