// Drives the VS Code workbench (code-server in Chromium) the way a user does: palette, explorer,
// editor hovers, status bar. Selectors are those of VS Code 1.100.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';

/** What a spec gets: the page, the paths of this run, and the helpers below. */
export interface E2E {
  page: Page;
  wb: Workbench;
  /** The workspace folder open in the workbench (a scratch copy). */
  workspace: string;
  /** Parameter count of the model the extension should load, from `crate-lens inspect`. */
  expectedParameters: number;
  /** Takes a full-page screenshot named after the spec and step; returns its path. */
  shot(step: string): Promise<string>;
  /** Screenshot of the region around the given elements (padding in px); returns its path. */
  shotAround(step: string, targets: Locator[], padding?: number): Promise<string>;
  log(message: string): void;
}

export interface Spec {
  name: string;
  /** Upper bound for the whole spec, in ms. */
  timeoutMs?: number;
  run(t: E2E): Promise<void>;
}

export class AssertionError extends Error {}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined/false, or throws with `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new AssertionError(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message.split('\n')[0]})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface ImageInfo {
  alt: string;
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
  /** Fraction of pixels whose channels differ by more than 48 (colour, not grey). */
  colourful: number;
  /** Mean luminance, 0..255. */
  meanLuma: number;
}

export interface HoverInfo {
  text: string;
  images: ImageInfo[];
}

/** Runs in the page: what the <img> elements under `root` look like once decoded. */
function describeImages(root: Element): ImageInfo[] {
  return Array.from(root.querySelectorAll('img')).map((img) => {
    const info = { alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, colourful: 0, meanLuma: 0 };
    if (!img.complete || img.naturalWidth === 0) return info;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    if (!ctx) return info;
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let colourful = 0, luma = 0;
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i], g = data[i + 1], b = data[i + 2];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 48) colourful++;
      luma += 0.299 * r + 0.587 * g + 0.114 * b;
    }
    const n = data.length / 4;
    return { ...info, colourful: colourful / n, meanLuma: luma / n };
  });
}

export class Workbench {
  constructor(readonly page: Page) {}

  /** The status bar item of the extension (text like "CRATE: ready"). */
  statusItem(): Locator {
    return this.page.locator('.statusbar-item', { hasText: 'CRATE:' }).first();
  }

  async statusText(): Promise<string> {
    return ((await this.statusItem().innerText({ timeout: 2000 })) || '').replace(/\s+/g, ' ').trim();
  }

  /** Waits for the status item to read `CRATE: <state>`; fails early when it reaches `failOn`. */
  async waitForStatus(state: string, timeoutMs: number, failOn?: string): Promise<string> {
    return until(`status "CRATE: ${state}"`, async () => {
      const text = await this.statusText().catch(() => '');
      if (failOn && text.includes(`CRATE: ${failOn}`)) {
        throw new AssertionError(`status became "${text}" while waiting for "CRATE: ${state}": ${await this.statusTooltip()}`);
      }
      return text.includes(`CRATE: ${state}`) ? text : undefined;
    }, timeoutMs, 300).catch(async (e) => {
      if (e instanceof AssertionError && e.message.startsWith('status became')) throw e;
      throw new AssertionError(`${(e as Error).message}; status is "${await this.statusText().catch(() => '(none)')}"`);
    });
  }

  /** The tooltip of the status item, read by hovering it (empty when none shows). */
  async statusTooltip(): Promise<string> {
    try {
      await this.statusItem().hover({ timeout: 2000 });
      const tip = this.page.locator('.monaco-hover:not(.hidden), .workbench-hover').last();
      await tip.waitFor({ state: 'visible', timeout: 4000 });
      return (await tip.innerText()).replace(/\s+/g, ' ').trim();
    } catch {
      return '';
    }
  }

  /** Closes hovers, menus and quick inputs. */
  async dismiss(): Promise<void> {
    await this.page.mouse.move(1, 1);
    for (let i = 0; i < 3; i++) await this.page.keyboard.press('Escape');
  }

  private quickInput(): Locator {
    return this.page.locator('.quick-input-widget .quick-input-box input');
  }

  /** Opens the palette with `text` typed, then clicks the entry whose label is `label`. */
  private async pick(text: string, label: string | RegExp, timeoutMs: number): Promise<void> {
    await this.dismiss();
    await this.page.keyboard.press('F1');
    const input = this.quickInput();
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(text);
    const name = typeof label === 'string' ? new RegExp(`^\\s*${escapeRe(label)}\\s*$`) : label;
    const row = this.page.locator('.quick-input-widget .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: name }) }).first();
    await row.waitFor({ state: 'visible', timeout: timeoutMs });
    await row.click();
  }

  /** Runs a command from the palette by its full title ("Category: Title"). */
  async runCommand(title: string, timeoutMs = 15_000): Promise<void> {
    await this.pick(`>${title}`, title, timeoutMs);
  }

  /** Opens a workspace file through Quick Open and waits for its editor. */
  async openFile(relativePath: string): Promise<void> {
    const base = relativePath.split('/').pop()!;
    await this.pick(relativePath, base, 20_000);
    await this.activeTab(base).waitFor({ state: 'visible', timeout: 15_000 });
    await this.editorLines().first().waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** The tab of the active editor group whose label is `title`. */
  activeTab(title: string): Locator {
    return this.page.locator('.editor-group-container.active .tab.active', { hasText: title }).first();
  }

  editorLines(): Locator {
    return this.page.locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines .view-line');
  }

  /** The visible text of the active editor (lines in screen order). */
  async editorText(): Promise<string> {
    return this.page.locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines').first().evaluate((el) => {
      const lines = Array.from(el.querySelectorAll<HTMLElement>('.view-line')).map((l) => ({ top: parseFloat(l.style.top) || l.offsetTop, text: (l.textContent ?? '').replace(/\u00a0/g, ' ') }));
      return lines.sort((a, b) => a.top - b.top).map((l) => l.text).join('\n');
    });
  }

  /** Screen box of `needle` in the first visible editor line containing it. */
  async textBox(needle: string): Promise<{ x: number; y: number; width: number; height: number }> {
    return until(`"${needle}" in the editor`, async () => {
      const line = this.editorLines().filter({ hasText: needle }).first();
      if (!(await line.count())) return undefined;
      const box = await line.evaluate((el, n) => {
        // Monaco splits a line into token spans: find the substring across their text nodes.
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        const nodes: Text[] = [];
        let text = '';
        for (let node = walker.nextNode(); node; node = walker.nextNode()) { nodes.push(node as Text); text += (node.textContent ?? '').replace(/\u00a0/g, ' '); }
        const at = text.indexOf(n);
        if (at < 0) return undefined;
        const locate = (offset: number): [Text, number] => {
          for (const node of nodes) {
            const len = node.textContent?.length ?? 0;
            if (offset <= len) return [node, offset];
            offset -= len;
          }
          const last = nodes[nodes.length - 1];
          return [last, last.textContent?.length ?? 0];
        };
        const range = document.createRange();
        range.setStart(...locate(at));
        range.setEnd(...locate(at + n.length));
        const r = range.getBoundingClientRect();
        return r.width > 0 ? { x: r.x, y: r.y, width: r.width, height: r.height } : undefined;
      }, needle);
      return box;
    }, 15_000);
  }

  /** The editor hover that is showing, if any. */
  hover(): Locator {
    return this.page.locator('.monaco-editor .monaco-hover:not(.hidden)').first();
  }

  /**
   * Points the mouse at `needle` in the active editor and waits for a hover satisfying `ready`
   * (re-pointing now and then, as a user would). Returns what the hover holds.
   */
  async hoverText(needle: string, ready: (h: HoverInfo) => boolean, timeoutMs: number): Promise<HoverInfo> {
    await this.dismiss();
    let last: HoverInfo | undefined;
    let pointedAt = 0;
    const point = async () => {
      const box = await this.textBox(needle);
      await this.page.mouse.move(box.x + box.width / 2, box.y - 30);
      await this.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
      pointedAt = Date.now();
    };
    await point();
    try {
      return await until(`a hover over "${needle}"`, async () => {
        const hover = this.hover();
        if (!(await hover.isVisible())) {
          if (Date.now() - pointedAt > 3000) {
            await this.page.mouse.move(5, 5);
            await point();
          }
          return undefined;
        }
        last = { text: (await hover.innerText()).trim(), images: await hover.evaluate(describeImages) };
        return ready(last) ? last : undefined;
      }, timeoutMs, 300);
    } catch (e) {
      const seen = last ? ` (last hover: ${JSON.stringify(last.text.slice(0, 300))}, images ${JSON.stringify(last.images.map((i) => [i.complete, i.naturalWidth]))})` : ' (no hover appeared)';
      throw new AssertionError(`${(e as Error).message}${seen}`);
    }
  }

  /** Drags the free horizontal edge of the showing editor hover outwards by `pixels`. */
  async enlargeHover(pixels: number): Promise<void> {
    const sash = this.page.locator('.monaco-resizable-hover:has(.monaco-hover:not(.hidden)) > .monaco-sash.horizontal:not(.disabled)').first();
    const box = await sash.boundingBox({ timeout: 2000 });
    if (!box) throw new Error('no resizable edge');
    const north = (await sash.getAttribute('class'))?.includes('north') ?? false;
    // Stay inside the editor: the hover closes when the pointer leaves it.
    const editor = await this.page.locator('.editor-group-container.active .editor-instance .monaco-editor').first().boundingBox();
    const x = box.x + box.width / 2, y = box.y + box.height / 2;
    const room = editor ? (north ? y - editor.y : editor.y + editor.height - y) - 30 : pixels;
    const delta = Math.max(0, Math.min(pixels, room));
    await this.page.mouse.move(x, y, { steps: 2 });
    await this.page.mouse.down();
    await this.page.mouse.move(x, north ? y - delta : y + delta, { steps: 10 });
    await this.page.mouse.up();
    const hover = await this.hover().boundingBox({ timeout: 1000 }).catch(() => null);
    if (hover) await this.page.mouse.move(hover.x + hover.width / 2, hover.y + hover.height / 2, { steps: 4 });
    await this.page.waitForTimeout(200);
  }

  /** Explorer row for a path relative to the workspace (expands folders on the way). */
  async explorerRow(relativePath: string): Promise<Locator> {
    const parts = relativePath.split('/');
    const rowOf = (name: string) => this.page.locator('.explorer-folders-view .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(name)}$`) }) }).first();
    for (const folder of parts.slice(0, -1)) {
      const row = rowOf(folder);
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
      await until(`explorer folder ${folder} to expand`, async () => (await row.getAttribute('aria-expanded')) === 'true', 5000);
    }
    const row = rowOf(parts[parts.length - 1]);
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    return row;
  }

  /** Right-clicks `target` and clicks the context-menu entry `label`. */
  async contextMenu(target: Locator, label: string): Promise<void> {
    await target.click({ button: 'right' });
    const item = this.page.locator('.context-view .monaco-menu .action-item').filter({ has: this.page.locator('.action-label', { hasText: new RegExp(`^${escapeRe(label)}$`) }) }).first();
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    // The menu ignores a mouse-up right after it opened: focus the entry by pointing at it, then Enter.
    await item.hover();
    await this.page.waitForTimeout(400);
    await this.page.keyboard.press('Enter');
    await item.waitFor({ state: 'hidden', timeout: 5000 }).catch(async () => { await item.click(); });
  }

  /** The document of the newest webview panel whose tab title contains `title`. */
  async webview(title: string, timeoutMs: number): Promise<FrameLocator> {
    await this.page.locator('.tab', { hasText: title }).first().waitFor({ state: 'visible', timeout: timeoutMs });
    const frame = this.page.locator('iframe.webview.ready').last().contentFrame().locator('#active-frame').contentFrame();
    await frame.locator('body').waitFor({ state: 'attached', timeout: timeoutMs });
    return frame;
  }

  /** Describes the images under `root` (in the page or in a frame). */
  static async images(root: Locator): Promise<ImageInfo[]> {
    return root.evaluate(describeImages);
  }

  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-toast').allInnerTexts();
  }
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const outPath = (dir: string, name: string) => join(dir, name.replace(/[^A-Za-z0-9._-]+/g, '-'));
