// modelView and toInputTensor reproduce the PIL/torchvision reference pipeline exactly.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeImage, modelView, toInputTensor } from '../../server/image';
import { assertMatches, decodeCase, manifest, readFixture } from '../fixtures/imaging/fixtures';

describe('modelView and toInputTensor match the reference', () => {
  for (const c of manifest.modelView) {
    test(`${c.source} ${c.imageSize}px ${c.channels}ch ${c.resize}`, () => {
      const img = decodeImage(readFixture(decodeCase(c.source).file));
      const options = { imageSize: c.imageSize, channels: c.channels, mean: c.mean, std: c.std, resize: c.resize };
      const view = modelView(img, options);
      assert.deepEqual([view.width, view.height, view.channels], [c.imageSize, c.imageSize, c.channels]);
      assertMatches(view.data, c.view, 'view');
      const tensor = toInputTensor(view, options);
      assert.equal(tensor.length, c.imageSize * c.imageSize * c.channels);
      assertMatches(new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength), c.tensor, 'tensor (float32 LE)');
    });
  }
});

describe('preprocessing arguments', () => {
  const img = { width: 4, height: 4, channels: 3 as const, data: new Uint8Array(48).fill(128) };
  const options = { imageSize: 4, channels: 3 as const, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'squash' as const };

  test('tensor is CHW with (v/255 - mean)/std in float32', () => {
    const view = { width: 2, height: 2, channels: 3 as const, data: Uint8Array.of(0, 51, 255, 255, 102, 0, 1, 2, 3, 4, 5, 6) };
    const opts = { imageSize: 2, channels: 3 as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'squash' as const };
    const t = toInputTensor(view, opts);
    const f = Math.fround;
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 4; i++) {
        const want = f(f(f(view.data[i * 3 + c] / 255) - f(opts.mean[c])) / f(opts.std[c]));
        assert.equal(t[c * 4 + i], want, `channel ${c} pixel ${i}`);
      }
    }
  });

  test('rejects a mean/std of the wrong length, a zero std and a view of the wrong shape', () => {
    assert.throws(() => modelView(img, { ...options, mean: [0.5] }), RangeError);
    assert.throws(() => modelView(img, { ...options, std: [1, 0, 1] }), RangeError);
    assert.throws(() => modelView(img, { ...options, imageSize: 0 }), RangeError);
    assert.throws(() => toInputTensor(img, { ...options, imageSize: 5 }), RangeError);
    assert.throws(() => toInputTensor(img, { ...options, channels: 1, mean: [0], std: [1] }), RangeError);
  });
});
