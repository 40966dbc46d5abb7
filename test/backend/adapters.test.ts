// Adapter classification: `auto` must never run on a CPU emulation of a GPU.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSoftwareAdapter, summarise } from '../../server/backend/webgpu/adapters';
import { maxImagesPerPass, shapesOf } from '../../server/backend/webgpu/layout';
import { presetConfig } from '../../server/model/config';

describe('webgpu adapter classification', () => {
  it('recognises software adapters by flag, type and name', () => {
    const software = [
      { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true },
      { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)', isFallbackAdapter: false },
      { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.7, 256 bits)', isFallbackAdapter: false },
      { vendor: 'mesa', description: 'lavapipe', isFallbackAdapter: false },
      { vendor: 'microsoft', description: 'Microsoft Basic Render Driver' },
      { vendor: 'x', description: 'some driver', adapterType: 'CPU' },
      { vendor: 'x', description: 'some driver', type: 'cpu' },
      { vendor: '', description: '', isFallbackAdapter: true },
    ];
    for (const info of software) assert.equal(isSoftwareAdapter(info), true, JSON.stringify(info));
    const hardware = [
      { vendor: 'nvidia', architecture: 'hopper', device: '0x2330', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false },
      { vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX (RADV NAVI31)', isFallbackAdapter: false },
      { vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770', adapterType: 'integrated GPU' },
      { vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' },
    ];
    for (const info of hardware) assert.equal(isSoftwareAdapter(info), false, JSON.stringify(info));
  });

  it('names the adapter and its kind in one line', () => {
    const s = summarise({ vendor: 'nvidia', architecture: 'hopper', device: '0x2330', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false });
    assert.equal(s.label, 'NVIDIA H100 80GB HBM3 (vendor nvidia, architecture hopper, device 0x2330), hardware adapter');
    assert.match(summarise({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }).label, /^google swiftshader .*software\/fallback adapter$/);
  });
});

describe('webgpu pass sizing', () => {
  const limits = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 2 ** 30, maxComputeWorkgroupsPerDimension: 65535, stagingLimit: 2 ** 30 };
  const tile = { wx: 16, wy: 16, tiled: true };

  it('fits the largest per-image buffer into one binding', () => {
    // CRATE-large: the attention probabilities, 16 x 197 x 197 floats per image, bind the tightest.
    const s = shapesOf(presetConfig('large'));
    const n = maxImagesPerPass(s, limits, tile);
    assert.equal(n, Math.floor(limits.maxStorageBufferBindingSize / (16 * 197 * 197 * 4)));
  });

  it('fails clearly when one image cannot fit', () => {
    const s = shapesOf(presetConfig('base'));
    assert.throws(() => maxImagesPerPass(s, { ...limits, maxStorageBufferBindingSize: 4096 }, tile), /one image does not fit .*buffer/);
  });
});
