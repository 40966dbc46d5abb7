import { BitReader, END_OF_DATA } from './jpeg-bits';
import { HuffmanTable } from './jpeg-huffman';
import { ImageError } from './errors';

/*
 * Entropy decoding of one scan into the components' coefficient arrays, following
 * libjpeg-turbo's jdhuff.c (sequential) and jdphuff.c (progressive) including their handling
 * of damaged data: restart-marker resynchronisation, zero bits after a premature marker, and
 * leaving the rest of a restart interval empty once the data has run out.
 */

/** Zigzag -> natural order, with libjpeg's 16 extra entries that absorb runs past the end. */
export const NATURAL_ORDER = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55,
  62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]);

export interface JpegComponent {
  id: number;
  h: number;
  v: number;
  quantIndex: number;
  /** libjpeg's width_in_blocks / height_in_blocks. */
  blocksW: number;
  blocksH: number;
  /** Blocks per stored row: padded to whole MCUs so interleaved scans' dummy blocks fit. */
  stride: number;
  coefs: Int16Array;
  /** Quantisation table latched at the component's first scan (natural order). */
  quant: Uint16Array | null;
  /** Downsampled size in samples. */
  width: number;
  height: number;
}

export interface ScanComponent {
  comp: JpegComponent;
  dc: HuffmanTable | null;
  ac: HuffmanTable | null;
}

export interface Scan {
  components: ScanComponent[];
  progressive: boolean;
  ss: number;
  se: number;
  ah: number;
  al: number;
  restartInterval: number;
  /** MCUs per row and rows of MCUs for an interleaved scan. */
  mcusX: number;
  mcusY: number;
}

type BlockDecoder = (r: BitReader, sc: ScanComponent, index: number, offset: number) => void;

/** Finds the next marker from the reader's byte position, skipping garbage like libjpeg's next_marker. */
export function findMarker(data: Uint8Array, pos: number): { marker: number; pos: number } {
  for (;;) {
    while (pos < data.length && data[pos] !== 0xff) pos++;
    while (pos < data.length && data[pos] === 0xff) pos++;
    if (pos >= data.length) return { marker: END_OF_DATA, pos };
    const code = data[pos++];
    if (code !== 0) return { marker: code, pos };
  }
}

function nextMarker(r: BitReader, data: Uint8Array): void {
  const found = findMarker(data, r.pos);
  r.marker = found.marker;
  r.pos = found.pos;
}

const RST0 = 0xd0;

/** libjpeg's jpeg_resync_to_restart: decide what to do with an unexpected marker. */
function resyncToRestart(r: BitReader, data: Uint8Array, desired: number): void {
  for (;;) {
    const m = r.marker;
    if (m === END_OF_DATA) throw new ImageError('corrupt JPEG: file is truncated');
    let action: 1 | 2 | 3;
    if (m < 0xc0) action = 2;
    else if (m < RST0 || m > RST0 + 7) action = 3;
    else if (m === RST0 + ((desired + 1) & 7) || m === RST0 + ((desired + 2) & 7)) action = 3;
    else if (m === RST0 + ((desired - 1) & 7) || m === RST0 + ((desired - 2) & 7)) action = 2;
    else action = 1;
    if (action === 1) {
      r.marker = 0;
      return;
    }
    if (action === 3) return;
    r.marker = 0;
    nextMarker(r, data);
  }
}

/**
 * Decodes one scan. `progress.lastGoodRow` follows libjpeg's last_good_iMCU_row: the last
 * iMCU row at which decoding started with data still available (used by block smoothing).
 */
export function decodeScan(data: Uint8Array, pos: number, scan: Scan, progress?: { lastGoodRow: number }): BitReader {
  const r = new BitReader(data, pos);
  const comps = scan.components;
  const preds = new Int32Array(comps.length);
  let eobrun = 0;
  const { ss, se, ah, al } = scan;

  const baseline: BlockDecoder = (rd, sc, index, off) => {
    const coefs = sc.comp.coefs;
    let s = (sc.dc as HuffmanTable).decode(rd);
    if (s) s = rd.receiveExtend(s);
    s = (s + preds[index]) | 0;
    preds[index] = s;
    coefs[off] = s;
    const ac = sc.ac as HuffmanTable;
    for (let k = 1; k < 64; k++) {
      const rs = ac.decode(rd);
      const run = rs >> 4;
      const size = rs & 15;
      if (size) {
        k += run;
        coefs[off + NATURAL_ORDER[k]] = rd.receiveExtend(size);
      } else {
        if (run !== 15) break;
        k += 15;
      }
    }
  };

  const dcFirst: BlockDecoder = (rd, sc, index, off) => {
    let s = (sc.dc as HuffmanTable).decode(rd);
    if (s) s = rd.receiveExtend(s);
    s = (s + preds[index]) | 0;
    preds[index] = s;
    sc.comp.coefs[off] = s << al;
  };

  const dcRefine: BlockDecoder = (rd, sc, _index, off) => {
    if (rd.read(1)) sc.comp.coefs[off] |= 1 << al;
  };

  const acFirst: BlockDecoder = (rd, sc, _index, off) => {
    if (eobrun > 0) {
      eobrun--;
      return;
    }
    const coefs = sc.comp.coefs;
    const ac = sc.ac as HuffmanTable;
    for (let k = ss; k <= se; k++) {
      const rs = ac.decode(rd);
      const run = rs >> 4;
      const size = rs & 15;
      if (size) {
        k += run;
        coefs[off + NATURAL_ORDER[k]] = rd.receiveExtend(size) << al;
      } else if (run === 15) {
        k += 15;
      } else {
        eobrun = 1 << run;
        if (run) eobrun += rd.read(run);
        eobrun--;
        break;
      }
    }
  };

  const acRefine: BlockDecoder = (rd, sc, _index, off) => {
    const coefs = sc.comp.coefs;
    const ac = sc.ac as HuffmanTable;
    const p1 = 1 << al;
    const m1 = -1 << al;
    let k = ss;
    if (eobrun === 0) {
      for (; k <= se; k++) {
        const rs = ac.decode(rd);
        let run = rs >> 4;
        let s = rs & 15;
        if (s) {
          // A newly non-zero coefficient is always +-1 at this bit position.
          s = rd.read(1) ? p1 : m1;
        } else if (run !== 15) {
          eobrun = 1 << run;
          if (run) eobrun += rd.read(run);
          break;
        }
        do {
          const pos = off + NATURAL_ORDER[k];
          const c = coefs[pos];
          if (c !== 0) {
            // Correction bit for an already non-zero coefficient.
            if (rd.read(1) && (c & p1) === 0) coefs[pos] = c >= 0 ? c + p1 : c + m1;
          } else if (--run < 0) {
            break;
          }
          k++;
        } while (k <= se);
        if (s) coefs[off + NATURAL_ORDER[k]] = s;
      }
    }
    if (eobrun > 0) {
      for (; k <= se; k++) {
        const pos = off + NATURAL_ORDER[k];
        const c = coefs[pos];
        if (c !== 0 && rd.read(1) && (c & p1) === 0) coefs[pos] = c >= 0 ? c + p1 : c + m1;
      }
      eobrun--;
    }
  };

  let decodeBlock: BlockDecoder;
  if (!scan.progressive) decodeBlock = baseline;
  else if (ss === 0) decodeBlock = ah === 0 ? dcFirst : dcRefine;
  else decodeBlock = ah === 0 ? acFirst : acRefine;

  const interleaved = comps.length > 1;
  const first = comps[0].comp;
  const mcusX = interleaved ? scan.mcusX : first.blocksW;
  const mcusY = interleaved ? scan.mcusY : first.blocksH;
  const interval = scan.restartInterval;
  let restartsToGo = interval;
  let nextRestart = 0;

  for (let my = 0; my < mcusY; my++) {
    const iMcuRow = interleaved ? my : Math.floor(my / first.v);
    for (let mx = 0; mx < mcusX; mx++) {
      if (progress && !r.insufficient) progress.lastGoodRow = iMcuRow;
      if (interval) {
        if (restartsToGo === 0) {
          r.discardBits();
          if (r.marker === 0) nextMarker(r, data);
          if (r.marker === END_OF_DATA) throw new ImageError('corrupt JPEG: file is truncated');
          if (r.marker === RST0 + nextRestart) r.marker = 0;
          else resyncToRestart(r, data, nextRestart);
          nextRestart = (nextRestart + 1) & 7;
          preds.fill(0);
          eobrun = 0;
          restartsToGo = interval;
          if (r.marker === 0) r.insufficient = false;
        }
      }
      if (!r.insufficient) {
        if (!interleaved) {
          const sc = comps[0];
          decodeBlock(r, sc, 0, (my * sc.comp.stride + mx) * 64);
        } else {
          for (let i = 0; i < comps.length; i++) {
            const sc = comps[i];
            const { h, v, stride } = sc.comp;
            for (let y = 0; y < v; y++) {
              const row = (my * v + y) * stride + mx * h;
              for (let x = 0; x < h; x++) decodeBlock(r, sc, i, (row + x) * 64);
            }
          }
        }
      }
      if (interval) restartsToGo--;
    }
  }
  return r;
}
