// The daemon over LSP with image references that leave the workspace through `..`, an absolute
// path or a symlink: the hover says so instead of reading the file, and no link is offered,
// until the user allows images outside the workspace.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Methods } from '../../server/protocol';
import { FIXTURES } from '../golden/reference';
import { baseSettings, Daemon } from './harness';

/** Hover Markdown escapes punctuation in paths; compare the text as rendered. */
const rendered = (markdown: string): string => markdown.replace(/\\(.)/g, '$1').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('daemon over LSP: image references outside the workspace', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'crate-lens-outside-')));
  const workspace = join(root, 'ws');
  const outsidePng = join(root, 'outside.png');
  const checkpoint = join(FIXTURES, 'golden', 'odd_shapes', 'model.pth');
  const setting = 'crateLens.security.allowImagesOutsideWorkspace';
  let daemon: Daemon;
  let uri: string;

  before(async () => {
    mkdirSync(workspace);
    copyFileSync(join(FIXTURES, 'images', 'rgb_32.png'), outsidePng);
    copyFileSync(join(FIXTURES, 'images', 'gray_32.png'), join(workspace, 'cat.png'));
    symlinkSync(outsidePng, join(workspace, 'escape.png'));
    symlinkSync(join(workspace, 'cat.png'), join(workspace, 'inside-link.png'));
    daemon = await Daemon.start(workspace);
    await daemon.configure(baseSettings({ checkpoint }));
    uri = await daemon.open(join(workspace, 'notes.md'), [
      '![up](../outside.png)',
      '![link](escape.png)',
      '![fine](inside-link.png)',
      `![absolute](${outsidePng})`,
    ].join('\n'));
  });
  after(async () => { await daemon.stop(); rmSync(root, { recursive: true, force: true }); });

  it('answers a `../` reference with where it leads and the setting, without analysing it', async () => {
    const hover = await daemon.hover(uri, 0, 8);
    const text = rendered(hover!.contents.value);
    assert.equal(text, `**CRATE Lens:** ../outside.png resolves outside the workspace (${outsidePng}); set ${setting} to allow`);
  });

  it('answers a symlink that points out of the workspace the same way', async () => {
    const hover = await daemon.hover(uri, 1, 10);
    assert.equal(rendered(hover!.contents.value), `**CRATE Lens:** escape.png resolves outside the workspace (${outsidePng}); set ${setting} to allow`);
  });

  it('answers an absolute path outside the workspace the same way', async () => {
    const hover = await daemon.hover(uri, 3, 15);
    assert.match(rendered(hover!.contents.value), /resolves outside the workspace \(.*outside\.png\); set crateLens\.security\.allowImagesOutsideWorkspace to allow$/);
  });

  it('still analyses a symlink that stays inside', async () => {
    const hover = await daemon.hover(uri, 2, 10);
    assert.match(hover!.contents.value, /<img src="data:image\/png;base64,/);
  });

  it('links only the reference that may be read', async () => {
    const links: { target: string }[] = await daemon.connection.sendRequest('textDocument/documentLink', { textDocument: { uri } });
    assert.deepEqual(links.map((l) => l.target.split('/').pop()), ['cat.png']);
  });

  it('reads outside the workspace once the user allows it', async () => {
    await daemon.connection.sendRequest(Methods.configure, baseSettings({ checkpoint, security: { allowImagesOutsideWorkspace: true } }));
    const hover = await daemon.hover(uri, 0, 8);
    assert.match(hover!.contents.value, /<img src="data:image\/png;base64,/);
    const links: { target: string }[] = await daemon.connection.sendRequest('textDocument/documentLink', { textDocument: { uri } });
    assert.equal(links.length, 4);
  });
});
