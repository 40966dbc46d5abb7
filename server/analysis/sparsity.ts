// Sparsity of the ISTA output: exact zeros, their spread over tokens, and the value histogram.
import type { LayerCapture } from '../backend/types';

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

/**
 * A layer's sparse code as a backend returned it: the values themselves, or what the backend counted
 * of them (zeros per token, largest value per image, each value's bin).
 */
export type CodeSource = Pick<LayerCapture, 'istaOutput' | 'codeBins' | 'zerosPerToken' | 'codeMax'>;

/**
 * Image `image`'s code, [T, dim]. A positive value v falls in bin min(floor(v * s), bins - 1) with
 * bins = HISTOGRAM_BINS and s = bins / max, both products rounded to float32 (the CPU graph counts
 * bins in float32; this reproduces them bit for bit from the values).
 */
export function sparsityStats(source: CodeSource, image: number, tokens: number, dim: number): SparsityStats {
  const size = tokens * dim;
  const offset = image * size;
  const values = source.istaOutput;
  const counted = source.zerosPerToken && source.codeMax
    ? { zerosPerToken: Array.from(source.zerosPerToken.subarray(image * tokens, (image + 1) * tokens)), max: source.codeMax[image] }
    : countCode(values!, offset, tokens, dim);
  const { zerosPerToken, max } = counted;
  const zeroCount = zerosPerToken.reduce((a, b) => a + b, 0);
  const counts = source.codeBins ? countBins(source.codeBins, offset, size) : binValues(values!, offset, size, max);
  // Zeros fall in bin 0 (both ways above); they are reported apart.
  counts[0] -= zeroCount;
  return { zeroCount, sparsity: zeroCount / size, zerosPerToken, histogram: { max, counts: Array.from(counts), zeros: zeroCount } };
}

function countBins(binOf: Uint8Array, offset: number, size: number): Int32Array {
  const bins = HISTOGRAM_BINS;
  // Four interleaved tallies: runs of equal bins (zeros) would otherwise wait on one counter's store.
  const tallies = new Int32Array(4 * bins);
  let i = offset;
  const end = offset + size;
  for (; i + 3 < end; i += 4) {
    tallies[binOf[i] * 4]++;
    tallies[binOf[i + 1] * 4 + 1]++;
    tallies[binOf[i + 2] * 4 + 2]++;
    tallies[binOf[i + 3] * 4 + 3]++;
  }
  for (; i < end; i++) tallies[binOf[i] * 4]++;
  const counts = new Int32Array(bins);
  for (let b = 0; b < bins; b++) counts[b] = tallies[4 * b] + tallies[4 * b + 1] + tallies[4 * b + 2] + tallies[4 * b + 3];
  return counts;
}

function binValues(code: Float32Array, offset: number, size: number, max: number): Int32Array {
  const bins = HISTOGRAM_BINS;
  const counts = new Int32Array(bins);
  const scale = max > 0 ? Math.fround(bins / max) : 0;
  for (let i = offset, end = offset + size; i < end; i++) {
    const bin = Math.floor(Math.fround(code[i] * scale));
    counts[bin < bins ? bin : bins - 1]++;
  }
  return counts;
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
