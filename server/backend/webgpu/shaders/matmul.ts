// Batched, strided matrix product C = alpha * A B (+ bias) (+/- residual) in WGSL.
// Strides make one kernel serve x W^T (torch Linear), per-head scores w w^T, A w, X^T X and x D / x D^T
// without transposing anything in memory. Each output sums k in blocks of TK: fma in k order within a
// block, then the block's sum is added to the total (error grows with K / TK + TK, not K). The order is
// fixed, so a value depends only on its own row and column, never on the batch or the kernel variant.

/** Which index of an operand is contiguous in memory: decides how threads load tiles (coalescing). */
export interface MatmulVariant {
  /** A(m, k): 'k' for row-major activations, 'm' for a transposed view. */
  a: 'k' | 'm';
  /** B(k, n): 'k' for a torch weight [n, k] or keys, 'n' for a row-major [k, n] matrix. */
  b: 'k' | 'n';
  bias: boolean;
  /** C = R + result, or C = R - result, R laid out as C. */
  residual: 'none' | 'add' | 'subtract';
}

/**
 * Threads per workgroup side; each thread computes RM x RN outputs. `tiled` stages operands in
 * workgroup memory (fast on GPUs); without it each thread reads global memory directly, which CPU
 * emulations (SwiftShader, lavapipe) run many times faster because they pay dearly for barriers.
 * Both sum k in the same order, so they give the same bits.
 */
export interface MatmulShape { wx: number; wy: number; tiled: boolean }
const RM = 4;
const RN = 4;
const TK = 16;

export function matmulTile(shape: MatmulShape): { tm: number; tn: number } {
  return { tm: shape.wy * RM, tn: shape.wx * RN };
}

/** Element offset of operand X for batch z: off + (z / zInner) * outer + (z % zInner) * inner. */
export interface Operand { off: number; outer: number; inner: number }

export interface MatmulDims {
  M: number; N: number; K: number;
  /** Batch count and how it splits into (outer, inner) indices, e.g. (image, head). */
  batch: number; zInner: number;
  a: Operand & { m: number; k: number };
  b: Operand & { k: number; n: number };
  /** Row stride of C (and R); columns are contiguous. */
  c: Operand & { m: number };
  alpha: number;
}

export const MATMUL_PARAMS_BYTES = 80;

export function matmulParams(d: MatmulDims): ArrayBuffer {
  const buf = new ArrayBuffer(MATMUL_PARAMS_BYTES);
  const u = new Uint32Array(buf);
  u.set([d.M, d.N, d.K, d.zInner,
    d.a.off, d.a.m, d.a.k, d.a.outer, d.a.inner,
    d.b.off, d.b.k, d.b.n, d.b.outer, d.b.inner,
    d.c.off, d.c.m, d.c.outer, d.c.inner]);
  new Float32Array(buf)[18] = d.alpha;
  return buf;
}

export function matmulKey(v: MatmulVariant, s: MatmulShape): string {
  return `matmul:${v.a}${v.b}:${v.bias ? 'b' : ''}:${v.residual}:${s.wx}x${s.wy}${s.tiled ? ':tiled' : ''}`;
}

function scalarEpilogue(v: MatmulVariant, acc: string, n: string): string {
  return [
    `var r = ${acc} * p.alpha;`,
    v.bias ? `r = r + bias[${n}];` : '',
    v.residual === 'add' ? 'r = R[idx] + r;' : v.residual === 'subtract' ? 'r = R[idx] - r;' : '',
    'C[idx] = r;',
  ].filter(Boolean).join(' ');
}

function epilogue(v: MatmulVariant): string {
  return [
    'var r = acc[i * RN + j] * p.alpha;',
    v.bias ? 'r = r + bias[n];' : '',
    v.residual === 'add' ? 'r = R[idx] + r;' : v.residual === 'subtract' ? 'r = R[idx] - r;' : '',
    'C[idx] = r;',
  ].filter(Boolean).join('\n          ');
}

function header(v: MatmulVariant, s: MatmulShape): string {
  const { tm, tn } = matmulTile(s);
  return /* wgsl */ `
struct Params {
  M: u32, N: u32, K: u32, zInner: u32,
  aOff: u32, aM: u32, aK: u32, aOuter: u32, aInner: u32,
  bOff: u32, bK: u32, bN: u32, bOuter: u32, bInner: u32,
  cOff: u32, cM: u32, cOuter: u32, cInner: u32,
  alpha: f32, pad: u32,
}
const WX = ${s.wx}u;
const WY = ${s.wy}u;
const RM = ${RM}u;
const RN = ${RN}u;
const TM = ${tm}u;
const TN = ${tn}u;
const TK = ${TK}u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
${v.bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
${v.residual !== 'none' ? '@group(0) @binding(5) var<storage, read> R: array<f32>;' : ''}
`;
}

const PROLOGUE = /* wgsl */ `
  let zo = wg.z / p.zInner;
  let zi = wg.z % p.zInner;
  let aBase = p.aOff + zo * p.aOuter + zi * p.aInner;
  let bBase = p.bOff + zo * p.bOuter + zi * p.bInner;
  let cBase = p.cOff + zo * p.cOuter + zi * p.cInner;
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  var acc: array<f32, ${RM * RN}>;`;

function store(v: MatmulVariant): string {
  return /* wgsl */ `
  for (var i = 0u; i < RM; i = i + 1u) {
    let m = m0 + lid.y + i * WY;
    for (var j = 0u; j < RN; j = j + 1u) {
      let n = n0 + lid.x + j * WX;
      if (m < p.M && n < p.N) {
        let idx = cBase + m * p.cM + n;
        ${epilogue(v)}
      }
    }
  }`;
}

export function matmulShader(v: MatmulVariant, s: MatmulShape): string {
  return s.tiled ? tiledShader(v, s) : directShader(v, s);
}

/**
 * No workgroup memory: each thread streams its rows of A and columns of B from global memory. Fully
 * unrolled into scalars: SwiftShader's JIT keeps small private arrays in memory, which costs it 10x.
 */
function directShader(v: MatmulVariant, s: MatmulShape): string {
  const I = [...Array(RM).keys()];
  const J = [...Array(RN).keys()];
  const lines: string[] = [];
  for (const i of I) lines.push(`let mm${i} = m0 + lid.y + ${i}u * WY; let aRow${i} = aBase + min(mm${i}, p.M - 1u) * p.aM;`);
  for (const j of J) lines.push(`let nn${j} = n0 + lid.x + ${j}u * WX; let bCol${j} = bBase + min(nn${j}, p.N - 1u) * p.bN;`);
  for (const i of I) for (const j of J) lines.push(`var c${i}${j} = 0.0;`);
  const body: string[] = [];
  for (const i of I) body.push(`let a${i} = A[aRow${i} + k * p.aK];`);
  for (const j of J) body.push(`let b${j} = B[bCol${j} + k * p.bK];`);
  for (const i of I) for (const j of J) body.push(`t${i}${j} = fma(a${i}, b${j}, t${i}${j});`);
  const zero = I.flatMap((i) => J.map((j) => `var t${i}${j} = 0.0;`));
  const fold = I.flatMap((i) => J.map((j) => `c${i}${j} = c${i}${j} + t${i}${j};`));
  const stores: string[] = [];
  for (const i of I) for (const j of J) {
    stores.push(`if (mm${i} < p.M && nn${j} < p.N) { let idx = cBase + mm${i} * p.cM + nn${j}; ${scalarEpilogue(v, `c${i}${j}`, `nn${j}`)} }`);
  }
  return /* wgsl */ `${header(v, s)}
@compute @workgroup_size(${s.wx}, ${s.wy})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let zo = wg.z / p.zInner;
  let zi = wg.z % p.zInner;
  let aBase = p.aOff + zo * p.aOuter + zi * p.aInner;
  let bBase = p.bOff + zo * p.bOuter + zi * p.bInner;
  let cBase = p.cOff + zo * p.cOuter + zi * p.cInner;
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  ${lines.join('\n  ')}
  for (var k0 = 0u; k0 < p.K; k0 = k0 + TK) {
    ${zero.join(' ')}
    for (var k = k0; k < min(k0 + TK, p.K); k = k + 1u) {
      ${body.join('\n      ')}
    }
    ${fold.join(' ')}
  }
  ${stores.join('\n  ')}
}
`;
}

function tiledShader(v: MatmulVariant, s: MatmulShape): string {
  const { tm, tn } = matmulTile(s);
  const threads = s.wx * s.wy;
  // One padding column keeps consecutive-k stores off a single shared-memory bank.
  const sa = tm + 1;
  const sb = tn + 1;
  const aIdx = v.a === 'k' ? 'let kk = e % TK; let mm = e / TK;' : 'let mm = e % TM; let kk = e / TM;';
  const bIdx = v.b === 'k' ? 'let kk = e % TK; let nn = e / TK;' : 'let nn = e % TN; let kk = e / TN;';
  return /* wgsl */ `${header(v, s)}
const NT = ${threads}u;
const SA = ${sa}u;
const SB = ${sb}u;

var<workgroup> As: array<f32, ${TK * sa}>;
var<workgroup> Bs: array<f32, ${TK * sb}>;

@compute @workgroup_size(${s.wx}, ${s.wy})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
${PROLOGUE}
  for (var k0 = 0u; k0 < p.K; k0 = k0 + TK) {
    for (var l = 0u; l < ${(tm * TK) / threads}u; l = l + 1u) {
      let e = li + l * NT;
      ${aIdx}
      let m = m0 + mm;
      let k = k0 + kk;
      var x = 0.0;
      if (m < p.M && k < p.K) { x = A[aBase + m * p.aM + k * p.aK]; }
      As[kk * SA + mm] = x;
    }
    for (var l = 0u; l < ${(tn * TK) / threads}u; l = l + 1u) {
      let e = li + l * NT;
      ${bIdx}
      let n = n0 + nn;
      let k = k0 + kk;
      var x = 0.0;
      if (n < p.N && k < p.K) { x = B[bBase + k * p.bK + n * p.bN]; }
      Bs[kk * SB + nn] = x;
    }
    workgroupBarrier();
    // Zeroed explicitly: some compilers hoist a loop-body var and skip its implicit zeroing.
    var part: array<f32, ${RM * RN}>;
    for (var q = 0u; q < ${RM * RN}u; q = q + 1u) { part[q] = 0.0; }
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
      var a: array<f32, ${RM}>;
      var b: array<f32, ${RN}>;
      for (var i = 0u; i < RM; i = i + 1u) { a[i] = As[kk * SA + lid.y + i * WY]; }
      for (var j = 0u; j < RN; j = j + 1u) { b[j] = Bs[kk * SB + lid.x + j * WX]; }
      for (var i = 0u; i < RM; i = i + 1u) {
        for (var j = 0u; j < RN; j = j + 1u) { part[i * RN + j] = fma(a[i], b[j], part[i * RN + j]); }
      }
    }
    for (var q = 0u; q < ${RM * RN}u; q = q + 1u) { acc[q] = acc[q] + part[q]; }
    workgroupBarrier();
  }
${store(v)}
}
`;
}
