// The CLI with the model variants: --image-size, a CRATE-MAE encoder, and the backends it may use.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertAbsolute, assertActivations, assertRelative, FIXTURES, imagePath, type Reference } from './reference';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const VARIANTS = join(FIXTURES, 'variants');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const referenceOf = (name: string): Reference => JSON.parse(readFileSync(join(VARIANTS, name, 'reference.json'), 'utf8'));

function checkLayers(result: any, r: Reference['results'][number]): void {
  result.layers.forEach((layer: any, k: number) => {
    const e = r.layers[k];
    layer.clsAttention.forEach((row: number[], h: number) => assertAbsolute(row, e.clsAttention[h], 1e-6, `layer ${k} head ${h}`));
    assertRelative(layer.reconstructionError, e.reconstructionError, 1e-5, `layer ${k} reconstructionError`);
    assertRelative(layer.codingRate, e.codingRate, 1e-5, `layer ${k} codingRate`);
  });
}

describe('crate-lens with model variants', () => {
  it('--image-size 64 analyses a model trained at 32 as PyTorch does with timm\'s resize', () => {
    const ref = referenceOf('pos_resize_timm');
    const out = cli('analyze', ...ref.results.map((r) => imagePath(r.image)), '--checkpoint', join(VARIANTS, 'pos_resize_timm', 'model.pth'),
      '--heads', '4', '--image-size', '64', '--format', 'json');
    assert.equal(out.code, 0, out.stderr);
    const doc = JSON.parse(out.stdout);
    assert.equal(doc.model.imageSize, 64);
    assert.ok(doc.model.configWarnings.some((w: string) => w.includes('bicubic-timm')));
    doc.results.forEach((result: any, i: number) => {
      assertActivations(result.logits, ref.results[i].logits, 'logits');
      checkLayers(result, ref.results[i]);
    });
  });

  it('refuses an --image-size that is not a multiple of the patch size', () => {
    const out = cli('inspect', join(VARIANTS, 'pos_resize_timm', 'model.pth'), '--image-size', '60');
    assert.equal(out.code === 0, false);
    assert.match(out.stderr, /image size 60 is not a positive multiple of the patch size 8/);
  });

  it('analyses a CRATE-MAE encoder: family crate-mae, empty logits and top-k, every measure', () => {
    const ref = referenceOf('mae_encoder');
    const checkpoint = join(VARIANTS, 'mae_encoder', 'checkpoint-99.pth');
    const out = cli('analyze', ...ref.results.map((r) => imagePath(r.image)), '--checkpoint', checkpoint, '--format', 'json');
    assert.equal(out.code, 0, out.stderr);
    const doc = JSON.parse(out.stdout);
    assert.deepEqual([doc.model.family, doc.model.numClasses], ['crate-mae', 0]);
    doc.results.forEach((result: any, i: number) => {
      assert.deepEqual([result.logits, result.top], [[], []]);
      checkLayers(result, ref.results[i]);
    });
    const text = cli('analyze', imagePath('images/rgb_32.png'), '--checkpoint', checkpoint);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /top: none \(no classifier head\)/);
  });

  it('runs a CRATE-MAE encoder under --backend auto (the CPU unless a hardware GPU), refuses eval', () => {
    const checkpoint = join(VARIANTS, 'mae_encoder', 'checkpoint-99.pth');
    const auto = cli('analyze', imagePath('images/rgb_32.png'), '--checkpoint', checkpoint, '--backend', 'auto', '--format', 'json');
    assert.equal(auto.code, 0, auto.stderr);
    const doc = JSON.parse(auto.stdout);
    assert.ok(['cpu', 'webgpu'].includes(doc.model.backend), doc.model.backend);
    assert.deepEqual([doc.results[0].logits, doc.results[0].top], [[], []]);
    const evaluated = cli('eval', join(FIXTURES, 'images'), '--checkpoint', checkpoint);
    assert.notEqual(evaluated.code, 0);
    assert.match(evaluated.stderr, /eval needs a classifier/);
  });
});
