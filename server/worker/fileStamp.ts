// A cheap fingerprint of the files a model is read from (checkpoint, config, sidecar configs), so that
// a request can tell in a few stat calls whether the loaded model still matches what is on disk.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultCheckpoint } from '../engine/defaultModel';
import { PRESETS, sidecarCandidates } from '../model/config';
import { ALPHA_PRESETS } from '../model/families/alphaConfig';
import type { ModelSpec } from './protocol';

/** The checkpoint the spec names, resolved; undefined when the embedded default model is missing. */
export function checkpointOf(spec: ModelSpec): string | undefined {
  if (spec.checkpoint) return resolve(spec.checkpoint);
  try {
    return defaultCheckpoint();
  } catch {
    return undefined;
  }
}

function stampOf(path: string): string {
  try {
    // Inode, size and nanosecond times: a file rewritten in place with the same size still differs.
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

/** When any of the files last changed (content or inode), in ms since the epoch; 0 when none exists. */
export function lastChangeMs(files: string[]): number {
  let last = 0;
  for (const f of files) {
    try {
      const s = statSync(f);
      last = Math.max(last, s.mtimeMs, s.ctimeMs);
    } catch { /* missing */ }
  }
  return last;
}

/** The files a model is read from; sidecar candidates are included whether they exist or not. */
export function modelFiles(spec: ModelSpec): string[] {
  const checkpoint = checkpointOf(spec);
  const files: string[] = [];
  if (checkpoint) files.push(checkpoint, ...sidecarCandidates(checkpoint));
  if (spec.config && !(spec.config in PRESETS) && !(spec.config in ALPHA_PRESETS)) files.push(resolve(spec.config));
  return files;
}

export function modelFilesStamp(spec: ModelSpec): string {
  return modelFiles(spec).map((f) => `${f}=${stampOf(f)}`).join('|');
}
