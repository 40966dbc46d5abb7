/*
 * libjpeg-turbo's accurate integer inverse DCT ("islow", the default and hence PIL's), as its
 * x86-64 SIMD code computes it (simd/x86_64/jidctint-sse2.asm and -avx2.asm, which agree).
 * For the coefficients any encoder produces this equals jidctint.c exactly. Damaged files can
 * carry coefficients that overflow, and there the SIMD code differs from the C code: 16-bit
 * dequantisation and sums, saturating packs between passes and at the output. PIL on x86-64
 * runs the SIMD code, so that is what is reproduced.
 */

const CONST_BITS = 13;
const PASS1_BITS = 2;
const F_0_298 = 2446;
const F_0_390 = 3196;
const F_0_541 = 4433;
const F_0_765 = 6270;
const F_0_899 = 7373;
const F_1_175 = 9633;
const F_1_501 = 12299;
const F_1_847 = 15137;
const F_1_961 = 16069;
const F_2_053 = 16819;
const F_2_562 = 20995;
const F_3_072 = 25172;

const int16 = (x: number): number => (x << 16) >> 16;
const sat16 = (x: number): number => (x < -32768 ? -32768 : x > 32767 ? 32767 : x);

const workspace = new Int32Array(64);
const deq = new Int32Array(64);

/**
 * One 1-D transform of 8 int16 values src[o], src[o + step], ... into dst (same layout),
 * following the SIMD data flow: even part from (in2, in6) and (in0 +- in4), odd part with
 * z3 = in7 + in3 and z4 = in5 + in1 as 16-bit sums, pmaddwd-style 32-bit products, 32-bit
 * wrapping adds, then rounding shift and a saturating pack to 16 bits.
 */
function transform(src: Int32Array, o: number, step: number, dst: Int32Array, descale: number): void {
  const in0 = src[o];
  const in1 = src[o + step];
  const in2 = src[o + 2 * step];
  const in3 = src[o + 3 * step];
  const in4 = src[o + 4 * step];
  const in5 = src[o + 5 * step];
  const in6 = src[o + 6 * step];
  const in7 = src[o + 7 * step];
  const tmp3 = in2 * (F_0_541 + F_0_765) + in6 * F_0_541;
  const tmp2 = in6 * (F_0_541 - F_1_847) + in2 * F_0_541;
  const tmp0 = int16(in0 + in4) * (1 << CONST_BITS);
  const tmp1 = int16(in0 - in4) * (1 << CONST_BITS);
  const tmp10 = (tmp0 + tmp3) | 0;
  const tmp13 = (tmp0 - tmp3) | 0;
  const tmp11 = (tmp1 + tmp2) | 0;
  const tmp12 = (tmp1 - tmp2) | 0;

  const z3 = int16(in7 + in3);
  const z4 = int16(in5 + in1);
  const z3n = z3 * (F_1_175 - F_1_961) + z4 * F_1_175;
  const z4n = z4 * (F_1_175 - F_0_390) + z3 * F_1_175;
  const o0 = (in7 * (F_0_298 - F_0_899) + in1 * -F_0_899 + z3n) | 0;
  const o1 = (in5 * (F_2_053 - F_2_562) + in3 * -F_2_562 + z4n) | 0;
  const o3 = (in7 * -F_0_899 + in1 * (F_1_501 - F_0_899) + z4n) | 0;
  const o2 = (in5 * -F_2_562 + in3 * (F_3_072 - F_2_562) + z3n) | 0;

  const round = 1 << (descale - 1);
  dst[o] = sat16(((((tmp10 + o3) | 0) + round) | 0) >> descale);
  dst[o + 7 * step] = sat16(((((tmp10 - o3) | 0) + round) | 0) >> descale);
  dst[o + step] = sat16(((((tmp11 + o2) | 0) + round) | 0) >> descale);
  dst[o + 6 * step] = sat16(((((tmp11 - o2) | 0) + round) | 0) >> descale);
  dst[o + 2 * step] = sat16(((((tmp12 + o1) | 0) + round) | 0) >> descale);
  dst[o + 5 * step] = sat16(((((tmp12 - o1) | 0) + round) | 0) >> descale);
  dst[o + 3 * step] = sat16(((((tmp13 + o0) | 0) + round) | 0) >> descale);
  dst[o + 4 * step] = sat16(((((tmp13 - o0) | 0) + round) | 0) >> descale);
}

const PASS2 = CONST_BITS + PASS1_BITS + 3;

/**
 * Dequantises and inverse-transforms one block of natural-order coefficients into 8x8 samples.
 * quant is libjpeg's 16-bit multiplier table (values above 32767 wrap as C shorts do).
 */
export function idctIslow(
  coefs: Int16Array,
  coefOffset: number,
  quant: Int16Array,
  out: Uint8Array,
  outOffset: number,
  outStride: number,
): void {
  const ws = workspace;
  let acZero = true;
  for (let k = 8; k < 64; k++) {
    if (coefs[coefOffset + k] !== 0) {
      acZero = false;
      break;
    }
  }
  if (acZero) {
    // Shortcut taken only when rows 1..7 are all zero: DC row scaled in 16 bits.
    let rowConstant = true;
    for (let col = 0; col < 8; col++) {
      const dc = int16(int16(coefs[coefOffset + col] * quant[col]) << PASS1_BITS);
      for (let r = 0; r < 8; r++) ws[r * 8 + col] = dc;
      if (col > 0 && dc !== 0) rowConstant = false;
    }
    if (rowConstant) {
      // Only the DC term: every sample is the same.
      const v = sat16((int16(ws[0]) * (1 << CONST_BITS) + (1 << (PASS2 - 1))) >> PASS2);
      const sample = (v < -128 ? -128 : v > 127 ? 127 : v) + 128;
      for (let r = 0; r < 8; r++) out.fill(sample, outOffset + r * outStride, outOffset + r * outStride + 8);
      return;
    }
  } else {
    for (let k = 0; k < 64; k++) deq[k] = int16(coefs[coefOffset + k] * quant[k]);
    for (let col = 0; col < 8; col++) transform(deq, col, 8, ws, CONST_BITS - PASS1_BITS);
  }
  for (let row = 0; row < 8; row++) {
    transform(ws, row * 8, 1, ws, PASS2);
    const o = outOffset + row * outStride;
    for (let k = 0; k < 8; k++) {
      const v = ws[row * 8 + k];
      // Saturate to a signed byte, then re-centre on 128.
      out[o + k] = (v < -128 ? -128 : v > 127 ? 127 : v) + 128;
    }
  }
}
