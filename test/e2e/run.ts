// End-to-end tests in a real VS Code: code-server (VS Code 1.100 for the browser) with the extension
// installed, driven through headless Chromium. Usage (see docs/e2e.md):
//   npm run test:e2e -- [--only=hover,inspect] [--vsix] [--no-build] [--update-docs] [--keep]
// The last line printed is "N passed, N failed"; the exit status is non-zero when a spec fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync, cpSync, createWriteStream, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator } from 'playwright-core';
import { assert, ensureDir, outPath, sleep, until, Workbench, type E2E } from './harness';
import { specs as allSpecs } from './specs';

const ROOT = resolve(__dirname, '..', '..');
const SCRATCH = join(ROOT, '.e2e', 'run');
const OUT = join(ROOT, 'test-output', 'e2e');
const DOCS_SHOTS = join(ROOT, 'docs', 'screenshots');
const CODE_SERVER_DIR = process.env.CODE_SERVER_DIR ?? join(ROOT, '.e2e', 'code-server');
const CODE_SERVER = join(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const DEFAULT_MODEL = join(ROOT, 'media', 'default-model', 'fashion-crate.safetensors');
const FALLBACK_CHECKPOINT = join(ROOT, 'test', 'fixtures', 'golden', 'odd_shapes', 'model.pth');
const VIEWPORT = { width: 1440, height: 900 };

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',').filter(Boolean);

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (message: string) => console.log(`[e2e ${elapsed().padStart(7)}] ${message}`);

function run(command: string, argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const r = spawnSync(command, argv, { stdio: 'inherit', cwd: options.cwd ?? ROOT, env: options.env ?? process.env });
  if (r.status !== 0) throw new Error(`${command} ${argv.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** Hard links a tree (copies where linking fails), skipping what `skip` rejects. */
function linkTree(from: string, to: string, skip: (rel: string) => boolean = () => false, base = from): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name), dst = join(to, name);
    if (skip(relative(base, src))) continue;
    if (statSync(src).isDirectory()) linkTree(src, dst, skip, base);
    else {
      try { linkSync(src, dst); } catch { copyFileSync(src, dst); }
    }
  }
}

/**
 * The extension as installed from its package: package.json, README, dist/*.js, media/, and the
 * packages the bundles require at run time (found by scanning them: onnxruntime-node, its
 * onnxruntime-common, webgpu), with only this platform's native binaries. Files are hard-linked.
 * vscode-languageclient is bundled into dist/extension.js.
 */
function stageExtension(extensionsDir: string, version: string): string {
  const dir = join(extensionsDir, `crate-lens.crate-lens-${version}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'README.md', 'LICENSE']) if (existsSync(join(ROOT, f))) copyFileSync(join(ROOT, f), join(dir, f));
  linkTree(join(ROOT, 'dist'), join(dir, 'dist'), (rel) => rel.endsWith('.map'));
  if (existsSync(join(ROOT, 'media'))) linkTree(join(ROOT, 'media'), join(dir, 'media'));
  const external = new Set<string>();
  for (const bundle of ['extension.js', 'server.js', 'worker.js']) {
    const code = readFileSync(join(ROOT, 'dist', bundle), 'utf8');
    for (const m of code.matchAll(/require\("([^"./][^"]*)"\)/g)) {
      const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
      if (existsSync(join(ROOT, 'node_modules', name))) external.add(name);
    }
  }
  // Native packages ship every platform's binaries: link only this one's
  // (onnxruntime-node: bin/napi-v6/linux/x64/, webgpu: dist/linux-x64/ or dist/darwin-universal/).
  const otherPlatform = (rel: string) => {
    const napi = /^bin\/napi-v\d+\/([^/]+)\/([^/]+)\//.exec(rel);
    if (napi) return napi[1] !== process.platform || napi[2] !== process.arch;
    const dist = /^dist\/(darwin|linux|win32)-([^/]+)\//.exec(rel);
    if (dist) return dist[1] !== process.platform || (dist[2] !== process.arch && dist[2] !== 'universal');
    return false;
  };
  const queue = [...external];
  while (queue.length) {
    const name = queue.shift()!;
    const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
    linkTree(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), (rel) => otherPlatform(rel) || rel.endsWith('.map'));
    // onnxruntime-node needs onnxruntime-common at run time; its other dependencies (adm-zip,
    // global-agent) and webgpu's (debug, @webgpu/types) only serve installing and typing.
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!external.has(dep) && dep.startsWith('onnxruntime')) { external.add(dep); queue.push(dep); }
    }
  }
  log(`staged the extension in ${relative(ROOT, dir)} with ${[...external].join(', ') || 'no external modules'}`);
  return dir;
}

/** A scratch copy of the demo workspace (or a small one built from the test images). */
function prepareWorkspace(dir: string): { markdown: string; python: string; note?: string } {
  const demo = join(ROOT, 'demo');
  if (existsSync(join(demo, 'README.md')) && existsSync(join(demo, 'inspect_samples.py')) && existsSync(join(demo, 'images'))) {
    cpSync(demo, dir, { recursive: true, filter: (src) => !/__pycache__|\.vscode/.test(src) });
    return { markdown: 'README.md', python: 'inspect_samples.py' };
  }
  // demo/ incomplete: the same shape from test/fixtures/images.
  mkdirSync(join(dir, 'images'), { recursive: true });
  const images = readdirSync(join(ROOT, 'test', 'fixtures', 'images')).filter((f) => f.endsWith('.png')).sort();
  for (const f of images) copyFileSync(join(ROOT, 'test', 'fixtures', 'images', f), join(dir, 'images', f));
  writeFileSync(join(dir, 'README.md'), `# Sample images\n\n${images.map((f) => `![${f}](images/${f})`).join('\n\n')}\n`);
  writeFileSync(join(dir, 'inspect_samples.py'), `SAMPLES = [\n${images.map((f) => `    "images/${f}",`).join('\n')}\n]\n\nfor path in SAMPLES:\n    print(path)\n`);
  return { markdown: 'README.md', python: 'inspect_samples.py', note: 'demo/ is incomplete: using a workspace built from test/fixtures/images' };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Stops a process started with `detached` (its own process group), then its whole group. */
async function stopGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid) return;
  const signal = (s: NodeJS.Signals) => { try { process.kill(-child.pid!, s); return true; } catch { return false; } };
  if (!signal('SIGTERM')) return;
  for (let i = 0; i < 30; i++) {
    await sleep(200);
    if (!signal(0 as unknown as NodeJS.Signals)) return;
  }
  signal('SIGKILL');
}

interface Outcome { name: string; ok: boolean; seconds: number; error?: string }

async function main(): Promise<number> {
  const specs = allSpecs.filter((s) => !only || only.some((o) => s.name.includes(o)));
  if (specs.length === 0) throw new Error(`no spec matches --only=${only?.join(',')}`);

  // 1. code-server (skipped when present), the bundles, the extension.
  if (!existsSync(CODE_SERVER)) {
    log('installing code-server (once)');
    run('sh', [join(ROOT, 'scripts', 'install-code-server.sh'), CODE_SERVER_DIR]);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM)`);
  if (!flag('no-build')) {
    log('npm run build');
    run('npm', ['run', '--silent', 'build']);
  }
  rmSync(SCRATCH, { recursive: true, force: true });
  rmSync(OUT, { recursive: true, force: true });
  ensureDir(OUT);
  const home = ensureDir(join(SCRATCH, 'home'));
  const userData = ensureDir(join(SCRATCH, 'user-data'));
  const extensionsDir = ensureDir(join(SCRATCH, 'extensions'));
  const workspace = ensureDir(join(SCRATCH, 'workspace'));
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VSCODE_') && !k.startsWith('npm_') && k !== 'ELECTRON_RUN_AS_NODE')),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
  };
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
  if (flag('vsix')) {
    log('npm run package:vsix, then code-server --install-extension');
    run('npm', ['run', '--silent', 'package:vsix']);
    run(CODE_SERVER, ['--extensions-dir', extensionsDir, '--user-data-dir', userData, '--install-extension', join(ROOT, `crate-lens-linux-x64-${version}.vsix`)], { env });
  } else {
    stageExtension(extensionsDir, version);
  }

  // 2. The workspace and the user settings.
  const files = prepareWorkspace(workspace);
  if (files.note) log(`note: ${files.note}`);
  const settings: Record<string, unknown> = {
    'editor.hover.delay': 150,
    'editor.hover.sticky': true,
    'editor.hover.above': false,
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'git.enabled': false,
    'window.restoreWindows': 'none',
    'files.hotExit': 'off',
    'chat.commandCenter.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
  };
  let checkpoint = DEFAULT_MODEL;
  if (!existsSync(DEFAULT_MODEL)) {
    checkpoint = FALLBACK_CHECKPOINT;
    settings['crateLens.checkpoint'] = FALLBACK_CHECKPOINT;
    log(`note: ${relative(ROOT, DEFAULT_MODEL)} does not exist yet: crateLens.checkpoint = ${relative(ROOT, FALLBACK_CHECKPOINT)}`);
  }
  ensureDir(join(userData, 'User'));
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const inspect = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'inspect', checkpoint, '--format', 'json'], { encoding: 'utf8' });
  if (inspect.status !== 0) throw new Error(`crate-lens inspect ${checkpoint} failed: ${inspect.stderr}`);
  const expectedParameters = JSON.parse(inspect.stdout).model.parameters as number;

  // 3. code-server in its own process group.
  const port = await freePort();
  const serverLog = createWriteStream(join(OUT, 'code-server.log'));
  log(`starting code-server on 127.0.0.1:${port}`);
  const server = spawn(CODE_SERVER, [
    '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened',
    '--user-data-dir', userData, '--extensions-dir', extensionsDir, workspace,
  ], { cwd: workspace, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.pipe(serverLog);
  server.stderr!.pipe(serverLog);
  let exited: string | undefined;
  server.on('exit', (code, signal) => { exited = `code-server exited (${code ?? signal})`; });

  let context: BrowserContext | undefined;
  const outcomes: Outcome[] = [];
  const cleanup = async () => {
    await context?.close().catch(() => undefined);
    await stopGroup(server);
  };
  const onSignal = () => { void cleanup().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const base = `http://127.0.0.1:${port}`;
    await until('code-server /healthz', async () => {
      if (exited) throw new Error(exited);
      return (await fetch(`${base}/healthz`).catch(() => undefined))?.ok;
    }, 60_000, 250);
    log('code-server answers /healthz');

    context = await chromium.launchPersistentContext(ensureDir(join(SCRATCH, 'browser-profile')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: VIEWPORT,
      env,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    // tsx compiles with keepNames: functions sent to the page may call __name.
    await context.addInitScript('globalThis.__name = globalThis.__name || ((f) => f);');
    const page = context.pages()[0] ?? await context.newPage();
    const browserLog = createWriteStream(join(OUT, 'browser-console.log'));
    page.on('console', (m) => browserLog.write(`[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => browserLog.write(`[pageerror] ${e.message}\n`));
    await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
    const wb = new Workbench(page);
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: files.markdown }).first().waitFor({ state: 'visible', timeout: 90_000 });
    log('workbench ready');

    let step = 0;
    for (const spec of specs) {
      const t0 = Date.now();
      const shots: string[] = [];
      const t: E2E = {
        page, wb, workspace, expectedParameters,
        log: (m) => log(`  ${spec.name}: ${m}`),
        shot: async (name) => {
          await sleep(300);
          const path = outPath(OUT, `${String(++step).padStart(2, '0')}-${spec.name}-${name}.png`);
          await page.screenshot({ path });
          shots.push(path);
          return path;
        },
        shotAround: async (name, targets: Locator[], padding = 24) => {
          await sleep(300);
          const boxes = (await Promise.all(targets.map((l) => l.boundingBox({ timeout: 3000 }).catch(() => null)))).filter((b): b is NonNullable<typeof b> => !!b);
          assert(boxes.length > 0, `nothing to screenshot for ${name}`);
          const x0 = Math.max(0, Math.min(...boxes.map((b) => b.x)) - padding), y0 = Math.max(0, Math.min(...boxes.map((b) => b.y)) - padding);
          const x1 = Math.min(VIEWPORT.width, Math.max(...boxes.map((b) => b.x + b.width)) + padding);
          const y1 = Math.min(VIEWPORT.height, Math.max(...boxes.map((b) => b.y + b.height)) + padding);
          const path = outPath(OUT, `${String(++step).padStart(2, '0')}-${spec.name}-${name}.png`);
          await page.screenshot({ path, clip: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } });
          shots.push(path);
          return path;
        },
      };
      log(`▶ ${spec.name}`);
      let error: string | undefined;
      try {
        if (exited) throw new Error(exited);
        await wb.dismiss();
        await wb.runCommand('View: Close All Editors').catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const timeoutMs = spec.timeoutMs ?? 180_000;
        await Promise.race([
          spec.run(t),
          new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`spec timed out after ${timeoutMs / 1000} s`)), timeoutMs); }),
        ]).finally(() => clearTimeout(timer));
      } catch (e) {
        error = (e as Error).message.split('\n').slice(0, 6).join('\n');
        await t.shot('FAILED').catch(() => undefined);
      }
      const seconds = (Date.now() - t0) / 1000;
      outcomes.push({ name: spec.name, ok: !error, seconds, error });
      log(`${error ? '✗' : '✓'} ${spec.name} (${seconds.toFixed(1)} s)${error ? `\n    ${error.replace(/\n/g, '\n    ')}` : ''}`);
    }

    if (flag('update-docs') && outcomes.every((o) => o.ok)) updateDocs();
  } finally {
    await cleanup();
    // The extension's own log and the extension host log, for failures.
    const logs = join(userData, 'logs');
    if (existsSync(logs)) cpSync(logs, join(OUT, 'vscode-logs'), { recursive: true });
    if (!flag('keep')) rmSync(join(SCRATCH, 'browser-profile'), { recursive: true, force: true });
  }

  const passed = outcomes.filter((o) => o.ok).length;
  const failed = outcomes.length - passed;
  log(`screenshots and logs: ${relative(ROOT, OUT)}/ (total ${elapsed()})`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

/** Copies the screenshots the docs show (names in specs: "doc-*") to docs/screenshots/. */
function updateDocs(): void {
  ensureDir(DOCS_SHOTS);
  for (const f of readdirSync(OUT)) {
    const m = /^\d+-[a-z-]+-doc-(.+\.png)$/.exec(f);
    if (m) { copyFileSync(join(OUT, f), join(DOCS_SHOTS, m[1])); log(`docs/screenshots/${m[1]} updated`); }
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(`[e2e] ${(e as Error).stack ?? e}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
