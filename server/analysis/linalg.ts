// Small float64 linear algebra helpers for the measures (the tensors themselves stay float32).

/** log det(M) of a symmetric positive definite n x n matrix by Cholesky; M is consumed. */
export function logDetSpd(m: Float64Array, n: number): number {
  let logDet = 0;
  for (let j = 0; j < n; j++) {
    const d = m[j * n + j] - rowDot(m, j * n, j * n, j);
    if (!(d > 0)) throw new Error('matrix is not positive definite');
    const ljj = Math.sqrt(d);
    m[j * n + j] = ljj;
    logDet += 2 * Math.log(ljj);
    for (let i = j + 1; i < n; i++) m[i * n + j] = (m[i * n + j] - rowDot(m, i * n, j * n, j)) / ljj;
  }
  return logDet;
}

/** sum_k<len m[a + k] m[b + k], in four running sums: one chain of dependent adds is latency-bound. */
function rowDot(m: Float64Array, a: number, b: number, len: number): number {
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

/** Row vector times matrix: out = v M for M of shape [n, n]. */
export function vecMat(v: Float64Array, m: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const vi = v[i];
    if (vi === 0) continue;
    const row = i * n;
    for (let j = 0; j < n; j++) out[j] += vi * m[row + j];
  }
  return out;
}
