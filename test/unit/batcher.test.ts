import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCpuBackend } from '../../server/backend/cpu';
import type { Backend } from '../../server/backend/types';
import { analyzePrepared, CancelledError, type PreparedImage } from '../../server/engine/analyze';
import { loadModel } from '../../server/engine/loadModel';
import type { ImageResult } from '../../server/protocol';
import { ImageBatcher } from '../../server/worker/batcher';
import { ForwardQueue } from '../../server/worker/queue';
import { randomInput } from '../backend/randomModel';

const model = loadModel({});
const { imageSize: S, channels: C } = model.config;

function image(i: number): PreparedImage {
  return { path: `img-${i}`, view: { width: S, height: S, channels: C, data: new Uint8Array(S * S * C) }, input: randomInput(C * S * S, i + 1), width: S, height: S };
}

/** The CPU backend, recording the batch size of every forward pass; each pass takes at least 30 ms. */
async function countingBackend(batches: number[]): Promise<Backend> {
  const cpu = await createCpuBackend(model.config, model.weights, { threads: 1 });
  const forward: Backend['forward'] = async (input, batch, options) => {
    batches.push(batch);
    await new Promise((r) => setTimeout(r, 30));
    return cpu.forward(input, batch, options);
  };
  return { name: cpu.name, device: cpu.device, forward, dispose: () => cpu.dispose() };
}

describe('hover batching in the inference worker', () => {
  it('runs images that wait behind a pass as one batch, with the results of single passes', async () => {
    const batches: number[] = [];
    const backend = await countingBackend(batches);
    try {
      const images = Array.from({ length: 11 }, (_, i) => image(i));
      const singles: ImageResult[] = [];
      for (const p of images) singles.push((await analyzePrepared(model, backend, [p]))[0]);
      batches.length = 0;
      const batcher = new ImageBatcher(model, backend, new ForwardQueue(), 4);
      const results = await Promise.all(images.map((p) => batcher.analyse(p)));
      // All eleven arrived before the queue's turn: batches of at most 4.
      assert.deepEqual(batches, [4, 4, 3]);
      // One arriving while a pass runs waits for it, then goes with the others that came meanwhile.
      batches.length = 0;
      const early = batcher.analyse(images[0]);
      await new Promise((r) => setImmediate(r));
      const late = [batcher.analyse(images[1]), batcher.analyse(images[2])];
      await Promise.all([early, ...late]);
      assert.deepEqual(batches, [1, 2]);
      results.forEach((r, i) => {
        assert.equal(r.image, images[i].path);
        assert.deepEqual(r.top!.map((t) => t.index), singles[i].top!.map((t) => t.index));
        r.logits!.forEach((v, k) => assert.ok(Math.abs(v - singles[i].logits![k]) <= 1e-5 * Math.max(1, Math.abs(v)), `image ${i} logit ${k}`));
        r.layers!.forEach((l, k) => assert.ok(Math.abs(l.sparsity - singles[i].layers![k].sparsity) < 1e-3, `image ${i} layer ${k} sparsity`));
      });
    } finally {
      await backend.dispose();
    }
  });

  it('drops a request cancelled while it waits', async () => {
    const batches: number[] = [];
    const backend = await countingBackend(batches);
    try {
      const batcher = new ImageBatcher(model, backend, new ForwardQueue(), 8);
      const cancelled = new AbortController();
      const first = batcher.analyse(image(0));
      await new Promise((r) => setImmediate(r));
      const dropped = assert.rejects(batcher.analyse(image(1), cancelled.signal), CancelledError);
      const kept = batcher.analyse(image(2));
      cancelled.abort();
      await first;
      await dropped;
      assert.equal((await kept).image, 'img-2');
      assert.deepEqual(batches, [1, 1]);
    } finally {
      await backend.dispose();
    }
  });
});
