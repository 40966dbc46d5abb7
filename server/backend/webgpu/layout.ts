// Sizes of every per-image GPU buffer and capture, and how many images one pass can hold
// within the device's binding, buffer and dispatch limits.
import type { CrateConfig } from '../../model/config';
import { codeWidth } from '../../model/families/alpha';
import type { LayerCapture } from '../types';
import { matmulTile, type MatmulShape } from './shaders/matmul';

export interface Shapes {
  channels: number; imageSize: number; patchSize: number; grid: number; patches: number; patchDim: number;
  tokens: number; dim: number; heads: number; dimHead: number; inner: number; classes: number; depth: number;
  /** Width of the sparse code (dim; 4 dim for CRATE-alpha) and whether the model is CRATE-alpha. */
  code: number; alpha: boolean;
}

export function shapesOf(config: CrateConfig): Shapes {
  const grid = config.imageSize / config.patchSize;
  const patches = grid * grid;
  return {
    channels: config.channels, imageSize: config.imageSize, patchSize: config.patchSize, grid, patches,
    patchDim: config.patchSize * config.patchSize * config.channels, tokens: patches + 1, dim: config.dim,
    heads: config.heads, dimHead: config.dimHead, inner: config.heads * config.dimHead,
    classes: config.numClasses, depth: config.depth, code: codeWidth(config), alpha: config.family === 'crate-alpha',
  };
}

export const WORK_BUFFERS = [
  'pixels', 'patches', 'patchesLn', 'embed', 'embedLn', 'zA', 'zB', 'ln1', 'qkv', 'attn', 'mixed', 'zHalf',
  'x', 'drive', 'y', 'step', 'recon', 'unit', 'gram', 'attnCls', 'attnMean', 'attnMax', 'attnMin',
  'inputSq', 'residualSq', 'stepSq', 'driveSq', 'pooled', 'pooledLn', 'logits', 'code1', 'code2',
] as const;
export type WorkBuffer = (typeof WORK_BUFFERS)[number];

/** Floats per image of each working buffer. */
export function workFloats(s: Shapes): Record<WorkBuffer, number> {
  const act = s.tokens * s.dim;
  const qkv = s.tokens * s.inner;
  const tt = s.tokens * s.tokens;
  const code = s.tokens * s.code;
  // CRATE-alpha's first and second codes; CRATE needs neither (one float keeps the buffer valid).
  const alphaCode = s.alpha ? code : 1;
  return {
    pixels: s.channels * s.imageSize * s.imageSize, patches: s.patches * s.patchDim, patchesLn: s.patches * s.patchDim,
    embed: s.patches * s.dim, embedLn: s.patches * s.dim, zA: act, zB: act, ln1: act, qkv, attn: s.heads * tt,
    mixed: qkv, zHalf: act, x: act, drive: code, y: act, step: code, recon: act, unit: qkv,
    gram: s.heads * s.dimHead * s.dimHead, attnCls: s.heads * s.tokens, attnMean: tt, attnMax: tt, attnMin: tt,
    inputSq: s.tokens, residualSq: s.tokens, stepSq: s.tokens, driveSq: s.tokens, pooled: s.dim, pooledLn: s.dim, logits: s.classes,
    code1: alphaCode, code2: alphaCode,
  };
}

// Zeros and maxima of the codes are counted from the read-back code itself.
export type CaptureKey = Exclude<keyof LayerCapture, 'zerosPerToken' | 'codeMax' | 'codeBins'>;
/** What each layer reads back; the ISTA input always comes along (a GPU pass reads it for free next to the rest). */
export const CAPTURE_KEYS: readonly CaptureKey[] = [
  'attnCls', 'attnMean', 'attnMax', 'attnMin', 'istaInput', 'istaOutput', 'inputSq', 'residualSq', 'stepSq', 'driveSq', 'gram',
];

export function captureFloats(s: Shapes): Record<CaptureKey, number> {
  const act = s.tokens * s.dim;
  const tt = s.tokens * s.tokens;
  return {
    attnCls: s.heads * s.tokens, attnMean: tt, attnMax: tt, attnMin: tt, istaInput: act, istaOutput: s.tokens * s.code,
    inputSq: s.tokens, residualSq: s.tokens, stepSq: s.tokens, driveSq: s.tokens, gram: s.heads * s.dimHead * s.dimHead,
  };
}

export function layerCaptureBytes(s: Shapes): number {
  return Object.values(captureFloats(s)).reduce((a, b) => a + b, 0) * 4;
}

export function finalCaptureBytes(s: Shapes): number {
  return (s.classes + s.tokens * s.inner) * 4;
}

export interface PassLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
  /** Most bytes one layer's captures may take in a staging buffer. */
  stagingLimit: number;
}

/** Images per pass: every buffer bound whole, every stage's readback in one staging buffer. */
export function maxImagesPerPass(s: Shapes, limits: PassLimits, matmul: MatmulShape): number {
  const floats = workFloats(s);
  const bounds: [string, number][] = [];
  for (const [name, n] of Object.entries(floats)) bounds.push([`buffer '${name}' (${n * 4} bytes per image)`, Math.floor(limits.maxStorageBufferBindingSize / (n * 4))]);
  const staging = Math.min(limits.stagingLimit, limits.maxBufferSize);
  bounds.push([`one layer's captures (${layerCaptureBytes(s)} bytes per image)`, Math.floor(staging / layerCaptureBytes(s))]);
  bounds.push([`the final captures (${finalCaptureBytes(s)} bytes per image)`, Math.floor(staging / finalCaptureBytes(s))]);
  // Batched matmuls put image x head on the z axis and token-row tiles on y.
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  bounds.push(['matmul batches (images x heads)', Math.floor(maxDim / s.heads)]);
  bounds.push(['matmul row tiles', Math.floor((maxDim * matmulTile(matmul).tm) / s.tokens)]);
  let best = Infinity;
  let why = '';
  for (const [what, n] of bounds) if (n < best) { best = n; why = what; }
  if (best < 1) throw new Error(`one image does not fit the WebGPU device's limits: ${why}`);
  return best;
}
