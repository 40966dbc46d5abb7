// Points the Vulkan loader at a CPU driver (SwiftShader from Debian's chromium package, or an
// unpacked Mesa lavapipe) so WebGPU runs on machines without a GPU: used by tests and `bench-gpu --quick`.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's chromium installs SwiftShader's Vulkan ICD manifest. */
export const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib64/chromium/vk_swiftshader_icd.json'];

export interface SoftwareVulkan {
  /** The ICD manifest in use, or undefined when none was found and the environment was left alone. */
  icd?: string;
  /** Why nothing was set, for skip messages. */
  reason?: string;
}

/**
 * Must run before the first `create()` of the process: the loader reads these variables once.
 * An ICD already named in the environment (e.g. by lavapipe's env.sh) wins.
 */
export function useSoftwareVulkan(env: NodeJS.ProcessEnv = process.env): SoftwareVulkan {
  ensureRuntimeDir(env);
  const named = env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES;
  if (named) return { icd: named };
  const icd = SWIFTSHADER_ICDS.find((p) => existsSync(p));
  if (!icd) return { reason: `no SwiftShader ICD at ${SWIFTSHADER_ICDS.join(' or ')} (install Debian's chromium and libvulkan1, see scripts/setup-webgpu-ci.sh)` };
  env.VK_ICD_FILENAMES = icd;
  return { icd };
}

/** The Vulkan loader warns on every start without a private runtime folder; headless machines often lack one. */
export function ensureRuntimeDir(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.XDG_RUNTIME_DIR || !existsSync(env.XDG_RUNTIME_DIR)) env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'crate-lens-xdg-'));
}
