// Maps a CRATE state dict onto typed weights, checking every key and shape against the config.
import type { TensorData } from '../checkpoint';
import type { CrateConfig, ModelFamily, ShapeFacts } from './config';

export interface Tensor { shape: number[]; data: Float32Array }

export interface LayerWeights {
  norm1Weight: Tensor; norm1Bias: Tensor;
  /** [heads*dimHead, dim]: one projection serving as query, key and value. */
  qkv: Tensor;
  /** [dim, heads*dimHead] and [dim]; absent when heads == 1 and dimHead == dim. */
  toOutWeight?: Tensor; toOutBias?: Tensor;
  norm2Weight: Tensor; norm2Bias: Tensor;
  /** The ISTA dictionary D, [dim, dim]. */
  dictionary: Tensor;
}

/** The patch LayerNorms and the classifier are absent in a CRATE-MAE encoder. */
export interface CrateWeights {
  posEmbedding: Tensor; clsToken: Tensor;
  patchNorm1Weight?: Tensor; patchNorm1Bias?: Tensor;
  patchLinearWeight: Tensor; patchLinearBias: Tensor;
  patchNorm2Weight?: Tensor; patchNorm2Bias?: Tensor;
  layers: LayerWeights[];
  headNormWeight?: Tensor; headNormBias?: Tensor;
  headWeight?: Tensor; headBias?: Tensor;
}

export class WeightsError extends Error {}

export function hasOutputProjection(config: CrateConfig): boolean {
  return !(config.heads === 1 && config.dimHead === config.dim);
}

/** The state-dict keys and shapes a CRATE of this config has. */
export function expectedShapes(config: CrateConfig, family: ModelFamily = 'crate'): Map<string, number[]> {
  const encoderOnly = family === 'crate-mae';
  const { dim, depth, heads, dimHead, numClasses, patchSize, channels, imageSize } = config;
  const inner = heads * dimHead;
  const patchDim = patchSize * patchSize * channels;
  const tokens = (imageSize / patchSize) ** 2 + 1;
  const shapes = new Map<string, number[]>([
    ['pos_embedding', [1, tokens, dim]],
    ['cls_token', [1, 1, dim]],
    ['to_patch_embedding.1.weight', [patchDim]],
    ['to_patch_embedding.1.bias', [patchDim]],
    ['to_patch_embedding.2.weight', [dim, patchDim]],
    ['to_patch_embedding.2.bias', [dim]],
    ['to_patch_embedding.3.weight', [dim]],
    ['to_patch_embedding.3.bias', [dim]],
  ]);
  if (encoderOnly) for (const i of [1, 3]) for (const p of ['weight', 'bias']) shapes.delete(`to_patch_embedding.${i}.${p}`);
  for (let l = 0; l < depth; l++) {
    const p = `transformer.layers.${l}`;
    shapes.set(`${p}.0.norm.weight`, [dim]);
    shapes.set(`${p}.0.norm.bias`, [dim]);
    shapes.set(`${p}.0.fn.qkv.weight`, [inner, dim]);
    if (hasOutputProjection(config)) {
      shapes.set(`${p}.0.fn.to_out.0.weight`, [dim, inner]);
      shapes.set(`${p}.0.fn.to_out.0.bias`, [dim]);
    }
    shapes.set(`${p}.1.norm.weight`, [dim]);
    shapes.set(`${p}.1.norm.bias`, [dim]);
    shapes.set(`${p}.1.fn.weight`, [dim, dim]);
  }
  if (encoderOnly) return shapes;
  shapes.set('mlp_head.0.weight', [dim]);
  shapes.set('mlp_head.0.bias', [dim]);
  shapes.set('mlp_head.1.weight', [numClasses, dim]);
  shapes.set('mlp_head.1.bias', [numClasses]);
  return shapes;
}

function fmt(shape: readonly number[]): string { return `[${shape.join(', ')}]`; }

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function listShort(items: string[], max = 8): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Checks the state dict against the config; one error lists every missing, unexpected and mis-shaped key. */
export function buildWeights(tensors: ReadonlyMap<string, TensorData>, config: CrateConfig, family: ModelFamily = 'crate'): CrateWeights {
  const expected = expectedShapes(config, family);
  const missing = [...expected.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !expected.has(k));
  const misshaped = [...expected.entries()]
    .filter(([k, shape]) => tensors.has(k) && !sameShape(tensors.get(k)!.shape, shape))
    .map(([k, shape]) => `${k} is ${fmt(tensors.get(k)!.shape)}, expected ${fmt(shape)}`);
  if (missing.length + unexpected.length + misshaped.length > 0) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length} key(s): ${listShort(missing)}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length} key(s): ${listShort(unexpected)}`);
    if (misshaped.length) parts.push(`mis-shaped: ${listShort(misshaped, 4)}`);
    throw new WeightsError(`checkpoint does not match the CRATE config (${config.dim} wide, ${config.depth} layers, ${config.heads}x${config.dimHead} heads): ${parts.join('; ')}`);
  }
  const t = (key: string): Tensor => { const v = tensors.get(key)!; return { shape: v.shape, data: v.data }; };
  const optional = (key: string): Tensor | undefined => (expected.has(key) ? t(key) : undefined);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.depth; l++) {
    const p = `transformer.layers.${l}`;
    const projected = hasOutputProjection(config);
    layers.push({
      norm1Weight: t(`${p}.0.norm.weight`), norm1Bias: t(`${p}.0.norm.bias`),
      qkv: t(`${p}.0.fn.qkv.weight`),
      toOutWeight: projected ? t(`${p}.0.fn.to_out.0.weight`) : undefined,
      toOutBias: projected ? t(`${p}.0.fn.to_out.0.bias`) : undefined,
      norm2Weight: t(`${p}.1.norm.weight`), norm2Bias: t(`${p}.1.norm.bias`),
      dictionary: t(`${p}.1.fn.weight`),
    });
  }
  return {
    posEmbedding: t('pos_embedding'), clsToken: t('cls_token'),
    patchNorm1Weight: optional('to_patch_embedding.1.weight'), patchNorm1Bias: optional('to_patch_embedding.1.bias'),
    patchLinearWeight: t('to_patch_embedding.2.weight'), patchLinearBias: t('to_patch_embedding.2.bias'),
    patchNorm2Weight: optional('to_patch_embedding.3.weight'), patchNorm2Bias: optional('to_patch_embedding.3.bias'),
    layers,
    headNormWeight: optional('mlp_head.0.weight'), headNormBias: optional('mlp_head.0.bias'),
    headWeight: optional('mlp_head.1.weight'), headBias: optional('mlp_head.1.bias'),
  };
}

/** Reads the shapes that config inference needs; fails clearly when the dict is not CRATE-shaped. */
export function shapeFacts(tensors: ReadonlyMap<string, TensorData>): ShapeFacts {
  const need = (key: string, rank: number): number[] => {
    const v = tensors.get(key);
    if (!v) throw new WeightsError(`not a CRATE state dict: no '${key}' (keys: ${listShort([...tensors.keys()], 6)})`);
    if (v.shape.length !== rank) throw new WeightsError(`'${key}' has shape ${fmt(v.shape)}, expected rank ${rank}`);
    return v.shape;
  };
  const pos = need('pos_embedding', 3);
  const patch = need('to_patch_embedding.2.weight', 2);
  const head = need('mlp_head.1.weight', 2);
  let depth = 0;
  while (tensors.has(`transformer.layers.${depth}.0.fn.qkv.weight`)) depth++;
  if (depth === 0) throw new WeightsError("not a CRATE state dict: no 'transformer.layers.0.0.fn.qkv.weight'");
  const qkv = need('transformer.layers.0.0.fn.qkv.weight', 2);
  return {
    dim: pos[2], depth, inner: qkv[0], patchDim: patch[1], tokens: pos[1], numClasses: head[0],
    hasToOut: tensors.has('transformer.layers.0.0.fn.to_out.0.weight'),
  };
}

export function parameterCount(weights: CrateWeights): number {
  let n = 0;
  const add = (t?: Tensor) => { if (t) n += t.data.length; };
  for (const [key, value] of Object.entries(weights)) {
    if (key !== 'layers') add(value as Tensor | undefined);
  }
  for (const layer of weights.layers) for (const value of Object.values(layer)) add(value as Tensor | undefined);
  return n;
}
