import { END_OF_DATA } from './jpeg-bits';
import { JpegColorSpace, convertColor } from './jpeg-color';
import { idctIslow } from './jpeg-idct';
import {
  Frame,
  JpegState,
  checkDac,
  checkMarker,
  colorSpace,
  fail,
  isSof,
  parseDht,
  parseDqt,
  parseSof,
  parseSos,
  pilHeaderCheck,
  u16,
} from './jpeg-markers';
import { decodeScan, findMarker } from './jpeg-scan';
import { Progression, noteScan, smoothComponent, smoothingLatch } from './jpeg-smooth';
import { Plane, upsample } from './jpeg-upsample';
import { ImageError } from './errors';
import { Raster } from './raster';

/*
 * Baseline and progressive (Huffman) JPEG decoder reproducing what PIL 9.4 gets from
 * libjpeg-turbo 2.1 with its default settings on x86-64: the islow IDCT (as its SIMD code
 * computes it), fancy upsampling, block smoothing of incompletely refined progressive files,
 * libjpeg's colour-space guess (JFIF / Adobe marker / component ids) and PIL's reading of CMYK
 * as inverted. Damaged entropy data is handled as libjpeg handles it (restart resync, zero
 * bits after a premature marker). Refused: arithmetic coding, lossless and hierarchical JPEG,
 * 12-bit samples, 2-component files, and files without an EOI marker unless the image was
 * already complete when a marker after its only scan turned up (libjpeg's read-ahead makes PIL
 * accept a few more files that just lack their last byte or two). Unlike PIL, files with more
 * than MAX_SCANS scans are refused.
 */

/** libjpeg-turbo's TurboJPEG API stops at 500 scans for the same reason; PIL has no limit. */
export const MAX_SCANS = 1000;

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
    if (isSof(marker) && s.frame) {
      // libjpeg reads the first fields of a frame header before it notices it is a second one.
      if (pos + 8 > bytes.length && complete) break;
      fail('more than one frame header');
    }
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
        // Every scan walks all blocks of its components even when it holds no data, so a few
        // bytes per scan could keep a large frame busy for minutes; encoders write about ten.
        if (s.scans >= MAX_SCANS) throw new ImageError(`unsupported JPEG: more than ${MAX_SCANS} scans`);
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
