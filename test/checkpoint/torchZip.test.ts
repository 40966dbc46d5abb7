// PyTorch zip archives that are damaged, unusual or lie about their storages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError, readCheckpointBytes, type Checkpoint } from '../../server/checkpoint';
import { ZipArchive } from '../../server/checkpoint/zip';
import {
  concat, f32bytes, fixture, global, int, makeZip, op, pkl, str, tensorDictPickle, torchZip, type TensorSpec, type ZipInput,
} from '../fixtures/loader/build';

function entriesOf(bytes: Uint8Array): ZipInput[] {
  const zip = ZipArchive.open(bytes);
  return [...zip.entries.keys()].map((name) => ({ name, data: zip.read(name) }));
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => readCheckpointBytes(bytes, 'x.pth'), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.equal(error.message.split('\n').length, 1);
    return true;
  });
}

function values(checkpoint: Checkpoint, key: string): number[] {
  return [...checkpoint.tensors.get(key)!.data];
}

const reference = readCheckpointBytes(fixture('bare.pth'), 'bare.pth');

function sameAsReference(checkpoint: Checkpoint): void {
  assert.deepEqual([...checkpoint.tensors.keys()], [...reference.tensors.keys()]);
  for (const [key, tensor] of reference.tensors) {
    assert.deepEqual(checkpoint.tensors.get(key)?.shape, tensor.shape, key);
    assert.deepEqual(values(checkpoint, key), [...tensor.data], key);
  }
}

function oneTensor(spec: Partial<TensorSpec>, storage: Uint8Array = f32bytes([0, 1, 2, 3, 4, 5])): Uint8Array {
  const full: TensorSpec = { name: 'w', key: '0', numel: storage.length / 4, shape: [2, 3], stride: [3, 1], ...spec };
  return torchZip(tensorDictPickle([full]), { [full.key]: storage });
}

test('a hand-built torch zip loads, strided and offset views included', () => {
  const checkpoint = readCheckpointBytes(torchZip(tensorDictPickle([
    { name: 'a', key: '0', numel: 6, shape: [2, 3], stride: [3, 1] },
    { name: 'b', key: '0', numel: 6, shape: [3, 2], stride: [1, 3] },
    { name: 'c', key: '0', numel: 6, offset: 4, shape: [2], stride: [1] },
    { name: 'd', key: '0', numel: 6, offset: 1, shape: [2, 2], stride: [0, 2] },
  ]), { 0: f32bytes([0, 1, 2, 3, 4, 5]) }), 'x.pth');
  assert.equal(checkpoint.container, 'bare state dict');
  assert.deepEqual(values(checkpoint, 'a'), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(values(checkpoint, 'b'), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(values(checkpoint, 'c'), [4, 5]);
  assert.deepEqual(values(checkpoint, 'd'), [1, 3, 1, 3]);
});

test('truncated archives are refused', () => {
  const bytes = fixture('bare.pth');
  for (const length of [0, 10, 100, bytes.length >> 1, bytes.length - 23, bytes.length - 1]) {
    rejects(bytes.subarray(0, Math.max(length, 4)), /damaged zip|truncated|not a PyTorch/);
  }
});

test('a zip without data.pkl is refused', () => {
  const entries = entriesOf(fixture('bare.pth')).filter((e) => !e.name.endsWith('/data.pkl'));
  rejects(makeZip(entries), /no <archive>\/data\.pkl/);
  rejects(makeZip([{ name: 'a/b/data.pkl', data: tensorDictPickle([]) }]), /no <archive>\/data\.pkl/);
});

test('a storage whose size disagrees with its declared element count is refused', () => {
  const entries = entriesOf(fixture('bare.pth')).map((e) => (e.name.endsWith('/data/0') ? { ...e, data: e.data.subarray(4) } : e));
  rejects(makeZip(entries), /storage '0' holds \d+ bytes but the pickle declares \d+ float32 elements/);
  rejects(oneTensor({ numel: 7 }), /storage '0' holds 24 bytes but the pickle declares 7 float32 elements \(28 bytes\)/);
  rejects(oneTensor({ storageType: 'DoubleStorage' }), /declares 6 float64 elements \(48 bytes\)/);
});

test('a missing storage record is refused', () => {
  rejects(torchZip(tensorDictPickle([{ name: 'w', key: '7', numel: 1, shape: [1], stride: [1] }]), {}), /storage '7' is missing/);
});

test('views reaching outside their storage are refused', () => {
  rejects(oneTensor({ shape: [2, 4], stride: [3, 1] }), /out of bounds/);
  rejects(oneTensor({ offset: 1 }), /out of bounds/);
  rejects(oneTensor({ offset: 7, shape: [0], stride: [1] }), /out of bounds/);
  rejects(oneTensor({ shape: [2], stride: [1000] }), /stride 1000 exceeds/);
  rejects(oneTensor({ shape: [2], stride: [-1] }), /must not be negative/);
  rejects(oneTensor({ offset: -1, shape: [1], stride: [1] }), /must not be negative/);
  rejects(oneTensor({ shape: [2, 3], stride: [1] }), /2 dimensions but 1 strides/);
});

test('a huge broadcast view over a tiny storage is refused', () => {
  rejects(oneTensor({ shape: [1 << 13, 1 << 12], stride: [0, 0] }), /view of 33554432 elements over a storage of 6/);
});

test('archives with a big-endian byteorder record are byte-swapped', () => {
  const le = f32bytes([1.5, -2, 3.25]);
  const be = new Uint8Array(le.length);
  for (let i = 0; i < le.length; i += 4) for (let j = 0; j < 4; j++) be[i + j] = le[i + 3 - j];
  const pickle = tensorDictPickle([{ name: 'w', key: '0', numel: 3, shape: [3], stride: [1] }]);
  const big = torchZip(pickle, { 0: be }, [{ name: 'archive/byteorder', data: Buffer.from('big') }]);
  assert.deepEqual(values(readCheckpointBytes(big, 'x.pth'), 'w'), [1.5, -2, 3.25]);
  const little = torchZip(pickle, { 0: le }, [{ name: 'archive/byteorder', data: Buffer.from('little') }]);
  assert.deepEqual(values(readCheckpointBytes(little, 'x.pth'), 'w'), [1.5, -2, 3.25]);
  rejects(torchZip(pickle, { 0: le }, [{ name: 'archive/byteorder', data: Buffer.from('middle') }]), /unknown byteorder/);
});

test('ZIP64 and deflated archives read the same as the original', () => {
  const entries = entriesOf(fixture('bare.pth'));
  sameAsReference(readCheckpointBytes(makeZip(entries, { zip64: true }), 'x.pth'));
  sameAsReference(readCheckpointBytes(makeZip(entries.map((e) => ({ ...e, deflate: true }))), 'x.pth'));
  sameAsReference(readCheckpointBytes(makeZip(entries, { align: 64 }), 'x.pth'));
});

test('corrupted stored data fails its checksum', () => {
  const bytes = fixture('bare.pth');
  const zip = ZipArchive.open(bytes);
  const entry = zip.entries.get('archive/data/0')!;
  // Flip one byte of the stored payload (the local header is 30 + name + extra bytes).
  const start = entry.localHeaderOffset + 30 + (bytes[entry.localHeaderOffset + 26] | (bytes[entry.localHeaderOffset + 27] << 8))
    + (bytes[entry.localHeaderOffset + 28] | (bytes[entry.localHeaderOffset + 29] << 8));
  bytes[start] ^= 0xff;
  rejects(bytes, /checksum mismatch in 'archive\/data\/0'/);
});

function centralField(zip: Uint8Array, entryName: string, fieldOffset: number, value: number): Uint8Array {
  const copy = new Uint8Array(zip);
  const view = new DataView(copy.buffer);
  for (let at = 0; at + 46 <= copy.length; at++) {
    if (view.getUint32(at, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(at + 28, true);
    if (Buffer.from(copy.subarray(at + 46, at + 46 + nameLength)).toString() === entryName) {
      if (fieldOffset === 8 || fieldOffset === 10) view.setUint16(at + fieldOffset, value, true);
      else view.setUint32(at + fieldOffset, value, true);
      return copy;
    }
  }
  throw new Error(`no central entry ${entryName}`);
}

test('implausible or unsupported zip entries are refused', () => {
  const pickle = tensorDictPickle([{ name: 'w', key: '0', numel: 6, shape: [6], stride: [1] }]);
  const deflated = makeZip([{ name: 'a/data.pkl', data: pickle, deflate: true }, { name: 'a/data/0', data: f32bytes([0, 1, 2, 3, 4, 5]) }]);
  rejects(centralField(deflated, 'a/data.pkl', 24, 0x7fffffff), /implausible uncompressed size/);
  rejects(centralField(deflated, 'a/data.pkl', 24, 10), /inflate/);
  rejects(centralField(deflated, 'a/data.pkl', 10, 12), /unsupported compression method 12/);
  rejects(centralField(deflated, 'a/data.pkl', 8, 1), /encrypted/);
  rejects(centralField(deflated, 'a/data.pkl', 42, 0x00ffffff), /local header .* out of range/);
  rejects(centralField(deflated, 'a/data/0', 20, 0x00ffffff), /mismatched sizes|past the end/);
  const twice = makeZip([{ name: 'a/data.pkl', data: pickle }, { name: 'a/data.pkl', data: pickle }]);
  rejects(twice, /duplicate entry 'a\/data\.pkl'/);
});

test('with several data.pkl records the first record\'s folder wins, as in torch', () => {
  const good = tensorDictPickle([{ name: 'w', key: '0', numel: 2, shape: [2], stride: [1] }]);
  const other = pkl(op.PROTO2, global('posix', 'system'), op.STOP);
  const zip = makeZip([
    { name: 'first/data.pkl', data: good },
    { name: 'first/data/0', data: f32bytes([1, 2]) },
    { name: 'second/data.pkl', data: other },
  ]);
  assert.deepEqual(values(readCheckpointBytes(zip, 'x.pth'), 'w'), [1, 2]);
});

test('truncated or corrupt pickles are refused', () => {
  const pickle = tensorDictPickle([{ name: 'w', key: '0', numel: 2, shape: [2], stride: [1] }]);
  for (const cut of [1, 2, 10, pickle.length >> 1, pickle.length - 1]) {
    rejects(torchZip(pickle.subarray(0, cut), { 0: f32bytes([1, 2]) }), /malformed pickle|truncated|no state dict/);
  }
  rejects(torchZip(Uint8Array.of(0x80, 2, 0xff, 0x2e), {}), /unknown or unsupported opcode 0xff/);
});

test('a non-storage persistent id is refused', () => {
  const pickle = pkl(op.PROTO2, op.EMPTY_DICT, str('w'), str('whatever'), op.BINPERSID, op.SETITEM, op.STOP);
  rejects(torchZip(pickle, {}), /unsupported persistent id/);
});

function dictPickle(entries: Array<[Uint8Array, Uint8Array]>): Uint8Array {
  return pkl(op.PROTO2, op.EMPTY_DICT, op.MARK, ...entries.flat(), op.SETITEMS, op.STOP);
}

function tensorBody(key: string): Uint8Array {
  // The value part of tensorDictPickle: everything between the name and the SETITEMS.
  const full = tensorDictPickle([{ name: '', key, numel: 2, shape: [2], stride: [1] }]);
  return full.subarray(2 + 1 + 1 + 5, full.length - 2);
}

test('the state dict is found inside training checkpoints and module. prefixes are stripped', () => {
  const storage = { 0: f32bytes([1, 2]) };
  const nested = dictPickle([
    [str('epoch'), int(3)],
    [str('weights_only_elsewhere'), str('x')],
    [str('model_state_dict'), pkl(op.EMPTY_DICT, op.MARK, str('module.a'), tensorBody('0'), str('module.b'), tensorBody('0'), str('module.note'), int(1), op.SETITEMS)],
  ]);
  const checkpoint = readCheckpointBytes(torchZip(nested, storage), 'x.pth');
  assert.equal(checkpoint.container, "{'model_state_dict': ...} with 'module.' prefix stripped");
  assert.deepEqual([...checkpoint.tensors.keys()], ['a', 'b']);

  const partial = dictPickle([[str('module.a'), tensorBody('0')], [str('b'), tensorBody('0')]]);
  const bare = readCheckpointBytes(torchZip(partial, storage), 'x.pth');
  assert.equal(bare.container, 'bare state dict');
  assert.deepEqual([...bare.tensors.keys()], ['module.a', 'b']);
});

test('a checkpoint without a recognisable state dict lists its top-level keys', () => {
  const pickle = dictPickle([[str('epoch'), int(3)], [str('net'), pkl(op.EMPTY_DICT, str('w'), tensorBody('0'), op.SETITEM)]]);
  rejects(torchZip(pickle, { 0: f32bytes([1, 2]) }), /no state dict found: top-level keys are 'epoch', 'net'/);
  rejects(torchZip(pkl(op.PROTO2, op.EMPTY_LIST, op.STOP), {}), /holds a list, not a dict of tensors/);
  rejects(torchZip(pkl(op.PROTO2, op.EMPTY_DICT, op.STOP), {}), /empty dict/);
});

test('half storages decode through the float16 table', () => {
  const bytes = concat(f32bytes([1, 2]));
  const pickle = tensorDictPickle([{ name: 'w', key: '0', storageType: 'HalfStorage', numel: 4, shape: [4], stride: [1] }]);
  assert.deepEqual(values(readCheckpointBytes(torchZip(pickle, { 0: bytes }), 'x.pth'), 'w'), [0, 1.875, 0, 2]);
});
