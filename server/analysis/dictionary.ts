// Statistics of an ISTA dictionary D from its Gram matrix G = D^T D.

/** ||D^T D - I||_F / sqrt(dim). */
export function orthogonalityGap(gram: Float32Array, dim: number): number {
  let s = 0;
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      const v = gram[i * dim + j] - (i === j ? 1 : 0);
      s += v * v;
    }
  }
  return Math.sqrt(s / dim);
}

/**
 * Smallest and largest singular values of D: square roots of the extreme eigenvalues of G, found by
 * Lanczos with full reorthogonalisation (extreme eigenvalues converge first) and Sturm bisection.
 */
export function singularRange(gram: Float32Array, dim: number, steps = 96): { min: number; max: number } {
  const k = Math.min(dim, steps);
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let q = new Float64Array(dim);
  for (let i = 0; i < dim; i++) q[i] = 1 / Math.sqrt(dim) * (1 + 0.01 * Math.sin(i + 1));
  normalise(q);
  for (let j = 0; j < k; j++) {
    basis.push(q);
    const w = new Float64Array(dim);
    for (let r = 0; r < dim; r++) {
      let s = 0;
      const row = r * dim;
      for (let c = 0; c < dim; c++) s += gram[row + c] * q[c];
      w[r] = s;
    }
    alpha.push(dot(w, q));
    for (let pass = 0; pass < 2; pass++) for (const b of basis) axpy(w, b, -dot(w, b));
    const norm = Math.sqrt(dot(w, w));
    if (j === k - 1 || norm < 1e-12) break;
    beta.push(norm);
    q = w.map((v) => v / norm);
  }
  const eigMin = tridiagonalEigen(alpha, beta, 0);
  const eigMax = tridiagonalEigen(alpha, beta, alpha.length - 1);
  return { min: Math.sqrt(Math.max(eigMin, 0)), max: Math.sqrt(Math.max(eigMax, 0)) };
}

function dot(a: Float64Array, b: Float64Array): number { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; }
function axpy(y: Float64Array, x: Float64Array, a: number): void { for (let i = 0; i < y.length; i++) y[i] += a * x[i]; }
function normalise(v: Float64Array): void { const n = Math.sqrt(dot(v, v)); for (let i = 0; i < v.length; i++) v[i] /= n; }

/** The index-th smallest eigenvalue of the symmetric tridiagonal matrix (alpha diagonal, beta off-diagonal). */
function tridiagonalEigen(alpha: number[], beta: number[], index: number): number {
  const n = alpha.length;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.abs(beta[i - 1]) : 0) + (i < n - 1 ? Math.abs(beta[i]) : 0);
    lo = Math.min(lo, alpha[i] - r);
    hi = Math.max(hi, alpha[i] + r);
  }
  // Number of eigenvalues below x, by the Sturm sequence of LDL^T pivots.
  const below = (x: number) => {
    let count = 0, d = 1;
    for (let i = 0; i < n; i++) {
      d = alpha[i] - x - (i > 0 ? (beta[i - 1] * beta[i - 1]) / d : 0);
      if (d === 0) d = -1e-300;
      if (d < 0) count++;
    }
    return count;
  };
  for (let iter = 0; iter < 200 && hi - lo > 1e-14 * Math.max(1, Math.abs(hi)); iter++) {
    const mid = 0.5 * (lo + hi);
    if (below(mid) > index) hi = mid; else lo = mid;
  }
  return 0.5 * (lo + hi);
}
