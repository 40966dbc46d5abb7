// The inference worker over a real LSP connection: a killed or crashing worker fails only the requests
// in flight and is replaced with the same model; a checkpoint replaced or deleted on disk is never
// answered from the old model; the worker does not outlive its daemon.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Methods, type DaemonState, type RenderResult } from '../../server/protocol';
import { FIXTURES } from '../golden/reference';
import { baseSettings, Daemon } from './harness';
import { isAlive } from './procfs';

const ODD = join(FIXTURES, 'golden', 'odd_shapes');
const BARE = join(FIXTURES, 'golden', 'bare_fp32');

async function until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  for (const start = Date.now(); !test(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
  }
}

const readyWithNewWorker = (old: number) => (s: DaemonState) => s.state === 'ready' && !!s.worker?.pid && s.worker.pid !== old;

describe('inference worker', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'crate-lens-worker-'));
  const models = join(workspace, 'models');
  let daemon: Daemon;
  let uri: string;

  before(async () => {
    copyFileSync(join(FIXTURES, 'images', 'rgb_32.png'), join(workspace, 'cat.png'));
    copyFileSync(join(FIXTURES, 'images', 'gray_32.png'), join(workspace, 'crash.png'));
    daemon = await Daemon.start(workspace, { CRATE_LENS_TEST_ABORT_ON: 'crash.png' });
    uri = await daemon.open(join(workspace, 'notes.md'), '![a](cat.png)\n![b](crash.png)\n');
  });
  after(async () => { await daemon.stop(); rmSync(workspace, { recursive: true, force: true }); });

  it('runs in its own process, named in the state and the status', async () => {
    const state = await daemon.configure(baseSettings({ checkpoint: join(ODD, 'model.pth') }));
    const status = await daemon.status();
    assert.equal(status.pid, daemon.process.pid);
    assert.ok(status.worker.pid && status.worker.pid !== status.pid && isAlive(status.worker.pid));
    assert.equal(state.state === 'ready' && state.worker?.pid, status.worker.pid);
    assert.equal(status.worker.restarts, 0);
  });

  it('is restarted with the same model after SIGKILL, and the next hover works', async () => {
    const old = (await daemon.status()).worker.pid!;
    const ready = daemon.waitForState(readyWithNewWorker(old), 20000);
    process.kill(old, 'SIGKILL');
    const state = await ready;
    assert.equal(state.state === 'ready' && state.model.depth, 2);
    assert.deepEqual({ ...(await daemon.status()).worker, pid: 0 }, { pid: 0, restarts: 1, lastCrash: 'SIGKILL' });
    assert.match((await daemon.hover(uri, 0, 7))!.contents.value, /data:image\/png;base64/);
  });

  it('fails the request in flight with a clear error when the worker crashes natively, then recovers', async () => {
    const old = (await daemon.status()).worker.pid!;
    const ready = daemon.waitForState(readyWithNewWorker(old), 20000);
    const hover = await daemon.hover(uri, 1, 7);
    assert.match(hover!.contents.value, /CRATE Lens:.*inference worker crashed \\?\(SIGABRT\\?\); restarted/);
    await ready;
    assert.match((await daemon.hover(uri, 0, 7))!.contents.value, /data:image\/png;base64/);
    assert.equal((await daemon.status()).worker.restarts, 2);
  });

  it('answers from the new model once the checkpoint is replaced on disk, and with an error once it is deleted', async () => {
    const render = () => daemon.connection.sendRequest<RenderResult>(Methods.render, { image: join(workspace, 'cat.png'), layers: [-1], allHeads: false });
    const install = (dir: string) => {
      copyFileSync(join(dir, 'model.crate.json'), join(models, 'model.crate.json'));
      copyFileSync(join(dir, 'model.pth'), join(models, 'model.pth'));
    };
    rmSync(models, { recursive: true, force: true });
    mkdirSync(models);
    install(ODD);
    await daemon.configure(baseSettings({ checkpoint: join(models, 'model.pth') }));
    assert.equal((await render()).result.logits!.length, 7);
    // Asked at once: no waiting for the file watcher.
    install(BARE);
    const replaced = await render();
    assert.equal(replaced.model.depth, 3);
    assert.equal(replaced.result.logits!.length, 10);
    unlinkSync(join(models, 'model.pth'));
    await assert.rejects(render(), /no such file/);
  });

  it('does not outlive its daemon', async () => {
    const worker = (await daemon.status()).worker.pid;
    assert.ok(worker);
    daemon.process.kill('SIGKILL');
    await until(() => !isAlive(worker!), 5000, 'the worker to exit');
  });
});
