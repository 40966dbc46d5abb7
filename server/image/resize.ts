import { Raster, assertRaster, createRaster } from './raster';

/*
 * PIL 9.4's Image.resize(size, Image.BILINEAR) for 8-bit images, reproduced bit for bit from
 * libImaging/Resample.c: an antialiasing triangle filter whose support grows with the
 * downscale factor, coefficients normalised in double precision and then rounded to 22-bit
 * fixed point, a horizontal pass then a vertical pass (each rounding and clipping to uint8),
 * and a pass skipped when its dimension does not change. Images with alpha are resized
 * premultiplied, as PIL does (RGBA -> RGBa -> resize -> RGBA).
 */

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coefficients {
  ksize: number;
  /** Per output pixel: first input index and number of taps. */
  bounds: Int32Array;
  /** ksize fixed-point weights per output pixel. */
  weights: Int32Array;
}

function bilinearFilter(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

function precomputeCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = 1 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bilinearFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over input rows [rowStart, rowStart + rows). */
function resampleHorizontal(src: Raster, rowStart: number, rows: number, outWidth: number, c: Coefficients): Raster {
  const out = createRaster(outWidth, rows, src.channels);
  const ch = src.channels;
  const inStride = src.width * ch;
  const s = src.data;
  const d = out.data;
  const { bounds, weights, ksize } = c;
  for (let y = 0; y < rows; y++) {
    const rowBase = (y + rowStart) * inStride;
    let o = y * outWidth * ch;
    for (let xx = 0; xx < outWidth; xx++, o += ch) {
      const taps = bounds[xx * 2 + 1];
      const kBase = xx * ksize;
      let p = rowBase + bounds[xx * 2] * ch;
      if (ch === 3) {
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < taps; x++, p += 3) {
          const w = weights[kBase + x];
          s0 += s[p] * w;
          s1 += s[p + 1] * w;
          s2 += s[p + 2] * w;
        }
        d[o] = clip8(s0);
        d[o + 1] = clip8(s1);
        d[o + 2] = clip8(s2);
      } else {
        for (let b = 0; b < ch; b++) {
          let ss = HALF;
          for (let x = 0, q = p + b; x < taps; x++, q += ch) ss += s[q] * weights[kBase + x];
          d[o + b] = clip8(ss);
        }
      }
    }
  }
  return out;
}

/** Vertical pass; bounds are relative to the first row of src. */
function resampleVertical(src: Raster, outHeight: number, c: Coefficients, rowShift: number): Raster {
  const out = createRaster(src.width, outHeight, src.channels);
  const stride = src.width * src.channels;
  const s = src.data;
  const d = out.data;
  const { bounds, weights, ksize } = c;
  const sums = new Float64Array(stride);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2] - rowShift;
    const taps = bounds[yy * 2 + 1];
    const kBase = yy * ksize;
    sums.fill(HALF);
    // Row-major accumulation keeps memory access sequential.
    for (let y = 0; y < taps; y++) {
      const w = weights[kBase + y];
      const row = (ymin + y) * stride;
      for (let i = 0; i < stride; i++) sums[i] += s[row + i] * w;
    }
    const outBase = yy * stride;
    for (let i = 0; i < stride; i++) d[outBase + i] = clip8(sums[i]);
  }
  return out;
}

function resampleOpaque(img: Raster, width: number, height: number): Raster {
  const needHorizontal = width !== img.width;
  const needVertical = height !== img.height;
  const vertical = precomputeCoefficients(img.height, height);
  // Only the input rows the vertical pass will read go through the horizontal pass.
  const firstRow = vertical.bounds[0];
  const lastRow = vertical.bounds[height * 2 - 2] + vertical.bounds[height * 2 - 1];
  let current = img;
  let shift = 0;
  if (needHorizontal) {
    current = resampleHorizontal(img, firstRow, lastRow - firstRow, width, precomputeCoefficients(img.width, width));
    shift = firstRow;
  }
  if (needVertical) current = resampleVertical(current, height, vertical, shift);
  return current === img ? { ...img, data: img.data.slice() } : current;
}

function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** RGBA -> RGBa (or LA -> La): colour premultiplied by alpha with PIL's rounding. */
function premultiply(img: Raster): Raster {
  const out = { ...img, data: img.data.slice() };
  const ch = img.channels;
  const d = out.data;
  for (let p = 0; p < d.length; p += ch) {
    const a = d[p + ch - 1];
    for (let b = 0; b < ch - 1; b++) d[p + b] = muldiv255(d[p + b], a);
  }
  return out;
}

/** RGBa -> RGBA in place; fully transparent and fully opaque pixels are left as they are. */
function unpremultiply(img: Raster): Raster {
  const ch = img.channels;
  const d = img.data;
  for (let p = 0; p < d.length; p += ch) {
    const a = d[p + ch - 1];
    if (a === 0 || a === 255) continue;
    for (let b = 0; b < ch - 1; b++) {
      const v = Math.floor((255 * d[p + b]) / a);
      d[p + b] = v > 255 ? 255 : v;
    }
  }
  return img;
}

/** Bit-exact PIL Image.resize((width, height), Image.BILINEAR) for 8-bit L, LA, RGB and RGBA. */
export function resizeBilinear(img: Raster, width: number, height: number): Raster {
  assertRaster(img, 'resizeBilinear');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resizeBilinear: bad target size ${width}x${height}`);
  }
  if (width === img.width && height === img.height) return { ...img, data: img.data.slice() };
  if (img.channels === 2 || img.channels === 4) return unpremultiply(resampleOpaque(premultiply(img), width, height));
  return resampleOpaque(img, width, height);
}
