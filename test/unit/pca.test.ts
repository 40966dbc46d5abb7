import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { centredPatchGram, jacobiEigen, pcaFromGram, topEigenpairs } from '../../server/analysis/pca';

function rng(seed: number): () => number {
  let s = seed;
  return () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x7fffffff - 0.5; };
}

/** [tokens, width] features: a few strong directions plus noise, like a transformer layer's. */
function features(tokens: number, width: number, rank: number, noise: number, seed: number): Float32Array {
  const r = rng(seed);
  const basis = Array.from({ length: rank }, () => Array.from({ length: width }, r));
  const out = new Float32Array(tokens * width);
  for (let t = 0; t < tokens; t++) {
    const coeffs = basis.map((_, k) => r() * 10 / (k + 1));
    for (let j = 0; j < width; j++) out[t * width + j] = coeffs.reduce((s, c, k) => s + c * basis[k][j], 0) + noise * r();
  }
  return out;
}

function toF64(g: Float32Array): Float64Array { return Float64Array.from(g); }

describe('PCA of patch features', () => {
  for (const tokens of [17, 65, 197]) {
    it(`finds the top eigenpairs of a ${tokens - 1}-patch Gram matrix as a full decomposition does`, () => {
      const n = tokens - 1;
      const gram = centredPatchGram(features(tokens, 96, 6, 0.3, tokens), 0, tokens, 96);
      const full = jacobiEigen(toF64(gram), n);
      const order = full.values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
      const top = topEigenpairs(toF64(gram), n, 3);
      for (let c = 0; c < 3; c++) {
        const [value, index] = order[c];
        assert.ok(Math.abs(top.values[c] - value) <= 1e-9 * order[0][0], `eigenvalue ${c}: ${top.values[c]} vs ${value}`);
        let dot = 0;
        for (let i = 0; i < n; i++) dot += top.vectors[c][i] * full.vectors[i * n + index];
        assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-8, `eigenvector ${c}: |cos| = ${Math.abs(dot)}`);
      }
    });
  }

  it('maps each patch to three components in [0, 1] with the sign fixed by the largest score', () => {
    const tokens = 50;
    const f = features(tokens, 32, 4, 0.1, 7);
    const map = pcaFromGram(centredPatchGram(f, 0, tokens, 32), 0, tokens - 1);
    assert.equal(map.length, tokens - 1);
    for (const row of map) for (const v of row) assert.ok(v >= 0 && v <= 1);
    // Negating every feature flips each component's scores; the sign rule gives the same map.
    const negated = pcaFromGram(centredPatchGram(f.map((v) => -v), 0, tokens, 32), 0, tokens - 1);
    map.forEach((row, t) => row.forEach((v, c) => assert.ok(Math.abs(v - negated[t][c]) < 1e-6)));
  });

  it('survives a rank below the number of components', () => {
    const tokens = 30;
    const map = pcaFromGram(centredPatchGram(features(tokens, 16, 1, 0, 3), 0, tokens, 16), 0, tokens - 1);
    for (const row of map) for (const v of row) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1);
    const constant = pcaFromGram(new Float32Array(16 * 16), 0, 16);
    for (const row of constant) assert.deepEqual(row, [0.5, 0.5, 0.5]);
  });
});
