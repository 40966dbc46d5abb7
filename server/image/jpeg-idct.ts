/*
 * libjpeg-turbo's jpeg_idct_islow (jidctint.c, 8-bit samples): the accurate integer inverse
 * DCT that libjpeg uses by default and hence PIL uses. Same constants, same operation order,
 * same rounding, same range-limit table (including its wrap-around for wildly out-of-range
 * values), so the output matches libjpeg byte for byte.
 */

const CONST_BITS = 13;
const PASS1_BITS = 2;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

/** libjpeg's post-IDCT range limit: index is the result masked to 10 bits, centred on 128. */
const RANGE_LIMIT = (() => {
  const t = new Uint8Array(1024);
  for (let i = 0; i < 1024; i++) {
    const v = (i < 512 ? i : i - 1024) + 128;
    t[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return t;
})();

const workspace = new Int32Array(64);

/*
 * libjpeg does this arithmetic in 64-bit JLONGs; corrupt files can push intermediate values
 * past 32 bits, so everything is done in exact double arithmetic (all values stay far below
 * 2^53) and JavaScript's 32-bit shift operators are avoided where values can be large.
 */
const SCALE = 1 << CONST_BITS;
const PASS1_ROUND = 2 ** (CONST_BITS - PASS1_BITS - 1);
const PASS1_DIV = 2 ** -(CONST_BITS - PASS1_BITS);
const PASS2_ROUND = 2 ** (CONST_BITS + PASS1_BITS + 3 - 1);
const PASS2_DIV = 2 ** -(CONST_BITS + PASS1_BITS + 3);

function descale1(x: number): number {
  return Math.floor((x + PASS1_ROUND) * PASS1_DIV);
}

/** Rounded final value; the caller's "& 1023" takes its low bits like libjpeg's RANGE_MASK. */
function descale2(x: number): number {
  return Math.floor((x + PASS2_ROUND) * PASS2_DIV);
}

/**
 * Dequantises and inverse-transforms one block of natural-order coefficients.
 * quant holds the table as libjpeg's 16-bit multiplier table does (values wrap like C shorts).
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
  // Pass 1: columns from input, results scaled up by PASS1_BITS into the workspace.
  for (let col = 0; col < 8; col++) {
    const c = coefOffset + col;
    if (
      coefs[c + 8] === 0 && coefs[c + 16] === 0 && coefs[c + 24] === 0 && coefs[c + 32] === 0 &&
      coefs[c + 40] === 0 && coefs[c + 48] === 0 && coefs[c + 56] === 0
    ) {
      const dc = (coefs[c] * quant[col]) << PASS1_BITS;
      for (let r = 0; r < 8; r++) ws[r * 8 + col] = dc;
      continue;
    }
    let z2 = coefs[c + 16] * quant[col + 16];
    let z3 = coefs[c + 48] * quant[col + 48];
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = coefs[c] * quant[col];
    z3 = coefs[c + 32] * quant[col + 32];
    let tmp0 = (z2 + z3) * SCALE;
    let tmp1 = (z2 - z3) * SCALE;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp3 = coefs[c + 8] * quant[col + 8];
    tmp2 = coefs[c + 24] * quant[col + 24];
    tmp1 = coefs[c + 40] * quant[col + 40];
    tmp0 = coefs[c + 56] * quant[col + 56];
    let z4 = tmp1 + tmp3;
    z3 = tmp0 + tmp2;
    z2 = tmp1 + tmp2;
    z1 = tmp0 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp3 *= FIX_1_501321110;
    tmp2 *= FIX_3_072711026;
    tmp1 *= FIX_2_053119869;
    tmp0 *= FIX_0_298631336;
    z4 = z4 * -FIX_0_390180644 + z5;
    z3 = z3 * -FIX_1_961570560 + z5;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    tmp3 += z1 + z4;
    tmp2 += z2 + z3;
    tmp1 += z2 + z4;
    tmp0 += z1 + z3;
    // Storing into the Int32Array truncates like C's (int) cast.
    ws[col] = descale1(tmp10 + tmp3);
    ws[56 + col] = descale1(tmp10 - tmp3);
    ws[8 + col] = descale1(tmp11 + tmp2);
    ws[48 + col] = descale1(tmp11 - tmp2);
    ws[16 + col] = descale1(tmp12 + tmp1);
    ws[40 + col] = descale1(tmp12 - tmp1);
    ws[24 + col] = descale1(tmp13 + tmp0);
    ws[32 + col] = descale1(tmp13 - tmp0);
  }
  // Pass 2: rows from the workspace to output samples.
  for (let row = 0; row < 8; row++) {
    const w = row * 8;
    const o = outOffset + row * outStride;
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      const dc = RANGE_LIMIT[Math.floor((ws[w] + (1 << (PASS1_BITS + 2))) / (1 << (PASS1_BITS + 3))) & 1023];
      for (let i = 0; i < 8; i++) out[o + i] = dc;
      continue;
    }
    let z2 = ws[w + 2];
    let z3 = ws[w + 6];
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (ws[w] + ws[w + 4]) * SCALE;
    let tmp1 = (ws[w] - ws[w + 4]) * SCALE;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp3 = ws[w + 1];
    tmp2 = ws[w + 3];
    tmp1 = ws[w + 5];
    tmp0 = ws[w + 7];
    let z4 = tmp1 + tmp3;
    z3 = tmp0 + tmp2;
    z2 = tmp1 + tmp2;
    z1 = tmp0 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp3 *= FIX_1_501321110;
    tmp2 *= FIX_3_072711026;
    tmp1 *= FIX_2_053119869;
    tmp0 *= FIX_0_298631336;
    z4 = z4 * -FIX_0_390180644 + z5;
    z3 = z3 * -FIX_1_961570560 + z5;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    tmp3 += z1 + z4;
    tmp2 += z2 + z3;
    tmp1 += z2 + z4;
    tmp0 += z1 + z3;
    out[o] = RANGE_LIMIT[descale2(tmp10 + tmp3) & 1023];
    out[o + 7] = RANGE_LIMIT[descale2(tmp10 - tmp3) & 1023];
    out[o + 1] = RANGE_LIMIT[descale2(tmp11 + tmp2) & 1023];
    out[o + 6] = RANGE_LIMIT[descale2(tmp11 - tmp2) & 1023];
    out[o + 2] = RANGE_LIMIT[descale2(tmp12 + tmp1) & 1023];
    out[o + 5] = RANGE_LIMIT[descale2(tmp12 - tmp1) & 1023];
    out[o + 3] = RANGE_LIMIT[descale2(tmp13 + tmp0) & 1023];
    out[o + 4] = RANGE_LIMIT[descale2(tmp13 - tmp0) & 1023];
  }
}
