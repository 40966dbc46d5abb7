// Presets beyond the ImageNet-1k ones: the emergence demo's, recognised from the weights by patch size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferConfig, presetConfig } from '../../server/model/config';

const demoFacts = { dim: 768, depth: 12, inner: 768, patchDim: 8 * 8 * 3, tokens: 28 * 28 + 1, numClasses: 21842, hasToOut: true };

describe('emergence-demo presets', () => {
  it('gives the demo models 6 heads of 128 at 224 px', () => {
    for (const [name, patch] of [['demo-base-8', 8], ['demo-base-16', 16]] as const) {
      const c = presetConfig(name);
      assert.deepEqual([c.imageSize, c.patchSize, c.dim, c.depth, c.heads, c.dimHead, c.numClasses, c.labels], [224, patch, 768, 12, 6, 128, 21842, undefined]);
    }
    assert.equal(presetConfig('base').labels, 'imagenet-1k');
  });

  it('recognises 8x8 patches of a base-width model as the demo and takes its heads', () => {
    const { config, source } = inferConfig(demoFacts);
    assert.deepEqual([config.imageSize, config.patchSize, config.heads, config.dimHead], [224, 8, 6, 128]);
    assert.equal(source.detail, 'demo-base-8');
    assert.match(source.warnings.join('\n'), /6 heads from preset 'demo-base-8'/);
  });

  it('keeps base for 16x16 patches (the 16x16 demo has the same shapes: only --preset names it)', () => {
    const { config, source } = inferConfig({ ...demoFacts, patchDim: 16 * 16 * 3, tokens: 197, numClasses: 1000 });
    assert.deepEqual([config.heads, config.dimHead, source.detail], [12, 64, 'base']);
  });

  it('falls back to the 16x16 preset of the same width for other patch sizes', () => {
    const { config, source } = inferConfig({ ...demoFacts, patchDim: 14 * 14 * 3, tokens: 257 });
    assert.deepEqual([config.patchSize, config.heads, source.detail], [14, 12, 'base']);
  });

  it('has a CRATE-MAE base preset without classes that shape inference never picks over base', () => {
    const c = presetConfig('mae-base');
    assert.deepEqual([c.dim, c.depth, c.heads, c.dimHead, c.numClasses, c.labels], [768, 12, 12, 64, 0, undefined]);
    const { source } = inferConfig({ ...demoFacts, patchDim: 16 * 16 * 3, tokens: 197, numClasses: 0 });
    assert.equal(source.detail, 'base');
  });
});
