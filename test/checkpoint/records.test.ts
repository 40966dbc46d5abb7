// argparse.Namespace, which MAE-style training checkpoints store beside the model: read as plain data, never called.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError, ForbiddenGlobalError } from '../../server/checkpoint';
import { unpickle } from '../../server/checkpoint/pickle';
import { global, int, op, pkl, str } from '../fixtures/loader/build';

const NEWOBJ = 0x81;

test('a pickled argparse.Namespace becomes a dict of its attributes', () => {
  // {'args': Namespace(lr=224, model='x')} as protocol 2 writes it: NEWOBJ, then BUILD with the attribute dict.
  const bytes = pkl(op.PROTO2, op.EMPTY_DICT, str('args'), global('argparse', 'Namespace'), op.EMPTY_TUPLE, NEWOBJ,
    op.EMPTY_DICT, op.MARK, str('input_size'), int(224), str('model'), str('x'), op.SETITEMS, op.BUILD, op.SETITEM, op.STOP);
  const value = unpickle(bytes) as Map<unknown, unknown>;
  assert.deepEqual([...(value.get('args') as Map<unknown, unknown>)], [['input_size', 224], ['model', 'x']]);
});

test('argparse.Namespace is never called, and its state must be a dict', () => {
  const called = pkl(op.PROTO2, global('argparse', 'Namespace'), op.EMPTY_TUPLE, op.REDUCE, op.STOP);
  assert.throws(() => unpickle(called), ForbiddenGlobalError);
  const listState = pkl(op.PROTO2, global('argparse', 'Namespace'), op.EMPTY_TUPLE, NEWOBJ, op.EMPTY_LIST, op.BUILD, op.STOP);
  assert.throws(() => unpickle(listState), (e: Error) => e instanceof CheckpointError && /needs a dict state/.test(e.message));
});

test('a forbidden global inside a Namespace is still refused', () => {
  const bytes = pkl(op.PROTO2, global('argparse', 'Namespace'), op.EMPTY_TUPLE, NEWOBJ,
    op.EMPTY_DICT, str('f'), global('os', 'system'), op.SETITEM, op.BUILD, op.STOP);
  assert.throws(() => unpickle(bytes), ForbiddenGlobalError);
});
