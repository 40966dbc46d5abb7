// The WebGPU backend: owns the device, re-creates it (and re-uploads the weights) after a loss,
// and serialises forward passes, which share the device's working buffers.
import type { CrateConfig } from '../../model/config';
import type { ModelWeights } from '../../model/families/alpha';
import type { Backend, ForwardCapture } from '../types';
import { pickAdapter, type AdapterSummary, type PickedAdapter, type PickOptions } from './adapters';
import { GpuModel, withErrorScopes, type ModelOptions } from './gpuModel';
import type { KernelStyle } from './kernels';

export interface WebGpuBackendOptions extends PickOptions, ModelOptions {
  /** Accept a software/fallback adapter (SwiftShader, lavapipe). Default true: WebGPU was asked for by name. */
  allowSoftware?: boolean;
  /** An adapter from `pickAdapter`, used for the first device instead of picking again. */
  picked?: PickedAdapter;
  /** Told when the device is lost between calls (a loss during a call is that call's error). */
  onDeviceLost?: (message: string) => void;
}

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  readonly adapter: AdapterSummary;
  /** The kernel style in use (see KernelStyle). */
  readonly kernels: KernelStyle;
  /** Images per GPU pass; larger batches run as several passes. */
  readonly maxImagesPerPass: number;
  /** Destroys the device as a driver reset would: for tests of the recovery path. */
  simulateDeviceLoss(): void;
}

/** Holds the GPU entry point too: Dawn tears down its instance when that object is collected, devices or not. */
interface Session {
  device: GPUDevice; model: GpuModel; summary: AdapterSummary; picked: PickedAdapter;
  lost?: GPUDeviceLostInfo;
  /** The loss was already the error of a call. */
  reported?: boolean;
}

const LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupsPerDimension',
] as const;

function describeLoss(info: GPUDeviceLostInfo): string {
  return `WebGPU device lost (${info.reason}${info.message ? `: ${info.message.trim()}` : ''})`;
}

export async function createWebGpuBackend(config: CrateConfig, weights: ModelWeights, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const allowSoftware = options.allowSoftware ?? true;
  const mode = allowSoftware ? 'webgpu' : 'auto';
  const styleFor = (s: AdapterSummary): KernelStyle => options.kernels ?? (s.software ? 'serial' : 'cooperative');
  let disposed = false;

  const open = async (picked?: PickedAdapter): Promise<Session> => {
    const choice = picked ?? await pickAdapter(mode, options);
    if (!choice) throw new Error(allowSoftware ? 'no WebGPU adapter found' : 'no hardware WebGPU adapter found (software adapters are not allowed)');
    if (choice.summary.software && !allowSoftware) throw new Error(`WebGPU adapter ${choice.summary.label} is a software adapter, which is not allowed here`);
    const al = choice.adapter.limits;
    const requiredLimits: Record<string, number> = {};
    for (const key of LIMITS) requiredLimits[key] = al[key];
    const device = await choice.adapter.requestDevice({ requiredLimits, label: 'crate-lens' });
    const session: Session = { device, model: undefined as unknown as GpuModel, summary: choice.summary, picked: choice };
    void device.lost.then((info) => { session.lost = info; });
    try {
      session.model = await withErrorScopes(device, 'the model weights', () => new GpuModel(device, config, weights, { ...options, kernels: styleFor(choice.summary) }));
    } catch (e) {
      device.destroy();
      throw e;
    }
    return session;
  };

  let session: Session | undefined = await open(options.picked);
  // Kept apart from the session so that describing a disposed backend holds no device.
  let summary = session.summary;
  let maxImages = session.model.maxImages;
  let queue: Promise<unknown> = Promise.resolve();

  const forwardOnce = async (input: Float32Array, batch: number): Promise<ForwardCapture> => {
    if (disposed) throw new Error('the WebGPU backend has been disposed');
    if (!session || session.lost) {
      if (session?.lost && !session.reported) options.onDeviceLost?.(`${describeLoss(session.lost)}; re-creating it`);
      session = undefined;
      session = await open();
      summary = session.summary;
      maxImages = session.model.maxImages;
    }
    const current = session;
    try {
      return await current.model.forward(input, batch);
    } catch (e) {
      // Dawn reports a loss through `device.lost`, which may settle just after the failing call.
      const lost = current.lost ?? await Promise.race([current.device.lost, new Promise<undefined>((r) => setTimeout(r, 200))]);
      if (lost && !disposed) {
        current.lost = lost;
        current.reported = true;
        throw new Error(`${describeLoss(lost)} during the forward pass; the next call re-creates the device (${(e as Error).message})`);
      }
      throw e;
    }
  };

  return {
    name: 'webgpu',
    get device() { return `WebGPU (Dawn) on ${summary.label}`; },
    get adapter() { return summary; },
    get maxImagesPerPass() { return maxImages; },
    get kernels() { return styleFor(summary); },
    forward(input: Float32Array, batch: number): Promise<ForwardCapture> {
      const run = queue.then(() => forwardOnce(input, batch));
      queue = run.catch(() => undefined);
      return run;
    },
    simulateDeviceLoss() { session?.device.destroy(); },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      session?.model.destroy();
      session?.device.destroy();
      session = undefined;
    },
  };
}
