// The layer comparison: opened from the palette as an editor panel, an image picked from its page,
// layers A and B stepped by keys and slider (pictures and charts must change), a number checked
// against the CLI, the rollout options, an export, the dataset mode over images/, and the view in the
// CRATE Lens activity-bar container.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Frame } from 'playwright-core';
import { assert, sleep, until, type E2E, type Spec } from '../harness';
import { READY_TIMEOUT, waitReady } from './common';

const ROOT = resolve(__dirname, '..', '..', '..');
const PICTURE_TIMEOUT = 60_000;

/** The page of the layer comparison shown as `surface` (the editor panel or the activity-bar view). */
async function pageFrame(t: E2E, surface: 'editor' | 'view', timeoutMs = 60_000): Promise<Frame> {
  return until(`the layer comparison page (${surface})`, async () => {
    for (const frame of t.page.frames()) {
      const found = await frame.evaluate(() => document.body?.dataset.surface ?? '').catch(() => '');
      if (found === surface && await frame.locator('#app .toolbar').count()) return frame;
    }
    return undefined;
  }, timeoutMs, 300);
}

interface LayerView { layer: number; picturesLayer: number; merged: string; mask: string; heads: number; loaded: boolean; values: Record<string, number> }

async function column(frame: Frame, which: 'a' | 'b'): Promise<LayerView> {
  return frame.locator(`#col-${which}`).evaluate((col: HTMLElement) => {
    const imgs = Array.from(col.querySelectorAll('img')).filter((i) => !i.classList.contains('empty'));
    const values: Record<string, number> = {};
    for (const td of Array.from(col.querySelectorAll<HTMLElement>('td[data-measure]'))) values[td.dataset.measure!] = Number(td.dataset.value);
    return {
      layer: Number(col.dataset.layer ?? -1),
      picturesLayer: Number(col.dataset.picturesLayer || -1),
      merged: col.querySelector<HTMLImageElement>('img.merged')?.src ?? '',
      mask: col.querySelector<HTMLImageElement>('img.mask')?.src ?? '',
      heads: col.querySelectorAll('img.head').length,
      loaded: imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0),
      values,
    };
  });
}

/** A canvas's pixels as a hash, and how many are drawn (not transparent). */
async function canvasPixels(frame: Frame, id: string): Promise<{ hash: number; inked: number }> {
  return frame.locator(`canvas#${id}`).evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let hash = 0, inked = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0) inked++;
      hash = (Math.imul(hash, 31) + data[i] * 7 + data[i + 1] * 13 + data[i + 2] * 17 + data[i + 3]) >>> 0;
    }
    return { hash, inked };
  });
}

/** Waits until column `which` shows layer `layer` with that layer's pictures decoded. */
async function waitColumn(frame: Frame, which: 'a' | 'b', layer: number): Promise<LayerView> {
  return until(`layer ${which.toUpperCase()} = ${layer} with its pictures`, async () => {
    const c = await column(frame, which);
    return c.layer === layer && c.picturesLayer === layer && c.loaded ? c : undefined;
  }, PICTURE_TIMEOUT, 200);
}

const CHARTS = ['chart-sparsity', 'chart-reconstructionError', 'chart-istaResidual', 'chart-codingRate', 'chart-histogram', 'chart-zeros'];

async function chartState(frame: Frame): Promise<Record<string, { hash: number; inked: number }>> {
  const out: Record<string, { hash: number; inked: number }> = {};
  for (const id of CHARTS) out[id] = await canvasPixels(frame, id);
  return out;
}

/** The CLI's numbers for one image, with the model the extension uses. */
function cliAnalysis(image: string): { layers: { sparsity: number; codingRate: number; reconstructionError: number }[] } {
  const args = [join(ROOT, 'dist', 'cli.js'), 'analyze', image, '--format', 'json'];
  if (!existsSync(join(ROOT, 'media', 'default-model', 'fashion-crate.safetensors'))) args.push('--checkpoint', join(ROOT, 'test', 'fixtures', 'golden', 'odd_shapes', 'model.pth'));
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert(r.status === 0, `crate-lens analyze failed: ${r.stderr}`);
  return JSON.parse(r.stdout).results[0];
}

/** Answers VS Code's save dialog (the quick-input one code-server shows) with its default path. */
async function acceptSaveDialog(t: E2E): Promise<string> {
  const input = t.page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  const value = await input.inputValue();
  await t.page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: 15_000 }).catch(() => undefined);
  return value;
}

export const layerPanel: Spec = {
  name: 'layer-panel',
  timeoutMs: READY_TIMEOUT + 240_000,
  async run(t) {
    await waitReady(t);
    const pngs = readdirSync(join(t.workspace, 'images')).filter((f) => f.toLowerCase().endsWith('.png')).sort();
    const name = pngs.includes('0009-sneaker.png') ? '0009-sneaker.png' : pngs[0];
    const relative = `images/${name}`;
    try {
      // 1. The palette opens the panel; its page's picker chooses the image.
      await t.wb.runCommand('CRATE Lens: Open Layer Comparison');
      await t.page.locator('.tab', { hasText: 'Layer Comparison' }).first().waitFor({ state: 'visible', timeout: 30_000 });
      const frame = await pageFrame(t, 'editor');
      await frame.locator('#pick-image').click();
      const input = t.page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill(relative);
      const row = t.page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first();
      await row.waitFor({ state: 'visible', timeout: 15_000 });
      await t.page.keyboard.press('Enter');
      await t.page.locator('.tab', { hasText: `Layers: ${name}` }).first().waitFor({ state: 'visible', timeout: 60_000 });
      await until('the image in the page', async () => (await frame.locator('#image-name').innerText()).includes(name), 30_000);
      const depth = await until('the depth of the model', async () => Number(await frame.locator('#slider-a').getAttribute('max')) + 1 || undefined, 30_000);
      assert(depth >= 2, `the model has ${depth} layers`);
      const a0 = await waitColumn(frame, 'a', 0);
      const b0 = await waitColumn(frame, 'b', depth - 1);
      assert(a0.heads >= 1 && a0.heads === b0.heads, `heads shown: A ${a0.heads}, B ${b0.heads}`);
      assert(a0.merged !== b0.merged, 'layers A and B show the same attention picture');
      const charts0 = await until('the charts to be drawn', async () => {
        const s = await chartState(frame);
        return Object.values(s).every((c) => c.inked > 200) ? s : undefined;
      }, 30_000);
      const pca = await frame.locator('img.pca').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0);
      assert(pca, 'no PCA map');
      const rollout0 = await until('the rollout picture', async () => {
        const src = await frame.locator('img.rollout-last').getAttribute('src');
        return src?.startsWith('data:image/png') ? src : undefined;
      }, PICTURE_TIMEOUT);
      t.log(`${name}: ${depth} layers, ${a0.heads} heads; A ${a0.layer} sparsity ${a0.values.sparsity}, B ${b0.layer} sparsity ${b0.values.sparsity}`);

      // 2. Keys step layer A: its pictures, the markers on every chart, the histogram and zeros per token change.
      await frame.locator('#image-name').click();
      await t.page.keyboard.press(']');
      await t.page.keyboard.press(']');
      const aStep = Math.min(2, depth - 1);
      const a1 = await waitColumn(frame, 'a', aStep);
      assert(a1.merged !== a0.merged, 'layer A\'s attention picture did not change');
      assert(a1.values.sparsity !== a0.values.sparsity || a1.values.codingRate !== a0.values.codingRate, 'layer A\'s numbers did not change');
      const charts1 = await chartState(frame);
      for (const id of CHARTS) assert(charts1[id].hash !== charts0[id].hash, `${id} did not change when layer A did`);

      // 3. The slider steps layer B (arrow keys): its pictures and numbers change too.
      await frame.locator('#slider-b').focus();
      await t.page.keyboard.press('ArrowLeft');
      await t.page.keyboard.press('ArrowLeft');
      const bStep = Math.max(0, depth - 3);
      const b1 = await waitColumn(frame, 'b', bStep);
      assert(b1.merged !== b0.merged, 'layer B\'s attention picture did not change');
      const charts2 = await chartState(frame);
      for (const id of ['chart-histogram', 'chart-zeros', 'chart-sparsity']) assert(charts2[id].hash !== charts1[id].hash, `${id} did not change when layer B did`);

      // 4. The panel's numbers are the CLI's for the same image.
      const cli = cliAnalysis(join(t.workspace, 'images', name));
      const shownText = (await frame.locator('#col-b td[data-measure="sparsity"]').innerText()).trim();
      assert(b1.values.sparsity === cli.layers[bStep].sparsity, `layer ${bStep} sparsity: panel ${b1.values.sparsity}, CLI ${cli.layers[bStep].sparsity}`);
      assert(shownText === cli.layers[bStep].sparsity.toFixed(4), `layer ${bStep} sparsity shown as ${shownText}, CLI ${cli.layers[bStep].sparsity.toFixed(4)}`);
      // Sums over many floats may differ in the last bits between thread counts: 1e-9 relative.
      const rate = cli.layers[aStep].codingRate;
      assert(Math.abs(a1.values.codingRate - rate) <= 1e-9 * Math.abs(rate), `layer ${aStep} coding rate: panel ${a1.values.codingRate}, CLI ${rate}`);
      t.log(`layer ${bStep} sparsity ${shownText} = CLI; layer ${aStep} coding rate ${a1.values.codingRate} = CLI`);

      // 5. Rollout options: a discard ratio recomputes the rollout pictures.
      await frame.locator('#rollout-discard').focus();
      for (let i = 0; i < 6; i++) await t.page.keyboard.press('ArrowRight');
      await until('the rollout to change with the discard ratio', async () => {
        const caption = await frame.locator('figure.rollout-last figcaption').innerText();
        const src = await frame.locator('img.rollout-last').getAttribute('src');
        return caption.includes('discard 0.3') && src !== rollout0;
      }, PICTURE_TIMEOUT);
      await t.page.mouse.move(1, 1);
      // The docs show layers A and B and the charts across layers: scroll the page to them.
      await frame.locator('#card-layers').evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await t.shot('doc-panel-image');
      await frame.locator('#app').evaluate(() => window.scrollTo(0, 0));

      // 6. Export: the numbers as CSV through the save dialog.
      await frame.locator('#export-csv').click();
      const target = await acceptSaveDialog(t);
      const csvPath = join(t.workspace, 'images', name.replace(/\.png$/, '.layers.csv'));
      await until(`the CSV at ${csvPath} (dialog said ${target})`, async () => existsSync(csvPath), 15_000);
      const csv = readFileSync(csvPath, 'utf8').trim().split('\n');
      assert(csv.length === depth + 1 && csv[0].startsWith('image,layer,sparsity'), `CSV has ${csv.length} lines: ${csv[0]}`);

      // 7. Dataset mode over images/: the aggregate covers every image.
      await frame.locator('vscode-tab-header[data-tab="dataset"]').click();
      await frame.locator('#ds-source input').fill('images');
      await frame.locator('#ds-run').click();
      const status = frame.locator('#ds-status');
      const done = await until('the dataset run to finish', async () => {
        const d = await status.evaluate((el: HTMLElement) => ({ ...el.dataset }));
        if (d.phase === 'error') throw new Error(await status.innerText());
        return d.phase === 'done' ? d : undefined;
      }, 120_000, 300);
      assert(Number(done.total) === pngs.length && Number(done.images) === pngs.length, `dataset: ${JSON.stringify(done)}, expected ${pngs.length} images`);
      const rows = await frame.locator('#ds-table tbody tr').count();
      assert(rows === Math.min(100, pngs.length), `the sorted table has ${rows} rows for ${pngs.length} images`);
      for (const id of ['ds-chart-sparsity', 'ds-chart-codingRate', 'ds-chart-histogram']) {
        const c = await canvasPixels(frame, id);
        assert(c.inked > 200, `${id} is empty`);
      }
      const values = await frame.locator('#ds-table tbody td.value').evaluateAll((tds) => tds.map((td) => Number((td as HTMLElement).dataset.value)));
      assert(values.every((v, i) => i === 0 || v <= values[i - 1]), 'the images are not sorted by the measure');
      t.log(`dataset: ${done.images} of ${pngs.length} images, ${rows} rows sorted`);
      await t.page.mouse.move(1, 1);
      await t.shot('doc-panel-dataset');

      // 8. The view in the CRATE Lens activity-bar container shows the last image.
      await t.page.locator('.activitybar .action-item a[aria-label^="CRATE Lens"]').first().click();
      const view = await pageFrame(t, 'view');
      const last = view.locator('#last-image');
      await until('the "Last image" button', async () => (await last.isVisible()) && (await last.innerText()).includes(name.replace(/\.png$/, '')), 30_000);
      await last.click();
      await waitColumn(view, 'a', 0);
      await until('the view\'s charts', async () => (await canvasPixels(view, 'chart-sparsity')).inked > 200, 30_000);
      await sleep(300);
      await t.page.mouse.move(1, 1);
      await t.shot('doc-panel-view');
    } finally {
      await t.wb.runCommand('View: Show Explorer').catch(() => undefined);
    }
  },
};
