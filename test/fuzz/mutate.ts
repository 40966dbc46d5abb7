// Structured mutations of valid files as fast-check arbitraries. Blind byte noise mostly dies
// at the first checksum or signature; these mutations aim at what readers trust: length and size
// fields (set to zero, huge or "negative" values, or nudged by a few), whole chunks or segments
// duplicated, dropped or swapped, truncations, and splices from the file itself or a sibling.

import fc from 'fast-check';
import { concatBytes } from '../../server/image/png-encode';

/** One generated input: its bytes and how it was made, which is what a failure report shows. */
export interface FuzzCase {
  readonly bytes: Uint8Array;
  readonly label: string;
  /** The name of the valid file it was derived from, if any. */
  readonly base?: string;
}

export function fuzzCase(bytes: Uint8Array, label: string, base?: string): FuzzCase {
  return {
    bytes,
    label,
    base,
    // fast-check prints counterexamples with this; the bytes themselves are saved to a file.
    [fc.toStringMethod]: () => `${label} (${bytes.length} bytes)`,
  } as FuzzCase;
}

/** A length or size field the reader trusts, at a fixed offset of the unmutated file. */
export interface Field {
  at: number;
  size: 1 | 2 | 4 | 8;
  littleEndian: boolean;
  name: string;
}

/** A self-contained piece of the file (a chunk, segment or block) that can be moved as a whole. */
export interface Unit {
  start: number;
  end: number;
  name: string;
}

export interface Layout {
  fields: Field[];
  units: Unit[];
}

export interface Base {
  name: string;
  bytes: Uint8Array;
  layout: Layout;
}

const EXTREMES: Record<Field['size'], readonly bigint[]> = {
  1: [0n, 1n, 0x7fn, 0x80n, 0xfen, 0xffn],
  2: [0n, 1n, 0x7fffn, 0x8000n, 0xfffen, 0xffffn],
  4: [0n, 1n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn],
  8: [0n, 1n, 0xffffffffn, 0x100000000n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n],
};

type FieldValue = { kind: 'extreme'; pick: number } | { kind: 'nudge'; by: number } | { kind: 'any'; value: bigint };

type Step =
  | { kind: 'field'; pick: number; value: FieldValue }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'copy'; from: number; length: number; to: number; overwrite: boolean }
  | { kind: 'donor'; donor: number; from: number; length: number; to: number };

type UnitStep = { kind: 'duplicate' | 'drop' | 'swap' | 'move'; unit: number; other: number };

const position = fc.nat({ max: 1 << 20 });

const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('extreme' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('nudge' as const), by: fc.integer({ min: -8, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('any' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }) },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('field' as const), pick: fc.nat(), value: fieldValue }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('byte' as const), at: position, value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x2e) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('copy' as const), from: position, length: fc.integer({ min: 1, max: 512 }), to: position, overwrite: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('donor' as const), donor: fc.nat(), from: position, length: fc.integer({ min: 1, max: 512 }), to: position }),
  },
);

const unitStep: fc.Arbitrary<UnitStep> = fc.record({
  kind: fc.constantFrom('duplicate' as const, 'drop' as const, 'swap' as const, 'move' as const),
  unit: fc.nat(),
  other: fc.nat(),
});

function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

function readField(bytes: Uint8Array, f: Field): bigint {
  let value = 0n;
  for (let i = 0; i < f.size; i++) {
    const byte = bytes[f.at + (f.littleEndian ? i : f.size - 1 - i)] ?? 0;
    value |= BigInt(byte) << BigInt(8 * i);
  }
  return value;
}

function writeField(bytes: Uint8Array, f: Field, value: bigint): void {
  const mask = (1n << BigInt(8 * f.size)) - 1n;
  const v = ((value % (mask + 1n)) + mask + 1n) & mask; // wraps negatives to two's complement
  for (let i = 0; i < f.size; i++) {
    const at = f.at + (f.littleEndian ? i : f.size - 1 - i);
    if (at < bytes.length) bytes[at] = Number((v >> BigInt(8 * i)) & 0xffn);
  }
}

function applyUnit(bytes: Uint8Array, units: readonly Unit[], s: UnitStep): { bytes: Uint8Array; label: string } {
  const u = units[s.unit % units.length];
  const o = units[s.other % units.length];
  const piece = bytes.subarray(u.start, u.end);
  const without = concatBytes(bytes.subarray(0, u.start), bytes.subarray(u.end));
  switch (s.kind) {
    case 'duplicate':
      return { bytes: concatBytes(bytes.subarray(0, u.end), piece, bytes.subarray(u.end)), label: `duplicate ${u.name}` };
    case 'drop':
      return { bytes: without, label: `drop ${u.name}` };
    case 'move': {
      // Insert before `o`, measured in the file without `u`.
      const at = o.start > u.start ? o.start - piece.length : o.start;
      return { bytes: concatBytes(without.subarray(0, at), piece, without.subarray(at)), label: `move ${u.name} before ${o.name}` };
    }
    case 'swap': {
      if (o.start === u.start) return { bytes, label: `swap ${u.name} with itself` };
      const [a, b] = u.start < o.start ? [u, o] : [o, u];
      if (a.end > b.start) return { bytes, label: `swap overlapping ${a.name}` };
      return {
        bytes: concatBytes(bytes.subarray(0, a.start), bytes.subarray(b.start, b.end), bytes.subarray(a.end, b.start), bytes.subarray(a.start, a.end), bytes.subarray(b.end)),
        label: `swap ${a.name} and ${b.name}`,
      };
    }
  }
}

function applyStep(bytes: Uint8Array, s: Step, base: Base, donors: readonly Base[]): { bytes: Uint8Array; label: string } {
  const n = bytes.length;
  const at = (p: number): number => (n === 0 ? 0 : p % (n + 1));
  switch (s.kind) {
    case 'field': {
      const fields = base.layout.fields;
      if (fields.length === 0) return { bytes, label: 'no field' };
      const f = fields[s.pick % fields.length];
      const out = bytes.slice();
      const old = readField(out, f);
      let value: bigint;
      if (s.value.kind === 'extreme') value = EXTREMES[f.size][s.value.pick % EXTREMES[f.size].length];
      else if (s.value.kind === 'nudge') value = old + BigInt(s.value.by);
      else value = s.value.value;
      writeField(out, f, value);
      return { bytes: out, label: `${f.name}=${hex(readField(out, f))} (was ${hex(old)})` };
    }
    case 'flip': {
      if (n === 0) return { bytes, label: 'flip nothing' };
      const out = bytes.slice();
      out[s.at % n] ^= 1 << s.bit;
      return { bytes: out, label: `flip bit ${s.bit} at ${s.at % n}` };
    }
    case 'byte': {
      if (n === 0) return { bytes, label: 'set nothing' };
      const out = bytes.slice();
      out[s.at % n] = s.value;
      return { bytes: out, label: `byte ${s.at % n}=${hex(BigInt(s.value))}` };
    }
    case 'truncate':
      return { bytes: bytes.slice(0, at(s.at)), label: `truncate to ${at(s.at)}` };
    case 'delete': {
      const from = at(s.at);
      return { bytes: concatBytes(bytes.subarray(0, from), bytes.subarray(from + s.length)), label: `delete ${s.length} at ${from}` };
    }
    case 'insert': {
      const to = at(s.at);
      return { bytes: concatBytes(bytes.subarray(0, to), s.bytes, bytes.subarray(to)), label: `insert ${s.bytes.length} at ${to}` };
    }
    case 'copy': {
      const from = at(s.from);
      const piece = bytes.slice(from, from + s.length);
      const to = at(s.to);
      const tail = bytes.subarray(s.overwrite ? Math.min(n, to + piece.length) : to);
      return { bytes: concatBytes(bytes.subarray(0, to), piece, tail), label: `${s.overwrite ? 'overwrite' : 'splice'} ${piece.length} from ${from} at ${to}` };
    }
    case 'donor': {
      const donor = donors.length ? donors[s.donor % donors.length] : base;
      const from = donor.bytes.length ? s.from % donor.bytes.length : 0;
      const piece = donor.bytes.subarray(from, from + s.length);
      const to = at(s.to);
      return { bytes: concatBytes(bytes.subarray(0, to), piece, bytes.subarray(to)), label: `splice ${piece.length} of ${donor.name}@${from} at ${to}` };
    }
  }
}

// Position-preserving steps go first so field offsets taken from the unmutated file still hit.
const ORDER: Record<Step['kind'], number> = { field: 0, flip: 1, byte: 1, copy: 2, insert: 3, delete: 3, donor: 3, truncate: 4 };

export interface MutationOptions {
  /** Repairs checksums after mutation, so the mutation reaches the code behind them. */
  fixup?: (bytes: Uint8Array) => Uint8Array;
  maxSteps?: number;
  /** Files whose pieces may be spliced in; by default the bases themselves. */
  donors?: readonly Base[];
}

/**
 * Mutations of a base (one of a list, or a generated one): 0-1 unit operations, then 1 to
 * maxSteps byte or field mutations, then optionally the format's checksum repair.
 */
export function mutationsOf(bases: readonly Base[] | fc.Arbitrary<Base>, options: MutationOptions = {}): fc.Arbitrary<FuzzCase> {
  const list = Array.isArray(bases) ? (bases as readonly Base[]) : undefined;
  if (list && list.length === 0) throw new Error('mutationsOf needs at least one base');
  const base = list ? fc.constantFrom(...list) : (bases as fc.Arbitrary<Base>);
  const donors = options.donors ?? list ?? [];
  return fc
    .record({
      base,
      unit: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: unitStep }),
      steps: fc.array(step, { minLength: 1, maxLength: options.maxSteps ?? 4 }),
      fixup: fc.boolean(),
    })
    .map(({ base, unit, steps, fixup }) => {
      let bytes = base.bytes;
      const labels: string[] = [];
      // Unit operations use the unmutated offsets; field offsets after them may drift, which is fine.
      if (unit && base.layout.units.length) {
        const r = applyUnit(bytes, base.layout.units, unit);
        bytes = r.bytes;
        labels.push(r.label);
      }
      for (const s of [...steps].sort((a, b) => ORDER[a.kind] - ORDER[b.kind])) {
        const r = applyStep(bytes, s, base, donors);
        bytes = r.bytes;
        labels.push(r.label);
      }
      if (fixup && options.fixup) {
        bytes = options.fixup(bytes);
        labels.push('checksums fixed');
      }
      return fuzzCase(bytes, `${base.name}: ${labels.join(', ')}`, base.name);
    });
}

/** Random bytes, optionally behind a fixed prefix (a magic number the reader dispatches on). */
export function bytesAfter(prefixes: ReadonlyArray<readonly [string, Uint8Array]>, maxLength = 512): fc.Arbitrary<FuzzCase> {
  return fc
    .record({ prefix: fc.nat({ max: prefixes.length - 1 }), body: fc.uint8Array({ maxLength }) })
    .map(({ prefix, body }) => fuzzCase(concatBytes(prefixes[prefix][1], body), `${prefixes[prefix][0]} + ${body.length} random bytes`));
}

