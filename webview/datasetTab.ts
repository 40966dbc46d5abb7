// A dataset (a folder or a glob): each measure per layer as mean, ±1 std, min and max; the pooled
// activation histograms of layers A and B; the images sorted by a measure. Results arrive batch by
// batch and can be cancelled.
import type { DatasetAggregate, DatasetPhase, DatasetRow, ExtensionToLayerPanel } from '../server/protocol';
import { HistogramChart, SpreadChart } from './charts';
import { h } from './dom';
import { format, MEASURES, percent } from './measures';
import type { Shared } from './shared';
import { post } from './vscodeApi';

type DatasetMessage = Extract<ExtensionToLayerPanel, { type: 'dataset' }>;
type Select = HTMLElement & { value: string };

const SHOWN_ROWS = 100;

export class DatasetTab {
  readonly el: HTMLElement;
  private rows: DatasetRow[] = [];
  private aggregate: DatasetAggregate | undefined;
  private phase: DatasetPhase | undefined;
  private readonly sourceField: HTMLElement & { value: string };
  private readonly runButton: HTMLElement;
  private readonly cancelButton: HTMLElement;
  private readonly progress: HTMLElement & { value?: number; max: number; indeterminate: boolean };
  private readonly status = h('p', { class: 'note', id: 'ds-status', role: 'status', 'aria-live': 'polite' }, 'Analyse a folder or a glob of images: every measure of every layer over all of them.');
  private readonly spreads = new Map<string, SpreadChart>();
  private readonly histogram: HistogramChart;
  private readonly histogramNote = h('span', { class: 'caption' });
  private readonly sortMeasure: Select;
  private readonly sortLayer: Select;
  private readonly sortOrder: Select;
  private readonly tableBody = h('tbody');
  private readonly valueHeader = h('th', { scope: 'col', class: 'num' }, 'value');
  private readonly tableNote = h('p', { class: 'note', id: 'ds-table-note' });
  private readonly failures = h('ul', { class: 'failures note', id: 'ds-failures' });
  private readonly results: HTMLElement;

  constructor(private readonly shared: Shared, onOpenImage: () => void) {
    const saved = shared.saved;
    this.sourceField = h('vscode-textfield', { id: 'ds-source', placeholder: 'folder or glob, e.g. images or images/**/*.png', 'aria-label': 'folder or glob' }) as unknown as HTMLElement & { value: string };
    this.sourceField.value = saved.source ?? '';
    const folder = h('vscode-button', { id: 'ds-folder', secondary: true, title: 'Choose a folder' }, 'Folder…');
    this.runButton = h('vscode-button', { id: 'ds-run' }, 'Analyse');
    this.cancelButton = h('vscode-button', { id: 'ds-cancel', secondary: true, disabled: true }, 'Cancel');
    this.progress = h('vscode-progress-bar', { id: 'ds-progress', 'aria-label': 'dataset progress', hidden: true }) as unknown as DatasetTab['progress'];
    const run = () => {
      const source = this.sourceField.value.trim();
      if (!source) return;
      shared.update({ source });
      post({ type: 'runDataset', source });
    };
    this.runButton.addEventListener('click', run);
    this.sourceField.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') run(); });
    folder.addEventListener('click', () => post({ type: 'pickFolder' }));
    this.cancelButton.addEventListener('click', () => post({ type: 'cancelDataset' }));
    const csv = h('vscode-button', { id: 'ds-export-csv', secondary: true, title: 'Every image\'s measures per layer as CSV' }, 'CSV');
    const json = h('vscode-button', { id: 'ds-export-json', secondary: true, title: 'Aggregates and every image as JSON' }, 'JSON');
    csv.addEventListener('click', () => post({ type: 'exportData', scope: 'dataset', format: 'csv' }));
    json.addEventListener('click', () => post({ type: 'exportData', scope: 'dataset', format: 'json' }));

    const sourceCard = h('section', { class: 'card', id: 'card-ds-source', 'aria-label': 'dataset' },
      h('div', { class: 'source-row' }, this.sourceField, folder, this.runButton, this.cancelButton, h('span', { class: 'spacer' }), csv, json),
      this.progress, this.status);

    const charts: HTMLElement[] = [];
    for (const m of MEASURES) {
      const canvas = h('canvas', { id: `ds-chart-${m.key}` });
      charts.push(h('div', { class: 'chart' }, h('h3', { title: m.description }, m.title, h('span', { class: 'caption' }, ` ${m.description}`)), h('div', { class: 'chart-box' }, canvas)));
      this.spreads.set(m.key, new SpreadChart(canvas, m.title, m.digits));
    }
    const across = shared.card('ds-across', 'Across layers, over the dataset', [h('div', { class: 'charts' }, ...charts)]);

    const histCanvas = h('canvas', { id: 'ds-chart-histogram' });
    this.histogram = new HistogramChart(histCanvas, 'entries per image');
    const hist = shared.card('ds-histogram', 'Pooled activation histograms of A and B', [
      h('div', { class: 'chart wide' }, h('h3', {}, 'Activation histogram', this.histogramNote), h('div', { class: 'chart-box' }, histCanvas)),
    ]);

    const select = (id: string, label: string, options: [string, string][], value: string) =>
      h('vscode-single-select', { id, 'aria-label': label }, ...options.map(([v, text]) => h('vscode-option', { value: v, selected: v === value }, text))) as unknown as Select;
    this.sortMeasure = select('ds-sort-measure', 'sort by measure', MEASURES.map((m, i) => [String(i), m.title]), String(saved.sortMeasure ?? 0));
    this.sortLayer = select('ds-sort-layer', 'at layer', [['a', 'layer A'], ['b', 'layer B']], saved.sortLayer ?? 'b');
    this.sortOrder = select('ds-sort-order', 'order', [['desc', 'highest first'], ['asc', 'lowest first']], saved.sortDescending === false ? 'asc' : 'desc');
    const resort = () => {
      shared.update({ sortMeasure: Number(this.sortMeasure.value), sortLayer: this.sortLayer.value === 'a' ? 'a' : 'b', sortDescending: this.sortOrder.value !== 'asc' });
      this.renderTable();
    };
    for (const s of [this.sortMeasure, this.sortLayer, this.sortOrder]) s.addEventListener('change', resort);
    const table = h('table', { class: 'ranking', id: 'ds-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, '#'), h('th', { scope: 'col' }, 'image'), h('th', { scope: 'col' }, 'predicted'), this.valueHeader)),
      this.tableBody);
    this.tableBody.addEventListener('click', (e) => {
      const button = (e.target as Element).closest<HTMLButtonElement>('button[data-image]');
      if (!button?.dataset.image) return;
      post({ type: 'openImage', image: button.dataset.image });
      onOpenImage();
    });
    const sorted = shared.card('ds-sorted', 'Images sorted by a measure', [table, this.tableNote, this.failures], [
      h('span', { class: 'controls' }, h('label', { for: 'ds-sort-measure' }, 'by'), this.sortMeasure, h('label', { for: 'ds-sort-layer' }, 'at'), this.sortLayer, this.sortOrder),
    ]);
    this.results = h('div', { class: 'dataset-results', hidden: true }, across, hist, sorted);
    this.el = h('div', { class: 'tab-body' }, sourceCard, this.results);
  }

  setSource(source: string): void {
    this.sourceField.value = source;
    this.shared.update({ source });
  }

  onDataset(m: DatasetMessage): void {
    if (m.reset) this.rows = m.rows.slice();
    else this.rows.push(...m.rows);
    this.aggregate = m.aggregate;
    this.phase = m.phase;
    if (m.reset && this.sourceField.value.trim() === '') this.setSource(m.source);
    const running = m.phase === 'running';
    this.runButton.toggleAttribute('disabled', running);
    this.cancelButton.toggleAttribute('disabled', !running);
    this.progress.hidden = !running;
    if (running) {
      if (m.total > 0) { this.progress.max = m.total; this.progress.value = m.done; this.progress.indeterminate = false; } else this.progress.indeterminate = true;
    }
    const failed = m.aggregate.failed;
    const counts = `${m.aggregate.images} of ${m.total || '?'} images analysed${failed ? `, ${failed} failed` : ''}`;
    const text = {
      running: `Analysing ${m.source}: ${counts}…`,
      done: `${m.source}: ${counts}.`,
      cancelled: `${m.source}: cancelled after ${counts}.`,
      error: `${m.source}: ${m.message ?? 'failed'}${m.done ? ` (${counts})` : ''}`,
    }[m.phase];
    this.status.textContent = text;
    this.status.classList.toggle('error', m.phase === 'error');
    Object.assign(this.status.dataset, { phase: m.phase, done: String(m.done), total: String(m.total), images: String(m.aggregate.images), failed: String(failed) });
    this.results.hidden = m.aggregate.images === 0 && failed === 0;
    this.render();
  }

  get hasRows(): boolean { return this.rows.length > 0; }

  /** Layers A or B changed, or new numbers arrived. */
  render(): void {
    const agg = this.aggregate;
    if (!agg || agg.layers.length === 0) return;
    const { a, b } = this.shared;
    for (const m of MEASURES) this.spreads.get(m.key)!.update(agg.layers.map((l) => l[m.key]), { a, b });
    const la = agg.layers[a], lb = agg.layers[b];
    if (la && lb) {
      const perImage = agg.images > 0 ? 1 / agg.images : 1;
      const zeros = (l: typeof la) => {
        const nonZero = l.histogram.counts.reduce((s, c) => s + c, 0);
        return nonZero + l.histogram.zeros > 0 ? l.histogram.zeros / (nonZero + l.histogram.zeros) : 0;
      };
      this.histogram.update([
        { label: `A · layer ${a} (zeros ${percent(zeros(la))})`, which: 'a', histogram: la.histogram, scale: perImage },
        { label: `B · layer ${b} (zeros ${percent(zeros(lb))})`, which: 'b', histogram: lb.histogram, scale: perImage },
      ]);
      this.histogramNote.textContent = ` ${agg.images} images pooled; mean entries per image`;
    }
    this.renderTable();
  }

  private renderTable(): void {
    const measure = Math.min(MEASURES.length - 1, Math.max(0, Number(this.sortMeasure.value) || 0));
    const layer = this.sortLayer.value === 'a' ? this.shared.a : this.shared.b;
    const descending = this.sortOrder.value !== 'asc';
    const info = MEASURES[measure];
    this.valueHeader.textContent = `${info.short}, layer ${layer}`;
    const ok = this.rows.filter((r) => r.values?.[layer] !== undefined);
    const value = (r: DatasetRow) => r.values![layer][measure];
    ok.sort((x, y) => (descending ? value(y) - value(x) : value(x) - value(y)) || x.name.localeCompare(y.name));
    this.tableBody.replaceChildren(...ok.slice(0, SHOWN_ROWS).map((r, i) => h('tr', {},
      h('td', { class: 'num' }, i + 1),
      h('td', {}, h('button', { class: 'link', 'data-image': r.image, title: `Compare the layers of ${r.name}` }, r.name)),
      h('td', {}, r.label ? `${r.label} ${percent(r.probability ?? 0)}` : ''),
      h('td', { class: 'num value', 'data-value': value(r) }, format(value(r), info.digits)),
    )));
    this.tableNote.textContent = ok.length > SHOWN_ROWS ? `showing ${SHOWN_ROWS} of ${ok.length} images` : `${ok.length} images`;
    this.tableNote.dataset.rows = String(ok.length);
    const failed = this.rows.filter((r) => r.error);
    this.failures.replaceChildren(...failed.slice(0, 50).map((r) => h('li', { title: r.image }, `${r.name}: ${r.error}`)));
    if (this.phase === undefined) this.tableNote.textContent = '';
  }
}
