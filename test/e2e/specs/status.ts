// The status item appears at start-up and reaches "CRATE: ready" once the model is loaded.
import { assert, type Spec } from '../harness';
import { READY_TIMEOUT } from './common';

export const status: Spec = {
  name: 'status',
  timeoutMs: READY_TIMEOUT + 30_000,
  async run(t) {
    const item = t.wb.statusItem();
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    t.log(`first seen: "${await t.wb.statusText()}"`);
    const text = await t.wb.waitForStatus('ready', READY_TIMEOUT, 'error');
    assert(await item.locator('.codicon').count() > 0, `no codicon in the status item "${text}"`);
    const tooltip = await t.wb.statusTooltip();
    t.log(`tooltip: ${tooltip}`);
    assert(tooltip.includes('CRATE Lens') && /ready/.test(tooltip), `unexpected tooltip "${tooltip}"`);
    const expected = t.expectedParameters.toLocaleString('en-US');
    assert(tooltip.includes(`${expected} parameters`), `tooltip should mention ${expected} parameters: "${tooltip}"`);
    await t.shotAround('doc-status-item', [item, t.page.locator('.monaco-hover:not(.hidden), .workbench-hover').last()], 16);
    await t.shot('ready');
  },
};
