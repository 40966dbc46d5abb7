import { Raster, createRaster } from './raster';

/**
 * A 256-entry RGBA lookup table filled the way PIL fills an image palette: the file's entries
 * first, then a grey ramp (index i -> (i, i, i)), everything opaque unless alpha says otherwise.
 * Out-of-palette indices therefore decode exactly as PIL decodes them.
 */
export function makePalette(rgb: Uint8Array, alpha?: Uint8Array): Uint8Array {
  const table = new Uint8Array(1024);
  for (let i = 0; i < 256; i++) {
    table[i * 4] = table[i * 4 + 1] = table[i * 4 + 2] = i;
    table[i * 4 + 3] = 255;
  }
  const entries = Math.min(256, Math.floor(rgb.length / 3));
  for (let i = 0; i < entries; i++) {
    table[i * 4] = rgb[i * 3];
    table[i * 4 + 1] = rgb[i * 3 + 1];
    table[i * 4 + 2] = rgb[i * 3 + 2];
  }
  if (alpha) for (let i = 0; i < Math.min(256, alpha.length); i++) table[i * 4 + 3] = alpha[i];
  return table;
}

/** Expands one palette index per pixel to RGB, or RGBA when the image carries transparency. */
export function expandPalette(indices: Uint8Array, width: number, height: number, table: Uint8Array, withAlpha: boolean): Raster {
  const out = createRaster(width, height, withAlpha ? 4 : 3);
  const d = out.data;
  const n = width * height;
  if (withAlpha) {
    for (let i = 0; i < n; i++) {
      const p = indices[i] * 4;
      d[i * 4] = table[p];
      d[i * 4 + 1] = table[p + 1];
      d[i * 4 + 2] = table[p + 2];
      d[i * 4 + 3] = table[p + 3];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const p = indices[i] * 4;
      d[i * 3] = table[p];
      d[i * 3 + 1] = table[p + 1];
      d[i * 3 + 2] = table[p + 2];
    }
  }
  return out;
}
