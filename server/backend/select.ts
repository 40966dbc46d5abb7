// Chooses the backend for a model from the user's setting: `auto` takes a hardware GPU through
// WebGPU when one exists (never a software adapter) and the CPU otherwise.
import type { CrateConfig } from '../model/config';
import type { ModelWeights } from '../model/families/alpha';
import { createCpuBackend, type CpuBackendOptions } from './cpu';
import type { Backend } from './types';

export type BackendSetting = 'cpu' | 'auto' | 'webgpu';

export interface BackendChoice { backend: Backend; note?: string }

/** Passed on to the CPU backend (see CpuBackendOptions). */
export type ChoiceOptions = Pick<CpuBackendOptions, 'activations' | 'beforeSession'>;

export async function createBackend(setting: BackendSetting, config: CrateConfig, weights: ModelWeights): Promise<Backend> {
  return (await chooseBackend(setting, config, weights)).backend;
}

/**
 * Like createBackend, with a note when `auto` fell back to the CPU and why. Not async, and the weights
 * wait in a holder that the CPU path empties: a suspended async frame would keep them alive while
 * onnxruntime makes its own copies, which is the peak of a load (see createCpuBackend).
 */
export function chooseBackend(setting: BackendSetting, config: CrateConfig, weights: ModelWeights, cpu: ChoiceOptions = {}): Promise<BackendChoice> {
  if (setting === 'cpu') return createCpuBackend(config, weights, cpu).then((backend) => ({ backend }));
  const held: { weights?: ModelWeights } = { weights };
  return chooseWithGpu(setting, config, held, cpu);
}

/** createCpuBackend on the held weights, which it empties; sync so no async frame sees them. */
function cpuFromHeld(config: CrateConfig, held: { weights?: ModelWeights }, cpu: ChoiceOptions): Promise<Backend> {
  const weights = held.weights!;
  held.weights = undefined;
  return createCpuBackend(config, weights, cpu);
}

async function chooseWithGpu(setting: 'auto' | 'webgpu', config: CrateConfig, held: { weights?: ModelWeights }, cpu: ChoiceOptions): Promise<BackendChoice> {
  // Loaded lazily: a machine whose Dawn addon cannot load still runs on the CPU.
  const webgpu = await import('./webgpu');
  // The Vulkan loader complains on every start without a runtime folder.
  webgpu.ensureRuntimeDir();
  if (setting === 'webgpu') return { backend: await webgpu.createWebGpuBackend(config, held.weights!, { allowSoftware: true }) };
  let reason: string;
  try {
    const picked = await webgpu.pickAdapter('auto');
    if (picked) return { backend: await webgpu.createWebGpuBackend(config, held.weights!, { allowSoftware: false, picked }) };
    reason = 'no hardware WebGPU adapter';
  } catch (e) {
    reason = `WebGPU failed: ${(e as Error).message}`;
  }
  const fallback = cpuFromHeld(config, held, cpu);
  return { backend: await fallback, note: `backend auto: ${reason}, using the CPU` };
}
