// Evaluation over a labelled set: accuracy, per-layer measure statistics, attention-mask IoU.
import { dinoMask, mergedPatchAttention } from '../analysis/attention';
import { layerMeasures } from '../analysis/measures';
import { centrePriorMask, foregroundMask, patchMaskIoU } from '../analysis/segmentation';
import type { Backend } from '../backend/types';
import type { EvalLayerStats, EvalReport, SegmentationStats, Spread } from '../protocol';
import { CancelledError, concatInputs, prepareBatch, type PreparedImage } from './analyze';
import type { LabelledImage } from './labelledSet';
import type { LoadedModel } from './loadModel';
import { modelSummary } from './summary';

export interface EvaluateOptions {
  batchSize?: number;
  /** Measure how the last layer's attention mask covers the foreground. */
  segmentation?: boolean;
  threshold?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Running mean, spread and range, in one pass. */
class Accumulator {
  private n = 0; private mean = 0; private m2 = 0; private min = Infinity; private max = -Infinity;
  add(v: number): void {
    this.n++;
    const d = v - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (v - this.mean);
    this.min = Math.min(this.min, v);
    this.max = Math.max(this.max, v);
  }
  get count(): number { return this.n; }
  spread(): Spread { return { mean: this.mean, std: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0, min: this.min, max: this.max }; }
}

const MEASURES = ['sparsity', 'reconstructionError', 'istaResidual', 'codingRate'] as const;

export async function evaluate(model: LoadedModel, backend: Backend, set: LabelledImage[], options: EvaluateOptions = {}): Promise<EvalReport> {
  const started = performance.now();
  const { config } = model;
  const batchSize = Math.max(1, options.batchSize ?? 64);
  const threshold = options.threshold ?? 0.6;
  const grid = config.imageSize / config.patchSize;
  const confusion = Array.from({ length: config.numClasses }, () => new Array<number>(config.numClasses).fill(0));
  const layerStats = Array.from({ length: config.depth }, () => Object.fromEntries(MEASURES.map((m) => [m, new Accumulator()])) as Record<(typeof MEASURES)[number], Accumulator>);
  const iou = new Accumulator(), prior = new Accumulator(), area = new Accumulator();
  const failed: EvalReport['failed'] = [];
  let correct = 0, images = 0;

  for (let start = 0; start < set.length; start += batchSize) {
    if (options.signal?.aborted) throw new CancelledError();
    const chunk = set.slice(start, start + batchSize);
    const slots = await prepareBatch(chunk.map((c) => c.path), config);
    const prepared: { image: PreparedImage; label: number }[] = [];
    slots.forEach((slot, i) => {
      if ('view' in slot) prepared.push({ image: slot, label: chunk[i].label });
      else failed.push({ image: slot.path, error: slot.error });
    });
    if (prepared.length === 0) continue;
    const capture = await backend.forward(concatInputs(prepared.map((p) => p.image)), prepared.length);
    prepared.forEach(({ image, label }, i) => {
      const logits = capture.logits.subarray(i * config.numClasses, (i + 1) * config.numClasses);
      let predicted = 0;
      for (let k = 1; k < logits.length; k++) if (logits[k] > logits[predicted]) predicted = k;
      images++;
      if (predicted === label) correct++;
      if (label < config.numClasses) confusion[label][predicted]++;
      const layers = layerMeasures(capture, i, config, threshold);
      layers.forEach((l, k) => { for (const m of MEASURES) layerStats[k][m].add(l[m]); });
      if (options.segmentation) {
        const mask = dinoMask(mergedPatchAttention(layers[layers.length - 1].clsAttention), threshold);
        const foreground = foregroundMask(image.view);
        const count = mask.reduce((a, b) => a + b, 0);
        const a = patchMaskIoU(mask, foreground, config.imageSize, grid);
        const b = patchMaskIoU(centrePriorMask(grid, count), foreground, config.imageSize, grid);
        if (a !== undefined && b !== undefined) { iou.add(a); prior.add(b); area.add(count / (grid * grid)); }
      }
    });
    options.onProgress?.(Math.min(start + batchSize, set.length), set.length);
  }

  const layers: EvalLayerStats[] = layerStats.map((s, index) => ({
    index,
    sparsity: s.sparsity.spread(),
    reconstructionError: s.reconstructionError.spread(),
    istaResidual: s.istaResidual.spread(),
    codingRate: s.codingRate.spread(),
  }));
  const segmentation: SegmentationStats | undefined = options.segmentation
    ? { threshold, images: iou.count, meanIoU: iou.spread().mean, centrePriorIoU: prior.spread().mean, meanMaskArea: area.spread().mean }
    : undefined;
  return {
    model: modelSummary(model, backend),
    images, correct, accuracy: images > 0 ? (100 * correct) / images : 0,
    confusion, layers, segmentation, failed,
    seconds: (performance.now() - started) / 1000,
  };
}
