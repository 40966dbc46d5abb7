// Chooses the backend for a model from the user's setting: `auto` takes a hardware GPU through
// WebGPU when one exists (never a software adapter) and the CPU otherwise.
import type { CrateConfig } from '../model/config';
import type { ModelWeights } from '../model/families/alpha';
import { createCpuBackend } from './cpu';
import type { Backend } from './types';

export type BackendSetting = 'cpu' | 'auto' | 'webgpu';

export interface BackendChoice { backend: Backend; note?: string }

/** Passed on to the CPU backend (see CpuBackendOptions). */
export interface ChoiceOptions { activations?: boolean }

export async function createBackend(setting: BackendSetting, config: CrateConfig, weights: ModelWeights): Promise<Backend> {
  return (await chooseBackend(setting, config, weights)).backend;
}

/** Like createBackend, with a note when `auto` fell back to the CPU and why. */
export async function chooseBackend(setting: BackendSetting, config: CrateConfig, weights: ModelWeights, cpu: ChoiceOptions = {}): Promise<BackendChoice> {
  if (setting === 'cpu') return { backend: await createCpuBackend(config, weights, cpu) };
  // Loaded lazily: a machine whose Dawn addon cannot load still runs on the CPU.
  const webgpu = await import('./webgpu');
  // The Vulkan loader complains on every start without a runtime folder.
  webgpu.ensureRuntimeDir();
  if (setting === 'webgpu') return { backend: await webgpu.createWebGpuBackend(config, weights, { allowSoftware: true }) };
  let reason: string;
  try {
    const picked = await webgpu.pickAdapter('auto');
    if (picked) return { backend: await webgpu.createWebGpuBackend(config, weights, { allowSoftware: false, picked }) };
    reason = 'no hardware WebGPU adapter';
  } catch (e) {
    reason = `WebGPU failed: ${(e as Error).message}`;
  }
  return { backend: await createCpuBackend(config, weights, cpu), note: `backend auto: ${reason}, using the CPU` };
}
