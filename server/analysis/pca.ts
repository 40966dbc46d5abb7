// PCA of the last layer's patch features: 3 components per patch, scaled to [0, 1] for an RGB map.

/**
 * The patch-by-patch Gram matrix C C^T of the centred features (N x N, cheaper than width x width),
 * for backends that read the features back: `features` holds [T, width] for one image at `offset`,
 * the CLS row is skipped.
 */
export function centredPatchGram(features: Float32Array, offset: number, tokens: number, width: number): Float32Array {
  const n = tokens - 1;
  const centred = new Float64Array(n * width);
  const mean = new Float64Array(width);
  for (let t = 0; t < n; t++) for (let j = 0; j < width; j++) mean[j] += features[offset + (t + 1) * width + j] / n;
  for (let t = 0; t < n; t++) for (let j = 0; j < width; j++) centred[t * width + j] = features[offset + (t + 1) * width + j] - mean[j];
  const gram = new Float32Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let j = 0; j < width; j++) s += centred[a * width + j] * centred[b * width + j];
      gram[a * n + b] = s;
      gram[b * n + a] = s;
    }
  }
  return gram;
}

/**
 * `gram` holds one image's N x N patch Gram matrix at `offset`. Scores of patch t on component c are
 * sqrt(lambda_c) u_c[t]; each component's sign is fixed so its largest-magnitude score is positive,
 * then each is scaled to [0, 1]. Returns N rows of `components` values.
 */
export function pcaFromGram(gram: Float32Array, offset: number, n: number, components = 3): number[][] {
  const m = new Float64Array(n * n);
  // Symmetrise: float32 products can differ in the last bit across the diagonal.
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) m[a * n + b] = 0.5 * (gram[offset + a * n + b] + gram[offset + b * n + a]);
  const { values, vectors } = topEigenpairs(m, n, components);
  const normalised = vectors.map((u, c) => {
    const scale = Math.sqrt(Math.max(values[c], 0));
    const s = u.map((v) => v * scale);
    let extreme = 0;
    for (const v of s) if (Math.abs(v) > Math.abs(extreme)) extreme = v;
    if (extreme < 0) for (let i = 0; i < n; i++) s[i] = -s[i];
    let lo = Infinity, hi = -Infinity;
    for (const v of s) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return Array.from(s, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5));
  });
  return Array.from({ length: n }, (_, t) => normalised.map((s) => s[t]));
}

const LANCZOS_STEPS = 24;

/**
 * The `k` largest eigenpairs of a symmetric n x n matrix by Lanczos with full reorthogonalisation
 * (exact when n <= LANCZOS_STEPS; for larger n the top of a feature spectrum converges long before),
 * then Jacobi on the small projected matrix. Missing components (rank below k) come back as zeros.
 */
export function topEigenpairs(m: Float64Array, n: number, k: number): { values: number[]; vectors: Float64Array[] } {
  const basis: Float64Array[] = [];
  let q = new Float64Array(n);
  // A fixed, non-degenerate start keeps the result deterministic.
  for (let i = 0; i < n; i++) q[i] = 1 + ((i * 7919) % 97) / 97;
  scale(q, 1 / norm(q));
  let scaleOfM = 0;
  for (let i = 0; i < n * n; i++) scaleOfM = Math.max(scaleOfM, Math.abs(m[i]));
  const mq: Float64Array[] = [];
  for (let step = 0; step < Math.min(n, LANCZOS_STEPS); step++) {
    basis.push(q);
    const w = new Float64Array(n);
    for (let a = 0; a < n; a++) {
      let s = 0;
      const row = a * n;
      for (let b = 0; b < n; b++) s += m[row + b] * q[b];
      w[a] = s;
    }
    mq.push(w.slice());
    // Twice is enough to keep the basis orthogonal to working precision.
    for (let pass = 0; pass < 2; pass++) for (const v of basis) axpy(w, v, -dot(w, v));
    const length = norm(w);
    if (!(length > 1e-12 * Math.max(scaleOfM, 1e-300) * n)) break; // an invariant subspace: exact
    q = w;
    scale(q, 1 / length);
  }
  // Projected matrix H = Q^T M Q from the products already made (exact to rounding, unlike the
  // recurrence's tridiagonal).
  const r = basis.length;
  const h = new Float64Array(r * r);
  for (let i = 0; i < r; i++) for (let j = i; j < r; j++) h[i * r + j] = h[j * r + i] = dot(basis[i], mq[j]);
  const { values, vectors } = jacobiEigen(h, r);
  const order = Array.from({ length: r }, (_, i) => i).sort((a, b) => values[b] - values[a]);
  const out = { values: [] as number[], vectors: [] as Float64Array[] };
  for (let c = 0; c < k; c++) {
    const i = order[c];
    if (i === undefined) { out.values.push(0); out.vectors.push(new Float64Array(n)); continue; }
    const v = new Float64Array(n);
    for (let j = 0; j < r; j++) axpy(v, basis[j], vectors[j * r + i]);
    out.values.push(values[i]);
    out.vectors.push(v);
  }
  return out;
}

/** Eigenvalues and column eigenvectors of a small symmetric matrix by cyclic Jacobi rotations; `a` is consumed. */
export function jacobiEigen(a: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] ** 2;
      for (let j = i + 1; j < n; j++) off += a[i * n + j] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let i = 0; i < n; i++) {
          const aip = a[i * n + p], aiq = a[i * n + q];
          a[i * n + p] = c * aip - s * aiq;
          a[i * n + q] = s * aip + c * aiq;
        }
        for (let i = 0; i < n; i++) {
          const api = a[p * n + i], aqi = a[q * n + i];
          a[p * n + i] = c * api - s * aqi;
          a[q * n + i] = s * api + c * aqi;
        }
        for (let i = 0; i < n; i++) {
          const vip = v[i * n + p], viq = v[i * n + q];
          v[i * n + p] = c * vip - s * viq;
          v[i * n + q] = s * vip + c * viq;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(y: Float64Array, x: Float64Array, alpha: number): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

function norm(a: Float64Array): number { return Math.sqrt(dot(a, a)); }

function scale(a: Float64Array, f: number): void { for (let i = 0; i < a.length; i++) a[i] *= f; }
