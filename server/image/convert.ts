import { Raster, assertRaster, createRaster } from './raster';

/**
 * PIL's img.convert('L') / img.convert('RGB') for 8-bit rasters. Alpha is dropped, never
 * composited; grey becomes RGB by replication; RGB becomes grey with PIL's ITU-R 601-2 luma in
 * 16-bit fixed point: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16.
 */
export function convertChannels(img: Raster, channels: 1 | 3): Raster {
  assertRaster(img, 'convertChannels');
  if (channels !== 1 && channels !== 3) throw new RangeError('convertChannels: channels must be 1 or 3');
  const n = img.width * img.height;
  const src = img.data;
  const step = img.channels;
  const out = createRaster(img.width, img.height, channels);
  const d = out.data;
  if (channels === 1) {
    if (step <= 2) {
      for (let i = 0; i < n; i++) d[i] = src[i * step];
    } else {
      for (let i = 0, s = 0; i < n; i++, s += step) {
        d[i] = (src[s] * 19595 + src[s + 1] * 38470 + src[s + 2] * 7471 + 0x8000) >>> 16;
      }
    }
  } else if (step <= 2) {
    for (let i = 0; i < n; i++) d[i * 3] = d[i * 3 + 1] = d[i * 3 + 2] = src[i * step];
  } else {
    for (let i = 0, s = 0; i < n; i++, s += step) {
      d[i * 3] = src[s];
      d[i * 3 + 1] = src[s + 1];
      d[i * 3 + 2] = src[s + 2];
    }
  }
  return out;
}
