// One image: the input, its PCA map and rollout; layers A and B side by side (heads, merged heads,
// DINO masks, rollout through the layer, the numbers); every measure across layers; the ISTA codes of
// A and B (histograms overlaid, zeros per token).
import type { ExtensionToLayerPanel, LayerPictures, LayerResult, PanelImageResult, PanelRolloutResult } from '../server/protocol';
import { AcrossLayersChart, HistogramChart, ZerosChart } from './charts';
import { debounce, figure, h, setImage } from './dom';
import { format, MEASURES, percent } from './measures';
import type { Shared } from './shared';
import { post } from './vscodeApi';

type ImageMessage = Extract<ExtensionToLayerPanel, { type: 'image' }>;

/** Layer A's or B's column: heading, numbers, pictures. */
class LayerColumn {
  readonly el: HTMLElement;
  private readonly index: HTMLElement;
  private readonly values = new Map<string, HTMLElement>();
  private readonly merged = figure('big merged', 'CLS attention, heads merged');
  private readonly mask = figure('big mask', 'DINO 0.6 mask (heads merged)');
  private readonly rollout = figure('big rollout', 'attention rollout through this layer');
  private readonly heads: HTMLElement;
  private headFigures: ReturnType<typeof figure>[] = [];

  constructor(readonly which: 'a' | 'b') {
    this.index = h('span', { class: 'layer-index' }, '–');
    const table = h('table', { class: 'measures' });
    const body = h('tbody');
    table.append(body);
    for (const m of MEASURES) {
      const value = h('td', { class: 'value', 'data-measure': m.key });
      this.values.set(m.key, value);
      body.append(h('tr', { title: m.description }, h('th', { scope: 'row' }, m.short), value));
    }
    const zeros = h('td', { class: 'value', 'data-measure': 'zeroCount' });
    this.values.set('zeroCount', zeros);
    body.append(h('tr', { title: 'exact zeros in the ISTA output (tokens × code width: dim, or 4 dim for CRATE-alpha)' }, h('th', { scope: 'row' }, 'zeros'), zeros));
    this.heads = h('div', { class: 'heads', role: 'list', 'aria-label': 'heads' });
    this.el = h('div', { class: `layer-col ${which}`, id: `col-${which}` },
      h('h3', {}, h('span', { class: `badge ${which}` }, which.toUpperCase()), ' layer ', this.index),
      table,
      h('div', { class: 'figures three' }, this.merged.el, this.mask.el, this.rollout.el),
      h('h4', { class: 'caption heads-caption' }, 'heads'),
      this.heads,
    );
  }

  show(layer: LayerResult | undefined, dimTokens: number, pictures: LayerPictures | undefined, rollout: string | undefined, headMasks: boolean): void {
    if (!layer) return;
    this.index.textContent = String(layer.index);
    for (const m of MEASURES) {
      const td = this.values.get(m.key)!;
      td.textContent = format(layer[m.key], m.digits);
      td.dataset.value = String(layer[m.key]);
    }
    const zeros = this.values.get('zeroCount')!;
    zeros.textContent = `${layer.zeroCount} of ${dimTokens}`;
    zeros.dataset.value = String(layer.zeroCount);
    // Pictures of another layer stay (dimmed) until this layer's arrive.
    const fresh = pictures?.index === layer.index;
    this.el.classList.toggle('stale', !fresh);
    this.el.dataset.layer = String(layer.index);
    this.el.dataset.picturesLayer = pictures ? String(pictures.index) : '';
    if (pictures) {
      setImage(this.merged.img, pictures.merged);
      setImage(this.mask.img, pictures.mask);
      const srcs = headMasks ? pictures.headMasks : pictures.heads;
      if (this.headFigures.length !== srcs.length) {
        // Rows of equal length: as many columns as heads up to 8 (4 in a narrow view), else a divisor.
        const n = srcs.length;
        const divisor = (options: number[], fallback: number) => options.find((d) => n % d === 0) ?? fallback;
        this.heads.style.setProperty('--cols', String(n <= 8 ? n : divisor([8, 7, 6, 5, 4], 6)));
        this.heads.style.setProperty('--cols-narrow', String(n <= 4 ? n : divisor([4, 3], 4)));
        this.headFigures = srcs.map((_, i) => figure('head', `head ${i}`));
        this.heads.replaceChildren(...this.headFigures.map((f) => { f.el.setAttribute('role', 'listitem'); return f.el; }));
      }
      srcs.forEach((src, i) => {
        setImage(this.headFigures[i].img, src);
        this.headFigures[i].img.alt = `head ${i}${headMasks ? ', DINO mask' : ''}`;
      });
    }
    setImage(this.rollout.img, rollout);
    this.rollout.caption.textContent = `rollout through layer ${layer.index}`;
  }
}

export class ImageTab {
  readonly el: HTMLElement;
  private current: ImageMessage | undefined;
  private pictures = new Map<number, LayerPictures>();
  private rollout: PanelRolloutResult | undefined;
  /** The pictures each column shows (possibly of the previous layer, dimmed, while the new ones come). */
  private shownPictures: { a?: LayerPictures; b?: LayerPictures } = {};
  private readonly columns = { a: new LayerColumn('a'), b: new LayerColumn('b') };
  private readonly input = figure('big input', 'input (as the model sees it)');
  private readonly pca = figure('big pca', 'PCA of the last layer (3 components → RGB)');
  private readonly rolloutLast = figure('big rollout-last', 'attention rollout through all layers');
  private readonly predictions = h('p', { class: 'predictions note', id: 'predictions' });
  private readonly modelLine = h('p', { class: 'model-line note' });
  private readonly empty: HTMLElement;
  private readonly content: HTMLElement;
  private readonly across = new Map<string, AcrossLayersChart>();
  private readonly histogram: HistogramChart;
  private readonly zeros: ZerosChart;
  private readonly fusion: HTMLElement & { value: string };
  private readonly discard: HTMLInputElement;
  private readonly discardValue = h('output', { for: 'rollout-discard', class: 'slider-value' });
  private readonly headMasks: HTMLElement & { checked: boolean };

  constructor(private readonly shared: Shared) {
    const saved = shared.saved;
    this.fusion = h('vscode-single-select', { id: 'rollout-fusion', 'aria-label': 'rollout head fusion' },
      ...['mean', 'max', 'min'].map((f) => h('vscode-option', { value: f, selected: (saved.fusion ?? 'mean') === f }, f))) as unknown as HTMLElement & { value: string };
    this.discard = h('input', { type: 'range', id: 'rollout-discard', min: 0, max: 0.95, step: 0.05, value: saved.discard ?? 0, 'aria-label': 'rollout discard ratio' });
    this.discardValue.textContent = Number(this.discard.value).toFixed(2);
    const sendRollout = debounce(() => {
      const fusion = this.fusion.value as 'mean' | 'max' | 'min';
      const discard = Math.round(Number(this.discard.value) * 100) / 100;
      shared.update({ fusion, discard });
      post({ type: 'rollout', fusion, discard });
    }, 120);
    this.fusion.addEventListener('change', sendRollout);
    this.discard.addEventListener('input', () => { this.discardValue.textContent = Number(this.discard.value).toFixed(2); sendRollout(); });

    this.headMasks = h('vscode-checkbox', { id: 'head-masks', checked: saved.headMasks ?? false }, 'DINO masks per head') as unknown as HTMLElement & { checked: boolean };
    this.headMasks.addEventListener('change', () => { shared.update({ headMasks: this.headMasks.checked }); this.renderColumns(); });

    const csv = h('vscode-button', { id: 'export-csv', secondary: true, title: 'The numbers of every layer as CSV' }, 'CSV');
    const json = h('vscode-button', { id: 'export-json', secondary: true, title: 'The whole analysis (and the rollout shown) as JSON' }, 'JSON');
    csv.addEventListener('click', () => post({ type: 'exportData', scope: 'image', format: 'csv' }));
    json.addEventListener('click', () => post({ type: 'exportData', scope: 'image', format: 'json' }));
    const overview = shared.card('overview', 'Image', [
      h('div', { class: 'figures three' }, this.input.el, this.pca.el, this.rolloutLast.el),
      this.predictions,
      this.modelLine,
      h('div', { class: 'controls no-export' },
        h('label', { for: 'rollout-fusion' }, 'rollout: heads fused by'), this.fusion,
        h('label', { for: 'rollout-discard' }, 'discard'), this.discard, this.discardValue),
    ], [csv, json]);
    const compare = shared.card('layers', 'Layers A and B', [
      h('div', { class: 'columns' }, this.columns.a.el, this.columns.b.el),
    ], [this.headMasks]);

    const charts: HTMLElement[] = [];
    for (const m of MEASURES) {
      const canvas = h('canvas', { id: `chart-${m.key}` });
      charts.push(h('div', { class: 'chart' }, h('h3', { title: m.description }, m.title, h('span', { class: 'caption' }, ` ${m.description}`)), h('div', { class: 'chart-box' }, canvas)));
      this.across.set(m.key, new AcrossLayersChart(canvas, m.title, m.digits));
    }
    const acrossCard = shared.card('across', 'Across layers', [h('div', { class: 'charts' }, ...charts)]);

    const histCanvas = h('canvas', { id: 'chart-histogram' });
    const zerosCanvas = h('canvas', { id: 'chart-zeros' });
    this.histogram = new HistogramChart(histCanvas, 'entries');
    this.zeros = new ZerosChart(zerosCanvas);
    const codes = shared.card('codes', 'ISTA codes of A and B', [h('div', { class: 'charts two' },
      h('div', { class: 'chart' }, h('h3', {}, 'Activation histogram', h('span', { class: 'caption' }, ' non-zero entries; zeros counted apart')), h('div', { class: 'chart-box' }, histCanvas)),
      h('div', { class: 'chart' }, h('h3', {}, 'Zeros per token', h('span', { class: 'caption' }, ' fraction of each token\'s code that is zero')), h('div', { class: 'chart-box' }, zerosCanvas)),
    )]);

    this.empty = h('div', { class: 'empty-state', id: 'image-empty' },
      h('p', {}, 'Pick an image to compare its layers: ', h('strong', {}, 'Pick image…'), ' above, the last image you hovered or analysed, or ',
        h('strong', {}, 'Compare Layers'), ' in the Explorer\'s context menu.'),
      h('p', { class: 'note' }, 'Keys: [ and ] step layer A, { and } step layer B; the sliders take the arrow keys.'));
    this.content = h('div', { class: 'image-content', hidden: true }, overview, compare, acrossCard, codes);
    this.el = h('div', { class: 'tab-body' }, this.empty, this.content);
  }

  get image(): string | undefined { return this.current?.image; }
  get data(): PanelImageResult | undefined { return this.current?.data; }

  setImage(m: ImageMessage): void {
    if (this.current?.image !== m.image) {
      this.pictures.clear();
      this.rollout = undefined;
      this.shownPictures = {};
      setImage(this.rolloutLast.img, undefined);
    }
    // Same image again (a new model, or a reload): old pictures are shown dimmed until the new arrive.
    this.current = m;
    this.empty.hidden = true;
    this.content.hidden = false;
    const { data } = m;
    setImage(this.input.img, data.view);
    setImage(this.pca.img, data.pca);
    const top = data.result.top ?? [];
    this.predictions.textContent = top.slice(0, 3).map((t) => `${t.label} ${percent(t.probability)}`).join(' · ');
    this.predictions.dataset.top = top[0]?.label ?? '';
    const mdl = data.model;
    const checkpoint = mdl.checkpoint.split(/[\\/]/).pop() ?? mdl.checkpoint;
    this.modelLine.textContent = `${checkpoint} · ${mdl.depth} layers · ${mdl.heads} heads · ${mdl.imageSize}px in ${mdl.patchSize}px patches`;
    this.render();
  }

  setPictures(m: Extract<ExtensionToLayerPanel, { type: 'layers' }>): void {
    if (m.image !== this.current?.image) return;
    for (const p of m.pictures) this.pictures.set(p.index, p);
    this.renderColumns();
  }

  setRollout(m: Extract<ExtensionToLayerPanel, { type: 'rollout' }>): void {
    if (m.image !== this.current?.image) return;
    this.rollout = m.rollout;
    setImage(this.rolloutLast.img, m.rollout.pictures[m.rollout.pictures.length - 1]);
    this.rolloutLast.caption.textContent = `rollout through all layers (${m.rollout.fusion}, discard ${m.rollout.discard})`;
    this.renderColumns();
  }

  /** Layers A or B changed: numbers and charts now, pictures when they arrive. */
  render(): void {
    const data = this.current?.data;
    if (!data) return;
    const layers = data.result.layers ?? [];
    const { a, b } = this.shared;
    for (const m of MEASURES) this.across.get(m.key)!.update(layers.map((l) => l[m.key]), { a, b });
    const la = layers[a], lb = layers[b];
    if (la && lb) {
      const entries = (l: LayerResult) => l.zerosPerToken.length * data.model.codeDim;
      this.histogram.update([
        { label: `A · layer ${a} (zeros ${percent(la.histogram.zeros / entries(la))})`, which: 'a', histogram: la.histogram },
        { label: `B · layer ${b} (zeros ${percent(lb.histogram.zeros / entries(lb))})`, which: 'b', histogram: lb.histogram },
      ]);
      this.zeros.update([
        { label: `A · layer ${a}`, which: 'a', zeros: la.zerosPerToken },
        { label: `B · layer ${b}`, which: 'b', zeros: lb.zerosPerToken },
      ], data.model.codeDim);
    }
    this.renderColumns();
  }

  private renderColumns(): void {
    const data = this.current?.data;
    if (!data) return;
    const layers = data.result.layers ?? [];
    const cells = (l: LayerResult | undefined) => (l ? l.zerosPerToken.length * data.model.codeDim : 0);
    for (const which of ['a', 'b'] as const) {
      const index = this.shared[which];
      const layer = layers[index];
      const col = this.columns[which];
      const pictures = this.pictures.get(index) ?? this.lastShown(which);
      col.show(layer, cells(layer), pictures, this.rollout?.pictures[index], this.headMasks.checked);
      if (pictures) this.shownPictures[which] = pictures;
    }
  }

  private lastShown(which: 'a' | 'b'): LayerPictures | undefined { return this.shownPictures[which]; }
}
