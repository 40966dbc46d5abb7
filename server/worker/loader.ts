// Loads the model a spec names, with its backend, its content id and a summary for the daemon.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { chooseBackend, type BackendChoice } from '../backend/select';
import type { Backend } from '../backend/types';
import { copyDictionaries, type DictionarySource } from '../engine/inspect';
import { loadModel, type LoadedModel } from '../engine/loadModel';
import { modelSummary } from '../engine/summary';
import { PRESETS } from '../model/config';
import { ALPHA_PRESETS } from '../model/families/alphaConfig';
import { collectGarbage } from './collectGarbage';
import type { LoadedInfo, ModelSpec } from './protocol';

/** What a load keeps: the model's description, copies of its dictionaries (Inspect), the backend. */
export interface Loaded { dictionaries: DictionarySource; backend: Backend; info: LoadedInfo }

type Described = Omit<LoadedModel, 'weights'>;

/**
 * Reads the checkpoint and starts the backend's creation. Not async: the weights leave with the
 * backend's creation and no suspended frame of the load keeps them, so the checkpoint's buffer can be
 * collected before onnxruntime makes its copies (the peak of a load).
 */
function startLoad(spec: ModelSpec): { model: Described; dictionaries: DictionarySource; choice: Promise<BackendChoice> } {
  const isPreset = spec.config in PRESETS || spec.config in ALPHA_PRESETS;
  const loaded = loadModel({
    checkpoint: spec.checkpoint || undefined,
    config: spec.config && !isPreset ? spec.config : undefined,
    preset: isPreset ? spec.config : undefined,
    resize: spec.resize === 'config' ? undefined : spec.resize,
    imageSize: spec.imageSize || undefined,
  });
  const { weights, ...model } = loaded;
  // The worker never asks for whole activations: the CPU backend then keeps no reference to the weights.
  return { model, dictionaries: copyDictionaries(loaded), choice: chooseBackend(spec.backend, model.config, weights, { activations: false, beforeSession: collectGarbage }) };
}

export async function loadSpec(spec: ModelSpec, log: (message: string) => void): Promise<Loaded> {
  const started = performance.now();
  const { model, dictionaries, choice } = startLoad(spec);
  const { backend, note } = await choice;
  if (note) log(note);
  const id = hashFile(model.checkpointPath, createHash('sha1')).update(JSON.stringify(model.config)).digest('hex');
  const summary = modelSummary(model, backend);
  log(`loaded ${model.checkpointPath} in ${(performance.now() - started).toFixed(0)} ms: ${model.parameters} parameters, config ${summary.configSource}, ${backend.device}`);
  for (const w of summary.configWarnings) log(`warning: ${w}`);
  return { dictionaries, backend, info: { summary, id } };
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
