// The layer comparison page, as a view in the CRATE Lens activity-bar container and as an editor
// panel: one image's layers side by side, and a dataset's measures per layer. The page only shows and
// asks; the daemon computes, and this side checks every message, talks to the daemon and writes files.
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  PanelMethods, parseLayerPanelMessage,
  type DaemonState, type DatasetPhase, type DatasetRow, type ExtensionToLayerPanel, type HeadFusionName, type LayerPanelToExtension,
  type LayerPictures, type ModelSummary, type PanelImageParams, type PanelImageResult, type PanelLayersParams, type PanelLayersResult,
  type PanelModelState, type PanelRolloutParams, type PanelRolloutResult, type SummarizeParams, type SummarizeResult,
} from '../server/protocol';
import { expandImages, isImagePath } from '../server/cli/images';
import { DatasetAggregator, datasetCsv, datasetJson, datasetRow, imageCsv, imageJson } from './sidePanelData';
import { layerPanelHtml, webviewOptions } from './sidePanelHtml';

export const LAYER_VIEW_ID = 'crateLens.layers';
const PANEL_TYPE = 'crateLens.layerComparison';
const IMAGE_GLOB = '**/*.{png,jpg,jpeg,gif,bmp,PNG,JPG,JPEG}';
/** Images per summarize request: partial aggregates reach the page after each batch. */
const DATASET_BATCH = 8;
const MAX_DATASET_IMAGES = 50_000;

/** What the panels need from the extension: the daemon, its state, a log. */
export interface LayerPanelHost {
  request<T>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<T>;
  state(): DaemonState | undefined;
  log(message: string): void;
}

const isCancel = (e: unknown) => /cancel/i.test((e as Error)?.message ?? '');

function modelState(state: DaemonState | undefined): PanelModelState {
  if (!state) return { state: 'loading', message: 'starting the daemon' };
  switch (state.state) {
    case 'ready': return { state: 'ready', depth: state.model.depth, heads: state.model.heads, grid: state.model.imageSize / state.model.patchSize };
    case 'loading': return { state: 'loading', message: `loading ${state.checkpoint || 'the default model'}` };
    case 'blocked': return { state: 'blocked', message: state.message };
    case 'error': return { state: 'error', message: state.message };
  }
}

const displayName = (file: string) => vscode.workspace.asRelativePath(file, false);

interface DatasetRun {
  source: string;
  phase: DatasetPhase;
  done: number;
  total: number;
  aggregator: DatasetAggregator;
  rows: DatasetRow[];
  paths: Set<string>;
  model?: ModelSummary;
  message?: string;
  cancel: vscode.CancellationTokenSource;
}

/** One page (the view's or an editor panel's): what it shows, and its conversation with the daemon. */
class LayerComparison implements vscode.Disposable {
  private image: string | undefined;
  private data: PanelImageResult | undefined;
  private a = 0;
  private b = -1;
  private fusion: HeadFusionName = 'mean';
  private discard = 0;
  private readonly pictures = new Map<number, LayerPictures>();
  private readonly rollouts = new Map<string, PanelRolloutResult>();
  private layerSeq = 0;
  private rolloutSeq = 0;
  private imageSeq = 0;
  private dataset: DatasetRun | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly webview: vscode.Webview,
    private readonly panels: LayerPanels,
    private readonly viewId: string | undefined,
    /** Told the image shown, e.g. to title the editor panel after it. */
    private readonly onShown?: (image: string) => void,
  ) {
    this.disposables.push(webview.onDidReceiveMessage((raw) => {
      const message = parseLayerPanelMessage(raw);
      if (!message) {
        panels.host.log(`[warning] layer comparison: ignored an invalid message from the page`);
        return;
      }
      void this.handle(message).catch((e) => this.post({ type: 'error', message: (e as Error).message }));
    }));
  }

  get currentImage(): string | undefined { return this.image; }

  post(message: ExtensionToLayerPanel): void {
    void this.webview.postMessage(message);
  }

  private async handle(m: LayerPanelToExtension): Promise<void> {
    switch (m.type) {
      case 'ready': return this.restore();
      case 'pickImage': {
        const image = await this.panels.pickImage();
        if (image) await this.showImage(image);
        return;
      }
      case 'useLastImage': {
        const last = this.panels.lastImage;
        if (last) await this.showImage(last);
        return;
      }
      case 'openImage':
        // Only images this page was given may be opened from it.
        if (m.image === this.image || this.dataset?.paths.has(m.image)) await this.showImage(m.image);
        return;
      case 'selectLayers': return this.selectLayers(m.a, m.b);
      case 'rollout':
        this.fusion = m.fusion;
        this.discard = m.discard;
        return this.sendRollout();
      case 'pickFolder': {
        const base = vscode.workspace.workspaceFolders?.[0]?.uri;
        const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, defaultUri: base, openLabel: 'Analyse folder' });
        if (!picked?.[0]) return;
        const source = displayName(picked[0].fsPath);
        this.post({ type: 'datasetSource', source });
        return this.runDataset(source);
      }
      case 'runDataset': return this.runDataset(m.source);
      case 'cancelDataset':
        this.dataset?.cancel.cancel();
        return;
      case 'exportPng': return this.exportPng(m.name, m.dataUrl);
      case 'exportData': return this.exportData(m.scope, m.format);
    }
  }

  /** A (re)loaded page gets everything it showed. */
  private restore(): void {
    this.post({ type: 'model', model: modelState(this.panels.host.state()) });
    this.post({ type: 'lastImage', image: this.panels.lastImage, name: this.panels.lastImage && displayName(this.panels.lastImage) });
    if (this.image && this.data) {
      this.post({ type: 'image', image: this.image, name: displayName(this.image), data: this.data, a: this.a, b: this.b });
      void this.selectLayers(this.a, this.b);
      void this.sendRollout();
    }
    if (this.dataset) this.postDataset(this.dataset, this.dataset.rows, true);
  }

  onModelState(state: DaemonState): void {
    this.post({ type: 'model', model: modelState(state) });
    // A new model (or checkpoint content) changes every number: show the image again with it.
    if (state.state === 'ready' && this.image) void this.showImage(this.image).catch(() => undefined);
  }

  async showImage(image: string): Promise<void> {
    const seq = ++this.imageSeq;
    this.panels.rememberImage(image);
    this.post({ type: 'busy', message: `analysing ${path.basename(image)}…` });
    let data: PanelImageResult;
    try {
      data = await this.panels.host.request<PanelImageResult>(PanelMethods.image, { image } satisfies PanelImageParams);
    } catch (e) {
      if (seq === this.imageSeq) this.post({ type: 'error', message: `${path.basename(image)}: ${(e as Error).message}` });
      return;
    }
    if (seq !== this.imageSeq) return;
    const depth = data.model.depth;
    this.image = image;
    this.data = data;
    this.pictures.clear();
    this.rollouts.clear();
    const clamp = (l: number) => Math.min(depth - 1, Math.max(0, l < 0 ? depth + l : l));
    this.a = clamp(this.a);
    this.b = clamp(this.b);
    this.post({ type: 'image', image, name: displayName(image), data, a: this.a, b: this.b });
    this.onShown?.(image);
    await Promise.all([this.selectLayers(this.a, this.b), this.sendRollout()]);
  }

  private async selectLayers(a: number, b: number): Promise<void> {
    const image = this.image, depth = this.data?.model.depth;
    if (!image || !depth) return;
    if (a >= depth || b >= depth) return;
    this.a = a;
    this.b = b;
    const seq = ++this.layerSeq;
    const missing = [...new Set([a, b])].filter((l) => !this.pictures.has(l));
    if (missing.length > 0) {
      const result = await this.panels.host.request<PanelLayersResult>(PanelMethods.layers, { image, layers: missing } satisfies PanelLayersParams);
      if (image !== this.image) return;
      for (const p of result.layers) this.pictures.set(p.index, p);
    }
    // A later selection answers for itself.
    if (seq !== this.layerSeq) return;
    this.post({ type: 'layers', image, pictures: [this.pictures.get(a)!, this.pictures.get(b)!] });
  }

  private async sendRollout(): Promise<void> {
    const image = this.image;
    if (!image) return;
    const key = `${this.fusion}:${this.discard}`;
    const seq = ++this.rolloutSeq;
    let rollout = this.rollouts.get(key);
    if (!rollout) {
      rollout = await this.panels.host.request<PanelRolloutResult>(PanelMethods.rollout, { image, fusion: this.fusion, discard: this.discard } satisfies PanelRolloutParams);
      if (image !== this.image) return;
      this.rollouts.set(key, rollout);
    }
    if (seq !== this.rolloutSeq) return;
    this.post({ type: 'rollout', image, rollout });
  }

  private postDataset(run: DatasetRun, rows: DatasetRow[], reset: boolean): void {
    this.post({
      type: 'dataset', source: run.source, phase: run.phase, done: run.done, total: run.total,
      aggregate: run.aggregator.snapshot(), rows, reset, message: run.message,
    });
  }

  /** Analyses a folder or glob batch by batch; the page sees the aggregate grow and can cancel. */
  async runDataset(source: string): Promise<void> {
    this.dataset?.cancel.cancel();
    const run: DatasetRun = {
      source, phase: 'running', done: 0, total: 0, aggregator: new DatasetAggregator(), rows: [], paths: new Set(), cancel: new vscode.CancellationTokenSource(),
    };
    this.dataset = run;
    this.post({ type: 'showDataset' });
    this.postDataset(run, [], true);
    const finish = (phase: DatasetPhase, message?: string) => {
      run.phase = phase;
      run.message = message;
      if (this.dataset === run) this.postDataset(run, [], false);
    };
    let files: string[];
    try {
      files = await datasetImages(source);
    } catch (e) {
      return finish('error', (e as Error).message);
    }
    if (files.length === 0) return finish('error', `no images in ${source}`);
    if (files.length > MAX_DATASET_IMAGES) return finish('error', `${files.length} images in ${source}: at most ${MAX_DATASET_IMAGES} at a time`);
    run.total = files.length;
    this.postDataset(run, [], false);
    const location = this.viewId ? { viewId: this.viewId } : vscode.ProgressLocation.Window;
    await vscode.window.withProgress({ location, title: `CRATE Lens: analysing ${source}` }, async () => {
      for (let start = 0; start < files.length; start += DATASET_BATCH) {
        if (run.cancel.token.isCancellationRequested || this.dataset !== run) return finish('cancelled');
        let summary: SummarizeResult;
        try {
          summary = await this.panels.host.request<SummarizeResult>(PanelMethods.summarize, { images: files.slice(start, start + DATASET_BATCH) } satisfies SummarizeParams, run.cancel.token);
        } catch (e) {
          return finish(isCancel(e) || run.cancel.token.isCancellationRequested ? 'cancelled' : 'error', isCancel(e) ? undefined : (e as Error).message);
        }
        if (this.dataset !== run) return;
        run.model = summary.model;
        const rows = summary.results.map((r) => {
          run.aggregator.add(r);
          run.paths.add(r.image);
          return datasetRow(r, displayName(r.image));
        });
        run.rows.push(...rows);
        run.done += rows.length;
        this.postDataset(run, rows, false);
      }
      finish('done');
    });
  }

  private defaultUri(name: string): vscode.Uri | undefined {
    const dir = this.image ? path.dirname(this.image) : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return dir ? vscode.Uri.file(path.join(dir, name)) : undefined;
  }

  private async save(name: string, filters: Record<string, string[]>, content: string | Uint8Array): Promise<void> {
    const target = await vscode.window.showSaveDialog({ defaultUri: this.defaultUri(name), filters, saveLabel: 'Export' });
    if (!target) return;
    await writeFile(target.fsPath, content);
    this.post({ type: 'notice', message: `saved ${displayName(target.fsPath)}` });
  }

  private async exportPng(name: string, dataUrl: string): Promise<void> {
    const bytes = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    // A PNG starts with its 8-byte signature; anything else is refused.
    if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x89504e47) throw new Error('the page sent something that is not a PNG');
    const stem = this.image ? path.basename(this.image, path.extname(this.image)) : 'crate-lens';
    await this.save(`${stem}.${name}.png`, { 'PNG image': ['png'] }, bytes);
  }

  private async exportData(scope: 'image' | 'dataset', format: 'csv' | 'json'): Promise<void> {
    const filters: Record<string, string[]> = format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] };
    if (scope === 'image') {
      if (!this.image || !this.data) throw new Error('no image to export');
      const stem = path.basename(this.image, path.extname(this.image));
      const content = format === 'csv' ? imageCsv(this.data) : imageJson(this.data, this.rollouts.get(`${this.fusion}:${this.discard}`));
      return this.save(`${stem}.layers.${format}`, filters, content);
    }
    const run = this.dataset;
    if (!run || run.rows.length === 0) throw new Error('no dataset to export');
    const depth = run.model?.depth ?? run.rows.find((r) => r.values)?.values?.length ?? 0;
    const content = format === 'csv' ? datasetCsv(run.rows, depth) : datasetJson(run.source, run.model, run.aggregator.snapshot(), run.rows);
    const stem = run.source.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'dataset';
    return this.save(`${stem}.dataset.${format}`, filters, content);
  }

  dispose(): void {
    this.dataset?.cancel.cancel();
    for (const d of this.disposables) d.dispose();
  }
}

/** A folder (searched recursively, as the CLI does), an image, or a glob over the workspace. */
export async function datasetImages(source: string): Promise<string[]> {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const candidate = path.isAbsolute(source) ? source : base ? path.join(base, source) : undefined;
  if (candidate && existsSync(candidate)) {
    const stat = statSync(candidate);
    if (stat.isDirectory()) return expandImages([candidate]);
    if (stat.isFile() && isImagePath(candidate)) return [candidate];
  }
  if (!/[*?{[]/.test(source)) throw new Error(`no such folder: ${source}`);
  const uris = await vscode.workspace.findFiles(source, '**/node_modules/**');
  return uris.map((u) => u.fsPath).filter(isImagePath).sort();
}

/** The view in the activity bar, the editor panel, and the image they were last pointed at. */
export class LayerPanels implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: LayerComparison | undefined;
  private editor: { panel: vscode.WebviewPanel; page: LayerComparison } | undefined;
  private last: string | undefined;

  constructor(private readonly extensionUri: vscode.Uri, readonly host: LayerPanelHost) {}

  get lastImage(): string | undefined { return this.last; }

  private pages(): LayerComparison[] {
    return [this.view, this.editor?.page].filter((p): p is LayerComparison => !!p);
  }

  /** Remembers the image a hover, a command or a page last referred to. */
  rememberImage(image: string): void {
    if (this.last === image) return;
    this.last = image;
    for (const page of this.pages()) page.post({ type: 'lastImage', image, name: displayName(image) });
  }

  onModelState(state: DaemonState): void {
    for (const page of this.pages()) page.onModelState(state);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = layerPanelHtml(view.webview, this.extensionUri, 'view');
    const page = new LayerComparison(view.webview, this, LAYER_VIEW_ID);
    this.view = page;
    view.onDidDispose(() => {
      page.dispose();
      if (this.view === page) this.view = undefined;
    });
  }

  /** Opens (or reveals) the editor panel, on an image or a dataset folder when given. */
  async openEditor(target?: { image?: string; folder?: string }): Promise<void> {
    if (!this.editor) {
      const panel = vscode.window.createWebviewPanel(PANEL_TYPE, 'Layer Comparison', vscode.ViewColumn.Active, {
        ...webviewOptions(this.extensionUri), retainContextWhenHidden: true,
      });
      panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'crate-lens.svg');
      panel.webview.html = layerPanelHtml(panel.webview, this.extensionUri, 'editor');
      const page = new LayerComparison(panel.webview, this, undefined, (image) => { panel.title = `Layers: ${path.basename(image)}`; });
      const editor = { panel, page };
      this.editor = editor;
      panel.onDidDispose(() => {
        page.dispose();
        if (this.editor === editor) this.editor = undefined;
      });
    } else {
      this.editor.panel.reveal();
    }
    const { panel, page } = this.editor;
    if (target?.image) {
      await page.showImage(target.image);
    } else if (target?.folder) {
      const source = displayName(target.folder);
      panel.title = `Layers: ${path.basename(target.folder)}`;
      page.post({ type: 'datasetSource', source });
      await page.runDataset(source);
    }
  }

  /** The view's own picker (its title bar button): shows the view, then asks for an image. */
  async pickInView(): Promise<void> {
    await vscode.commands.executeCommand(`${LAYER_VIEW_ID}.focus`);
    const image = await this.pickImage();
    if (image) await this.view?.showImage(image);
  }

  /** A workspace image, the last one first. */
  async pickImage(): Promise<string | undefined> {
    const files = await vscode.workspace.findFiles(IMAGE_GLOB, '**/node_modules/**', 5000);
    const items: (vscode.QuickPickItem & { file: string })[] = files
      .map((f) => f.fsPath)
      .filter((f) => f !== this.last)
      .sort()
      .map((file) => ({ label: displayName(file), file }));
    if (this.last) items.unshift({ label: displayName(this.last), description: 'last image', file: this.last });
    const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Image to compare layers of', matchOnDescription: true });
    return picked?.file;
  }

  dispose(): void {
    this.view?.dispose();
    this.editor?.panel.dispose();
  }
}
