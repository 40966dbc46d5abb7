// CRATE model configuration: presets, JSON config files, and inference from weight shapes.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { POS_EMBED_RESIZES, type PosEmbedResize } from './posEmbed';

export type Pool = 'cls' | 'mean';
export type ResizeMode = 'squash' | 'center-crop';
/** The architecture a checkpoint belongs to, read from its tensor names (see families/). */
export type ModelFamily = 'crate' | 'crate-alpha' | 'crate-mae';

export interface CrateConfig {
  imageSize: number;
  patchSize: number;
  channels: 1 | 3;
  dim: number;
  depth: number;
  heads: number;
  dimHead: number;
  numClasses: number;
  pool: Pool;
  istaStepSize: number;
  istaLambda: number;
  mean: number[];
  std: number[];
  resize: ResizeMode;
  /**
   * How a checkpoint's position embedding is fitted when its patch grid differs from
   * imageSize/patchSize (absent: 'bicubic-timm'); see posEmbed.ts.
   */
  posEmbedResize?: PosEmbedResize;
  /** Class names, one per output; absent when the config names none. */
  labels?: string[] | 'imagenet-1k';
  /** Absent means 'crate'. */
  family?: ModelFamily;
}

/** Where the config came from: shown with every result because heads cannot be read from weights. */
export interface ConfigSource {
  kind: 'file' | 'sidecar' | 'preset' | 'inferred';
  /** File path for file/sidecar, preset name for preset/inferred. */
  detail: string;
  warnings: string[];
}

export class ConfigError extends Error {}

interface PresetShape {
  dim: number; depth: number; heads: number; dimHead: number;
  /** Absent: 16 (every ImageNet-1k preset is 224/16 with 1000 classes). */
  patchSize?: number; numClasses?: number;
}

export const PRESETS: Readonly<Record<string, PresetShape>> = {
  tiny: { dim: 384, depth: 12, heads: 6, dimHead: 64 },
  small: { dim: 576, depth: 12, heads: 12, dimHead: 48 },
  base: { dim: 768, depth: 12, heads: 12, dimHead: 64 },
  large: { dim: 1024, depth: 24, heads: 16, dimHead: 64 },
  // The emergence paper's demo models (CRATE_base_demo): base's width with 6 heads of 128, ImageNet-21k.
  // Recognised from the weights by their 8x8 patches; the 16x16 one has base's shapes, so only by name.
  'demo-base-8': { dim: 768, depth: 12, heads: 6, dimHead: 128, patchSize: 8, numClasses: 21842 },
  'demo-base-16': { dim: 768, depth: 12, heads: 6, dimHead: 128, patchSize: 16, numClasses: 21842 },
  // CRATE-MAE's base encoder (crate_ae's mae_crate_base): base's shapes, no classifier. Listed after
  // `base`, so shape inference keeps naming `base` for the same widths.
  'mae-base': { dim: 768, depth: 12, heads: 12, dimHead: 64, numClasses: 0 },
};

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
/** Grey images use the channel average of the ImageNet statistics. */
export const GRAY_MEAN = [0.449];
export const GRAY_STD = [0.226];

export function defaultMean(channels: 1 | 3): number[] { return channels === 1 ? GRAY_MEAN : IMAGENET_MEAN; }
export function defaultStd(channels: 1 | 3): number[] { return channels === 1 ? GRAY_STD : IMAGENET_STD; }

export function presetConfig(name: string): CrateConfig {
  const shape = PRESETS[name];
  if (!shape) throw new ConfigError(`unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
  const { patchSize = 16, numClasses = 1000, ...rest } = shape;
  return withDefaults({ imageSize: 224, patchSize, channels: 3, numClasses, ...(numClasses === 1000 ? { labels: 'imagenet-1k' as const } : {}), ...rest });
}

const REQUIRED = ['imageSize', 'patchSize', 'channels', 'dim', 'depth', 'heads', 'dimHead', 'numClasses'] as const;
const OPTIONAL = ['pool', 'istaStepSize', 'istaLambda', 'mean', 'std', 'resize', 'labels', 'family', 'posEmbedResize'] as const;

type PartialConfig = Partial<CrateConfig> & Pick<CrateConfig, (typeof REQUIRED)[number]>;

function withDefaults(partial: PartialConfig): CrateConfig {
  const channels = partial.channels;
  return {
    pool: 'cls',
    istaStepSize: 0.1,
    istaLambda: 0.1,
    mean: defaultMean(channels),
    std: defaultStd(channels),
    resize: 'squash',
    ...partial,
  };
}

function positiveInt(value: unknown, key: string, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${where}: '${key}' must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function finiteNumber(value: unknown, key: string, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`${where}: '${key}' must be a number`);
  return value;
}

/** Validates a parsed JSON object as a config; `where` names its origin in errors. */
export function parseConfig(raw: unknown, where: string): CrateConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where}: config must be a JSON object`);
  const obj = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(obj).filter((k) => !(REQUIRED as readonly string[]).includes(k) && !(OPTIONAL as readonly string[]).includes(k) && !k.startsWith('$') && k !== 'comment');
  if (unknownKeys.length > 0) throw new ConfigError(`${where}: unknown config key(s) ${unknownKeys.join(', ')}`);
  const missing = REQUIRED.filter((k) => obj[k] === undefined);
  if (missing.length > 0) throw new ConfigError(`${where}: missing config key(s) ${missing.join(', ')}`);
  // numClasses 0: an encoder without a classifier (CRATE-MAE).
  const ints = Object.fromEntries(REQUIRED.map((k) => [k, k === 'numClasses' && obj[k] === 0 ? 0 : positiveInt(obj[k], k, where)])) as Record<(typeof REQUIRED)[number], number>;
  if (ints.channels !== 1 && ints.channels !== 3) throw new ConfigError(`${where}: 'channels' must be 1 or 3`);
  if (ints.imageSize % ints.patchSize !== 0) throw new ConfigError(`${where}: imageSize ${ints.imageSize} is not a multiple of patchSize ${ints.patchSize}`);
  const channels = ints.channels as 1 | 3;
  const config = withDefaults({ ...ints, channels });
  if (obj.pool !== undefined) {
    if (obj.pool !== 'cls' && obj.pool !== 'mean') throw new ConfigError(`${where}: 'pool' must be "cls" or "mean"`);
    config.pool = obj.pool;
  }
  if (obj.resize !== undefined) {
    if (obj.resize !== 'squash' && obj.resize !== 'center-crop') throw new ConfigError(`${where}: 'resize' must be "squash" or "center-crop"`);
    config.resize = obj.resize;
  }
  if (obj.family !== undefined) {
    if (obj.family !== 'crate' && obj.family !== 'crate-alpha') throw new ConfigError(`${where}: 'family' must be "crate" or "crate-alpha"`);
    config.family = obj.family;
  }
  if (obj.posEmbedResize !== undefined) {
    if (!POS_EMBED_RESIZES.includes(obj.posEmbedResize as PosEmbedResize)) throw new ConfigError(`${where}: 'posEmbedResize' must be one of ${POS_EMBED_RESIZES.map((m) => `"${m}"`).join(', ')}`);
    config.posEmbedResize = obj.posEmbedResize as PosEmbedResize;
  }
  if (obj.istaStepSize !== undefined) config.istaStepSize = finiteNumber(obj.istaStepSize, 'istaStepSize', where);
  if (obj.istaLambda !== undefined) config.istaLambda = finiteNumber(obj.istaLambda, 'istaLambda', where);
  for (const key of ['mean', 'std'] as const) {
    const value = obj[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.length !== channels || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ConfigError(`${where}: '${key}' must be an array of ${channels} number(s)`);
    }
    if (key === 'std' && value.some((v) => v === 0)) throw new ConfigError(`${where}: 'std' must not contain 0`);
    config[key] = value as number[];
  }
  if (obj.labels !== undefined) {
    const labels = obj.labels;
    if (labels === 'imagenet-1k') {
      if (config.numClasses !== 1000) throw new ConfigError(`${where}: labels "imagenet-1k" need numClasses 1000`);
      config.labels = labels;
    } else if (Array.isArray(labels) && labels.every((l) => typeof l === 'string')) {
      if (labels.length !== config.numClasses) throw new ConfigError(`${where}: ${labels.length} labels for ${config.numClasses} classes`);
      config.labels = labels as string[];
    } else {
      throw new ConfigError(`${where}: 'labels' must be an array of strings or "imagenet-1k"`);
    }
  }
  return config;
}

export function readConfigFile(path: string): CrateConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`cannot read config file ${path}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  return parseConfig(raw, path);
}

/** `<name>.crate.json` (name without any of the checkpoint extensions), then `crate.json`, beside the checkpoint. */
/** Where a checkpoint's config may sit beside it, in order of preference. */
export function sidecarCandidates(checkpointPath: string): string[] {
  const dir = dirname(checkpointPath);
  const stem = basename(checkpointPath).replace(/(\.pth\.tar|\.pth|\.pt|\.safetensors|\.bin|\.ckpt|\.tar)$/i, '');
  return [join(dir, `${stem}.crate.json`), join(dir, 'crate.json')];
}

export function findSidecarConfig(checkpointPath: string): string | undefined {
  return sidecarCandidates(checkpointPath).find((candidate) => existsSync(candidate));
}

/** The shapes a state dict reveals; heads, eta and lambda are not among them. */
export interface ShapeFacts {
  dim: number;
  depth: number;
  inner: number;
  patchDim: number;
  tokens: number;
  numClasses: number;
  hasToOut: boolean;
}

/** Builds a config from weight shapes, taking heads from the preset of the same width. */
export function inferConfig(facts: ShapeFacts): { config: CrateConfig; source: ConfigSource } {
  const warnings: string[] = [];
  const patches = facts.tokens - 1;
  const grid = Math.round(Math.sqrt(patches));
  if (grid * grid !== patches) throw new ConfigError(`cannot infer image size: ${patches} patches do not form a square grid; give a config`);
  let channels: 1 | 3 | undefined;
  let patchSize = 0;
  for (const c of [3, 1] as const) {
    const p = Math.round(Math.sqrt(facts.patchDim / c));
    if (p * p * c === facts.patchDim) { channels = c; patchSize = p; break; }
  }
  if (channels === undefined) throw new ConfigError(`cannot infer patch size from patch vector length ${facts.patchDim}; give a config`);
  // Same width and qkv width; among those, the preset of the same patch size wins (8x8 patches pick the demo).
  const sameWidth = Object.entries(PRESETS).filter(([, s]) => s.dim === facts.dim && s.heads * s.dimHead === facts.inner);
  const preset = sameWidth.find(([, s]) => (s.patchSize ?? 16) === patchSize) ?? sameWidth.find(([, s]) => s.patchSize === undefined);
  let heads: number;
  let presetName: string;
  if (!facts.hasToOut) {
    heads = 1;
    presetName = 'none (no output projection: 1 head)';
  } else if (preset) {
    heads = preset[1].heads;
    presetName = preset[0];
    warnings.push(`heads cannot be read from weights: took ${heads} heads from preset '${presetName}'; give a config if the model differs`);
  } else {
    heads = facts.inner % 64 === 0 ? facts.inner / 64 : 1;
    presetName = 'none';
    warnings.push(`heads cannot be read from weights and no preset has width ${facts.dim}: guessed ${heads} head(s) of ${facts.inner / heads}; give a config`);
  }
  const config = withDefaults({
    imageSize: grid * patchSize,
    patchSize,
    channels,
    dim: facts.dim,
    depth: facts.depth,
    heads,
    dimHead: facts.inner / heads,
    numClasses: facts.numClasses,
  });
  if (config.numClasses === 1000) config.labels = 'imagenet-1k';
  return { config, source: { kind: 'inferred', detail: presetName, warnings } };
}
