// Image references in documents may only read files inside the workspace: `..`, absolute
// paths and symlinks that lead out are refused unless the user allows it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { markdownText } from '../../server/daemon/render';
import { isInside, outsideMessage, resolveImagePath, type ResolveContext } from '../../server/daemon/resolve';

describe('resolving image references', () => {
  // <root>/ws is the workspace; <root>/outside is not. realpath: the temp folder may itself be a symlink.
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'crate-lens-resolve-')));
  const ws = join(root, 'ws');
  const outside = join(root, 'outside');
  const doc = join(ws, 'notes.md');
  const inWorkspace = (over: Partial<ResolveContext> = {}): ResolveContext => ({ documentPath: doc, workspaceFolders: [ws], allowOutside: false, ...over });

  before(() => {
    mkdirSync(join(ws, 'sub'), { recursive: true });
    mkdirSync(outside);
    for (const file of [join(ws, 'a.png'), join(ws, 'sub', 'b.png'), join(ws, '..dots.png'), join(outside, 'o.png'), join(outside, 'a.png')]) writeFileSync(file, 'png');
    symlinkSync(join(ws, 'sub', 'b.png'), join(ws, 'link-in.png'));
    symlinkSync(join(outside, 'o.png'), join(ws, 'link-out.png'));
    symlinkSync('../../outside/o.png', join(ws, 'sub', 'relative-link-out.png'));
    symlinkSync(outside, join(ws, 'dir-out'));
    symlinkSync(ws, join(root, 'ws-alias'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('resolves plain references inside the workspace to their real path', () => {
    assert.deepEqual(resolveImagePath('a.png', inWorkspace()), { status: 'ok', path: join(ws, 'a.png') });
    assert.deepEqual(resolveImagePath('sub/b.png', inWorkspace()), { status: 'ok', path: join(ws, 'sub', 'b.png') });
    assert.deepEqual(resolveImagePath('sub/../a.png', inWorkspace()), { status: 'ok', path: join(ws, 'a.png') });
    assert.deepEqual(resolveImagePath(join(ws, 'a.png'), inWorkspace()), { status: 'ok', path: join(ws, 'a.png') });
    // A name that merely starts with two dots is still inside.
    assert.deepEqual(resolveImagePath('..dots.png', inWorkspace()), { status: 'ok', path: join(ws, '..dots.png') });
  });

  it('follows symlinks that stay inside the workspace', () => {
    assert.deepEqual(resolveImagePath('link-in.png', inWorkspace()), { status: 'ok', path: join(ws, 'sub', 'b.png') });
  });

  it('refuses `..` that leaves the workspace', () => {
    assert.deepEqual(resolveImagePath('../outside/o.png', inWorkspace()), { status: 'outside', realPath: join(outside, 'o.png'), scope: 'workspace' });
    assert.equal(resolveImagePath('sub/../../outside/o.png', inWorkspace()).status, 'outside');
  });

  it('refuses absolute paths outside the workspace', () => {
    assert.deepEqual(resolveImagePath(join(outside, 'o.png'), inWorkspace()), { status: 'outside', realPath: join(outside, 'o.png'), scope: 'workspace' });
  });

  it('refuses symlinks that point out of the workspace, to files and through folders', () => {
    assert.deepEqual(resolveImagePath('link-out.png', inWorkspace()), { status: 'outside', realPath: join(outside, 'o.png'), scope: 'workspace' });
    assert.deepEqual(resolveImagePath('sub/relative-link-out.png', inWorkspace()), { status: 'outside', realPath: join(outside, 'o.png'), scope: 'workspace' });
    assert.deepEqual(resolveImagePath('dir-out/o.png', inWorkspace()), { status: 'outside', realPath: join(outside, 'o.png'), scope: 'workspace' });
  });

  it('allows all of these when the user allows images outside the workspace', () => {
    for (const ref of ['../outside/o.png', join(outside, 'o.png'), 'link-out.png', 'dir-out/o.png']) {
      assert.deepEqual(resolveImagePath(ref, inWorkspace({ allowOutside: true })), { status: 'ok', path: join(outside, 'o.png') }, ref);
    }
  });

  it('contains files of a workspace opened through a symlinked path', () => {
    const aliased = inWorkspace({ documentPath: join(root, 'ws-alias', 'notes.md'), workspaceFolders: [join(root, 'ws-alias')] });
    assert.deepEqual(resolveImagePath('a.png', aliased), { status: 'ok', path: join(ws, 'a.png') });
    assert.equal(resolveImagePath('link-out.png', aliased).status, 'outside');
  });

  it('prefers a candidate inside the workspace over one outside', () => {
    // The document lives outside the workspace, next to its own a.png.
    const context = inWorkspace({ documentPath: join(outside, 'doc.md') });
    assert.deepEqual(resolveImagePath('a.png', context), { status: 'ok', path: join(ws, 'a.png') });
    assert.deepEqual(resolveImagePath('o.png', context), { status: 'outside', realPath: join(outside, 'o.png'), scope: 'workspace' });
  });

  it("with no workspace folder, keeps references inside the document's folder", () => {
    const single: ResolveContext = { documentPath: join(ws, 'sub', 'doc.md'), workspaceFolders: [], allowOutside: false };
    assert.deepEqual(resolveImagePath('b.png', single), { status: 'ok', path: join(ws, 'sub', 'b.png') });
    assert.deepEqual(resolveImagePath('../a.png', single), { status: 'outside', realPath: join(ws, 'a.png'), scope: "document's folder" });
    assert.equal(resolveImagePath('relative-link-out.png', single).status, 'outside');
    assert.deepEqual(resolveImagePath('../a.png', { ...single, allowOutside: true }), { status: 'ok', path: join(ws, 'a.png') });
    // An untitled document has no folder: only absolute paths can mean anything, and they are outside.
    assert.equal(resolveImagePath(join(ws, 'a.png'), { ...single, documentPath: undefined }).status, 'outside');
  });

  it('reports missing files and folders as missing', () => {
    assert.deepEqual(resolveImagePath('nope.png', inWorkspace()), { status: 'missing' });
    assert.deepEqual(resolveImagePath('sub', inWorkspace()), { status: 'missing' });
    assert.deepEqual(resolveImagePath('../outside/nope.png', inWorkspace()), { status: 'missing' });
  });

  it('says where the reference leads and which setting allows it', () => {
    const resolution = resolveImagePath('../outside/o.png', inWorkspace());
    assert.equal(resolution.status, 'outside');
    if (resolution.status !== 'outside') return;
    assert.equal(
      outsideMessage('../outside/o.png', resolution),
      `../outside/o.png resolves outside the workspace (${join(outside, 'o.png')}); set crateLens.security.allowImagesOutsideWorkspace to allow`,
    );
  });
});

describe('isInside', () => {
  it('compares whole path segments', () => {
    assert.equal(isInside('/w/a.png', '/w'), true);
    assert.equal(isInside('/w/x/y.png', '/w'), true);
    assert.equal(isInside('/w', '/w'), true);
    assert.equal(isInside('/w/..x.png', '/w'), true);
    assert.equal(isInside('/work/a.png', '/w'), false);
    assert.equal(isInside('/a.png', '/w'), false);
    assert.equal(isInside('/w2/a.png', '/w'), false);
  });
});

describe('markdownText', () => {
  it('keeps paths and messages from adding links, HTML or emphasis to a hover', () => {
    const hostile = '[x](command:crateLens.showHeads?%7B%7D) <img src=x onerror=y> **bold** `code`';
    const text = markdownText(hostile);
    assert.doesNotMatch(text, /(?<!\\)[[\]()`*]/);
    assert.doesNotMatch(text, /[<>]/);
    assert.match(markdownText('a\nb\rc'), /^a b c$/);
  });
});
