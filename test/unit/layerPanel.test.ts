// The layer comparison panel: its page messages are validated, its dataset aggregates are right, and the
// daemon's panel requests agree with the engine's own analysis (rollout included).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCpuBackend } from '../../server/backend/cpu';
import type { Backend } from '../../server/backend/types';
import { analyzeImages } from '../../server/engine/analyze';
import { loadModel, type LoadedModel } from '../../server/engine/loadModel';
import { panelImage, panelLayers, panelRollout, summarize } from '../../server/daemon/panel';
import type { ActiveModel } from '../../server/daemon/modelHost';
import { ResultCache } from '../../server/daemon/results';
import { modelOperations } from '../../server/worker/operations';
import { parseLayerPanelMessage, type HistogramResult, type ModelSummary } from '../../server/protocol';
import {
  DatasetAggregator, datasetCsv, datasetRow, imageFromHover, PooledHistogram, rebin, RunningSpread,
} from '../../extension/sidePanelData';
import { FIXTURES } from '../golden/reference';

describe('layer panel messages', () => {
  it('accepts well-formed messages', () => {
    assert.deepEqual(parseLayerPanelMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseLayerPanelMessage({ type: 'selectLayers', a: 0, b: 5 }), { type: 'selectLayers', a: 0, b: 5 });
    assert.deepEqual(parseLayerPanelMessage({ type: 'rollout', fusion: 'max', discard: 0.9 }), { type: 'rollout', fusion: 'max', discard: 0.9 });
    assert.deepEqual(parseLayerPanelMessage({ type: 'runDataset', source: ' images ' }), { type: 'runDataset', source: 'images' });
    assert.deepEqual(parseLayerPanelMessage({ type: 'exportData', scope: 'dataset', format: 'csv' }), { type: 'exportData', scope: 'dataset', format: 'csv' });
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    assert.deepEqual(parseLayerPanelMessage({ type: 'exportPng', name: 'layers', dataUrl: png }), { type: 'exportPng', name: 'layers', dataUrl: png });
  });

  it('refuses anything else', () => {
    for (const bad of [
      null, 'ready', [], { type: 'nope' }, { type: 'selectLayers', a: -1, b: 0 }, { type: 'selectLayers', a: 0.5, b: 1 }, { type: 'selectLayers', a: '1', b: 2 },
      { type: 'rollout', fusion: 'sum', discard: 0 }, { type: 'rollout', fusion: 'mean', discard: 1 }, { type: 'rollout', fusion: 'mean', discard: -0.1 },
      { type: 'runDataset', source: '   ' }, { type: 'runDataset', source: 3 }, { type: 'openImage', image: '' },
      { type: 'exportPng', name: '../x', dataUrl: 'data:image/png;base64,AAAA' }, { type: 'exportPng', name: 'x', dataUrl: 'data:text/html;base64,AAAA' },
      { type: 'exportPng', name: 'x', dataUrl: 'data:image/png;base64,<script>' }, { type: 'exportData', scope: 'all', format: 'csv' },
    ]) assert.equal(parseLayerPanelMessage(bad), undefined, JSON.stringify(bad));
  });
});

describe('layer panel aggregates', () => {
  it('spreads match a direct computation', () => {
    const values = [0.2, 0.5, 0.9, 0.4];
    const s = new RunningSpread();
    values.forEach((v) => s.add(v));
    const mean = values.reduce((a, b) => a + b) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    const got = s.spread();
    assert.ok(Math.abs(got.mean - mean) < 1e-12 && Math.abs(got.std - std) < 1e-12);
    assert.equal(got.min, 0.2);
    assert.equal(got.max, 0.9);
  });

  it('rebins counts in proportion to overlap and keeps their total', () => {
    assert.deepEqual(rebin([4, 8], 2, 4, 2), [12, 0]);
    assert.deepEqual(rebin([4, 8], 2, 2, 2), [4, 8]);
    assert.deepEqual(rebin([6], 3, 4, 4), [2, 2, 2, 0]);
    const spread = rebin([1, 2, 3, 4, 5], 1.7, 2.3, 7);
    assert.ok(Math.abs(spread.reduce((a, b) => a + b) - 15) < 1e-9);
  });

  it('pools histograms of different ranges', () => {
    const pooled = new PooledHistogram();
    const h = (max: number, counts: number[], zeros: number): HistogramResult => ({ max, counts, zeros });
    pooled.add(h(1, [2, 2], 5));
    pooled.add(h(2, [1, 3], 1));
    pooled.add(h(0, [0, 0], 7));
    const r = pooled.result();
    assert.equal(r.max, 2);
    assert.equal(r.zeros, 13);
    assert.deepEqual(r.counts, [5, 3]);
  });

  it('aggregates per layer and counts failures; rows and CSV carry every image', () => {
    const agg = new DatasetAggregator();
    const layer = (s: number) => ({ sparsity: s, reconstructionError: 0.1, istaResidual: 0.2, codingRate: 3, histogram: { max: 1, counts: [1, 1], zeros: 2 } });
    const summaries = [
      { image: '/w/a.png', top: { index: 1, label: 'cat', probability: 0.5 }, layers: [layer(0.5), layer(0.7)] },
      { image: '/w/b.png', top: { index: 2, label: 'dog', probability: 0.75 }, layers: [layer(0.7), layer(0.9)] },
      { image: '/w/bad.png', error: 'not an image' },
    ];
    summaries.forEach((s) => agg.add(s));
    const snap = agg.snapshot();
    assert.equal(snap.images, 2);
    assert.equal(snap.failed, 1);
    assert.equal(snap.layers.length, 2);
    assert.ok(Math.abs(snap.layers[1].sparsity.mean - 0.8) < 1e-12);
    assert.deepEqual(snap.layers[0].histogram, { max: 1, counts: [2, 2], zeros: 4 });
    const rows = summaries.map((s) => datasetRow(s, s.image.slice(3)));
    assert.deepEqual(rows[0].values, [[0.5, 0.1, 0.2, 3], [0.7, 0.1, 0.2, 3]]);
    assert.equal(rows[2].error, 'not an image');
    const csv = datasetCsv(rows, 2).trim().split('\n');
    assert.equal(csv.length, 4);
    assert.match(csv[0], /^image,predicted,probability,error,layer0\.sparsity,/);
    assert.equal(csv[0].split(',').length, 4 + 2 * 4);
  });

  it('reads the image of a hover from its command links', () => {
    const args = encodeURIComponent(JSON.stringify({ image: '/w/images/a b.png' }));
    assert.equal(imageFromHover(`x [Compare layers](command:crateLens.compareLayers?${args} "Open")`), '/w/images/a b.png');
    assert.equal(imageFromHover('no links'), undefined);
    assert.equal(imageFromHover('[x](command:crateLens.compareLayers?%7Bbroken "t")'), undefined);
  });
});

describe('layer panel daemon requests', () => {
  const dir = join(FIXTURES, 'golden', 'odd_shapes');
  const image = join(FIXTURES, 'images', 'rgb_32.png');
  let model: LoadedModel;
  let backend: Backend;
  let active: ActiveModel;
  const cache = new ResultCache(4);
  const signal = new AbortController().signal;

  before(async () => {
    model = loadModel({ checkpoint: join(dir, 'model.pth') });
    backend = await createCpuBackend(model.config, model.weights, { threads: 1 });
    active = { inference: modelOperations(model, backend), summary: { depth: model.config.depth, heads: model.config.heads } as ModelSummary, id: 'test' };
  });
  after(async () => { await backend.dispose(); });

  it('gives the image with its view and PCA map, and every picture of the layers asked for', async () => {
    const data = await panelImage(active, cache, { image }, signal);
    assert.equal(data.result.layers!.length, model.config.depth);
    assert.match(data.view, /^data:image\/png;base64,/);
    assert.match(data.pca!, /^data:image\/png;base64,/);
    const { layers } = await panelLayers(active, cache, { image, layers: [0, -1] }, signal);
    assert.deepEqual(layers.map((l) => l.index), [0, model.config.depth - 1]);
    for (const l of layers) {
      assert.equal(l.heads.length, model.config.heads);
      assert.equal(l.headMasks.length, model.config.heads);
      for (const src of [l.merged, l.mask, ...l.heads, ...l.headMasks]) assert.match(src, /^data:image\/png;base64,/);
    }
  });

  it('computes rollout through every layer; through the last it equals the analysis', async () => {
    for (const [fusion, discard] of [['mean', 0], ['max', 0.5], ['min', 0.25]] as const) {
      const rollout = await panelRollout(active, cache, { image, fusion, discard }, signal);
      assert.equal(rollout.cls.length, model.config.depth);
      assert.equal(rollout.pictures.length, model.config.depth);
      const [reference] = await analyzeImages(model, backend, [image], { rolloutFusion: fusion, rolloutDiscard: discard });
      const last = rollout.cls[rollout.cls.length - 1];
      assert.equal(last.length, reference.rollout!.cls.length);
      last.forEach((v, i) => assert.ok(Math.abs(v - reference.rollout!.cls[i]) < 1e-9, `${fusion}/${discard} patch ${i}: ${v} vs ${reference.rollout!.cls[i]}`));
    }
  });

  it('summarises images with the same numbers as the analysis, failures included', async () => {
    const images = [image, join(FIXTURES, 'images', 'gray_32.png'), join(FIXTURES, 'missing.png')];
    const { results } = await summarize(active, { images }, signal);
    const full = await analyzeImages(model, backend, images.slice(0, 2));
    assert.equal(results.length, 3);
    assert.ok(results[2].error);
    results.slice(0, 2).forEach((r, i) => {
      assert.equal(r.top!.label, full[i].top![0].label);
      r.layers!.forEach((l, k) => {
        assert.equal(l.sparsity, full[i].layers![k].sparsity);
        assert.equal(l.codingRate, full[i].layers![k].codingRate);
        assert.deepEqual(l.histogram, full[i].layers![k].histogram);
      });
    });
  });
});
