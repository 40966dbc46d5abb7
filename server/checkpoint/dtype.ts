// Element decoding: turns raw tensor bytes of any supported dtype into float32,
// rounding exactly like a Float32Array assignment (round to nearest, ties to even).

import { CheckpointError } from './errors';
import type { SourceDType } from './types';

export const ITEM_SIZE: Readonly<Record<SourceDType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes `count` elements starting at byte `byteStart` of `bytes`. */
export function decodeElements(
  bytes: Uint8Array,
  dtype: SourceDType,
  byteStart: number,
  count: number,
  littleEndian: boolean,
): Float32Array {
  const size = ITEM_SIZE[dtype];
  const byteLength = count * size;
  if (!Number.isSafeInteger(byteStart) || byteStart < 0 || byteStart + byteLength > bytes.length) {
    throw new CheckpointError(`tensor data out of range: bytes ${byteStart}..${byteStart + byteLength} of ${bytes.length}`);
  }
  let src = bytes.subarray(byteStart, byteStart + byteLength);
  if (!littleEndian && size > 1) src = byteSwapped(src, size);
  // Typed-array views need native little-endian order and element alignment; DataView covers the rest.
  const fast = HOST_LITTLE_ENDIAN && (src.byteOffset % size === 0);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  switch (dtype) {
    case 'float32':
      if (fast) return new Float32Array(src.buffer, src.byteOffset, count);
      if (HOST_LITTLE_ENDIAN) return new Float32Array(new Uint8Array(src).buffer); // an aligned copy (Buffer.slice would not copy)
      return fill(count, (i) => view.getFloat32(i * 4, true));
    case 'float16': {
      const table = halfTable();
      if (fast) return mapU16(new Uint16Array(src.buffer, src.byteOffset, count), table);
      return fill(count, (i) => table[view.getUint16(i * 2, true)]);
    }
    case 'bfloat16': {
      const out = new Float32Array(count);
      // Writing the bit pattern keeps NaN payloads and signed zeros intact.
      const bits = new Uint32Array(out.buffer);
      if (fast && HOST_LITTLE_ENDIAN) {
        const half = new Uint16Array(src.buffer, src.byteOffset, count);
        for (let i = 0; i < count; i++) bits[i] = half[i] << 16;
      } else {
        for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      }
      return out;
    }
    case 'float64':
      if (fast) return widened(new Float64Array(src.buffer, src.byteOffset, count));
      return fill(count, (i) => view.getFloat64(i * 8, true));
    case 'int64':
      return fill(count, (i) => int64ToNumber(view, i * 8));
    case 'int32':
      if (fast) return widened(new Int32Array(src.buffer, src.byteOffset, count));
      return fill(count, (i) => view.getInt32(i * 4, true));
    case 'int16':
      if (fast) return widened(new Int16Array(src.buffer, src.byteOffset, count));
      return fill(count, (i) => view.getInt16(i * 2, true));
    case 'int8':
      return widened(new Int8Array(src.buffer, src.byteOffset, count));
    case 'uint8':
      return widened(src);
    case 'bool':
      return fill(count, (i) => (src[i] !== 0 ? 1 : 0));
  }
}

// TypedArray.set converts element-wise with the same rounding as an assignment.
function widened(src: Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array): Float32Array {
  const out = new Float32Array(src.length);
  out.set(src);
  return out;
}

function fill(count: number, at: (i: number) => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = at(i);
  return out;
}

function mapU16(src: Uint16Array, table: Float32Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

function byteSwapped(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += size) {
    for (let j = 0; j < size; j++) out[i + j] = src[i + size - 1 - j];
  }
  return out;
}

let half: Float32Array | undefined;

/** All 65536 float16 values, exact in float32. */
function halfTable(): Float32Array {
  if (half) return half;
  half = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    let value: number;
    if (exp === 0) value = mant * 2 ** -24;
    else if (exp === 31) value = mant === 0 ? Infinity : NaN;
    else value = (1 + mant / 1024) * 2 ** (exp - 15);
    half[h] = sign * value;
  }
  return half;
}

/**
 * int64 -> number that rounds to the same float32 as a direct int64 -> float32
 * conversion. Beyond 2^53 a plain Number() would round twice, so the value is
 * first rounded to odd at 53 bits, which makes the second rounding exact.
 */
function int64ToNumber(view: DataView, at: number): number {
  const lo = view.getUint32(at, true);
  const hi = view.getInt32(at + 4, true);
  if (hi >= -0x200000 && hi < 0x200000) return hi * 0x100000000 + lo;
  const value = view.getBigInt64(at, true);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const shift = BigInt(magnitude.toString(2).length - 53);
  let top = magnitude >> shift;
  if ((magnitude & ((1n << shift) - 1n)) !== 0n) top |= 1n;
  const rounded = Number(top) * 2 ** Number(shift);
  return negative ? -rounded : rounded;
}

/** A strided view of `shape` over elements of `bytes`, starting at element `offset`. */
export interface StridedSource {
  bytes: Uint8Array;
  dtype: SourceDType;
  littleEndian: boolean;
  offset: number;
  shape: readonly number[];
  stride: readonly number[];
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major contiguous float32 copy (or zero-copy view) of a strided source whose bounds were already checked. */
export function materialize(src: StridedSource): Float32Array {
  const numel = numelOf(src.shape);
  if (numel === 0) return new Float32Array(0);
  const size = ITEM_SIZE[src.dtype];
  // Strides of length-1 dimensions are never followed; zero them so they cannot disturb index arithmetic.
  const stride = src.shape.map((d, i) => (d === 1 ? 0 : src.stride[i]));
  if (isContiguous(src.shape, stride)) {
    return decodeElements(src.bytes, src.dtype, src.offset * size, numel, src.littleEndian);
  }
  // Decode the span the view touches once, then gather from it.
  let span = 1;
  for (let d = 0; d < src.shape.length; d++) span += (src.shape[d] - 1) * stride[d];
  const flat = decodeElements(src.bytes, src.dtype, src.offset * size, span, src.littleEndian);
  return gather(flat, src.shape, stride, numel);
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

function gather(flat: Float32Array, shape: readonly number[], stride: readonly number[], numel: number): Float32Array {
  const out = new Float32Array(numel);
  const nd = shape.length;
  const last = nd - 1;
  const rowLength = shape[last];
  const rowStride = stride[last];
  const index = new Array<number>(nd).fill(0);
  let base = 0;
  let o = 0;
  for (;;) {
    for (let i = 0, p = base; i < rowLength; i++, p += rowStride) out[o++] = flat[p];
    let d = last - 1;
    for (; d >= 0; d--) {
      index[d]++;
      base += stride[d];
      if (index[d] < shape[d]) break;
      base -= stride[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) return out;
  }
}
