// Uploads a CRATE-alpha model's weights, one storage buffer per tensor. The Conv2d stem is stored as a
// Linear over patch vectors in the patchify kernel's (p1, p2, c) order, so it runs as patchify + matmul.
import type { AlphaWeights } from '../../model/families/alpha';
import { convToPatchLinear } from '../../model/patchConv';
import { weightUploader } from './gpuWeights';

export interface GpuAlphaLayerWeights {
  norm1Weight: GPUBuffer; norm1Bias: GPUBuffer; qkv: GPUBuffer; toOutWeight?: GPUBuffer;
  norm2Weight: GPUBuffer; norm2Bias: GPUBuffer;
  /** D and D1, [dim, 4 dim] each. */
  dictionary: GPUBuffer; decoder: GPUBuffer;
}

export interface GpuAlphaWeights {
  family: 'crate-alpha';
  posEmbedding: GPUBuffer; clsToken: GPUBuffer;
  /** [dim, P*P*3] in (p1, p2, c) order, and [dim]. */
  stemWeight: GPUBuffer; stemBias: GPUBuffer;
  layers: GpuAlphaLayerWeights[];
  headNormWeight: GPUBuffer; headNormBias: GPUBuffer;
  headWeight: GPUBuffer; headBias: GPUBuffer;
  bytes: number;
}

export function uploadAlphaWeights(device: GPUDevice, weights: AlphaWeights, maxBinding: number): GpuAlphaWeights {
  const { up, bytes } = weightUploader(device, maxBinding);
  const w = weights;
  const layers = w.layers.map((l, i) => ({
    norm1Weight: up(l.norm1Weight, `l${i}.norm1.weight`), norm1Bias: up(l.norm1Bias, `l${i}.norm1.bias`),
    qkv: up(l.qkv, `l${i}.qkv`), toOutWeight: l.toOutWeight && up(l.toOutWeight, `l${i}.to_out.weight`),
    norm2Weight: up(l.norm2Weight, `l${i}.norm2.weight`), norm2Bias: up(l.norm2Bias, `l${i}.norm2.bias`),
    dictionary: up(l.dictionary, `l${i}.D`), decoder: up(l.decoder, `l${i}.D1`),
  }));
  const uploaded = {
    family: 'crate-alpha' as const,
    posEmbedding: up(w.posEmbedding, 'pos_embedding'), clsToken: up(w.clsToken, 'cls_token'),
    stemWeight: up(convToPatchLinear(w.stemWeight), 'conv1.weight'), stemBias: up(w.stemBias, 'conv1.bias'),
    layers,
    headNormWeight: up(w.headNormWeight, 'head.norm.weight'), headNormBias: up(w.headNormBias, 'head.norm.bias'),
    headWeight: up(w.headWeight, 'head.weight'), headBias: up(w.headBias, 'head.bias'),
  };
  return { ...uploaded, bytes: bytes() };
}
