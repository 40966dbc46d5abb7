import { convertChannels } from './convert';
import { Raster, assertRaster } from './raster';
import { resizeBilinear } from './resize';

/*
 * The model's input pipeline, matching the PyTorch/PIL reference:
 *   img.convert('RGB' | 'L')
 *   squash:      resize to (S, S) bilinear (skipped when already S x S)
 *   center-crop: torchvision Resize(floor(S * 256 / 224)) on the short side, then CenterCrop(S)
 *   ToTensor + Normalize in float32.
 */

export interface PreprocessOptions {
  imageSize: number;
  channels: 1 | 3;
  mean: number[];
  std: number[];
  resize: 'squash' | 'center-crop';
}

function checkOptions(options: PreprocessOptions, what: string): void {
  const { imageSize, channels, mean, std, resize } = options;
  if (!Number.isInteger(imageSize) || imageSize < 1) throw new RangeError(`${what}: imageSize must be a positive integer`);
  if (channels !== 1 && channels !== 3) throw new RangeError(`${what}: channels must be 1 or 3`);
  if (resize !== 'squash' && resize !== 'center-crop') throw new RangeError(`${what}: resize must be 'squash' or 'center-crop'`);
  if (mean.length !== channels || std.length !== channels) {
    throw new RangeError(`${what}: mean and std need one value per channel (${channels})`);
  }
  if (std.some((s) => !(s !== 0 && Number.isFinite(s)))) throw new RangeError(`${what}: std values must be finite and non-zero`);
}

/** Python 3's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function crop(img: Raster, left: number, top: number, width: number, height: number): Raster {
  const ch = img.channels;
  const data = new Uint8Array(width * height * ch);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * img.width + left) * ch;
    data.set(img.data.subarray(from, from + width * ch), y * width * ch);
  }
  return { width, height, channels: ch, data };
}

/** The uint8 imageSize x imageSize image the model sees, before normalisation. */
export function modelView(img: Raster, options: PreprocessOptions): Raster {
  assertRaster(img, 'modelView');
  checkOptions(options, 'modelView');
  const size = options.imageSize;
  // Already the right channels: no need to copy before resizing (which makes a new raster).
  const converted = img.channels === options.channels ? img : convertChannels(img, options.channels);
  if (options.resize === 'squash') {
    if (converted.width !== size || converted.height !== size) return resizeBilinear(converted, size, size);
    return converted === img ? { width: img.width, height: img.height, channels: img.channels, data: img.data.slice() } : converted;
  }
  const shortSide = Math.floor((size * 256) / 224);
  const { width: w, height: h } = converted;
  // Integer floor division equals Python's int(R * h / w) here: the quotient is never within
  // a rounding error of the next integer for image-sized operands.
  const [ow, oh] = w <= h ? [shortSide, Math.floor((shortSide * h) / w)] : [Math.floor((shortSide * w) / h), shortSide];
  // crop() copies, so an unresized input is never aliased by the result.
  const resized = ow === w && oh === h ? converted : resizeBilinear(converted, ow, oh);
  const top = roundHalfEven((oh - size) / 2);
  const left = roundHalfEven((ow - size) / 2);
  return crop(resized, left, top, size, size);
}

/** CHW float32 tensor: x = v / 255, then (x - mean) / std, every step rounded to float32. */
export function toInputTensor(view: Raster, options: PreprocessOptions): Float32Array {
  assertRaster(view, 'toInputTensor');
  checkOptions(options, 'toInputTensor');
  if (view.channels !== options.channels || view.width !== options.imageSize || view.height !== options.imageSize) {
    throw new RangeError(
      `toInputTensor: view is ${view.width}x${view.height}x${view.channels}, ` +
        `options expect ${options.imageSize}x${options.imageSize}x${options.channels} (use modelView first)`,
    );
  }
  const plane = view.width * view.height;
  const ch = view.channels;
  const out = new Float32Array(plane * ch);
  for (let c = 0; c < ch; c++) {
    const mean = Math.fround(options.mean[c]);
    const std = Math.fround(options.std[c]);
    // 256 possible inputs per channel: precompute them.
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = lut[view.data[i * ch + c]];
  }
  return out;
}
