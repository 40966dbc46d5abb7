// Loads the model a spec names, with its backend, its content id and a summary for the daemon.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { chooseBackend } from '../backend/select';
import type { Backend } from '../backend/types';
import { loadModel, type LoadedModel } from '../engine/loadModel';
import { modelSummary } from '../engine/summary';
import { PRESETS } from '../model/config';
import { ALPHA_PRESETS } from '../model/families/alphaConfig';
import type { LoadedInfo, ModelSpec } from './protocol';

export interface Loaded { model: LoadedModel; backend: Backend; info: LoadedInfo }

export async function loadSpec(spec: ModelSpec, log: (message: string) => void): Promise<Loaded> {
  const started = performance.now();
  const isPreset = spec.config in PRESETS || spec.config in ALPHA_PRESETS;
  const model = loadModel({
    checkpoint: spec.checkpoint || undefined,
    config: spec.config && !isPreset ? spec.config : undefined,
    preset: isPreset ? spec.config : undefined,
    resize: spec.resize === 'config' ? undefined : spec.resize,
    imageSize: spec.imageSize || undefined,
  });
  // The worker never asks for whole activations: the CPU backend then keeps no reference to the weights.
  const { backend, note } = await chooseBackend(spec.backend, model.config, model.weights, { activations: false });
  if (note) log(note);
  const id = hashFile(model.checkpointPath, createHash('sha1')).update(JSON.stringify(model.config)).digest('hex');
  const summary = modelSummary(model, backend);
  log(`loaded ${model.checkpointPath} in ${(performance.now() - started).toFixed(0)} ms: ${model.parameters} parameters, config ${summary.configSource}, ${backend.device}`);
  for (const w of summary.configWarnings) log(`warning: ${w}`);
  return { model, backend, info: { summary, id } };
}

/** Hashes a file a megabyte at a time: reading a large checkpoint whole a second time would add its size to the peak memory. */
function hashFile(path: string, hash: Hash): Hash {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, chunk, 0, chunk.length, null); n > 0; n = readSync(fd, chunk, 0, chunk.length, null)) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash;
}
