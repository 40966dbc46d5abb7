// CLS attention maps: per-head rows, heads merged, and DINO-style threshold masks.

/** Per head, the CLS row over all T tokens (t = 0 is CLS itself). `attnCls` holds [heads, T] at `offset`. */
export function clsRows(attnCls: Float32Array, offset: number, heads: number, tokens: number): number[][] {
  const rows: number[][] = [];
  for (let h = 0; h < heads; h++) rows.push(Array.from(attnCls.subarray(offset + h * tokens, offset + (h + 1) * tokens)));
  return rows;
}

/** Mean over heads of the CLS -> patch attention (CLS column dropped): the heatmap of merged heads. */
export function mergedPatchAttention(rows: number[][]): number[] {
  const n = rows[0].length - 1;
  const out = new Array<number>(n).fill(0);
  for (const row of rows) for (let i = 0; i < n; i++) out[i] += row[i + 1] / rows.length;
  return out;
}

/**
 * DINO's mask: sort ascending, normalise to sum 1, cumulative sum, keep patches whose cumsum exceeds
 * 1 - threshold, i.e. the smallest set of patches holding `threshold` of the attention mass.
 */
export function dinoMask(patchAttention: ArrayLike<number>, threshold = 0.6): number[] {
  const n = patchAttention.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += patchAttention[i];
  // The ascending walk of a stable argsort, without sorting indices: a native sort of the values, the
  // first position whose running share exceeds 1 - threshold, then every later position kept.
  const sorted = Float64Array.from(patchAttention).sort();
  let cumulative = 0;
  let cut = n;
  for (let i = 0; i < n; i++) {
    cumulative += sorted[i] / total;
    if (cumulative > 1 - threshold) { cut = i; break; }
  }
  const mask = new Array<number>(n).fill(0);
  if (cut === n) return mask;
  const cutoff = sorted[cut];
  // Values equal to the cutoff sit in index order in a stable sort: the first `skip` of them fall before it.
  let skip = 0;
  while (cut - skip - 1 >= 0 && sorted[cut - skip - 1] === cutoff) skip++;
  for (let i = 0; i < n; i++) {
    const v = patchAttention[i];
    if (v > cutoff) mask[i] = 1;
    else if (v === cutoff) { if (skip > 0) skip--; else mask[i] = 1; }
  }
  return mask;
}
