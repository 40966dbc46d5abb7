// The daemon over a real LSP connection: hovers, links, rendering, inspection, errors and reloads.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { Methods, type InspectReport, type RenderResult } from '../../server/protocol';
import { FIXTURES } from '../golden/reference';
import { baseSettings, Daemon } from './harness';

describe('daemon over LSP', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'crate-lens-ws-'));
  const modelDir = join(FIXTURES, 'golden', 'odd_shapes');
  let daemon: Daemon;

  before(async () => {
    copyFileSync(join(FIXTURES, 'images', 'rgb_32.png'), join(workspace, 'cat.png'));
    copyFileSync(join(FIXTURES, 'images', 'gray_32.png'), join(workspace, 'gray.png'));
    writeFileSync(join(workspace, 'broken.png'), 'not a png');
    daemon = await Daemon.start(workspace);
  });
  after(async () => { await daemon.stop(); rmSync(workspace, { recursive: true, force: true }); });

  it('loads the configured checkpoint and reports ready with its config source', async () => {
    const state = await daemon.configure(baseSettings({ checkpoint: join(modelDir, 'model.pth') }));
    assert.equal(state.state, 'ready');
    if (state.state === 'ready') assert.match(state.model.configSource, /^sidecar /);
  });

  it('hovers an image path in Markdown with a heatmap, predictions and the per-layer strip', async () => {
    const uri = await daemon.open(join(workspace, 'notes.md'), '# Notes\n\nSee ![a cat](cat.png) here.\n');
    const hover = await daemon.hover(uri, 2, 16);
    assert.ok(hover, 'a hover');
    const md = hover!.contents.value;
    assert.equal((md.match(/<img src="data:image\/png;base64,/g) ?? []).length, 2);
    assert.match(md, /\*\*(tabby cat|golden retriever|red fox|barn owl|sea turtle|monarch butterfly|oak tree)\*\* \d+\.\d%/);
    assert.match(md, /`sparsity` [▁▂▃▄▅▆▇█]{2} /);
    assert.match(md, /command:crateLens\.showHeads\?/);
  });

  it('hovers a quoted path in code, relative to the workspace folder', async () => {
    const uri = await daemon.open(join(workspace, 'src', 'load.py'), 'from PIL import Image\nimg = Image.open("gray.png")\n', 'python');
    const hover = await daemon.hover(uri, 1, 22);
    assert.match(hover!.contents.value, /data:image\/png;base64/);
  });

  it('gives no hover away from image paths, and an error for a corrupt image', async () => {
    const uri = await daemon.open(join(workspace, 'x.md'), 'plain words\n![b](broken.png)\n');
    assert.equal(await daemon.hover(uri, 0, 3), null);
    const hover = await daemon.hover(uri, 1, 8);
    assert.match(hover!.contents.value, /CRATE Lens:.*(PNG|image)/i);
  });

  it('links image paths that exist', async () => {
    const uri = await daemon.open(join(workspace, 'links.md'), 'cat.png and missing.png and gray.png\n');
    const links: { target: string }[] = await daemon.connection.sendRequest('textDocument/documentLink', { textDocument: { uri } });
    assert.deepEqual(links.map((l) => l.target.split('/').pop()), ['cat.png', 'gray.png']);
  });

  it('answers a cancelled hover with nothing, and the next one normally', async () => {
    const uri = await daemon.open(join(workspace, 'c.md'), '![x](gray.png)\n');
    const source = new CancellationTokenSource();
    const pending = daemon.hover(uri, 0, 7, source);
    source.cancel();
    await pending.catch(() => null);
    const hover = await daemon.hover(uri, 0, 7);
    assert.match(hover!.contents.value, /data:image\/png/);
  });

  it('renders every head of a layer and the merged map for panels', async () => {
    const render: RenderResult = await daemon.connection.sendRequest(Methods.render, { image: join(workspace, 'cat.png'), layers: [0, -1], allHeads: true });
    assert.deepEqual(render.layers.map((l) => l.index), [0, 1]);
    assert.equal(render.layers[0].heads.length, 5);
    assert.match(render.layers[1].merged, /^data:image\/png;base64,/);
  });

  it('inspects the model', async () => {
    const report: InspectReport = await daemon.connection.sendRequest(Methods.inspect, {});
    assert.equal(report.model.depth, 2);
    assert.equal(report.dictionaries.length, 2);
  });

  it('reports a broken checkpoint as an error state, and hovers say why', async () => {
    const state = await daemon.configure(baseSettings({ checkpoint: join(workspace, 'cat.png') }), 'error');
    assert.equal(state.state, 'error');
    if (state.state === 'error') assert.match(state.message, /not a PyTorch or safetensors checkpoint/);
    const uri = await daemon.open(join(workspace, 'after.md'), '![x](gray.png)\n');
    const hover = await daemon.hover(uri, 0, 7);
    assert.match(hover!.contents.value, /CRATE Lens:.*not a PyTorch or safetensors checkpoint/);
  });

  it('waits instead of loading when the workspace is not trusted', async () => {
    const state = await daemon.configure(baseSettings({ checkpoint: join(modelDir, 'model.pth'), blocked: 'workspace not trusted' }), 'blocked');
    assert.equal(state.state, 'blocked');
  });

  it('reloads when the checkpoint file is replaced on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-reload-'));
    copyFileSync(join(modelDir, 'model.pth'), join(dir, 'model.pth'));
    copyFileSync(join(modelDir, 'model.crate.json'), join(dir, 'model.crate.json'));
    await daemon.configure(baseSettings({ checkpoint: join(dir, 'model.pth') }));
    const reloading = daemon.waitForState((s) => s.state === 'loading', 10000);
    copyFileSync(join(modelDir, 'model.pth'), join(dir, 'model.pth'));
    await reloading;
    const ready = await daemon.waitForState((s) => s.state === 'ready', 10000);
    assert.equal(ready.state, 'ready');
    rmSync(dir, { recursive: true, force: true });
  });
});
