// The daemon's side of the inference worker: when a crashed worker is restarted, and when a shared
// analysis is cancelled in the worker (only once nobody waits for it).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ActiveModel } from '../../server/daemon/modelHost';
import { RestartPolicy } from '../../server/daemon/restartPolicy';
import { ResultCache } from '../../server/daemon/results';
import type { AnalysedImage, Inference, ModelSummary } from '../../server/protocol';
import { FIXTURES } from '../golden/reference';

describe('restart policy', () => {
  it('restarts at once, then with doubling delays, and gives up at the limit within the window', () => {
    const policy = new RestartPolicy(4, 60_000, 250, 8_000);
    assert.deepEqual(policy.crashed(0), { restart: true, delayMs: 0, recent: 1 });
    assert.deepEqual(policy.crashed(1_000), { restart: true, delayMs: 250, recent: 2 });
    assert.deepEqual(policy.crashed(2_000), { restart: true, delayMs: 500, recent: 3 });
    assert.deepEqual(policy.crashed(3_000), { restart: false, delayMs: 0, recent: 4 });
  });

  it('forgets crashes older than the window, and all of them on reset', () => {
    const policy = new RestartPolicy(3, 10_000);
    policy.crashed(0);
    policy.crashed(1_000);
    assert.equal(policy.crashed(20_000).recent, 1);
    policy.crashed(21_000);
    policy.reset();
    assert.deepEqual(policy.crashed(22_000), { restart: true, delayMs: 0, recent: 1 });
  });
});

describe('result cache cancellation', () => {
  const image = join(FIXTURES, 'images', 'rgb_32.png');

  /** An inference whose analyses wait until released, recording whether their signal fired. */
  function pendingInference() {
    const calls: { signal?: AbortSignal; release: (a: AnalysedImage) => void }[] = [];
    const inference = {
      analyseImage: (_path: string, _bytes: Uint8Array, signal?: AbortSignal) => new Promise<AnalysedImage>((resolve) => {
        calls.push({ signal, release: resolve });
      }),
    } as unknown as Inference;
    const active: ActiveModel = { id: 'm', summary: {} as ModelSummary, inference };
    return { calls, active };
  }
  /** Waits for a condition instead of a fixed delay: file reads take longer on a busy machine. */
  async function until(condition: () => boolean, what: string): Promise<void> {
    for (const started = Date.now(); !condition(); await new Promise((r) => setTimeout(r, 5))) {
      if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
    }
  }
  const analysed = (path: string): AnalysedImage => ({ result: { image: path }, view: { width: 1, height: 1, channels: 1, data: new Uint8Array(1) } });

  it('keeps the shared analysis while one request still waits for it', async () => {
    const { calls, active } = pendingInference();
    const cache = new ResultCache(4);
    const a = new AbortController();
    const first = cache.analyse(active, image, a.signal);
    const second = cache.analyse(active, image, new AbortController().signal);
    await until(() => cache.waiting === 2, 'both requests to wait on the analysis');
    assert.equal(calls.length, 1);
    a.abort();
    await assert.rejects(first, /cancelled/);
    assert.equal(calls[0].signal!.aborted, false);
    calls[0].release(analysed(image));
    assert.equal((await second).result.image, image);
  });

  it('cancels it in the worker when every request has gone, and starts afresh next time', async () => {
    const { calls, active } = pendingInference();
    const cache = new ResultCache(4);
    const a = new AbortController(), b = new AbortController();
    const first = cache.analyse(active, image, a.signal);
    const second = cache.analyse(active, image, b.signal);
    await until(() => cache.waiting === 2, 'both requests to wait on the analysis');
    a.abort();
    b.abort();
    await assert.rejects(first, /cancelled/);
    await assert.rejects(second, /cancelled/);
    assert.equal(calls[0].signal!.aborted, true);
    const third = cache.analyse(active, image, new AbortController().signal);
    await until(() => calls.length === 2, 'a new analysis');
    calls[1].release(analysed(image));
    assert.equal((await third).result.image, image);
  });
});
