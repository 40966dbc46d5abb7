// The embedded default model: a CRATE trained on Fashion-MNIST that ships with CRATE Lens.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DEFAULT_MODEL_FILE = join('media', 'default-model', 'fashion-crate.safetensors');

/** The package root: the nearest folder above this bundle (or source file) whose package.json is CRATE Lens's. */
export function packageRoot(from = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'crate-lens') return dir;
      } catch { /* not ours: keep looking */ }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export function defaultCheckpoint(): string {
  const root = packageRoot();
  const path = root && join(root, DEFAULT_MODEL_FILE);
  if (!path || !existsSync(path)) throw new Error(`the embedded default model is missing (${DEFAULT_MODEL_FILE}); pass --checkpoint`);
  return path;
}
