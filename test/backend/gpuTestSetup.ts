// What every WebGPU test file starts with: SwiftShader's Vulkan driver for machines without a GPU,
// and an adapter or a recorded reason why the file's tests cannot run.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pickAdapter, useSoftwareVulkan } from '../../server/backend/webgpu';

// On import, before any GPU object exists: the Vulkan loader reads its environment once.
const vulkan = useSoftwareVulkan();
const required = process.env.CRATE_LENS_REQUIRE_WEBGPU === '1';

/**
 * The WebGPU adapter; without one, declares a skipped test with the reason (a failing one under
 * CRATE_LENS_REQUIRE_WEBGPU=1, as CI sets) and returns undefined. Call inside a describe.
 */
export async function adapterOrSkip(): Promise<Awaited<ReturnType<typeof pickAdapter>>> {
  const probe = await pickAdapter('webgpu');
  if (probe) return probe;
  const reason = `no WebGPU adapter could be created (${vulkan.reason ?? `Vulkan ICD ${vulkan.icd}`})`;
  if (required) it('finds a WebGPU adapter (CRATE_LENS_REQUIRE_WEBGPU=1)', () => assert.fail(reason));
  else it('runs on a WebGPU adapter', { skip: reason }, () => {});
  return undefined;
}

