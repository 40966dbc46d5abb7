// CPU backend: the CRATE graph run by onnxruntime-node's CPU execution provider.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { CrateConfig } from '../model/config';
import type { ModelWeights } from '../model/families/alpha';
import { ACTIVATION_OUTPUTS, LAYER_OUTPUTS, layerOutputName } from './onnx/graphParts';
import { buildModelGraph } from './onnx/modelGraph';
import type { Backend, ForwardCapture, ForwardOptions, LayerCapture } from './types';

export interface CpuBackendOptions {
  threads?: number;
  /**
   * Whether forward passes may ask for the ISTA inputs whole (a second session, built on first use
   * from the weights). Without, the backend keeps no reference to the weights, so the checkpoint's
   * memory can be freed once the session holds its own copy.
   */
  activations?: boolean;
  /**
   * Called just before onnxruntime reads the model, in a later task than the call (when every frame
   * that held the weights has returned): the inference worker collects garbage there, so the
   * checkpoint it let go of is not alive next to onnxruntime's copies.
   */
  beforeSession?: () => void;
}

/** Builds the session exporting the ISTA inputs on first use; holds the weights until then. */
function lazyActivationSession(config: CrateConfig, weights: ModelWeights, threads: number): () => Promise<ort.InferenceSession> {
  let session: Promise<ort.InferenceSession> | undefined;
  return () => (session ??= ort.InferenceSession.create(buildModelGraph(config, weights, { activations: true }), sessionOptions(threads)));
}

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    // The memory pattern planned after the first run gets a block of its own next to the arena's
    // chunks from that run: about 50 MB more for CRATE-B, no faster here.
    enableMemPattern: false,
    // Idle threads sleep instead of spinning: a daemon waiting for the next hover must not hold the CPU
    // (and a spinning pool slows whatever runs next, PyTorch in the benchmark included).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** A session computing the logits alone: the bare forward pass, for benchmarks against PyTorch. */
export async function createBareCpuSession(config: CrateConfig, weights: ModelWeights, threads = Math.max(1, cpus().length)) {
  const session = await ort.InferenceSession.create(buildModelGraph(config, weights, { captures: false }), sessionOptions(threads));
  return {
    async logits(input: Float32Array, batch: number): Promise<Float32Array> {
      const out = await session.run({ pixels: new ort.Tensor('float32', input, [batch, config.channels, config.imageSize, config.imageSize]) });
      return out.logits.data as Float32Array;
    },
    release: () => session.release(),
  };
}

/**
 * The model for onnxruntime goes to a private temporary file when it can: onnxruntime then reads it
 * from disk while it makes its own copies, and our buffer of about the weights' size is not alive next
 * to them (the session's creation is the peak of a model load).
 */
function writeSessionSource(bytes: Uint8Array): { source: string | Uint8Array; remove(): void } {
  let dir: string | undefined;
  const removeDir = (folder: string) => { try { rmSync(folder, { recursive: true, force: true }); } catch { /* a leftover temp file only */ } };
  try {
    dir = mkdtempSync(join(tmpdir(), 'crate-lens-model-'));
    const file = join(dir, 'model.onnx');
    writeFileSync(file, bytes, { mode: 0o600 });
    const folder = dir;
    return { source: file, remove: () => removeDir(folder) };
  } catch {
    // No writable temp folder (or it is full): hand the bytes over directly, at the cost of the peak.
    if (dir) removeDir(dir);
    return { source: bytes, remove: () => {} };
  }
}

/** Not async, like createCpuBackend: the bytes are garbage once written. */
function createSession(bytes: Uint8Array, threads: number, beforeSession?: () => void): Promise<ort.InferenceSession> {
  const { source, remove } = writeSessionSource(bytes);
  const created = new Promise<void>((ready) => setImmediate(ready)).then(() => {
    beforeSession?.();
    return typeof source === 'string'
      ? ort.InferenceSession.create(source, sessionOptions(threads))
      : ort.InferenceSession.create(source, sessionOptions(threads));
  });
  return created.finally(remove);
}

/**
 * Not async on purpose: once the graph is built, no frame of this call keeps `weights` alive while the
 * session is created (a suspended async function keeps its parameters), so a caller that lets go of
 * them (the inference worker) has them collected before the peak.
 */
export function createCpuBackend(config: CrateConfig, weights: ModelWeights, options: CpuBackendOptions = {}): Promise<Backend> {
  const threads = options.threads ?? Math.max(1, cpus().length);
  // A second session exporting the ISTA inputs whole is built only when a caller asks for them.
  const activationSession = options.activations === false ? undefined : lazyActivationSession(config, weights, threads);
  return cpuBackend(config, threads, createSession(buildModelGraph(config, weights), threads, options.beforeSession), activationSession);
}

async function cpuBackend(config: CrateConfig, threads: number, created: Promise<ort.InferenceSession>, activationSession: (() => Promise<ort.InferenceSession>) | undefined): Promise<Backend> {
  let withActivations: Promise<ort.InferenceSession> | undefined;
  const session = await created;
  const { imageSize, channels } = config;
  return {
    name: 'cpu',
    device: `onnxruntime-node ${ort.env.versions.common}, CPU, ${threads} thread${threads === 1 ? '' : 's'}`,
    async forward(input: Float32Array, batch: number, forwardOptions: ForwardOptions = {}): Promise<ForwardCapture> {
      const expected = batch * channels * imageSize * imageSize;
      if (input.length !== expected) throw new Error(`input has ${input.length} values, expected ${expected}`);
      if (forwardOptions.activations && !activationSession) throw new Error('this CPU backend was created without activation captures');
      if (forwardOptions.activations) withActivations = activationSession!();
      const runner = forwardOptions.activations ? await withActivations! : session;
      const extremes = !!forwardOptions.headExtremes;
      const result = await runner.run({
        pixels: new ort.Tensor('float32', input, [batch, channels, imageSize, imageSize]),
        extremes: new ort.Tensor('bool', Uint8Array.of(extremes ? 1 : 0), []),
      });
      const get = (name: string): Float32Array => result[name].data as Float32Array;
      const layers: LayerCapture[] = [];
      for (let l = 0; l < config.depth; l++) {
        const layer = Object.fromEntries(LAYER_OUTPUTS.map((o) => [o, get(layerOutputName(l, o))])) as unknown as LayerCapture;
        if (!extremes) { delete layer.attnMax; delete layer.attnMin; }
        if (forwardOptions.activations) for (const o of ACTIVATION_OUTPUTS) layer[o] = get(layerOutputName(l, o));
        layers.push(layer);
      }
      return { batch, logits: get('logits'), layers, patchGram: get('patchGram') };
    },
    async dispose() {
      await session.release();
      if (withActivations) await (await withActivations).release();
    },
  };
}
