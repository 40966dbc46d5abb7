import { Plane } from './jpeg-upsample';
import { Raster, createRaster } from './raster';

/*
 * Output colour conversion: libjpeg-turbo's jdcolor.c (YCbCr -> RGB, YCCK -> CMYK, both with
 * 16-bit fixed-point tables), then for four-component files what PIL does with libjpeg's CMYK:
 * PIL reads it as Adobe-style inverted CMYK ("CMYK;I") and its convert('RGB') applies
 * R = 255 - K' - C'(255 - K')/255 with its MULDIV255 rounding.
 */

const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const fix = (x: number): number => Math.floor(x * (1 << SCALEBITS) + 0.5);

const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (fix(1.402) * x + ONE_HALF) >> SCALEBITS;
  CB_B[i] = (fix(1.772) * x + ONE_HALF) >> SCALEBITS;
  CR_G[i] = -fix(0.71414) * x;
  CB_G[i] = -fix(0.34414) * x + ONE_HALF;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

export type JpegColorSpace = 'gray' | 'ycbcr' | 'rgb' | 'cmyk' | 'ycck';

function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** Converts the full-size component planes to the raster PIL would hand back (L or RGB). */
export function convertColor(planes: Plane[], space: JpegColorSpace, width: number, height: number): Raster {
  if (space === 'gray') {
    const out = createRaster(width, height, 1);
    const p = planes[0];
    for (let y = 0; y < height; y++) out.data.set(p.data.subarray(y * p.stride, y * p.stride + width), y * width);
    return out;
  }
  const out = createRaster(width, height, 3);
  const d = out.data;
  const [p0, p1, p2, p3] = planes;
  const a0 = p0.data;
  const a1 = p1.data;
  const a2 = p2.data;
  for (let y = 0; y < height; y++) {
    const r0 = y * p0.stride;
    const r1 = y * p1.stride;
    const r2 = y * p2.stride;
    let o = y * width * 3;
    if (space === 'rgb') {
      for (let x = 0; x < width; x++, o += 3) {
        d[o] = a0[r0 + x];
        d[o + 1] = a1[r1 + x];
        d[o + 2] = a2[r2 + x];
      }
    } else if (space === 'ycbcr') {
      for (let x = 0; x < width; x++, o += 3) {
        const yy = a0[r0 + x];
        const cb = a1[r1 + x];
        const cr = a2[r2 + x];
        d[o] = clamp(yy + CR_R[cr]);
        d[o + 1] = clamp(yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
        d[o + 2] = clamp(yy + CB_B[cb]);
      }
    } else {
      const a3 = p3.data;
      const r3 = y * p3.stride;
      for (let x = 0; x < width; x++, o += 3) {
        let c = a0[r0 + x];
        let m = a1[r1 + x];
        let ye = a2[r2 + x];
        if (space === 'ycck') {
          const yy = c;
          const cb = m;
          const cr = ye;
          c = 255 - clamp(yy + CR_R[cr]);
          m = 255 - clamp(yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
          ye = 255 - clamp(yy + CB_B[cb]);
        }
        // libjpeg's CMYK as stored; PIL reads it as inverted CMYK, so C' = 255 - C and
        // 255 - K' = K, then convert('RGB') gives R = K - C'K/255 with its MULDIV255 rounding.
        const k = a3[r3 + x];
        d[o] = clamp(k - muldiv255(255 - c, k));
        d[o + 1] = clamp(k - muldiv255(255 - m, k));
        d[o + 2] = clamp(k - muldiv255(255 - ye, k));
      }
    }
  }
  return out;
}
