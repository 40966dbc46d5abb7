// Golden tests for CRATE-alpha: engine and CLI against scripts/crate_alpha_reference.py's fixtures.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCpuBackend } from '../../server/backend/cpu';
import { analyzeImages } from '../../server/engine/analyze';
import { loadModel } from '../../server/engine/loadModel';
import { modelSummary } from '../../server/engine/summary';
import { codeWidth } from '../../server/model/families/alpha';
import { alphaPresetConfig } from '../../server/model/families/alphaConfig';
import {
  assertAbsolute, assertActivations, assertAnalysisMatches, assertCapturedActivations, assertJsonLayers, assertOtherRollouts, batchOf, checkpointPath, FIXTURES,
  imagePath, reference, type GoldenCase,
} from './reference';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const cases: GoldenCase[] = JSON.parse(readFileSync(join(FIXTURES, 'golden-alpha', 'manifest.json'), 'utf8'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const c of cases) {
  describe(`golden CRATE-alpha: ${c.name}`, () => {
    const ref = reference(c);
    const model = loadModel({ checkpoint: checkpointPath(c) });
    const tokens = (model.config.imageSize / model.config.patchSize) ** 2 + 1;

    it('detects the family and resolves the config', () => {
      assert.equal(model.config.family, 'crate-alpha');
      for (const [key, value] of Object.entries(ref.config)) {
        assert.deepEqual((model.config as unknown as Record<string, unknown>)[key], value, `config.${key}`);
      }
      assert.equal(model.parameters, ref.parameters);
      if (ref.configFile) {
        assert.equal(model.source.kind, 'sidecar');
      } else {
        assert.equal(model.source.kind, 'inferred');
        assert.ok(model.source.warnings.some((w) => /heads cannot be read/.test(w)), 'a warning says heads were guessed');
      }
      const summary = modelSummary(model, { name: 'cpu', device: 'test' });
      assert.equal(summary.family, 'crate-alpha');
      assert.equal(summary.codeDim, 4 * model.config.dim);
    });

    it('captures activations equal to PyTorch (batched)', async () => {
      const backend = await createCpuBackend(model.config, model.weights, { threads: 1 });
      try {
        const capture = await backend.forward(batchOf(ref), ref.results.length, { activations: true });
        const { numClasses, dim } = model.config;
        assertCapturedActivations(capture, ref.results, { tokens, dim, code: codeWidth(model.config), numClasses });
      } finally {
        await backend.dispose();
      }
    });

    it('computes every per-layer measure within tolerance', async () => {
      const backend = await createCpuBackend(model.config, model.weights, { threads: 1 });
      try {
        const results = await analyzeImages(model, backend, ref.results.map((r) => imagePath(r.image)), { batchSize: 2 });
        results.forEach((result, i) => {
          const r = ref.results[i];
          assertAnalysisMatches(result, r);
          result.layers!.forEach((layer, k) => {
            assertAbsolute([layer.sparsity], [layer.zeroCount / r.layers[k].istaOutput.length], 1e-12, `${r.image} layer ${k} sparsity over the 4 dim code`);
            assert.equal(layer.zerosPerToken.length, tokens);
          });
        });
        await assertOtherRollouts(model, backend, ref.results);
      } finally {
        await backend.dispose();
      }
    });

    it('analyze --format json matches PyTorch', () => {
      const out = cli('analyze', ...ref.results.map((r) => imagePath(r.image)), '--checkpoint', checkpointPath(c), '--format', 'json');
      assert.equal(out.code, 0, out.stderr);
      const doc = JSON.parse(out.stdout);
      assert.equal(doc.model.family, 'crate-alpha');
      assert.equal(doc.model.codeDim, 4 * model.config.dim);
      assert.equal(doc.model.parameters, ref.parameters);
      doc.results.forEach((result: any, i: number) => {
        const r = ref.results[i];
        assertActivations(result.logits, r.logits, `${r.image} logits`);
        assertJsonLayers(result.layers, r.layers, r.image);
      });
    });

    it('inspect names the family', () => {
      const out = cli('inspect', '--checkpoint', checkpointPath(c));
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^family +CRATE-alpha \(sparse code \d+ wide\)$/m);
      assert.match(out.stdout, /DDt-I/);
    });
  });
}

describe('CRATE-alpha configs and presets', () => {
  it('has B, L and H presets at /32, /16, /14 and /8', () => {
    const b = alphaPresetConfig('alpha-B/16');
    assert.deepEqual([b.dim, b.depth, b.heads, b.dimHead, b.patchSize, b.family], [768, 12, 12, 64, 16, 'crate-alpha']);
    const l = alphaPresetConfig('alpha-L/14');
    assert.deepEqual([l.dim, l.depth, l.heads, l.dimHead, l.patchSize], [1024, 24, 16, 64, 14]);
    const h = alphaPresetConfig('alpha-H/8');
    assert.deepEqual([h.dim, h.depth, h.heads, h.dimHead, h.patchSize], [1280, 32, 16, 80, 8]);
    assert.throws(() => alphaPresetConfig('alpha-X/16'), /unknown CRATE-alpha preset/);
  });

  it('reads a config file without family as CRATE-alpha, and refuses one that says crate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-alpha-'));
    const { family: _family, ...rest } = JSON.parse(readFileSync(join(FIXTURES, cases[0].dir, 'model.crate.json'), 'utf8'));
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, JSON.stringify(rest));
    const m = loadModel({ checkpoint: checkpointPath(cases[0]), config: plain });
    assert.equal(m.config.family, 'crate-alpha');
    assert.ok(m.source.warnings.some((w) => /names no family/.test(w)));
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ ...rest, family: 'crate' }));
    assert.throws(() => loadModel({ checkpoint: checkpointPath(cases[0]), config: wrong }), /says family "crate"/);
  });

  it('still reads a CRATE checkpoint as CRATE', () => {
    const crate = loadModel({ checkpoint: join(FIXTURES, 'golden', 'bare_fp32', 'model.pth') });
    const summary = modelSummary(crate, { name: 'cpu', device: 'test' });
    assert.deepEqual([summary.family, summary.codeDim], ['crate', crate.config.dim]);
  });

  it('takes heads from --preset and says the preset differs in shape', () => {
    const m = loadModel({ checkpoint: checkpointPath(cases[0]), preset: 'alpha-B/16' });
    assert.equal(m.source.kind, 'preset');
    assert.deepEqual([m.config.heads, m.config.dimHead], [12, 4]);
    assert.ok(m.source.warnings.some((w) => /only its heads were used/.test(w)));
    assert.throws(() => loadModel({ checkpoint: checkpointPath(cases[1]), preset: 'alpha-B/16' }), /12 heads do not divide the qkv width 128/);
  });
});
