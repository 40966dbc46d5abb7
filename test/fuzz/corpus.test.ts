// Replays the hostile corpus: each input that once broke a reader, with what it must do now.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointError } from '../../server/checkpoint';
import { ImageError } from '../../server/image';
import { HOSTILE } from '../fixtures/hostile/corpus';

for (const c of HOSTILE) {
  test(`hostile corpus: ${c.name}`, () => {
    const bytes = c.bytes();
    if (c.expect === 'accepted') {
      c.read(bytes);
      return;
    }
    const pattern = c.expect;
    assert.throws(() => c.read(bytes), (error: unknown) => {
      assert.ok(error instanceof (c.kind === 'image' ? ImageError : CheckpointError), `got ${String(error)}`);
      assert.match(error.message, pattern);
      assert.equal(error.cause, undefined, 'refused by an explicit check, not the last-resort net');
      return true;
    });
  });
}
