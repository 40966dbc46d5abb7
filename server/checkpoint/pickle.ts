// A restricted unpickler: a small VM for the opcodes of pickle protocols 0-5
// that data-only pickles use. It never imports or calls anything; globals are
// looked up in a fixed allowlist of JS implementations and refused otherwise.

import { ALLOWED_GLOBALS, ORDERED_DICT } from './allowlist';
import { CheckpointError, ForbiddenGlobalError, printable } from './errors';
import { PyGlobal, PySet, PyTuple, typeName, type PyDict, type PyValue } from './values';

export interface UnpickleOptions {
  /** Resolves a persistent id (BINPERSID/PERSID); absent means persistent ids are refused. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Cap on values pushed, so a small file cannot exhaust memory. */
  maxObjects?: number;
  /** Cap on MARK nesting. */
  maxDepth?: number;
  /** Cap on the elements allowlisted calls copy (dicts, pair lists, strings), all calls together. */
  maxCopied?: number;
}

const DEFAULT_MAX_OBJECTS = 10_000_000;
const DEFAULT_MAX_DEPTH = 512;
/** Longest integer accepted, in bytes (LONG1/LONG4) or decimal digits (INT/LONG). */
const MAX_INT_BYTES = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): PyValue {
  return new Machine(bytes, options).run();
}

class Machine {
  private pos = 0;
  private opStart = 0;
  private stack: PyValue[] = [];
  private readonly metastack: PyValue[][] = [];
  private readonly memo = new Map<number, PyValue>();
  private pushed = 0;
  private readonly maxObjects: number;
  private readonly maxDepth: number;
  private copied = 0;
  private readonly maxCopied: number;
  /** Which allowlisted global produced an object, so BUILD on it can be judged. */
  private readonly origin = new WeakMap<object, string>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: UnpickleOptions,
  ) {
    this.maxObjects = options.maxObjects ?? DEFAULT_MAX_OBJECTS;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxCopied = options.maxCopied ?? DEFAULT_MAX_OBJECTS;
  }

  run(): PyValue {
    try {
      for (;;) {
        this.opStart = this.pos;
        const op = this.u8();
        if (op === 0x2e /* STOP */) {
          if (this.stack.length === 0) this.fail('STOP with an empty stack');
          return this.stack[this.stack.length - 1];
        }
        this.step(op);
      }
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
      // Defence in depth: nothing but a CheckpointError may escape.
      throw new CheckpointError(`malformed pickle at byte ${this.opStart}: ${(error as Error).message}`, { cause: error });
    }
  }

  private fail(why: string): never {
    throw new CheckpointError(`malformed pickle at byte ${this.opStart}: ${why}`);
  }

  // ---- input ------------------------------------------------------------

  private need(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || this.pos + n > this.bytes.length) {
      this.fail(`needs ${n} bytes but only ${this.bytes.length - this.pos} remain (truncated?)`);
    }
  }

  private take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  private u16(): number {
    const b = this.take(2);
    return b[0] | (b[1] << 8);
  }

  private i32(): number {
    const b = this.take(4);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }

  private u32(): number {
    return this.i32() >>> 0;
  }

  private u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    const value = hi * 0x100000000 + lo;
    if (!Number.isSafeInteger(value)) this.fail('64-bit length too large');
    return value;
  }

  private line(): Uint8Array {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('unterminated text argument (truncated?)');
    const out = this.bytes.subarray(this.pos, end);
    this.pos = end + 1;
    return out;
  }

  private text(raw: Uint8Array): string {
    try {
      return utf8.decode(raw);
    } catch {
      this.fail('invalid UTF-8 text');
    }
  }

  private latin1(raw: Uint8Array): string {
    let out = '';
    for (let i = 0; i < raw.length; i += 8192) out += String.fromCharCode(...raw.subarray(i, i + 8192));
    return out;
  }

  // ---- stack ------------------------------------------------------------

  private push(value: PyValue): void {
    if (++this.pushed > this.maxObjects) this.fail(`more than ${this.maxObjects} objects`);
    this.stack.push(value);
  }

  private pop(): PyValue {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack.pop() as PyValue;
  }

  private top(): PyValue {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }

  private mark(): void {
    if (this.metastack.length >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.metastack.push(this.stack);
    this.stack = [];
  }

  private popMark(): PyValue[] {
    const items = this.stack;
    const previous = this.metastack.pop();
    if (!previous) this.fail('no MARK to pop to');
    this.stack = previous;
    return items;
  }

  private memoPut(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0) this.fail(`bad memo index ${index}`);
    if (this.memo.size >= this.maxObjects && !this.memo.has(index)) this.fail('memo too large');
    this.memo.set(index, this.top());
  }

  private memoGet(index: number): void {
    if (!this.memo.has(index)) this.fail(`memo index ${index} was never stored`);
    this.push(this.memo.get(index) as PyValue);
  }

  // ---- opcodes ----------------------------------------------------------

  private step(op: number): void {
    switch (op) {
      case 0x80: { // PROTO
        const protocol = this.u8();
        if (protocol > 5) this.fail(`unsupported pickle protocol ${protocol}`);
        return;
      }
      case 0x95: { // FRAME: framing is only a read-ahead hint
        const length = this.u64();
        if (length > this.bytes.length - this.pos) this.fail('frame runs past the end (truncated?)');
        return;
      }
      case 0x28: return this.mark(); // MARK
      case 0x30: // POP
        if (this.stack.length > 0) this.stack.pop();
        else this.popMark();
        return;
      case 0x31: this.popMark(); return; // POP_MARK
      case 0x32: return this.push(this.top()); // DUP
      case 0x4e: return this.push(null); // NONE
      case 0x88: return this.push(true); // NEWTRUE
      case 0x89: return this.push(false); // NEWFALSE
      case 0x49: return this.push(this.textInt(true)); // INT
      case 0x4c: return this.push(this.textInt(false)); // LONG
      case 0x4a: return this.push(this.i32()); // BININT
      case 0x4b: return this.push(this.u8()); // BININT1
      case 0x4d: return this.push(this.u16()); // BININT2
      case 0x8a: return this.push(this.binaryLong(this.u8())); // LONG1
      case 0x8b: return this.push(this.binaryLong(this.i32())); // LONG4
      case 0x46: return this.push(this.textFloat()); // FLOAT
      case 0x47: { // BINFLOAT (big-endian)
        const b = this.take(8);
        return this.push(new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, false));
      }
      case 0x53: return this.push(this.quotedString()); // STRING
      case 0x54: return this.push(this.text(this.take(this.i32()))); // BINSTRING
      case 0x55: return this.push(this.text(this.take(this.u8()))); // SHORT_BINSTRING
      case 0x56: return this.push(rawUnicodeEscape(this.latin1(this.line()))); // UNICODE
      case 0x58: return this.push(this.text(this.take(this.u32()))); // BINUNICODE
      case 0x8c: return this.push(this.text(this.take(this.u8()))); // SHORT_BINUNICODE
      case 0x8d: return this.push(this.text(this.take(this.u64()))); // BINUNICODE8
      case 0x42: return this.push(new Uint8Array(this.take(this.u32()))); // BINBYTES
      case 0x43: return this.push(new Uint8Array(this.take(this.u8()))); // SHORT_BINBYTES
      case 0x8e: return this.push(new Uint8Array(this.take(this.u64()))); // BINBYTES8
      case 0x96: return this.push(new Uint8Array(this.take(this.u64()))); // BYTEARRAY8
      case 0x97: return this.fail('out-of-band buffers (NEXT_BUFFER) are not supported');
      case 0x98: this.top(); return; // READONLY_BUFFER: no-op on our bytes
      case 0x29: return this.push(new PyTuple([])); // EMPTY_TUPLE
      case 0x74: return this.push(new PyTuple(this.popMark())); // TUPLE
      case 0x85: return this.push(new PyTuple(this.popN(1))); // TUPLE1
      case 0x86: return this.push(new PyTuple(this.popN(2))); // TUPLE2
      case 0x87: return this.push(new PyTuple(this.popN(3))); // TUPLE3
      case 0x5d: return this.push([]); // EMPTY_LIST
      case 0x6c: return this.push(this.popMark()); // LIST
      case 0x61: { // APPEND
        const value = this.pop();
        this.listTop('APPEND').push(value);
        return;
      }
      case 0x65: { // APPENDS
        const items = this.popMark();
        const list = this.listTop('APPENDS');
        for (const item of items) list.push(item);
        return;
      }
      case 0x7d: return this.push(new Map()); // EMPTY_DICT
      case 0x64: { // DICT
        const dict: PyDict = new Map();
        this.setPairs(dict, this.popMark());
        return this.push(dict);
      }
      case 0x73: { // SETITEM
        const value = this.pop();
        const key = this.pop();
        this.setPairs(this.dictTop('SETITEM'), [key, value]);
        return;
      }
      case 0x75: { // SETITEMS
        const items = this.popMark();
        this.setPairs(this.dictTop('SETITEMS'), items);
        return;
      }
      case 0x8f: return this.push(new PySet([], false)); // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = this.popMark();
        const set = this.top();
        if (!(set instanceof PySet) || set.frozen) this.fail(`ADDITEMS on a ${typeName(set)}`);
        // Not push(...items): spreading a long MARK group overflows the call stack.
        for (const item of items) set.items.push(item);
        return;
      }
      case 0x91: return this.push(new PySet(this.popMark(), true)); // FROZENSET
      case 0x70: return this.memoPut(this.decimal(this.line())); // PUT
      case 0x71: return this.memoPut(this.u8()); // BINPUT
      case 0x72: return this.memoPut(this.u32()); // LONG_BINPUT
      case 0x94: return this.memoPut(this.memo.size); // MEMOIZE
      case 0x67: return this.memoGet(this.decimal(this.line())); // GET
      case 0x68: return this.memoGet(this.u8()); // BINGET
      case 0x6a: return this.memoGet(this.u32()); // LONG_BINGET
      case 0x50: return this.persistent(this.latin1(this.line())); // PERSID
      case 0x51: return this.persistent(this.pop()); // BINPERSID
      case 0x63: { // GLOBAL
        const module = this.text(this.line());
        const name = this.text(this.line());
        return this.push(resolveGlobal(module, name));
      }
      case 0x93: { // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
        return this.push(resolveGlobal(module, name));
      }
      case 0x69: { // INST: the class is named inline, checked before anything else happens
        const module = this.text(this.line());
        const name = this.text(this.line());
        const cls = resolveGlobal(module, name);
        return this.push(this.invoke(cls, this.popMark()));
      }
      case 0x6f: { // OBJ
        const items = this.popMark();
        if (items.length === 0) this.fail('OBJ without a class');
        return this.push(this.invoke(items[0], items.slice(1)));
      }
      case 0x52: { // REDUCE
        const args = this.pop();
        const callable = this.pop();
        if (!(args instanceof PyTuple)) this.fail(`REDUCE arguments must be a tuple, got ${typeName(args)}`);
        return this.push(this.invoke(callable, args.items));
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = this.pop();
        const cls = this.pop();
        if (!(args instanceof PyTuple)) this.fail('NEWOBJ arguments must be a tuple');
        return this.push(this.construct(cls));
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = this.pop();
        const args = this.pop();
        const cls = this.pop();
        if (!(args instanceof PyTuple) || !(kwargs instanceof Map)) this.fail('NEWOBJ_EX needs a tuple and a dict');
        return this.push(this.construct(cls));
      }
      case 0x62: return this.build(); // BUILD
      case 0x82:
      case 0x83:
      case 0x84:
        return this.fail('copyreg extension codes (EXT1/EXT2/EXT4) are not supported');
      default:
        return this.fail(`unknown or unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  private popN(n: number): PyValue[] {
    if (this.stack.length < n) this.fail('stack underflow');
    return this.stack.splice(this.stack.length - n, n);
  }

  private listTop(op: string): PyValue[] {
    const list = this.top();
    if (!Array.isArray(list)) this.fail(`${op} on a ${typeName(list)}`);
    return list;
  }

  private dictTop(op: string): PyDict {
    const dict = this.top();
    if (!(dict instanceof Map)) this.fail(`${op} on a ${typeName(dict)}`);
    return dict;
  }

  private setPairs(dict: PyDict, items: PyValue[]): void {
    if (items.length % 2 !== 0) this.fail('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (Array.isArray(key) || key instanceof Map || (key instanceof PySet && !key.frozen)) {
        this.fail(`unhashable dict key of type ${typeName(key)}`);
      }
      dict.set(key, items[i + 1]);
    }
  }

  private persistent(pid: PyValue): void {
    const load = this.options.persistentLoad;
    if (!load) this.fail('persistent ids are not expected in this pickle');
    this.push(load(pid));
  }

  /** Calls an allowlisted global's JS implementation (REDUCE, OBJ, INST). */
  private invoke(callable: PyValue, args: readonly PyValue[]): PyValue {
    if (!(callable instanceof PyGlobal)) this.fail(`cannot call a ${typeName(callable)}`);
    const impl = ALLOWED_GLOBALS.get(callable.qualified);
    if (!impl || impl.kind !== 'call') {
      throw new ForbiddenGlobalError(
        callable.qualified,
        `checkpoint refused: pickle calls forbidden global '${printable(callable.qualified)}' (allowed only as a storage type)`,
      );
    }
    // A memoised dict or string costs a few bytes to pass again, and OrderedDict(d) or
    // _codecs.encode(s) copies it each time: without a budget a small pickle can ask for
    // gigabytes. Counted before the call.
    for (const arg of args) this.copied += sizeOf(arg);
    if (this.copied > this.maxCopied) this.fail(`allowlisted calls would copy more than ${this.maxCopied} elements`);
    const result = impl.call(args);
    if (typeof result === 'object' && result !== null) this.origin.set(result, callable.qualified);
    return result;
  }

  /** NEWOBJ/NEWOBJ_EX: only an empty OrderedDict or an allowlisted record (as an empty dict) may be created this way. */
  private construct(cls: PyValue): PyValue {
    if (!(cls instanceof PyGlobal)) this.fail(`cannot instantiate a ${typeName(cls)}`);
    if (ALLOWED_GLOBALS.get(cls.qualified)?.kind === 'record') {
      const record: PyDict = new Map();
      this.origin.set(record, cls.qualified);
      return record;
    }
    if (cls.qualified !== ORDERED_DICT) {
      throw new ForbiddenGlobalError(cls.qualified, `checkpoint refused: pickle instantiates forbidden global '${printable(cls.qualified)}'`);
    }
    const dict: PyDict = new Map();
    this.origin.set(dict, ORDERED_DICT);
    return dict;
  }

  /**
   * BUILD: the `_metadata` state torch attaches to an OrderedDict is accepted (and ignored); a record's
   * attribute dict becomes its entries (data only: nothing is called).
   */
  private build(): void {
    const state = this.pop();
    const target = this.top();
    const from = typeof target === 'object' && target !== null ? this.origin.get(target) : undefined;
    if (from === ORDERED_DICT) return;
    if (from !== undefined && ALLOWED_GLOBALS.get(from)?.kind === 'record' && target instanceof Map) {
      if (!(state instanceof Map)) this.fail(`BUILD on '${printable(from)}' needs a dict state, got ${typeName(state)}`);
      this.copied += state.size;
      if (this.copied > this.maxCopied) this.fail(`allowlisted calls would copy more than ${this.maxCopied} elements`);
      for (const [key, value] of state) target.set(key, value);
      return;
    }
    if (from !== undefined) {
      throw new ForbiddenGlobalError(from, `checkpoint refused: pickle sets state on an object made by '${printable(from)}'`);
    }
    this.fail(`BUILD on a ${typeName(target)}`);
  }

  // ---- text arguments ---------------------------------------------------

  private decimal(raw: Uint8Array): number {
    const text = this.latin1(raw).trim();
    if (!/^\d{1,15}$/.test(text)) this.fail(`bad memo index '${printable(text, 40)}'`);
    return Number(text);
  }

  private textInt(boolCodes: boolean): number | bigint | boolean {
    let text = this.latin1(this.line()).trim();
    if (boolCodes && text === '00') return false;
    if (boolCodes && text === '01') return true;
    if (!boolCodes && text.endsWith('L')) text = text.slice(0, -1);
    if (text.length > MAX_INT_BYTES || !/^[+-]?\d+$/.test(text)) this.fail(`bad integer '${printable(text, 40)}'`);
    return narrow(BigInt(text));
  }

  private binaryLong(n: number): number | bigint {
    if (n < 0) this.fail('negative LONG4 length');
    if (n > MAX_INT_BYTES) this.fail(`integer of ${n} bytes is too large`);
    const b = this.take(n);
    if (n === 0) return 0;
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) value -= 1n << BigInt(8 * n);
    return narrow(value);
  }

  private textFloat(): number {
    const text = this.latin1(this.line()).trim();
    const lower = text.toLowerCase();
    if (/^[+-]?(inf|infinity)$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(lower)) return NaN;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(lower)) this.fail(`bad float '${printable(text, 40)}'`);
    return Number(text);
  }

  /** STRING: a quoted Python 2 str literal with backslash escapes, decoded as UTF-8 as torch.load does. */
  private quotedString(): string {
    const raw = this.line();
    // Tolerate '\r\n' line ends from text pickles written on Windows.
    const body = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    const quote = body[0];
    if (body.length < 2 || (quote !== 0x27 && quote !== 0x22) || body[body.length - 1] !== quote) {
      this.fail('STRING argument must be quoted');
    }
    return this.text(escapeDecode(body.subarray(1, body.length - 1)));
  }
}

/** What copying a call argument costs: its length for containers, strings and bytes. */
function sizeOf(value: PyValue): number {
  if (value instanceof Map) return value.size;
  if (Array.isArray(value) || typeof value === 'string' || value instanceof Uint8Array) return value.length;
  if (value instanceof PyTuple) return value.items.length;
  return 1;
}

function narrow(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** The single place a global name becomes a value: refused unless allowlisted. */
function resolveGlobal(module: string, name: string): PyGlobal {
  const qualified = `${module}.${name}`;
  if (!ALLOWED_GLOBALS.has(qualified)) throw new ForbiddenGlobalError(qualified);
  return new PyGlobal(module, name);
}

const SIMPLE_ESCAPES: Record<number, number> = {
  0x5c: 0x5c, 0x27: 0x27, 0x22: 0x22, 0x61: 0x07, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x76: 0x0b,
};

/** Python's codecs.escape_decode. */
function escapeDecode(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  const hex = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c !== 0x5c || i + 1 >= src.length) {
      out.push(c);
      continue;
    }
    const e = src[++i];
    if (e in SIMPLE_ESCAPES) out.push(SIMPLE_ESCAPES[e]);
    else if (e === 0x0a) continue;
    else if (e === 0x78 && i + 2 < src.length && hex(src[i + 1]) >= 0 && hex(src[i + 2]) >= 0) {
      out.push(hex(src[i + 1]) * 16 + hex(src[i + 2]));
      i += 2;
    } else if (e >= 0x30 && e <= 0x37) {
      let value = e - 0x30;
      for (let k = 0; k < 2 && i + 1 < src.length && src[i + 1] >= 0x30 && src[i + 1] <= 0x37; k++) value = value * 8 + (src[++i] - 0x30);
      out.push(value & 0xff);
    } else {
      out.push(0x5c, e);
    }
  }
  return Uint8Array.from(out);
}

/** Python's raw-unicode-escape decoding: only \uXXXX and \UXXXXXXXX are escapes. */
function rawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_whole, short?: string, long?: string) => {
    const code = parseInt(short ?? long ?? '', 16);
    if (code > 0x10ffff) throw new CheckpointError('malformed pickle: \\U escape beyond U+10FFFF');
    return String.fromCodePoint(code);
  });
}
