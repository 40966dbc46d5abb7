import { decodeBmp } from './bmp-decode';
import { ImageError } from './errors';
import { decodeGif } from './gif-decode';
import { decodeJpeg } from './jpeg-decode';
import { decodePng } from './png-decode';
import { DEFAULT_MAX_PIXELS, Raster } from './raster';

export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'gif' | 'webp';

export interface DecodeOptions {
  /** Largest accepted width * height; checked from the header before any pixel memory is allocated. */
  maxPixels?: number;
}

function startsWith(bytes: Uint8Array, prefix: ArrayLike<number>, at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/** Recognises the format from the leading bytes (the file name is never trusted). */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('BM'))) return 'bmp';
  return null;
}

/**
 * Decodes PNG, JPEG, BMP or GIF (first frame) to the 8-bit raster PIL 9.4 would produce, so
 * that convert / resize / modelView downstream match the PIL reference pipeline bit for bit.
 * Palette images come back as RGB (RGBA with transparency); see each decoder for details.
 * Anything malformed, unsupported or over the size limit raises ImageError.
 */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Raster & { format: ImageFormat } {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeImage: expected a Uint8Array');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new RangeError('decodeImage: maxPixels must be positive');
  const format = sniffFormat(bytes);
  if (format === 'webp') throw new ImageError('WebP is not supported yet');
  if (format === null) throw new ImageError('unsupported image format');
  let raster: Raster;
  try {
    raster = DECODERS[format](bytes, maxPixels);
  } catch (error) {
    if (error instanceof ImageError) throw error;
    // Defence in depth: a decoder bug on a hostile file must still surface as one clear line.
    throw new ImageError(`cannot decode ${format.toUpperCase()}: ${oneLine(error)}`, { cause: error });
  }
  return { ...raster, format };
}

const DECODERS: Record<Exclude<ImageFormat, 'webp'>, (bytes: Uint8Array, maxPixels: number) => Raster> = {
  png: decodePng,
  jpeg: decodeJpeg,
  gif: decodeGif,
  bmp: decodeBmp,
};

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 200);
}
