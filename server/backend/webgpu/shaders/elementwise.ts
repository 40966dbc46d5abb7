// One-thread-per-output WGSL kernels: patchify, token assembly, residual add, the ISTA update,
// per-head row normalisation, head fusion of attention, and pooling.

/** Threads are numbered across (x, y) workgroups since x alone is capped at 65535 workgroups. */
function kernel(threads: number, params: string, bindings: string[], body: string): string {
  return /* wgsl */ `
struct Params { ${params} }
@group(0) @binding(0) var<uniform> p: Params;
${bindings.map((b, i) => `@group(0) @binding(${i + 1}) ${b};`).join('\n')}
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let e = (wg.y * nwg.x + wg.x) * ${threads}u + li;
  if (e >= p.total) { return; }
${body}
}
`;
}

const IN = (name: string) => `var<storage, read> ${name}: array<f32>`;
const OUT = (name: string) => `var<storage, read_write> ${name}: array<f32>`;

/** u32 parameters packed into a 16-byte aligned uniform block; floats are bit-cast. */
export function packParams(values: (number | { f32: number })[]): ArrayBuffer {
  const words = Math.ceil(values.length / 4) * 4;
  const buf = new ArrayBuffer(words * 4);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  values.forEach((v, i) => { if (typeof v === 'number') u[i] = v; else f[i] = v.f32; });
  return buf;
}

/** b c (h p1) (w p2) -> b (h w) (p1 p2 c): the channel varies fastest inside a patch vector. */
export const patchifyShader = (t: number) => kernel(t,
  'total: u32, channels: u32, size: u32, psize: u32, grid: u32, patches: u32, patchDim: u32, pad: u32',
  [IN('X'), OUT('Y')], `
  let b = e / (p.patches * p.patchDim);
  let r = e % (p.patches * p.patchDim);
  let n = r / p.patchDim;
  let q = r % p.patchDim;
  let c = q % p.channels;
  let p2 = (q / p.channels) % p.psize;
  let p1 = q / (p.channels * p.psize);
  let y = (n / p.grid) * p.psize + p1;
  let x = (n % p.grid) * p.psize + p2;
  Y[e] = X[((b * p.channels + c) * p.size + y) * p.size + x];`);

/** z = concat(cls, patches) + pos, per image. */
export const assembleShader = (t: number) => kernel(t,
  'total: u32, tokens: u32, dim: u32, pad: u32',
  [IN('E'), IN('cls'), IN('pos'), OUT('Z')], `
  let c = e % p.dim;
  let tok = (e / p.dim) % p.tokens;
  let b = e / (p.dim * p.tokens);
  var v = 0.0;
  if (tok == 0u) { v = cls[c]; } else { v = E[(b * (p.tokens - 1u) + tok - 1u) * p.dim + c]; }
  Z[e] = v + pos[tok * p.dim + c];`);

export const addShader = (t: number) => kernel(t, 'total: u32, pad0: u32, pad1: u32, pad2: u32',
  [IN('A'), IN('B'), OUT('C')], '  C[e] = A[e] + B[e];');

/** z = ReLU(x + (eta * step - eta * lambda)), crate.py's order of operations. */
export const istaShader = (t: number) => kernel(t, 'total: u32, eta: f32, etaLambda: f32, pad: u32',
  [IN('X'), IN('S'), OUT('Z')], `
  let update = p.eta * S[e] - p.etaLambda;
  Z[e] = max(X[e] + update, 0.0);`);

/** CRATE-alpha's first ISTA step from zero: Z = ReLU(eta S - eta lambda), S = x D. */
export const shrinkShader = (t: number) => kernel(t, 'total: u32, eta: f32, etaLambda: f32, pad: u32',
  [IN('S'), OUT('Z')], `
  Z[e] = max(p.eta * S[e] - p.etaLambda, 0.0);`);

/** CRATE-alpha's second step: Z = ReLU(Z1 + eta G - eta lambda), G = (x - Z1 D^T) D the negative lasso gradient. */
export const secondStepShader = (t: number) => kernel(t, 'total: u32, eta: f32, etaLambda: f32, pad: u32',
  [IN('Z1'), IN('G'), OUT('Z')], `
  Z[e] = max((Z1[e] + p.eta * G[e]) - p.etaLambda, 0.0);`);

/** Each head's slice of each token row scaled to unit L2 norm (F.normalize's 1e-12 floor). */
export const rowNormShader = (t: number) => kernel(t, 'total: u32, heads: u32, dimHead: u32, pad: u32',
  [IN('W'), OUT('U')], `
  let base = (e / p.heads) * p.heads * p.dimHead + (e % p.heads) * p.dimHead;
  var s = 0.0;
  for (var d = 0u; d < p.dimHead; d = d + 1u) { let v = W[base + d]; s = s + v * v; }
  let inv = 1.0 / max(sqrt(s), 1e-12);
  for (var d = 0u; d < p.dimHead; d = d + 1u) { U[base + d] = W[base + d] * inv; }`);

/** Mean / max / min over heads of [B, h, T, T], and the CLS query rows [B, h, T]. */
export const fuseHeadsShader = (t: number) => kernel(t, 'total: u32, heads: u32, tokens: u32, pad: u32',
  [IN('P'), OUT('Mean'), OUT('Max'), OUT('Min'), OUT('Cls')], `
  let tt = p.tokens * p.tokens;
  let b = e / tt;
  let r = e % tt;
  var s = 0.0;
  var hi = -3.402823e38;
  var lo = 3.402823e38;
  for (var h = 0u; h < p.heads; h = h + 1u) {
    let v = P[(b * p.heads + h) * tt + r];
    s = s + v;
    hi = max(hi, v);
    lo = min(lo, v);
    if (r < p.tokens) { Cls[(b * p.heads + h) * p.tokens + r] = v; }
  }
  Mean[e] = s / f32(p.heads);
  Max[e] = hi;
  Min[e] = lo;`);

/** [B, T, dim] -> [B, dim]: the CLS token, or the mean over all tokens (CLS included). */
export const poolShader = (t: number) => kernel(t, 'total: u32, tokens: u32, dim: u32, mean: u32',
  [IN('Z'), OUT('Y')], `
  let b = e / p.dim;
  let c = e % p.dim;
  let base = b * p.tokens * p.dim + c;
  if (p.mean == 0u) { Y[e] = Z[base]; return; }
  var s = 0.0;
  for (var tok = 0u; tok < p.tokens; tok = tok + 1u) { s = s + Z[base + tok * p.dim]; }
  Y[e] = s / f32(p.tokens);`);
