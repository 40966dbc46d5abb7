// Row-wise reductions in WGSL, one workgroup per row: LayerNorm and in-place softmax.
// Each thread folds a strided slice in index order, then a fixed tree combines the threads:
// the same input always gives the same bits.

/** Threads per row; a power of two no larger than any adapter's maxComputeInvocationsPerWorkgroup. */
export const ROW_THREADS = 64;

/** Rows are spread over (x, y) workgroups: x alone is capped at maxComputeWorkgroupsPerDimension. */
const ROW_PRELUDE = /* wgsl */ `
const WG = ${ROW_THREADS}u;
var<workgroup> red: array<f32, WG>;

fn rowIndex(wg: vec3u, nwg: vec3u) -> u32 { return wg.y * nwg.x + wg.x; }

fn reduceSum(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = red[li] + red[li + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduceMax(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = max(red[li], red[li + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`;

/** Params: rows, width (u32), eps (f32). */
export function layerNormParams(rows: number, width: number, eps: number): ArrayBuffer {
  const buf = new ArrayBuffer(16);
  new Uint32Array(buf).set([rows, width]);
  new Float32Array(buf)[2] = eps;
  return buf;
}

/** Y = (X - mean) / sqrt(var + eps) * gamma + beta, mean and variance in two passes. */
export const LAYER_NORM_SHADER = /* wgsl */ `
struct Params { rows: u32, width: u32, eps: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
${ROW_PRELUDE}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row = rowIndex(wg, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.width;
  let n = f32(p.width);
  var s = 0.0;
  for (var j = li; j < p.width; j = j + WG) { s = s + X[base + j]; }
  let mean = reduceSum(li, s) / n;
  var q = 0.0;
  for (var j = li; j < p.width; j = j + WG) { let d = X[base + j] - mean; q = q + d * d; }
  let inv = 1.0 / sqrt(reduceSum(li, q) / n + p.eps);
  for (var j = li; j < p.width; j = j + WG) {
    Y[base + j] = (X[base + j] - mean) * inv * gamma[j] + beta[j];
  }
}
`;

export function softmaxParams(rows: number, width: number): ArrayBuffer {
  return new Uint32Array([rows, width, 0, 0]).buffer;
}

/** In place over rows of S: exp(s - max) / sum. */
export const SOFTMAX_SHADER = /* wgsl */ `
struct Params { rows: u32, width: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> S: array<f32>;
${ROW_PRELUDE}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row = rowIndex(wg, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.width;
  var m = -3.402823e38;
  for (var j = li; j < p.width; j = j + WG) { m = max(m, S[base + j]); }
  let top = reduceMax(li, m);
  var s = 0.0;
  for (var j = li; j < p.width; j = j + WG) { let e = exp(S[base + j] - top); S[base + j] = e; s = s + e; }
  let total = reduceSum(li, s);
  for (var j = li; j < p.width; j = j + WG) { S[base + j] = S[base + j] / total; }
}
`;
