// The numbers behind the layer comparison panel, free of the editor API: dataset aggregates, CSV and
// JSON exports, and the image a hover's command links refer to.
import {
  PANEL_MEASURES, type DatasetAggregate, type DatasetLayerAggregate, type DatasetRow, type HistogramResult, type ImageSummary,
  type ModelSummary, type PanelImageResult, type PanelRolloutResult, type Spread,
} from '../server/protocol';

/** Mean, sample standard deviation, min and max, updated one value at a time (Welford). */
export class RunningSpread {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.n++;
    const delta = value - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (value - this.mean);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  spread(): Spread {
    if (this.n === 0) return { mean: 0, std: 0, min: 0, max: 0 };
    return { mean: this.mean, std: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0, min: this.min, max: this.max };
  }
}

/**
 * Moves the counts of bins evenly splitting (0, fromMax] into `bins` bins evenly splitting (0, toMax]
 * (toMax >= fromMax), each count spread over the target bins in proportion to the overlap.
 */
export function rebin(counts: ArrayLike<number>, fromMax: number, toMax: number, bins: number, into = new Array<number>(bins).fill(0)): number[] {
  if (!(fromMax > 0) || !(toMax > 0)) return into;
  const wFrom = fromMax / counts.length, wTo = toMax / bins;
  for (let j = 0; j < counts.length; j++) {
    const c = counts[j];
    if (!c) continue;
    const lo = j * wFrom, hi = (j + 1) * wFrom;
    let k = Math.min(bins - 1, Math.floor(lo / wTo));
    for (; k < bins; k++) {
      const tLo = k * wTo, tHi = k === bins - 1 ? Infinity : (k + 1) * wTo;
      const overlap = Math.min(hi, tHi) - Math.max(lo, tLo);
      if (overlap > 0) into[k] += (c * overlap) / wFrom;
      if (tHi >= hi) break;
    }
  }
  return into;
}

/** A pooled histogram whose range grows with the largest value seen. */
export class PooledHistogram {
  private max = 0;
  private counts: number[] | undefined;
  private zeros = 0;

  add(h: HistogramResult): void {
    this.zeros += h.zeros;
    if (!(h.max > 0) || h.counts.length === 0) return;
    if (!this.counts) {
      this.counts = h.counts.slice();
      this.max = h.max;
      return;
    }
    if (h.max > this.max) {
      this.counts = rebin(this.counts, this.max, h.max, this.counts.length);
      this.max = h.max;
    }
    rebin(h.counts, h.max, this.max, this.counts.length, this.counts);
  }

  result(): HistogramResult {
    return { max: this.max, counts: (this.counts ?? []).map((c) => Math.round(c * 100) / 100), zeros: this.zeros };
  }
}

interface LayerAccumulator { spreads: RunningSpread[]; histogram: PooledHistogram }

/** Per-layer spreads and pooled histograms over the images of a dataset, added batch by batch. */
export class DatasetAggregator {
  private layers: LayerAccumulator[] = [];
  private images = 0;
  private failed = 0;

  add(summary: ImageSummary): void {
    if (summary.error || !summary.layers) {
      this.failed++;
      return;
    }
    this.images++;
    summary.layers.forEach((l, i) => {
      const acc = (this.layers[i] ??= { spreads: PANEL_MEASURES.map(() => new RunningSpread()), histogram: new PooledHistogram() });
      PANEL_MEASURES.forEach((m, k) => acc.spreads[k].add(l[m]));
      acc.histogram.add(l.histogram);
    });
  }

  snapshot(): DatasetAggregate {
    return {
      images: this.images,
      failed: this.failed,
      layers: this.layers.map((acc, index): DatasetLayerAggregate => ({
        index,
        sparsity: acc.spreads[0].spread(),
        reconstructionError: acc.spreads[1].spread(),
        istaResidual: acc.spreads[2].spread(),
        codingRate: acc.spreads[3].spread(),
        histogram: acc.histogram.result(),
      })),
    };
  }
}

/** The row a dataset table shows for one image summary. */
export function datasetRow(summary: ImageSummary, name: string): DatasetRow {
  if (summary.error || !summary.layers) return { image: summary.image, name, error: summary.error ?? 'not analysed' };
  return {
    image: summary.image,
    name,
    label: summary.top?.label,
    probability: summary.top?.probability,
    values: summary.layers.map((l) => PANEL_MEASURES.map((m) => l[m])),
  };
}

function csvField(value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csv = (rows: unknown[][]) => rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';

/** One line per layer of one image: the measures, the zero count and the rollout options shown. */
export function imageCsv(data: PanelImageResult): string {
  const header = ['image', 'layer', ...PANEL_MEASURES, 'zeroCount', 'histogramMax', 'predicted', 'probability'];
  const top = data.result.top?.[0];
  return csv([header, ...(data.result.layers ?? []).map((l) => [
    data.result.image, l.index, ...PANEL_MEASURES.map((m) => l[m]), l.zeroCount, l.histogram.max, top?.label, top?.probability,
  ])]);
}

export function imageJson(data: PanelImageResult, rollout: PanelRolloutResult | undefined): string {
  const { pictures: _pictures, ...numbers } = rollout ?? { pictures: [] };
  return JSON.stringify({ model: data.model, result: data.result, rollout: rollout ? numbers : undefined }, null, 2) + '\n';
}

/** One line per image: its prediction and every measure of every layer (columns `layerN.measure`). */
export function datasetCsv(rows: DatasetRow[], depth: number): string {
  const header = ['image', 'predicted', 'probability', 'error'];
  for (let l = 0; l < depth; l++) for (const m of PANEL_MEASURES) header.push(`layer${l}.${m}`);
  return csv([header, ...rows.map((r) => [r.image, r.label, r.probability, r.error, ...(r.values ?? []).flat()])]);
}

export function datasetJson(source: string, model: ModelSummary | undefined, aggregate: DatasetAggregate, rows: DatasetRow[]): string {
  return JSON.stringify({ source, model, measures: PANEL_MEASURES, aggregate, images: rows }, null, 2) + '\n';
}

/** The image a daemon hover is about, read from its command links (`command:crateLens.…?{"image": …}`). */
export function imageFromHover(markdown: string): string | undefined {
  const m = /command:crateLens\.(?:compareLayers|showHeads|pickLayer)\?([^\s)"]+)/.exec(markdown);
  if (!m) return undefined;
  try {
    const args = JSON.parse(decodeURIComponent(m[1])) as { image?: unknown };
    return typeof args.image === 'string' && args.image.length > 0 ? args.image : undefined;
  } catch {
    return undefined;
  }
}
