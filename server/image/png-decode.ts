import { constants as zconst, inflateSync } from 'node:zlib';
import { crc32 } from './crc32';
import { ImageError } from './errors';
import { expandPalette, makePalette } from './palette';
import { Raster, checkImageSize, createRaster } from './raster';

/*
 * PNG decoder producing what PIL 9.4 produces, expressed as an 8-bit raster:
 *  - grey 1/2/4 bit -> L scaled to 0..255 (0/255, x85, x17); grey 8 -> L;
 *  - grey 16 -> L = min(value, 255): PIL opens it as mode "I" and convert("L") saturates,
 *    so a typical 16-bit grey image comes out almost white, exactly as in the PIL pipeline;
 *  - RGB/RGBA/grey+alpha 16 -> the high byte of each sample (PIL's ";16B" raw modes);
 *  - palette -> RGB, or RGBA when a tRNS chunk is present (PIL's convert("RGBA") of the "P" image);
 *    indices past the palette (or any index, without PLTE) get PIL's grey-ramp entries;
 *  - tRNS on grey/RGB images is ignored, as PIL's convert("L"/"RGB") ignores it.
 * Like PIL, nothing after the data the image needs is looked at (trailing chunks, a missing
 * IEND, damage further on). Unlike PIL, which never checks IDAT checksums, the CRC of every
 * IDAT chunk that is needed is verified.
 */

const ADAM7: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
];

const CHANNELS_OF: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS_OF: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const GREY_SCALE: Record<number, number> = { 1: 255, 2: 85, 4: 17, 8: 1 };

function fail(message: string): never {
  throw new ImageError(`corrupt PNG: ${message}`);
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function chunkType(b: Uint8Array, p: number): string {
  return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

interface Parsed {
  header: Header;
  palette?: Uint8Array;
  trns?: Uint8Array;
  zdata: Uint8Array;
  /** What went wrong after the image data started, if anything. */
  problem?: string;
  /** End offsets in zdata of the successive reads PIL's decoder gets. */
  reads: number[];
}

function parseChunks(bytes: Uint8Array, maxPixels: number): Parsed {
  let pos = 8;
  if (bytes.length < pos + 8 + 13 + 4) fail('file is truncated');
  if (u32(bytes, pos) !== 13 || chunkType(bytes, pos + 4) !== 'IHDR') fail('first chunk is not IHDR');
  if (crc32(bytes, pos + 4, pos + 8 + 13) !== u32(bytes, pos + 8 + 13)) fail('bad CRC in IHDR chunk');
  const h = pos + 8;
  const header: Header = {
    width: u32(bytes, h),
    height: u32(bytes, h + 4),
    depth: bytes[h + 8],
    colorType: bytes[h + 9],
    interlaced: bytes[h + 12] !== 0,
  };
  if (!(header.colorType in CHANNELS_OF) || !DEPTHS_OF[header.colorType].includes(header.depth)) {
    fail(`unsupported bit depth ${header.depth} for colour type ${header.colorType}`);
  }
  if (bytes[h + 11] !== 0) fail('unknown filter method');
  checkImageSize(header.width, header.height, maxPixels);
  pos += 8 + 13 + 4;

  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  // Once image data has started, a damaged or missing chunk only matters if the data before
  // it is not enough: PIL stops reading as soon as it has every row.
  let problem: string | undefined;
  for (;;) {
    if (pos + 8 > bytes.length) {
      if (!idat.length) fail('file is truncated');
      problem = 'image data is truncated';
      break;
    }
    const length = u32(bytes, pos);
    const type = chunkType(bytes, pos + 4);
    const dataStart = pos + 8;
    const dataEnd = dataStart + length;
    if (!/^\w{4}$/.test(type)) {
      if (!idat.length) fail('bad chunk type');
      problem = 'bad chunk type';
      break;
    }
    if (type === 'IDAT') {
      if (dataEnd + 4 > bytes.length) {
        idat.push(bytes.subarray(dataStart, Math.min(dataEnd, bytes.length)));
        problem = 'image data is truncated';
        break;
      }
      if (crc32(bytes, pos + 4, dataEnd) !== u32(bytes, dataEnd)) {
        problem = 'bad CRC in IDAT chunk';
        break;
      }
      idat.push(bytes.subarray(dataStart, dataEnd));
      pos = dataEnd + 4;
      continue;
    }
    if (idat.length) break; // The image data is complete; later chunks do not matter.
    if (length > 0x7fffffff) fail(`bad length for ${type} chunk`);
    if (dataEnd + 4 > bytes.length) fail('file is truncated');
    if (crc32(bytes, pos + 4, dataEnd) !== u32(bytes, dataEnd)) fail(`bad CRC in ${type} chunk`);
    if (type === 'IEND') fail('no image data');
    if (type === 'PLTE') palette = bytes.subarray(dataStart, dataEnd);
    else if (type === 'tRNS') trns = bytes.subarray(dataStart, dataEnd);
    pos = dataEnd + 4;
  }
  const total = idat.reduce((n, c) => n + c.length, 0);
  const zdata = new Uint8Array(total);
  let at = 0;
  for (const c of idat) {
    zdata.set(c, at);
    at += c.length;
  }
  // PIL feeds the decoder one read at a time: at most 64 KiB, never across a chunk boundary.
  const reads: number[] = [];
  let end = 0;
  for (const c of idat) {
    for (let off = 0; off < c.length; off += 65536) reads.push(end + Math.min(c.length, off + 65536));
    end += c.length;
  }
  return { header, palette, trns, zdata, problem, reads };
}

function passSizes(header: Header): Array<{ x0: number; y0: number; dx: number; dy: number; w: number; h: number }> {
  const passes = header.interlaced ? ADAM7 : [[0, 0, 1, 1] as const];
  return passes
    .map(([x0, y0, dx, dy]) => ({
      x0, y0, dx, dy,
      w: header.width > x0 ? Math.ceil((header.width - x0) / dx) : 0,
      h: header.height > y0 ? Math.ceil((header.height - y0) / dy) : 0,
    }))
    .filter((p) => p.w > 0 && p.h > 0);
}

function inflatePrefix(zdata: Uint8Array, length: number, limit: number): Uint8Array | Error {
  try {
    // A possibly cut-short stream: enough rows is enough, as in PIL. The output cap keeps a
    // hostile stream from inflating far past what the header promised.
    return inflateSync(zdata.subarray(0, length), { finishFlush: zconst.Z_SYNC_FLUSH, maxOutputLength: limit });
  } catch (e) {
    return e as Error;
  }
}

/** Smallest offset in `reads` at or after `pos` (PIL has read up to there). */
function readEnd(reads: number[], pos: number): number {
  for (const end of reads) if (end >= pos) return end;
  return reads.length ? reads[reads.length - 1] : 0;
}

/**
 * Inflates at least `expected` bytes or fails, the way PIL's row-by-row decoding behaves on
 * damaged data: zlib is only driven until the last row is out, so damage further on is never
 * seen, except a wrong Adler-32 trailer directly after the last row when PIL has already read
 * it (zlib checks it without needing output space).
 */
function inflate(zdata: Uint8Array, expected: number, problem: string | undefined, reads: number[]): Uint8Array {
  if (zdata.length < 2) fail(problem ?? 'image data is truncated');
  const limit = expected + (expected >> 2) + 65536;
  const full = inflatePrefix(zdata, zdata.length, limit);
  if (!(full instanceof Error)) {
    if (full.length >= expected) return full;
    fail(problem ?? 'image data is truncated');
  }
  // The longest prefix that still inflates without error.
  let lo = 0;
  let hi = zdata.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (inflatePrefix(zdata, mid, limit) instanceof Error) hi = mid;
    else lo = mid;
  }
  const out = inflatePrefix(zdata, lo, limit) as Uint8Array;
  if (out.length > expected) return out;
  // zlib stops for want of output space before it would copy a match, so a bad distance
  // right after the last row goes unnoticed; a bad code or block header does not.
  if (out.length === expected && /too far back/.test(full.message)) return out;
  if (out.length === expected && /incorrect data check/.test(full.message)) {
    // Where the rows were complete, and whether PIL's read at that point held the trailer.
    let first = 0;
    let last = lo;
    while (last - first > 1) {
      const mid = (first + last) >>> 1;
      if ((inflatePrefix(zdata, mid, limit) as Uint8Array).length >= expected) last = mid;
      else first = mid;
    }
    if (readEnd(reads, last) < hi) return out;
    fail('bad checksum in image data');
  }
  fail(problem ?? `bad compressed data (${full.message})`);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Undoes the per-row filters of one pass in place; returns the offset after the pass. */
function unfilterPass(raw: Uint8Array, start: number, rows: number, rowBytes: number, bpp: number): number {
  let prev = -1;
  let p = start;
  for (let y = 0; y < rows; y++) {
    const type = raw[p];
    const row = p + 1;
    switch (type) {
      case 0:
        break;
      case 1:
        for (let i = bpp; i < rowBytes; i++) raw[row + i] = (raw[row + i] + raw[row + i - bpp]) & 255;
        break;
      case 2:
        if (prev >= 0) for (let i = 0; i < rowBytes; i++) raw[row + i] = (raw[row + i] + raw[prev + i]) & 255;
        break;
      case 3:
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? raw[row + i - bpp] : 0;
          const b = prev >= 0 ? raw[prev + i] : 0;
          raw[row + i] = (raw[row + i] + ((a + b) >> 1)) & 255;
        }
        break;
      case 4:
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? raw[row + i - bpp] : 0;
          const b = prev >= 0 ? raw[prev + i] : 0;
          const c = prev >= 0 && i >= bpp ? raw[prev + i - bpp] : 0;
          raw[row + i] = (raw[row + i] + paeth(a, b, c)) & 255;
        }
        break;
      default:
        fail(`unknown filter type ${type}`);
    }
    prev = row;
    p = row + rowBytes;
  }
  return p;
}

export function decodePng(bytes: Uint8Array, maxPixels: number): Raster {
  const { header, palette, trns, zdata, problem, reads } = parseChunks(bytes, maxPixels);
  const { width, height, depth, colorType } = header;
  const samplesPerPixel = CHANNELS_OF[colorType];
  const bitsPerPixel = samplesPerPixel * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = passSizes(header);
  const expected = passes.reduce((n, p) => n + p.h * (1 + Math.ceil((p.w * bitsPerPixel) / 8)), 0);
  const raw = inflate(zdata, expected, problem, reads);

  const isPalette = colorType === 3;
  const outChannels = isPalette ? 1 : samplesPerPixel;
  const out = createRaster(width, height, outChannels as 1 | 2 | 3 | 4);
  const d = out.data;
  let offset = 0;
  for (const pass of passes) {
    const rowBytes = Math.ceil((pass.w * bitsPerPixel) / 8);
    const start = offset;
    offset = unfilterPass(raw, start, pass.h, rowBytes, bpp);
    for (let py = 0; py < pass.h; py++) {
      const row = start + py * (rowBytes + 1) + 1;
      const y = pass.y0 + py * pass.dy;
      for (let px = 0; px < pass.w; px++) {
        const o = (y * width + pass.x0 + px * pass.dx) * outChannels;
        if (depth < 8) {
          const bit = px * depth;
          const v = (raw[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
          d[o] = isPalette ? v : v * GREY_SCALE[depth];
        } else if (depth === 8) {
          const s = row + px * samplesPerPixel;
          for (let c = 0; c < samplesPerPixel; c++) d[o + c] = raw[s + c];
        } else if (colorType === 0) {
          const s = row + px * 2;
          const v = (raw[s] << 8) | raw[s + 1];
          d[o] = v > 255 ? 255 : v;
        } else {
          const s = row + px * samplesPerPixel * 2;
          for (let c = 0; c < samplesPerPixel; c++) d[o + c] = raw[s + c * 2];
        }
      }
    }
  }
  if (!isPalette) return out;
  const table = makePalette(palette ?? new Uint8Array(0), trns);
  return expandPalette(d, width, height, table, trns !== undefined);
}
