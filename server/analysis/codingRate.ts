// Coding rate of one layer's qkv features, as CRATE's vis_utils/coding_rate.py defines it.
import { logDetSpd } from './linalg';

/**
 * sum_k 1/2 logdet(I_T + c X_k X_k^T), c = p / (T * eps^2), eps^2 = 0.01, computed through the equal
 * p x p form logdet(I_p + c X_k^T X_k) from the per-head Gram matrices of unit-norm token rows.
 * `gram` holds [heads, p, p] for one image.
 */
export function codingRate(gram: Float32Array, offset: number, heads: number, p: number, tokens: number): number {
  const c = p / (tokens * 0.01);
  let total = 0;
  for (let h = 0; h < heads; h++) {
    const m = new Float64Array(p * p);
    const base = offset + h * p * p;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        // Symmetrise: the float32 Gram can differ in the last bit across the diagonal.
        const g = 0.5 * (gram[base + i * p + j] + gram[base + j * p + i]);
        m[i * p + j] = c * g + (i === j ? 1 : 0);
      }
    }
    total += 0.5 * logDetSpd(m, p);
  }
  return total;
}
