// Reads a torch.save zip archive (torch >= 1.6): unpickles <archive>/data.pkl
// with the restricted unpickler and resolves its storages to <archive>/data/<key>.

import { ALLOWED_GLOBALS } from './allowlist';
import { findStateDict } from './container';
import { ITEM_SIZE, materialize } from './dtype';
import { CheckpointError, printable } from './errors';
import { unpickle } from './pickle';
import type { Checkpoint, TensorData } from './types';
import { PyGlobal, PyTuple, StorageRef, TensorRef, type PyValue } from './values';
import { ZipArchive } from './zip';

export function readTorchZip(bytes: Uint8Array): Checkpoint {
  const zip = ZipArchive.open(bytes);
  const archive = findArchiveFolder(zip);
  const littleEndian = readByteOrder(zip, archive);
  const storages = new Map<string, StorageRef>();

  const persistentLoad = (pid: PyValue): PyValue => {
    const storage = parseStoragePid(pid);
    const cacheKey = `${storage.dtype}:${storage.key}`;
    const cached = storages.get(cacheKey);
    if (cached) return cached;
    const name = `${archive}/data/${storage.key}`;
    const entry = zip.entries.get(name);
    if (!entry) throw new CheckpointError(`storage '${printable(storage.key)}' is missing from the archive (no ${printable(name)})`);
    const expected = storage.numel * ITEM_SIZE[storage.dtype];
    if (entry.size !== expected) {
      throw new CheckpointError(
        `storage '${printable(storage.key)}' holds ${entry.size} bytes but the pickle declares ${storage.numel} ${storage.dtype} elements (${expected} bytes)`,
      );
    }
    const ref = new StorageRef(storage.key, storage.dtype, storage.numel, littleEndian, () => zip.read(name));
    storages.set(cacheKey, ref);
    return ref;
  };

  const root = unpickle(zip.read(`${archive}/data.pkl`), { persistentLoad });
  const found = findStateDict(root, (value): value is TensorRef => value instanceof TensorRef);
  checkTotalElements([...found.entries.values()]);
  const tensors = new Map<string, TensorData>();
  for (const [key, ref] of found.entries) tensors.set(key, toTensorData(ref));
  return { format: 'pytorch-zip', tensors, container: found.container };
}

/** Tied weights view one storage a few times; views of one storage beyond that only multiply memory. */
const MAX_VIEWS_PER_ELEMENT = 4;
/** Room for the one large broadcast view checkView allows. */
const BROADCAST_ALLOWANCE = 1 << 24;

/**
 * Each view is bounded by its storage, but a small file can hold thousands of views of one
 * storage, and each is expanded to its own float32 array: checked before any is expanded.
 */
function checkTotalElements(refs: readonly TensorRef[]): void {
  const storages = new Set<StorageRef>();
  let stored = 0;
  let viewed = 0;
  for (const ref of refs) {
    viewed += ref.shape.reduce((n, d) => n * d, 1);
    if (!storages.has(ref.storage)) {
      storages.add(ref.storage);
      stored += ref.storage.numel;
    }
  }
  const limit = MAX_VIEWS_PER_ELEMENT * stored + BROADCAST_ALLOWANCE;
  if (viewed > limit) {
    throw new CheckpointError(`the state dict's tensors hold ${viewed} elements, more than ${limit} (${MAX_VIEWS_PER_ELEMENT} views of each of the ${stored} stored elements, plus ${BROADCAST_ALLOWANCE}): refused`);
  }
}

/** The folder holding data.pkl; torch names it after the file, but renamed files keep the old name. */
function findArchiveFolder(zip: ZipArchive): string {
  const folders: string[] = [];
  for (const name of zip.entries.keys()) {
    const match = /^([^/]+)\/data\.pkl$/.exec(name);
    if (match) folders.push(match[1]);
  }
  if (folders.length === 1) return folders[0];
  if (folders.length === 0) {
    throw new CheckpointError('zip archive has no <archive>/data.pkl record: not a torch.save checkpoint');
  }
  // Like torch, prefer the folder of the first record when several are present.
  const first = zip.entries.keys().next().value ?? '';
  const folder = first.split('/')[0];
  if (folders.includes(folder)) return folder;
  throw new CheckpointError(`zip archive has ${folders.length} data.pkl records and none in the first record's folder`);
}

function readByteOrder(zip: ZipArchive, archive: string): boolean {
  const name = `${archive}/byteorder`;
  if (!zip.entries.has(name)) return true; // torch before 1.13 wrote no byteorder record: always little-endian
  const order = new TextDecoder('latin1').decode(zip.read(name)).trim();
  if (order === 'little') return true;
  if (order === 'big') return false;
  throw new CheckpointError(`unknown byteorder record '${printable(order, 40)}'`);
}

/** ('storage', <StorageType>, '<key>', '<location>', numel); the location is irrelevant on the CPU. */
function parseStoragePid(pid: PyValue): { key: string; dtype: StorageRef['dtype']; numel: number } {
  const items = pid instanceof PyTuple ? pid.items : undefined;
  if (!items || items.length !== 5 || items[0] !== 'storage') {
    throw new CheckpointError("unsupported persistent id: expected ('storage', type, key, location, numel)");
  }
  const [, type, key, , numel] = items;
  const impl = type instanceof PyGlobal ? ALLOWED_GLOBALS.get(type.qualified) : undefined;
  if (!impl || impl.kind !== 'storage') throw new CheckpointError('persistent id names no known storage type');
  if (typeof key !== 'string' || key.length === 0) throw new CheckpointError('persistent id has no storage key');
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
    throw new CheckpointError(`storage '${printable(key)}' has an invalid element count`);
  }
  return { key, dtype: impl.dtype, numel };
}

function toTensorData(ref: TensorRef): TensorData {
  const { storage } = ref;
  const data = materialize({
    bytes: storage.bytes,
    dtype: storage.dtype,
    littleEndian: storage.littleEndian,
    offset: ref.offset,
    shape: ref.shape,
    stride: ref.stride,
  });
  return { dtype: storage.dtype, shape: [...ref.shape], data };
}
