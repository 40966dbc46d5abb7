// Small float64 linear algebra helpers for the measures (the tensors themselves stay float32).

/** log det(M) of a symmetric positive definite n x n matrix by Cholesky; M is consumed. */
export function logDetSpd(m: Float64Array, n: number): number {
  let logDet = 0;
  for (let j = 0; j < n; j++) {
    let d = m[j * n + j];
    for (let k = 0; k < j; k++) d -= m[j * n + k] * m[j * n + k];
    if (!(d > 0)) throw new Error('matrix is not positive definite');
    const ljj = Math.sqrt(d);
    m[j * n + j] = ljj;
    logDet += 2 * Math.log(ljj);
    for (let i = j + 1; i < n; i++) {
      let s = m[i * n + j];
      for (let k = 0; k < j; k++) s -= m[i * n + k] * m[j * n + k];
      m[i * n + j] = s / ljj;
    }
  }
  return logDet;
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
