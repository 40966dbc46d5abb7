// A broken checkpoint turns the status into "CRATE: error" without breaking the extension, and
// going back to the previous checkpoint makes it ready again.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, type Spec } from '../harness';
import { checkAnalysisHover, goToLine, imageRef, hoverComplete, HOVER_TIMEOUT, READY_TIMEOUT, waitReady } from './common';

export const brokenCheckpoint: Spec = {
  name: 'broken-checkpoint',
  timeoutMs: 2 * READY_TIMEOUT + 2 * HOVER_TIMEOUT,
  async run(t) {
    await waitReady(t);
    const settingsFile = join(t.workspace, '.vscode', 'settings.json');
    const original = existsSync(settingsFile) ? readFileSync(settingsFile, 'utf8') : undefined;
    const restore = () => {
      if (original === undefined) rmSync(settingsFile, { force: true });
      else writeFileSync(settingsFile, original);
    };
    writeFileSync(join(t.workspace, 'broken.pth'), Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(4096, 0x5a)]));
    mkdirSync(join(t.workspace, '.vscode'), { recursive: true });
    try {
      writeFileSync(settingsFile, JSON.stringify({ ...(original ? JSON.parse(original) : {}), 'crateLens.checkpoint': 'broken.pth' }, null, 2));
      await t.wb.waitForStatus('error', 60_000);
      const tooltip = await t.wb.statusTooltip();
      t.log(`error tooltip: ${tooltip}`);
      assert(tooltip.includes('CRATE Lens'), `no error message in the tooltip "${tooltip}"`);
      await t.shot('error-status');

      // The daemon still answers: a hover explains the problem instead of hanging or vanishing.
      await t.wb.openFile('README.md');
      const ref = imageRef(t, 'README.md', '0009-sneaker.png');
      await goToLine(t, ref.line);
      const hover = await t.wb.hoverText(ref.path, (h) => /CRATE Lens/.test(h.text), HOVER_TIMEOUT);
      t.log(`hover while broken: ${hover.text.replace(/\s+/g, ' ').slice(0, 160)}`);
      await t.shot('error-hover');

      restore();
      await t.wb.waitForStatus('ready', READY_TIMEOUT);
      const again = await t.wb.hoverText(ref.path, hoverComplete, HOVER_TIMEOUT);
      checkAnalysisHover(again);
      await t.shot('recovered');
    } finally {
      restore();
      rmSync(join(t.workspace, 'broken.pth'), { force: true });
    }
  },
};
