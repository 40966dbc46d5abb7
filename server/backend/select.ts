// Chooses the backend for a model from the user's setting.
import type { CrateConfig } from '../model/config';
import type { CrateWeights } from '../model/weights';
import { createCpuBackend } from './cpu';
import type { Backend } from './types';

export type BackendSetting = 'cpu' | 'auto' | 'webgpu';

export async function createBackend(setting: BackendSetting, config: CrateConfig, weights: CrateWeights): Promise<Backend> {
  if (setting === 'webgpu') throw new Error('the WebGPU backend is not available in this build; use "cpu" or "auto"');
  return createCpuBackend(config, weights);
}
