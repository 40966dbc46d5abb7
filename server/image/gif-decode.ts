import { ImageError } from './errors';
import { expandPalette, makePalette } from './palette';
import { Raster, checkImageSize, createRaster } from './raster';

/*
 * First frame of a GIF, as PIL 9.4 loads it: the frame is drawn on a canvas the size of the
 * logical screen (grown if the frame sticks out), filled with the transparent index if the
 * frame has one, else index 0. Result: RGB through the palette, RGBA when a transparent index
 * is set, or L when there is no palette or it is just a grey ramp (PIL's mode "L").
 * The LZW decoder follows PIL's GifDecode.c, including what it treats as broken data.
 */

function fail(message: string): never {
  throw new ImageError(`corrupt GIF: ${message}`);
}

const MAX_CODES = 4096;

function isGreyRamp(p: Uint8Array): boolean {
  for (let i = 0; i + 2 < p.length; i += 3) {
    const v = i / 3;
    if (p[i] !== v || p[i + 1] !== v || p[i + 2] !== v) return false;
  }
  return true;
}

interface Frame {
  x0: number;
  y0: number;
  width: number;
  height: number;
  interlaced: boolean;
  minCodeSize: number;
  dataStart: number;
}

/** Decodes LZW data into canvas rows, visiting rows in interlaced order when asked to. */
function decodeLzw(bytes: Uint8Array, frame: Frame, canvas: Uint8Array, canvasWidth: number): void {
  const { minCodeSize: bits, width, height } = frame;
  if (bits > 12) fail('bad LZW code size');
  const clear = 1 << bits;
  const end = clear + 1;
  const prefix = new Int32Array(MAX_CODES);
  const suffix = new Uint8Array(MAX_CODES);
  const stack = new Uint8Array(MAX_CODES);
  let next = clear + 2;
  let codeSize = bits + 1;
  let codeMask = (1 << codeSize) - 1;
  let afterClear = true;
  let lastCode = 0;
  let lastData = 0;

  let pos = frame.dataStart;
  let blockLeft = 0;
  let bitBuffer = 0;
  let bitCount = 0;

  let x = 0;
  let y = 0;
  let pass = frame.interlaced ? 1 : 0;
  let step = frame.interlaced ? 8 : 1;
  let done = false;
  let row = (frame.y0 + y) * canvasWidth + frame.x0;

  const newline = (): void => {
    x = 0;
    y += step;
    while (y >= height) {
      if (pass === 1) {
        y = 4;
        pass = 2;
      } else if (pass === 2) {
        step = 4;
        y = 2;
        pass = 3;
      } else if (pass === 3) {
        step = 2;
        y = 1;
        pass = 0;
      } else {
        done = true;
        return;
      }
    }
    row = (frame.y0 + y) * canvasWidth + frame.x0;
  };

  const emit = (v: number): void => {
    canvas[row + x] = v;
    if (++x >= width) newline();
  };

  while (!done) {
    while (bitCount < codeSize) {
      if (blockLeft > 0) {
        bitBuffer |= bytes[pos++] << bitCount;
        bitCount += 8;
        blockLeft--;
      } else {
        // PIL waits for a whole sub-block before using any of it.
        if (pos >= bytes.length || pos + 1 + bytes[pos] > bytes.length) fail('file is truncated');
        blockLeft = bytes[pos++];
      }
    }
    let c = bitBuffer & codeMask;
    bitBuffer >>>= codeSize;
    bitCount -= codeSize;

    if (c === clear) {
      next = clear + 2;
      codeSize = bits + 1;
      codeMask = (1 << codeSize) - 1;
      afterClear = true;
      continue;
    }
    if (c === end) fail('image data ends before the image is complete');
    if (afterClear) {
      if (c > clear) fail('bad LZW code');
      lastData = lastCode = c;
      afterClear = false;
      emit(c);
      continue;
    }
    const thisCode = c;
    if (c > next) fail('bad LZW code');
    let top = 0;
    if (c === next) {
      stack[top++] = lastData;
      c = lastCode;
    }
    while (c >= clear) {
      if (top >= MAX_CODES || c >= MAX_CODES) fail('bad LZW code');
      stack[top++] = suffix[c];
      c = prefix[c];
    }
    lastData = c;
    if (next < MAX_CODES) {
      suffix[next] = c;
      prefix[next] = lastCode;
      if (next === codeMask && codeSize < 12) {
        codeSize++;
        codeMask = (1 << codeSize) - 1;
      }
      next++;
    }
    lastCode = thisCode;
    emit(c);
    while (top > 0 && !done) emit(stack[--top]);
  }
}

export function decodeGif(bytes: Uint8Array, maxPixels: number): Raster {
  if (bytes.length < 13) fail('file is truncated');
  let width = bytes[6] | (bytes[7] << 8);
  let height = bytes[8] | (bytes[9] << 8);
  const flags = bytes[10];
  let pos = 13;
  let palette: Uint8Array | null = null;
  if (flags & 0x80) {
    const size = 3 << ((flags & 7) + 1);
    const p = bytes.subarray(pos, Math.min(bytes.length, pos + size));
    pos += size;
    if (!isGreyRamp(p)) palette = p;
  }

  let transparency: number | undefined;
  let frame: Frame | null = null;
  while (!frame) {
    if (pos >= bytes.length || bytes[pos] === 0x3b) fail('no image in file');
    const tag = bytes[pos++];
    if (tag === 0x21) {
      if (pos >= bytes.length) fail('file is truncated');
      const label = bytes[pos++];
      // PIL reads the first sub-block, then sub-blocks up to an empty one: an empty *first*
      // block does not end the extension (except for comments).
      const readBlock = (): Uint8Array | null => {
        if (pos >= bytes.length || bytes[pos] === 0) {
          pos = Math.min(pos + 1, bytes.length);
          return null;
        }
        const size = bytes[pos];
        const block = bytes.subarray(pos + 1, Math.min(bytes.length, pos + 1 + size));
        pos += 1 + block.length;
        return block;
      };
      let block = readBlock();
      if (label === 0xf9) {
        if (!block || block.length < 3 || (block[0] & 1 && block.length < 4)) fail('bad graphic control extension');
        if (block[0] & 1) transparency = block[3];
      } else if (label === 0xfe) {
        while (block) block = readBlock();
        continue;
      } else if (label === 0xff) {
        if (!block) fail('bad application extension');
        if (String.fromCharCode(...block.subarray(0, 11)) === 'NETSCAPE2.0' && !readBlock()) fail('bad application extension');
      }
      while (readBlock());
    } else if (tag === 0x2c) {
      if (pos + 9 > bytes.length) fail('file is truncated');
      const x0 = bytes[pos] | (bytes[pos + 1] << 8);
      const y0 = bytes[pos + 2] | (bytes[pos + 3] << 8);
      const w = bytes[pos + 4] | (bytes[pos + 5] << 8);
      const h = bytes[pos + 6] | (bytes[pos + 7] << 8);
      const f = bytes[pos + 8];
      pos += 9;
      if (f & 0x80) {
        const size = 3 << ((f & 7) + 1);
        const p = bytes.subarray(pos, Math.min(bytes.length, pos + size));
        pos += size;
        // A local grey ramp makes the frame "L" even when the global palette is colourful.
        palette = isGreyRamp(p) ? null : p;
      }
      if (pos >= bytes.length) fail('file is truncated');
      if (w === 0 || h === 0) fail('empty frame');
      frame = { x0, y0, width: w, height: h, interlaced: (f & 0x40) !== 0, minCodeSize: bytes[pos], dataStart: pos + 1 };
      width = Math.max(width, x0 + w);
      height = Math.max(height, y0 + h);
    }
    // Any other byte between blocks is skipped, as PIL does.
  }
  checkImageSize(width, height, maxPixels);
  const canvas = new Uint8Array(width * height).fill(transparency ?? 0);
  decodeLzw(bytes, frame, canvas, width);
  if (!palette) {
    const out = createRaster(width, height, 1);
    out.data.set(canvas);
    return out;
  }
  const alpha = transparency === undefined ? undefined : new Uint8Array(256).fill(255);
  if (alpha && transparency !== undefined) alpha[transparency] = 0;
  return expandPalette(canvas, width, height, makePalette(palette, alpha), alpha !== undefined);
}
