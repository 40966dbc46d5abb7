// CRATE-alpha configs: presets, inference from weight shapes, and the order a config is looked for.
import type { TensorData } from '../../checkpoint';
import {
  ConfigError, defaultMean, defaultStd, findSidecarConfig, readConfigFile,
  type ConfigSource, type CrateConfig,
} from '../config';
import { WeightsError } from '../weights';

interface AlphaPreset { dim: number; depth: number; heads: number; dimHead: number; patchSize: number }

const SIZES = {
  B: { dim: 768, depth: 12, heads: 12, dimHead: 64 },
  L: { dim: 1024, depth: 24, heads: 16, dimHead: 64 },
  H: { dim: 1280, depth: 32, heads: 16, dimHead: 80 },
} as const;

/** `alpha-B/16` etc.: the UCSC-VLAA model sizes at the patch sizes they were trained with (224 px input). */
export const ALPHA_PRESETS: Readonly<Record<string, AlphaPreset>> = Object.fromEntries(
  (Object.entries(SIZES) as [string, (typeof SIZES)[keyof typeof SIZES]][]).flatMap(([size, shape]) =>
    [32, 16, 14, 8].map((patchSize) => [`alpha-${size}/${patchSize}`, { ...shape, patchSize }])),
);

export function alphaPresetConfig(name: string): CrateConfig {
  const p = ALPHA_PRESETS[name];
  if (!p) throw new ConfigError(`unknown CRATE-alpha preset '${name}' (known: ${Object.keys(ALPHA_PRESETS).join(', ')})`);
  return complete({ imageSize: 224, numClasses: 1000, ...p });
}

function complete(shape: Pick<CrateConfig, 'imageSize' | 'patchSize' | 'dim' | 'depth' | 'heads' | 'dimHead' | 'numClasses'>): CrateConfig {
  const config: CrateConfig = {
    ...shape, channels: 3, pool: 'cls', istaStepSize: 0.1, istaLambda: 0.1,
    mean: defaultMean(3), std: defaultStd(3), resize: 'squash', family: 'crate-alpha',
  };
  if (config.numClasses === 1000) config.labels = 'imagenet-1k';
  return config;
}

interface AlphaFacts { dim: number; depth: number; inner: number; patchSize: number; tokens: number; numClasses: number; hasToOut: boolean }

function alphaShapeFacts(tensors: ReadonlyMap<string, TensorData>): AlphaFacts {
  const need = (key: string, rank: number): number[] => {
    const v = tensors.get(key);
    if (!v) throw new WeightsError(`not a CRATE-alpha state dict: no '${key}'`);
    if (v.shape.length !== rank) throw new WeightsError(`'${key}' has shape [${v.shape.join(', ')}], expected rank ${rank}`);
    return v.shape;
  };
  const stem = need('conv1.weight', 4);
  if (stem[1] !== 3 || stem[2] !== stem[3]) throw new WeightsError(`'conv1.weight' is [${stem.join(', ')}]: expected [dim, 3, P, P]`);
  const pos = need('pos_embedding', 3);
  let depth = 0;
  while (tensors.has(`transformer.layers.${depth}.0.fn.qkv.weight`)) depth++;
  return {
    dim: pos[2], depth, inner: need('transformer.layers.0.0.fn.qkv.weight', 2)[0], patchSize: stem[2], tokens: pos[1],
    numClasses: need('mlp_head.1.weight', 2)[0], hasToOut: tensors.has('transformer.layers.0.0.fn.to_out.0.weight'),
  };
}

/** Builds a config from the weight shapes; heads come from the preset of the same width, or are guessed with a warning. */
export function inferAlphaConfig(tensors: ReadonlyMap<string, TensorData>, forcedHeads?: { heads: number; name: string }): { config: CrateConfig; source: ConfigSource } {
  const facts = alphaShapeFacts(tensors);
  const grid = Math.round(Math.sqrt(facts.tokens - 1));
  if (grid * grid !== facts.tokens - 1) throw new ConfigError(`cannot infer image size: ${facts.tokens - 1} patches do not form a square grid; give a config`);
  const warnings: string[] = [];
  let heads: number;
  let detail: string;
  const preset = Object.entries(ALPHA_PRESETS).find(([, s]) => s.dim === facts.dim && s.heads * s.dimHead === facts.inner);
  if (forcedHeads) {
    heads = forcedHeads.heads;
    detail = forcedHeads.name;
  } else if (!facts.hasToOut) {
    heads = 1;
    detail = 'none (no output projection: 1 head)';
  } else if (preset) {
    heads = preset[1].heads;
    detail = preset[0].replace(/\/\d+$/, '');
    warnings.push(`heads cannot be read from weights: took ${heads} heads from CRATE-alpha size '${detail}'; give a config if the model differs`);
  } else {
    heads = facts.inner % 64 === 0 ? facts.inner / 64 : 1;
    detail = 'none';
    warnings.push(`heads cannot be read from weights and no CRATE-alpha size has width ${facts.dim}: guessed ${heads} head(s) of ${facts.inner / heads}; give a config`);
  }
  if (facts.inner % heads !== 0) throw new ConfigError(`${heads} heads do not divide the qkv width ${facts.inner}`);
  const config = complete({
    imageSize: grid * facts.patchSize, patchSize: facts.patchSize, dim: facts.dim, depth: facts.depth,
    heads, dimHead: facts.inner / heads, numClasses: facts.numClasses,
  });
  return { config, source: { kind: forcedHeads ? 'preset' : 'inferred', detail, warnings } };
}

/** A config for a CRATE-alpha checkpoint: a config file, a preset's heads, a sidecar, else inference. */
export function resolveAlphaConfig(
  request: { config?: string; preset?: string }, tensors: ReadonlyMap<string, TensorData>, checkpointPath: string, configPath?: string,
): { config: CrateConfig; source: ConfigSource } {
  const fromFile = (path: string, kind: 'file' | 'sidecar') => {
    const config = readConfigFile(path);
    if (config.family === 'crate') throw new ConfigError(`${path}: says family "crate" but the checkpoint is CRATE-alpha (conv1 stem, D and D1 dictionaries)`);
    const warnings = config.family ? [] : [`${path} names no family: the checkpoint's keys are CRATE-alpha's`];
    return { config: { ...config, family: 'crate-alpha' as const }, source: { kind, detail: path, warnings } };
  };
  if (configPath) return fromFile(configPath, 'file');
  if (request.preset) {
    const preset = ALPHA_PRESETS[request.preset];
    if (!preset) throw new ConfigError(`unknown CRATE-alpha preset '${request.preset}' (the checkpoint is CRATE-alpha; known: ${Object.keys(ALPHA_PRESETS).join(', ')})`);
    const resolved = inferAlphaConfig(tensors, { heads: preset.heads, name: request.preset });
    const c = resolved.config;
    if (preset.dim !== c.dim || preset.depth !== c.depth || preset.patchSize !== c.patchSize) {
      resolved.source.warnings.push(`preset '${request.preset}' is ${preset.dim} wide, ${preset.depth} deep with ${preset.patchSize} px patches, the checkpoint ${c.dim}, ${c.depth} and ${c.patchSize}: only its heads were used`);
    }
    return resolved;
  }
  const sidecar = findSidecarConfig(checkpointPath);
  if (sidecar) return fromFile(sidecar, 'sidecar');
  return inferAlphaConfig(tensors);
}
