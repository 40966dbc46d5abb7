// Resolves a checkpoint and its config into validated CRATE weights.
import { resolve } from 'node:path';
import { readCheckpoint, type Checkpoint, type TensorData } from '../checkpoint';
import {
  ConfigError, findSidecarConfig, inferConfig, PRESETS, readConfigFile,
  type ConfigSource, type CrateConfig, type ModelFamily, type ResizeMode, type ShapeFacts,
} from '../model/config';
import { defaultCheckpoint } from './defaultModel';
import { buildWeights, parameterCount, shapeFacts } from '../model/weights';
import { alphaParameterCount, buildAlphaWeights, isAlphaStateDict, type ModelWeights } from '../model/families/alpha';
import { ALPHA_PRESETS, resolveAlphaConfig } from '../model/families/alphaConfig';
import { fitPosEmbedding } from '../model/posEmbed';
import { crateMaeEncoder, crateMaeShapeFacts, isCrateMae, MAE_DEFAULT_LAMBDA } from '../model/families/crateMae';
import { dropUnappliedHead } from '../model/demoHead';

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
  family: ModelFamily;
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

function resolveConfig(request: ModelRequest, facts: () => ShapeFacts, checkpointPath: string): { config: CrateConfig; source: ConfigSource } {
  if (request.config) {
    const path = resolve(request.config);
    return { config: readConfigFile(path), source: { kind: 'file', detail: path, warnings: [] } };
  }
  if (request.preset) {
    const preset = PRESETS[request.preset];
    if (!preset && request.preset in ALPHA_PRESETS) throw new ConfigError(`preset '${request.preset}' is for CRATE-alpha, but the checkpoint is CRATE (known: ${Object.keys(PRESETS).join(', ')})`);
    if (!preset) throw new ConfigError(`unknown preset '${request.preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
    const shapes = facts();
    const { config } = inferConfig(shapes);
    const warnings: string[] = [];
    if (preset.dim !== shapes.dim || preset.depth !== shapes.depth) {
      warnings.push(`preset '${request.preset}' is ${preset.dim} wide and ${preset.depth} deep, the checkpoint ${shapes.dim} and ${shapes.depth}: only its heads were used`);
    }
    return { config: withHeads(config, preset.heads, shapes.inner), source: { kind: 'preset', detail: request.preset, warnings } };
  }
  const sidecar = findSidecarConfig(checkpointPath);
  if (sidecar) return { config: readConfigFile(sidecar), source: { kind: 'sidecar', detail: sidecar, warnings: [] } };
  return inferConfig(facts());
}

/** The family's tensors under CRATE's names; a CRATE-MAE checkpoint contributes its encoder. */
function familyTensors(tensors: Map<string, TensorData>): { family: ModelFamily; tensors: Map<string, TensorData>; notes: string[] } {
  // CRATE-alpha has a convolutional stem and two dictionaries per layer; CRATE-MAE timm-style names.
  if (isAlphaStateDict(tensors)) return { family: 'crate-alpha', tensors, notes: [] };
  if (isCrateMae(tensors)) return { family: 'crate-mae', ...crateMaeEncoder(tensors) };
  return { family: 'crate', ...dropUnappliedHead(tensors) };
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
  const mapped = familyTensors(checkpoint.tensors);
  const facts = () => (mapped.family === 'crate-mae' ? crateMaeShapeFacts(mapped.tensors) : shapeFacts(mapped.tensors));
  let { config, source } = mapped.family === 'crate-alpha'
    ? resolveAlphaConfig(request, mapped.tensors, checkpointPath, request.config ? resolve(request.config) : undefined)
    : resolveConfig(request, facts, checkpointPath);
  if (mapped.family === 'crate-mae') {
    // Lambda is not in the weights; without a config file, CRATE-MAE's own default applies.
    const fromFile = source.kind === 'file' || source.kind === 'sidecar';
    config = { ...config, numClasses: 0, labels: undefined, ...(fromFile ? {} : { istaLambda: MAE_DEFAULT_LAMBDA }) };
    const lambdaNote = fromFile ? [] : [`ISTA lambda cannot be read from the weights: took CRATE-MAE's default ${MAE_DEFAULT_LAMBDA}; give a config if the model was trained with another`];
    source = { ...source, warnings: [...source.warnings, ...mapped.notes, ...lambdaNote] };
  } else if (mapped.notes.length > 0) {
    source = { ...source, warnings: [...source.warnings, ...mapped.notes] };
  }
  if (request.heads !== undefined) {
    config = withHeads(config, request.heads, config.heads * config.dimHead);
    source = { ...source, detail: source.detail, warnings: source.warnings.filter((w) => !w.startsWith('heads cannot')) };
    source.warnings.push(`heads set to ${request.heads} by --heads`);
  }
  if (request.resize) config = { ...config, resize: request.resize };
  if (request.imageSize !== undefined) config = withImageSize(config, request.imageSize);
  let tensors = mapped.tensors;
  const pos = tensors.get('pos_embedding');
  if (pos) {
    const fitted = fitPosEmbedding(pos, config.imageSize / config.patchSize, config.posEmbedResize ?? 'bicubic-timm');
    if (fitted.note) {
      tensors = new Map(tensors).set('pos_embedding', fitted.tensor);
      source = { ...source, warnings: [...source.warnings, fitted.note] };
    }
  }
  const weights = mapped.family === 'crate-alpha' ? buildAlphaWeights(tensors, config) : buildWeights(tensors, config, mapped.family);
  return {
    family: mapped.family,
    checkpointPath,
    format: checkpoint.format,
    container: checkpoint.container,
    config,
    source,
    weights,
    parameters: 'family' in weights ? alphaParameterCount(weights) : parameterCount(weights),
  };
}
