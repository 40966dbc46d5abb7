// The emergence notebooks' demo checkpoints (CRATEFeat 'demo') hold a 768-wide mlp_head and, after it,
// a `head` Linear to the ImageNet-21k classes that the notebooks' CRATE.forward never applies.
import type { TensorData } from '../checkpoint';

export function dropUnappliedHead(tensors: Map<string, TensorData>): { tensors: Map<string, TensorData>; notes: string[] } {
  const head = tensors.get('head.weight');
  const mlp = tensors.get('mlp_head.1.weight');
  const keys = [...tensors.keys()].filter((k) => k.startsWith('head.'));
  // Only the demo's layout: a head reading mlp_head's outputs, and nothing else under `head.`.
  if (!head || !mlp || head.shape.length !== 2 || head.shape[1] !== mlp.shape[0] || keys.some((k) => k !== 'head.weight' && k !== 'head.bias')) {
    return { tensors, notes: [] };
  }
  const kept = new Map(tensors);
  for (const k of keys) kept.delete(k);
  return {
    tensors: kept,
    notes: [`'head' (${head.shape[1]} -> ${head.shape[0]}) ignored, as the emergence notebooks' CRATE.forward does: the logits are mlp_head's ${mlp.shape[0]} outputs`],
  };
}
