// The layer comparison page: a toolbar (image, layers A and B), an Image tab and a Dataset tab. It
// shows what the extension sends and asks for the rest through typed messages.
import type { ExtensionToLayerPanel, PanelModelState } from '../server/protocol';
import { setChartTheme } from './charts';
import { DatasetTab } from './datasetTab';
import { debounce, h } from './dom';
import { cardToPng } from './exportPng';
import { ImageTab } from './imageTab';
import type { Shared } from './shared';
import { onThemeChange, readTheme } from './theme';
import { loadState, post, saveState, type SavedState } from './vscodeApi';

const DEFAULTS: SavedState = {
  tab: 'image', a: 0, b: -1, fusion: 'mean', discard: 0, headMasks: false, source: '', sortMeasure: 0, sortLayer: 'b', sortDescending: true,
};

export class App implements Shared {
  private state: SavedState = { ...DEFAULTS, ...loadState() };
  private model: PanelModelState = { state: 'loading', message: 'starting' };
  private readonly image: ImageTab;
  private readonly dataset: DatasetTab;
  private readonly statusLine = h('p', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' });
  private readonly imageName = h('span', { id: 'image-name', class: 'image-name' }, 'no image');
  private readonly lastButton: HTMLElement;
  private readonly sliders: Record<'a' | 'b', HTMLInputElement>;
  private readonly outputs: Record<'a' | 'b', HTMLOutputElement>;
  private readonly tabs: HTMLElement & { selectedIndex: number };
  private readonly sendLayers = debounce(() => post({ type: 'selectLayers', a: this.a, b: this.b }), 60);

  constructor(root: HTMLElement) {
    const pick = h('vscode-button', { id: 'pick-image', title: 'Pick a workspace image' }, 'Pick image…');
    pick.addEventListener('click', () => { this.selectTab('image'); post({ type: 'pickImage' }); });
    this.lastButton = h('vscode-button', { id: 'last-image', secondary: true, hidden: true }, 'Last image');
    this.lastButton.addEventListener('click', () => { this.selectTab('image'); post({ type: 'useLastImage' }); });

    const slider = (which: 'a' | 'b') => {
      const input = h('input', { type: 'range', id: `slider-${which}`, class: `slider ${which}`, min: 0, max: 0, step: 1, value: 0, disabled: true, 'aria-label': `layer ${which.toUpperCase()}` });
      const output = h('output', { id: `label-${which}`, for: `slider-${which}`, class: 'slider-value' }, '–');
      input.addEventListener('input', () => this.setLayers(which === 'a' ? Number(input.value) : this.a, which === 'b' ? Number(input.value) : this.b));
      const group = h('div', { class: `layer-control ${which}` },
        h('label', { for: `slider-${which}` }, h('span', { class: `badge ${which}` }, which.toUpperCase()), ' layer'), input, output);
      return { input, output, group };
    };
    const sa = slider('a'), sb = slider('b');
    this.sliders = { a: sa.input, b: sb.input };
    this.outputs = { a: sa.output, b: sb.output };

    const toolbar = h('header', { class: 'toolbar' },
      h('div', { class: 'group' }, pick, this.lastButton),
      h('div', { class: 'group name' }, this.imageName),
      h('div', { class: 'group layers' }, sa.group, sb.group));

    this.image = new ImageTab(this);
    this.dataset = new DatasetTab(this, () => this.selectTab('image'));
    this.tabs = h('vscode-tabs', { id: 'tabs', 'selected-index': this.state.tab === 'dataset' ? 1 : 0 },
      // The tabs element sets the ids of its headers and panels itself: they are found by data-tab.
      h('vscode-tab-header', { slot: 'header', 'data-tab': 'image' }, 'Image'),
      h('vscode-tab-panel', { 'data-tab': 'image' }, this.image.el),
      h('vscode-tab-header', { slot: 'header', 'data-tab': 'dataset' }, 'Dataset'),
      h('vscode-tab-panel', { 'data-tab': 'dataset' }, this.dataset.el)) as unknown as App['tabs'];
    this.tabs.addEventListener('vsc-tabs-select', (e) => {
      const index = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      this.update({ tab: index === 1 ? 'dataset' : 'image' });
    });
    root.append(toolbar, this.statusLine, this.tabs);

    document.addEventListener('keydown', (e) => this.onKey(e));
    window.addEventListener('message', (e: MessageEvent) => this.onMessage(e.data as ExtensionToLayerPanel));
    onThemeChange((theme) => {
      setChartTheme(theme);
      document.body.dataset.theme = theme.kind;
    });
    document.body.dataset.theme = readTheme().kind;
    post({ type: 'ready' });
  }

  get a(): number { return this.state.a; }
  get b(): number { return this.state.b; }
  get depth(): number { return this.model.depth ?? 0; }
  get saved(): Partial<SavedState> { return this.state; }

  update(patch: Partial<SavedState>): void {
    this.state = { ...this.state, ...patch };
    saveState(this.state);
  }

  card(id: string, title: string, body: Node[], actions: Node[] = []): HTMLElement {
    const heading = h('h2', { id: `card-${id}-title` }, title);
    const png = h('vscode-button', { class: 'export-png', secondary: true, title: `Save "${title}" as a PNG image`, 'aria-label': `Export ${title} as PNG` }, 'PNG');
    const section = h('section', { class: 'card', id: `card-${id}`, 'aria-labelledby': heading.id },
      h('div', { class: 'card-header' }, heading, h('div', { class: 'card-actions no-export' }, ...actions, png)),
      ...body);
    png.addEventListener('click', () => {
      try {
        post({ type: 'exportPng', name: id, dataUrl: cardToPng(section, readTheme().background) });
      } catch (e) {
        this.setStatus(`could not draw the picture: ${(e as Error).message}`, 'error');
      }
    });
    return section;
  }

  private selectTab(tab: 'image' | 'dataset'): void {
    this.tabs.selectedIndex = tab === 'dataset' ? 1 : 0;
    this.update({ tab });
  }

  private setStatus(text: string, kind: 'info' | 'busy' | 'error' = 'info'): void {
    this.statusLine.textContent = text;
    this.statusLine.dataset.kind = kind;
  }

  /** Clamps and applies layers A and B (negative counts from the end), then asks for their pictures. */
  private setLayers(a: number, b: number, notify = true): void {
    const depth = this.depth;
    if (depth <= 0) return;
    const clamp = (l: number) => Math.min(depth - 1, Math.max(0, l < 0 ? depth + l : l));
    a = clamp(a);
    b = clamp(b);
    const changed = a !== this.state.a || b !== this.state.b;
    this.update({ a, b });
    for (const which of ['a', 'b'] as const) {
      const v = which === 'a' ? a : b;
      this.sliders[which].max = String(depth - 1);
      this.sliders[which].value = String(v);
      this.sliders[which].disabled = false;
      this.outputs[which].textContent = `${v} / ${depth - 1}`;
    }
    document.body.dataset.a = String(a);
    document.body.dataset.b = String(b);
    this.image.render();
    this.dataset.render();
    if (notify && changed) this.sendLayers();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const path = e.composedPath();
    if (path.some((n) => n instanceof HTMLElement && (n.tagName === 'VSCODE-TEXTFIELD' || n.tagName === 'TEXTAREA' || (n instanceof HTMLInputElement && n.type === 'text')))) return;
    const step: Record<string, [number, number]> = { '[': [-1, 0], ']': [1, 0], '{': [0, -1], '}': [0, 1] };
    const d = step[e.key];
    if (!d) return;
    e.preventDefault();
    this.setLayers(this.a + d[0], this.b + d[1]);
  }

  private onMessage(m: ExtensionToLayerPanel): void {
    if (typeof m !== 'object' || m === null || typeof m.type !== 'string') return;
    switch (m.type) {
      case 'model':
        this.model = m.model;
        document.body.dataset.model = m.model.state;
        if (m.model.state === 'ready') {
          if (this.statusLine.dataset.kind !== 'busy') this.setStatus('');
          this.setLayers(this.state.a, this.state.b, false);
        } else {
          this.setStatus(`Model ${m.model.state}${m.model.message ? `: ${m.model.message}` : ''}`, m.model.state === 'error' || m.model.state === 'blocked' ? 'error' : 'busy');
        }
        return;
      case 'lastImage':
        this.lastButton.hidden = !m.image;
        this.lastButton.textContent = m.name ? `Last: ${m.name.split(/[\\/]/).pop()}` : 'Last image';
        this.lastButton.title = m.name ? `Compare the layers of ${m.name}` : '';
        return;
      case 'busy':
        this.setStatus(m.message ?? '', m.message ? 'busy' : 'info');
        return;
      case 'error':
        this.setStatus(m.message, 'error');
        return;
      case 'notice':
        this.setStatus(m.message);
        return;
      case 'image':
        this.model = { ...this.model, state: 'ready', depth: m.data.model.depth, heads: m.data.model.heads };
        this.imageName.textContent = m.name;
        this.imageName.title = m.image;
        document.body.dataset.image = m.name;
        this.setStatus('');
        // Another image than the one shown brings the Image tab forward; a reloaded page keeps its tab.
        if (this.image.image !== undefined && this.image.image !== m.image) this.selectTab('image');
        this.image.setImage(m);
        this.setLayers(m.a, m.b, false);
        return;
      case 'layers':
        this.image.setPictures(m);
        return;
      case 'rollout':
        this.image.setRollout(m);
        return;
      case 'showDataset':
        this.selectTab('dataset');
        return;
      case 'datasetSource':
        this.dataset.setSource(m.source);
        return;
      case 'dataset':
        this.dataset.onDataset(m);
        return;
    }
  }
}
