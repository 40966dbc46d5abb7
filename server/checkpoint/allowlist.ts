// The only Python globals a checkpoint pickle may name, each backed by a fixed
// JS implementation that builds plain data. Anything else is refused.

import { CheckpointError } from './errors';
import type { SourceDType } from './types';
import { PyTuple, StorageRef, TensorRef, typeName, type PyDict, type PyValue } from './values';

export type GlobalImpl =
  | { readonly kind: 'call'; readonly call: (args: readonly PyValue[]) => PyValue }
  | { readonly kind: 'storage'; readonly dtype: SourceDType }
  /** A plain attribute holder: instantiated empty (NEWOBJ), its state dict read as data (BUILD), never called. */
  | { readonly kind: 'record' };

export const ORDERED_DICT = 'collections.OrderedDict';

const MAX_DIMS = 64;
/** Views larger than their storage (stride-0 broadcasts) are capped so a tiny file cannot demand gigabytes. */
const MAX_BROADCAST_NUMEL = 1 << 24;

const STORAGE_TYPES: ReadonlyArray<[string, SourceDType]> = [
  ['FloatStorage', 'float32'],
  ['HalfStorage', 'float16'],
  ['BFloat16Storage', 'bfloat16'],
  ['DoubleStorage', 'float64'],
  ['LongStorage', 'int64'],
  ['IntStorage', 'int32'],
  ['ShortStorage', 'int16'],
  ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
];

function call(fn: (args: readonly PyValue[]) => PyValue): GlobalImpl {
  return { kind: 'call', call: fn };
}

export const ALLOWED_GLOBALS: ReadonlyMap<string, GlobalImpl> = new Map<string, GlobalImpl>([
  [ORDERED_DICT, call(orderedDict)],
  ['torch._utils._rebuild_tensor_v2', call((a) => rebuildTensor('_rebuild_tensor_v2', a, [6, 7]))],
  ['torch._utils._rebuild_tensor', call((a) => rebuildTensor('_rebuild_tensor', a, [4]))],
  ['torch._utils._rebuild_parameter', call((a) => rebuildParameter('_rebuild_parameter', a, 3))],
  ['torch._utils._rebuild_parameter_with_state', call((a) => rebuildParameter('_rebuild_parameter_with_state', a, 4))],
  ['_codecs.encode', call(codecsEncode)],
  ['torch.Size', call(torchSize)],
  // MAE-style training checkpoints (CRATE-MAE's among them) store the run's argparse options beside the model.
  ['argparse.Namespace', { kind: 'record' }],
  ...STORAGE_TYPES.map(([name, dtype]): [string, GlobalImpl] => [`torch.${name}`, { kind: 'storage', dtype }]),
]);

function arity(fn: string, args: readonly PyValue[], allowed: readonly number[]): void {
  if (!allowed.includes(args.length)) {
    throw new CheckpointError(`${fn} called with ${args.length} arguments, expected ${allowed.join(' or ')}`);
  }
}

function orderedDict(args: readonly PyValue[]): PyDict {
  arity('OrderedDict', args, [0, 1]);
  const result: PyDict = new Map();
  if (args.length === 0) return result;
  const source = args[0];
  if (source instanceof Map) return new Map(source);
  const pairs = Array.isArray(source) ? source : source instanceof PyTuple ? source.items : undefined;
  if (!pairs) throw new CheckpointError(`OrderedDict called with a ${typeName(source)}`);
  for (const pair of pairs) {
    const items = Array.isArray(pair) ? pair : pair instanceof PyTuple ? pair.items : undefined;
    if (!items || items.length !== 2) throw new CheckpointError('OrderedDict called with something other than key/value pairs');
    result.set(items[0], items[1]);
  }
  return result;
}

function codecsEncode(args: readonly PyValue[]): Uint8Array {
  arity('_codecs.encode', args, [2]);
  const [text, encoding] = args;
  if (typeof text !== 'string' || typeof encoding !== 'string' || !/^latin[-_]?1$|^iso[-_]?8859[-_]1$/i.test(encoding)) {
    throw new CheckpointError("_codecs.encode is only accepted as encode(str, 'latin1')");
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new CheckpointError('_codecs.encode: character outside latin1');
    out[i] = code;
  }
  return out;
}

function torchSize(args: readonly PyValue[]): PyTuple {
  arity('torch.Size', args, [0, 1]);
  if (args.length === 0) return new PyTuple([]);
  return new PyTuple(intList('torch.Size', args[0]));
}

function rebuildParameter(fn: string, args: readonly PyValue[], count: number): TensorRef {
  arity(fn, args, [count]);
  const data = args[0];
  if (!(data instanceof TensorRef)) throw new CheckpointError(`${fn} called on a ${typeName(data)}, expected a tensor`);
  return data;
}

function rebuildTensor(fn: string, args: readonly PyValue[], counts: readonly number[]): TensorRef {
  arity(fn, args, counts);
  const [storage, offsetValue, sizeValue, strideValue] = args;
  if (!(storage instanceof StorageRef)) throw new CheckpointError(`${fn} called on a ${typeName(storage)}, expected a storage`);
  const offset = nonNegativeInt(`${fn} offset`, offsetValue);
  const shape = intList(`${fn} size`, sizeValue);
  const stride = intList(`${fn} stride`, strideValue);
  if (shape.length !== stride.length) {
    throw new CheckpointError(`tensor has ${shape.length} dimensions but ${stride.length} strides`);
  }
  checkView(storage, offset, shape, stride);
  return new TensorRef(storage, offset, shape, stride);
}

function nonNegativeInt(what: string, value: PyValue): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new CheckpointError(`${what} must be an integer, got ${typeName(value)}`);
  }
  if (value < 0) throw new CheckpointError(`${what} must not be negative, got ${value}`);
  return value;
}

function intList(what: string, value: PyValue): number[] {
  const items = value instanceof PyTuple ? value.items : Array.isArray(value) ? value : undefined;
  if (!items) throw new CheckpointError(`${what} must be a tuple of integers, got ${typeName(value)}`);
  if (items.length > MAX_DIMS) throw new CheckpointError(`${what} has ${items.length} dimensions (at most ${MAX_DIMS})`);
  return items.map((item) => nonNegativeInt(what, item));
}

/** Every element the view can reach must lie inside the storage. */
function checkView(storage: StorageRef, offset: number, shape: readonly number[], stride: readonly number[]): void {
  const where = `offset ${offset}, shape [${shape.join(', ')}], stride [${stride.join(', ')}]`;
  let numel = 1;
  for (const d of shape) numel *= d;
  if (!Number.isSafeInteger(numel)) throw new CheckpointError(`tensor shape [${shape.join(', ')}] is too large`);
  if (numel === 0) {
    if (offset > storage.numel) throw new CheckpointError(`tensor view out of bounds: ${where} on a storage of ${storage.numel} elements`);
    return;
  }
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] > 1) {
      if (stride[d] > storage.numel) {
        throw new CheckpointError(`tensor stride ${stride[d]} exceeds its storage of ${storage.numel} elements`);
      }
      last += (shape[d] - 1) * stride[d];
    }
  }
  if (last >= storage.numel) {
    throw new CheckpointError(`tensor view out of bounds: ${where} reaches element ${last} of a storage of ${storage.numel} elements`);
  }
  if (numel > storage.numel && numel > MAX_BROADCAST_NUMEL) {
    throw new CheckpointError(`tensor view of ${numel} elements over a storage of ${storage.numel} elements is refused`);
  }
}
