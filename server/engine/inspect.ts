// Model inspection: per-layer dictionary statistics.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../backend/onnx/graph';
import { orthogonalityGap, singularRange } from '../analysis/dictionary';
import type { DictionaryStats } from '../protocol';
import type { CrateConfig } from '../model/config';
import type { Tensor } from '../model/weights';

/** What the statistics read: the config and each layer's dictionary (a LoadedModel, or a copy of its dictionaries). */
export interface DictionarySource { config: CrateConfig; weights: { layers: readonly { dictionary: Tensor }[] } }

/** Copies of the dictionaries, so that the checkpoint they were read from can be freed. */
export function copyDictionaries(model: DictionarySource): DictionarySource {
  return { config: model.config, weights: { layers: model.weights.layers.map((l) => ({ dictionary: { shape: [...l.dictionary.shape], data: l.dictionary.data.slice() } })) } };
}

/**
 * D^T D for every layer's square CRATE dictionary, D D^T for CRATE-alpha's overcomplete [dim, 4 dim] one
 * (its nonzero eigenvalues are the same squared singular values, in a dim x dim matrix), through one
 * small onnxruntime graph (a JS triple loop is too slow at width 1024).
 */
async function dictionaryGrams(model: DictionarySource): Promise<Float32Array[]> {
  const g = new GraphBuilder();
  const dim = model.config.dim;
  const cols = model.weights.layers[0]?.dictionary.shape[1] ?? dim;
  const d = g.input({ name: 'd', dims: [dim, cols] });
  const product = cols === dim ? g.op('MatMul', [g.op('Transpose', [d], { perm: [1, 0] }), d]) : g.op('MatMul', [d, g.op('Transpose', [d], { perm: [1, 0] })]);
  g.output(product, { name: 'gram', dims: [dim, dim] });
  const session = await ort.InferenceSession.create(g.toBytes());
  try {
    const grams: Float32Array[] = [];
    for (const layer of model.weights.layers) {
      const out = await session.run({ d: new ort.Tensor('float32', layer.dictionary.data, [dim, cols]) });
      grams.push(out.gram.data as Float32Array);
    }
    return grams;
  } finally {
    await session.release();
  }
}

export async function dictionaryStats(model: DictionarySource): Promise<DictionaryStats[]> {
  const dim = model.config.dim;
  return (await dictionaryGrams(model)).map((gram, layer) => {
    const { min, max } = singularRange(gram, dim);
    return { layer, orthogonalityGap: orthogonalityGap(gram, dim), singularMin: min, singularMax: max };
  });
}
