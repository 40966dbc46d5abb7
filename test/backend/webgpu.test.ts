// The WebGPU backend against the PyTorch fixtures and the CPU backend, on a software adapter
// (SwiftShader) when the machine has no GPU. CRATE_LENS_REQUIRE_WEBGPU=1 turns "no adapter" into a failure.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createCpuBackend } from '../../server/backend/cpu';
import type { Backend, ForwardCapture } from '../../server/backend/types';
import { createWebGpuBackend, pickAdapter, type WebGpuBackendOptions } from '../../server/backend/webgpu';
import { adapterOrSkip } from './gpuTestSetup';
import { layerMeasures, rollout } from '../../server/analysis/measures';
import { shapesOf, workFloats } from '../../server/backend/webgpu/layout';
import { analyzeImages } from '../../server/engine/analyze';
import { loadModel, type LoadedModel } from '../../server/engine/loadModel';
import { presetConfig } from '../../server/model/config';
import {
  assertAbsolute, assertActivations, assertMask, assertRelative, assertZeroCount,
  batchOf, checkpointPath, configPath, goldenCases, imagePath, reference, REFERENCE_ROLLOUTS, type Reference,
} from '../golden/reference';
import { compareCaptures, exactlyEqual, formatParity, mergeParity, NO_DIFFERENCE, type Parity } from './parity';
import { randomInput, randomWeights } from './randomModel';



async function withBackends<T>(model: Pick<LoadedModel, 'config' | 'weights'>, options: WebGpuBackendOptions, run: (gpu: Backend, cpu: Backend) => Promise<T>): Promise<T> {
  const gpu = await createWebGpuBackend(model.config, model.weights, options);
  const cpu = await createCpuBackend(model.config, model.weights, { threads: 1 });
  try {
    return await run(gpu, cpu);
  } finally {
    await gpu.dispose();
    await cpu.dispose();
  }
}

/** Everything engine.test.ts checks for the CPU backend, from one capture; returns the largest differences to PyTorch. */
function checkAgainstPyTorch(capture: ForwardCapture, model: LoadedModel, ref: Reference): Parity {
  const { config } = model;
  const { numClasses, dim } = config;
  const tokens = (config.imageSize / config.patchSize) ** 2 + 1;
  let parity = { ...NO_DIFFERENCE };
  const rel = (a: ArrayLike<number>, e: ArrayLike<number>) => {
    let d = 0;
    let s = 0;
    for (let i = 0; i < e.length; i++) { d = Math.max(d, Math.abs(a[i] - e[i])); s = Math.max(s, Math.abs(e[i])); }
    return d / (s || 1);
  };
  ref.results.forEach((r, i) => {
    const logits = capture.logits.subarray(i * numClasses, (i + 1) * numClasses);
    assertActivations(logits, r.logits, `${r.image} logits`);
    parity = mergeParity(parity, { ...NO_DIFFERENCE, activations: rel(logits, r.logits) });
    const measures = layerMeasures(capture, i, config, 0.6);
    r.layers.forEach((e, k) => {
      const where = `${r.image} layer ${k}`;
      const span = [i * tokens * dim, (i + 1) * tokens * dim] as const;
      assertActivations(capture.layers[k].istaInput!.subarray(...span), e.istaInput, `${where} istaInput`);
      assertActivations(capture.layers[k].istaOutput!.subarray(...span), e.istaOutput, `${where} istaOutput`);
      parity = mergeParity(parity, { ...NO_DIFFERENCE, activations: Math.max(rel(capture.layers[k].istaInput!.subarray(...span), e.istaInput), rel(capture.layers[k].istaOutput!.subarray(...span), e.istaOutput)) });
      const m = measures[k];
      m.clsAttention.forEach((row, h) => {
        assertAbsolute(row, e.clsAttention[h], 1e-6, `${where} clsAttention head ${h}`);
        parity = mergeParity(parity, { ...NO_DIFFERENCE, attention: Math.max(...row.map((v, t) => Math.abs(v - e.clsAttention[h][t]))) });
      });
      assertZeroCount(m.zeroCount, e, `${where} zeros`);
      assertRelative(m.reconstructionError, e.reconstructionError, 1e-5, `${where} reconstructionError`);
      assertRelative(m.istaResidual, e.istaResidual, 1e-5, `${where} istaResidual`);
      assertRelative(m.codingRate, e.codingRate, 1e-5, `${where} codingRate`);
      for (const key of ['reconstructionError', 'istaResidual', 'codingRate'] as const) {
        parity = mergeParity(parity, { ...NO_DIFFERENCE, measures: Math.abs(m[key] - e[key]) / Math.abs(e[key]) });
      }
    });
    const last = measures[measures.length - 1];
    last.dinoMask.forEach((mask, h) => assertMask(mask, r.dinoMask[h], `${r.image} dinoMask head ${h}`));
    assertMask(last.dinoMaskMerged, r.dinoMaskMerged, `${r.image} dinoMaskMerged`);
    for (const [key, fusion, discard] of REFERENCE_ROLLOUTS) {
      assertAbsolute(rollout(capture, i, config, fusion, discard).cls, r.rollout[key], 1e-4, `${r.image} rollout ${key}`);
    }
  });
  return parity;
}

describe('webgpu backend', async () => {
  const probe = await adapterOrSkip();
  if (!probe) return;
  const adapter = probe.summary;

  it('picks adapters by mode: auto never takes a software one', async (t: TestContext) => {
    t.diagnostic(`adapter: ${adapter.label}`);
    const auto = await pickAdapter('auto');
    if (adapter.software) {
      assert.equal(auto, undefined, 'auto must fall back to the CPU backend rather than use a software adapter');
      const model = loadModel({ checkpoint: checkpointPath(goldenCases()[0]), config: configPath(goldenCases()[0]) });
      await assert.rejects(createWebGpuBackend(model.config, model.weights, { allowSoftware: false }), /software/);
    } else {
      assert.ok(auto && !auto.summary.software);
    }
  });

  const total = { cpu: { ...NO_DIFFERENCE }, torch: { ...NO_DIFFERENCE } };
  for (const c of goldenCases()) {
    it(`${c.name}: every capture and measure equals the CPU backend and PyTorch`, async (t: TestContext) => {
      const ref = reference(c);
      const model = loadModel({ checkpoint: checkpointPath(c), config: configPath(c) });
      await withBackends(model, {}, async (gpu, cpu) => {
        assert.equal(gpu.name, 'webgpu');
        assert.match(gpu.device, adapter.software ? /software\/fallback adapter/ : /hardware adapter/);
        const input = batchOf(ref);
        const g = await gpu.forward(input, ref.results.length);
        const vsCpu = compareCaptures(g, await cpu.forward(input, ref.results.length, { activations: true, headExtremes: true }), `${c.name} gpu vs cpu`);
        const vsTorch = checkAgainstPyTorch(g, model, ref);
        total.cpu = mergeParity(total.cpu, vsCpu);
        total.torch = mergeParity(total.torch, vsTorch);
        t.diagnostic(`vs CPU: ${formatParity(vsCpu)}; vs PyTorch: ${formatParity(vsTorch)}`);
      });
    });
  }

  it('runs the engine end to end in batches of 2 (a smaller last batch)', async () => {
    const c = goldenCases().find((g) => g.name === 'mean_pool_gray')!;
    const ref = reference(c);
    const model = loadModel({ checkpoint: checkpointPath(c), config: configPath(c) });
    await withBackends(model, {}, async (gpu) => {
      const results = await analyzeImages(model, gpu, ref.results.map((r) => imagePath(r.image)), { batchSize: 2 });
      results.forEach((result, i) => {
        assert.equal(result.error, undefined);
        assertActivations(result.logits!, ref.results[i].logits, `${ref.results[i].image} logits`);
        result.layers!.forEach((l, k) => assertRelative(l.codingRate, ref.results[i].layers[k].codingRate, 1e-5, `layer ${k} codingRate`));
      });
    });
  });

  it('cooperative (GPU) and serial (CPU-emulation) kernels give the same bits, on shapes past one tile', async (t: TestContext) => {
    // GPUs run the cooperative kernels, software adapters the serial ones, with the same arithmetic.
    // 82 tokens and widths of 80 span several 64-wide matmul tiles and reduction lanes.
    const config = { ...presetConfig('tiny'), imageSize: 72, patchSize: 8, dim: 80, depth: 2, heads: 2, dimHead: 40, numClasses: 70, labels: undefined };
    const model = { config, weights: randomWeights(config) };
    const batch = 2;
    const input = randomInput(batch * 3 * 72 * 72, 3);
    const cpu = await createCpuBackend(config, model.weights, { threads: 1 });
    const expected = await cpu.forward(input, batch, { headExtremes: true });
    await cpu.dispose();
    const run = (kernels: 'serial' | 'cooperative') => withBackends(model, { kernels }, (gpu) => gpu.forward(input, batch));
    const serial = await run('serial');
    t.diagnostic(`serial vs CPU: ${formatParity(compareCaptures(serial, expected, 'serial vs cpu'))}`);
    assert.ok(exactlyEqual(await run('cooperative'), serial), 'cooperative and serial kernels differ');
  });

  it('splits a batch over several passes and regrows its buffers with identical results', async () => {
    const c = goldenCases().find((g) => g.name === 'bare_fp32')!;
    const ref = reference(c);
    const model = loadModel({ checkpoint: checkpointPath(c), config: configPath(c) });
    const input = batchOf(ref);
    const n = ref.results.length;
    const whole = await withBackends(model, {}, (gpu) => gpu.forward(input, n));
    // A binding cap of the largest per-image buffer forces one image per pass.
    const oneImage = Math.max(...Object.values(workFloats(shapesOf(model.config)))) * 4;
    // One stage per readback chunk: the two staging buffers take turns.
    await withBackends(model, { maxBindingSize: oneImage, readbackChunkBytes: 1 }, async (gpu) => {
      assert.equal((gpu as unknown as { maxImagesPerPass: number }).maxImagesPerPass, 1);
      assert.ok(exactlyEqual(await gpu.forward(input, n), whole), 'one image per pass');
    });
    await withBackends(model, {}, async (gpu) => {
      const first = await gpu.forward(input.subarray(0, input.length / n), 1);
      assert.ok(exactlyEqual(await gpu.forward(input, n), whole), 'after growing from 1 image');
      const again = await gpu.forward(input.subarray(0, input.length / n), 1);
      assert.ok(exactlyEqual(again, first), 'a smaller batch on grown buffers');
    });
  });

  it('reports a device loss in the failing call and recovers on the next', async () => {
    const c = goldenCases().find((g) => g.name === 'fp64')!;
    const ref = reference(c);
    const model = loadModel({ checkpoint: checkpointPath(c), config: configPath(c) });
    const input = batchOf(ref);
    const n = ref.results.length;
    const notices: string[] = [];
    const gpu = await createWebGpuBackend(model.config, model.weights, { onDeviceLost: (m) => notices.push(m) });
    try {
      const before = await gpu.forward(input, n);
      const failing = gpu.forward(input, n);
      gpu.simulateDeviceLoss();
      await assert.rejects(failing, /WebGPU device lost .*re-creates the device/);
      assert.ok(exactlyEqual(await gpu.forward(input, n), before), 'after re-creating the device');
      assert.deepEqual(notices, [], 'a loss reported as a call\'s error is not reported again');
      gpu.simulateDeviceLoss();
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(exactlyEqual(await gpu.forward(input, n), before), 'after a loss between calls');
      assert.equal(notices.length, 1);
      assert.match(notices[0], /WebGPU device lost .*re-creating it/);
    } finally {
      await gpu.dispose();
    }
    await assert.rejects(gpu.forward(input, n), /disposed/);
  });

  it('rejects input of the wrong size', async () => {
    const c = goldenCases()[0];
    const model = loadModel({ checkpoint: checkpointPath(c), config: configPath(c) });
    const gpu = await createWebGpuBackend(model.config, model.weights);
    try {
      await assert.rejects(gpu.forward(new Float32Array(7), 1), /input has 7 values, expected/);
    } finally {
      await gpu.dispose();
    }
  });

  it('summary of parity with the CPU backend and PyTorch', (t: TestContext) => {
    t.diagnostic(`all cases vs CPU: ${formatParity(total.cpu)}`);
    t.diagnostic(`all cases vs PyTorch: ${formatParity(total.torch)}`);
  });
});
