// Bundles the extension client, the daemon and its inference worker, the CLI and the webview with esbuild.
import * as esbuild from 'esbuild';

import { readFileSync } from 'node:fs';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'info',
  define: { CRATE_LENS_VERSION: JSON.stringify(pkg.version) },
  // Native addons stay outside the bundle and are resolved from node_modules at run time.
  external: ['vscode', 'onnxruntime-node', 'webgpu'],
};

const builds = [
  { ...common, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...common, entryPoints: ['server/main.ts'], outfile: 'dist/server.js' },
  // The daemon's inference worker (a child process: a native crash there spares the daemon).
  { ...common, entryPoints: ['server/worker/main.ts'], outfile: 'dist/worker.js' },
  { ...common, entryPoints: ['server/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // The layer comparison page: a browser bundle (script and stylesheet) with its web components and
  // charts inside, loaded by the webview from dist/webview/ only.
  {
    entryPoints: ['webview/main.ts'],
    outdir: 'dist/webview',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome114',
    minify: true,
    sourcemap: false,
    logLevel: 'info',
    legalComments: 'eof',
  },
];

if (watch) {
  for (const options of builds) (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
