// Generators of inputs built from the formats' own grammar, so that cases get past the first
// checks: pickle opcode programs, tensor records, safetensors headers and PNG chunk streams.
// Each mixes well-formed pieces with lengths, sizes and values that lie.

import fc from 'fast-check';
import { deflateSync } from 'node:zlib';
import { pngChunk } from '../../server/image/png-encode';
import { concatBytes } from '../../server/image/png-encode';
import { fuzzCase, type FuzzCase } from './mutate';

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function uintLE(value: bigint, size: 1 | 2 | 4 | 8): Uint8Array {
  const out = new Uint8Array(size);
  const v = BigInt.asUintN(8 * size, value);
  for (let i = 0; i < size; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** `arbitrary` one time in `oneIn`, else null. */
function rarely<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** The declared length of a payload: usually true, sometimes off by a few, sometimes absurd. */
function declaredLength(size: 1 | 4 | 8): fc.Arbitrary<(actual: number) => bigint> {
  const extremes = { 1: [0n, 0xffn], 4: [0n, 0x7fffffffn, 0x80000000n, 0xffffffffn], 8: [0n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n] }[size];
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant((n: number) => BigInt(n)) },
    { weight: 2, arbitrary: fc.integer({ min: -4, max: 4 }).map((d) => (n: number) => BigInt(n + d)) },
    { weight: 1, arbitrary: fc.constantFrom(...extremes).map((v) => () => v) },
  );
}

// ---- pickle programs --------------------------------------------------------------------------

const ALLOWED = [
  ['collections', 'OrderedDict'], ['torch._utils', '_rebuild_tensor_v2'], ['torch._utils', '_rebuild_tensor'],
  ['torch._utils', '_rebuild_parameter'], ['torch._utils', '_rebuild_parameter_with_state'], ['_codecs', 'encode'],
  ['torch', 'Size'], ['torch', 'FloatStorage'], ['torch', 'HalfStorage'], ['torch', 'BFloat16Storage'],
  ['torch', 'DoubleStorage'], ['torch', 'LongStorage'], ['torch', 'ByteStorage'], ['torch', 'BoolStorage'],
] as const;
const FORBIDDEN = [['os', 'system'], ['builtins', 'eval'], ['torch', 'load'], ['__main__', 'Net'], ['torch.nn.modules.linear', 'Linear']] as const;
const WORDS = ['storage', 'cpu', 'cuda:0', '0', '1', 'missing', 'latin1', 'utf-8', 'state_dict', 'model', 'module.w', 'w', 'b', '', 'torch', 'collections', 'OrderedDict', '_rebuild_tensor_v2', 'FloatStorage', 'os', 'system'];

const globalName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ALLOWED) }, { weight: 1, arbitrary: fc.constantFrom(...FORBIDDEN) });
const word = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...WORDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
const smallInt = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 16, 64, -1, 2 ** 31 - 1), fc.integer({ min: -5, max: 70 }));

const op = (code: number, ...rest: Uint8Array[]): Uint8Array => concatBytes(Uint8Array.of(code), ...rest);
const line = (text: string): Uint8Array => latin1(`${text}\n`);

function prefixed(code: number, size: 1 | 4 | 8, payload: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(payload, declaredLength(size)).map(([p, declared]) => op(code, uintLE(declared(p.length), size), p));
}

const shortBytes = fc.oneof(word.map(utf8), fc.uint8Array({ maxLength: 12 }));

/** Pushes an integer with one of the integer opcodes. */
const pushInt = fc.oneof(
  smallInt.map((v) => op(0x4a, uintLE(BigInt(v), 4))),
  fc.nat({ max: 255 }).map((v) => op(0x4b, Uint8Array.of(v))),
  fc.nat({ max: 0xffff }).map((v) => op(0x4d, uintLE(BigInt(v), 2))),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((v) => {
    const bytes: number[] = [];
    let x = v;
    for (let i = 0; i < 10 && (x !== 0n && x !== -1n || i === 0); i++) {
      bytes.push(Number(BigInt.asUintN(8, x)));
      x >>= 8n;
    }
    return op(0x8a, Uint8Array.of(bytes.length, ...bytes));
  }),
  fc.oneof(fc.bigInt().map(String), fc.constantFrom('00', '01', '', '-', '1L', '12345678901234567890123', 'x')).map((t) => op(0x49, line(t))),
);

const TEXT_FLOATS = ['1.5', '-0.0', 'inf', '-inf', 'nan', '1e400', '.5', '5.', 'abc', ''];
const QUOTED = ["'abc'", '"abc"', "'a\\x41\\n\\101'", "'unterminated", "'\\777'", "''", "'caf\\xc3\\xa9'", "'\\xff'"];
const UNICODE = ['abc', '\\u0041', '\\U0001f600', '\\U00110000', '\\u12', 'caf\u00e9'];

/**
 * A container filled from one long MARK group, or one opcode repeated many times: sizes a hand
 * written test would not think of, where a spread into a call or a recursion would overflow.
 */
const bulk: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .record({
      shape: fc.constantFrom(
        [[0x5d, 0x28], [0x65]], // EMPTY_LIST MARK ... APPENDS
        [[0x8f, 0x28], [0x90]], // EMPTY_SET MARK ... ADDITEMS
        [[0x7d, 0x28], [0x75]], // EMPTY_DICT MARK ... SETITEMS
        [[0x28], [0x74]], // MARK ... TUPLE
        [[0x28], [0x6c]], // MARK ... LIST
        [[0x28], [0x64]], // MARK ... DICT
        [[0x28], [0x91]], // MARK ... FROZENSET
      ),
      item: fc.constantFrom(0x4e, 0x88, 0x29), // NONE, NEWTRUE, EMPTY_TUPLE
      count: fc.constantFrom(600, 600, 600, 600, 150_000),
    })
    .map(({ shape: [open, close], item, count }) => concatBytes(Uint8Array.from(open), new Uint8Array(count).fill(item), Uint8Array.from(close))),
  fc
    .record({ item: fc.constantFrom(0x4e, 0x28, 0x32, 0x85, 0x5d, 0x30), count: fc.constantFrom(600, 150_000) })
    .map(({ item, count }) => new Uint8Array(count).fill(item)),
);

/** One opcode with its arguments, or a small group that assembles a piece torch pickles contain. */
const instruction: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: bulk },
  { weight: 12, arbitrary: fc.constantFrom(0x28, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x29, 0x74, 0x85, 0x86, 0x87, 0x5d, 0x6c, 0x61, 0x65, 0x7d, 0x64, 0x73, 0x75, 0x8f, 0x90, 0x91, 0x94, 0x52, 0x81, 0x92, 0x6f, 0x62, 0x51, 0x93, 0x98, 0x97, 0x82, 0x2e, 0xff).map((c) => Uint8Array.of(c)) },
  { weight: 4, arbitrary: pushInt },
  { weight: 3, arbitrary: prefixed(0x58, 4, shortBytes) }, // BINUNICODE
  { weight: 3, arbitrary: word.map((w) => { const b = utf8(w).subarray(0, 255); return op(0x8c, Uint8Array.of(b.length), b); }) }, // SHORT_BINUNICODE
  { weight: 1, arbitrary: prefixed(0x8c, 1, shortBytes) },
  { weight: 1, arbitrary: prefixed(0x8d, 8, shortBytes) }, // BINUNICODE8
  { weight: 1, arbitrary: prefixed(0x42, 4, shortBytes) }, // BINBYTES
  { weight: 1, arbitrary: prefixed(0x43, 1, shortBytes) }, // SHORT_BINBYTES
  { weight: 1, arbitrary: prefixed(0x8e, 8, shortBytes) }, // BINBYTES8
  { weight: 1, arbitrary: prefixed(0x96, 8, shortBytes) }, // BYTEARRAY8
  { weight: 1, arbitrary: prefixed(0x54, 4, shortBytes) }, // BINSTRING
  { weight: 1, arbitrary: prefixed(0x55, 1, shortBytes) }, // SHORT_BINSTRING
  { weight: 1, arbitrary: prefixed(0x8b, 4, fc.uint8Array({ maxLength: 12 })) }, // LONG4
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => op(0x47, b)) }, // BINFLOAT
  { weight: 1, arbitrary: fc.constantFrom(...TEXT_FLOATS).map((t) => op(0x46, line(t))) },
  { weight: 1, arbitrary: fc.constantFrom(...QUOTED).map((t) => op(0x53, line(t))) },
  { weight: 1, arbitrary: fc.constantFrom(...UNICODE).map((t) => op(0x56, line(t))) },
  { weight: 1, arbitrary: fc.nat({ max: 7 }).map((v) => op(0x80, Uint8Array.of(v))) }, // PROTO
  { weight: 1, arbitrary: fc.oneof(fc.nat({ max: 64 }).map(BigInt), fc.constantFrom(2n ** 53n, 2n ** 64n - 1n)).map((v) => op(0x95, uintLE(v, 8))) }, // FRAME
  { weight: 2, arbitrary: fc.oneof(fc.nat({ max: 4 }), fc.constant(255)).map((i) => op(0x71, Uint8Array.of(i))) }, // BINPUT
  { weight: 2, arbitrary: fc.oneof(fc.nat({ max: 4 }), fc.constant(255)).map((i) => op(0x68, Uint8Array.of(i))) }, // BINGET
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 0xffffffff).map((i) => op(0x72, uintLE(BigInt(i), 4))) }, // LONG_BINPUT
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 0xffffffff).map((i) => op(0x6a, uintLE(BigInt(i), 4))) }, // LONG_BINGET
  { weight: 1, arbitrary: fc.constantFrom('0', '1', '99', '-1', 'x', '1234567890123456').map((t) => op(0x70, line(t))) }, // PUT
  { weight: 1, arbitrary: fc.constantFrom('0', '1', '99', 'x').map((t) => op(0x67, line(t))) }, // GET
  { weight: 1, arbitrary: word.map((w) => op(0x50, line(w))) }, // PERSID
  { weight: 3, arbitrary: globalName.map(([m, n]) => op(0x63, line(m), line(n))) }, // GLOBAL
  { weight: 1, arbitrary: globalName.map(([m, n]) => op(0x69, line(m), line(n))) }, // INST
  {
    // A persistent storage id as torch writes it, with a key that may or may not exist.
    weight: 3,
    arbitrary: fc.tuple(fc.constantFrom('FloatStorage', 'HalfStorage', 'LongStorage', 'BoolStorage', 'Size'), fc.constantFrom('0', '1', 'missing'), pushInt).map(([type, key, numel]) =>
      concatBytes(Uint8Array.of(0x28), op(0x8c, Uint8Array.of(7), utf8('storage')), op(0x63, line('torch'), line(type)), op(0x8c, Uint8Array.of(key.length), utf8(key)), op(0x8c, Uint8Array.of(3), utf8('cpu')), numel, Uint8Array.of(0x74, 0x51))),
  },
  {
    // A tuple of small integers: a shape or a stride.
    weight: 3,
    arbitrary: fc.array(pushInt, { maxLength: 4 }).map((ints) => concatBytes(Uint8Array.of(0x28), ...ints, Uint8Array.of(0x74))),
  },
);

/**
 * Pickle fragments that each push exactly one value, nested as tuples, lists, dicts and calls
 * of allowlisted (sometimes forbidden) globals. Well-formed fragments get past the stack checks
 * that stop most random opcode strings, into the allowlisted functions and the containers.
 */
type PickleParts = Record<'value' | 'leaf' | 'tuple' | 'list' | 'dict' | 'call' | 'memo', Uint8Array>;

const { value: pickleValue } = fc.letrec<PickleParts>((tie) => {
  const value = (): fc.Arbitrary<Uint8Array> => tie('value');
  const many = (max: number) => fc.array(value(), { maxLength: max }).map((items) => concatBytes(...items));
  return {
    value: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'pickle' },
      { weight: 6, arbitrary: tie('leaf') },
      { weight: 2, arbitrary: tie('tuple') },
      { weight: 1, arbitrary: tie('list') },
      { weight: 1, arbitrary: tie('dict') },
      { weight: 2, arbitrary: tie('call') },
      { weight: 1, arbitrary: tie('memo') },
    ),
    leaf: fc.oneof(
      pushInt,
      word.map((w) => { const b = utf8(w).subarray(0, 255); return op(0x8c, Uint8Array.of(b.length), b); }),
      fc.constantFrom(Uint8Array.of(0x4e), Uint8Array.of(0x88), Uint8Array.of(0x29), Uint8Array.of(0x7d), Uint8Array.of(0x5d)),
      prefixed(0x43, 1, shortBytes),
      globalName.map(([m, n]) => op(0x63, line(m), line(n))),
      bulk,
    ),
    tuple: fc.oneof(
      many(4).map((items) => concatBytes(Uint8Array.of(0x28), items, Uint8Array.of(0x74))),
      value().map((v) => concatBytes(v, Uint8Array.of(0x85))),
      fc.tuple(value(), value()).map(([x, y]) => concatBytes(x, y, Uint8Array.of(0x86))),
    ),
    list: fc.oneof(
      many(4).map((items) => concatBytes(Uint8Array.of(0x28), items, Uint8Array.of(0x6c))),
      many(4).map((items) => concatBytes(Uint8Array.of(0x5d, 0x28), items, Uint8Array.of(0x65))),
    ),
    dict: fc.oneof(
      many(6).map((items) => concatBytes(Uint8Array.of(0x7d, 0x28), items, Uint8Array.of(0x75))),
      fc.tuple(value(), value()).map(([k, v]) => concatBytes(Uint8Array.of(0x7d), k, v, Uint8Array.of(0x73))),
    ),
    call: fc
      .tuple(globalName, many(7), fc.constantFrom(0x52, 0x52, 0x52, 0x81, 0x6f))
      .map(([[m, n], args, how]) =>
        how === 0x6f
          ? concatBytes(Uint8Array.of(0x28), op(0x63, line(m), line(n)), args, Uint8Array.of(0x6f)) // OBJ
          : concatBytes(op(0x63, line(m), line(n)), Uint8Array.of(0x28), args, Uint8Array.of(0x74, how)), // REDUCE / NEWOBJ
      ),
    memo: fc.tuple(value(), fc.nat({ max: 3 })).map(([v, i]) => concatBytes(v, Uint8Array.of(0x71, i, 0x30, 0x68, i))), // BINPUT, POP, BINGET
  };
});

/**
 * A pickle program: a well-formed value with a little noise spliced in, or a free string of
 * instructions; usually behind a protocol header and ending in STOP.
 */
export const pickleProgram: fc.Arbitrary<FuzzCase> = fc
  .record({
    proto: rarely(fc.constantFrom(2, 4, 5), 5).map((p) => (p === null ? 2 : p)),
    shape: fc.oneof(
      { weight: 2, arbitrary: fc.record({ value: pickleValue, noise: fc.array(fc.tuple(fc.nat(), instruction), { maxLength: 2 }) }) },
      { weight: 1, arbitrary: fc.array(instruction, { maxLength: 48 }) },
    ),
    stop: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  })
  .map(({ proto, shape, stop }) => {
    let body: Uint8Array;
    let label: string;
    if (Array.isArray(shape)) {
      body = concatBytes(...shape);
      label = `pickle program of ${shape.length} free instructions`;
    } else {
      body = shape.value;
      for (const [at, noise] of shape.noise) {
        const where = at % (body.length + 1);
        body = concatBytes(body.subarray(0, where), noise, body.subarray(where));
      }
      label = `pickle value of ${shape.value.length} bytes with ${shape.noise.length} noise instructions`;
    }
    return fuzzCase(concatBytes(Uint8Array.of(0x80, proto), body, stop ? Uint8Array.of(0x2e) : new Uint8Array(0)), label);
  });

// ---- tensor records ---------------------------------------------------------------------------

export interface TensorRecord {
  name: string;
  key: string;
  storageType: string;
  numel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

const dimension = fc.oneof({ weight: 20, arbitrary: fc.nat({ max: 6 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1) });

export const tensorRecord: fc.Arbitrary<TensorRecord> = fc
  .record({
    name: fc.constantFrom('w', 'b', 'module.w', 'blocks.0.w', '__proto__'),
    key: fc.constantFrom('0', '1', '2'),
    storageType: fc.constantFrom('FloatStorage', 'FloatStorage', 'HalfStorage', 'BFloat16Storage', 'DoubleStorage', 'LongStorage', 'IntStorage', 'ByteStorage', 'BoolStorage'),
    numel: dimension,
    offset: dimension,
    rank: fc.nat({ max: 4 }),
    shape: fc.array(dimension, { maxLength: 4 }),
    stride: fc.array(dimension, { maxLength: 4 }),
    contiguous: fc.boolean(),
  })
  .map((r) => {
    const shape = r.shape.slice(0, r.rank);
    while (shape.length < r.rank) shape.push(1);
    // Half the records get the contiguous strides a real tensor has.
    let stride = r.stride.slice(0, r.rank);
    while (stride.length < r.rank) stride.push(1);
    if (r.contiguous) {
      stride = [];
      let s = 1;
      for (let d = shape.length - 1; d >= 0; d--) {
        stride[d] = s;
        s *= Math.max(shape[d], 1);
      }
    }
    return { name: r.name, key: r.key, storageType: r.storageType, numel: r.numel, offset: r.offset, shape, stride };
  });

// ---- safetensors ------------------------------------------------------------------------------

const DTYPE_SIZES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const JSON_NUMBERS = ['0', '1', '-1', '1.5', '1e2', '1e999', '-0', '9007199254740993', '[]', '"1"', 'null', 'true'];

interface SafeEntry {
  name: string | null;
  dtype: string;
  shape: number[];
  offsetsMode: 'right' | 'shifted' | 'literal';
  shift: number;
  literal: [string, string];
  shapeLiteral: string | null;
}

const safeEntry: fc.Arbitrary<SafeEntry> = fc.record({
  // Mostly distinct names; sometimes ones that collide or mean something to JS or to the format.
  name: rarely(fc.oneof(fc.constantFrom('w', 'module.w', '__proto__', 'constructor', '__metadata__', ''), fc.string({ maxLength: 6 })), 6),
  dtype: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...Object.keys(DTYPE_SIZES)) }, { weight: 1, arbitrary: fc.constantFrom('F8_E4M3', 'f32', 'F32 ', '', 'toString') }),
  shape: fc.array(fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 53, 2 ** 60) }), { maxLength: 4 }),
  offsetsMode: fc.oneof({ weight: 10, arbitrary: fc.constant('right' as const) }, { weight: 1, arbitrary: fc.constantFrom('shifted' as const, 'literal' as const) }),
  shift: fc.integer({ min: -8, max: 8 }),
  literal: fc.tuple(fc.constantFrom(...JSON_NUMBERS), fc.constantFrom(...JSON_NUMBERS)),
  shapeLiteral: rarely(fc.constantFrom('[-1]', '[1.5]', '["2"]', '{}', '3', `[${'1,'.repeat(70)}1]`), 8),
});

/** A safetensors file whose header is written by hand, so it can hold duplicate keys and odd numbers. */
export const safetensorsFile: fc.Arbitrary<FuzzCase> = fc
  .record({
    entries: fc.array(safeEntry, { maxLength: 5 }),
    metadata: fc.constantFrom('', '', '"__metadata__":{"format":"pt"}', '"__metadata__":[]', '"__metadata__":{"a":{"b":[1,{"c":null}]}}'),
    trailingData: fc.integer({ min: -4, max: 8 }),
    headerLength: declaredLength(8),
    trailingComma: fc.constantFrom(false, false, false, false, false, true),
    pad: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('   ', '\n', '\u0000', ',', '}') }),
    nesting: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 3, 64, 70),
  })
  .map(({ entries, metadata, trailingData, headerLength, trailingComma, pad, nesting }) => {
    let cursor = 0;
    const parts = entries.map((e, index) => {
      const numel = e.shape.reduce((n, d) => n * d, 1);
      const bytes = numel * (DTYPE_SIZES[e.dtype] ?? 4);
      const small = Number.isSafeInteger(bytes) && bytes <= 4096;
      let offsets: string;
      if (e.offsetsMode === 'literal' || !small) offsets = `[${e.literal[0]},${e.literal[1]}]`;
      else if (e.offsetsMode === 'shifted') offsets = `[${Math.max(0, cursor + e.shift)},${cursor + bytes + e.shift}]`;
      else offsets = `[${cursor},${cursor + bytes}]`;
      if (small) cursor += bytes;
      const shape = e.shapeLiteral ?? `[${e.shape.join(',')}]`;
      return `${JSON.stringify(e.name ?? `t${index}`)}:{"dtype":${JSON.stringify(e.dtype)},"shape":${shape},"data_offsets":${offsets}}`;
    });
    const members = [metadata, nesting ? `"deep":${'['.repeat(nesting)}${']'.repeat(nesting)}` : '', ...parts].filter((m) => m !== '');
    const header = utf8(`{${members.join(',')}${trailingComma ? ',' : ''}}${pad}`);
    const data = new Uint8Array(Math.max(0, cursor + trailingData)).map((_, i) => (i * 37) & 0xff);
    const bytes = concatBytes(uintLE(headerLength(header.length), 8), header, data);
    return fuzzCase(bytes, `safetensors with ${entries.length} entries: ${new TextDecoder().decode(header).slice(0, 400)}`);
  });

// ---- PNG chunk streams ------------------------------------------------------------------------

const VALID_KINDS: ReadonlyArray<readonly [number, number]> = [[1, 0], [2, 0], [4, 0], [8, 0], [16, 0], [8, 2], [16, 2], [1, 3], [2, 3], [4, 3], [8, 3], [8, 4], [16, 4], [8, 6], [16, 6]];
const SIDES = [0, 1, 2, 3, 7, 8, 9, 16, 31, 33, 255, 65535, 2 ** 31, 2 ** 32 - 1];

/** IHDR with any field values, optional PLTE/tRNS, then IDAT(s) holding zlib data of about the right size. */
export const pngStream: fc.Arbitrary<FuzzCase> = fc
  .record({
    width: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 24 }) }, { weight: 1, arbitrary: fc.constantFrom(...SIDES) }),
    height: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 24 }) }, { weight: 1, arbitrary: fc.constantFrom(...SIDES) }),
    // Mostly the combinations PNG allows, sometimes anything.
    kind: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...VALID_KINDS) }, { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 })) }),
    interlace: fc.constantFrom(0, 0, 1, 2),
    filterMethod: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 1),
    palette: rarely(fc.nat({ max: 300 }), 2),
    trns: rarely(fc.nat({ max: 260 }), 3),
    sizeDelta: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -40, max: 40 }) }),
    filterBytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    seed: fc.nat({ max: 255 }),
    split: fc.nat({ max: 3 }),
    garbage: rarely(fc.uint8Array({ maxLength: 40 }), 8),
  })
  .map(({ kind: [depth, colorType], ...r }) => {
    const ihdr = new Uint8Array(13);
    const view = new DataView(ihdr.buffer);
    view.setUint32(0, r.width);
    view.setUint32(4, r.height);
    ihdr.set([depth, colorType, 0, r.filterMethod, r.interlace], 8);
    const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType] ?? 1;
    // Raw size for a non-interlaced image; interlaced images get it too, which is close enough to matter.
    const rowBytes = Math.ceil((Math.min(r.width, 64) * channels * depth) / 8);
    const rows = Math.min(r.height, 64);
    const rawSize = Math.max(0, rows * (rowBytes + 1) + r.sizeDelta);
    const raw = new Uint8Array(rawSize);
    for (let i = 0; i < rawSize; i++) raw[i] = (i * 131 + r.seed) & 0xff;
    // Filter-type bytes, mostly valid (0-4), at each row start.
    for (let y = 0, k = 0; y * (rowBytes + 1) < rawSize; y++, k++) raw[y * (rowBytes + 1)] = r.filterBytes[k % r.filterBytes.length] % 6;
    const z = r.garbage ?? deflateSync(raw);
    const idat: Uint8Array[] = [];
    const pieces = r.split + 1;
    for (let i = 0; i < pieces; i++) idat.push(pngChunk('IDAT', z.subarray(Math.floor((i * z.length) / pieces), Math.floor(((i + 1) * z.length) / pieces))));
    const bytes = concatBytes(
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
      pngChunk('IHDR', ihdr),
      r.palette === null ? new Uint8Array(0) : pngChunk('PLTE', new Uint8Array(r.palette).map((_, i) => i * 7)),
      r.trns === null ? new Uint8Array(0) : pngChunk('tRNS', new Uint8Array(r.trns).fill(128)),
      ...idat,
      pngChunk('IEND', new Uint8Array(0)),
    );
    const label = `PNG ${r.width}x${r.height} depth ${depth} colour ${colorType} interlace ${r.interlace}, ${r.garbage ? 'garbage' : `${rawSize} raw bytes`} in ${pieces} IDAT`;
    return fuzzCase(bytes, label);
  });
