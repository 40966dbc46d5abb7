import { ImageError } from './errors';
import { END_OF_DATA } from './jpeg-bits';
import { JpegColorSpace, convertColor } from './jpeg-color';
import { HuffmanTable } from './jpeg-huffman';
import { idctIslow } from './jpeg-idct';
import { JpegComponent, NATURAL_ORDER, Scan, ScanComponent, decodeScan, findMarker } from './jpeg-scan';
import { STD_HUFFMAN } from './jpeg-tables';
import { Progression, newProgression, noteScan, smoothComponent, smoothingLatch } from './jpeg-smooth';
import { Plane, upsample } from './jpeg-upsample';
import { Raster, checkImageSize } from './raster';

/*
 * Baseline and progressive (Huffman) JPEG decoder that reproduces what PIL 9.4 gets from
 * libjpeg-turbo 2.1 with its default settings: islow IDCT, fancy upsampling, libjpeg's
 * colour-space guess (JFIF / Adobe marker / component ids), PIL's inverted-CMYK reading.
 * Not supported (ImageError): arithmetic coding, lossless and hierarchical JPEG, 12-bit
 * samples, 2-component files. A progressive file whose scans leave low-frequency coefficients
 * unrefined gets libjpeg's block smoothing in PIL but not here (standard encoders always
 * refine fully). A missing EOI marker is an error, as PIL reports such files as truncated.
 */

function fail(message: string): never {
  throw new ImageError(`corrupt JPEG: ${message}`);
}

interface HuffmanSpec {
  counts: Uint8Array;
  values: Uint8Array;
}

interface Frame {
  width: number;
  height: number;
  progressive: boolean;
  comps: JpegComponent[];
  hmax: number;
  vmax: number;
  mcusX: number;
  mcusY: number;
}

class JpegState {
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

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

/*
 * DQT and DHT parsing follows jdmarker.c step by step, so that a segment cut off by the end of
 * the file (tolerated once the image is complete) fails exactly when libjpeg would.
 * `cut` marks such a segment: parsing then stops quietly where the data ends.
 */
function parseDqt(s: JpegState, seg: Uint8Array, cut = false): void {
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

function parseDht(s: JpegState, seg: Uint8Array, declared = seg.length, cut = false): void {
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
function checkDac(seg: Uint8Array, declared = seg.length, cut = false): void {
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
function pilHeaderCheck(marker: number, seg: Uint8Array): void {
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

function parseSof(s: JpegState, seg: Uint8Array, progressive: boolean, maxPixels: number): void {
  if (s.frame) fail('more than one frame header');
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

function parseSos(s: JpegState, seg: Uint8Array): Scan {
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
function colorSpace(s: JpegState, frame: Frame): JpegColorSpace {
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

function render(frame: Frame, space: JpegColorSpace, progression: Progression | null): Raster {
  const zero = new Int16Array(64);
  const latch = progression ? smoothingLatch(progression, frame.comps) : null;
  const planes: Plane[] = frame.comps.map((comp, ci) => {
    const stride = comp.blocksW * 8;
    const data = new Uint8Array(stride * comp.blocksH * 8);
    if (latch && progression) {
      smoothComponent(comp, ci, latch, progression.lastGoodRow, frame.mcusY, data, stride);
    } else {
      // libjpeg's IDCT multipliers are 16-bit: table values above 32767 wrap as C shorts do.
      const quant = comp.quant ? new Int16Array(comp.quant.buffer, comp.quant.byteOffset, 64) : zero;
      for (let by = 0; by < comp.blocksH; by++) {
        for (let bx = 0; bx < comp.blocksW; bx++) {
          idctIslow(comp.coefs, (by * comp.stride + bx) * 64, quant, data, by * 8 * stride + bx * 8, stride);
        }
      }
    }
    return upsample(
      { data, stride, width: comp.width, height: comp.height, hExpand: frame.hmax / comp.h, vExpand: frame.vmax / comp.v },
      frame.width,
      frame.height,
    );
  });
  return convertColor(planes, space, frame.width, frame.height);
}

/** Refuses, before reading any length, the markers libjpeg refuses outright. */
function checkMarker(marker: number, s: JpegState): void {
  if (marker === 0xd8) fail('second start-of-image marker');
  if ([0xc3, 0xc5, 0xc6, 0xc7].includes(marker)) throw new ImageError('unsupported JPEG: lossless or hierarchical coding');
  if ([0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf].includes(marker)) throw new ImageError('unsupported JPEG: arithmetic coding');
  if ((marker === 0xc0 || marker === 0xc1 || marker === 0xc2) && s.frame) fail('more than one frame header');
  const known = marker === 0xc0 || marker === 0xc1 || marker === 0xc2 || marker === 0xc4 || marker === 0xcc ||
    (marker >= 0xda && marker <= 0xdd) || (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe;
  if (!known) fail(`unknown marker 0x${marker.toString(16)}`);
}

export function decodeJpeg(bytes: Uint8Array, maxPixels: number): Raster {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) fail('missing start-of-image marker');
  const s = new JpegState();
  let pos = 2;
  let pending: number | null = null;
  // After the only scan of a single-scan image, libjpeg (and so PIL) has every row it needs:
  // running out of file from the first marker after that scan on is not an error there.
  let scanDone = false;
  let complete = false;
  for (;;) {
    let marker: number;
    if (pending !== null) {
      marker = pending;
      pending = null;
    } else {
      const found = findMarker(bytes, pos);
      marker = found.marker;
      pos = found.pos;
    }
    if (marker === END_OF_DATA) {
      if (complete) break;
      fail('file is truncated');
    }
    if (scanDone) complete = true;
    if (marker === 0xd9) break;
    // PIL's header parser does not know TEM and refuses it before the first scan.
    if (marker === 0x01 && s.scans === 0) fail('unknown marker 0x1');
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    checkMarker(marker, s);
    if (pos + 2 > bytes.length) {
      if (complete) break;
      fail('file is truncated');
    }
    const declared = u16(bytes, pos) - 2;
    const skipped = (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe || marker === 0xdc;
    if (declared < 0 && !skipped) fail('bad segment length');
    const end = pos + 2 + Math.max(declared, 0);
    if (end > bytes.length) {
      if (!complete) fail('file is truncated');
      // The image is complete; libjpeg only fails on what it can already see of the segment.
      const available = bytes.subarray(pos + 2);
      if (marker === 0xdd && declared !== 2) fail('bad restart interval');
      if (marker === 0xda && available.length && (available[0] < 1 || available[0] > 4 || declared !== 4 + 2 * available[0])) {
        fail('bad scan header');
      }
      if (marker === 0xc4) parseDht(s, available, declared, true);
      if (marker === 0xdb) parseDqt(s, available, true);
      if (marker === 0xcc) checkDac(available, declared, true);
      break;
    }
    const seg = bytes.subarray(pos + 2, end);
    pos = end;
    if (s.scans === 0) pilHeaderCheck(marker, seg);
    switch (marker) {
      case 0xc0:
      case 0xc1:
      case 0xc2:
        parseSof(s, seg, marker === 0xc2, maxPixels);
        break;
      case 0xc4:
        parseDht(s, seg);
        break;
      case 0xdb:
        parseDqt(s, seg);
        break;
      case 0xdd:
        if (seg.length !== 2) fail('bad restart interval');
        s.restartInterval = u16(seg, 0);
        break;
      case 0xda: {
        const scan = parseSos(s, seg);
        const frame = s.frame as Frame;
        if (s.scans === 0) {
          s.multiScan = frame.progressive || scan.components.length < frame.comps.length;
          s.space = colorSpace(s, frame);
        } else if (!s.multiScan) {
          fail('unexpected extra scan');
        }
        s.scans++;
        if (s.progression) {
          const indices = scan.components.map((c) => frame.comps.indexOf(c.comp));
          noteScan(s.progression, indices, scan.ss, scan.se, scan.al);
        }
        const reader = decodeScan(bytes, pos, scan, s.multiScan ? (s.progression ?? undefined) : undefined);
        // A marker met while reading ahead is the next one; otherwise scan on from the reader.
        if (reader.marker !== 0) pending = reader.marker;
        pos = reader.pos;
        scanDone = !s.multiScan;
        break;
      }
      case 0xe0:
        if (seg.length >= 14 && seg[0] === 0x4a && seg[1] === 0x46 && seg[2] === 0x49 && seg[3] === 0x46 && seg[4] === 0) s.sawJfif = true;
        break;
      case 0xee:
        if (seg.length >= 12 && String.fromCharCode(...seg.subarray(0, 5)) === 'Adobe') s.adobeTransform = seg[11];
        break;
      case 0xcc:
        checkDac(seg);
        break;
      default:
        // APPn, COM and DNL (which only matters with a zero height, refused anyway).
        break;
    }
  }
  if (!s.frame) fail('no frame header');
  if (s.scans === 0) fail('no image data');
  return render(s.frame, s.space, s.progression);
}
