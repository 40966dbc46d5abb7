// Reads the PyTorch reference fixtures and compares engine output with the crate-math tolerances.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
