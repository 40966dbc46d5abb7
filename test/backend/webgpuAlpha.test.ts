// The WebGPU backend on CRATE-alpha: against the PyTorch fixtures and the CPU backend, on a software
// adapter (SwiftShader) when the machine has no GPU, in both kernel styles.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { layerMeasures, rollout } from '../../server/analysis/measures';
import { createCpuBackend } from '../../server/backend/cpu';
import { chooseBackend } from '../../server/backend/select';
import { createWebGpuBackend } from '../../server/backend/webgpu';
import { adapterOrSkip } from './gpuTestSetup';
import { loadModel } from '../../server/engine/loadModel';
import { codeWidth } from '../../server/model/families/alpha';
import {
  assertLayerMeasures, assertAbsolute, assertActivations, assertCapturedActivations, assertMask, batchOf, checkpointPath, FIXTURES, imagePath, reference, REFERENCE_ROLLOUTS,
  type GoldenCase,
} from '../golden/reference';
import { compareCaptures, formatParity } from './parity';

const cases: GoldenCase[] = JSON.parse(readFileSync(join(FIXTURES, 'golden-alpha', 'manifest.json'), 'utf8'));

describe('webgpu backend: CRATE-alpha', async () => {
  if (!(await adapterOrSkip())) return;

  for (const c of cases) {
    for (const kernels of ['serial', 'cooperative'] as const) {
      it(`${c.name} (${kernels} kernels): captures and measures equal PyTorch and the CPU backend`, async (t: TestContext) => {
        const ref = reference(c);
        const model = loadModel({ checkpoint: checkpointPath(c) });
        const { config } = model;
        const gpu = await createWebGpuBackend(config, model.weights, { kernels });
        const cpu = await createCpuBackend(config, model.weights, { threads: 1 });
        try {
          const batch = batchOf(ref);
          const g = await gpu.forward(batch, ref.results.length);
          const vsCpu = compareCaptures(g, await cpu.forward(batch, ref.results.length, { activations: true, headExtremes: true }), `${c.name} gpu vs cpu`);
          t.diagnostic(`vs CPU: ${formatParity(vsCpu)}`);
          const tokens = (config.imageSize / config.patchSize) ** 2 + 1;
          const { dim, numClasses } = config;
          assertCapturedActivations(g, ref.results, { tokens, dim, code: codeWidth(config), numClasses });
          ref.results.forEach((r, i) => {
            const measures = layerMeasures(g, i, config, 0.6);
            assertLayerMeasures(measures, r.layers, r.image);
            const last = measures[measures.length - 1];
            last.dinoMask.forEach((mask, h) => assertMask(mask, r.dinoMask[h], `${r.image} dinoMask head ${h}`));
            for (const [key, fusion, discard] of REFERENCE_ROLLOUTS) {
              assertAbsolute(rollout(g, i, config, fusion, discard).cls, r.rollout[key], 1e-4, `${r.image} rollout ${key}`);
            }
          });
        } finally {
          await gpu.dispose();
          await cpu.dispose();
        }
      });
    }
  }

  it('is what --backend webgpu gives, in the engine and the CLI', async () => {
    const c = cases[0];
    const model = loadModel({ checkpoint: checkpointPath(c) });
    const { backend } = await chooseBackend('webgpu', model.config, model.weights);
    try {
      assert.equal(backend.name, 'webgpu');
    } finally {
      await backend.dispose();
    }
    const ref = reference(c);
    const cli = join(__dirname, '..', '..', 'dist', 'cli.js');
    const out = spawnSync(process.execPath, [cli, 'analyze', imagePath(ref.results[0].image), '--checkpoint', checkpointPath(c), '--backend', 'webgpu', '--format', 'json'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const doc = JSON.parse(out.stdout);
    assert.equal(doc.model.backend, 'webgpu');
    assert.equal(doc.model.family, 'crate-alpha');
    assertActivations(doc.results[0].logits, ref.results[0].logits, 'CLI logits');
  });
});
