// Element conversion to float32: exact rounding for every source dtype, both
// byte orders, aligned and unaligned sources, and strided gathers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError, type SourceDType } from '../../server/checkpoint';
import { decodeElements, ITEM_SIZE, materialize } from '../../server/checkpoint/dtype';

let seed = 99;
function random32(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = random32() >>> 24;
  return out;
}

function bits(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

test('float16 special values decode exactly', () => {
  const halves = Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x3555);
  const out = decodeElements(new Uint8Array(halves.buffer), 'float16', 0, halves.length, true);
  assert.deepEqual([...out], [1, -2, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, -0, 0.333251953125]);
  assert.ok(Object.is(out[8], -0));
  assert.ok(Number.isNaN(decodeElements(Uint8Array.of(0x00, 0x7e), 'float16', 0, 1, true)[0]));
});

test('bfloat16 keeps the exact bit pattern, NaN payloads included', () => {
  const out = decodeElements(Uint8Array.of(0x80, 0x3f, 0xc1, 0x7f, 0x00, 0x80), 'bfloat16', 0, 3, true);
  assert.deepEqual(bits(out), [0x3f800000, 0x7fc10000, 0x80000000]);
});

test('float64 rounds to nearest even exactly like Float32Array assignment, aligned or not', () => {
  const n = 2000;
  const doubles = new Float64Array(n);
  const view = new DataView(doubles.buffer);
  for (let i = 0; i < n; i++) {
    view.setUint32(i * 8, random32(), true);
    view.setUint32(i * 8 + 4, (random32() & 0x800fffff) | (((random32() % 300) + 0x380 - 150) << 20), true);
  }
  doubles.set([1 + 2 ** -24, 1 + 3 * 2 ** -24, 3.4028235677973366e38, -1e39, 2 ** -150, 2 ** -150 * 1.5, NaN, -0], 0);
  const reference = Float32Array.from(doubles);
  const bytes = new Uint8Array(doubles.buffer);
  assert.deepEqual(bits(decodeElements(bytes, 'float64', 0, n, true)), bits(reference));
  const shifted = new Uint8Array(bytes.length + 3).subarray(3);
  shifted.set(bytes);
  assert.deepEqual(bits(decodeElements(shifted, 'float64', 0, n, true)), bits(reference));
});

/** Is `f` the float32 nearest to the integer `v` (ties to even)? Checked with exact BigInt arithmetic. */
function isNearestFloat32(v: bigint, f: number): boolean {
  if (v >= -(2n ** 24n) && v <= 2n ** 24n) return f === Number(v); // exactly representable
  const asBig = (x: number): bigint => (Number.isFinite(x) ? BigInt(x) : x > 0 ? 2n ** 128n : -(2n ** 128n));
  const u = new Uint32Array(Float32Array.of(f).buffer)[0];
  const neighbours = [u - 1, u + 1].map((b) => new Float32Array(Uint32Array.of(b >>> 0).buffer)[0]);
  const distance = (x: number): bigint => {
    const d = v - asBig(x);
    return d < 0n ? -d : d;
  };
  return neighbours.every((g) => {
    if (!Number.isFinite(g) && !Number.isFinite(f)) return true;
    const dg = distance(g);
    const df = distance(f);
    return df < dg || (df === dg && (u & 1) === 0);
  });
}

test('int64 rounds directly to float32, never twice through float64', () => {
  const values: bigint[] = [0n, -1n, 2n ** 24n + 1n, 2n ** 53n + 1n, 2n ** 60n + 2n ** 36n + 1n, -(2n ** 60n + 2n ** 36n + 1n), -(2n ** 63n), 2n ** 63n - 1n];
  for (let i = 0; i < 3000; i++) {
    const hi = BigInt.asIntN(32, BigInt(random32()) >> BigInt(random32() % 32));
    values.push(BigInt.asIntN(64, (hi << 32n) | BigInt(random32())));
  }
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  const out = decodeElements(bytes, 'int64', 0, values.length, true);
  values.forEach((v, i) => assert.ok(isNearestFloat32(v, out[i]), `${v} -> ${out[i]}`));
  assert.equal(out[4], 2 ** 60 + 2 ** 37);
});

test('narrow integer types and bool', () => {
  const i32 = Int32Array.of(0, -7, 2 ** 24 + 1, 2 ** 24 + 3, 2 ** 31 - 1, -(2 ** 31));
  assert.deepEqual([...decodeElements(new Uint8Array(i32.buffer), 'int32', 0, 6, true)], [0, -7, 2 ** 24, 2 ** 24 + 4, 2 ** 31, -(2 ** 31)]);
  assert.deepEqual([...decodeElements(new Uint8Array(Int16Array.of(-32768, 5).buffer), 'int16', 0, 2, true)], [-32768, 5]);
  assert.deepEqual([...decodeElements(Uint8Array.of(0x80, 0x7f), 'int8', 0, 2, true)], [-128, 127]);
  assert.deepEqual([...decodeElements(Uint8Array.of(0x80, 0x7f), 'uint8', 0, 2, true)], [128, 127]);
  assert.deepEqual([...decodeElements(Uint8Array.of(0, 1, 2), 'bool', 0, 3, true)], [0, 1, 1]);
});

const DTYPES: SourceDType[] = ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];

test('big-endian and unaligned sources decode like aligned little-endian ones', () => {
  for (const dtype of DTYPES) {
    const size = ITEM_SIZE[dtype];
    const count = 64;
    const le = randomBytes(count * size);
    const be = new Uint8Array(le.length);
    for (let i = 0; i < le.length; i += size) for (let j = 0; j < size; j++) be[i + j] = le[i + size - 1 - j];
    const reference = bits(decodeElements(le, dtype, 0, count, true));
    assert.deepEqual(bits(decodeElements(be, dtype, 0, count, false)), reference, `${dtype} big-endian`);
    const shifted = new Uint8Array(le.length + 1);
    shifted.set(le, 1);
    assert.deepEqual(bits(decodeElements(shifted, dtype, 1, count, true)), reference, `${dtype} unaligned`);
  }
});

test('decoding outside the buffer is a CheckpointError', () => {
  assert.throws(() => decodeElements(new Uint8Array(8), 'float32', 4, 2, true), CheckpointError);
  assert.throws(() => decodeElements(new Uint8Array(8), 'float64', -8, 1, true), CheckpointError);
});

test('strided views gather in row-major order', () => {
  const storage = new Uint8Array(Float32Array.from({ length: 24 }, (_, i) => i).buffer);
  const view = (offset: number, shape: number[], stride: number[]): number[] =>
    [...materialize({ bytes: storage, dtype: 'float32', littleEndian: true, offset, shape, stride })];
  assert.deepEqual(view(0, [2, 3, 4], [12, 4, 1]), Array.from({ length: 24 }, (_, i) => i));
  // permute(2, 0, 1) of a [2, 3, 4] tensor
  const permuted: number[] = [];
  for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) permuted.push(i * 12 + j * 4 + k);
  assert.deepEqual(view(0, [4, 2, 3], [1, 12, 4]), permuted);
  assert.deepEqual(view(5, [3], [0]), [5, 5, 5]);
  assert.deepEqual(view(3, [], []), [3]);
  assert.deepEqual(view(2, [1, 3, 1], [2 ** 52, 2, 2 ** 40]), [2, 4, 6]);
  assert.deepEqual(view(0, [0, 5], [5, 1]), []);
});
