// Uploads a model's weights once per device, one storage buffer per tensor, in torch's layouts
// (the matmul kernel reads W [out, in] and D [dim, dim] through strides, so nothing is transposed).
import type { CrateWeights, Tensor } from '../../model/weights';
import { BufferUsage } from './dawn';

export interface GpuLayerWeights {
  norm1Weight: GPUBuffer; norm1Bias: GPUBuffer; qkv: GPUBuffer;
  toOutWeight?: GPUBuffer; toOutBias?: GPUBuffer;
  norm2Weight: GPUBuffer; norm2Bias: GPUBuffer; dictionary: GPUBuffer;
}

export interface GpuWeights {
  posEmbedding: GPUBuffer; clsToken: GPUBuffer;
  patchNorm1Weight: GPUBuffer; patchNorm1Bias: GPUBuffer;
  patchLinearWeight: GPUBuffer; patchLinearBias: GPUBuffer;
  patchNorm2Weight: GPUBuffer; patchNorm2Bias: GPUBuffer;
  layers: GpuLayerWeights[];
  headNormWeight: GPUBuffer; headNormBias: GPUBuffer;
  headWeight: GPUBuffer; headBias: GPUBuffer;
  bytes: number;
}

export function uploadWeights(device: GPUDevice, weights: CrateWeights, maxBinding: number): GpuWeights {
  let bytes = 0;
  const up = (t: Tensor, label: string): GPUBuffer => {
    const size = Math.max(16, t.data.byteLength);
    if (size > maxBinding) throw new Error(`weight ${label} (${t.data.byteLength} bytes) exceeds the device's maxStorageBufferBindingSize ${maxBinding}`);
    const buffer = device.createBuffer({ size, usage: BufferUsage.STORAGE, mappedAtCreation: true, label });
    new Float32Array(buffer.getMappedRange()).set(t.data);
    buffer.unmap();
    bytes += size;
    return buffer;
  };
  const layers = weights.layers.map((l, i) => ({
    norm1Weight: up(l.norm1Weight, `l${i}.norm1.weight`), norm1Bias: up(l.norm1Bias, `l${i}.norm1.bias`),
    qkv: up(l.qkv, `l${i}.qkv`),
    toOutWeight: l.toOutWeight && up(l.toOutWeight, `l${i}.to_out.weight`),
    toOutBias: l.toOutBias && up(l.toOutBias, `l${i}.to_out.bias`),
    norm2Weight: up(l.norm2Weight, `l${i}.norm2.weight`), norm2Bias: up(l.norm2Bias, `l${i}.norm2.bias`),
    dictionary: up(l.dictionary, `l${i}.dictionary`),
  }));
  const w = weights;
  const { patchNorm1Weight, patchNorm1Bias, patchNorm2Weight, patchNorm2Bias, headNormWeight, headNormBias, headWeight, headBias } = w;
  if (!patchNorm1Weight || !patchNorm1Bias || !patchNorm2Weight || !patchNorm2Bias || !headNormWeight || !headNormBias || !headWeight || !headBias) {
    throw new Error('the WebGPU backend runs classifier CRATE models only (patch LayerNorms and a head): this encoder runs on the CPU backend');
  }
  const uploaded = {
    posEmbedding: up(w.posEmbedding, 'pos_embedding'), clsToken: up(w.clsToken, 'cls_token'),
    patchNorm1Weight: up(patchNorm1Weight, 'patch.norm1.weight'), patchNorm1Bias: up(patchNorm1Bias, 'patch.norm1.bias'),
    patchLinearWeight: up(w.patchLinearWeight, 'patch.linear.weight'), patchLinearBias: up(w.patchLinearBias, 'patch.linear.bias'),
    patchNorm2Weight: up(patchNorm2Weight, 'patch.norm2.weight'), patchNorm2Bias: up(patchNorm2Bias, 'patch.norm2.bias'),
    layers,
    headNormWeight: up(headNormWeight, 'head.norm.weight'), headNormBias: up(headNormBias, 'head.norm.bias'),
    headWeight: up(headWeight, 'head.weight'), headBias: up(headBias, 'head.bias'),
  };
  return { ...uploaded, bytes };
}
