import { ImageError } from './errors';

/** An 8-bit image, row-major and interleaved: L, LA, RGB or RGBA. */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

export type Channels = Raster['channels'];

export const DEFAULT_MAX_PIXELS = 50e6;

// Typed arrays and index arithmetic stay well inside 32 bits below this, whatever maxPixels says.
const HARD_MAX_BYTES = 2 ** 31 - 1;

export function createRaster(width: number, height: number, channels: Channels): Raster {
  return { width, height, channels, data: new Uint8Array(width * height * channels) };
}

function describeLimit(maxPixels: number): string {
  if (maxPixels >= 1e6) return `${+(maxPixels / 1e6).toFixed(3)} megapixels`;
  return `${maxPixels} pixels`;
}

/**
 * Refuses empty images and images over the pixel budget; every decoder calls this with the
 * header's dimensions before it allocates anything for the pixels.
 */
export function checkImageSize(width: number, height: number, maxPixels: number): void {
  if (!(width > 0 && height > 0)) throw new ImageError(`empty image: ${width}x${height} pixels`);
  if (width * height > maxPixels) {
    throw new ImageError(`image too large: ${width}x${height} exceeds ${describeLimit(maxPixels)}`);
  }
  if (width * height * 8 > HARD_MAX_BYTES) {
    throw new ImageError(`image too large: ${width}x${height} exceeds what can be held in memory`);
  }
}

/** Guards the public raster-taking functions against malformed rasters (a programming error). */
export function assertRaster(img: Raster, what: string): void {
  const ok =
    img !== null &&
    typeof img === 'object' &&
    Number.isInteger(img.width) &&
    Number.isInteger(img.height) &&
    img.width > 0 &&
    img.height > 0 &&
    (img.channels === 1 || img.channels === 2 || img.channels === 3 || img.channels === 4) &&
    img.data instanceof Uint8Array &&
    img.data.length === img.width * img.height * img.channels;
  if (!ok) throw new RangeError(`${what}: not a valid raster`);
}
