// Conv patch stems as Linear maps over CRATE Lens's patch vectors.
import type { Tensor } from './weights';

/**
 * A conv weight [out, c, p, p] is a Linear over patch vectors ordered (c, p1, p2); CRATE Lens's
 * patchify orders them (p1, p2, c) with the channel fastest, so the columns are permuted once.
 */
export function convToPatchLinear(weight: Tensor): Tensor {
  const [out, c, p] = weight.shape;
  const per = c * p * p;
  const data = new Float32Array(out * per);
  const src = weight.data;
  for (let o = 0; o < out; o++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < p * p; i++) data[o * per + i * c + ch] = src[o * per + ch * p * p + i];
    }
  }
  return { shape: [out, per], data };
}
