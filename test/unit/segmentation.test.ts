import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dinoMask } from '../../server/analysis/attention';
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

describe('DINO masks', () => {
  /** The definition, literally: a stable argsort ascending, cumulative share, keep above 1 - threshold. */
  function reference(values: number[], threshold: number): number[] {
    const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
    const total = values.reduce((s, v) => s + v, 0);
    const mask = values.map(() => 0);
    let cumulative = 0;
    for (const i of order) { cumulative += values[i] / total; if (cumulative > 1 - threshold) mask[i] = 1; }
    return mask;
  }

  it('equals the stable-argsort definition, ties included', () => {
    let s = 7;
    const next = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x7fffffff; };
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + (trial % 50);
      // Some trials draw from a few levels only, so ties straddle the cutoff.
      const values = Array.from({ length: n }, () => (trial % 3 === 0 ? Math.floor(next() * 4) / 4 : next()));
      for (const threshold of [0.1, 0.6, 0.9]) assert.deepEqual(dinoMask(values, threshold), reference(values, threshold), `trial ${trial} threshold ${threshold}`);
    }
  });
});
