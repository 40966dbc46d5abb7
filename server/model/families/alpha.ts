// CRATE-alpha weights: detection from state-dict keys, the expected keys and shapes, typed tensors.
// The model: Conv2d patch stem, block LayerNorms eps 1e-6, MSSA with a bias-free output projection,
// and an overcomplete sparse-coding block (D, D1 of shape [dim, 4 dim]) with residuals around both.
import type { TensorData } from '../../checkpoint';
import type { CrateConfig } from '../config';
import { hasOutputProjection, WeightsError, type CrateWeights, type Tensor } from '../weights';

/** Code width over model width: D and D1 are [dim, OVERCOMPLETE * dim]. */
export const OVERCOMPLETE = 4;
export const ALPHA_BLOCK_LN_EPS = 1e-6;
/** The classifier head's LayerNorm keeps PyTorch's default. */
export const ALPHA_HEAD_LN_EPS = 1e-5;

export interface AlphaLayerWeights {
  norm1Weight: Tensor; norm1Bias: Tensor;
  /** [heads*dimHead, dim] */
  qkv: Tensor;
  /** [dim, heads*dimHead], no bias; absent when heads == 1 and dimHead == dim. */
  toOutWeight?: Tensor;
  norm2Weight: Tensor; norm2Bias: Tensor;
  /** The dictionary D [dim, 4 dim] the code is computed against... */
  dictionary: Tensor;
  /** ...and D1 [dim, 4 dim], which maps the code back into the residual stream. */
  decoder: Tensor;
}

export interface AlphaWeights {
  family: 'crate-alpha';
  posEmbedding: Tensor; clsToken: Tensor;
  /** Conv2d(3, dim, P, stride P): [dim, 3, P, P] and [dim]. */
  stemWeight: Tensor; stemBias: Tensor;
  layers: AlphaLayerWeights[];
  headNormWeight: Tensor; headNormBias: Tensor;
  headWeight: Tensor; headBias: Tensor;
}

/** The width of a layer's sparse code: dim for CRATE, 4 dim for CRATE-alpha. */
export function codeWidth(config: Pick<CrateConfig, 'dim' | 'family'>): number {
  return config.family === 'crate-alpha' ? OVERCOMPLETE * config.dim : config.dim;
}

/** A CRATE-alpha state dict has a convolutional stem and a second dictionary per layer. */
export function isAlphaStateDict(tensors: ReadonlyMap<string, unknown>): boolean {
  return tensors.has('conv1.weight') && tensors.has('transformer.layers.0.1.fn.D');
}

export function expectedAlphaShapes(config: CrateConfig): Map<string, number[]> {
  const { dim, depth, heads, dimHead, numClasses, patchSize: P, imageSize } = config;
  const inner = heads * dimHead;
  const tokens = (imageSize / P) ** 2 + 1;
  const shapes = new Map<string, number[]>([
    ['conv1.weight', [dim, 3, P, P]],
    ['conv1.bias', [dim]],
    ['pos_embedding', [1, tokens, dim]],
    ['cls_token', [1, 1, dim]],
  ]);
  for (let l = 0; l < depth; l++) {
    const p = `transformer.layers.${l}`;
    shapes.set(`${p}.0.norm.weight`, [dim]);
    shapes.set(`${p}.0.norm.bias`, [dim]);
    shapes.set(`${p}.0.fn.qkv.weight`, [inner, dim]);
    if (hasOutputProjection(config)) shapes.set(`${p}.0.fn.to_out.0.weight`, [dim, inner]);
    shapes.set(`${p}.1.norm.weight`, [dim]);
    shapes.set(`${p}.1.norm.bias`, [dim]);
    shapes.set(`${p}.1.fn.D`, [dim, OVERCOMPLETE * dim]);
    shapes.set(`${p}.1.fn.D1`, [dim, OVERCOMPLETE * dim]);
  }
  shapes.set('mlp_head.0.weight', [dim]);
  shapes.set('mlp_head.0.bias', [dim]);
  shapes.set('mlp_head.1.weight', [numClasses, dim]);
  shapes.set('mlp_head.1.bias', [numClasses]);
  return shapes;
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const short = (items: string[], max = 8) => (items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`);

/** Checks the state dict against the config; one error lists every missing, unexpected and mis-shaped key. */
export function buildAlphaWeights(tensors: ReadonlyMap<string, TensorData>, config: CrateConfig): AlphaWeights {
  if (config.channels !== 3) throw new WeightsError('CRATE-alpha takes RGB input: the config must have channels 3');
  const expected = expectedAlphaShapes(config);
  const missing = [...expected.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !expected.has(k));
  const misshaped = [...expected.entries()]
    .filter(([k, s]) => tensors.has(k) && fmt(tensors.get(k)!.shape) !== fmt(s))
    .map(([k, s]) => `${k} is ${fmt(tensors.get(k)!.shape)}, expected ${fmt(s)}`);
  if (missing.length + unexpected.length + misshaped.length > 0) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length} key(s): ${short(missing)}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length} key(s): ${short(unexpected)}`);
    if (misshaped.length) parts.push(`mis-shaped: ${short(misshaped, 4)}`);
    throw new WeightsError(`checkpoint does not match the CRATE-alpha config (${config.dim} wide, ${config.depth} layers, ${config.heads}x${config.dimHead} heads): ${parts.join('; ')}`);
  }
  const t = (key: string): Tensor => { const v = tensors.get(key)!; return { shape: v.shape, data: v.data }; };
  const layers: AlphaLayerWeights[] = [];
  for (let l = 0; l < config.depth; l++) {
    const p = `transformer.layers.${l}`;
    layers.push({
      norm1Weight: t(`${p}.0.norm.weight`), norm1Bias: t(`${p}.0.norm.bias`),
      qkv: t(`${p}.0.fn.qkv.weight`),
      toOutWeight: hasOutputProjection(config) ? t(`${p}.0.fn.to_out.0.weight`) : undefined,
      norm2Weight: t(`${p}.1.norm.weight`), norm2Bias: t(`${p}.1.norm.bias`),
      dictionary: t(`${p}.1.fn.D`), decoder: t(`${p}.1.fn.D1`),
    });
  }
  return {
    family: 'crate-alpha',
    posEmbedding: t('pos_embedding'), clsToken: t('cls_token'),
    stemWeight: t('conv1.weight'), stemBias: t('conv1.bias'),
    layers,
    headNormWeight: t('mlp_head.0.weight'), headNormBias: t('mlp_head.0.bias'),
    headWeight: t('mlp_head.1.weight'), headBias: t('mlp_head.1.bias'),
  };
}

export function alphaParameterCount(weights: AlphaWeights): number {
  let n = 0;
  for (const [key, value] of Object.entries(weights)) {
    if (key !== 'layers' && key !== 'family') n += (value as Tensor).data.length;
  }
  for (const layer of weights.layers) for (const value of Object.values(layer)) n += (value as Tensor | undefined)?.data.length ?? 0;
  return n;
}

/** The weights of any family the engine runs. */
export type ModelWeights = CrateWeights | AlphaWeights;

export function isAlphaWeights(weights: ModelWeights): weights is AlphaWeights {
  return 'family' in weights && weights.family === 'crate-alpha';
}
