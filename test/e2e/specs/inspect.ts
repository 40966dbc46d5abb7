// "CRATE Lens: Inspect Model" opens a Markdown summary of the loaded model.
import { assert, AssertionError, until, type Spec } from '../harness';
import { waitReady } from './common';

export const inspectModel: Spec = {
  name: 'inspect-model',
  async run(t) {
    await waitReady(t);
    await t.wb.runCommand('CRATE Lens: Inspect Model');
    await t.wb.activeTab('CRATE Model.md').waitFor({ state: 'visible', timeout: 60_000 });
    const text = await until('the model summary', async () => {
      const s = await t.wb.editorText();
      return s.includes('## Dictionaries') ? s : undefined;
    }, 30_000);
    assert(text.startsWith('# CRATE Lens: model'), `document starts with ${JSON.stringify(text.slice(0, 40))}`);
    const expected = t.expectedParameters.toLocaleString('en-US');
    assert(new RegExp(`\\|\\s*parameters\\s*\\|\\s*${expected}\\s*\\|`).test(text), `no "| parameters | ${expected} |" row in:\n${text}`);
    assert(/\|\s*0\s*\|\s*[\d.]+\s*\|/.test(text), 'the Dictionaries table has no row for layer 0');
    // The progress notification ends with the request.
    const progress = t.page.locator('.notifications-toasts .notification-toast', { hasText: 'inspecting the model' });
    await progress.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => { throw new AssertionError('the "inspecting the model" progress notification is still showing 10 s after the document opened'); });
    await t.page.mouse.move(1, 1);
    await t.shotAround('doc-inspect-model', [t.page.locator('.editor-group-container.active').first()], 0);
    await t.shot('document');
  },
};
