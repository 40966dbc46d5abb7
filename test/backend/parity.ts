// Compares two backends' forward captures field by field with crate-math's tolerances, and keeps the
// largest differences so a test can report how close they came.
import type { ForwardCapture, LayerCapture } from '../../server/backend/types';
import { assertAbsolute, assertActivations } from '../golden/reference';

const ATTENTION: (keyof LayerCapture)[] = ['attnCls', 'attnMean', 'attnMax', 'attnMin'];
const ACTIVATIONS = ['inputSq', 'residualSq', 'stepSq', 'driveSq', 'gram'] as const;

export interface Parity {
  /** Largest |a - b| over attention probabilities. */
  attention: number;
  /** Largest |a - b| / max|b| over activations, qkv features and logits. */
  activations: number;
  /** Largest relative difference of reconstructionError, istaResidual and codingRate (PyTorch comparisons only). */
  measures: number;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbs(a, b) / (scale || 1);
}

export function mergeParity(a: Parity, b: Parity): Parity {
  return { attention: Math.max(a.attention, b.attention), activations: Math.max(a.activations, b.activations), measures: Math.max(a.measures, b.measures) };
}

export const NO_DIFFERENCE: Parity = { attention: 0, activations: 0, measures: 0 };

/**
 * Asserts `actual` equals `expected` within tolerance, per layer and field, and returns the largest
 * differences. `attentionTolerance` is absolute; between two backends that each meet crate-math's
 * 1e-6 against PyTorch (the CPU graph folds the ISTA products, the WebGPU kernels do not), the bound
 * that follows is 2e-6.
 */
export function compareCaptures(actual: ForwardCapture, expected: ForwardCapture, what: string, attentionTolerance = 2e-6): Parity {
  let parity = { ...NO_DIFFERENCE };
  if (actual.batch !== expected.batch) throw new Error(`${what}: batch ${actual.batch} vs ${expected.batch}`);
  if (actual.layers.length !== expected.layers.length) throw new Error(`${what}: ${actual.layers.length} layers vs ${expected.layers.length}`);
  const act = (a: ArrayLike<number>, e: ArrayLike<number>, where: string) => {
    assertActivations(a, e, where);
    parity = mergeParity(parity, { ...NO_DIFFERENCE, activations: relative(a, e) });
  };
  act(actual.logits, expected.logits, `${what} logits`);
  act(actual.patchGram, expected.patchGram, `${what} patchGram`);
  actual.layers.forEach((layer, l) => {
    for (const key of ATTENTION) {
      assertAbsolute(layer[key]!, expected.layers[l][key]!, attentionTolerance, `${what} layer ${l} ${key}`);
      parity = mergeParity(parity, { ...NO_DIFFERENCE, attention: maxAbs(layer[key]!, expected.layers[l][key]!) });
    }
    for (const key of ACTIVATIONS) act(layer[key]!, expected.layers[l][key]!, `${what} layer ${l} ${key}`);
    // The ISTA input and output are compared where both backends captured them.
    for (const key of ['istaInput', 'istaOutput'] as const) {
      const a = layer[key], e = expected.layers[l][key];
      if (a && e) act(a, e, `${what} layer ${l} ${key}`);
    }
  });
  return parity;
}

export function exactlyEqual(actual: ForwardCapture, expected: ForwardCapture): boolean {
  const same = (a: Float32Array | Uint8Array, b: Float32Array | Uint8Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  return same(actual.logits, expected.logits) && same(actual.patchGram, expected.patchGram)
    && actual.layers.every((layer, l) => (Object.keys(layer) as (keyof LayerCapture)[]).every((k) => !!expected.layers[l][k] && same(layer[k]!, expected.layers[l][k]!)));
}

export function formatParity(p: Parity): string {
  const measures = p.measures > 0 ? `, measures max relative diff ${p.measures.toExponential(2)}` : '';
  return `attention max |diff| ${p.attention.toExponential(2)}, activations max |diff|/max|x| ${p.activations.toExponential(2)}${measures}`;
}
