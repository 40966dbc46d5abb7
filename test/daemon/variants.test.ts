// The daemon with the model variants: the imageSize setting, a CRATE-MAE encoder and a CRATE-alpha model.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES } from '../golden/reference';
import { PanelMethods, type PanelImageResult, type PanelLayersResult, type PanelRolloutResult, type SummarizeResult } from '../../server/protocol';
import { baseSettings, Daemon } from './harness';

describe('daemon with model variants', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'crate-lens-ws-'));
  let daemon: Daemon;

  before(async () => {
    daemon = await Daemon.start(workspace);
    copyFileSync(join(FIXTURES, 'images', 'rgb_32.png'), join(workspace, 'cat.png'));
  });

  /** A hover on an image with both pictures and the per-layer strip. */
  async function hoverPictures(): Promise<string> {
    const uri = await daemon.open(join(workspace, 'notes.md'), 'See ![a cat](cat.png) here.\n');
    const hover = await daemon.hover(uri, 0, 16);
    assert.ok(hover, 'a hover');
    const md = hover!.contents.value;
    assert.equal((md.match(/<img src="data:image\/png;base64,/g) ?? []).length, 2, md.slice(0, 300));
    assert.match(md, /`sparsity` [▁▂▃▄▅▆▇█]+ /);
    return md;
  }
  after(async () => { await daemon.stop(); rmSync(workspace, { recursive: true, force: true }); });

  it('analyses at the imageSize setting, the position embedding resized', async () => {
    const state = await daemon.configure(baseSettings({ checkpoint: join(FIXTURES, 'variants', 'demo_heads128', 'model.pth'), imageSize: 64 }));
    assert.equal(state.state, 'ready');
    if (state.state !== 'ready') return;
    assert.deepEqual([state.model.family, state.model.imageSize, state.model.heads, state.model.dimHead], ['crate', 64, 2, 128]);
    assert.ok(state.model.configWarnings.some((w) => /4x4 to a 8x8 patch grid \(bicubic-timm\)/.test(w)));
  });

  /** The layer comparison panel's four requests on the configured model. */
  async function panelWorks(depth: number, heads: number): Promise<void> {
    const image = join(workspace, 'cat.png');
    const shown = await daemon.connection.sendRequest<PanelImageResult>(PanelMethods.image, { image });
    assert.equal(shown.result.layers!.length, depth);
    assert.match(shown.view, /^data:image\/png;base64,/);
    const layers = await daemon.connection.sendRequest<PanelLayersResult>(PanelMethods.layers, { image, layers: [0, -1] });
    assert.deepEqual(layers.layers.map((l) => [l.index, l.heads.length]), [[0, heads], [depth - 1, heads]]);
    for (const fusion of ['mean', 'max'] as const) {
      const rollout = await daemon.connection.sendRequest<PanelRolloutResult>(PanelMethods.rollout, { image, fusion, discard: 0.1 });
      assert.equal(rollout.cls.length, depth);
      assert.ok(rollout.cls.every((row) => Math.max(...row) === 1), `${fusion} rollout rows scaled to 1`);
    }
    const summary = await daemon.connection.sendRequest<SummarizeResult>(PanelMethods.summarize, { images: [image] });
    const layer = summary.results[0].layers![depth - 1];
    assert.ok(layer.sparsity >= 0 && layer.sparsity <= 1 && layer.reconstructionError > 0 && layer.codingRate > 0);
  }

  it('reports a CRATE-MAE encoder as such, without classes', async () => {
    const state = await daemon.configure(baseSettings({ checkpoint: join(FIXTURES, 'variants', 'mae_encoder', 'checkpoint-99.pth') }));
    assert.equal(state.state, 'ready');
    if (state.state !== 'ready') return;
    assert.deepEqual([state.model.family, state.model.numClasses, state.model.istaLambda], ['crate-mae', 0, 0.5]);
    await hoverPictures();
    await panelWorks(state.model.depth, state.model.heads);
  });

  it('hovers with a CRATE-alpha model (checkpoint file without extension)', async () => {
    const state = await daemon.configure(baseSettings({ checkpoint: join(FIXTURES, 'golden-alpha', 'alpha_noext', 'crate_alpha_tiny') }));
    assert.equal(state.state, 'ready');
    if (state.state !== 'ready') return;
    assert.deepEqual([state.model.family, state.model.codeDim], ['crate-alpha', 4 * state.model.dim]);
    await hoverPictures();
    await panelWorks(state.model.depth, state.model.heads);
  });
});
