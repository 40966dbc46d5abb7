// Helpers shared by the specs: the demo files, the image references in them, the hover checks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, type E2E, type HoverInfo, type ImageInfo } from '../harness';

/** Model loads can be slow on a busy machine (the daemon reads and hashes the checkpoint). */
export const READY_TIMEOUT = 180_000;
/** A first hover runs the model on the image. */
export const HOVER_TIMEOUT = 90_000;

export async function waitReady(t: E2E): Promise<string> {
  return t.wb.waitForStatus('ready', READY_TIMEOUT, 'error');
}

/** The first path of `preferred` image written in a workspace file (else the first image path), with its 1-based line. */
export function imageRef(t: E2E, file: string, preferred?: string): { path: string; line: number } {
  const lines = readFileSync(join(t.workspace, file), 'utf8').split('\n');
  let first: { path: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const m = /(?:\.\/)?images\/[A-Za-z0-9._-]+\.png/.exec(lines[i]);
    if (!m) continue;
    first ??= { path: m[0], line: i + 1 };
    if (!preferred || m[0].endsWith(`/${preferred}`)) return { path: m[0], line: i + 1 };
  }
  if (first) return first;
  throw new Error(`no image path in ${file}`);
}

/** Moves the caret (and the view) to a line through the "Go to Line" quick input. */
export async function goToLine(t: E2E, line: number): Promise<void> {
  await t.wb.dismiss();
  await t.page.keyboard.press('F1');
  const input = t.page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`:${line}`);
  await t.page.waitForTimeout(300);
  await t.page.keyboard.press('Enter');
}

/** Both pictures decoded, and a prediction line ("**label** 97.1% · ..."). */
export const hoverComplete = (h: HoverInfo) => {
  const ours = analysisImages(h);
  return !!ours.input && !!ours.overlay && [ours.input, ours.overlay].every((i) => i.complete && i.naturalWidth > 0) && /\d+\.\d%/.test(h.text);
};

/** The daemon's two pictures (other hovers, such as Markdown's image preview, may add their own). */
export function analysisImages(h: HoverInfo): { input?: ImageInfo; overlay?: ImageInfo } {
  return { input: h.images.find((i) => i.alt === 'input'), overlay: h.images.find((i) => i.alt.startsWith('attention')) };
}

/** Checks what an analysis hover holds: input, attention overlay, predictions and measures. */
export function checkAnalysisHover(h: HoverInfo): void {
  const { input, overlay } = analysisImages(h);
  assert(input && overlay, `expected the input and attention images in the hover, got ${JSON.stringify(h.images.map((i) => i.alt))}`);
  for (const img of [input, overlay]) assert(img.complete && img.naturalWidth > 0 && img.naturalHeight > 0, `image "${img.alt}" did not load`);
  // The overlay is the input blended with a colour map: colourful, and unlike the input.
  assert(overlay.colourful > 0.05, `attention overlay has almost no colour (${(100 * overlay.colourful).toFixed(1)}% coloured pixels)`);
  assert(Math.abs(overlay.colourful - input.colourful) > 0.05 || Math.abs(overlay.meanLuma - input.meanLuma) > 5, 'attention overlay looks the same as the input');
  assert(/\S+ \d{1,3}\.\d% · \S.* \d{1,3}\.\d%/.test(h.text), `no top-3 prediction line in ${JSON.stringify(h.text.slice(0, 200))}`);
  for (const measure of ['sparsity', 'recon. error', 'coding rate']) {
    assert(new RegExp(`${measure.replace('.', '\\.')}\\s+[▁▂▃▄▅▆▇█]+\\s+[\\d.]+ → [\\d.]+`).test(h.text), `no "${measure}" line in the hover`);
  }
}

/** Opens `file`, hovers an image path in it and checks the analysis hover; returns what it held. */
export async function hoverImage(t: E2E, file: string, preferred: string | undefined, shotName: string): Promise<HoverInfo> {
  await t.wb.openFile(file);
  const ref = imageRef(t, file, preferred);
  await goToLine(t, ref.line);
  t.log(`hovering ${ref.path} (line ${ref.line})`);
  let hover = await t.wb.hoverText(ref.path, hoverComplete, HOVER_TIMEOUT);
  // Hovers are capped at ~250 px: drag the edge to show the measures too, as a user can.
  await t.wb.enlargeHover(200).catch((e) => t.log(`could not enlarge the hover: ${(e as Error).message}`));
  if (!(await t.wb.hover().isVisible())) hover = await t.wb.hoverText(ref.path, hoverComplete, HOVER_TIMEOUT);
  const line = t.wb.editorLines().filter({ hasText: ref.path }).first();
  const lineNumber = t.page.locator('.editor-group-container.active .monaco-editor .margin-view-overlays .line-numbers', { hasText: new RegExp(`^\\s*${ref.line}\\s*$`) }).first();
  await t.shotAround(shotName, [t.wb.hover(), line, lineNumber], 24);
  await t.shot('hover');
  checkAnalysisHover(hover);
  t.log(`hover: ${hover.text.split('\n').filter(Boolean).slice(0, 1).join(' ')}; overlay ${(100 * (analysisImages(hover).overlay?.colourful ?? 0)).toFixed(0)}% coloured`);
  return hover;
}
