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

/** Zeros per token and the largest value of a code, when the backend has counted them already. */
export interface CodeCounts { zerosPerToken: ArrayLike<number>; max: number }

/** `code` holds [T, dim] for one image starting at `offset`. */
export function sparsityStats(code: Float32Array, offset: number, tokens: number, dim: number, counted?: CodeCounts, bins = HISTOGRAM_BINS): SparsityStats {
  const { zerosPerToken, max } = counted ? { zerosPerToken: Array.from(counted.zerosPerToken), max: counted.max } : countCode(code, offset, tokens, dim);
  const zeroCount = zerosPerToken.reduce((a, b) => a + b, 0);
  const counts = new Int32Array(bins);
  if (max > 0) {
    for (let i = offset, end = offset + tokens * dim; i < end; i++) {
      const v = code[i];
      // floor((v / max) * bins) for the positive values of a ReLU output; zeros add nothing.
      const bin = ((v / max) * bins) | 0;
      counts[bin < bins ? bin : bins - 1] += v !== 0 ? 1 : 0;
    }
  }
  return { zeroCount, sparsity: zeroCount / (tokens * dim), zerosPerToken, histogram: { max, counts: Array.from(counts), zeros: zeroCount } };
}

function countCode(code: Float32Array, offset: number, tokens: number, dim: number): { zerosPerToken: number[]; max: number } {
  const zerosPerToken = new Array<number>(tokens);
  let max = 0;
  for (let t = 0; t < tokens; t++) {
    let zeros = 0;
    for (let i = offset + t * dim, end = i + dim; i < end; i++) {
      const v = code[i];
      zeros += v === 0 ? 1 : 0;
      max = v > max ? v : max;
    }
    zerosPerToken[t] = zeros;
  }
  return { zerosPerToken, max };
}
