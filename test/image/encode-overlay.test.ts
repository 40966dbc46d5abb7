// PNG encoding round-trips (through our decoder and through PIL) and the overlays look right.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Raster, convertChannels, decodeImage, encodePng, renderHeatmapOverlay, renderMask, resizeBilinear } from '../../server/image';
import { INFERNO, VIRIDIS } from '../../server/image/colormap-data';
import { rng, sha256 } from '../fixtures/imaging/fixtures';

function randomRaster(width: number, height: number, channels: Raster['channels'], seed: number): Raster {
  const rand = rng(seed);
  // Smooth-ish content with noise, so every PNG filter type gets picked somewhere.
  const data = Uint8Array.from({ length: width * height * channels }, (_, i) => {
    const x = Math.floor(i / channels) % width;
    return (x * 7 + Math.floor(rand() * 40)) & 255;
  });
  return { width, height, channels, data };
}

const PYTHON = '/usr/bin/python3';
const hasPil = spawnSync(PYTHON, ['-c', 'import PIL'], { encoding: 'utf8' }).status === 0;

describe('encodePng', () => {
  const rasters = ([1, 2, 3, 4] as const).map((ch, i) => randomRaster(23 + i, 17, ch, 10 + i));

  test('round-trips through decodeImage for grey, grey+alpha, RGB and RGBA', () => {
    for (const r of rasters) {
      const png = encodePng(r);
      const back = decodeImage(png);
      assert.equal(back.format, 'png');
      assert.deepEqual([back.width, back.height, back.channels], [r.width, r.height, r.channels]);
      assert.deepEqual(back.data, r.data);
    }
  });

  test('PIL reads the same pixels', { skip: !hasPil && 'no Debian python3 with PIL here' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-png-'));
    try {
      const files = rasters.map((r, i) => {
        const file = join(dir, `${i}.png`);
        writeFileSync(file, encodePng(r));
        return file;
      });
      const script =
        'import sys, hashlib\nfrom PIL import Image\nfor f in sys.argv[1:]:\n' +
        '    im = Image.open(f); im.load(); print(im.mode, hashlib.sha256(im.tobytes()).hexdigest())';
      const run = spawnSync(PYTHON, ['-c', script, ...files], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.trim().split('\n');
      rasters.forEach((r, i) => {
        assert.equal(lines[i], `${['L', 'LA', 'RGB', 'RGBA'][r.channels - 1]} ${sha256(r.data)}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('renderHeatmapOverlay', () => {
  const view = randomRaster(32, 32, 3, 3);
  // A single hot patch in the top-left corner of a 4x4 grid.
  const grid = new Float32Array(16);
  grid[0] = 5;

  test('is an RGB image of the requested size', () => {
    const out = renderHeatmapOverlay(view, grid, 4, 4);
    assert.deepEqual([out.width, out.height, out.channels], [224, 224, 3]);
    const small = renderHeatmapOverlay(view, Array.from(grid), 4, 4, { outputSize: 50 });
    assert.deepEqual([small.width, small.height], [50, 50]);
  });

  test('alpha 1 shows the colormap: hottest at the peak, coldest far away', () => {
    const out = renderHeatmapOverlay(view, grid, 4, 4, { alpha: 1, outputSize: 64 });
    const at = (x: number, y: number): number[] => Array.from(out.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3));
    assert.deepEqual(at(0, 0), Array.from(INFERNO.subarray(255 * 3, 256 * 3)));
    assert.deepEqual(at(63, 63), Array.from(INFERNO.subarray(0, 3)));
    const viridis = renderHeatmapOverlay(view, grid, 4, 4, { alpha: 1, outputSize: 64, colormap: 'viridis' });
    assert.deepEqual(Array.from(viridis.data.subarray(0, 3)), [253, 231, 36]);
    assert.deepEqual(Array.from(VIRIDIS.subarray(0, 3)), [68, 1, 84]);
  });

  test('alpha 0 is the greyscale view', () => {
    const out = renderHeatmapOverlay(view, grid, 4, 4, { alpha: 0, outputSize: 64 });
    const grey = resizeBilinear(convertChannels(view, 1), 64, 64);
    for (let i = 0; i < 64 * 64; i++) assert.deepEqual(Array.from(out.data.subarray(i * 3, i * 3 + 3)), [grey.data[i], grey.data[i], grey.data[i]]);
  });

  test('constant and non-finite grids do not break it', () => {
    const flat = renderHeatmapOverlay(view, new Float32Array(16).fill(2), 4, 4, { alpha: 1, outputSize: 8 });
    assert.deepEqual(Array.from(flat.data.subarray(0, 3)), Array.from(INFERNO.subarray(0, 3)));
    const odd = renderHeatmapOverlay(view, [NaN, 1, Infinity, 0], 2, 2, { outputSize: 8 });
    assert.ok(odd.data.every((v) => Number.isInteger(v)));
  });

  test('rejects a grid of the wrong size and bad options', () => {
    assert.throws(() => renderHeatmapOverlay(view, grid, 3, 4), RangeError);
    assert.throws(() => renderHeatmapOverlay(view, grid, 4, 4, { alpha: 2 }), RangeError);
    assert.throws(() => renderHeatmapOverlay(view, grid, 4, 4, { outputSize: 0 }), RangeError);
  });
});

describe('renderMask', () => {
  test('keeps unmasked patches and dims masked ones to a quarter', () => {
    const view = randomRaster(8, 8, 3, 4);
    const out = renderMask(view, [1, 0, 0, 1], 2, 2, { outputSize: 8 });
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const kept = (x < 4) === (y < 4);
        for (let c = 0; c < 3; c++) {
          const v = view.data[(y * 8 + x) * 3 + c];
          assert.equal(out.data[(y * 8 + x) * 3 + c], kept ? v : Math.round(v * 0.25));
        }
      }
    }
  });

  test('grey views come out in RGB', () => {
    const out = renderMask(randomRaster(10, 10, 1, 5), [1], 1, 1, { outputSize: 10 });
    assert.equal(out.channels, 3);
  });
});
