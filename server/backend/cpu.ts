// CPU backend: the CRATE graph run by onnxruntime-node's CPU execution provider.
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { CrateConfig } from '../model/config';
import type { ModelWeights } from '../model/families/alpha';
import { LAYER_OUTPUTS, layerOutputName } from './onnx/graphParts';
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
}

/** Builds the session exporting the ISTA inputs on first use; holds the weights until then. */
function lazyActivationSession(config: CrateConfig, weights: ModelWeights, threads: number): () => Promise<ort.InferenceSession> {
  let session: Promise<ort.InferenceSession> | undefined;
  return () => (session ??= ort.InferenceSession.create(buildModelGraph(config, weights, { activations: true }), sessionOptions(threads)));
}

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
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

export async function createCpuBackend(config: CrateConfig, weights: ModelWeights, options: CpuBackendOptions = {}): Promise<Backend> {
  const threads = options.threads ?? Math.max(1, cpus().length);
  // A second session exporting the ISTA inputs whole is built only when a caller asks for them.
  const activationSession = options.activations === false ? undefined : lazyActivationSession(config, weights, threads);
  let withActivations: Promise<ort.InferenceSession> | undefined;
  const session = await ort.InferenceSession.create(buildModelGraph(config, weights), sessionOptions(threads));
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
        if (forwardOptions.activations) layer.istaInput = get(layerOutputName(l, 'istaInput'));
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
