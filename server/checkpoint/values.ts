// The JS shapes an unpickled value can take. Nothing here can run code: each
// Python object the restricted unpickler accepts maps onto plain data.

import type { SourceDType } from './types';

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | StorageRef
  | TensorRef;

/** A Python dict or OrderedDict; keys keep Python identity only for primitives. */
export type PyDict = Map<PyValue, PyValue>;

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PySet {
  constructor(
    readonly items: PyValue[],
    readonly frozen: boolean,
  ) {}
}

/** A reference to an allowlisted global; only the fixed JS implementation behind it is ever used. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * A typed storage resolved from a persistent id: `numel` elements of `dtype`.
 * Its bytes are fetched on first use so storages nobody reads (optimizer state)
 * are never extracted.
 */
export class StorageRef {
  private loaded: Uint8Array | undefined;
  constructor(
    readonly key: string,
    readonly dtype: SourceDType,
    readonly numel: number,
    readonly littleEndian: boolean,
    private readonly load: () => Uint8Array,
  ) {}
  get bytes(): Uint8Array {
    this.loaded ??= this.load();
    return this.loaded;
  }
}

/** A tensor view onto a storage; bounds are checked when it is built. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

export function typeName(value: PyValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'str';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  if (value instanceof PyTuple) return 'tuple';
  if (value instanceof Map) return 'dict';
  if (value instanceof PySet) return value.frozen ? 'frozenset' : 'set';
  if (value instanceof PyGlobal) return value.qualified;
  if (value instanceof StorageRef) return 'storage';
  return 'tensor';
}
