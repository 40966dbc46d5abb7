// Reads a .safetensors file: an 8-byte little-endian header length, a JSON
// header describing each tensor, then the raw little-endian tensor bytes.

import { findStateDict } from './container';
import { decodeElements, ITEM_SIZE } from './dtype';
import { CheckpointError, printable } from './errors';
import { parseStrictJson, type JsonValue } from './json';
import type { Checkpoint, SourceDType, TensorData } from './types';

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const DTYPES: Readonly<Record<string, SourceDType>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

interface Entry {
  name: string;
  dtype: SourceDType;
  shape: number[];
  numel: number;
  start: number;
  end: number;
}

/** Marks decoded tensors for the container search. */
class SafeTensor {
  constructor(readonly data: TensorData) {}
}

export function readSafetensors(bytes: Uint8Array): Checkpoint {
  if (bytes.length < 8) throw new CheckpointError('safetensors file too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true) * 0x100000000 + view.getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new CheckpointError(`safetensors header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (headerLength > bytes.length - 8) {
    throw new CheckpointError(`safetensors header length ${headerLength} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new CheckpointError('safetensors header is not valid UTF-8');
  }
  const header = parseStrictJson(text, 'safetensors header');
  if (!(header instanceof Map)) throw new CheckpointError('safetensors header is not a JSON object');

  const data = bytes.subarray(8 + headerLength);
  const entries: Entry[] = [];
  for (const [name, info] of header) {
    if (name === '__metadata__') {
      if (!(info instanceof Map)) throw new CheckpointError('safetensors __metadata__ is not an object');
      continue;
    }
    entries.push(parseEntry(name, info, data.length));
  }
  checkNoOverlap(entries);

  const root = new Map<string, SafeTensor>();
  for (const e of entries) {
    const values = decodeElements(data, e.dtype, e.start, e.numel, true);
    root.set(e.name, new SafeTensor({ dtype: e.dtype, shape: e.shape, data: values }));
  }
  if (root.size === 0) throw new CheckpointError('safetensors file holds no tensors');
  const found = findStateDict(root, (value): value is SafeTensor => value instanceof SafeTensor);
  const tensors = new Map<string, TensorData>();
  for (const [key, value] of found.entries) tensors.set(key, value.data);
  return { format: 'safetensors', tensors, container: found.container };
}

function parseEntry(name: string, info: JsonValue, dataLength: number): Entry {
  const shown = printable(name, 80);
  const bad = (why: string): never => {
    throw new CheckpointError(`safetensors tensor '${shown}': ${why}`);
  };
  if (!(info instanceof Map)) return bad('entry is not an object');
  const dtypeName = info.get('dtype');
  if (typeof dtypeName !== 'string') return bad('missing dtype');
  if (!Object.hasOwn(DTYPES, dtypeName)) return bad(`unsupported dtype '${printable(dtypeName, 20)}'`);
  const dtype = DTYPES[dtypeName];
  const shapeValue = info.get('shape');
  if (!Array.isArray(shapeValue) || shapeValue.length > 64) return bad('shape must be a list of at most 64 integers');
  const shape = shapeValue.map((d) => (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0 ? d : bad(`bad dimension ${JSON.stringify(d)}`)));
  let numel = 1;
  for (const d of shape) numel *= d;
  if (!Number.isSafeInteger(numel)) return bad('shape too large');
  const offsets = info.get('data_offsets');
  if (!Array.isArray(offsets) || offsets.length !== 2) return bad('data_offsets must be [start, end]');
  const [start, end] = offsets.map((o) => (typeof o === 'number' && Number.isSafeInteger(o) && o >= 0 ? o : bad(`bad data offset ${JSON.stringify(o)}`)));
  if (start > end || end > dataLength) {
    return bad(`data_offsets [${start}, ${end}] fall outside the ${dataLength}-byte data section`);
  }
  const needed = numel * ITEM_SIZE[dtype];
  if (end - start !== needed) {
    return bad(`data_offsets span ${end - start} bytes but shape [${shape.join(', ')}] of ${dtypeName} needs ${needed}`);
  }
  return { name, dtype, shape, numel, start, end };
}

function checkNoOverlap(entries: readonly Entry[]): void {
  const sorted = entries.filter((e) => e.end > e.start).sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].start < sorted[i - 1].end) {
      throw new CheckpointError(
        `safetensors tensors '${printable(sorted[i - 1].name, 80)}' and '${printable(sorted[i].name, 80)}' overlap`,
      );
    }
  }
}
