// npm run loadtest: the daemon under load and faults, over its real LSP connection (dist/server.js on
// stdio, as the extension drives it over IPC):
//   (a) concurrent hovers on good, corrupt and missing images, a share of them cancelled;
//   (b) the inference worker killed mid-request (SIGKILL, SIGSEGV, a native abort), then the whole
//       daemon killed and a new one started, as the extension's client does;
//   (c) the checkpoint rewritten, replaced, deleted and restored on disk while hovers run: every answer
//       must come from the model on disk when the hover was sent, or be a clear error.
// Prints a table of figures and exits non-zero on any violation.
//   node --import tsx scripts/loadtest.ts [--requests 200] [--cancel 0.3] [--seed 1] [--json FILE]
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { chooseBackend } from '../server/backend/select';
import { analyzeImages } from '../server/engine/analyze';
import { defaultCheckpoint } from '../server/engine/defaultModel';
import { loadModel } from '../server/engine/loadModel';
import { encodePng } from '../server/image';
import { rng } from '../test/backend/randomModel';
import { baseSettings, Daemon } from '../test/daemon/harness';
import { isAlive, MemorySampler } from '../test/daemon/procfs';

const ROOT = resolve(__dirname, '..');
const option = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS = option('requests', 200);
const CANCEL_SHARE = option('cancel', 0.3);
const random = rng(option('seed', 1));
const uniform = () => (random() + 1) / 2;
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
const ABORT_IMAGE = 'abort-me.png';
const ANSWER_TIMEOUT_MS = 60_000;

// ---- Outcomes and figures. ----

type Kind = 'picture' | 'error' | 'none' | 'cancelled' | 'failed';
interface Outcome { kind: Kind; line: number; sent: number; received: number; text?: string; top?: string }

class Figures {
  requests = 0;
  pictures = 0;
  errors = 0;
  none = 0;
  cancelled = 0;
  failed = 0;
  crashesSurvived = 0;
  readonly violations: string[] = [];

  count(o: Outcome): void {
    this.requests++;
    if (o.kind === 'picture') this.pictures++;
    else if (o.kind === 'error') this.errors++;
    else if (o.kind === 'none') this.none++;
    else if (o.kind === 'cancelled') this.cancelled++;
    else this.failed++;
  }

  violate(message: string): void {
    this.violations.push(message);
    console.error(`VIOLATION: ${message}`);
  }
}

const phases: { name: string; figures: Figures; seconds: number; notes: string[] }[] = [];

async function phase(name: string, run: (f: Figures, notes: string[]) => Promise<void>): Promise<void> {
  const figures = new Figures(), notes: string[] = [];
  const t0 = performance.now();
  console.error(`-- ${name}`);
  try {
    await run(figures, notes);
  } catch (e) {
    figures.violate(`${name}: ${(e as Error).stack ?? e}`);
  }
  phases.push({ name, figures, seconds: (performance.now() - t0) / 1000, notes });
}

// ---- Hovers. ----

const TOP = /\*\*([^*]+)\*\* (\d+\.\d)%/;
const CLEAR_ERROR = /^\*\*CRATE Lens:\*\* \S.{4,}/;

function timeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

async function hover(daemon: Daemon, uri: string, line: number, cancelAfterMs?: number): Promise<Outcome> {
  const sent = performance.now();
  const source = cancelAfterMs === undefined ? undefined : new CancellationTokenSource();
  if (source) setTimeout(() => source.cancel(), cancelAfterMs);
  const cancelled = () => !!source?.token.isCancellationRequested;
  try {
    const answer = await timeout(daemon.hover(uri, line, 7, source), ANSWER_TIMEOUT_MS);
    const received = performance.now();
    if (!answer) return { kind: cancelled() ? 'cancelled' : 'none', line, sent, received };
    const text = answer.contents.value;
    if (text.startsWith('**CRATE Lens:**')) return { kind: 'error', line, sent, received, text };
    const top = TOP.exec(text);
    return { kind: 'picture', line, sent, received, text, top: top ? `${top[1]} ${top[2]}%` : undefined };
  } catch (e) {
    const received = performance.now();
    if ((e as { code?: number }).code === -32800 && cancelled()) return { kind: 'cancelled', line, sent, received };
    return { kind: 'failed', line, sent, received, text: (e as Error).message };
  }
}

// ---- The workspace: demo images, corrupt files, missing files, fresh images for each fault. ----

interface Workspace { dir: string; lines: { name: string; kind: 'image' | 'corrupt' | 'missing' | 'fresh' | 'abort' }[]; doc: string }

function makeWorkspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'crate-lens-load-'));
  const images = join(dir, 'images');
  mkdirSync(images);
  const lines: Workspace['lines'] = [];
  const demo = join(ROOT, 'demo', 'images');
  for (const name of readdirSync(demo).filter((n) => n.endsWith('.png')).sort()) {
    copyFileSync(join(demo, name), join(images, name));
    lines.push({ name, kind: 'image' });
  }
  // Images no one has analysed before, so that the worker has work beyond the cache.
  for (let i = 0; i < 60; i++) {
    const data = Uint8Array.from({ length: 28 * 28 }, () => Math.floor(uniform() * 256));
    writeFileSync(join(images, `load-${i}.png`), encodePng({ width: 28, height: 28, channels: 1, data }));
    lines.push({ name: `load-${i}.png`, kind: 'image' });
  }
  const png = readFileSync(join(demo, lines[0].name));
  const corrupt: [string, Uint8Array][] = [
    ['truncated.png', png.subarray(0, Math.floor(png.length / 2))],
    ['text.png', Buffer.from('this is not an image\n')],
    ['empty.png', new Uint8Array(0)],
    ['noise.jpg', Uint8Array.from({ length: 4096 }, () => Math.floor(uniform() * 256))],
  ];
  for (const [name, bytes] of corrupt) {
    writeFileSync(join(images, name), bytes);
    lines.push({ name, kind: 'corrupt' });
  }
  for (const name of ['missing-1.png', 'missing-2.jpg', 'gone/missing-3.png']) lines.push({ name, kind: 'missing' });
  // Images nobody analysed yet (the daemon's cache survives a worker crash): one use each.
  for (let i = 0; i < 160; i++) {
    const data = Uint8Array.from({ length: 28 * 28 }, () => Math.floor(uniform() * 256));
    writeFileSync(join(images, `fresh-${i}.png`), encodePng({ width: 28, height: 28, channels: 1, data }));
    lines.push({ name: `fresh-${i}.png`, kind: 'fresh' });
  }
  // New content too: an image the daemon has cached never reaches the worker.
  writeFileSync(join(images, ABORT_IMAGE), encodePng({ width: 28, height: 28, channels: 1, data: Uint8Array.from({ length: 28 * 28 }, (_, i) => i % 256) }));
  lines.push({ name: ABORT_IMAGE, kind: 'abort' });
  return { dir, lines, doc: lines.map((l) => `![x](images/${l.name})`).join('\n') + '\n' };
}

/** Top-1 label and probability of each demo image, as the hover prints them, computed in this process. */
async function expectedTops(checkpoint: string, paths: string[]): Promise<string[]> {
  const model = loadModel({ checkpoint });
  const { backend } = await chooseBackend('cpu', model.config, model.weights);
  try {
    // One image per pass, as a hover analyses it.
    const results = await analyzeImages(model, backend, paths, { batchSize: 1 });
    return results.map((r) => `${r.top![0].label} ${(100 * r.top![0].probability).toFixed(1)}%`);
  } finally {
    await backend.dispose();
  }
}

// ---- (a) Load. ----

async function load(daemon: Daemon, uri: string, ws: Workspace, expected: Map<number, string>, f: Figures, notes: string[]): Promise<void> {
  const candidates = ws.lines.map((l, i) => ({ ...l, i })).filter((l) => l.kind === 'image' || l.kind === 'corrupt' || l.kind === 'missing');
  const plan = Array.from({ length: REQUESTS }, () => {
    const pick = candidates[Math.floor(uniform() * candidates.length)];
    return { line: pick.i, kind: pick.kind, cancelAfter: uniform() < CANCEL_SHARE ? Math.floor(uniform() * 300) : undefined };
  });
  const t0 = performance.now();
  const outcomes = await Promise.all(plan.map((p) => hover(daemon, uri, p.line, p.cancelAfter)));
  const of = (kind: string) => candidates.filter((c) => c.kind === kind).length;
  notes.push(`${REQUESTS} hovers sent at once over ${candidates.length} files (${of('image')} images: the 30 demo PNGs and noise; ${of('corrupt')} corrupt, ${of('missing')} missing), ${plan.filter((p) => p.cancelAfter !== undefined).length} cancelled after 0-300 ms; all settled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  outcomes.forEach((o, k) => {
    f.count(o);
    const { kind, cancelAfter } = plan[k];
    const name = ws.lines[o.line].name;
    if (o.kind === 'failed') return f.violate(`hover ${name}: ${o.text}`);
    if (o.kind === 'cancelled') return cancelAfter === undefined ? f.violate(`hover ${name} cancelled without being asked to`) : undefined;
    if (kind === 'image' && (o.kind !== 'picture' || o.top !== expected.get(o.line))) f.violate(`hover ${name}: expected ${expected.get(o.line)}, got ${o.kind} ${o.top ?? o.text ?? ''}`);
    if (kind === 'corrupt' && (o.kind !== 'error' || !CLEAR_ERROR.test(o.text!))) f.violate(`hover ${name}: expected a clear error, got ${o.kind}`);
    if (kind === 'missing' && o.kind !== 'none') f.violate(`hover ${name}: expected no hover, got ${o.kind}`);
  });
  const errors = new Set(outcomes.filter((o) => o.kind === 'error').map((o) => o.text!.replace(/: .*$/s, ': …')));
  notes.push(`corrupt-file answers: ${outcomes.filter((o) => o.kind === 'error').length} (${[...errors].join(' / ')})`);
}

// ---- (b) Faults. ----

async function killMidRequest(
  daemon: Daemon, uri: string, lines: number[], next: number, crash: (workerPid: number) => void, expectedSignal: string, f: Figures, notes: string[],
): Promise<void> {
  const pid = (await daemon.status()).worker.pid;
  if (!pid) throw new Error('no worker running');
  const ready = daemon.waitForState((s) => s.state === 'ready' && !!s.worker?.pid && s.worker.pid !== pid, 30_000);
  const pending = lines.map((line) => hover(daemon, uri, line));
  // Once one answer is in, the others are running or queued in the worker.
  await Promise.race(pending);
  crash(pid);
  const outcomes = await Promise.all(pending);
  const message = `inference worker crashed (${expectedSignal}); restarted`;
  let failedInFlight = 0;
  for (const o of outcomes) {
    f.count(o);
    // Hover text is Markdown-escaped: compare it unescaped.
    if (o.kind === 'error' && o.text!.replace(/\\(.)/g, '$1').includes(message)) failedInFlight++;
    else if (o.kind !== 'picture') f.violate(`${expectedSignal}: hover answered ${o.kind} ${o.text ?? ''}`);
  }
  if (failedInFlight === 0) f.violate(`${expectedSignal}: no request was in flight when the worker died`);
  const state = await ready;
  if (state.worker?.lastCrash !== expectedSignal) f.violate(`${expectedSignal}: state says the last crash was ${state.worker?.lastCrash}`);
  if (!daemon.logs.some((l) => l.includes(`crashed (${expectedSignal})`))) f.violate(`${expectedSignal}: the daemon did not log the crash`);
  if (isAlive(pid)) f.violate(`${expectedSignal}: the crashed worker ${pid} is still running`);
  const after = await hover(daemon, uri, next);
  f.count(after);
  if (after.kind !== 'picture') f.violate(`${expectedSignal}: the next hover answered ${after.kind} ${after.text ?? ''}`);
  else f.crashesSurvived++;
  notes.push(`${expectedSignal}: ${outcomes.length - failedInFlight} of ${outcomes.length} hovers answered before the crash, ${failedInFlight} failed with "${message}"; new worker pid ${state.worker?.pid}, next hover ${after.kind === 'picture' ? 'answered' : 'FAILED'} in ${(after.received - after.sent).toFixed(0)} ms`);
}

// ---- (c) The checkpoint replaced and deleted on disk. ----

/** The same model with its classifier's rows rotated by one: every prediction moves to the previous class. */
function rotatedHead(safetensors: Uint8Array): Uint8Array {
  const out = Uint8Array.from(safetensors);
  const view = new DataView(out.buffer);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(out.subarray(8, 8 + headerLength)).toString('utf8'));
  const base = 8 + headerLength;
  for (const key of ['mlp_head.1.weight', 'mlp_head.1.bias']) {
    const { dtype, shape, data_offsets: [start, end] } = header[key] as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32') throw new Error(`${key} is ${dtype}, not F32`);
    const row = (end - start) / shape[0];
    const rows = out.slice(base + start, base + end);
    for (let k = 0; k < shape[0]; k++) out.set(rows.subarray(((k + 1) % shape[0]) * row, ((k + 1) % shape[0] + 1) * row), base + start + k * row);
  }
  return out;
}

async function replaceOnDisk(daemon: Daemon, ws: Workspace, f: Figures, notes: string[]): Promise<void> {
  const source = defaultCheckpoint();
  const a = readFileSync(source);
  const b = rotatedHead(a);
  const models = join(ws.dir, 'models');
  const other = join(ws.dir, 'other');
  mkdirSync(models);
  mkdirSync(other);
  const sidecar = source.replace(/\.safetensors$/, '.crate.json');
  const checkpoint = join(models, 'model.safetensors');
  writeFileSync(checkpoint, a);
  copyFileSync(sidecar, join(models, 'model.crate.json'));
  writeFileSync(join(other, 'model.safetensors'), b);
  copyFileSync(sidecar, join(other, 'model.crate.json'));
  const demoLines = ws.lines.map((l, i) => ({ ...l, i })).filter((l) => l.kind === 'image');
  const paths = demoLines.map((l) => join(ws.dir, 'images', l.name));
  const tops = { A: await expectedTops(checkpoint, paths), B: await expectedTops(join(other, 'model.safetensors'), paths) };
  const topA = new Map(demoLines.map((l, k) => [l.i, tops.A[k]]));
  const topB = new Map(demoLines.map((l, k) => [l.i, tops.B[k]]));
  if (demoLines.some((l) => topA.get(l.i) === topB.get(l.i))) throw new Error('the two checkpoints agree on some image: they cannot be told apart');

  await daemon.configure(baseSettings({ checkpoint }));
  const uri = await daemon.open(join(ws.dir, 'swap.md'), ws.doc);
  // The model on disk from each moment on: A, B written in place, A renamed over it, deleted, B written anew.
  const epochs: { at: number; model: 'A' | 'B' | 'none'; what: string }[] = [{ at: performance.now(), model: 'A', what: 'A loaded' }];
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: 4 }, async () => {
    while (running) {
      const line = demoLines[Math.floor(uniform() * demoLines.length)].i;
      outcomes.push(await hover(daemon, uri, line));
      // A busy user, not a tight loop: errors after the deletion come back in microseconds.
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const swap = (model: 'A' | 'B' | 'none', what: string, act: () => void) => { act(); epochs.push({ at: performance.now(), model, what }); };
  await pause(1500);
  swap('B', 'B written over the file in place', () => writeFileSync(checkpoint, b));
  await pause(2500);
  swap('A', 'A renamed over it', () => { writeFileSync(`${checkpoint}.new`, a); renameSync(`${checkpoint}.new`, checkpoint); });
  await pause(2500);
  swap('none', 'deleted', () => unlinkSync(checkpoint));
  await pause(2500);
  swap('B', 'B written anew', () => writeFileSync(checkpoint, b));
  await pause(2500);
  running = false;
  await Promise.all(loops);

  const epochAt = (t: number) => epochs.reduce((k, e, i) => (e.at <= t ? i : k), 0);
  const perEpoch = epochs.map(() => ({ A: 0, B: 0, error: 0, firstNewMs: undefined as number | undefined }));
  const errorTexts = new Set<string>();
  for (const o of outcomes) {
    f.count(o);
    const first = epochAt(o.sent), last = epochAt(o.received);
    // Sent while epoch `first` held; answered by `last`: the model of any epoch between is fair.
    const allowed = new Set(epochs.slice(first, last + 1).map((e) => e.model));
    const name = ws.lines[o.line].name;
    if (o.kind === 'picture') {
      const model = o.top === topA.get(o.line) ? 'A' : o.top === topB.get(o.line) ? 'B' : undefined;
      if (!model) f.violate(`${name}: answer ${o.top} is from neither checkpoint`);
      else if (!allowed.has(model)) f.violate(`${name}: sent ${epochs[first].what}, answered from the stale model ${model}`);
      else {
        perEpoch[first][model]++;
        if (model === epochs[first].model && perEpoch[first].firstNewMs === undefined) perEpoch[first].firstNewMs = o.received - epochs[first].at;
      }
    } else if (o.kind === 'error') {
      perEpoch[first].error++;
      errorTexts.add(o.text!.replace(/\/\S+/g, '…'));
      if (!CLEAR_ERROR.test(o.text!)) f.violate(`${name}: unclear error ${o.text}`);
      if (first === 0 && last === 0) f.violate(`${name}: error before anything changed: ${o.text}`);
    } else {
      f.violate(`${name}: hover answered ${o.kind} ${o.text ?? ''}`);
    }
  }
  notes.push(`${outcomes.length} hovers from 4 concurrent loops while the checkpoint changed; per period (sent after): ` + epochs.map((e, i) =>
    `${e.what}: ${perEpoch[i].A} from A, ${perEpoch[i].B} from B, ${perEpoch[i].error} errors${perEpoch[i].firstNewMs !== undefined && i > 0 ? `, first answer from it ${perEpoch[i].firstNewMs!.toFixed(0)} ms after the change` : ''}`).join('; '));
  notes.push(`errors seen: ${[...errorTexts].join(' / ') || 'none'}`);
  // After the deletion no model is on disk: every hover sent then must be an error.
  const deleted = epochs.findIndex((e) => e.model === 'none');
  if (perEpoch[deleted].A + perEpoch[deleted].B > 0) f.violate('answers from a model after its file was deleted');
}

// ---- Main. ----

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'server.js')) || !existsSync(join(ROOT, 'dist', 'worker.js'))) throw new Error('run npm run build first');
  const started = performance.now();
  const ws = makeWorkspace();
  const sampler = new MemorySampler();
  const env = { CRATE_LENS_TEST_ABORT_ON: ABORT_IMAGE };
  const settings = baseSettings({ cacheSize: 64 });
  const demoLines = ws.lines.map((l, i) => ({ ...l, i })).filter((l) => l.kind === 'image');
  const tops = await expectedTops(defaultCheckpoint(), demoLines.map((l) => join(ws.dir, 'images', l.name)));
  const expected = new Map(demoLines.map((l, k) => [l.i, tops[k]]));
  const fresh = ws.lines.map((l, i) => ({ ...l, i })).filter((l) => l.kind === 'fresh').map((l) => l.i);
  const abortLine = ws.lines.findIndex((l) => l.kind === 'abort');

  let daemon = await Daemon.start(ws.dir, env);
  sampler.watch(daemon.process.pid!);
  try {
    await daemon.configure(settings);
    let uri = await daemon.open(join(ws.dir, 'load.md'), ws.doc);

    await phase('(a) concurrent hovers with cancellations', (f, notes) => load(daemon, uri, ws, expected, f, notes));

    await phase('(b) faults', async (f, notes) => {
      await killMidRequest(daemon, uri, fresh.slice(0, 40), fresh[40], (pid) => process.kill(pid, 'SIGKILL'), 'SIGKILL', f, notes);
      await killMidRequest(daemon, uri, fresh.slice(50, 90), fresh[90], (pid) => process.kill(pid, 'SIGSEGV'), 'SIGSEGV', f, notes);
      // The worker aborts (as a native crash would) on receiving this image, behind 20 others.
      const lines = [...fresh.slice(100, 120), abortLine, ...fresh.slice(120, 125)];
      await killMidRequest(daemon, uri, lines, fresh[125], () => undefined, 'SIGABRT', f, notes);
      // The whole daemon: its worker must go with it, and a new daemon must answer.
      const { worker } = await daemon.status();
      const t0 = performance.now();
      daemon.process.kill('SIGKILL');
      while (worker.pid && isAlive(worker.pid) && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      if (worker.pid && isAlive(worker.pid)) f.violate(`the worker ${worker.pid} outlived its killed daemon`);
      const orphanMs = performance.now() - t0;
      daemon.connection.dispose();
      daemon = await Daemon.start(ws.dir, env);
      sampler.watch(daemon.process.pid!);
      await daemon.configure(settings);
      uri = await daemon.open(join(ws.dir, 'load.md'), ws.doc);
      const answer = await hover(daemon, uri, fresh[130]);
      f.count(answer);
      if (answer.kind !== 'picture') f.violate(`the new daemon answered ${answer.kind} ${answer.text ?? ''}`);
      else f.crashesSurvived++;
      notes.push(`daemon SIGKILL: its worker exited within ${orphanMs.toFixed(0)} ms; a new daemon answered its first hover ${(performance.now() - t0).toFixed(0)} ms after the kill`);
    });

    await phase('(c) checkpoint replaced and deleted on disk', (f, notes) => replaceOnDisk(daemon, ws, f, notes));
  } finally {
    sampler.stop();
    await daemon.stop();
    rmSync(ws.dir, { recursive: true, force: true });
  }
  report(sampler, (performance.now() - started) / 1000);
}

function report(sampler: MemorySampler, wallSeconds: number): void {
  const mb = (kb: number) => (kb / 1024).toFixed(0);
  const total = new Figures();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, date: new Date().toISOString().slice(0, 10) };
  console.log(`\nCRATE Lens load and fault test, ${machine.date}, ${machine.cores}-core ${machine.cpu}, ${machine.memoryGb} GiB, Node ${machine.node}\n`);
  console.log('| phase | requests | answered | errors | no hover | cancelled | failed | crashes survived | violations | seconds |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of phases) {
    const g = p.figures;
    console.log(`| ${p.name} | ${g.requests} | ${g.pictures} | ${g.errors} | ${g.none} | ${g.cancelled} | ${g.failed} | ${g.crashesSurvived} | ${g.violations.length} | ${p.seconds.toFixed(1)} |`);
    for (const key of ['requests', 'pictures', 'errors', 'none', 'cancelled', 'failed', 'crashesSurvived'] as const) total[key] += g[key];
    total.violations.push(...g.violations);
  }
  console.log(`| **total** | ${total.requests} | ${total.pictures} | ${total.errors} | ${total.none} | ${total.cancelled} | ${total.failed} | ${total.crashesSurvived} | ${total.violations.length} | ${wallSeconds.toFixed(1)} |`);
  const peak = sampler.peak;
  console.log(`\npeak RSS (VmHWM): daemon ${mb(peak.daemon.hwmKb)} MB, inference worker ${mb(peak.worker.hwmKb)} MB; highest sampled VmRSS: daemon ${mb(peak.daemon.rssKb)} MB, worker ${mb(peak.worker.rssKb)} MB`);
  for (const p of phases) for (const n of p.notes) console.log(`- ${p.name.slice(0, 3)} ${n}`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ machine, wallSeconds, peak, phases: phases.map((p) => ({ ...p, figures: { ...p.figures } })) }, null, 2));
  if (total.violations.length > 0) {
    console.log(`\n${total.violations.length} violation(s):`);
    for (const v of total.violations) console.log(`- ${v}`);
    process.exitCode = 1;
  } else {
    console.log('\nno violations');
  }
}

main().catch((e) => { console.error(`loadtest: ${(e as Error).stack ?? e}`); process.exitCode = 1; });
