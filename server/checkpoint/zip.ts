// Minimal read-only zip reader for PyTorch checkpoints: central directory,
// ZIP64, stored and deflate entries. Every offset and length read from the file
// is checked before use, and entry names are only ever used as lookup keys.

import { crc32, inflateRawSync } from 'node:zlib';
import { CheckpointError, printable } from './errors';

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
/** Deflate cannot expand data by more than about 1032:1; anything claiming more is a bomb. */
const MAX_DEFLATE_RATIO = 1032;
const MAX_INFLATED = 1 << 30;
/** Deflated entries together may inflate to this many times the archive (or MAX_INFLATED); torch writes stored entries. */
const MAX_TOTAL_INFLATE_RATIO = 32;

export interface ZipOptions {
  /** Bytes all deflated entries may inflate to together; default max(1 GiB, 32 × the archive). */
  maxTotalInflated?: number;
}

export class ZipArchive {
  private readonly cache = new Map<string, Uint8Array>();
  private inflated = 0;
  private readonly maxTotalInflated: number;

  private constructor(
    private readonly bytes: Uint8Array,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    options: ZipOptions,
  ) {
    this.maxTotalInflated = options.maxTotalInflated ?? Math.max(MAX_INFLATED, MAX_TOTAL_INFLATE_RATIO * bytes.length);
  }

  static open(bytes: Uint8Array, options: ZipOptions = {}): ZipArchive {
    return new ZipArchive(bytes, readCentralDirectory(bytes), options);
  }

  /** The entry's uncompressed bytes: a view onto the archive for stored entries. */
  read(name: string): Uint8Array {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const entry = this.entries.get(name);
    if (!entry) throw new CheckpointError(`zip entry '${printable(name)}' not found`);
    const data = extract(this.bytes, entry, (size) => this.reserve(size));
    this.cache.set(name, data);
    return data;
  }

  /** Each entry's own ratio is capped, but many entries add up: checked before inflating. */
  private reserve(size: number): void {
    if (this.inflated + size > this.maxTotalInflated) {
      fail(`deflated entries would inflate to more than ${this.maxTotalInflated} bytes in total`);
    }
    this.inflated += size;
  }
}

function fail(why: string): never {
  throw new CheckpointError(`damaged zip archive: ${why}`);
}

function u16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function u64(b: Uint8Array, at: number): number {
  const value = u32(b, at + 4) * 0x100000000 + u32(b, at);
  if (!Number.isSafeInteger(value)) fail('a 64-bit size or offset is too large');
  return value;
}

function findEndOfCentralDirectory(b: Uint8Array): number {
  if (b.length < 22) fail('file too short (truncated?)');
  const lowest = Math.max(0, b.length - 22 - U16_MAX);
  for (let at = b.length - 22; at >= lowest; at--) {
    if (u32(b, at) === EOCD_SIG && at + 22 + u16(b, at + 20) <= b.length) return at;
  }
  fail('end of central directory not found (truncated?)');
}

function readCentralDirectory(b: Uint8Array): Map<string, ZipEntry> {
  const eocd = findEndOfCentralDirectory(b);
  if (u16(b, eocd + 4) !== 0 || u16(b, eocd + 6) !== 0) fail('multi-disk archives are not supported');
  let count = u16(b, eocd + 10);
  let cdSize = u32(b, eocd + 12);
  let cdOffset = u32(b, eocd + 16);
  const locator = eocd - 20;
  if (locator >= 0 && u32(b, locator) === ZIP64_LOCATOR_SIG) {
    const at = u64(b, locator + 8);
    if (at + 56 > locator) fail('ZIP64 end of central directory out of range');
    if (u32(b, at) !== ZIP64_EOCD_SIG) fail('bad ZIP64 end of central directory signature');
    count = u64(b, at + 32);
    cdSize = u64(b, at + 40);
    cdOffset = u64(b, at + 48);
  } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    fail('ZIP64 archive without a ZIP64 locator');
  }
  if (cdOffset + cdSize > b.length) fail('central directory out of range (truncated?)');
  // Each record is at least 46 bytes, which also bounds the entry count.
  if (count * 46 > cdSize) fail(`central directory too small for ${count} entries`);

  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8');
  let at = cdOffset;
  const end = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (at + 46 > end) fail('central directory entry out of range');
    if (u32(b, at) !== CENTRAL_SIG) fail('bad central directory signature');
    const nameLength = u16(b, at + 28);
    const extraLength = u16(b, at + 30);
    const commentLength = u16(b, at + 32);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > end) fail('central directory entry out of range');
    const name = decoder.decode(b.subarray(at + 46, at + 46 + nameLength));
    let compressedSize = u32(b, at + 20);
    let size = u32(b, at + 24);
    let localHeaderOffset = u32(b, at + 42);
    const zip64 = findExtra(b, at + 46 + nameLength, extraLength, 0x0001);
    if (zip64) {
      // ZIP64 fields appear only for the values saturated in the fixed record, in this order.
      let p = zip64.start;
      const take = (): number => {
        if (p + 8 > zip64.end) fail(`ZIP64 extra field too short for '${printable(name)}'`);
        const value = u64(b, p);
        p += 8;
        return value;
      };
      if (size === U32_MAX) size = take();
      if (compressedSize === U32_MAX) compressedSize = take();
      if (localHeaderOffset === U32_MAX) localHeaderOffset = take();
    }
    if (entries.has(name)) fail(`duplicate entry '${printable(name)}'`);
    entries.set(name, {
      name,
      flags: u16(b, at + 8),
      method: u16(b, at + 10),
      crc32: u32(b, at + 16),
      compressedSize,
      size,
      localHeaderOffset,
    });
    at = next;
  }
  checkNoOverlap(entries);
  return entries;
}

/**
 * Entries whose data overlap let a few bytes of deflate stream count as many large files (an
 * overlapping zip bomb); no zip writer produces them. Each entry needs at least its 30-byte
 * local header and its compressed data before the next one starts.
 */
function checkNoOverlap(entries: ReadonlyMap<string, ZipEntry>): void {
  const sorted = [...entries.values()].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    if (sorted[i].localHeaderOffset < previous.localHeaderOffset + 30 + previous.compressedSize) {
      fail(`entries '${printable(previous.name, 80)}' and '${printable(sorted[i].name, 80)}' overlap`);
    }
  }
}

function findExtra(b: Uint8Array, start: number, length: number, id: number): { start: number; end: number } | undefined {
  const end = start + length;
  let at = start;
  while (at + 4 <= end) {
    const fieldLength = u16(b, at + 2);
    if (at + 4 + fieldLength > end) return undefined;
    if (u16(b, at) === id) return { start: at + 4, end: at + 4 + fieldLength };
    at += 4 + fieldLength;
  }
  return undefined;
}

function extract(b: Uint8Array, entry: ZipEntry, reserve: (inflatedSize: number) => void): Uint8Array {
  const shown = printable(entry.name);
  if (entry.flags & 0x41) fail(`entry '${shown}' is encrypted`);
  const local = entry.localHeaderOffset;
  if (local + 30 > b.length) fail(`local header of '${shown}' out of range (truncated?)`);
  if (u32(b, local) !== LOCAL_SIG) fail(`bad local header signature for '${shown}'`);
  const start = local + 30 + u16(b, local + 26) + u16(b, local + 28);
  const end = start + entry.compressedSize;
  if (end > b.length) fail(`data of '${shown}' runs past the end of the file (truncated?)`);
  const raw = b.subarray(start, end);
  let data: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) fail(`stored entry '${shown}' has mismatched sizes`);
    data = raw;
  } else if (entry.method === 8) {
    if (entry.size > MAX_INFLATED || entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      fail(`entry '${shown}' claims an implausible uncompressed size of ${entry.size} bytes`);
    }
    reserve(entry.size);
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
    } catch (error) {
      fail(`cannot inflate '${shown}': ${(error as Error).message}`);
    }
    if (data.length !== entry.size) fail(`entry '${shown}' inflates to ${data.length} bytes, expected ${entry.size}`);
  } else {
    fail(`entry '${shown}' uses unsupported compression method ${entry.method}`);
  }
  if (crc32(data) !== entry.crc32) fail(`checksum mismatch in '${shown}'`);
  return data;
}
