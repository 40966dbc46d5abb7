// Attention rollout (Abnar & Zuidema, as vit-explain implements it), CLS row only.
import { vecMat } from './linalg';

export type HeadFusion = 'mean' | 'max' | 'min';

/**
 * `fused[l]` holds layer l's head-fused attention [T, T] (at `offset`). Per layer: zero the `discard`
 * fraction of smallest entries (never entry 0), add I, renormalise rows; the product
 * a_L ... a_1 is only needed through its CLS row, so it is carried as a row vector. Returns the
 * CLS -> patch row divided by its maximum.
 */
export function rolloutCls(fused: Float32Array[], offset: number, tokens: number, discard = 0): number[] {
  const row = discard > 0 ? rolloutPrepared(fused, offset, tokens, discard) : rolloutDirect(fused, offset, tokens);
  const patches = Array.from(row.subarray(1));
  const max = Math.max(...patches);
  return patches.map((v) => (max > 0 ? v / max : 0));
}

function rolloutPrepared(fused: Float32Array[], offset: number, tokens: number, discard: number): Float64Array {
  const matrices = fused.map((f) => prepare(f, offset, tokens, discard));
  let row: Float64Array = matrices[matrices.length - 1].slice(0, tokens);
  for (let l = matrices.length - 2; l >= 0; l--) row = vecMat(row, matrices[l], tokens);
  return row;
}

/**
 * Without discarding, each layer's (A + I) / rowsum is applied to the row vector on the fly:
 * v (A + I) D^-1 row-normalised is sum_r (v_r / s_r) (A_r + e_r), with no T x T matrix built.
 */
function rolloutDirect(fused: Float32Array[], offset: number, tokens: number): Float64Array {
  const rowSum = (a: Float32Array, r: number) => {
    let s = 1;
    for (let c = 0, base = offset + r * tokens; c < tokens; c++) s += a[base + c];
    return s;
  };
  const last = fused[fused.length - 1];
  let row = new Float64Array(tokens);
  const s0 = rowSum(last, 0);
  for (let c = 0; c < tokens; c++) row[c] = (last[offset + c] + (c === 0 ? 1 : 0)) / s0;
  for (let l = fused.length - 2; l >= 0; l--) {
    const a = fused[l];
    const next = new Float64Array(tokens);
    for (let r = 0; r < tokens; r++) {
      const w = row[r] / rowSum(a, r);
      if (w === 0) continue;
      const base = offset + r * tokens;
      for (let c = 0; c < tokens; c++) next[c] += w * a[base + c];
      next[r] += w;
    }
    row = next;
  }
  return row;
}

function prepare(source: Float32Array, offset: number, tokens: number, discard: number): Float64Array {
  const size = tokens * tokens;
  const a = new Float64Array(size);
  for (let i = 0; i < size; i++) a[i] = source[offset + i];
  discardSmallest(a, discard);
  for (let r = 0; r < tokens; r++) {
    a[r * tokens + r] += 1;
    let s = 0;
    for (let c = 0; c < tokens; c++) s += a[r * tokens + c];
    for (let c = 0; c < tokens; c++) a[r * tokens + c] /= s;
  }
  return a;
}

/** Zeroes the `discard` fraction of smallest entries of a [T, T] matrix in place, never entry 0 (ties by index). */
export function discardSmallest(a: Float32Array | Float64Array, discard: number): void {
  const drop = Math.floor(a.length * discard);
  if (drop <= 0) return;
  const order = Array.from({ length: a.length }, (_, i) => i).sort((x, y) => a[x] - a[y] || x - y);
  for (let k = 0; k < drop; k++) if (order[k] !== 0) a[order[k]] = 0;
}
