// Golden tests: the engine's numbers against the PyTorch reference, case by case.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createCpuBackend } from '../../server/backend/cpu';
import { sparsityStats } from '../../server/analysis/sparsity';
import { analyzeImages } from '../../server/engine/analyze';
import { loadModel } from '../../server/engine/loadModel';
import { decodeImage, modelView, toInputTensor } from '../../server/image';
import {
  assertAbsolute, assertAnalysisMatches, assertCapturedActivations, assertOtherRollouts, checkpointPath, configPath, goldenCases, imagePath, reference, batchOf,
} from './reference';

for (const c of goldenCases()) {
  describe(`golden: ${c.name}`, () => {
    const ref = reference(c);
    const model = loadModel({ checkpoint: checkpointPath(c), config: configPath(c) });

    it('resolves the config and its source', () => {
      for (const [key, value] of Object.entries(ref.config)) {
        assert.deepEqual((model.config as unknown as Record<string, unknown>)[key], value, `config.${key}`);
      }
      assert.equal(model.source.kind, c.config ? 'file' : 'sidecar');
      assert.equal(model.parameters, ref.parameters);
    });

    it('preprocesses every image as the reference does', () => {
      for (const r of ref.results) {
        const view = modelView(decodeImage(readFileSync(imagePath(r.image))), model.config);
        assertAbsolute(toInputTensor(view, model.config), r.input, 1e-6, `${r.image} input`);
      }
    });

    it('captures activations equal to PyTorch (batched)', async () => {
      const backend = await createCpuBackend(model.config, model.weights);
      try {
        const capture = await backend.forward(batchOf(ref), ref.results.length, { activations: true });
        const { numClasses, dim } = model.config;
        const tokens = (model.config.imageSize / model.config.patchSize) ** 2 + 1;
        assertCapturedActivations(capture, ref.results, { tokens, dim, code: dim, numClasses }, (i, k) => {
          // The graph's zero counts, maxima and histogram bins say what the code itself says.
          const { istaOutput, codeBins, zerosPerToken, codeMax } = capture.layers[k];
          assert.ok(codeBins && zerosPerToken && codeMax, 'the CPU graph counts the code');
          assert.deepEqual(sparsityStats({ codeBins, zerosPerToken, codeMax }, i, tokens, dim), sparsityStats({ istaOutput }, i, tokens, dim), `${ref.results[i].image} layer ${k} sparsity and histogram`);
        });
      } finally {
        await backend.dispose();
      }
    });

    it('computes every per-layer measure within tolerance', async () => {
      const backend = await createCpuBackend(model.config, model.weights);
      try {
        const results = await analyzeImages(model, backend, ref.results.map((r) => imagePath(r.image)), { batchSize: 2 });
        results.forEach((result, i) => assertAnalysisMatches(result, ref.results[i]));
      } finally {
        await backend.dispose();
      }
    });

    it('computes rollout for every head fusion and discard ratio', async () => {
      const backend = await createCpuBackend(model.config, model.weights);
      try {
        await assertOtherRollouts(model, backend, ref.results);
      } finally {
        await backend.dispose();
      }
    });
  });
}
