// The hover's "All heads" command link opens a panel with every head of the layer.
import { assert, until, Workbench, type Spec } from '../harness';
import { goToLine, hoverComplete, HOVER_TIMEOUT, imageRef, waitReady } from './common';

export const allHeads: Spec = {
  name: 'hover-all-heads',
  async run(t) {
    await waitReady(t);
    await t.wb.openFile('README.md');
    const ref = imageRef(t, 'README.md', '0009-sneaker.png');
    await goToLine(t, ref.line);
    await t.wb.hoverText(ref.path, hoverComplete, HOVER_TIMEOUT);
    const link = t.wb.hover().locator('a', { hasText: 'All heads' }).first();
    await link.scrollIntoViewIfNeeded();
    await link.click();
    const name = ref.path.split('/').pop()!;
    const frame = await t.wb.webview(`${name}: layer`, 60_000);
    const body = frame.locator('body');
    await body.locator('h2', { hasText: name }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const images = await until('the head pictures to load', async () => {
      const list = await Workbench.images(body);
      return list.length >= 4 && list.every((i) => i.complete && i.naturalWidth > 0) ? list : undefined;
    }, 30_000);
    const heads = images.filter((i) => /^head \d+$/.test(i.alt));
    assert(heads.length >= 1, `no per-head pictures: ${JSON.stringify(images.map((i) => i.alt))}`);
    t.log(`${heads.length} heads shown`);
    await t.page.mouse.move(1, 1);
    await t.shot('panel');
  },
};
