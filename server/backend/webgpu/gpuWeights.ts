// Uploads a model's weights once per device, one storage buffer per tensor, in torch's layouts
// (the matmul kernel reads W [out, in] and D [dim, dim] through strides, so nothing is transposed).
// A CRATE-MAE encoder has neither patch LayerNorms nor a classifier head; both are then absent here.
import type { CrateWeights, Tensor } from '../../model/weights';
import { BufferUsage } from './dawn';

export interface GpuLayerWeights {
  norm1Weight: GPUBuffer; norm1Bias: GPUBuffer; qkv: GPUBuffer;
  toOutWeight?: GPUBuffer; toOutBias?: GPUBuffer;
  norm2Weight: GPUBuffer; norm2Bias: GPUBuffer; dictionary: GPUBuffer;
}

export interface GpuNorm { weight: GPUBuffer; bias: GPUBuffer }

export interface GpuWeights {
  posEmbedding: GPUBuffer; clsToken: GPUBuffer;
  /** The LayerNorms before and after the patch Linear; both present or both absent. */
  patchNorm1?: GpuNorm; patchNorm2?: GpuNorm;
  patchLinearWeight: GPUBuffer; patchLinearBias: GPUBuffer;
  layers: GpuLayerWeights[];
  /** LayerNorm + Linear over the pooled token; absent for an encoder (numClasses 0). */
  head?: { norm: GpuNorm; weight: GPUBuffer; bias: GPUBuffer };
  bytes: number;
}

/** Uploads tensors one storage buffer each, within the device's binding limit, and counts their bytes. */
export function weightUploader(device: GPUDevice, maxBinding: number): { up: (t: Tensor, label: string) => GPUBuffer; bytes: () => number } {
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
  return { up, bytes: () => bytes };
}

export function uploadWeights(device: GPUDevice, weights: CrateWeights, maxBinding: number): GpuWeights {
  const { up, bytes } = weightUploader(device, maxBinding);
  const layers = weights.layers.map((l, i) => ({
    norm1Weight: up(l.norm1Weight, `l${i}.norm1.weight`), norm1Bias: up(l.norm1Bias, `l${i}.norm1.bias`),
    qkv: up(l.qkv, `l${i}.qkv`),
    toOutWeight: l.toOutWeight && up(l.toOutWeight, `l${i}.to_out.weight`),
    toOutBias: l.toOutBias && up(l.toOutBias, `l${i}.to_out.bias`),
    norm2Weight: up(l.norm2Weight, `l${i}.norm2.weight`), norm2Bias: up(l.norm2Bias, `l${i}.norm2.bias`),
    dictionary: up(l.dictionary, `l${i}.dictionary`),
  }));
  const w = weights;
  // Half a LayerNorm or half a head would be a loader bug: refused rather than run without it.
  const norm = (weight: Tensor | undefined, bias: Tensor | undefined, label: string): GpuNorm | undefined => {
    if (!weight && !bias) return undefined;
    if (!weight || !bias) throw new Error(`${label} has a ${weight ? 'weight' : 'bias'} but no ${weight ? 'bias' : 'weight'}`);
    return { weight: up(weight, `${label}.weight`), bias: up(bias, `${label}.bias`) };
  };
  const patchNorm1 = norm(w.patchNorm1Weight, w.patchNorm1Bias, 'patch.norm1');
  const patchNorm2 = norm(w.patchNorm2Weight, w.patchNorm2Bias, 'patch.norm2');
  if (!patchNorm1 !== !patchNorm2) throw new Error('the patch embedding has one LayerNorm of two');
  const headNorm = norm(w.headNormWeight, w.headNormBias, 'head.norm');
  if (!headNorm !== !w.headWeight || !w.headWeight !== !w.headBias) throw new Error('the classifier head is incomplete (LayerNorm, weight and bias go together)');
  const uploaded = {
    posEmbedding: up(w.posEmbedding, 'pos_embedding'), clsToken: up(w.clsToken, 'cls_token'),
    patchNorm1, patchNorm2,
    patchLinearWeight: up(w.patchLinearWeight, 'patch.linear.weight'), patchLinearBias: up(w.patchLinearBias, 'patch.linear.bias'),
    layers,
    head: headNorm && w.headWeight && w.headBias
      ? { norm: headNorm, weight: up(w.headWeight, 'head.weight'), bias: up(w.headBias, 'head.bias') }
      : undefined,
  };
  return { ...uploaded, bytes: bytes() };
}
