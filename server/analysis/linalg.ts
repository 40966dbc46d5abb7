// Small float64 linear algebra helpers for the measures (the tensors themselves stay float32).

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
