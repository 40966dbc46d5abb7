// Analyses images with a loaded model: decode, preprocess, batched forward passes, measures, heatmaps.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Backend } from '../backend/types';
import { mergedPatchAttention } from '../analysis/attention';
import { DEFAULT_MEASURE_OPTIONS, lastLayerPca, layerMeasures, rollout, type MeasureOptions } from '../analysis/measures';
import { topK } from '../analysis/predictions';
import { decodeImage, encodePng, modelView, renderHeatmapOverlay, toInputTensor, type Raster } from '../image';
import { labelFor } from '../labels';
import type { AnalyzeReport, ImageResult, LayerResult } from '../protocol';
import { renderHtmlReport, type ReportImage } from '../report/html';
import { upscaleNearest } from '../report/upscale';
import type { CrateConfig } from '../model/config';
import type { LoadedModel } from './loadModel';

/** What an analysis reads of a loaded model: its config (the weights are in the backend). */
export type ModelForAnalysis = Pick<LoadedModel, 'config'>;

export interface HeatmapOptions {
  /** Folder the PNGs go to. */
  dir: string;
  /** Receives every image's pictures and result, for an HTML report. */
  collect?: ReportImage[];
  /** Layer index; negative counts from the end (-1 = last). */
  layer: number;
  /** Head index, or 'mean' for the heads merged. */
  head: number | 'mean';
}

export interface AnalyzeOptions extends Partial<MeasureOptions> {
  batchSize?: number;
  topK?: number;
  heatmaps?: HeatmapOptions;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export class CancelledError extends Error { constructor() { super('cancelled'); } }

/** An image decoded and preprocessed for the model: `view` is what the model sees, `input` its tensor. */
export interface PreparedImage { path: string; view: Raster; input: Float32Array; width: number; height: number }

export async function prepareImage(path: string, config: CrateConfig): Promise<PreparedImage> {
  return prepareImageBytes(path, await readFile(path), config);
}

/** Decodes image bytes already read (named `path` in results) and preprocesses them for the model. */
export function prepareImageBytes(path: string, bytes: Uint8Array, config: CrateConfig): PreparedImage {
  const image = decodeImage(bytes);
  const view = modelView(image, config);
  return { path, view, input: toInputTensor(view, config), width: image.width, height: image.height };
}

/** Decodes a batch; images that fail carry their error instead. */
export async function prepareBatch(paths: string[], config: CrateConfig): Promise<(PreparedImage | { path: string; error: string })[]> {
  return Promise.all(paths.map((path) => prepareImage(path, config).catch((e: Error) => ({ path, error: e.message }))));
}

export function concatInputs(images: PreparedImage[]): Float32Array {
  const out = new Float32Array(images.reduce((n, p) => n + p.input.length, 0));
  let offset = 0;
  for (const p of images) { out.set(p.input, offset); offset += p.input.length; }
  return out;
}

export function resolveLayer(layer: number, depth: number): number {
  const index = layer < 0 ? depth + layer : layer;
  if (!Number.isInteger(index) || index < 0 || index >= depth) throw new RangeError(`layer ${layer} is out of range (model has ${depth} layers)`);
  return index;
}

export function heatmapGrid(layer: LayerResult, head: number | 'mean'): number[] {
  if (head === 'mean') return mergedPatchAttention(layer.clsAttention);
  const row = layer.clsAttention[head];
  if (!row) throw new RangeError(`head ${head} is out of range (model has ${layer.clsAttention.length} heads)`);
  return row.slice(1);
}

/** One forward pass over already prepared images, and every measure of each. */
export async function analyzePrepared(model: ModelForAnalysis, backend: Backend, prepared: PreparedImage[], options: AnalyzeOptions = {}): Promise<ImageResult[]> {
  if (prepared.length === 0) return [];
  const measure = { ...DEFAULT_MEASURE_OPTIONS, ...options };
  const { config } = model;
  const grid = config.imageSize / config.patchSize;
  const labelOf = labelFor(config);
  const capture = await backend.forward(concatInputs(prepared), prepared.length, { headExtremes: measure.rolloutFusion !== 'mean' });
  return prepared.map((p, i) => {
    const logits = Array.from(capture.logits.subarray(i * config.numClasses, (i + 1) * config.numClasses));
    return {
      image: p.path,
      width: p.width,
      height: p.height,
      grid: { width: grid, height: grid },
      logits,
      top: topK(logits, Math.min(options.topK ?? 5, config.numClasses), labelOf),
      layers: layerMeasures(capture, i, config, measure.dinoThreshold),
      rollout: rollout(capture, i, config, measure.rolloutFusion, measure.rolloutDiscard),
      pca: lastLayerPca(capture, i, config),
    };
  });
}

export async function analyzeImages(model: ModelForAnalysis, backend: Backend, paths: string[], options: AnalyzeOptions = {}): Promise<ImageResult[]> {
  const batchSize = Math.max(1, options.batchSize ?? 8);
  const grid = model.config.imageSize / model.config.patchSize;
  const results: ImageResult[] = [];
  const reportImages = options.heatmaps?.collect ?? [];
  const usedNames = new Set<string>();
  for (let start = 0; start < paths.length; start += batchSize) {
    if (options.signal?.aborted) throw new CancelledError();
    const slots = await prepareBatch(paths.slice(start, start + batchSize), model.config);
    const prepared = slots.filter((s): s is PreparedImage => 'view' in s);
    const analysed = await analyzePrepared(model, backend, prepared, options);
    for (const slot of slots) {
      if (!('view' in slot)) {
        const failed = { image: slot.path, error: slot.error };
        results.push(failed);
        reportImages.push({ result: failed });
        continue;
      }
      const result = analysed[prepared.indexOf(slot)];
      if (options.heatmaps) {
        const written = await writeHeatmap(slot, result.layers!, grid, options.heatmaps, usedNames);
        result.heatmaps = [written.file];
        reportImages.push({ result, viewPng: encodePng(upscaleNearest(slot.view, 224)), overlayPng: written.png, overlayCaption: written.caption });
      }
      results.push(result);
    }
    options.onProgress?.(Math.min(start + batchSize, paths.length), paths.length);
  }
  return results;
}

/** Writes report.html for an analysis run with heatmaps; returns its path. */
export async function writeHtmlReport(dir: string, report: AnalyzeReport, images: ReportImage[]): Promise<string> {
  const file = resolve(join(dir, 'report.html'));
  await mkdir(dir, { recursive: true });
  await writeFile(file, renderHtmlReport(report, images));
  return file;
}

async function writeHeatmap(p: PreparedImage, layers: LayerResult[], grid: number, options: HeatmapOptions, used: Set<string>) {
  const layer = resolveLayer(options.layer, layers.length);
  const png = encodePng(renderHeatmapOverlay(p.view, heatmapGrid(layers[layer], options.head), grid, grid));
  await mkdir(options.dir, { recursive: true });
  const head = options.head === 'mean' ? 'mean' : `head${options.head}`;
  const stem = basename(p.path, extname(p.path));
  // Images with the same name in different folders must not overwrite each other's heatmaps.
  let name = `${stem}.layer${layer}.${head}.png`;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}.layer${layer}.${head}.png`;
  used.add(name);
  const file = resolve(join(options.dir, name));
  await writeFile(file, png);
  return { file, png, caption: `layer ${layer}, ${options.head === 'mean' ? 'heads merged' : `head ${options.head}`}` };
}
