// Where the trusted fields and movable pieces of each format sit in a valid file, for the
// structured mutations. These walkers only ever see the unmutated fixtures.

import { crc32 } from '../../server/image/crc32';
import type { Field, Layout, Unit } from './mutate';

const le = (at: number, size: Field['size'], name: string): Field => ({ at, size, littleEndian: true, name });
const be = (at: number, size: Field['size'], name: string): Field => ({ at, size, littleEndian: false, name });

const u16le = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8);
const u32le = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const u16be = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];
const u32be = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** Local headers, central directory records, ZIP64 records and the end record. */
export function zipLayout(b: Uint8Array): Layout {
  const fields: Field[] = [];
  const units: Unit[] = [];
  let eocd = b.length - 22;
  while (eocd > 0 && u32le(b, eocd) !== 0x06054b50) eocd--;
  fields.push(le(eocd + 8, 2, 'eocd.entriesOnDisk'), le(eocd + 10, 2, 'eocd.entries'), le(eocd + 12, 4, 'eocd.cdSize'), le(eocd + 16, 4, 'eocd.cdOffset'), le(eocd + 20, 2, 'eocd.commentLength'));
  const locator = eocd - 20;
  if (locator >= 0 && u32le(b, locator) === 0x07064b50) {
    fields.push(le(locator + 8, 8, 'zip64locator.offset'));
    const z = Number(u32le(b, locator + 8));
    fields.push(le(z + 32, 8, 'zip64eocd.entries'), le(z + 40, 8, 'zip64eocd.cdSize'), le(z + 48, 8, 'zip64eocd.cdOffset'));
  }
  const count = u16le(b, eocd + 10);
  let at = u32le(b, eocd + 16);
  if (count === 0xffff) at = Number(u32le(b, u32le(b, locator + 8) + 48));
  for (let i = 0; i < count && at + 46 <= b.length && u32le(b, at) === 0x02014b50; i++) {
    const nameLength = u16le(b, at + 28);
    const extraLength = u16le(b, at + 30);
    const next = at + 46 + nameLength + extraLength + u16le(b, at + 32);
    const name = `cd#${i}`;
    fields.push(
      le(at + 8, 2, `${name}.flags`), le(at + 10, 2, `${name}.method`), le(at + 16, 4, `${name}.crc`), le(at + 20, 4, `${name}.compressedSize`),
      le(at + 24, 4, `${name}.size`), le(at + 28, 2, `${name}.nameLength`), le(at + 30, 2, `${name}.extraLength`), le(at + 32, 2, `${name}.commentLength`),
      le(at + 42, 4, `${name}.localOffset`),
    );
    // ZIP64 extra: the 64-bit sizes and offset.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; e += 4 + u16le(b, e + 2)) {
      fields.push(le(e + 2, 2, `${name}.extra.length`));
      if (u16le(b, e) === 0x0001) for (let k = 0; k + 8 <= u16le(b, e + 2); k += 8) fields.push(le(e + 4 + k, 8, `${name}.zip64[${k / 8}]`));
    }
    units.push({ start: at, end: next, name });
    const local = u32le(b, at + 42);
    if (local + 30 <= b.length && u32le(b, local) === 0x04034b50) {
      fields.push(le(local + 6, 2, `local#${i}.flags`), le(local + 8, 2, `local#${i}.method`), le(local + 18, 4, `local#${i}.compressedSize`), le(local + 22, 4, `local#${i}.size`), le(local + 26, 2, `local#${i}.nameLength`), le(local + 28, 2, `local#${i}.extraLength`));
    }
    at = next;
  }
  return { fields, units };
}

/** Chunk lengths and the IHDR fields; every chunk is a unit. */
export function pngLayout(b: Uint8Array): Layout {
  const fields: Field[] = [];
  const units: Unit[] = [];
  let pos = 8;
  for (let i = 0; pos + 12 <= b.length; i++) {
    const length = u32be(b, pos);
    const type = String.fromCharCode(b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]);
    const name = `${type}#${i}`;
    fields.push(be(pos, 4, `${name}.length`));
    if (type === 'IHDR') {
      fields.push(be(pos + 8, 4, 'IHDR.width'), be(pos + 12, 4, 'IHDR.height'), be(pos + 16, 1, 'IHDR.depth'), be(pos + 17, 1, 'IHDR.colorType'), be(pos + 18, 1, 'IHDR.compression'), be(pos + 19, 1, 'IHDR.filter'), be(pos + 20, 1, 'IHDR.interlace'));
    }
    if (type === 'IDAT' && length >= 2) fields.push(be(pos + 8, 2, `${name}.zlibHeader`));
    units.push({ start: pos, end: pos + 12 + length, name });
    pos += 12 + length;
  }
  return { fields, units };
}

/** Recomputes the CRC of every chunk whose length still fits, so damage reaches the decoder. */
export function fixPngCrcs(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  let pos = 8;
  while (pos + 12 <= out.length) {
    const length = u32be(out, pos);
    if (length > out.length - pos - 12) break;
    const crc = crc32(out, pos + 4, pos + 8 + length);
    new DataView(out.buffer, out.byteOffset).setUint32(pos + 8 + length, crc);
    pos += 12 + length;
  }
  return out;
}

const STANDALONE = (m: number): boolean => m === 0x01 || m === 0xd8 || m === 0xd9 || (m >= 0xd0 && m <= 0xd7);

/** Segment lengths and the frame, scan, table and restart fields; segments (with their scan data) are units. */
export function jpegLayout(b: Uint8Array): Layout {
  const fields: Field[] = [];
  const units: Unit[] = [];
  let pos = 2;
  for (let i = 0; pos + 2 <= b.length; i++) {
    if (b[pos] !== 0xff) break;
    const marker = b[pos + 1];
    const name = `${marker.toString(16)}#${i}`;
    if (STANDALONE(marker)) {
      units.push({ start: pos, end: pos + 2, name });
      pos += 2;
      continue;
    }
    const length = u16be(b, pos + 2);
    fields.push(be(pos + 2, 2, `${name}.length`));
    const seg = pos + 4;
    if (marker >= 0xc0 && marker <= 0xc2) {
      fields.push(be(seg, 1, 'SOF.precision'), be(seg + 1, 2, 'SOF.height'), be(seg + 3, 2, 'SOF.width'), be(seg + 5, 1, 'SOF.components'));
      for (let c = 0; c < b[seg + 5]; c++) fields.push(be(seg + 7 + 3 * c, 1, `SOF.sampling[${c}]`), be(seg + 8 + 3 * c, 1, `SOF.quant[${c}]`));
    } else if (marker === 0xda) {
      fields.push(be(seg, 1, `${name}.components`));
      const n = b[seg];
      fields.push(be(seg + 1 + 2 * n, 1, `${name}.Ss`), be(seg + 2 + 2 * n, 1, `${name}.Se`), be(seg + 3 + 2 * n, 1, `${name}.AhAl`));
      for (let c = 0; c < n; c++) fields.push(be(seg + 2 + 2 * c, 1, `${name}.tables[${c}]`));
    } else if (marker === 0xdd) {
      fields.push(be(seg, 2, 'DRI.interval'));
    } else if (marker === 0xc4) {
      fields.push(be(seg, 1, `${name}.class`));
      for (let k = 0; k < 16; k++) fields.push(be(seg + 1 + k, 1, `${name}.counts[${k}]`));
    } else if (marker === 0xdb) {
      fields.push(be(seg, 1, `${name}.precision`));
    }
    let end = pos + 2 + length;
    if (marker === 0xda) {
      // The entropy-coded data runs to the next marker that is not a stuffed byte or a restart.
      while (end + 1 < b.length && !(b[end] === 0xff && b[end + 1] !== 0 && !(b[end + 1] >= 0xd0 && b[end + 1] <= 0xd7))) end++;
    }
    units.push({ start: pos, end, name });
    pos = end;
  }
  return { fields, units };
}

/** Screen and frame sizes, palette flags, LZW code size and sub-block lengths; blocks are units. */
export function gifLayout(b: Uint8Array): Layout {
  const fields: Field[] = [le(6, 2, 'screen.width'), le(8, 2, 'screen.height'), le(10, 1, 'screen.flags')];
  const units: Unit[] = [];
  let pos = 13;
  if (b[10] & 0x80) pos += 3 << ((b[10] & 7) + 1);
  const subBlocks = (name: string): void => {
    for (let k = 0; pos < b.length; k++) {
      const size = b[pos];
      if (k < 8) fields.push(le(pos, 1, `${name}.block[${k}]`));
      pos += 1 + size;
      if (size === 0) break;
    }
  };
  for (let i = 0; pos < b.length && b[pos] !== 0x3b; i++) {
    const start = pos;
    const tag = b[pos++];
    if (tag === 0x21) {
      pos++;
      subBlocks(`ext#${i}`);
    } else if (tag === 0x2c) {
      fields.push(le(pos, 2, 'frame.x'), le(pos + 2, 2, 'frame.y'), le(pos + 4, 2, 'frame.width'), le(pos + 6, 2, 'frame.height'), le(pos + 8, 1, 'frame.flags'));
      const flags = b[pos + 8];
      pos += 9;
      if (flags & 0x80) pos += 3 << ((flags & 7) + 1);
      fields.push(le(pos, 1, 'frame.lzwCodeSize'));
      pos++;
      subBlocks(`frame#${i}`);
    } else {
      break;
    }
    units.push({ start, end: pos, name: tag === 0x2c ? `frame#${i}` : `ext#${i}` });
  }
  return { fields, units };
}

/** File and info header fields, for both Windows and OS/2 headers. */
export function bmpLayout(b: Uint8Array): Layout {
  const fields: Field[] = [le(2, 4, 'fileSize'), le(10, 4, 'dataOffset'), le(14, 4, 'headerSize')];
  if (u32le(b, 14) === 12) {
    fields.push(le(18, 2, 'width'), le(20, 2, 'height'), le(22, 2, 'planes'), le(24, 2, 'bits'));
  } else {
    fields.push(le(18, 4, 'width'), le(22, 4, 'height'), le(26, 2, 'planes'), le(28, 2, 'bits'), le(30, 4, 'compression'), le(34, 4, 'imageSize'), le(46, 4, 'colors'));
    for (let m = 0; m < 4; m++) fields.push(le(54 + 4 * m, 4, `mask[${m}]`));
  }
  return { fields, units: [] };
}

/** The 64-bit header length; the JSON header is mutated at the JSON level elsewhere. */
export function safetensorsLayout(): Layout {
  return { fields: [le(0, 8, 'headerLength'), le(0, 4, 'headerLength.low'), le(4, 4, 'headerLength.high')], units: [] };
}

export const NO_LAYOUT: Layout = { fields: [], units: [] };
