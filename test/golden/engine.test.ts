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
  assertLayerMeasures, assertAbsolute, assertActivations, assertMask, checkpointPath, configPath, goldenCases, imagePath, reference,
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
        const inputs = ref.results.map((r) => Float32Array.from(r.input));
        const batch = new Float32Array(inputs.reduce((n, x) => n + x.length, 0));
        inputs.forEach((x, i) => batch.set(x, i * x.length));
        const capture = await backend.forward(batch, inputs.length, { activations: true });
        const { numClasses, dim } = model.config;
        const tokens = (model.config.imageSize / model.config.patchSize) ** 2 + 1;
        ref.results.forEach((r, i) => {
          assertActivations(capture.logits.subarray(i * numClasses, (i + 1) * numClasses), r.logits, `${r.image} logits`);
          r.layers.forEach((l, k) => {
            const span = [i * tokens * dim, (i + 1) * tokens * dim] as const;
            assertActivations(capture.layers[k].istaInput!.subarray(...span), l.istaInput, `${r.image} layer ${k} istaInput`);
            assertActivations(capture.layers[k].istaOutput!.subarray(...span), l.istaOutput, `${r.image} layer ${k} istaOutput`);
            // The graph's zero counts, maxima and histogram bins say what the code itself says.
            const { istaOutput, codeBins, zerosPerToken, codeMax } = capture.layers[k];
            assert.ok(codeBins && zerosPerToken && codeMax, 'the CPU graph counts the code');
            assert.deepEqual(sparsityStats({ codeBins, zerosPerToken, codeMax }, i, tokens, dim), sparsityStats({ istaOutput }, i, tokens, dim), `${r.image} layer ${k} sparsity and histogram`);
          });
        });
      } finally {
        await backend.dispose();
      }
    });

    it('computes every per-layer measure within tolerance', async () => {
      const backend = await createCpuBackend(model.config, model.weights);
      try {
        const results = await analyzeImages(model, backend, ref.results.map((r) => imagePath(r.image)), { batchSize: 2 });
        results.forEach((result, i) => {
          const r = ref.results[i];
          assert.equal(result.error, undefined);
          assertActivations(result.logits!, r.logits, `${r.image} logits`);
          assert.deepEqual(result.top!.map((t) => t.index), r.top.slice(0, result.top!.length).map((t) => t.index), `${r.image} top-k order`);
          assertAbsolute(result.top!.map((t) => t.probability), r.top.slice(0, result.top!.length).map((t) => t.probability), 1e-5, `${r.image} top-k probabilities`);
          assertLayerMeasures(result.layers!, r.layers, r.image);
          const last = result.layers![result.layers!.length - 1];
          last.dinoMask.forEach((m, h) => assertMask(m, r.dinoMask[h], `${r.image} dinoMask head ${h}`));
          assertMask(last.dinoMaskMerged, r.dinoMaskMerged, `${r.image} dinoMaskMerged`);
          assertAbsolute(result.rollout!.cls, r.rollout['mean_0'], 1e-4, `${r.image} rollout mean`);
        });
      } finally {
        await backend.dispose();
      }
    });

    it('computes rollout for every head fusion and discard ratio', async () => {
      const backend = await createCpuBackend(model.config, model.weights);
      try {
        for (const [key, fusion, discard] of [['max_0.9', 'max', 0.9], ['min_0.5', 'min', 0.5]] as const) {
          const results = await analyzeImages(model, backend, ref.results.map((r) => imagePath(r.image)), { rolloutFusion: fusion, rolloutDiscard: discard });
          results.forEach((result, i) => assertAbsolute(result.rollout!.cls, ref.results[i].rollout[key], 1e-4, `${ref.results[i].image} rollout ${key}`));
        }
      } finally {
        await backend.dispose();
      }
    });
  });
}
