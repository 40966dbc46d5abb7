// The restricted unpickler on its own: real Python pickles of protocols 0-5,
// and hand-built byte strings for every guard.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError } from '../../server/checkpoint';
import { unpickle } from '../../server/checkpoint/pickle';
import { PySet, PyTuple, type PyValue } from '../../server/checkpoint/values';
import { fixture, global, i32, op, pkl, str, u32, u64 } from '../fixtures/loader/build';

function load(bytes: Uint8Array): Map<PyValue, PyValue> {
  const value = unpickle(bytes);
  assert.ok(value instanceof Map);
  return value;
}

for (let protocol = 0; protocol <= 5; protocol++) {
  test(`a Python protocol ${protocol} pickle of plain data round-trips`, () => {
    const d = load(fixture(`pickles/data_p${protocol}.pkl`));
    assert.equal(d.get('int'), 7);
    assert.equal(d.get('neg'), -300);
    assert.equal(d.get('big'), 2n ** 70n);
    assert.equal(d.get('bigneg'), -(2n ** 65n));
    assert.equal(d.get('i32'), -(2 ** 31));
    assert.equal(d.get('u16'), 65535);
    assert.equal(d.get('float'), 2.5);
    assert.equal(d.get('tiny'), 1e-300);
    assert.equal(d.get('inf'), Infinity);
    assert.equal(d.get('str'), 'h\u00e9llo \u2603 \\u0041 \n end');
    assert.deepEqual(d.get('bytes'), Uint8Array.of(0, 255, 16));
    assert.deepEqual(d.get('list'), [1, 2.5, 'x', null, true, false]);
    assert.deepEqual(d.get('tuple0'), new PyTuple([]));
    assert.deepEqual(d.get('tuple1'), new PyTuple([1]));
    assert.deepEqual(d.get('tuple2'), new PyTuple([1, 2]));
    assert.deepEqual(d.get('tuple3'), new PyTuple([1, 2, 3]));
    assert.deepEqual(d.get('tuple4'), new PyTuple([1, 2, 3, 4]));
    assert.deepEqual(d.get('nested'), new Map<PyValue, PyValue>([[1, new Map([[2, 'two']])], ['k', [[], new Map()]]]));
    assert.equal(d.get('shared_a'), d.get('shared_b'), 'memoised objects keep their identity');
    assert.deepEqual(d.get('od'), new Map([['a', 1], ['b', 2]]));
    if (protocol >= 4) {
      assert.deepEqual(d.get('set'), new PySet([1, 2], false));
      assert.deepEqual(d.get('frozenset'), new PySet(['f'], true));
    }
  });
}

function rejects(bytes: Uint8Array, pattern: RegExp, options = {}): void {
  assert.throws(() => unpickle(bytes, options), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('text opcodes of protocol 0', () => {
  assert.equal(unpickle(pkl('I01\n.')), true);
  assert.equal(unpickle(pkl('I00\n.')), false);
  assert.equal(unpickle(pkl('I-12\n.')), -12);
  assert.equal(unpickle(pkl('L123456789012345678901234567890L\n.')), 123456789012345678901234567890n);
  assert.ok(Number.isNaN(unpickle(pkl('Fnan\n.'))));
  assert.equal(unpickle(pkl('F-inf\n.')), -Infinity);
  assert.equal(unpickle(pkl('F1.5e+10\n.')), 1.5e10);
  assert.equal(unpickle(pkl("S'a\\x41\\n\\'b\\101'\n.")), "aA\n'bA");
  assert.equal(unpickle(pkl('S"q"\n.')), 'q');
  assert.equal(unpickle(pkl('Vsnow \\u2603 \\U0001F600\n.')), 'snow \u2603 \u{1F600}');
  const cyclic = unpickle(pkl('(lp0\nI1\nag0\na.'));
  assert.ok(Array.isArray(cyclic) && cyclic[0] === 1 && cyclic[1] === cyclic, 'a list containing itself is built without recursion');
  rejects(pkl('Sabc\n.'), /must be quoted/);
  rejects(pkl('Ixyz\n.'), /bad integer/);
  rejects(pkl('F1.2.3\n.'), /bad float/);
  rejects(pkl('I1'), /unterminated/);
});

test('binary integers and floats', () => {
  assert.equal(unpickle(pkl(0x4a, i32(-5), op.STOP)), -5);
  assert.equal(unpickle(pkl(0x4b, 200, op.STOP)), 200);
  assert.equal(unpickle(pkl(0x4d, 0x34, 0x12, op.STOP)), 0x1234);
  assert.equal(unpickle(pkl(0x8a, 0, op.STOP)), 0);
  assert.equal(unpickle(pkl(0x8a, 2, 0xff, 0x00, op.STOP)), 255);
  assert.equal(unpickle(pkl(0x8a, 1, 0xff, op.STOP)), -1);
  assert.equal(unpickle(pkl(0x8a, 2, 0x00, 0xff, op.STOP)), -256);
  assert.equal(unpickle(pkl(0x8b, i32(9), 0, 0, 0, 0, 0, 0, 0, 0, 1, op.STOP)), 2n ** 64n);
  const f = new Uint8Array(8);
  new DataView(f.buffer).setFloat64(0, -0.1, false);
  assert.equal(unpickle(pkl(0x47, f, op.STOP)), -0.1);
});

test('memo opcodes keep identity', () => {
  const value = unpickle(pkl(op.PROTO4, op.EMPTY_LIST, 0x94, 0x68, 0, 0x6a, u32(0), 0x87, op.STOP));
  assert.ok(value instanceof PyTuple);
  assert.equal(value.items[0], value.items[1]);
  assert.equal(value.items[0], value.items[2]);
  rejects(pkl(0x68, 3, op.STOP), /memo index 3 was never stored/);
  rejects(pkl('g12\n.'), /never stored/);
  rejects(pkl(op.EMPTY_LIST, 'p-1\n.'), /bad memo index/);
});

test('stack and mark misuse is a CheckpointError', () => {
  rejects(pkl(op.STOP), /STOP with an empty stack/);
  rejects(pkl(op.REDUCE), /stack underflow/);
  rejects(pkl(0x31), /no MARK/);
  rejects(pkl(0x74), /no MARK/);
  rejects(pkl(0x87, op.STOP), /stack underflow/);
  rejects(pkl(op.EMPTY_DICT, op.MARK, 0x4b, 1, op.SETITEMS, op.STOP), /odd number/);
  rejects(pkl(op.EMPTY_DICT, op.EMPTY_LIST, 0x4b, 1, op.SETITEM, op.STOP), /unhashable/);
  rejects(pkl(op.EMPTY_DICT, 0x4b, 1, op.APPEND, op.STOP), /APPEND on a dict/);
  rejects(pkl(op.EMPTY_LIST, 0x4b, 1, 0x4b, 1, op.SETITEM, op.STOP), /SETITEM on a list/);
  rejects(pkl(op.EMPTY_LIST, op.EMPTY_DICT, op.BUILD, op.STOP), /BUILD on a list/);
  rejects(pkl(str('f'), op.EMPTY_TUPLE, op.REDUCE, op.STOP), /cannot call a str/);
  rejects(pkl(global('collections', 'OrderedDict'), 0x4b, 1, op.REDUCE, op.STOP), /arguments must be a tuple/);
  rejects(pkl(op.PROTO4, 0x4b, 1, str('x'), 0x93, op.STOP), /STACK_GLOBAL needs two strings/);
});

test('OrderedDict forms and its _metadata BUILD are accepted', () => {
  const od = global('collections', 'OrderedDict');
  assert.deepEqual(unpickle(pkl(od, op.EMPTY_TUPLE, op.REDUCE, op.EMPTY_DICT, op.BUILD, op.STOP)), new Map());
  const pairs = pkl(op.EMPTY_LIST, str('a'), 0x4b, 1, 0x86, op.APPEND);
  assert.deepEqual(unpickle(pkl(od, op.MARK, pairs, op.TUPLE, op.REDUCE, op.STOP)), new Map([['a', 1]]));
  assert.deepEqual(unpickle(pkl(op.PROTO2, od, op.EMPTY_TUPLE, 0x81, op.STOP)), new Map());
  assert.deepEqual(unpickle(pkl(op.MARK, od, 'o.')), new Map());
  assert.deepEqual(unpickle(pkl(op.MARK, 'icollections\nOrderedDict\n.')), new Map());
  assert.deepEqual(unpickle(pkl(global('_codecs', 'encode'), str('\u00ff'), str('latin1'), op.TUPLE2, op.REDUCE, op.STOP)), Uint8Array.of(255));
  rejects(pkl(global('_codecs', 'encode'), str('x'), str('rot13'), op.TUPLE2, op.REDUCE, op.STOP), /latin1/);
});

test('bombs are capped', () => {
  rejects(pkl(...new Array(600).fill(op.MARK)), /nesting deeper than 512/);
  rejects(pkl(op.EMPTY_LIST, op.MARK, ...new Array(20).fill(op.EMPTY_TUPLE), 0x65, op.STOP), /more than 10 objects/, { maxObjects: 10 });
  rejects(pkl(0x58, u32(0xffffffff), 'abc'), /needs 4294967295 bytes but only 3 remain/);
  rejects(pkl(0x8e, u64(2 ** 50), op.STOP), /needs 1125899906842624 bytes/);
  rejects(pkl(0x8e, u32(0), u32(0x7fffffff), op.STOP), /64-bit length too large/);
  rejects(pkl(0x54, i32(-1), op.STOP), /needs -1 bytes/);
  rejects(pkl(0x8b, i32(-1), op.STOP), /negative LONG4 length/);
  rejects(pkl(0x8b, i32(1 << 20), op.STOP), /integer of 1048576 bytes is too large/);
  rejects(pkl(0x95, u64(1000), op.NEWFALSE, op.STOP), /frame runs past the end/);
  rejects(pkl(`I${'9'.repeat(5000)}\n.`), /bad integer/);
});

test('copies by allowlisted calls of memoised values are capped', () => {
  // memo 0: a dict of 3 entries; memo 1: OrderedDict; then OrderedDict(memo 0) four times: 12 copied.
  const dict = pkl(op.EMPTY_DICT, op.MARK, str('a'), op.NEWFALSE, str('b'), op.NEWFALSE, str('c'), op.NEWFALSE, op.SETITEMS, 0x71, 0, op.POP);
  const copy = pkl(0x68, 1, 0x68, 0, 0x85, op.REDUCE);
  const copies = (n: number) => pkl(dict, global('collections', 'OrderedDict'), 0x71, 1, op.POP, op.EMPTY_LIST, op.MARK, ...new Array(n).fill(copy), 0x65, op.STOP);
  assert.equal((unpickle(copies(4), { maxCopied: 12 }) as PyValue[]).length, 4);
  rejects(copies(5), /allowlisted calls would copy more than 12 elements/, { maxCopied: 12 });
  // The same for strings turned into bytes.
  const encode = pkl(0x68, 1, 0x68, 0, str('latin1'), 0x86, op.REDUCE);
  const encodes = (n: number) => pkl(str('abcd'), 0x71, 0, op.POP, global('_codecs', 'encode'), 0x71, 1, op.POP, op.EMPTY_LIST, op.MARK, ...new Array(n).fill(encode), 0x65, op.STOP);
  rejects(encodes(3), /allowlisted calls would copy more than 20 elements/, { maxCopied: 20 });
  assert.equal((unpickle(encodes(2), { maxCopied: 20 }) as PyValue[]).length, 2);
});

test('unsupported opcodes and protocols are refused', () => {
  rejects(pkl(0x80, 6, op.STOP), /unsupported pickle protocol 6/);
  rejects(pkl(0x82, 1, op.STOP), /extension codes/);
  rejects(pkl(0x97, op.STOP), /NEXT_BUFFER/);
  rejects(pkl(str('pid'), op.BINPERSID, op.STOP), /persistent ids are not expected/);
  rejects(pkl(0x58, u32(2), 0xc3, 0x28, op.STOP), /invalid UTF-8/);
});

test('random bytes only ever raise CheckpointError', () => {
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 16;
  };
  // Bias towards real opcodes so the VM gets past the first byte.
  const opcodes = Buffer.from('()0123NIJKLMFGSTUVXBCabcdeghijlopqrstu}])\x80\x81\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95', 'latin1');
  for (let round = 0; round < 3000; round++) {
    const bytes = new Uint8Array(1 + (next() % 40));
    for (let i = 0; i < bytes.length; i++) bytes[i] = next() % 3 === 0 ? next() & 0xff : opcodes[next() % opcodes.length];
    try {
      unpickle(bytes, { persistentLoad: () => null });
    } catch (error) {
      assert.ok(error instanceof CheckpointError, `round ${round}: ${String(error)}`);
      assert.equal(error.cause, undefined, `round ${round}: unchecked failure: ${error.message}`);
    }
  }
});
