import { ImageError } from './errors';
import { expandPalette, makePalette } from './palette';
import { Raster, checkImageSize, createRaster } from './raster';

/*
 * Uncompressed BMP as PIL 9.4 reads it: 1/4/8-bit palettes (-> RGB; grey palettes -> L),
 * 16-bit 5:5:5 and 5:6:5, 24-bit, 32-bit (alpha ignored unless BITFIELDS name an alpha mask,
 * which gives RGBA), bottom-up or top-down, OS/2 and Windows v3-v5 headers. RLE-compressed
 * files are refused. The last row may lack its padding bytes, which PIL also tolerates.
 */

function fail(message: string): never {
  throw new ImageError(`corrupt BMP: ${message}`);
}

type Layout = 'P1' | 'P4' | 'P8' | 'BGR15' | 'BGR16' | 'BGR' | 'BGRX' | 'XBGR' | 'ABGR' | 'RGBA' | 'BGRA';

const MASK_LAYOUTS: Array<[number, number[], Layout]> = [
  [32, [0xff0000, 0xff00, 0xff, 0], 'BGRX'],
  [32, [0xff000000, 0xff0000, 0xff00, 0], 'XBGR'],
  [32, [0xff000000, 0xff0000, 0xff00, 0xff], 'ABGR'],
  [32, [0xff, 0xff00, 0xff0000, 0xff000000], 'RGBA'],
  [32, [0xff0000, 0xff00, 0xff, 0xff000000], 'BGRA'],
  [32, [0, 0, 0, 0], 'BGRA'],
  [24, [0xff0000, 0xff00, 0xff], 'BGR'],
  [16, [0xf800, 0x7e0, 0x1f], 'BGR16'],
  [16, [0x7c00, 0x3e0, 0x1f], 'BGR15'],
];

const RAW_LAYOUTS: Record<number, Layout> = { 1: 'P1', 4: 'P4', 8: 'P8', 16: 'BGR15', 24: 'BGR', 32: 'BGRX' };

export function decodeBmp(bytes: Uint8Array, maxPixels: number): Raster {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 18) fail('file is truncated');
  let offset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (![12, 40, 64, 108, 124].includes(headerSize)) throw new ImageError(`unsupported BMP: header type ${headerSize}`);
  if (bytes.length < 14 + headerSize) fail('file is truncated');
  let width: number;
  let height: number;
  let bits: number;
  let compression = 0;
  let colors = 0;
  let topDown = false;
  let paletteEntry = 4;
  let masks: number[] | null = null;
  let cursor = 14 + headerSize;
  if (headerSize === 12) {
    width = view.getUint16(18, true);
    height = view.getUint16(20, true);
    bits = view.getUint16(24, true);
    paletteEntry = 3;
  } else {
    width = view.getUint32(18, true);
    const rawHeight = view.getUint32(22, true);
    // PIL flips when the height's top byte is 0xFF, i.e. a small negative height.
    topDown = bytes[25] === 0xff;
    height = topDown ? 2 ** 32 - rawHeight : rawHeight;
    bits = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colors = view.getUint32(46, true);
    if (compression === 3) {
      if (headerSize >= 56) {
        masks = [0, 1, 2, 3].map((i) => view.getUint32(54 + i * 4, true));
      } else {
        if (bytes.length < cursor + 12) fail('file is truncated');
        masks = [0, 1, 2].map((i) => view.getUint32(cursor + i * 4, true)).concat([0]);
        cursor += 12;
      }
    }
  }
  if (width > 0x7fffffff || height > 0x7fffffff) fail('bad dimensions');
  if (!colors) colors = 2 ** bits;
  if (offset === 14 + headerSize && bits <= 8) offset += 4 * colors;

  let layout: Layout | undefined = RAW_LAYOUTS[bits];
  if (!layout) throw new ImageError(`unsupported BMP: ${bits} bits per pixel`);
  let hasAlpha = false;
  if (compression === 3) {
    const m = masks as number[];
    const match = MASK_LAYOUTS.find(([b, want]) => b === bits && want.every((x, i) => x === m[i]));
    if (!match || bits < 16) throw new ImageError('unsupported BMP: bitfields layout');
    layout = match[2];
    hasAlpha = layout.includes('A');
  } else if (compression === 1 || compression === 2) {
    throw new ImageError('unsupported BMP: RLE compression');
  } else if (compression !== 0) {
    throw new ImageError(`unsupported BMP: compression ${compression}`);
  }
  checkImageSize(width, height, maxPixels);

  let table: Uint8Array | null = null;
  let grey = false;
  if (layout.startsWith('P')) {
    if (!(colors > 0 && colors <= 65536)) fail(`bad palette size ${colors}`);
    const paletteBytes = bytes.subarray(cursor, Math.min(bytes.length, cursor + colors * paletteEntry));
    const n = Math.min(256, Math.floor(paletteBytes.length / paletteEntry));
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      rgb[i * 3] = paletteBytes[i * paletteEntry + 2];
      rgb[i * 3 + 1] = paletteBytes[i * paletteEntry + 1];
      rgb[i * 3 + 2] = paletteBytes[i * paletteEntry];
    }
    table = makePalette(rgb);
    // PIL opens a palette that is just a grey ramp (or black/white for two colours) as "L"/"1".
    grey = true;
    for (let i = 0; i < colors && grey; i++) {
      const want = colors === 2 ? i * 255 : i;
      const at = i * paletteEntry;
      grey = at + 3 <= paletteBytes.length && paletteBytes[at] === want && paletteBytes[at + 1] === want && paletteBytes[at + 2] === want;
    }
    // PIL keeps a colour palette only up to 256 entries and refuses a longer one.
    if (!grey && Math.floor(paletteBytes.length / paletteEntry) > 256) fail('palette has more than 256 colours');
  }

  const rowBytes = Math.ceil((width * bits) / 8);
  const stride = (((width * bits + 31) >> 3) & ~3) >>> 0;
  if (offset + stride * (height - 1) + rowBytes > bytes.length) fail('file is truncated');
  const channels = table ? 1 : hasAlpha ? 4 : 3;
  const out = createRaster(width, height, channels);
  const d = out.data;
  // Byte positions of R, G, B, A within a 4-byte pixel.
  const [ri, gi, bi, ai] = { BGRX: [2, 1, 0, 3], BGRA: [2, 1, 0, 3], XBGR: [3, 2, 1, 0], ABGR: [3, 2, 1, 0], RGBA: [0, 1, 2, 3] }[
    layout as 'BGRX'
  ] ?? [0, 0, 0, 0];
  for (let fileRow = 0; fileRow < height; fileRow++) {
    const y = topDown ? fileRow : height - 1 - fileRow;
    const src = offset + fileRow * stride;
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      switch (layout) {
        case 'P1':
          d[o] = (bytes[src + (x >> 3)] >> (7 - (x & 7))) & 1;
          break;
        case 'P4':
          d[o] = (bytes[src + (x >> 1)] >> (x & 1 ? 0 : 4)) & 15;
          break;
        case 'P8':
          d[o] = bytes[src + x];
          break;
        case 'BGR15':
        case 'BGR16': {
          const p = bytes[src + 2 * x] | (bytes[src + 2 * x + 1] << 8);
          const wide = layout === 'BGR16';
          d[o] = Math.floor((((p >> (wide ? 11 : 10)) & 31) * 255) / 31);
          d[o + 1] = wide ? Math.floor((((p >> 5) & 63) * 255) / 63) : Math.floor((((p >> 5) & 31) * 255) / 31);
          d[o + 2] = Math.floor(((p & 31) * 255) / 31);
          break;
        }
        case 'BGR':
          d[o] = bytes[src + 3 * x + 2];
          d[o + 1] = bytes[src + 3 * x + 1];
          d[o + 2] = bytes[src + 3 * x];
          break;
        default: {
          const s = src + 4 * x;
          d[o] = bytes[s + ri];
          d[o + 1] = bytes[s + gi];
          d[o + 2] = bytes[s + bi];
          if (hasAlpha) d[o + 3] = bytes[s + ai];
        }
      }
    }
  }
  if (!table) return out;
  if (!grey) return expandPalette(d, width, height, table, false);
  for (let i = 0; i < d.length; i++) d[i] = table[d[i] * 4];
  return out;
}
