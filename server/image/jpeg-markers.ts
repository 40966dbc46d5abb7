import { ImageError } from './errors';
import { JpegColorSpace } from './jpeg-color';
import { HuffmanTable } from './jpeg-huffman';
import { JpegComponent, NATURAL_ORDER, Scan, ScanComponent } from './jpeg-scan';
import { Progression, newProgression } from './jpeg-smooth';
import { STD_HUFFMAN } from './jpeg-tables';
import { checkImageSize } from './raster';

/*
 * JPEG marker segments (frame and scan headers, tables, restart interval, APPn), parsed and
 * validated the way libjpeg-turbo 2.1's jdmarker.c and PIL's JpegImagePlugin do, so that a
 * file is refused exactly when PIL refuses it.
 */

export function fail(message: string): never {
  throw new ImageError(`corrupt JPEG: ${message}`);
}

interface HuffmanSpec {
  counts: Uint8Array;
  values: Uint8Array;
}

export interface Frame {
  width: number;
  height: number;
  progressive: boolean;
  comps: JpegComponent[];
  hmax: number;
  vmax: number;
  mcusX: number;
  mcusY: number;
}

export class JpegState {
  readonly quant: Array<Uint16Array | null> = [null, null, null, null];
  readonly dcSpecs: Array<HuffmanSpec | null> = [null, null, null, null];
  readonly acSpecs: Array<HuffmanSpec | null> = [null, null, null, null];
  restartInterval = 0;
  frame: Frame | null = null;
  sawJfif = false;
  adobeTransform = -1;
  scans = 0;
  multiScan = false;
  progression: Progression | null = null;
  /** Decided at the first scan, from the markers seen up to there (as libjpeg does). */
  space: JpegColorSpace = 'gray';
}

export function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

/*
 * DQT and DHT parsing follows jdmarker.c step by step, so that a segment cut off by the end of
 * the file (tolerated once the image is complete) fails exactly when libjpeg would.
 * `cut` marks such a segment: parsing then stops quietly where the data ends.
 */
export function parseDqt(s: JpegState, seg: Uint8Array, cut = false): void {
  let p = 0;
  while (p < seg.length) {
    const precision = seg[p] >> 4;
    const index = seg[p] & 15;
    if (index > 3) fail('bad quantisation table index');
    const size = precision ? 128 : 64;
    if (p + 1 + size > seg.length) {
      if (cut) return;
      fail('bad quantisation table');
    }
    const table = new Uint16Array(64);
    for (let i = 0; i < 64; i++) table[NATURAL_ORDER[i]] = precision ? u16(seg, p + 1 + 2 * i) : seg[p + 1 + i];
    s.quant[index] = table;
    p += 1 + size;
  }
}

export function parseDht(s: JpegState, seg: Uint8Array, declared = seg.length, cut = false): void {
  let p = 0;
  let left = declared;
  while (left > 16) {
    if (p + 17 > seg.length) {
      if (cut) return;
      fail('bad Huffman table');
    }
    const index = seg[p];
    const counts = seg.slice(p + 1, p + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    left -= 17;
    if (total > 256 || total > left) fail('bad Huffman table');
    if (p + 17 + total > seg.length) {
      if (cut) return;
      fail('bad Huffman table');
    }
    left -= total;
    if ((index & 0x10 ? index - 0x10 : index) > 3) fail('bad Huffman table index');
    const spec = { counts, values: seg.slice(p + 17, p + 17 + total) };
    (index & 0x10 ? s.acSpecs : s.dcSpecs)[index & 15] = spec;
    p += 17 + total;
  }
  if (left !== 0) fail('bad Huffman table length');
}

/** DAC carries nothing a Huffman decoder needs, but libjpeg still validates it. */
export function checkDac(seg: Uint8Array, declared = seg.length, cut = false): void {
  let left = declared;
  for (let p = 0; left > 0; p += 2) {
    if (p + 2 > seg.length) {
      if (cut) return;
      fail('bad arithmetic conditioning table');
    }
    left -= 2;
    const index = seg[p];
    if (index >= 32 || (index < 16 && (seg[p + 1] & 15) > seg[p + 1] >> 4)) fail('bad arithmetic conditioning table');
  }
  if (left !== 0) fail('bad arithmetic conditioning table');
}

/** Header checks PIL's own JPEG parser makes before libjpeg sees the file. */
export function pilHeaderCheck(marker: number, seg: Uint8Array): void {
  const starts = (text: string): boolean => seg.length >= text.length && Array.from(text).every((c, i) => seg[i] === c.charCodeAt(0));
  if (marker === 0xe0 && starts('JFIF') && seg.length < 7) fail('bad JFIF header');
  if (marker === 0xee && starts('Adobe') && seg.length < 7) fail('bad Adobe header');
  if (marker === 0xed && starts('Photoshop 3.0\0')) {
    // PIL walks the 8BIM resource blocks and fails on a name length past the end.
    let p = 14;
    while (starts8bim(seg, p)) {
      p += 4;
      if (p + 2 > seg.length) return;
      p += 2;
      if (p >= seg.length) fail('bad Photoshop header');
      p += 1 + seg[p];
      p += p & 1;
      if (p + 4 > seg.length) return;
      const size = ((seg[p] << 24) | (seg[p + 1] << 16) | (seg[p + 2] << 8) | seg[p + 3]) >>> 0;
      p += 4 + size;
      p += p & 1;
    }
  }
}

function starts8bim(seg: Uint8Array, p: number): boolean {
  return p + 4 <= seg.length && seg[p] === 0x38 && seg[p + 1] === 0x42 && seg[p + 2] === 0x49 && seg[p + 3] === 0x4d;
}

export function parseSof(s: JpegState, seg: Uint8Array, progressive: boolean, maxPixels: number): void {
  if (seg.length < 6) fail('bad frame header');
  const precision = seg[0];
  const height = u16(seg, 1);
  const width = u16(seg, 3);
  const n = seg[5];
  if (precision !== 8) throw new ImageError(`unsupported JPEG: ${precision}-bit samples`);
  if (seg.length !== 6 + 3 * n) fail('bad frame header length');
  if (n !== 1 && n !== 3 && n !== 4) throw new ImageError(`unsupported JPEG: ${n} colour components`);
  checkImageSize(width, height, maxPixels);
  if (width > 65500 || height > 65500) throw new ImageError(`image too large: ${width}x${height} exceeds JPEG's 65500-pixel side limit`);
  const raw = [];
  for (let i = 0; i < n; i++) {
    const h = seg[7 + 3 * i] >> 4;
    const v = seg[7 + 3 * i] & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) fail('bad sampling factors');
    raw.push({ id: seg[6 + 3 * i], h, v, quantIndex: seg[8 + 3 * i] });
  }
  const hmax = Math.max(...raw.map((c) => c.h));
  const vmax = Math.max(...raw.map((c) => c.v));
  if (raw.some((c) => hmax % c.h !== 0 || vmax % c.v !== 0)) throw new ImageError('unsupported JPEG: fractional chroma sampling');
  const mcusX = Math.ceil(width / (8 * hmax));
  const mcusY = Math.ceil(height / (8 * vmax));
  const comps = raw.map((c): JpegComponent => {
    const compWidth = Math.ceil((width * c.h) / hmax);
    const compHeight = Math.ceil((height * c.v) / vmax);
    const stride = mcusX * c.h;
    return {
      ...c,
      width: compWidth,
      height: compHeight,
      blocksW: Math.ceil(compWidth / 8),
      blocksH: Math.ceil(compHeight / 8),
      stride,
      coefs: new Int16Array(stride * mcusY * c.v * 64),
      quant: null,
    };
  });
  s.frame = { width, height, progressive, comps, hmax, vmax, mcusX, mcusY };
  if (progressive) s.progression = newProgression(n);
}

/**
 * The table a scan names. For sequential files libjpeg-turbo substitutes the standard tables
 * for slots 0 and 1 when no DHT defined them; progressive files get no such fallback.
 */
function buildTable(s: JpegState, isDC: boolean, index: number): HuffmanTable {
  const specs = isDC ? s.dcSpecs : s.acSpecs;
  let spec = index < 4 ? specs[index] : null;
  if (!spec && !s.frame?.progressive && (index === 0 || index === 1)) spec = STD_HUFFMAN[isDC ? 'dc' : 'ac'][index];
  if (!spec) fail('missing Huffman table');
  return new HuffmanTable(spec.counts, spec.values, isDC);
}

export function parseSos(s: JpegState, seg: Uint8Array): Scan {
  const frame = s.frame;
  if (!frame) fail('scan before frame header');
  const n = seg[0];
  if (n < 1 || n > 4 || seg.length !== 4 + 2 * n) fail('bad scan header');
  const ss = seg[1 + 2 * n];
  const se = seg[2 + 2 * n];
  const ah = seg[3 + 2 * n] >> 4;
  const al = seg[3 + 2 * n] & 15;
  const picked = new Set<JpegComponent>();
  const specs: Array<{ comp: JpegComponent; td: number; ta: number }> = [];
  for (let i = 0; i < n; i++) {
    const comp = frame.comps.find((c) => c.id === seg[1 + 2 * i] && !picked.has(c));
    if (!comp) fail('scan names an unknown component');
    picked.add(comp);
    specs.push({ comp, td: seg[2 + 2 * i] >> 4, ta: seg[2 + 2 * i] & 15 });
  }
  if (n > 1 && specs.reduce((sum, x) => sum + x.comp.h * x.comp.v, 0) > 10) fail('too many blocks per MCU');
  const progressive = frame.progressive;
  if (progressive) {
    const dcBand = ss === 0;
    const bad = (dcBand ? se !== 0 : ss > se || se > 63 || n !== 1) || (ah !== 0 && al !== ah - 1) || al > 13;
    if (bad) fail('bad progression parameters');
  }
  const components = specs.map(({ comp, td, ta }): ScanComponent => {
    if (!comp.quant) {
      const q = s.quant[comp.quantIndex];
      if (!q) fail('missing quantisation table');
      comp.quant = q.slice();
    }
    let dc: HuffmanTable | null = null;
    let ac: HuffmanTable | null = null;
    if (!progressive) {
      dc = buildTable(s, true, td);
      ac = buildTable(s, false, ta);
    } else if (ss === 0) {
      if (ah === 0) dc = buildTable(s, true, td);
    } else {
      ac = buildTable(s, false, ta);
    }
    return { comp, dc, ac };
  });
  return { components, progressive, ss, se, ah, al, restartInterval: s.restartInterval, mcusX: frame.mcusX, mcusY: frame.mcusY };
}

/** libjpeg's default_decompress_parms guess of the colour space. */
export function colorSpace(s: JpegState, frame: Frame): JpegColorSpace {
  const n = frame.comps.length;
  if (n === 1) return 'gray';
  if (n === 3) {
    if (s.sawJfif) return 'ycbcr';
    if (s.adobeTransform >= 0) return s.adobeTransform === 0 ? 'rgb' : 'ycbcr';
    const [a, b, c] = frame.comps.map((x) => x.id);
    if (a === 82 && b === 71 && c === 66) return 'rgb';
    return 'ycbcr';
  }
  if (s.adobeTransform >= 0) return s.adobeTransform === 0 ? 'cmyk' : 'ycck';
  return 'cmyk';
}

export const isSof = (m: number): boolean => m === 0xc0 || m === 0xc1 || m === 0xc2 || m === 0xc9 || m === 0xca;

/** Refuses, before reading any length, the markers libjpeg refuses outright. */
export function checkMarker(marker: number, s: JpegState): void {
  if (marker === 0xd8) fail('second start-of-image marker');
  if ([0xc3, 0xc5, 0xc6, 0xc7, 0xcb, 0xcd, 0xce, 0xcf].includes(marker)) {
    throw new ImageError(`unsupported JPEG: ${marker === 0xc3 || marker === 0xcb ? 'lossless' : 'hierarchical'} coding`);
  }
  // Arithmetic-coded frames libjpeg would decode; a second frame header is an error later on.
  if ((marker === 0xc9 || marker === 0xca) && !s.frame) throw new ImageError('unsupported JPEG: arithmetic coding');
  const known = isSof(marker) || marker === 0xc4 || marker === 0xcc || (marker >= 0xda && marker <= 0xdd) ||
    (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe;
  if (!known) fail(`unknown marker 0x${marker.toString(16)}`);
}
