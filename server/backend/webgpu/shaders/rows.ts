// Row-wise reductions in WGSL: LayerNorm and in-place softmax. Every reduction folds the row into
// ROW_LANES strided partial sums (lane l takes j = l, l + 64, ... in order), then combines the lanes
// with a fixed pairwise tree. The cooperative form runs the lanes as the threads of a workgroup (GPUs);
// the serial form runs them in a loop of one thread per row (CPU emulations, where barriers are
// costly). Both do the same arithmetic, so they give the same bits, and the pairwise tree keeps sums
// within a few ULP where a plain running sum would drift by up to n ULP.

/** Lanes per row: a power of two no larger than any adapter's maxComputeInvocationsPerWorkgroup. */
export const ROW_THREADS = 64;

type Op = 'sum' | 'max';
const combine = (op: Op, a: string, b: string) => (op === 'sum' ? `${a} + ${b}` : `max(${a}, ${b})`);
const identity = (op: Op) => (op === 'sum' ? '0.0' : '-3.402823e38');

const COOPERATIVE_PRELUDE = /* wgsl */ `
var<workgroup> red: array<f32, ${ROW_THREADS}>;

fn reduceSum(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = ${combine('sum', 'red[li]', 'red[li + s]')}; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduceMax(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = ${combine('max', 'red[li]', 'red[li + s]')}; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`;

const SERIAL_PRELUDE = /* wgsl */ `
fn treeSum(part: ptr<function, array<f32, ${ROW_THREADS}>>) -> f32 {
  for (var s = ${ROW_THREADS / 2}u; s > 0u; s = s / 2u) {
    for (var l = 0u; l < s; l = l + 1u) { (*part)[l] = ${combine('sum', '(*part)[l]', '(*part)[l + s]')}; }
  }
  return (*part)[0];
}

fn treeMax(part: ptr<function, array<f32, ${ROW_THREADS}>>) -> f32 {
  for (var s = ${ROW_THREADS / 2}u; s > 0u; s = s / 2u) {
    for (var l = 0u; l < s; l = l + 1u) { (*part)[l] = ${combine('max', '(*part)[l]', '(*part)[l + s]')}; }
  }
  return (*part)[0];
}
`;

/**
 * WGSL statements binding `out` to the reduction over j in [0, width) of the value `v` that `body`
 * computes from `j` (the body may also write to the row).
 */
function reduce(cooperative: boolean, op: Op, out: string, body: string): string {
  if (cooperative) {
    return `
  var ${out}_acc = ${identity(op)};
  for (var j = li; j < p.width; j = j + ${ROW_THREADS}u) { ${body} ${out}_acc = ${combine(op, `${out}_acc`, 'v')}; }
  let ${out} = ${op === 'sum' ? 'reduceSum' : 'reduceMax'}(li, ${out}_acc);`;
  }
  return `
  var ${out}_part: array<f32, ${ROW_THREADS}>;
  for (var l = 0u; l < ${ROW_THREADS}u; l = l + 1u) {
    var acc = ${identity(op)};
    for (var j = l; j < p.width; j = j + ${ROW_THREADS}u) { ${body} acc = ${combine(op, 'acc', 'v')}; }
    ${out}_part[l] = acc;
  }
  let ${out} = ${op === 'sum' ? 'treeSum' : 'treeMax'}(&${out}_part);`;
}

/** Each element of the row, in lanes (cooperative) or all of them (serial). */
function each(cooperative: boolean, body: string): string {
  return `
  for (var j = ${cooperative ? 'li' : '0u'}; j < p.width; j = j + ${cooperative ? `${ROW_THREADS}u` : '1u'}) { ${body} }`;
}

/** The entry point: one workgroup per row, or one thread per row; rows spread over (x, y) workgroups. */
function rowKernel(cooperative: boolean, bindings: string, body: string): string {
  const row = cooperative ? '(wg.y * nwg.x + wg.x)' : `(wg.y * nwg.x + wg.x) * ${ROW_THREADS}u + li`;
  return /* wgsl */ `${bindings}
${cooperative ? COOPERATIVE_PRELUDE : SERIAL_PRELUDE}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row = ${row};
  if (row >= p.rows) { return; }
  let base = row * p.width;
${body}
}
`;
}

/** Params: rows, width (u32), eps (f32). */
export function layerNormParams(rows: number, width: number, eps: number): ArrayBuffer {
  const buf = new ArrayBuffer(16);
  new Uint32Array(buf).set([rows, width]);
  new Float32Array(buf)[2] = eps;
  return buf;
}

const LN_BINDINGS = /* wgsl */ `
struct Params { rows: u32, width: u32, eps: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
`;

/**
 * Y = (X - mean) / sqrt(var + eps) * gamma + beta. The mean gets a second, corrective pass (the sum
 * of residuals from the first estimate): rows whose spread is small next to their mean (flat image
 * patches) turn the first sum's error into large output errors. The variance is a third pass.
 */
export function layerNormShader(cooperative: boolean): string {
  const c = cooperative;
  return rowKernel(c, LN_BINDINGS, `
  let n = f32(p.width);
  ${reduce(c, 'sum', 'total', 'let v = X[base + j];')}
  let rough = total / n;
  ${reduce(c, 'sum', 'residual', 'let v = X[base + j] - rough;')}
  let mean = rough + residual / n;
  ${reduce(c, 'sum', 'squares', 'let d = X[base + j] - mean; let v = d * d;')}
  let inv = 1.0 / sqrt(squares / n + p.eps);
  ${each(c, 'Y[base + j] = (X[base + j] - mean) * inv * gamma[j] + beta[j];')}`);
}

export function softmaxParams(rows: number, width: number): ArrayBuffer {
  return new Uint32Array([rows, width, 0, 0]).buffer;
}

// Drivers may implement exp and division to a few ULP plus |x|-dependent error (Vulkan allows
// 3 + 2|x| ULP for exp), a large share of the 1e-6 budget on attention probabilities. These
// versions stay within about 1 ULP on any conforming implementation.
const ACCURATE_MATH = /* wgsl */ `
fn expAccurate(x: f32) -> f32 {
  if (x < -104.0) { return 0.0; }
  // Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, with ln2 split so n * LN2_HI is exact.
  let n = round(x * 1.4426950408889634);
  let r = (x - n * 0.693145751953125) - n * 1.4286067653301870e-6;
  // Taylor series to r^7: truncation below 1e-8 relative on |r| <= 0.347.
  let e = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664
    + r * (0.008333333333333333 + r * (0.001388888888888889 + r * 0.0001984126984126984))))));
  return ldexp(e, i32(n));
}

fn divideAccurate(a: f32, b: f32) -> f32 {
  // One Newton correction of the quotient with its residual.
  let q = a / b;
  return q + fma(-q, b, a) / b;
}
`;

const SOFTMAX_BINDINGS = /* wgsl */ `
struct Params { rows: u32, width: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> S: array<f32>;
${ACCURATE_MATH}
`;

/** In place over rows of S: exp(s - max) / sum. */
export function softmaxShader(cooperative: boolean): string {
  const c = cooperative;
  return rowKernel(c, SOFTMAX_BINDINGS, `
  ${reduce(c, 'max', 'top', 'let v = S[base + j];')}
  ${reduce(c, 'sum', 'total', 'let v = expAccurate(S[base + j] - top); S[base + j] = v;')}
  ${each(c, 'S[base + j] = divideAccurate(S[base + j], total);')}`);
}

export function rowSquaresParams(rows: number, width: number): ArrayBuffer {
  return new Uint32Array([rows, width, 0, 0]).buffer;
}

const SQUARES_BINDINGS = /* wgsl */ `
struct Params { rows: u32, width: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
`;

/** Y[row] = sum of X[row, j]^2: the per-token norms the measures need, without reading X back. */
export function rowSquaresShader(cooperative: boolean): string {
  const c = cooperative;
  const body = `
  ${reduce(c, 'sum', 'total', 'let x = X[base + j]; let v = x * x;')}`;
  // One lane writes the row's result.
  return rowKernel(c, SQUARES_BINDINGS, `${body}
  ${c ? 'if (li == 0u) { Y[row] = total; }' : 'Y[row] = total;'}`);
}
