// PCA of the last layer's patch features: 3 components per patch, scaled to [0, 1] for an RGB map.

/**
 * `features` holds [T, width] for one image at `offset`; the CLS row is skipped. Components come from
 * the patch-by-patch Gram matrix of the centred features (N x N, cheaper than width x width), by power
 * iteration with deflation. Each component's sign is fixed so its largest-magnitude score is positive.
 */
export function pcaMap(features: Float32Array, offset: number, tokens: number, width: number, components = 3): number[][] {
  const n = tokens - 1;
  const centred = new Float64Array(n * width);
  const mean = new Float64Array(width);
  for (let t = 0; t < n; t++) for (let j = 0; j < width; j++) mean[j] += features[offset + (t + 1) * width + j] / n;
  for (let t = 0; t < n; t++) for (let j = 0; j < width; j++) centred[t * width + j] = features[offset + (t + 1) * width + j] - mean[j];
  const gram = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let j = 0; j < width; j++) s += centred[a * width + j] * centred[b * width + j];
      gram[a * n + b] = s;
      gram[b * n + a] = s;
    }
  }
  const scores: Float64Array[] = [];
  for (let c = 0; c < components; c++) {
    const { vector, value } = topEigen(gram, n, c);
    // Scores of patch t on this component: sqrt(lambda) * u_t.
    const scale = Math.sqrt(Math.max(value, 0));
    const s = vector.map((u) => u * scale);
    let extreme = 0;
    for (const v of s) if (Math.abs(v) > Math.abs(extreme)) extreme = v;
    if (extreme < 0) for (let i = 0; i < n; i++) s[i] = -s[i];
    scores.push(s);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) gram[a * n + b] -= value * vector[a] * vector[b];
  }
  const normalised = scores.map((s) => {
    let lo = Infinity, hi = -Infinity;
    for (const v of s) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return Array.from(s, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5));
  });
  return Array.from({ length: n }, (_, t) => normalised.map((s) => s[t]));
}

function topEigen(m: Float64Array, n: number, seed: number): { vector: Float64Array; value: number } {
  let v = new Float64Array(n);
  // A fixed, non-degenerate start keeps the result deterministic.
  for (let i = 0; i < n; i++) v[i] = 1 + ((i * 7919 + seed * 104729) % 97) / 97;
  let value = 0;
  for (let iter = 0; iter < 500; iter++) {
    const w = new Float64Array(n);
    for (let a = 0; a < n; a++) {
      let s = 0;
      for (let b = 0; b < n; b++) s += m[a * n + b] * v[b];
      w[a] = s;
    }
    const norm = Math.hypot(...w);
    if (norm === 0) return { vector: v.map(() => 0), value: 0 };
    for (let i = 0; i < n; i++) w[i] /= norm;
    let delta = 0;
    for (let i = 0; i < n; i++) delta = Math.max(delta, Math.abs(Math.abs(w[i]) - Math.abs(v[i])));
    v = w;
    value = norm;
    if (delta < 1e-10) break;
  }
  return { vector: v, value };
}
