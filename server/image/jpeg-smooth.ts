import { idctIslow } from './jpeg-idct';
import { JpegComponent } from './jpeg-scan';

/*
 * libjpeg-turbo 2.1's inter-block smoothing for progressive JPEGs (jdcoefct.c,
 * smoothing_ok / decompress_smooth_data). libjpeg applies it when, after the last scan, some
 * of the first nine AC coefficients of some component are still not fully known (a damaged
 * or cut-short progressive file, or an unusual scan script): missing low-frequency
 * coefficients are estimated from the DC values of the 5x5 neighbouring blocks. It never
 * applies to complete files written by ordinary encoders. Reproduced here, quirks included,
 * so that such files still decode as PIL decodes them.
 */

const SAVED_COEFS = 10;
/** Natural-order positions of zigzag coefficients 1..9. */
const POS = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24];

/** Per-component progression state (libjpeg's coef_bits and its "previous scan" copy). */
export interface Progression {
  coefBits: Int32Array[];
  prevBits: Int32Array[];
  scans: number;
  /** libjpeg's last_good_iMCU_row: last iMCU row decoded before the data ran out. */
  lastGoodRow: number;
}

export function newProgression(components: number): Progression {
  return {
    coefBits: Array.from({ length: components }, () => new Int32Array(64).fill(-1)),
    prevBits: Array.from({ length: components }, () => new Int32Array(64)),
    scans: 0,
    lastGoodRow: 0,
  };
}

/** Records a progressive scan's start, as jdphuff.c's start_pass does. */
export function noteScan(p: Progression, components: number[], ss: number, se: number, al: number): void {
  p.scans++;
  for (const ci of components) {
    const cur = p.coefBits[ci];
    const prev = p.prevBits[ci];
    for (let k = Math.min(ss, 1); k <= Math.max(se, 9); k++) prev[k] = p.scans > 1 ? cur[k] : 0;
    for (let k = ss; k <= se; k++) cur[k] = al;
  }
}

interface Latch {
  cur: Int32Array[];
  prev: Int32Array[];
}

/** smoothing_ok: the latched coefficient states when smoothing applies, else null. */
export function smoothingLatch(p: Progression, comps: JpegComponent[]): Latch | null {
  let useful = false;
  const latch: Latch = { cur: [], prev: [] };
  for (let ci = 0; ci < comps.length; ci++) {
    const q = comps[ci].quant;
    if (!q) return null;
    if (POS.some((pos) => q[pos] === 0)) return null;
    const bits = p.coefBits[ci];
    if (bits[0] < 0) return null;
    const cur = new Int32Array(SAVED_COEFS);
    const prev = new Int32Array(SAVED_COEFS);
    cur[0] = bits[0];
    for (let k = 1; k < SAVED_COEFS; k++) {
      prev[k] = p.scans > 1 ? p.prevBits[ci][k] : -1;
      cur[k] = bits[k];
      if (bits[k] !== 0) useful = true;
    }
    latch.cur.push(cur);
    latch.prev.push(prev);
  }
  return useful ? latch : null;
}

/** Rounded, sign-symmetric num / (q * 256), clamped below 2^al when the precision is known. */
function estimate(num: number, q: number, al: number): number {
  const den = q * 256;
  const mag = Math.abs(num);
  let pred = Math.floor((q * 128 + mag) / den);
  // Guard the floor against rounding of very large quotients.
  if (pred * den > q * 128 + mag) pred--;
  else if ((pred + 1) * den <= q * 128 + mag) pred++;
  pred |= 0;
  if (al > 0 && pred >= 1 << al) pred = (1 << al) - 1;
  return num >= 0 ? pred : -pred;
}

/**
 * IDCT of one component with smoothing, written to a plane of blocksW * 8 samples per row.
 * `rows` is the number of iMCU rows in the image.
 */
export function smoothComponent(
  comp: JpegComponent,
  ci: number,
  latch: Latch,
  lastGoodRow: number,
  rows: number,
  plane: Uint8Array,
  stride: number,
): void {
  const quant = comp.quant as Uint16Array;
  const idctQuant = new Int16Array(quant.buffer, quant.byteOffset, 64);
  const coefs = comp.coefs;
  const ws = new Int16Array(64);
  const v = comp.v;
  const lastRow = rows - 1;
  const lastColumn = comp.blocksW - 1;
  const [q00, q01, q10, q20, q11, q02, q03, q12, q21, q30] = POS.map((pos) => quant[pos]);
  const dcAt = (blockRow: number, col: number): number => coefs[(blockRow * comp.stride + col) * 64];

  for (let row = 0; row < rows; row++) {
    const bits = row > lastGoodRow ? latch.prev[ci] : latch.cur[ci];
    let changeDc = true;
    for (let k = 1; k < SAVED_COEFS; k++) if (bits[k] !== -1) changeDc = false;
    let blockRows = v;
    if (row === lastRow) blockRows = comp.blocksH % v || v;
    for (let br = 0; br < blockRows; br++) {
      const r = row * v + br;
      // Neighbour rows exactly as libjpeg picks them (not always a plain clamp).
      const prev = br > 0 || row > 0 ? r - 1 : r;
      const prevPrev = br > 1 || row > 1 ? r - 2 : prev;
      const next = br < blockRows - 1 || row < lastRow ? r + 1 : r;
      const nextNext = br < blockRows - 2 || row + 1 < lastRow ? r + 2 : next;
      const rowsAt = [prevPrev, prev, r, next, nextNext];
      // dc[i][j]: row i of the 5x5 window, column j (j = 2 is the current block).
      const dc = rowsAt.map((rr) => {
        const d = dcAt(rr, 0);
        return [d, d, d, d, d];
      });
      for (let col = 0; col <= lastColumn; col++) {
        if (col === 0 && col < lastColumn) for (let i = 0; i < 5; i++) dc[i][3] = dcAt(rowsAt[i], 1);
        if (col + 1 < lastColumn) for (let i = 0; i < 5; i++) dc[i][4] = dcAt(rowsAt[i], col + 2);
        const base = (r * comp.stride + col) * 64;
        for (let k = 0; k < 64; k++) ws[k] = coefs[base + k];
        const [[d01, d02, d03, d04, d05], [d06, d07, d08, d09, d10], [d11, d12, d13, d14, d15], [d16, d17, d18, d19, d20], [d21, d22, d23, d24, d25]] = dc;
        let al: number;
        if ((al = bits[1]) !== 0 && ws[1] === 0) {
          const n = changeDc
            ? -d01 - d02 + d04 + d05 - 3 * d06 + 13 * d07 - 13 * d09 + 3 * d10 - 3 * d11 + 38 * d12 - 38 * d14 + 3 * d15 -
              3 * d16 + 13 * d17 - 13 * d19 + 3 * d20 - d21 - d22 + d24 + d25
            : -7 * d11 + 50 * d12 - 50 * d14 + 7 * d15;
          ws[1] = estimate(q00 * n, q01, al);
        }
        if ((al = bits[2]) !== 0 && ws[8] === 0) {
          const n = changeDc
            ? -d01 - 3 * d02 - 3 * d03 - 3 * d04 - d05 - d06 + 13 * d07 + 38 * d08 + 13 * d09 - d10 + d16 - 13 * d17 -
              38 * d18 - 13 * d19 + d20 + d21 + 3 * d22 + 3 * d23 + 3 * d24 + d25
            : -7 * d03 + 50 * d08 - 50 * d18 + 7 * d23;
          ws[8] = estimate(q00 * n, q10, al);
        }
        if ((al = bits[3]) !== 0 && ws[16] === 0) {
          const n = changeDc
            ? d03 + 2 * d07 + 7 * d08 + 2 * d09 - 5 * d12 - 14 * d13 - 5 * d14 + 2 * d17 + 7 * d18 + 2 * d19 + d23
            : -d03 + 13 * d08 - 24 * d13 + 13 * d18 - d23;
          ws[16] = estimate(q00 * n, q20, al);
        }
        if ((al = bits[4]) !== 0 && ws[9] === 0) {
          const n = changeDc
            ? -d01 + d05 + 9 * d07 - 9 * d09 - 9 * d17 + 9 * d19 + d21 - d25
            : d10 + d16 - 10 * d17 + 10 * d19 - d02 - d20 + d22 - d24 + d04 - d06 + 10 * d07 - 10 * d09;
          ws[9] = estimate(q00 * n, q11, al);
        }
        if ((al = bits[5]) !== 0 && ws[2] === 0) {
          const n = changeDc
            ? 2 * d07 - 5 * d08 + 2 * d09 + d11 + 7 * d12 - 14 * d13 + 7 * d14 + d15 + 2 * d17 - 5 * d18 + 2 * d19
            : -d11 + 13 * d12 - 24 * d13 + 13 * d14 - d15;
          ws[2] = estimate(q00 * n, q02, al);
        }
        if (changeDc) {
          if ((al = bits[6]) !== 0 && ws[3] === 0) ws[3] = estimate(q00 * (d07 - d09 + 2 * d12 - 2 * d14 + d17 - d19), q03, al);
          if ((al = bits[7]) !== 0 && ws[10] === 0) ws[10] = estimate(q00 * (d07 - 3 * d08 + d09 - d17 + 3 * d18 - d19), q12, al);
          if ((al = bits[8]) !== 0 && ws[17] === 0) ws[17] = estimate(q00 * (d07 - d09 - 3 * d12 + 3 * d14 + d17 - d19), q21, al);
          if ((al = bits[9]) !== 0 && ws[24] === 0) ws[24] = estimate(q00 * (d07 + 2 * d08 + d09 - d17 - 2 * d18 - d19), q30, al);
          const n =
            -2 * d01 - 6 * d02 - 8 * d03 - 6 * d04 - 2 * d05 - 6 * d06 + 6 * d07 + 42 * d08 + 6 * d09 - 6 * d10 - 8 * d11 +
            42 * d12 + 152 * d13 + 42 * d14 - 8 * d15 - 6 * d16 + 6 * d17 + 42 * d18 + 6 * d19 - 6 * d20 - 2 * d21 -
            6 * d22 - 8 * d23 - 6 * d24 - 2 * d25;
          ws[0] = estimate(q00 * n, q00, 0);
        }
        idctIslow(ws, 0, idctQuant, plane, r * 8 * stride + col * 8, stride);
        for (let i = 0; i < 5; i++) {
          const d = dc[i];
          d[0] = d[1];
          d[1] = d[2];
          d[2] = d[3];
          d[3] = d[4];
        }
      }
    }
  }
}
