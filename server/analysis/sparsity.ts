// Sparsity of the ISTA output: exact zeros, their spread over tokens, and the value histogram.

export interface ValueHistogram {
  /** Upper edge of the last bin; bins split (0, max] evenly. Zeros are counted apart. */
  max: number;
  counts: number[];
  zeros: number;
}

export interface SparsityStats {
  zeroCount: number;
  sparsity: number;
  /** Zero entries of each token's code (T values, CLS first). */
  zerosPerToken: number[];
  histogram: ValueHistogram;
}

export const HISTOGRAM_BINS = 32;

/** `code` holds [T, dim] for one image starting at `offset`. */
export function sparsityStats(code: Float32Array, offset: number, tokens: number, dim: number, bins = HISTOGRAM_BINS): SparsityStats {
  const zerosPerToken = new Array<number>(tokens).fill(0);
  let max = 0;
  for (let t = 0; t < tokens; t++) {
    const base = offset + t * dim;
    for (let i = 0; i < dim; i++) {
      const v = code[base + i];
      if (v === 0) zerosPerToken[t]++;
      else if (v > max) max = v;
    }
  }
  const counts = new Array<number>(bins).fill(0);
  if (max > 0) {
    for (let i = offset, end = offset + tokens * dim; i < end; i++) {
      const v = code[i];
      if (v !== 0) counts[Math.min(bins - 1, Math.floor((v / max) * bins))]++;
    }
  }
  const zeroCount = zerosPerToken.reduce((a, b) => a + b, 0);
  return { zeroCount, sparsity: zeroCount / (tokens * dim), zerosPerToken, histogram: { max, counts, zeros: zeroCount } };
}
