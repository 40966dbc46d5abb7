// npm run bench: CRATE Lens's CPU backend against PyTorch on the same checkpoints, interleaved,
// plus hover latency through the real LSP connection, checkpoint load time and the RSS of the daemon and its worker.
// Writes bench-results.json. Needs Debian's python3-torch (with libopenblas0-openmp) for the PyTorch rows.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createBareCpuSession, createCpuBackend } from '../server/backend/cpu';
import { analyzePrepared, type PreparedImage } from '../server/engine/analyze';
import { loadModel } from '../server/engine/loadModel';
import { encodePng } from '../server/image';
import { baseSettings, Daemon } from '../test/daemon/harness';
import { memoryOf } from '../test/daemon/procfs';

const ROOT = resolve(__dirname, '..');
const CACHE = join(ROOT, '.bench');
const PYTHON = '/usr/bin/python3';
const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
const quick = process.argv.includes('--quick');
/** Only the hover latencies and the RSS of the daemon and its worker (no PyTorch, nothing written). */
const hoverOnly = process.argv.includes('--hover-only');
const MODELS = quick ? ['tiny'] : ['tiny', 'base', 'large'];
const BATCHES = [1, 8];
const RUNS: Record<string, number> = quick ? { tiny: 5 } : { tiny: 20, base: 12, large: 6 };

interface Stats { median: number; min: number; max: number; n: number }
const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
};

function checkpoint(preset: string): string {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `crate-${preset}.pth`);
  if (!existsSync(file)) {
    const r = spawnSync(PYTHON, [join(ROOT, 'scripts', 'make_fixtures.py'), '--big', preset, file, '--official-init'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`could not make ${file} (needs Debian's python3-torch)`);
  }
  return file;
}

class Torch {
  private readonly lines: AsyncIterableIterator<string>;
  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  static start(): Torch {
    // Debian's alternatives default to the pthread OpenBLAS, which fights torch's OpenMP threads
    // (CRATE-B 300 ms instead of 110 ms on 2 cores): PyTorch runs on the OpenMP build when installed.
    const env = { ...process.env };
    if (existsSync(OPENBLAS_OPENMP)) env.LD_LIBRARY_PATH = [OPENBLAS_OPENMP, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    else console.error(`bench: ${OPENBLAS_OPENMP} is missing (apt-get install libopenblas0-openmp): PyTorch will be slower than it can be`);
    return new Torch(spawn(PYTHON, [join(ROOT, 'scripts', 'bench_torch.py')], { stdio: ['pipe', 'pipe', 'inherit'], env }));
  }
  async ask(cmd: object): Promise<any> {
    this.child.stdin.write(JSON.stringify(cmd) + '\n');
    const { value } = await this.lines.next();
    const answer = JSON.parse(value);
    if (answer.error) throw new Error(`PyTorch: ${answer.error}`);
    return answer;
  }
  stop(): void { this.child.kill(); }
}

function randomInput(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) & 0x7fffffff; out[i] = (s / 0x7fffffff) * 4 - 2; }
  return out;
}

function randomPng(path: string, size: number, seed: number): void {
  const data = new Uint8Array(size * size * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) { s = (s * 1103515245 + 12345) & 0x7fffffff; data[i] = s & 0xff; }
  writeFileSync(path, encodePng({ width: size, height: size, channels: 3, data }));
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function forwardRows(torch: Torch) {
  const rows = [];
  for (const preset of MODELS) {
    const file = checkpoint(preset);
    const model = loadModel({ checkpoint: file, preset });
    const full = await createCpuBackend(model.config, model.weights);
    const bare = await createBareCpuSession(model.config, model.weights);
    await torch.ask({ load: file, preset });
    const { imageSize: S, channels: C } = model.config;
    for (const batch of BATCHES) {
      const input = randomInput(batch * C * S * S, batch);
      const prepared: PreparedImage[] = Array.from({ length: batch }, (_, i) => ({
        path: `bench-${i}`, view: { width: S, height: S, channels: C, data: new Uint8Array(S * S * C) },
        input: input.subarray(i * C * S * S, (i + 1) * C * S * S), width: S, height: S,
      }));
      const runs = Math.max(3, Math.round(RUNS[preset] / (batch > 1 ? 2 : 1)));
      const fullMs: number[] = [], bareMs: number[] = [], torchMs: number[] = [];
      for (let w = 0; w < 2; w++) { await analyzePrepared(model, full, prepared); await bare.logits(input, batch); }
      await torch.ask({ time: batch, runs: 1, warmup: 2 });
      // Interleaved so that drifts of the machine's speed hit all three alike.
      for (let r = 0; r < runs; r++) {
        fullMs.push(await time(() => analyzePrepared(model, full, prepared)));
        bareMs.push(await time(() => bare.logits(input, batch)));
        torchMs.push(...(await torch.ask({ time: batch, runs: 1, warmup: 0 })).ms);
      }
      const row = { model: preset, batch, crateLensMs: stats(fullMs), crateLensForwardMs: stats(bareMs), torchMs: stats(torchMs), ratio: 0, forwardRatio: 0 };
      row.ratio = row.crateLensMs.median / row.torchMs.median;
      row.forwardRatio = row.crateLensForwardMs.median / row.torchMs.median;
      rows.push(row);
      console.error(`${preset} b${batch}: full ${row.crateLensMs.median.toFixed(1)} ms, bare ${row.crateLensForwardMs.median.toFixed(1)} ms, torch ${row.torchMs.median.toFixed(1)} ms`);
    }
    await full.dispose();
    await bare.release();
  }
  return rows;
}

/** Checkpoint parse alone, and parse + CPU session creation (the model ready to run). */
async function loadTimes(preset: string) {
  const file = checkpoint(preset);
  const parse: number[] = [], ready: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const model = loadModel({ checkpoint: file, preset });
    parse.push(performance.now() - t0);
    const backend = await createCpuBackend(model.config, model.weights);
    ready.push(performance.now() - t0);
    await backend.dispose();
  }
  return { model: preset, file, bytes: readFileSync(file).length, ms: stats(parse), readyMs: stats(ready) };
}

async function hoverLatency(preset: string) {
  const images = join(CACHE, 'images');
  mkdirSync(images, { recursive: true });
  for (let i = 0; i < 51; i++) if (!existsSync(join(images, `img-${i}.png`))) randomPng(join(images, `img-${i}.png`), 224, i + 1);
  const daemon = await Daemon.start(CACHE);
  try {
    const file = checkpoint(preset);
    const doc = Array.from({ length: 51 }, (_, i) => `![img ${i}](images/img-${i}.png)`).join('\n');
    const t0 = performance.now();
    await daemon.configure(baseSettings({ checkpoint: file, config: preset }));
    const uri = await daemon.open(join(CACHE, 'hover.md'), doc);
    const first = await daemon.hover(uri, 0, 14);
    const cold = performance.now() - t0;
    if (!first) throw new Error('no hover');
    const warm: number[] = [];
    for (let i = 1; i <= 50; i++) warm.push(await time(() => daemon.hover(uri, i, 14)));
    const sorted = [...warm].sort((a, b) => a - b);
    // The weights live in the daemon's inference worker: both processes' peaks.
    const { worker } = await daemon.status();
    const hwm = (pid: number | undefined) => (pid ? memoryOf(pid)?.hwmKb ?? NaN : NaN) / 1024;
    return { model: preset, coldMs: cold, warmP50Ms: sorted[24], warmP95Ms: sorted[47], peakRssMb: hwm(daemon.process.pid), workerPeakRssMb: hwm(worker.pid) };
  } finally {
    await daemon.stop();
  }
}

function printHover(h: Awaited<ReturnType<typeof hoverLatency>>): void {
  console.log(`hover (${h.model}, real LSP): cold ${h.coldMs.toFixed(0)} ms, warm p50 ${h.warmP50Ms.toFixed(1)} ms, p95 ${h.warmP95Ms.toFixed(1)} ms, peak RSS daemon ${h.peakRssMb.toFixed(0)} MB, worker ${h.workerPeakRssMb.toFixed(0)} MB`);
}

const fmt = (s: Stats) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'server.js'))) throw new Error('run npm run build first');
  if (hoverOnly) {
    for (const preset of quick ? ['tiny'] : ['tiny', 'base']) printHover(await hoverLatency(preset));
    return;
  }
  const torch = Torch.start();
  let rows;
  try {
    rows = await forwardRows(torch);
  } finally {
    torch.stop();
  }
  const load = await loadTimes(quick ? 'tiny' : 'base');
  const hovers = [];
  for (const preset of quick ? ['tiny'] : ['tiny', 'base']) hovers.push(await hoverLatency(preset));
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGb: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, date: new Date().toISOString() };
  console.log(`\nCRATE Lens vs PyTorch, CPU, ${machine.cores} threads, ${machine.cpu} (${machine.date.slice(0, 10)}); ms: median (min–max)\n`);
  console.log('| model | batch | CRATE Lens full analysis | CRATE Lens bare forward | PyTorch bare forward | full / torch | bare / torch |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.model} | ${r.batch} | ${fmt(r.crateLensMs)} | ${fmt(r.crateLensForwardMs)} | ${fmt(r.torchMs)} | ${r.ratio.toFixed(2)} | ${r.forwardRatio.toFixed(2)} |`);
  console.log(`\ncheckpoint load (${load.model}, ${(load.bytes / 2 ** 20).toFixed(0)} MiB .pth): parse ${fmt(load.ms)} ms, ready to run (parse + session) ${fmt(load.readyMs)} ms`);
  hovers.forEach(printHover);
  writeFileSync(join(ROOT, 'bench-results.json'), JSON.stringify({ machine, rows: rows.map((r) => ({ ...r, crateLensMs: r.crateLensMs.median, crateLensForwardMs: r.crateLensForwardMs.median, torchMs: r.torchMs.median, spread: { crateLens: r.crateLensMs, forward: r.crateLensForwardMs, torch: r.torchMs } })), load, hovers }, null, 2));
}

main().catch((e) => { console.error(`bench: ${(e as Error).message}`); process.exitCode = 1; });
