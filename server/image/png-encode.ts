import { deflateSync } from 'node:zlib';
import { crc32 } from './crc32';
import { Raster, assertRaster } from './raster';

const COLOR_TYPE = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;

/** One PNG chunk: length, type, body and CRC. */
export function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out, 4, 8 + body.length));
  return out;
}

/**
 * Picks, per row, the filter with the smallest sum of absolute (signed) residuals: the usual
 * libpng heuristic, which keeps heatmap PNGs small without trying every zlib setting.
 */
function filterRows(img: Raster): Uint8Array {
  const bpp = img.channels;
  const stride = img.width * bpp;
  const out = new Uint8Array(img.height * (stride + 1));
  const candidate = new Uint8Array(stride);
  const best = new Uint8Array(stride);
  const src = img.data;
  for (let y = 0; y < img.height; y++) {
    const row = y * stride;
    const prev = row - stride;
    let bestType = 0;
    let bestScore = Infinity;
    for (let type = 0; type < 5; type++) {
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const x = src[row + i];
        const a = i >= bpp ? src[row + i - bpp] : 0;
        const b = y > 0 ? src[prev + i] : 0;
        const c = y > 0 && i >= bpp ? src[prev + i - bpp] : 0;
        let pred = 0;
        if (type === 1) pred = a;
        else if (type === 2) pred = b;
        else if (type === 3) pred = (a + b) >> 1;
        else if (type === 4) {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
        const v = (x - pred) & 255;
        candidate[i] = v;
        score += v < 128 ? v : 256 - v;
      }
      if (score < bestScore) {
        bestScore = score;
        bestType = type;
        best.set(candidate);
      }
    }
    out[y * (stride + 1)] = bestType;
    out.set(best, y * (stride + 1) + 1);
  }
  return out;
}

/** Encodes an 8-bit raster as a non-interlaced PNG (grey, grey+alpha, RGB or RGBA). */
export function encodePng(img: Raster): Uint8Array {
  assertRaster(img, 'encodePng');
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, img.width);
  view.setUint32(4, img.height);
  ihdr[8] = 8;
  ihdr[9] = COLOR_TYPE[img.channels];
  const signature = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
  return concatBytes(signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(filterRows(img))), pngChunk('IEND', new Uint8Array(0)));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
