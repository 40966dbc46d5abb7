// safetensors files with lying or malformed headers, built from the good fixture.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError, readCheckpointBytes } from '../../server/checkpoint';
import { concat, f32bytes, fixture, u64 } from '../fixtures/loader/build';

const good = fixture('model.safetensors');
const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));
const headerText = Buffer.from(good.subarray(8, 8 + headerLength)).toString('utf8').trimEnd();
const data = good.subarray(8 + headerLength);
type Header = Record<string, { dtype: string; shape: number[]; data_offsets: number[] } | Record<string, string>>;
const header = JSON.parse(headerText) as Header;

function build(text: string, body: Uint8Array = data): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  return concat(u64(bytes.length), bytes, body);
}

function edited(edit: (h: Header) => void, body?: Uint8Array): Uint8Array {
  const copy = JSON.parse(headerText) as Header;
  edit(copy);
  return build(JSON.stringify(copy), body);
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => readCheckpointBytes(bytes, 'x.safetensors'), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('the rebuilt fixture still loads (the builders are sound)', () => {
  const checkpoint = readCheckpointBytes(build(headerText), 'x.safetensors');
  assert.equal(checkpoint.tensors.size, Object.keys(header).length - 1);
});

test('an oversized or out-of-file header length is refused', () => {
  const withLength = (n: bigint): Uint8Array => {
    const bytes = new Uint8Array(good);
    new DataView(bytes.buffer).setBigUint64(0, n, true);
    return bytes;
  };
  rejects(withLength(200n * 1024n * 1024n), /header length 209715200 exceeds the 104857600-byte limit/);
  rejects(withLength(2n ** 40n), /exceeds the 104857600-byte limit/);
  rejects(withLength(BigInt(good.length)), /runs past the end of the \d+-byte file/);
  rejects(good.subarray(0, 5), /not a PyTorch or safetensors checkpoint/);
});

test('overlapping data offsets are refused', () => {
  rejects(edited((h) => {
    const a = h['blocks.0.attn.qkv.weight'] as { data_offsets: number[] };
    const b = h['head.weight'] as { data_offsets: number[] };
    b.data_offsets = [a.data_offsets[0] + 8, a.data_offsets[0] + 8 + (b.data_offsets[1] - b.data_offsets[0])];
  }), /tensors '.*' and '.*' overlap/);
});

test('duplicate keys are refused, at any level', () => {
  const qkv = JSON.stringify(header['blocks.0.attn.qkv.weight']);
  rejects(build(headerText.replace(/^\{/, `{"blocks.0.attn.qkv.weight":${qkv},`)), /duplicate key 'blocks\.0\.attn\.qkv\.weight'/);
  rejects(build(headerText.replace('"dtype":"F32"', '"dtype":"F32","dtype":"F16"')), /duplicate key 'dtype'/);
});

test('a dtype whose size disagrees with the byte range is refused', () => {
  rejects(edited((h) => {
    (h['blocks.0.attn.qkv.weight'] as { dtype: string }).dtype = 'F16';
  }), /'blocks\.0\.attn\.qkv\.weight': data_offsets span 96 bytes but shape \[6, 4\] of F16 needs 48/);
  rejects(edited((h) => {
    (h['blocks.0.attn.qkv.weight'] as { shape: number[] }).shape = [6, 5];
  }), /needs 120/);
});

test('bad dtypes, shapes and offsets are refused', () => {
  const qkv = (change: Record<string, unknown>): Uint8Array => edited((h) => Object.assign(h['blocks.0.attn.qkv.weight'], change));
  rejects(qkv({ dtype: 'F8_E4M3' }), /unsupported dtype 'F8_E4M3'/);
  rejects(qkv({ dtype: 7 }), /missing dtype/);
  rejects(qkv({ shape: [-6, -4] }), /bad dimension -6/);
  rejects(qkv({ shape: [6.5, 4] }), /bad dimension 6\.5/);
  rejects(qkv({ shape: 'x' }), /shape must be a list/);
  rejects(qkv({ data_offsets: [0] }), /data_offsets must be \[start, end\]/);
  rejects(qkv({ data_offsets: [96, 0] }), /fall outside/);
  rejects(qkv({ data_offsets: [-96, 0] }), /bad data offset -96/);
  rejects(qkv({ data_offsets: [data.length, data.length + 96] }), /fall outside the \d+-byte data section/);
  rejects(build(headerText, data.subarray(0, data.length - 1)), /fall outside/);
});

test('malformed headers are refused', () => {
  rejects(build('{"a": '), /safetensors header: /);
  rejects(build('{"a": 1} x'), /trailing characters/);
  rejects(build('[]'.padEnd(8)), /not a PyTorch or safetensors checkpoint/);
  rejects(build('{"__metadata__": 3}'), /__metadata__ is not an object/);
  rejects(build('{"a": 3}'), /entry is not an object/);
  rejects(build('{}'), /holds no tensors/);
  rejects(build(`{"a":${'['.repeat(100)}`), /nested too deeply/);
  rejects(concat(u64(3), Uint8Array.of(0x7b, 0xff, 0x7d)), /not valid UTF-8/);
});

test('tensor names are plain data, and a module. prefix is stripped', () => {
  const body = f32bytes([1, 2]);
  const checkpoint = readCheckpointBytes(build(JSON.stringify({
    'module.__proto__': { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    'module.constructor': { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
  }), body), 'x.safetensors');
  assert.equal(checkpoint.container, "bare state dict with 'module.' prefix stripped");
  assert.deepEqual([...checkpoint.tensors.keys()], ['__proto__', 'constructor']);
  assert.deepEqual([...checkpoint.tensors.get('constructor')!.data], [2]);
});

test('zero-size tensors and holes between tensors are accepted', () => {
  const checkpoint = readCheckpointBytes(build(JSON.stringify({
    empty: { dtype: 'F32', shape: [0, 3], data_offsets: [4, 4] },
    x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
  }), f32bytes([9, 2])), 'x.safetensors');
  assert.deepEqual(checkpoint.tensors.get('empty')!.shape, [0, 3]);
  assert.deepEqual([...checkpoint.tensors.get('x')!.data], [2]);
});
