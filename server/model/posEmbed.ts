// Resizes the patch-grid part of a learned position embedding so that a model trained at one
// image size can analyse another. Both supported recipes are PyTorch's bicubic F.interpolate
// (align_corners=False), reproduced here in float64 and applied separably (rows, then columns).
import type { TensorData } from '../checkpoint';

/**
 * - 'bicubic-timm': timm's `resample_abs_pos_embed`: `F.interpolate(size=new, mode='bicubic',
 *   antialias=True)`: Keys' cubic with a = -0.5, taps renormalised at the borders, widened when shrinking.
 * - 'bicubic-notebook': the CRATE emergence notebooks (DINO's `interpolate_pos_encoding`):
 *   `scale_factor=(new + 0.1)/old`, no antialias: cubic with a = -0.75, borders replicated.
 * - 'none': never resize; a grid mismatch is an error.
 */
export type PosEmbedResize = 'bicubic-timm' | 'bicubic-notebook' | 'none';
export const POS_EMBED_RESIZES: readonly PosEmbedResize[] = ['bicubic-timm', 'bicubic-notebook', 'none'];

function cubic1(x: number, a: number): number { return ((a + 2) * x - (a + 3)) * x * x + 1; }
function cubic2(x: number, a: number): number { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }

function keys(x: number, a: number): number {
  const t = Math.abs(x);
  if (t < 1) return cubic1(t, a);
  if (t < 2) return cubic2(t, a);
  return 0;
}

/** Row o of the [outSize, inSize] matrix holds the weights of output sample o. */
type Weights = Float64Array[];

/** PyTorch's antialiased bicubic (`_compute_weights_aa`), scale = in/out. */
function antialiasWeights(inSize: number, outSize: number): Weights {
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const rows: Weights = [];
  for (let o = 0; o < outSize; o++) {
    const center = scale * (o + 0.5);
    // C++ casts to int64 (truncation toward zero) before clamping.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const row = new Float64Array(inSize);
    let total = 0;
    for (let j = xmin; j < xmax; j++) {
      row[j] = keys((j - center + 0.5) * invScale, -0.5);
      total += row[j];
    }
    if (total !== 0) for (let j = xmin; j < xmax; j++) row[j] /= total;
    rows.push(row);
  }
  return rows;
}

/** PyTorch's plain bicubic with an explicit scale factor (output = floor(in * factor)). */
function plainWeights(inSize: number, outSize: number, factor: number): Weights {
  const scale = 1 / factor;
  const rows: Weights = [];
  for (let o = 0; o < outSize; o++) {
    const real = scale * (o + 0.5) - 0.5;
    const x0 = Math.floor(real);
    const t = real - x0;
    const coeffs = [cubic2(t + 1, -0.75), cubic1(t, -0.75), cubic1(1 - t, -0.75), cubic2(2 - t, -0.75)];
    const row = new Float64Array(inSize);
    coeffs.forEach((c, k) => { row[Math.min(Math.max(x0 - 1 + k, 0), inSize - 1)] += c; });
    rows.push(row);
  }
  return rows;
}

function axisWeights(mode: Exclude<PosEmbedResize, 'none'>, inSize: number, outSize: number): Weights {
  return mode === 'bicubic-timm' ? antialiasWeights(inSize, outSize) : plainWeights(inSize, outSize, (outSize + 0.1) / inSize);
}

/**
 * Resizes a [inH, inW, dim] grid (row-major, channel fastest) to [outH, outW, dim].
 * Returns float32, as PyTorch would after interpolating a float32 tensor.
 */
export function resizeGrid(
  grid: Float32Array, inH: number, inW: number, outH: number, outW: number, dim: number,
  mode: Exclude<PosEmbedResize, 'none'>,
): Float32Array {
  if (grid.length !== inH * inW * dim) throw new Error(`grid has ${grid.length} values, expected ${inH}x${inW}x${dim}`);
  const wy = axisWeights(mode, inH, outH);
  const wx = axisWeights(mode, inW, outW);
  // Columns first: [inH, outW, dim].
  const mid = new Float64Array(inH * outW * dim);
  for (let y = 0; y < inH; y++) {
    for (let ox = 0; ox < outW; ox++) {
      const row = wx[ox];
      const dst = (y * outW + ox) * dim;
      for (let x = 0; x < inW; x++) {
        const w = row[x];
        if (w === 0) continue;
        const src = (y * inW + x) * dim;
        for (let c = 0; c < dim; c++) mid[dst + c] += w * grid[src + c];
      }
    }
  }
  const out = new Float64Array(outH * outW * dim);
  for (let oy = 0; oy < outH; oy++) {
    const row = wy[oy];
    for (let y = 0; y < inH; y++) {
      const w = row[y];
      if (w === 0) continue;
      for (let ox = 0; ox < outW; ox++) {
        const src = (y * outW + ox) * dim;
        const dst = (oy * outW + ox) * dim;
        for (let c = 0; c < dim; c++) out[dst + c] += w * mid[src + c];
      }
    }
  }
  return Float32Array.from(out);
}

export class PosEmbedError extends Error {}

/**
 * Fits a [1, prefix + g*g, dim] position embedding to a square grid of `outGrid` patches,
 * keeping the `prefix` leading rows (CLS) as they are. Returns the input when it already fits.
 */
export function fitPosEmbedding(
  pos: TensorData, outGrid: number, mode: PosEmbedResize, prefix = 1,
): { tensor: TensorData; note?: string } {
  const [one, tokens, dim] = pos.shape;
  if (pos.shape.length !== 3 || one !== 1) throw new PosEmbedError(`position embedding has shape [${pos.shape.join(', ')}], expected [1, tokens, dim]`);
  if (tokens === prefix + outGrid * outGrid) return { tensor: pos };
  const inGrid = Math.round(Math.sqrt(tokens - prefix));
  if (inGrid * inGrid !== tokens - prefix) throw new PosEmbedError(`position embedding has ${tokens - prefix} patch rows: not a square grid`);
  if (mode === 'none') {
    throw new PosEmbedError(`the checkpoint's position embedding covers a ${inGrid}x${inGrid} patch grid, the config asks for ${outGrid}x${outGrid}, and posEmbedResize is "none"`);
  }
  const data = new Float32Array((prefix + outGrid * outGrid) * dim);
  data.set(pos.data.subarray(0, prefix * dim));
  data.set(resizeGrid(pos.data.subarray(prefix * dim), inGrid, inGrid, outGrid, outGrid, dim, mode), prefix * dim);
  return {
    tensor: { ...pos, shape: [1, prefix + outGrid * outGrid, dim], data },
    note: `position embedding resized from a ${inGrid}x${inGrid} to a ${outGrid}x${outGrid} patch grid (${mode})`,
  };
}
