// Hand-assembled pickles that would run a command under Python's pickle.loads
// must be refused, naming the global, before anything runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ForbiddenGlobalError, readCheckpoint, readCheckpointBytes } from '../../server/checkpoint';
import { FIXTURES, global, op, pkl, str, tensorDictPickle, torchZip, f32bytes } from '../fixtures/loader/build';

const PWNED = '/tmp/crate-lens-pwned';
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'malicious', 'manifest.json'), 'utf8')) as Record<string, string>;

test('the malicious fixture set covers GLOBAL, STACK_GLOBAL, REDUCE, INST, OBJ and NEWOBJ', () => {
  const names = Object.keys(manifest).join(' ');
  for (const kind of ['global_', 'stack_global_', 'inst_', 'obj_', 'newobj_']) assert.match(names, new RegExp(kind));
  for (const name of ['posix.system', 'os.system', 'builtins.eval', 'subprocess.Popen']) {
    assert.ok(Object.values(manifest).includes(name), name);
  }
});

for (const [file, globalName] of Object.entries(manifest)) {
  test(`${file} is refused naming '${globalName}' and runs nothing`, () => {
    rmSync(PWNED, { force: true });
    assert.throws(() => readCheckpoint(join(FIXTURES, 'malicious', file)), (error: unknown) => {
      assert.ok(error instanceof ForbiddenGlobalError, `expected ForbiddenGlobalError, got ${String(error)}`);
      assert.ok(error instanceof CheckpointError);
      assert.equal(error.global, globalName);
      assert.equal(error.message.split('\n').length, 1);
      assert.ok(error.message.includes(`'${globalName}'`), error.message);
      return true;
    });
    assert.equal(existsSync(PWNED), false, 'the payload must not have run');
  });
}

test('the message has the documented form', () => {
  assert.throws(
    () => readCheckpoint(join(FIXTURES, 'malicious', 'global_posix_system.pth')),
    { message: "checkpoint refused: pickle references forbidden global 'posix.system'" },
  );
});

test('a storage type used as a callable is refused', () => {
  const pickle = pkl(op.PROTO2, global('torch', 'FloatStorage'), op.EMPTY_TUPLE, op.REDUCE, op.STOP);
  assert.throws(() => readCheckpointBytes(torchZip(pickle, {}), 'x.pth'), (error: unknown) => {
    assert.ok(error instanceof ForbiddenGlobalError);
    assert.equal(error.global, 'torch.FloatStorage');
    return true;
  });
});

test('BUILD on a tensor (a __setstate__ call in Python) is refused', () => {
  const base = tensorDictPickle([{ name: 'w', key: '0', numel: 2, shape: [2], stride: [1] }]);
  // Rebuild the same dict but apply BUILD to the tensor before storing it.
  const withBuild = pkl(base.subarray(0, base.length - 2), op.EMPTY_DICT, op.BUILD, op.SETITEMS, op.STOP);
  assert.throws(() => readCheckpointBytes(torchZip(withBuild, { 0: f32bytes([1, 2]) }), 'x.pth'), (error: unknown) => {
    assert.ok(error instanceof ForbiddenGlobalError);
    assert.equal(error.global, 'torch._utils._rebuild_tensor_v2');
    return true;
  });
});

test('control characters in a refused global name stay on one line', () => {
  const pickle = pkl(op.PROTO4, 0x8c, 5, 'os\nx\r', 0x8c, 6, 'system', 0x93, str('id'), 0x85, op.REDUCE, op.STOP);
  assert.throws(() => readCheckpointBytes(torchZip(pickle, {}), 'x.pth'), (error: unknown) => {
    assert.ok(error instanceof ForbiddenGlobalError);
    assert.equal(error.message.split(/[\n\r]/).length, 1);
    assert.match(error.message, /os\\x0ax\\x0d\.system/);
    return true;
  });
});
