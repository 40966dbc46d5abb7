/*
 * Chroma upsampling as libjpeg-turbo's jdsample.c does it with do_fancy_upsampling on (its
 * default, so PIL's): triangle-filter "fancy" upsampling for 2:1 horizontal (h2v1), 2:1 both
 * ways (h2v2) and 2:1 vertical (h1v2), falling back to box replication for h2v1/h2v2 when the
 * component is at most 2 samples wide, and for every other integral ratio. Context rows above
 * the top and below the last real row repeat the edge row, as libjpeg's main buffer does.
 */

/** A sample plane: sample (x, y) is data[y * stride + x]. */
export interface Plane {
  data: Uint8Array;
  stride: number;
}

export interface UpsampleInput extends Plane {
  /** Real (downsampled) width and height of the component. */
  width: number;
  height: number;
  hExpand: number;
  vExpand: number;
}

function clampRow(y: number, height: number): number {
  return y < 0 ? 0 : y >= height ? height - 1 : y;
}

function h2v1Fancy(src: UpsampleInput, outHeight: number): Plane {
  const { data, stride, width } = src;
  const wide = width * 2;
  const out = new Uint8Array(wide * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const i = y * stride;
    const o = y * wide;
    out[o] = data[i];
    out[o + 1] = (data[i] * 3 + data[i + 1] + 2) >> 2;
    for (let x = 1; x < width - 1; x++) {
      const v = data[i + x] * 3;
      out[o + 2 * x] = (v + data[i + x - 1] + 1) >> 2;
      out[o + 2 * x + 1] = (v + data[i + x + 1] + 2) >> 2;
    }
    const last = i + width - 1;
    out[o + wide - 2] = (data[last] * 3 + data[last - 1] + 1) >> 2;
    out[o + wide - 1] = data[last];
  }
  return { data: out, stride: wide };
}

function h2v2Fancy(src: UpsampleInput, outHeight: number): Plane {
  const { data, stride, width, height } = src;
  const wide = width * 2;
  const out = new Uint8Array(wide * outHeight);
  const sums = new Int32Array(width);
  for (let y = 0; y < outHeight; y++) {
    const inRow = y >> 1;
    const near = inRow * stride;
    const far = clampRow((y & 1) === 0 ? inRow - 1 : inRow + 1, height) * stride;
    for (let x = 0; x < width; x++) sums[x] = data[near + x] * 3 + data[far + x];
    const o = y * wide;
    out[o] = (sums[0] * 4 + 8) >> 4;
    out[o + 1] = (sums[0] * 3 + sums[1] + 7) >> 4;
    for (let x = 1; x < width - 1; x++) {
      out[o + 2 * x] = (sums[x] * 3 + sums[x - 1] + 8) >> 4;
      out[o + 2 * x + 1] = (sums[x] * 3 + sums[x + 1] + 7) >> 4;
    }
    const l = width - 1;
    out[o + wide - 2] = (sums[l] * 3 + sums[l - 1] + 8) >> 4;
    out[o + wide - 1] = (sums[l] * 4 + 7) >> 4;
  }
  return { data: out, stride: wide };
}

function h1v2Fancy(src: UpsampleInput, outWidth: number, outHeight: number): Plane {
  const { data, stride, height } = src;
  const out = new Uint8Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const inRow = y >> 1;
    const even = (y & 1) === 0;
    const near = inRow * stride;
    const far = clampRow(even ? inRow - 1 : inRow + 1, height) * stride;
    const bias = even ? 1 : 2;
    const o = y * outWidth;
    for (let x = 0; x < outWidth; x++) out[o + x] = (data[near + x] * 3 + data[far + x] + bias) >> 2;
  }
  return { data: out, stride: outWidth };
}

function boxUpsample(src: UpsampleInput, outWidth: number, outHeight: number): Plane {
  const { data, stride, hExpand, vExpand } = src;
  const out = new Uint8Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const i = Math.floor(y / vExpand) * stride;
    const o = y * outWidth;
    for (let x = 0; x < outWidth; x++) out[o + x] = data[i + Math.floor(x / hExpand)];
  }
  return { data: out, stride: outWidth };
}

/** Brings one decoded component to the full image size (outWidth x outHeight). */
export function upsample(src: UpsampleInput, outWidth: number, outHeight: number): Plane {
  const { hExpand: h, vExpand: v, width } = src;
  if (h === 1 && v === 1) return src;
  if (h === 2 && v === 1) return width > 2 ? h2v1Fancy(src, outHeight) : boxUpsample(src, outWidth, outHeight);
  if (h === 1 && v === 2) return h1v2Fancy(src, outWidth, outHeight);
  if (h === 2 && v === 2) return width > 2 ? h2v2Fancy(src, outHeight) : boxUpsample(src, outWidth, outHeight);
  return boxUpsample(src, outWidth, outHeight);
}
