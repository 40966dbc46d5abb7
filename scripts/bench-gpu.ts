// WebGPU backend against the CPU backend on the same machine: CRATE tiny/small/base/large at 224/16
// with random weights, full captures (what the engine reads) per forward pass.
// usage: node --import tsx scripts/bench-gpu.ts [--quick] [--out FILE] [--models tiny,base] [--batches 1,8]
//   --quick: tiny only, batches 1 and 2, one timed run each, on SwiftShader when it is installed
//   (scripts/setup-webgpu-ci.sh): a smoke test of the script for machines without a GPU.
// Prints a Markdown table and writes bench-gpu.json (or FILE).
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createCpuBackend } from '../server/backend/cpu';
import type { Backend, ForwardCapture } from '../server/backend/types';
import { createWebGpuBackend, describeAdapters, ensureRuntimeDir, pickAdapter, useSoftwareVulkan } from '../server/backend/webgpu';
import { presetConfig } from '../server/model/config';
import { parameterCount } from '../server/model/weights';
import { randomInput, randomWeights } from '../test/backend/randomModel';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const quick = flag('--quick');
const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean);
const MODELS = list(option('--models')) ?? (quick ? ['tiny'] : ['tiny', 'small', 'base', 'large']);
const BATCHES = (list(option('--batches')) ?? (quick ? ['1', '2'] : ['1', '8', '32', '64'])).map(Number);
/** The CPU backend is timed on small batches only, to keep the run short. */
const CPU_BATCHES = quick ? BATCHES : BATCHES.filter((b) => b <= 8);
const OUT = option('--out') ?? 'bench-gpu.json';
/** Timed runs per case: at least MIN_RUNS, more while under RUN_BUDGET_MS, at most MAX_RUNS. */
const MIN_RUNS = quick ? 1 : 3;
const MAX_RUNS = quick ? 1 : 10;
const RUN_BUDGET_MS = 3000;

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function timeForward(backend: Backend, input: Float32Array, batch: number): Promise<{ ms: number; runs: number; capture: ForwardCapture }> {
  let capture = await backend.forward(input, batch); // warm-up: pipelines, buffers, first-touch
  const times: number[] = [];
  const started = performance.now();
  while (times.length < MIN_RUNS || (times.length < MAX_RUNS && performance.now() - started < RUN_BUDGET_MS)) {
    const t0 = performance.now();
    capture = await backend.forward(input, batch);
    times.push(performance.now() - t0);
  }
  return { ms: median(times), runs: times.length, capture };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function captureBytes(c: ForwardCapture): number {
  let n = c.logits.byteLength + c.patchGram.byteLength;
  for (const l of c.layers) for (const v of Object.values(l)) n += (v as Float32Array | undefined)?.byteLength ?? 0;
  return n;
}

interface Row { model: string; batch: number; backend: 'webgpu' | 'cpu'; ms: number; imagesPerSecond: number; runs: number; captureMiB: number }
interface ParityRow { model: string; batch: number; logitsMaxAbs: number; logitsScale: number; attnClsMaxAbs: number; attentionMaxAbs: number }

async function main(): Promise<number> {
  const started = performance.now();
  if (quick) useSoftwareVulkan();
  else ensureRuntimeDir();
  const adapters = await describeAdapters();
  const picked = await pickAdapter(quick ? 'webgpu' : 'auto');
  if (!picked) {
    console.error(`no ${quick ? '' : 'hardware '}WebGPU adapter found (adapters seen: ${adapters.map((a) => a.label).join('; ') || 'none'})${quick ? '' : '; --quick runs on a software adapter'}`);
    return 2;
  }
  console.error(`adapter: ${picked.summary.label}`);
  const threads = cpus().length;
  const rows: Row[] = [];
  const parity: ParityRow[] = [];
  let gpuDevice = '';
  let cpuDevice = '';
  let first = true;
  for (const name of MODELS) {
    const config = presetConfig(name);
    const weights = randomWeights(config);
    const pixels = config.channels * config.imageSize * config.imageSize;
    const input = randomInput(Math.max(...BATCHES) * pixels, 7);
    // The adapter picked above serves the first backend; later ones pick again (an adapter makes one device).
    const gpu = await createWebGpuBackend(config, weights, { allowSoftware: quick, picked: first ? picked : undefined });
    first = false;
    const cpu = await createCpuBackend(config, weights, { threads });
    gpuDevice = gpu.device;
    cpuDevice = cpu.device;
    console.error(`${name}: ${(parameterCount(weights) / 1e6).toFixed(1)}M parameters, up to ${gpu.maxImagesPerPass} images per GPU pass`);
    try {
      for (const batch of BATCHES) {
        const x = input.subarray(0, batch * pixels);
        const g = await timeForward(gpu, x, batch);
        rows.push({ model: name, batch, backend: 'webgpu', ms: g.ms, imagesPerSecond: (1000 * batch) / g.ms, runs: g.runs, captureMiB: captureBytes(g.capture) / 2 ** 20 });
        console.error(`  webgpu batch ${batch}: ${g.ms.toFixed(1)} ms`);
        if (!CPU_BATCHES.includes(batch)) continue;
        const c = await timeForward(cpu, x, batch);
        rows.push({ model: name, batch, backend: 'cpu', ms: c.ms, imagesPerSecond: (1000 * batch) / c.ms, runs: c.runs, captureMiB: captureBytes(c.capture) / 2 ** 20 });
        console.error(`  cpu    batch ${batch}: ${c.ms.toFixed(1)} ms`);
        if (batch === Math.max(...CPU_BATCHES)) {
          let attention = 0;
          g.capture.layers.forEach((l, i) => {
            for (const key of ['attnMean', 'attnMax', 'attnMin'] as const) {
              const [a, b] = [l[key], c.capture.layers[i][key]];
              if (a && b) attention = Math.max(attention, maxAbsDiff(a, b));
            }
          });
          parity.push({
            model: name, batch,
            logitsMaxAbs: maxAbsDiff(g.capture.logits, c.capture.logits),
            logitsScale: c.capture.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
            attnClsMaxAbs: Math.max(...g.capture.layers.map((l, i) => maxAbsDiff(l.attnCls, c.capture.layers[i].attnCls))),
            attentionMaxAbs: attention,
          });
        }
      }
    } finally {
      await gpu.dispose();
      await cpu.dispose();
    }
  }

  const table = [
    `WebGPU: ${gpuDevice}`, `CPU: ${cpuDevice}`, '',
    '| model | batch | backend | median ms / batch | images / s | captures read back (MiB) | timed runs |',
    '|---|---:|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.model} | ${r.batch} | ${r.backend} | ${r.ms.toFixed(1)} | ${r.imagesPerSecond.toFixed(1)} | ${r.captureMiB.toFixed(0)} | ${r.runs} |`),
    '', 'Parity, WebGPU vs CPU (max |difference|):', '',
    '| model | batch | logits (max abs logit) | attnCls | attnMean/Max/Min |', '|---|---:|---:|---:|---:|',
    ...parity.map((p) => `| ${p.model} | ${p.batch} | ${p.logitsMaxAbs.toExponential(2)} (${p.logitsScale.toFixed(2)}) | ${p.attnClsMaxAbs.toExponential(2)} | ${p.attentionMaxAbs.toExponential(2)} |`),
  ].join('\n');
  console.log(table);
  const seconds = (performance.now() - started) / 1000;
  writeFileSync(OUT, JSON.stringify({
    date: new Date().toISOString(), node: process.version, quick, seconds,
    adapter: picked.summary, adapters, webgpuDevice: gpuDevice, cpuDevice, rows, parity,
  }, null, 2));
  console.error(`wrote ${OUT} after ${seconds.toFixed(0)} s`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e: Error) => { console.error(e.stack ?? e.message); process.exitCode = 1; });
