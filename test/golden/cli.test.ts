// The CLI end to end: JSON names and numbers against the PyTorch reference, and one-line errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertActivations, assertJsonLayers,
  checkpointPath, configPath, FIXTURES, goldenCases, imagePath, reference,
} from './reference';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('crate-lens analyze --format json', () => {
  for (const c of goldenCases()) {
    it(`matches PyTorch on ${c.name}`, () => {
      const ref = reference(c);
      const config = configPath(c);
      const out = cli('analyze', ...ref.results.map((r) => imagePath(r.image)), '--checkpoint', checkpointPath(c), ...(config ? ['--config', config] : []), '--format', 'json');
      assert.equal(out.code, 0, out.stderr);
      const doc = JSON.parse(out.stdout);
      for (const key of ['imageSize', 'patchSize', 'channels', 'dim', 'depth', 'heads', 'dimHead', 'numClasses', 'parameters', 'configSource']) {
        assert.ok(key in doc.model, `model.${key}`);
      }
      assert.equal(doc.model.parameters, ref.parameters);
      assert.match(doc.model.configSource, config ? /^file / : /^sidecar /);
      assert.equal(doc.results.length, ref.results.length);
      doc.results.forEach((result: any, i: number) => {
        const r = ref.results[i];
        assert.equal(result.image, imagePath(r.image));
        assertActivations(result.logits, r.logits, `${c.name} ${r.image} logits`);
        for (const t of result.top) for (const key of ['index', 'label', 'probability']) assert.ok(key in t);
        assertJsonLayers(result.layers, r.layers, `${c.name} ${r.image}`);
      });
    });
  }

  it('writes heatmap PNGs with --out', () => {
    const c = goldenCases()[0];
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-out-'));
    const out = cli('analyze', imagePath('images/rgb_32.png'), '--checkpoint', checkpointPath(c), '--out', dir, '--format', 'json');
    assert.equal(out.code, 0, out.stderr);
    const [file] = JSON.parse(out.stdout).results[0].heatmaps;
    const png = readFileSync(file);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('writes a self-contained HTML report beside the heatmaps, failed images included', () => {
    const c = goldenCases()[0];
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-report-'));
    const notAnImage = join(FIXTURES, c.dir, 'model.crate.json');
    const out = cli('analyze', imagePath('images/rgb_32.png'), imagePath('images/gray_32.png'), notAnImage, '--checkpoint', checkpointPath(c), '--out', dir);
    assert.equal(out.code, 1);
    assert.match(out.stdout, /report: .*report\.html/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.match(html, /rgb_32\.png/);
    assert.match(html, /gray_32\.png/);
    assert.match(html, /class="card failed"/);
    assert.equal((html.match(/src="data:image\/png;base64,/g) ?? []).length, 4, 'input and heatmap of each readable image');
  });
});

describe('crate-lens errors', () => {
  const c = goldenCases()[0];
  const oneLine = (stderr: string) => stderr.split('\n')[0];

  it('a missing checkpoint exits non-zero with the reason', () => {
    const out = cli('analyze', imagePath('images/rgb_32.png'), '--checkpoint', '/nonexistent/model.pth');
    assert.notEqual(out.code, 0);
    assert.match(oneLine(out.stderr), /^crate-lens: .*no such file/i);
  });

  it('a file that is no checkpoint exits non-zero with the reason', () => {
    const out = cli('analyze', imagePath('images/rgb_32.png'), '--checkpoint', imagePath('images/rgb_32.png'));
    assert.notEqual(out.code, 0);
    assert.match(oneLine(out.stderr), /^crate-lens: .*not a PyTorch or safetensors checkpoint/);
  });

  it('a bad config exits non-zero naming the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-cfg-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ imageSize: 32, patchSize: 8, channels: 3, dim: 48, depth: 3, heads: 4, dimHead: 12 }));
    const out = cli('analyze', imagePath('images/rgb_32.png'), '--checkpoint', checkpointPath(c), '--config', bad);
    assert.notEqual(out.code, 0);
    assert.match(oneLine(out.stderr), /missing config key\(s\) numClasses/);
  });

  it('a config that does not fit the weights lists the mismatches', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-cfg-'));
    const bad = join(dir, 'wrong.json');
    writeFileSync(bad, JSON.stringify({ imageSize: 32, patchSize: 8, channels: 3, dim: 48, depth: 4, heads: 4, dimHead: 12, numClasses: 10 }));
    const out = cli('analyze', imagePath('images/rgb_32.png'), '--checkpoint', checkpointPath(c), '--config', bad);
    assert.notEqual(out.code, 0);
    assert.match(oneLine(out.stderr), /missing \d+ key\(s\): transformer\.layers\.3/);
  });

  it('an unreadable image is reported and the exit code says so', () => {
    const out = cli('analyze', join(FIXTURES, c.dir, 'model.crate.json'), '--checkpoint', checkpointPath(c), '--format', 'json');
    assert.equal(out.code, 1);
    assert.ok(JSON.parse(out.stdout).results[0].error);
  });

  it('unknown flags are usage errors', () => {
    const out = cli('analyze', '--frobnicate');
    assert.equal(out.code, 2);
    assert.match(oneLine(out.stderr), /^crate-lens: /);
  });
});

describe('crate-lens inspect', () => {
  it('prints config source, parameters and dictionary statistics', () => {
    const c = goldenCases()[0];
    const out = cli('inspect', checkpointPath(c), '--format', 'json');
    assert.equal(out.code, 0, out.stderr);
    const doc = JSON.parse(out.stdout);
    assert.equal(doc.model.parameters, reference(c).parameters);
    assert.equal(doc.dictionaries.length, doc.model.depth);
    for (const d of doc.dictionaries) {
      assert.ok(d.singularMin > 0 && d.singularMin <= d.singularMax);
      assert.ok(d.orthogonalityGap > 0);
    }
  });
});

describe('crate-lens eval', () => {
  it('counts top-1 hits as analyze predicts them, and reports per-layer spreads and IoU', () => {
    const c = goldenCases().find((g) => g.name === 'odd_shapes')!;
    const images = ['images/rgb_32.png', 'images/gray_32.png', 'images/rgb_28.png', 'images/rgba_36.png'].map(imagePath);
    const analysed = JSON.parse(cli('analyze', ...images, '--checkpoint', checkpointPath(c), '--format', 'json').stdout);
    const top1: number[] = analysed.results.map((r: any) => r.top[0].index);
    // Label the first two with their predicted class and the others with a different one.
    const labels = top1.map((t, i) => (i < 2 ? t : (t + 1) % 7));
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-eval-'));
    writeFileSync(join(dir, 'labels.csv'), ['path,label', ...images.map((p, i) => `${p},${labels[i]}`)].join('\n'));
    const out = cli('eval', join(dir, 'labels.csv'), '--checkpoint', checkpointPath(c), '--segmentation', '--format', 'json');
    assert.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout);
    assert.equal(report.images, 4);
    assert.equal(report.correct, 2);
    assert.equal(report.accuracy, 50);
    assert.equal(report.layers.length, 2);
    const sparsities = analysed.results.map((r: any) => r.layers[1].sparsity);
    const mean = sparsities.reduce((a: number, b: number) => a + b, 0) / sparsities.length;
    assert.ok(Math.abs(report.layers[1].sparsity.mean - mean) < 1e-12);
    assert.ok(report.segmentation.meanIoU >= 0 && report.segmentation.meanIoU <= 1);
    assert.equal(report.segmentation.images, 4);
  });

  it('refuses labels outside the model', () => {
    const c = goldenCases().find((g) => g.name === 'odd_shapes')!;
    const dir = mkdtempSync(join(tmpdir(), 'crate-lens-eval-'));
    writeFileSync(join(dir, 'labels.csv'), `${imagePath('images/rgb_32.png')},9\n`);
    const out = cli('eval', join(dir, 'labels.csv'), '--checkpoint', checkpointPath(c));
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /label 9 is outside the model's 7 classes/);
  });
});
