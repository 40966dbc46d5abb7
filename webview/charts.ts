// The panel's charts (Chart.js, drawn on canvases): a measure across layers for one image, its spread
// over a dataset, activation histograms of two layers overlaid, and zeros per token. Layers A and B
// are marked on every chart across layers. Colours and fonts follow the editor's theme.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartDataset, type Plugin, type ScriptableContext,
} from 'chart.js';
import type { HistogramResult, Spread } from '../server/protocol';
import { readTheme, withAlpha, type Theme } from './theme';

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

let theme: Theme = readTheme();
const charts = new Set<PanelChart>();

function applyDefaults(t: Theme): void {
  Chart.defaults.color = t.muted;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = t.fontFamily;
  Chart.defaults.font.size = t.fontSize;
}
applyDefaults(theme);

/** Redraws every chart in the new theme's colours. */
export function setChartTheme(t: Theme): void {
  theme = t;
  applyDefaults(t);
  for (const c of charts) c.render();
}

export interface Markers { a?: number; b?: number }

/** Dashed vertical lines labelled A and B at the layers chosen. */
function markerPlugin(get: () => Markers): Plugin<'line'> {
  return {
    id: 'layerMarkers',
    afterDatasetsDraw(chart) {
      const { a, b } = get();
      const x = chart.scales.x;
      const area = chart.chartArea;
      if (!x || !area) return;
      const ctx = chart.ctx;
      const marks: [number, string, string][] = [];
      if (a !== undefined) marks.push([a, a === b ? 'A = B' : 'A', theme.a]);
      if (b !== undefined && b !== a) marks.push([b, 'B', theme.b]);
      for (const [value, label, color] of marks) {
        const px = x.getPixelForValue(value);
        if (!(px >= area.left - 1 && px <= area.right + 1)) continue;
        ctx.save();
        ctx.strokeStyle = color;
        ctx.lineWidth = theme.lineWidth;
        ctx.setLineDash([5, 4]);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = `600 ${theme.fontSize}px ${theme.fontFamily}`;
        const w = ctx.measureText(label).width + 8;
        const left = Math.min(area.right - w, Math.max(area.left, px - w / 2));
        ctx.fillStyle = color;
        ctx.fillRect(left, area.top, w, theme.fontSize + 6);
        ctx.fillStyle = theme.background;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'middle';
        ctx.fillText(label, left + 4, area.top + (theme.fontSize + 6) / 2);
        ctx.restore();
      }
    },
  };
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

/** A chart owning its canvas; subclasses keep their inputs and rebuild data and colours in render(). */
abstract class PanelChart {
  readonly chart: Chart;
  protected markers: Markers = {};

  constructor(readonly canvas: HTMLCanvasElement, private readonly type: 'line' | 'bar', withMarkers: boolean) {
    canvas.setAttribute('role', 'img');
    this.chart = new Chart(canvas, {
      type,
      data: { datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2 } }, tooltip: { enabled: true } },
      },
      plugins: withMarkers ? [markerPlugin(() => this.markers) as unknown as Plugin] : [],
    });
    charts.add(this);
  }

  setMarkers(markers: Markers): void {
    this.markers = markers;
    this.render();
  }

  abstract render(): void;

  protected describe(text: string): void {
    this.canvas.setAttribute('aria-label', text);
  }

  protected layerAxis(depth: number) {
    return {
      type: 'linear' as const,
      min: -0.25,
      max: Math.max(0, depth - 1) + 0.25,
      title: { display: true, text: 'layer' },
      grid: { color: theme.grid },
      ticks: { stepSize: 1, color: theme.muted },
      // One tick per layer, whatever the padding at both ends.
      afterBuildTicks: (axis: { ticks: { value: number }[] }) => { axis.ticks = Array.from({ length: Math.max(0, depth) }, (_, value) => ({ value })); },
    };
  }

  protected valueAxis(title: string, beginAtZero = false) {
    return { type: 'linear' as const, beginAtZero, title: { display: !!title, text: title }, grid: { color: theme.grid }, ticks: { color: theme.muted, maxTicksLimit: 6 } };
  }

  protected legend(display: boolean): void {
    const legend = this.chart.options.plugins!.legend!;
    legend.display = display;
    legend.labels = { boxWidth: 12, boxHeight: this.type === 'bar' ? 8 : 2, color: theme.foreground };
  }

  destroy(): void {
    charts.delete(this);
    this.chart.destroy();
  }
}

/** One image: a measure per layer, A and B marked. */
export class AcrossLayersChart extends PanelChart {
  private values: number[] = [];

  constructor(canvas: HTMLCanvasElement, private readonly title: string, private readonly digits: number) {
    super(canvas, 'line', true);
  }

  update(values: number[], markers: Markers): void {
    this.values = values;
    this.markers = markers;
    this.render();
  }

  render(): void {
    const { a, b } = this.markers;
    const colourAt = (ctx: ScriptableContext<'line'>) => (ctx.dataIndex === a ? theme.a : ctx.dataIndex === b ? theme.b : theme.foreground);
    const dataset: ChartDataset<'line'> = {
      label: this.title,
      data: this.values.map((y, x) => ({ x, y })),
      borderColor: withAlpha(theme.foreground, 0.75),
      borderWidth: theme.lineWidth,
      pointRadius: (ctx) => (ctx.dataIndex === a || ctx.dataIndex === b ? 5 : 2.5),
      pointBackgroundColor: colourAt,
      pointBorderColor: colourAt,
      tension: 0,
    };
    this.chart.data.datasets = [dataset as ChartDataset];
    this.chart.options.scales = { x: this.layerAxis(this.values.length), y: this.valueAxis('') };
    this.legend(false);
    this.chart.update('none');
    this.describe(`${this.title} across layers: ${this.values.map((v) => fixed(v, this.digits)).join(', ')}`);
  }
}

/** A dataset: a measure's mean per layer with a ±1 std band and its min and max, A and B marked. */
export class SpreadChart extends PanelChart {
  private spreads: Spread[] = [];

  constructor(canvas: HTMLCanvasElement, private readonly title: string, private readonly digits: number) {
    super(canvas, 'line', true);
  }

  update(spreads: Spread[], markers: Markers): void {
    this.spreads = spreads;
    this.markers = markers;
    this.render();
  }

  render(): void {
    const s = this.spreads;
    const line = (label: string, ys: number[], color: string, extra: Partial<ChartDataset<'line'>> = {}): ChartDataset<'line'> => ({
      label, data: ys.map((y, x) => ({ x, y })), borderColor: color, backgroundColor: color, borderWidth: theme.lineWidth, pointRadius: 2, tension: 0, ...extra,
    });
    const band = withAlpha(theme.c, 0.22);
    this.chart.data.datasets = [
      line('mean − std', s.map((v) => v.mean - v.std), 'transparent', { pointRadius: 0, borderWidth: 0 }),
      line('± 1 std', s.map((v) => v.mean + v.std), 'transparent', { pointRadius: 0, borderWidth: 0, fill: '-1', backgroundColor: band }),
      line('mean', s.map((v) => v.mean), theme.c),
      line('min', s.map((v) => v.min), withAlpha(theme.muted, 0.9), { borderDash: [3, 3], pointRadius: 0, borderWidth: 1 }),
      line('max', s.map((v) => v.max), withAlpha(theme.muted, 0.9), { borderDash: [3, 3], pointRadius: 0, borderWidth: 1 }),
    ] as ChartDataset[];
    this.chart.options.scales = { x: this.layerAxis(s.length), y: this.valueAxis('') };
    this.legend(true);
    const legend = this.chart.options.plugins!.legend!;
    legend.labels = { ...legend.labels, boxHeight: 8, filter: (item) => item.text !== 'mean − std' };
    this.chart.update('none');
    this.describe(`${this.title} over the dataset, mean per layer: ${s.map((v) => `${fixed(v.mean, this.digits)} ± ${fixed(v.std, this.digits)}`).join(', ')}`);
  }
}

export interface HistogramSeries { label: string; which: 'a' | 'b'; histogram: HistogramResult; scale?: number }

/** Histograms of non-zero activations over (0, max], overlaid as stepped areas. */
export class HistogramChart extends PanelChart {
  private series: HistogramSeries[] = [];

  constructor(canvas: HTMLCanvasElement, private readonly yTitle: string) {
    super(canvas, 'line', false);
  }

  update(series: HistogramSeries[]): void {
    this.series = series;
    this.render();
  }

  render(): void {
    this.chart.data.datasets = this.series.map((s): ChartDataset<'line'> => {
      const color = s.which === 'a' ? theme.a : theme.b;
      const n = s.histogram.counts.length;
      const w = n > 0 ? s.histogram.max / n : 0;
      const scale = s.scale ?? 1;
      return {
        label: s.label,
        // Bin centres, plus both ends of the range so that the steps cover (0, max].
        data: n > 0 ? [
          { x: 0, y: s.histogram.counts[0] * scale },
          ...s.histogram.counts.map((c, i) => ({ x: (i + 0.5) * w, y: c * scale })),
          { x: s.histogram.max, y: s.histogram.counts[n - 1] * scale },
        ] : [],
        borderColor: color,
        backgroundColor: withAlpha(color, 0.18),
        borderWidth: theme.lineWidth,
        fill: 'origin',
        stepped: 'middle',
        pointRadius: 0,
      };
    }) as ChartDataset[];
    this.chart.options.scales = {
      x: { type: 'linear', min: 0, title: { display: true, text: 'activation (non-zero entries of the ISTA output)' }, grid: { color: theme.grid }, ticks: { color: theme.muted, maxTicksLimit: 8 } },
      y: this.valueAxis(this.yTitle, true),
    };
    this.legend(true);
    this.chart.options.interaction = { mode: 'nearest', intersect: false, axis: 'x' };
    this.chart.update('none');
    this.describe(`Histogram of non-zero ISTA activations: ${this.series.map((s) => `${s.label}, max ${fixed(s.histogram.max, 3)}`).join('; ')}`);
  }
}

export interface ZerosSeries { label: string; which: 'a' | 'b'; zeros: number[] }

/** Zero entries per token (fraction of the code's dimension), CLS first, as bars for A and B. */
export class ZerosChart extends PanelChart {
  private series: ZerosSeries[] = [];
  private dim = 1;

  constructor(canvas: HTMLCanvasElement) {
    super(canvas, 'bar', false);
  }

  update(series: ZerosSeries[], dim: number): void {
    this.series = series;
    this.dim = Math.max(1, dim);
    this.render();
  }

  render(): void {
    const tokens = this.series[0]?.zeros.length ?? 0;
    this.chart.data.labels = Array.from({ length: tokens }, (_, t) => (t === 0 ? 'CLS' : String(t)));
    this.chart.data.datasets = this.series.map((s): ChartDataset<'bar'> => {
      const color = s.which === 'a' ? theme.a : theme.b;
      return { label: s.label, data: s.zeros.map((z) => z / this.dim), backgroundColor: withAlpha(color, 0.75), borderColor: color, borderWidth: 1, barPercentage: 0.9, categoryPercentage: 0.85 };
    }) as unknown as ChartDataset[];
    this.chart.options.scales = {
      x: { type: 'category', title: { display: true, text: 'token (CLS, then patches row by row)' }, grid: { display: false }, ticks: { color: theme.muted, autoSkip: true, maxRotation: 0 } },
      y: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'zeros / dim' }, grid: { color: theme.grid }, ticks: { color: theme.muted, maxTicksLimit: 6 } },
    };
    this.legend(true);
    this.chart.options.interaction = { mode: 'index', intersect: false };
    this.chart.update('none');
    this.describe(`Zeros per token: ${this.series.map((s) => `${s.label}, CLS ${s.zeros[0] ?? 0} of ${this.dim}`).join('; ')}`);
  }
}

export type { PanelChart };
