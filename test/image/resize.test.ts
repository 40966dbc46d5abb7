// resizeBilinear reproduces PIL's Image.resize(..., BILINEAR) byte for byte.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeImage, resizeBilinear } from '../../server/image';
import { assertMatches, decodeCase, manifest, readFixture } from '../fixtures/imaging/fixtures';

describe('resizeBilinear matches PIL', () => {
  for (const c of manifest.resize) {
    test(`${c.source} -> ${c.width}x${c.height}`, () => {
      const src = decodeImage(readFixture(decodeCase(c.source).file));
      assert.equal(src.channels, c.channels);
      const out = resizeBilinear(src, c.width, c.height);
      assert.deepEqual([out.width, out.height, out.channels], [c.width, c.height, c.channels]);
      assertMatches(out.data, c.pixels, `${c.source} ${c.width}x${c.height}`);
    });
  }
});

describe('resizeBilinear', () => {
  const img = { width: 3, height: 2, channels: 1 as const, data: Uint8Array.of(0, 50, 100, 150, 200, 250) };

  test('same size returns an equal copy', () => {
    const out = resizeBilinear(img, 3, 2);
    assert.deepEqual(out.data, img.data);
    assert.notEqual(out.data, img.data);
  });

  test('rejects bad sizes and bad rasters', () => {
    assert.throws(() => resizeBilinear(img, 0, 2), RangeError);
    assert.throws(() => resizeBilinear(img, 2.5, 2), RangeError);
    assert.throws(() => resizeBilinear({ ...img, data: new Uint8Array(5) }, 2, 2), RangeError);
  });
});
