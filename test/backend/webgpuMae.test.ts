// The WebGPU backend on a CRATE-MAE encoder (no patch LayerNorms, no classifier head): against the
// PyTorch fixture and the CPU backend, on a software adapter (SwiftShader) when the machine has no GPU.
// CRATE_LENS_REQUIRE_WEBGPU=1 turns "no adapter" into a failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { layerMeasures, rollout } from '../../server/analysis/measures';
import { createCpuBackend } from '../../server/backend/cpu';
import { chooseBackend } from '../../server/backend/select';
import { createWebGpuBackend, type WebGpuBackendOptions } from '../../server/backend/webgpu';
import { adapterOrSkip } from './gpuTestSetup';
import { shapesOf, workFloats } from '../../server/backend/webgpu/layout';
import { analyzeImages } from '../../server/engine/analyze';
import { loadModel, type LoadedModel } from '../../server/engine/loadModel';
import {
  assertLayerMeasures, assertAbsolute, assertCapturedActivations, assertMask, assertRelative, batchOf, FIXTURES, imagePath, type Reference,
} from '../golden/reference';
import { compareCaptures, exactlyEqual, formatParity } from './parity';


const DIR = join(FIXTURES, 'variants', 'mae_encoder');
const CHECKPOINT = join(DIR, 'checkpoint-99.pth');
const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as Reference & { family: string };


async function withGpu<T>(model: LoadedModel, options: WebGpuBackendOptions, run: (gpu: Awaited<ReturnType<typeof createWebGpuBackend>>) => Promise<T>): Promise<T> {
  const gpu = await createWebGpuBackend(model.config, model.weights, options);
  try {
    return await run(gpu);
  } finally {
    await gpu.dispose();
  }
}

describe('webgpu backend: CRATE-MAE encoder', async () => {
  if (!(await adapterOrSkip())) return;
  const model = loadModel({ checkpoint: CHECKPOINT });
  const { config } = model;
  const input = batchOf(ref);
  const n = ref.results.length;

  it('loads the fixture as an encoder: no patch LayerNorms, no head, numClasses 0', () => {
    assert.equal(model.family, 'crate-mae');
    assert.equal(config.numClasses, 0);
    const w = model.weights;
    assert.ok(!('family' in w) && !w.patchNorm1Weight && !w.patchNorm2Weight && !w.headNormWeight && !w.headWeight);
  });

  for (const kernels of ['serial', 'cooperative'] as const) {
    it(`mae_encoder (${kernels} kernels): every capture and measure equals the CPU backend and PyTorch`, async (t: TestContext) => {
      const cpu = await createCpuBackend(config, model.weights, { threads: 1 });
      try {
        const expected = await cpu.forward(input, n, { activations: true, headExtremes: true });
        await withGpu(model, { kernels }, async (gpu) => {
          const g = await gpu.forward(input, n);
          // Empty logits, exactly as the CPU backend returns them.
          assert.equal(g.logits.length, 0);
          assert.equal(expected.logits.length, 0);
          t.diagnostic(`vs CPU: ${formatParity(compareCaptures(g, expected, `mae ${kernels} gpu vs cpu`))}`);
          const tokens = (config.imageSize / config.patchSize) ** 2 + 1;
          const { dim } = config;
          assertCapturedActivations(g, ref.results, { tokens, dim, code: dim, numClasses: 0 });
          ref.results.forEach((r, i) => {
            assert.deepEqual(r.logits, []);
            const measures = layerMeasures(g, i, config, 0.6);
            assertLayerMeasures(measures, r.layers, r.image);
            const last = measures[measures.length - 1];
            last.dinoMask.forEach((mask, h) => assertMask(mask, r.dinoMask[h], `${r.image} dinoMask head ${h}`));
            assertMask(last.dinoMaskMerged, r.dinoMaskMerged, `${r.image} dinoMaskMerged`);
            assertAbsolute(rollout(g, i, config, 'mean', 0).cls, r.rollout['mean_0'], 1e-4, `${r.image} rollout`);
          });
        });
      } finally {
        await cpu.dispose();
      }
    });
  }

  it('splits a batch over several passes with identical results', async () => {
    const whole = await withGpu(model, {}, (gpu) => gpu.forward(input, n));
    // A binding cap of the largest per-image buffer forces one image per pass; one stage per readback chunk.
    const oneImage = Math.max(...Object.values(workFloats(shapesOf(config)))) * 4;
    await withGpu(model, { maxBindingSize: oneImage, readbackChunkBytes: 1 }, async (gpu) => {
      assert.equal(gpu.maxImagesPerPass, 1);
      assert.ok(exactlyEqual(await gpu.forward(input, n), whole), 'one image per pass');
    });
  });

  it('runs the engine end to end: empty logits and top-k, every measure as PyTorch', async () => {
    await withGpu(model, {}, async (gpu) => {
      const results = await analyzeImages(model, gpu, ref.results.map((r) => imagePath(r.image)), { batchSize: 2 });
      results.forEach((result, i) => {
        const r = ref.results[i];
        assert.equal(result.error, undefined);
        assert.deepEqual([result.logits, result.top], [[], []]);
        assert.equal(result.layers!.length, config.depth);
        result.layers!.forEach((layer, k) => {
          layer.clsAttention.forEach((row, h) => assertAbsolute(row, r.layers[k].clsAttention[h], 1e-6, `${r.image} layer ${k} clsAttention head ${h}`));
          assertRelative(layer.codingRate, r.layers[k].codingRate, 1e-5, `${r.image} layer ${k} codingRate`);
        });
      });
    });
  });

  it('refuses a head-less encoder whose config claims classes', async () => {
    await assert.rejects(createWebGpuBackend({ ...config, numClasses: 10 }, model.weights), /numClasses 10 does not match the weights \(no classifier head\)/);
  });

  it('is what --backend webgpu gives, in the engine and the CLI', async () => {
    const { backend } = await chooseBackend('webgpu', config, model.weights);
    try {
      assert.equal(backend.name, 'webgpu');
    } finally {
      await backend.dispose();
    }
    const cli = join(__dirname, '..', '..', 'dist', 'cli.js');
    const out = spawnSync(process.execPath, [cli, 'analyze', imagePath(ref.results[0].image), '--checkpoint', CHECKPOINT, '--backend', 'webgpu', '--format', 'json'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const doc = JSON.parse(out.stdout);
    assert.deepEqual([doc.model.backend, doc.model.family, doc.model.numClasses], ['webgpu', 'crate-mae', 0]);
    assert.deepEqual([doc.results[0].logits, doc.results[0].top], [[], []]);
    doc.results[0].layers.forEach((layer: { codingRate: number }, k: number) => assertRelative(layer.codingRate, ref.results[0].layers[k].codingRate, 1e-5, `CLI layer ${k} codingRate`));
  });
});
