// Coding rate of one layer's qkv features, as CRATE's vis_utils/coding_rate.py defines it.

/** Reused between calls: a fresh p x p float64 matrix per head showed up in profiles. */
let scratch = new Float64Array(0);

/**
 * sum_k 1/2 logdet(I_T + c X_k X_k^T), c = p / (T * eps^2), eps^2 = 0.01, computed through the equal
 * p x p form logdet(I_p + c X_k^T X_k) from the per-head Gram matrices of unit-norm token rows.
 * `gram` holds [heads, p, p] for one image.
 */
export function codingRate(gram: Float32Array, offset: number, heads: number, p: number, tokens: number): number {
  const c = p / (tokens * 0.01);
  if (scratch.length < p * p) scratch = new Float64Array(p * p);
  const m = scratch;
  let total = 0;
  for (let h = 0; h < heads; h++) {
    const base = offset + h * p * p;
    // The lower triangle of I + c G, G symmetrised: the float32 Gram can differ in the last bit across the diagonal.
    for (let i = 0; i < p; i++) {
      for (let j = 0; j <= i; j++) m[i * p + j] = c * (0.5 * (gram[base + i * p + j] + gram[base + j * p + i])) + (i === j ? 1 : 0);
    }
    // 1/2 logdet = sum log L_jj of the Cholesky factor L, built in place over the lower triangle.
    total += choleskyLogDiagonal(m, p);
  }
  return total;
}

/** sum_j log L_jj for the Cholesky factor of the SPD matrix whose lower triangle `m` holds (row-major, overwritten). */
function choleskyLogDiagonal(m: Float64Array, n: number): number {
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    const d = m[rj + j] - dot(m, rj, rj, j);
    if (!(d > 0)) throw new Error('matrix is not positive definite');
    const ljj = Math.sqrt(d);
    m[rj + j] = ljj;
    sum += Math.log(ljj);
    for (let i = j + 1; i < n; i++) m[i * n + j] = (m[i * n + j] - dot(m, i * n, rj, j)) / ljj;
  }
  return sum;
}

/** sum_k<len m[a + k] m[b + k], in four running sums: one chain of dependent adds is latency-bound. */
function dot(m: Float64Array, a: number, b: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += m[a + k] * m[b + k];
    s1 += m[a + k + 1] * m[b + k + 1];
    s2 += m[a + k + 2] * m[b + k + 2];
    s3 += m[a + k + 3] * m[b + k + 3];
  }
  for (; k < len; k++) s0 += m[a + k] * m[b + k];
  return (s0 + s1) + (s2 + s3);
}
