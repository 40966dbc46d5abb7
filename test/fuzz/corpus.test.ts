// Replays the hostile corpus: each input that once broke a reader, with what it must do now.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointError, readCheckpointBytes } from '../../server/checkpoint';
import { unpickle } from '../../server/checkpoint/pickle';
import { ImageError, decodeImage } from '../../server/image';
import { HOSTILE, type HostileCase } from '../fixtures/hostile/corpus';

function read(c: HostileCase, bytes: Uint8Array): unknown {
  if (c.reader === 'unpickle') return unpickle(bytes);
  if (c.reader === 'checkpoint') return readCheckpointBytes(bytes, 'hostile.pth');
  return decodeImage(bytes);
}

for (const c of HOSTILE) {
  test(`hostile corpus: ${c.name}`, () => {
    const bytes = c.bytes();
    if (c.expect === 'accepted') {
      assert.doesNotThrow(() => read(c, bytes));
      return;
    }
    const pattern = c.expect;
    assert.throws(() => read(c, bytes), (error: unknown) => {
      assert.ok(error instanceof (c.reader === 'image' ? ImageError : CheckpointError), `got ${String(error)}`);
      assert.match(error.message, pattern);
      assert.equal(error.cause, undefined, 'refused by an explicit check, not the last-resort net');
      return true;
    });
  });
}
