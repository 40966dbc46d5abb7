// Resolves a checkpoint and its config into validated CRATE weights.
import { resolve } from 'node:path';
import { readCheckpoint, type Checkpoint } from '../checkpoint';
import {
  ConfigError, findSidecarConfig, inferConfig, PRESETS, readConfigFile,
  type ConfigSource, type CrateConfig, type ResizeMode,
} from '../model/config';
import { defaultCheckpoint } from './defaultModel';
import { buildWeights, parameterCount, shapeFacts } from '../model/weights';
import { alphaParameterCount, buildAlphaWeights, isAlphaStateDict, type ModelWeights } from '../model/families/alpha';
import { ALPHA_PRESETS, resolveAlphaConfig } from '../model/families/alphaConfig';

export interface ModelRequest {
  /** Checkpoint path; absent for the embedded default model. */
  checkpoint?: string;
  /** A JSON config file. */
  config?: string;
  /** A preset whose heads apply to the checkpoint's shapes. */
  preset?: string;
  /** Overrides the number of heads (dimHead follows from the qkv width). */
  heads?: number;
  resize?: ResizeMode;
}

export interface LoadedModel {
  checkpointPath: string;
  format: Checkpoint['format'];
  container: string;
  config: CrateConfig;
  source: ConfigSource;
  weights: ModelWeights;
  parameters: number;
}

function describe(source: ConfigSource): string {
  switch (source.kind) {
    case 'file': return `file ${source.detail}`;
    case 'sidecar': return `sidecar ${source.detail}`;
    case 'preset': return `preset '${source.detail}' (shapes from the weights)`;
    case 'inferred': return `inferred from the weights (heads: ${source.detail})`;
  }
}

export function configSourceText(source: ConfigSource): string { return describe(source); }

function resolveConfig(request: ModelRequest, checkpoint: Checkpoint, checkpointPath: string): { config: CrateConfig; source: ConfigSource } {
  if (request.config) {
    const path = resolve(request.config);
    return { config: readConfigFile(path), source: { kind: 'file', detail: path, warnings: [] } };
  }
  const facts = shapeFacts(checkpoint.tensors);
  if (request.preset) {
    const preset = PRESETS[request.preset];
    if (!preset && request.preset in ALPHA_PRESETS) throw new ConfigError(`preset '${request.preset}' is for CRATE-alpha, but the checkpoint is CRATE (known: ${Object.keys(PRESETS).join(', ')})`);
    if (!preset) throw new ConfigError(`unknown preset '${request.preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
    const { config } = inferConfig(facts);
    const warnings: string[] = [];
    if (preset.dim !== facts.dim || preset.depth !== facts.depth) {
      warnings.push(`preset '${request.preset}' is ${preset.dim} wide and ${preset.depth} deep, the checkpoint ${facts.dim} and ${facts.depth}: only its heads were used`);
    }
    return { config: withHeads(config, preset.heads, facts.inner), source: { kind: 'preset', detail: request.preset, warnings } };
  }
  const sidecar = findSidecarConfig(checkpointPath);
  if (sidecar) return { config: readConfigFile(sidecar), source: { kind: 'sidecar', detail: sidecar, warnings: [] } };
  return inferConfig(facts);
}

function withHeads(config: CrateConfig, heads: number, inner: number): CrateConfig {
  if (!Number.isInteger(heads) || heads <= 0 || inner % heads !== 0) {
    throw new ConfigError(`${heads} heads do not divide the qkv width ${inner}`);
  }
  return { ...config, heads, dimHead: inner / heads };
}

export function loadModel(request: ModelRequest): LoadedModel {
  const checkpointPath = resolve(request.checkpoint ?? defaultCheckpoint());
  const checkpoint = readCheckpoint(checkpointPath);
  // The family is read from the keys: CRATE-alpha has a convolutional stem and two dictionaries per layer.
  const alpha = isAlphaStateDict(checkpoint.tensors);
  let { config, source } = alpha
    ? resolveAlphaConfig(request, checkpoint.tensors, checkpointPath, request.config ? resolve(request.config) : undefined)
    : resolveConfig(request, checkpoint, checkpointPath);
  if (request.heads !== undefined) {
    config = withHeads(config, request.heads, config.heads * config.dimHead);
    source = { ...source, detail: source.detail, warnings: source.warnings.filter((w) => !w.startsWith('heads cannot')) };
    source.warnings.push(`heads set to ${request.heads} by --heads`);
  }
  if (request.resize) config = { ...config, resize: request.resize };
  const weights = alpha ? buildAlphaWeights(checkpoint.tensors, config) : buildWeights(checkpoint.tensors, config);
  return {
    checkpointPath,
    format: checkpoint.format,
    container: checkpoint.container,
    config,
    source,
    weights,
    parameters: 'family' in weights ? alphaParameterCount(weights) : parameterCount(weights),
  };
}
