// CRATE-MAE checkpoints: the masked autoencoder's encoder mapped onto CRATE Lens's tensor names.
// The encoder is CRATE without the patch LayerNorms and without a classifier: a conv patch
// embedding, CLS + position embedding, CRATE blocks (LayerNorm eps 1e-5, to_out with bias, one ISTA
// step) and a final norm that no measure reads. The decoder's tensors are ignored.
import type { TensorData } from '../../checkpoint';
import type { ShapeFacts } from '../config';
import { convToPatchLinear } from '../patchConv';

export class CrateMaeError extends Error {}

/** CRATE-MAE's ISTA threshold when the checkpoint comes without a config (crate_encoder.py's default). */
export const MAE_DEFAULT_LAMBDA = 0.5;

export function isCrateMae(tensors: ReadonlyMap<string, TensorData>): boolean {
  return tensors.has('patch_embed.proj.weight') && tensors.has('blocks.0.layers.0.0.fn.qkv.weight');
}

function layerCount(tensors: ReadonlyMap<string, TensorData>): number {
  let depth = 0;
  while (tensors.has(`blocks.${depth}.layers.0.0.fn.qkv.weight`)) depth++;
  return depth;
}

/** The conv patch weight as a Linear over CRATE's (p1, p2, c) patch vectors, after checking its shape. */
function patchLinear(weight: TensorData): TensorData {
  const [, , p, q] = weight.shape;
  if (weight.shape.length !== 4 || p !== q) throw new CrateMaeError(`patch_embed.proj.weight has shape [${weight.shape.join(', ')}], expected [dim, channels, P, P]`);
  return { dtype: weight.dtype, ...convToPatchLinear(weight) };
}

function sameValues(a: TensorData, b: TensorData): boolean {
  return a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);
}

/**
 * The encoder's tensors under CRATE's names (no patch LayerNorms, no mlp_head), with notes for the
 * report. The position embedding is `decoder_pos_embed`: forward_encoder adds that one to every token.
 */
export function crateMaeEncoder(tensors: ReadonlyMap<string, TensorData>): { tensors: Map<string, TensorData>; notes: string[] } {
  const need = (key: string): TensorData => {
    const t = tensors.get(key);
    if (!t) throw new CrateMaeError(`CRATE-MAE checkpoint without '${key}'`);
    return t;
  };
  const notes: string[] = [];
  const encoderPos = tensors.get('pos_embed');
  let pos = tensors.get('decoder_pos_embed');
  if (!pos || (encoderPos && pos.shape.join() !== encoderPos.shape.join())) {
    pos = need('pos_embed');
  } else if (encoderPos && !sameValues(pos, encoderPos)) {
    notes.push('decoder_pos_embed differs from pos_embed: used decoder_pos_embed, as the encoder adds it');
  }
  const out = new Map<string, TensorData>([
    ['pos_embedding', pos],
    ['cls_token', need('cls_token')],
    ['to_patch_embedding.2.weight', patchLinear(need('patch_embed.proj.weight'))],
    ['to_patch_embedding.2.bias', need('patch_embed.proj.bias')],
  ]);
  const depth = layerCount(tensors);
  const suffixes = ['0.norm.weight', '0.norm.bias', '0.fn.qkv.weight', '0.fn.to_out.0.weight', '0.fn.to_out.0.bias', '1.norm.weight', '1.norm.bias', '1.fn.weight'];
  for (let l = 0; l < depth; l++) {
    for (const suffix of suffixes) {
      const t = tensors.get(`blocks.${l}.layers.0.${suffix}`);
      if (t) out.set(`transformer.layers.${l}.${suffix}`, t);
    }
  }
  notes.push('CRATE-MAE encoder: no classifier head, so logits and top-k are empty; every per-layer measure is computed');
  return { tensors: out, notes };
}

/** What config inference needs, from the mapped encoder tensors. */
export function crateMaeShapeFacts(encoder: ReadonlyMap<string, TensorData>): ShapeFacts {
  const pos = encoder.get('pos_embedding')!;
  const patch = encoder.get('to_patch_embedding.2.weight')!;
  const qkv = encoder.get('transformer.layers.0.0.fn.qkv.weight');
  if (!qkv || pos.shape.length !== 3) throw new CrateMaeError('CRATE-MAE checkpoint without a usable first block or position embedding');
  let depth = 0;
  while (encoder.has(`transformer.layers.${depth}.0.fn.qkv.weight`)) depth++;
  return {
    dim: pos.shape[2], depth, inner: qkv.shape[0], patchDim: patch.shape[1], tokens: pos.shape[1], numClasses: 0,
    hasToOut: encoder.has('transformer.layers.0.0.fn.to_out.0.weight'),
  };
}
