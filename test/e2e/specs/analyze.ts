// "Analyze Image" from the explorer's context menu opens a report panel for that image.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assert, until, Workbench, type Spec } from '../harness';
import { waitReady } from './common';

export const analyzeImage: Spec = {
  name: 'analyze-image',
  async run(t) {
    await waitReady(t);
    const image = readdirSync(join(t.workspace, 'images')).filter((f) => f.endsWith('.png')).sort()[0];
    const row = await t.wb.explorerRow(`images/${image}`);
    await t.wb.contextMenu(row, 'Analyze Image');
    const frame = await t.wb.webview(`CRATE: ${image}`, 90_000);
    const body = frame.locator('body');
    await body.locator('h2', { hasText: image }).first().waitFor({ state: 'visible', timeout: 60_000 });
    const images = await until('the report pictures to load', async () => {
      const list = await Workbench.images(body);
      return list.length >= 2 && list.every((i) => i.complete && i.naturalWidth > 0) ? list : undefined;
    }, 30_000);
    const text = await body.innerText();
    assert(/\d{1,3}\.\d%/.test(text), 'no prediction in the report');
    assert(images.some((i) => /attention/.test(i.alt) && i.colourful > 0.05), 'the report has no coloured attention heatmap');
    await t.page.mouse.move(1, 1);
    await t.shot('panel');
  },
};
