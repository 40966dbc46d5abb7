import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orthogonalityGap, singularRange } from '../../server/analysis/dictionary';

/** D = H1 diag(s) H2 with Householder reflections H, so D's singular values are exactly s. */
function dictionaryWithSingularValues(s: number[]): Float32Array {
  const n = s.length;
  const reflect = (seed: number) => {
    const v = Array.from({ length: n }, (_, i) => Math.sin(seed * (i + 1)) + 0.1);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const u = reflect(1.7), w = reflect(2.9);
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const h1 = (i === k ? 1 : 0) - 2 * u[i] * u[k];
      const h2 = (k === j ? 1 : 0) - 2 * w[k] * w[j];
      sum += h1 * s[k] * h2;
    }
    d[i * n + j] = sum;
  }
  const gram = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += d[k * n + i] * d[k * n + j];
    gram[i * n + j] = sum;
  }
  return gram;
}

describe('dictionary statistics', () => {
  for (const n of [16, 150]) {
    it(`recovers the singular value range of a ${n}-wide dictionary`, () => {
      const s = Array.from({ length: n }, (_, i) => 0.3 + (2.2 * i) / (n - 1));
      const gram = dictionaryWithSingularValues(s);
      const { min, max } = singularRange(gram, n);
      assert.ok(Math.abs(min - 0.3) < 1e-3, `min ${min}`);
      assert.ok(Math.abs(max - 2.5) < 1e-3, `max ${max}`);
      const expectedGap = Math.sqrt(s.reduce((a, v) => a + (v * v - 1) ** 2, 0) / n);
      assert.ok(Math.abs(orthogonalityGap(gram, n) - expectedGap) < 1e-4 * expectedGap);
    });
  }

  it('gives gap 0 and unit singular values for an orthogonal dictionary', () => {
    const gram = dictionaryWithSingularValues(new Array(32).fill(1));
    assert.ok(orthogonalityGap(gram, 32) < 1e-5);
    const { min, max } = singularRange(gram, 32);
    assert.ok(Math.abs(min - 1) < 1e-5 && Math.abs(max - 1) < 1e-5);
  });
});
