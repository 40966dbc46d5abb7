import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { centrePriorMask, foregroundMask, patchMaskIoU } from '../../server/analysis/segmentation';

describe('segmentation measures', () => {
  it('finds the foreground in any channel', () => {
    const view = { width: 2, height: 1, channels: 3 as const, data: Uint8Array.from([0, 0, 0, 0, 5, 0]) };
    assert.deepEqual([...foregroundMask(view)], [0, 1]);
  });

  it('computes pixel IoU of a patch mask', () => {
    // 4x4 image, 2x2 grid of 2-pixel patches; foreground = left half.
    const fg = Uint8Array.from([1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
    assert.equal(patchMaskIoU([1, 0, 1, 0], fg, 4, 2), 1);
    assert.equal(patchMaskIoU([1, 0, 0, 0], fg, 4, 2), 0.5);
    assert.equal(patchMaskIoU([0, 1, 0, 1], fg, 4, 2), 0);
    assert.equal(patchMaskIoU([0, 0, 0, 0], new Uint8Array(16), 4, 2), undefined);
  });

  it('picks the patches nearest the centre', () => {
    assert.deepEqual(centrePriorMask(3, 1), [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert.deepEqual(centrePriorMask(3, 5), [0, 1, 0, 1, 1, 1, 0, 1, 0]);
    assert.equal(centrePriorMask(7, 20).reduce((a, b) => a + b, 0), 20);
  });
});
