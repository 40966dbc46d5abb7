import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, findSidecarConfig, inferConfig, parseConfig, presetConfig } from '../../server/model/config';

const base = { imageSize: 224, patchSize: 16, channels: 3, dim: 768, depth: 12, heads: 12, dimHead: 64, numClasses: 1000 };

describe('config', () => {
  it('fills defaults', () => {
    const c = parseConfig(base, 'test');
    assert.equal(c.pool, 'cls');
    assert.equal(c.istaStepSize, 0.1);
    assert.equal(c.istaLambda, 0.1);
    assert.deepEqual(c.mean, [0.485, 0.456, 0.406]);
    assert.equal(c.resize, 'squash');
  });

  it('rejects bad values with the key named', () => {
    assert.throws(() => parseConfig({ ...base, heads: 0 }, 'f.json'), /f\.json: 'heads' must be a positive integer/);
    assert.throws(() => parseConfig({ ...base, pool: 'max' }, 'f'), /'pool' must be/);
    assert.throws(() => parseConfig({ ...base, mean: [0.5] }, 'f'), /'mean' must be an array of 3/);
    assert.throws(() => parseConfig({ ...base, labels: ['a'] }, 'f'), /1 labels for 1000 classes/);
    assert.throws(() => parseConfig({ ...base, imageSize: 100 }, 'f'), /not a multiple of patchSize/);
    assert.throws(() => parseConfig({ ...base, depht: 3 }, 'f'), /unknown config key\(s\) depht/);
    assert.throws(() => parseConfig([], 'f'), ConfigError);
  });

  it('has the four presets', () => {
    assert.deepEqual(['tiny', 'small', 'base', 'large'].map((p) => { const c = presetConfig(p); return [c.dim, c.depth, c.heads, c.dimHead]; }),
      [[384, 12, 6, 64], [576, 12, 12, 48], [768, 12, 12, 64], [1024, 24, 16, 64]]);
    assert.throws(() => presetConfig('huge'), /unknown preset 'huge'/);
  });

  it('infers from shapes, taking heads from the preset of the same width with a warning', () => {
    const { config, source } = inferConfig({ dim: 576, depth: 12, inner: 576, patchDim: 768, tokens: 197, numClasses: 1000, hasToOut: true });
    assert.deepEqual([config.imageSize, config.patchSize, config.channels, config.heads, config.dimHead], [224, 16, 3, 12, 48]);
    assert.equal(source.kind, 'inferred');
    assert.match(source.warnings[0], /heads cannot be read from weights.*preset 'small'/);
  });

  it('infers one head when the output projection is absent', () => {
    const { config } = inferConfig({ dim: 32, depth: 2, inner: 32, patchDim: 49, tokens: 17, numClasses: 10, hasToOut: false });
    assert.deepEqual([config.imageSize, config.patchSize, config.channels, config.heads, config.dimHead], [28, 7, 1, 1, 32]);
  });

  it('finds <name>.crate.json before crate.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crate-cfg-'));
    writeFileSync(join(dir, 'crate.json'), '{}');
    assert.equal(findSidecarConfig(join(dir, 'ckpt.pth.tar')), join(dir, 'crate.json'));
    writeFileSync(join(dir, 'ckpt.crate.json'), '{}');
    assert.equal(findSidecarConfig(join(dir, 'ckpt.pth.tar')), join(dir, 'ckpt.crate.json'));
    assert.equal(findSidecarConfig(join(mkdtempSync(join(tmpdir(), 'crate-none-')), 'x.pth')), undefined);
  });
});
