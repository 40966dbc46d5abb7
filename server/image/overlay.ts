import { INFERNO, VIRIDIS } from './colormap-data';
import { convertChannels } from './convert';
import { Raster, assertRaster, createRaster } from './raster';
import { resizeBilinear } from './resize';

/*
 * Visualisations drawn over the model view: a per-patch score grid as a colormapped heatmap
 * blended onto the greyscale image, and a patch mask that dims the patches left out.
 */

export interface OverlayOptions {
  /** Side of the square output in pixels (default 224). */
  outputSize?: number;
  /** Weight of the heatmap colour against the grey image (default 0.55). */
  alpha?: number;
  colormap?: 'inferno' | 'viridis';
}

export interface MaskOptions {
  outputSize?: number;
}

function checkGrid(length: number, gridWidth: number, gridHeight: number, what: string): void {
  if (!Number.isInteger(gridWidth) || !Number.isInteger(gridHeight) || gridWidth < 1 || gridHeight < 1) {
    throw new RangeError(`${what}: bad grid size ${gridWidth}x${gridHeight}`);
  }
  if (length !== gridWidth * gridHeight) {
    throw new RangeError(`${what}: grid has ${length} values, expected ${gridWidth}x${gridHeight}`);
  }
}

function outputSizeOf(size: number | undefined, what: string): number {
  const s = size ?? 224;
  if (!Number.isInteger(s) || s < 1 || s > 8192) throw new RangeError(`${what}: outputSize must be an integer in 1..8192`);
  return s;
}

function scaled(view: Raster, size: number, channels: 1 | 3): Raster {
  const converted = convertChannels(view, channels);
  return converted.width === size && converted.height === size ? converted : resizeBilinear(converted, size, size);
}

/** Scores rescaled to 0..1 by their min and max; a constant (or empty) grid maps to 0. */
function normalise(grid: ArrayLike<number>): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < grid.length; i++) {
    const v = grid[i];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const out = new Float64Array(grid.length);
  const span = hi - lo;
  if (!(span > 0)) return out;
  for (let i = 0; i < grid.length; i++) {
    const v = grid[i];
    out[i] = Number.isFinite(v) ? (v - lo) / span : 0;
  }
  return out;
}

/** Bilinear sample positions for resizing n cells to size pixels, pixel centres aligned. */
function axis(n: number, size: number): { i0: Int32Array; i1: Int32Array; t: Float64Array } {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const t = new Float64Array(size);
  for (let p = 0; p < size; p++) {
    let s = ((p + 0.5) * n) / size - 0.5;
    if (s < 0) s = 0;
    if (s > n - 1) s = n - 1;
    const f = Math.floor(s);
    i0[p] = f;
    i1[p] = Math.min(f + 1, n - 1);
    t[p] = s - f;
  }
  return { i0, i1, t };
}

/** Heatmap of a gridWidth x gridHeight score grid over the view, as an RGB raster. */
export function renderHeatmapOverlay(
  view: Raster,
  grid: Float32Array | number[],
  gridWidth: number,
  gridHeight: number,
  options: OverlayOptions = {},
): Raster {
  assertRaster(view, 'renderHeatmapOverlay');
  checkGrid(grid.length, gridWidth, gridHeight, 'renderHeatmapOverlay');
  const size = outputSizeOf(options.outputSize, 'renderHeatmapOverlay');
  const alpha = options.alpha ?? 0.55;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError('renderHeatmapOverlay: alpha must be within 0..1');
  const lut = (options.colormap ?? 'inferno') === 'viridis' ? VIRIDIS : INFERNO;
  const grey = scaled(view, size, 1).data;
  const values = normalise(grid);
  const xs = axis(gridWidth, size);
  const ys = axis(gridHeight, size);
  const out = createRaster(size, size, 3);
  const d = out.data;
  for (let y = 0; y < size; y++) {
    const r0 = ys.i0[y] * gridWidth;
    const r1 = ys.i1[y] * gridWidth;
    const ty = ys.t[y];
    for (let x = 0; x < size; x++) {
      const tx = xs.t[x];
      const top = values[r0 + xs.i0[x]] * (1 - tx) + values[r0 + xs.i1[x]] * tx;
      const bottom = values[r1 + xs.i0[x]] * (1 - tx) + values[r1 + xs.i1[x]] * tx;
      const v = top * (1 - ty) + bottom * ty;
      // matplotlib's lookup: index int(v * N), the top value folded into the last entry.
      const c = Math.min(255, Math.max(0, Math.floor(v * 256))) * 3;
      const g = grey[y * size + x] * (1 - alpha);
      const o = (y * size + x) * 3;
      d[o] = Math.round(alpha * lut[c] + g);
      d[o + 1] = Math.round(alpha * lut[c + 1] + g);
      d[o + 2] = Math.round(alpha * lut[c + 2] + g);
    }
  }
  return out;
}

/**
 * The view in colour with each patch scaled by its mask value: 1 (or more) keeps a patch as
 * it is, 0 dims it to a quarter of its brightness, values in between interpolate.
 */
export function renderMask(
  view: Raster,
  mask: ArrayLike<number>,
  gridWidth: number,
  gridHeight: number,
  options: MaskOptions = {},
): Raster {
  assertRaster(view, 'renderMask');
  checkGrid(mask.length, gridWidth, gridHeight, 'renderMask');
  const size = outputSizeOf(options.outputSize, 'renderMask');
  const out = scaled(view, size, 3);
  const d = out.data;
  for (let y = 0; y < size; y++) {
    const row = Math.min(gridHeight - 1, Math.floor((y * gridHeight) / size)) * gridWidth;
    for (let x = 0; x < size; x++) {
      const m = mask[row + Math.min(gridWidth - 1, Math.floor((x * gridWidth) / size))];
      const keep = Number.isFinite(m) ? Math.min(1, Math.max(0, m)) : 0;
      const gain = 0.25 + 0.75 * keep;
      if (gain === 1) continue;
      const o = (y * size + x) * 3;
      d[o] = Math.round(d[o] * gain);
      d[o + 1] = Math.round(d[o + 1] * gain);
      d[o + 2] = Math.round(d[o + 2] * gain);
    }
  }
  return out;
}
