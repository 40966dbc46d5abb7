// Resolves a checkpoint and its config into validated CRATE weights.
import { resolve } from 'node:path';
import { readCheckpoint, type Checkpoint } from '../checkpoint';
import {
  ConfigError, findSidecarConfig, inferConfig, PRESETS, readConfigFile,
  type ConfigSource, type CrateConfig, type ResizeMode,
} from '../model/config';
import { defaultCheckpoint } from './defaultModel';
import { buildWeights, parameterCount, shapeFacts, type CrateWeights } from '../model/weights';
import { fitPosEmbedding } from '../model/posEmbed';

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
  /** Analysis size in pixels; the position embedding is resized to its patch grid (config.posEmbedResize). */
  imageSize?: number;
}

export interface LoadedModel {
  checkpointPath: string;
  format: Checkpoint['format'];
  container: string;
  config: CrateConfig;
  source: ConfigSource;
  weights: CrateWeights;
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

function withImageSize(config: CrateConfig, imageSize: number): CrateConfig {
  if (!Number.isInteger(imageSize) || imageSize <= 0 || imageSize % config.patchSize !== 0) {
    throw new ConfigError(`image size ${imageSize} is not a positive multiple of the patch size ${config.patchSize}`);
  }
  return { ...config, imageSize };
}

export function loadModel(request: ModelRequest): LoadedModel {
  const checkpointPath = resolve(request.checkpoint ?? defaultCheckpoint());
  const checkpoint = readCheckpoint(checkpointPath);
  let { config, source } = resolveConfig(request, checkpoint, checkpointPath);
  if (request.heads !== undefined) {
    config = withHeads(config, request.heads, config.heads * config.dimHead);
    source = { ...source, detail: source.detail, warnings: source.warnings.filter((w) => !w.startsWith('heads cannot')) };
    source.warnings.push(`heads set to ${request.heads} by --heads`);
  }
  if (request.resize) config = { ...config, resize: request.resize };
  if (request.imageSize !== undefined) config = withImageSize(config, request.imageSize);
  let tensors = checkpoint.tensors;
  const pos = tensors.get('pos_embedding');
  if (pos) {
    const fitted = fitPosEmbedding(pos, config.imageSize / config.patchSize, config.posEmbedResize ?? 'bicubic-timm');
    if (fitted.note) {
      tensors = new Map(tensors).set('pos_embedding', fitted.tensor);
      source = { ...source, warnings: [...source.warnings, fitted.note] };
    }
  }
  const weights = buildWeights(tensors, config);
  return {
    checkpointPath,
    format: checkpoint.format,
    container: checkpoint.container,
    config,
    source,
    weights,
    parameters: parameterCount(weights),
  };
}
