// Model variants against PyTorch: resized position embeddings, the emergence demo's head shape, CRATE-MAE encoders.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCpuBackend } from '../../server/backend/cpu';
import { analyzeImages } from '../../server/engine/analyze';
import { loadModel, type LoadedModel, type ModelRequest } from '../../server/engine/loadModel';
import { fitPosEmbedding, resizeGrid, type PosEmbedResize } from '../../server/model/posEmbed';
import { assertAbsolute, assertAnalysisMatches, assertCapturedActivations, FIXTURES, imagePath, batchOf, type Reference } from './reference';

interface ResizeCase { mode: Exclude<PosEmbedResize, 'none'>; inH: number; inW: number; outH: number; outW: number; dim: number; input: number[]; output: number[] }
interface VariantCase { name: string; dir: string; family: string; checkpoint: string; config: string; images: string[] }
type VariantReference = Reference & { family: string };

const VARIANTS = join(FIXTURES, 'variants');
const read = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const cases = read<VariantCase[]>(join(VARIANTS, 'manifest.json'));
const caseNamed = (name: string) => cases.find((c) => c.name === name)!;
const fileOf = (c: VariantCase, name: string) => join(FIXTURES, c.dir, name);

describe('position embedding resize against torch F.interpolate', () => {
  for (const c of read<ResizeCase[]>(join(VARIANTS, 'posembed.json'))) {
    it(`${c.mode} ${c.inH}x${c.inW} -> ${c.outH}x${c.outW}`, () => {
      const got = resizeGrid(Float32Array.from(c.input), c.inH, c.inW, c.outH, c.outW, c.dim, c.mode);
      const scale = Math.max(...c.output.map(Math.abs));
      assertAbsolute(got, c.output, 1e-5 * scale, 'resized grid');
    });
  }

  it('keeps the CLS row, passes a fitting embedding through, and refuses to resize under "none"', () => {
    const dim = 2;
    const pos = { dtype: 'float32' as const, shape: [1, 5, dim], data: Float32Array.from({ length: 10 }, (_, i) => i) };
    assert.equal(fitPosEmbedding(pos, 2, 'bicubic-timm').tensor, pos);
    const fitted = fitPosEmbedding(pos, 3, 'bicubic-timm');
    assert.deepEqual(fitted.tensor.shape, [1, 10, dim]);
    assert.deepEqual(Array.from(fitted.tensor.data.subarray(0, dim)), [0, 1]);
    assert.match(fitted.note!, /2x2 to a 3x3/);
    assert.throws(() => fitPosEmbedding(pos, 3, 'none'), /posEmbedResize is "none"/);
  });
});

/** The engine's activations and measures for every reference image, within the crate-math tolerances. */
async function compareWithReference(model: LoadedModel, ref: VariantReference): Promise<void> {
  const backend = await createCpuBackend(model.config, model.weights);
  try {
    const { numClasses, dim } = model.config;
    const tokens = (model.config.imageSize / model.config.patchSize) ** 2 + 1;
    const capture = await backend.forward(batchOf(ref), ref.results.length, { activations: true });
    assertCapturedActivations(capture, ref.results, { tokens, dim, code: dim, numClasses });
    const results = await analyzeImages(model, backend, ref.results.map((r) => imagePath(r.image)));
    results.forEach((result, i) => assertAnalysisMatches(result, ref.results[i]));
  } finally {
    await backend.dispose();
  }
}

function checkCase(name: string, request: (c: VariantCase) => ModelRequest, extra?: (model: LoadedModel, ref: VariantReference) => void): void {
  const c = caseNamed(name);
  const ref = read<VariantReference>(fileOf(c, 'reference.json'));
  it(`${name}: matches PyTorch`, async () => {
    const model = loadModel(request(c));
    for (const key of ['imageSize', 'patchSize', 'dim', 'depth', 'heads', 'dimHead', 'numClasses', 'istaLambda'] as const) {
      assert.deepEqual(model.config[key], ref.config[key], `config.${key}`);
    }
    extra?.(model, ref);
    await compareWithReference(model, ref);
  });
}

describe('golden: analysis at another image size', () => {
  checkCase('pos_resize_timm', (c) => ({ checkpoint: fileOf(c, c.checkpoint), config: fileOf(c, c.config) }),
    (model) => assert.ok(model.source.warnings.some((w) => /4x4 to a 8x8 patch grid \(bicubic-timm\)/.test(w))));
  // The same model through the override the CLI's --image-size sets, with the default (timm) resize.
  checkCase('pos_resize_timm', (c) => ({ checkpoint: fileOf(c, c.checkpoint), heads: 4, imageSize: 64 }));
  checkCase('pos_resize_notebook', (c) => ({ checkpoint: fileOf(c, c.checkpoint), config: fileOf(c, c.config) }));
});

describe('golden: emergence-demo head shape (heads of 128)', () => {
  checkCase('demo_heads128', (c) => ({ checkpoint: fileOf(c, c.checkpoint) }), (model) => {
    assert.equal(model.source.kind, 'sidecar');
    assert.match(model.source.warnings.join('\n'), /'head' \(10 -> 21\) ignored/);
  });
});

describe('golden: CRATE-MAE encoder', () => {
  checkCase('mae_encoder', (c) => ({ checkpoint: fileOf(c, c.checkpoint) }), (model, ref) => {
    assert.equal(model.family, 'crate-mae');
    assert.equal(ref.family, 'crate-mae');
    assert.equal(model.source.kind, 'sidecar');
    assert.equal(model.weights.headWeight, undefined);
    assert.match(model.source.warnings.join('\n'), /no classifier head/);
  });

  it('mae_encoder: infers the config from the weights with CRATE-MAE\'s lambda, and analyses without logits', async () => {
    const c = caseNamed('mae_encoder');
    const model = loadModel({ checkpoint: fileOf(c, c.checkpoint), config: undefined, preset: 'tiny', heads: 4 });
    assert.deepEqual([model.config.imageSize, model.config.patchSize, model.config.dim, model.config.depth, model.config.istaLambda, model.config.numClasses], [32, 8, 48, 3, 0.5, 0]);
    const backend = await createCpuBackend(model.config, model.weights);
    try {
      const [result] = await analyzeImages(model, backend, [imagePath('images/rgb_32.png')]);
      assert.deepEqual([result.logits, result.top], [[], []]);
      assert.equal(result.layers!.length, 3);
    } finally {
      await backend.dispose();
    }
  });
});
