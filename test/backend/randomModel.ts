// CRATE weights with torch-like scales from a seeded generator, for shapes no fixture covers and for
// benchmarks: LayerNorm gains near 1, small biases and embeddings, Linear and dictionary entries
// uniform in +-sqrt(3 / fan_in).
import type { TensorData } from '../../server/checkpoint';
import type { CrateConfig } from '../../server/model/config';
import { buildWeights, expectedShapes, type CrateWeights } from '../../server/model/weights';

/** Deterministic uniform [-1, 1) stream (xorshift32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

export function randomWeights(config: CrateConfig, seed = 1): CrateWeights {
  const next = rng(seed);
  const tensors = new Map<string, TensorData>();
  for (const [key, shape] of expectedShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = /norm|to_patch_embedding\.[13]\.|mlp_head\.0\./.test(key);
    if (isNorm && key.endsWith('.weight')) for (let i = 0; i < n; i++) data[i] = 1 + 0.1 * next();
    else if (key.endsWith('.bias') || key === 'pos_embedding' || key === 'cls_token') for (let i = 0; i < n; i++) data[i] = 0.02 * next();
    else {
      const a = Math.sqrt(3 / shape[shape.length - 1]);
      for (let i = 0; i < n; i++) data[i] = a * next();
    }
    tensors.set(key, { dtype: 'float32', shape, data });
  }
  return buildWeights(tensors, config);
}

/** Preprocessed-looking pixels, uniform in [-2, 2). */
export function randomInput(n: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * next();
  return out;
}
