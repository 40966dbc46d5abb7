// Every good fixture written by scripts/make_loader_fixtures.py loads with the
// exact float32 values torch itself produces.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, readCheckpoint, readCheckpointBytes, type TensorData } from '../../server/checkpoint';
import { FIXTURES, fixture } from '../fixtures/loader/build';

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: Array<number | 'NaN' | 'Infinity' | '-Infinity'>;
}

interface ExpectedFile {
  format: string;
  container: string;
  tensors: Record<string, ExpectedTensor>;
}

const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<string, ExpectedFile>;

function decode(value: ExpectedTensor['values'][number]): number {
  return value === 'NaN' ? NaN : value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : value;
}

function assertTensor(key: string, actual: TensorData | undefined, want: ExpectedTensor): void {
  assert.ok(actual, `missing tensor ${key}`);
  assert.equal(actual.dtype, want.dtype, `${key} dtype`);
  assert.deepEqual(actual.shape, want.shape, `${key} shape`);
  assert.ok(actual.data instanceof Float32Array, `${key} data is a Float32Array`);
  assert.equal(actual.data.length, want.values.length, `${key} length`);
  want.values.forEach((raw, i) => {
    const value = decode(raw);
    // Object.is: exact float32 equality that also tells -0 from 0 and matches NaN.
    assert.ok(Object.is(actual.data[i], Math.fround(value)), `${key}[${i}]: got ${actual.data[i]}, expected ${value}`);
  });
}

for (const [file, want] of Object.entries(expected)) {
  test(`${file} loads with the values torch wrote`, () => {
    const checkpoint = readCheckpoint(join(FIXTURES, file));
    assert.equal(checkpoint.format, want.format);
    assert.equal(checkpoint.container, want.container);
    assert.deepEqual([...checkpoint.tensors.keys()].sort(), Object.keys(want.tensors).sort());
    for (const [key, tensor] of Object.entries(want.tensors)) assertTensor(key, checkpoint.tensors.get(key), tensor);
  });
}

test('the fixtures cover every source dtype and both formats', () => {
  const dtypes = new Set<string>();
  for (const file of Object.values(expected)) for (const t of Object.values(file.tensors)) dtypes.add(t.dtype);
  assert.deepEqual([...dtypes].sort(), ['bfloat16', 'bool', 'float16', 'float32', 'float64', 'int16', 'int32', 'int64', 'int8', 'uint8']);
  assert.ok(expected['model.safetensors'] && expected['training.pth.tar'] && expected['renamed_archive.pth']);
});

test('contiguous aligned float32 tensors are zero-copy views onto the file bytes', () => {
  const bytes = fixture('bare.pth');
  const checkpoint = readCheckpointBytes(bytes, 'bare.pth');
  for (const key of ['f32', 'proj.weight', 'shared_a']) {
    assert.equal(checkpoint.tensors.get(key)?.data.buffer, bytes.buffer, `${key} should share the input buffer`);
  }
  // Converted and non-contiguous tensors are copies.
  for (const key of ['f16', 'f64', 'transposed', 'shared_b']) {
    assert.notEqual(checkpoint.tensors.get(key)?.data.buffer, bytes.buffer, `${key} must be a copy`);
  }
});

test('safetensors float32 tensors are zero-copy too', () => {
  const bytes = fixture('model.safetensors');
  const checkpoint = readCheckpointBytes(bytes, 'model.safetensors');
  assert.equal(checkpoint.tensors.get('blocks.0.attn.qkv.weight')?.data.buffer, bytes.buffer);
});

test('a misaligned float32 storage is copied, not viewed unaligned', () => {
  const bytes = fixture('bare.pth');
  const aligned = readCheckpointBytes(bytes, 'bare.pth').tensors.get('f32')!.data;
  const shifted = new Uint8Array(bytes.length + 1).subarray(1);
  shifted.set(bytes);
  const copy = readCheckpointBytes(shifted, 'bare.pth').tensors.get('f32')!.data;
  assert.notEqual(copy.buffer, shifted.buffer);
  assert.deepEqual([...copy], [...aligned]);
});

test('format is detected from content, not the file name', () => {
  const checkpoint = readCheckpointBytes(fixture('model.safetensors'), 'weights.pth');
  assert.equal(checkpoint.format, 'safetensors');
  assert.equal(readCheckpointBytes(fixture('bare.pth'), 'weights.safetensors').format, 'pytorch-zip');
});

test('legacy (pre-1.6) torch files are refused with advice to re-save', () => {
  assert.throws(() => readCheckpoint(join(FIXTURES, 'legacy_header.pth')), (error: unknown) => {
    assert.ok(error instanceof CheckpointError);
    assert.match(error.message, /legacy .*unsupported/);
    assert.match(error.message, /torch>=1\.6/);
    return true;
  });
});

test('a pickled whole model is refused and the message says to save a state dict', () => {
  assert.throws(() => readCheckpoint(join(FIXTURES, 'whole_model.pth')), /forbidden global '__main__\.Tiny'.*state_dict\(\)/);
});

test('garbage bytes are not a checkpoint', () => {
  for (const bytes of [new Uint8Array(0), new Uint8Array(3), Buffer.from('hello world, not a model'), Uint8Array.of(0x80, 2, 0x7d, 0x2e)]) {
    assert.throws(() => readCheckpointBytes(bytes, 'x.pth'), (error: unknown) => {
      assert.ok(error instanceof CheckpointError);
      assert.match(error.message, /not a PyTorch or safetensors checkpoint/);
      return true;
    });
  }
});

test('a missing path or a directory is a CheckpointError', () => {
  assert.throws(() => readCheckpoint('/nonexistent/crate-lens/model.pth'), (error: unknown) => {
    assert.ok(error instanceof CheckpointError);
    assert.equal(error.message, 'no such file: /nonexistent/crate-lens/model.pth');
    return true;
  });
  const dir = mkdtempSync(join(tmpdir(), 'crate-lens-'));
  try {
    assert.throws(() => readCheckpoint(dir), { name: 'CheckpointError', message: `not a file: ${dir}` });
  } finally {
    rmSync(dir, { recursive: true });
  }
});
