// Reads the PyTorch reference fixtures and compares engine output with the crate-math tolerances.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, ForwardCapture } from '../../server/backend/types';
import { analyzeImages, type ModelForAnalysis } from '../../server/engine/analyze';
import type { ImageResult } from '../../server/protocol';

export const FIXTURES = join(__dirname, '..', 'fixtures');

export interface ReferenceLayer {
  clsAttention: number[][]; istaInput: number[]; istaOutput: number[];
  sparsity: number; zeroCount: number; nearZeroCount: number;
  reconstructionError: number; istaResidual: number; codingRate: number;
}
export interface ReferenceImage {
  image: string; input: number[]; logits: number[]; top: { index: number; probability: number }[];
  layers: ReferenceLayer[]; rollout: Record<string, number[]>; dinoMask: number[][]; dinoMaskMerged: number[];
}
export interface Reference { config: Record<string, unknown>; checkpoint: string; configFile: string | null; parameters: number; results: ReferenceImage[] }
export interface GoldenCase { name: string; dir: string; checkpoint: string; config: string | null; images: string[] }

export function goldenCases(): GoldenCase[] {
  return JSON.parse(readFileSync(join(FIXTURES, 'golden', 'manifest.json'), 'utf8'));
}

export function reference(c: GoldenCase): Reference {
  return JSON.parse(readFileSync(join(FIXTURES, c.dir, 'reference.json'), 'utf8'));
}

export const checkpointPath = (c: GoldenCase) => join(FIXTURES, c.dir, c.checkpoint);
export const configPath = (c: GoldenCase) => (c.config ? join(FIXTURES, c.dir, c.config) : undefined);
export const imagePath = (image: string) => join(FIXTURES, image);

/** Activations and logits: |a - b| <= 1e-4 * max|reference| + 1e-6. */
export function assertActivations(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const tol = 1e-4 * scale + 1e-6;
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) assert.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tol})`);
  }
}

export function assertAbsolute(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) assert.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tol})`);
  }
}

export function assertRelative(actual: number, expected: number, tol: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tol * Math.abs(expected) + 1e-12)) assert.fail(`${what}: ${actual} vs ${expected} (relative tolerance ${tol})`);
}

/** The zero count may differ only by pre-activations within 1e-4 of zero (+1). */
export function assertZeroCount(actual: number, expected: ReferenceLayer, what: string): void {
  if (!(Math.abs(actual - expected.zeroCount) <= expected.nearZeroCount + 1)) {
    assert.fail(`${what}: ${actual} zeros vs ${expected.zeroCount} (allowed difference ${expected.nearZeroCount + 1})`);
  }
}

/** Threshold masks may flip only at the boundary patch, where float32 cumulative sums can tie. */
export function assertMask(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const differing = actual.filter((v, i) => v !== expected[i]).length;
  if (differing > 1) assert.fail(`${what}: ${differing} patches differ`);
}

/** The per-layer measures as the engine reports them (a LayerResult has these fields). */
export interface MeasuredLayer { clsAttention: number[][]; zeroCount: number; reconstructionError: number; istaResidual: number; codingRate: number }

/** Every per-layer measure of one image against PyTorch, within crate-math's tolerances. */
export function assertLayerMeasures(layers: readonly MeasuredLayer[], expected: readonly ReferenceLayer[], image: string): void {
  layers.forEach((layer, k) => {
    const e = expected[k];
    const where = `${image} layer ${k}`;
    layer.clsAttention.forEach((row, h) => assertAbsolute(row, e.clsAttention[h], 1e-6, `${where} clsAttention head ${h}`));
    assertZeroCount(layer.zeroCount, e, `${where} zeros`);
    assertRelative(layer.reconstructionError, e.reconstructionError, 1e-5, `${where} reconstructionError`);
    assertRelative(layer.istaResidual, e.istaResidual, 1e-5, `${where} istaResidual`);
    assertRelative(layer.codingRate, e.codingRate, 1e-5, `${where} codingRate`);
  });
}

/** The reference images' inputs as one batch, in order. */
export function batchOf(ref: Pick<Reference, 'results'>): Float32Array {
  const size = ref.results[0].input.length;
  const batch = new Float32Array(ref.results.length * size);
  ref.results.forEach((r, i) => batch.set(r.input, i * size));
  return batch;
}

/** Widths of a captured forward pass: tokens, the ISTA input's (dim) and the sparse code's. */
export interface CaptureWidths { tokens: number; dim: number; code: number; numClasses: number }

/**
 * A forward pass with activations against PyTorch, image by image: the logits and, per layer, the ISTA
 * input [T, dim] and sparse code [T, code]. `eachLayer` adds checks of its own per image and layer.
 */
export function assertCapturedActivations(capture: ForwardCapture, results: readonly ReferenceImage[], w: CaptureWidths, eachLayer?: (image: number, layer: number) => void): void {
  results.forEach((r, i) => {
    assertActivations(capture.logits.subarray(i * w.numClasses, (i + 1) * w.numClasses), r.logits, `${r.image} logits`);
    r.layers.forEach((l, k) => {
      assertActivations(capture.layers[k].istaInput!.subarray(i * w.tokens * w.dim, (i + 1) * w.tokens * w.dim), l.istaInput, `${r.image} layer ${k} istaInput`);
      assertActivations(capture.layers[k].istaOutput!.subarray(i * w.tokens * w.code, (i + 1) * w.tokens * w.code), l.istaOutput, `${r.image} layer ${k} istaOutput`);
      eachLayer?.(i, k);
    });
  });
}

/**
 * One analysed image against PyTorch: no error, logits, top-k order and probabilities, every per-layer
 * measure, the last layer's DINO masks (per head and merged) and the mean rollout.
 */
export function assertAnalysisMatches(result: ImageResult, r: ReferenceImage): void {
  assert.equal(result.error, undefined);
  assertActivations(result.logits!, r.logits, `${r.image} logits`);
  const top = r.top.slice(0, result.top!.length);
  assert.deepEqual(result.top!.map((t) => t.index), top.map((t) => t.index), `${r.image} top-k order`);
  assertAbsolute(result.top!.map((t) => t.probability), top.map((t) => t.probability), 1e-5, `${r.image} top-k probabilities`);
  assertLayerMeasures(result.layers!, r.layers, r.image);
  const last = result.layers![result.layers!.length - 1];
  last.dinoMask.forEach((m, h) => assertMask(m, r.dinoMask[h], `${r.image} dinoMask head ${h}`));
  assertMask(last.dinoMaskMerged, r.dinoMaskMerged, `${r.image} dinoMaskMerged`);
  assertAbsolute(result.rollout!.cls, r.rollout['mean_0'], 1e-4, `${r.image} rollout mean`);
}

/** The rollouts each reference holds besides the default mean: key, head fusion, discard ratio. */
export const OTHER_ROLLOUTS = [['max_0.9', 'max', 0.9], ['min_0.5', 'min', 0.5]] as const;
/** Every rollout a reference holds. */
export const REFERENCE_ROLLOUTS = [['mean_0', 'mean', 0], ...OTHER_ROLLOUTS] as const;

/** The engine's rollouts with the other fusions and discard ratios against PyTorch's, image by image. */
export async function assertOtherRollouts(model: ModelForAnalysis, backend: Backend, results: readonly ReferenceImage[]): Promise<void> {
  for (const [key, fusion, discard] of OTHER_ROLLOUTS) {
    const analysed = await analyzeImages(model, backend, results.map((r) => imagePath(r.image)), { rolloutFusion: fusion, rolloutDiscard: discard });
    analysed.forEach((result, i) => assertAbsolute(result.rollout!.cls, results[i].rollout[key], 1e-4, `${results[i].image} rollout ${key}`));
  }
}

/**
 * Layers as the CLI's JSON reports them against PyTorch: every measure, each layer's index, and the
 * sparsity fraction as the zero count it stands for.
 */
export function assertJsonLayers(layers: readonly (MeasuredLayer & { index: number; sparsity: number })[], expected: readonly ReferenceLayer[], image: string): void {
  assertLayerMeasures(layers, expected, image);
  layers.forEach((layer, k) => {
    assert.equal(layer.index, k);
    assertZeroCount(Math.round(layer.sparsity * expected[k].istaOutput.length), expected[k], `${image} layer ${k} sparsity`);
  });
}
