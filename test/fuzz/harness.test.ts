// The fuzz harness itself: a synchronous reader that never returns is stopped by the time
// limit, and the input it was stuck on is saved (node:test's own timeout cannot do this).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FuzzWorker, runProperty } from './harness';

test('a property that never returns is stopped and its input saved', async () => {
  const worker = new FuzzWorker();
  const source = { module: join(__dirname, 'selftest.ts'), exportName: 'MISBEHAVING' };
  // Started and loaded first, so the limit below only has the stuck case to measure.
  await runProperty(worker, { source, name: 'returns at once', runs: 1, seed: 1 }, 60_000);
  await assert.rejects(runProperty(worker, { source, name: 'never returns on its third case', runs: 10, seed: 1 }, 1500), (error: Error) => {
    assert.match(error.message, /did not finish within 1.5 s \(seed 1\): a reader hung during case 3; its input \(4 bytes\) is in /);
    const file = / is in (.+)$/.exec(error.message)?.[1] ?? '';
    assert.ok(existsSync(file), file);
    assert.deepEqual([...readFileSync(file)].slice(1), [1, 2, 3]);
    rmSync(file);
    return true;
  });
  assert.equal(worker.dead, true);
});
