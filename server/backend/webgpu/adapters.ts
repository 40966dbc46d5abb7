// Finds WebGPU adapters and tells hardware from software (CPU-emulated) ones.
import { createGpu } from './dawn';

/** What an adapter says about itself; all strings may be empty. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Software rasteriser or fallback adapter: correct but far slower than the CPU backend. */
  software: boolean;
  /** One line for logs and Backend.device. */
  label: string;
}

/** `auto` never accepts a software adapter; `webgpu` (asked for explicitly) accepts one. */
export type AdapterMode = 'auto' | 'webgpu';

export interface PickOptions {
  powerPreference?: GPUPowerPreference;
  /** Extra Dawn flags for `create()`, e.g. `backend=vulkan`. */
  flags?: string[];
}

export interface PickedAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  summary: AdapterSummary;
  mode: AdapterMode;
  options: PickOptions;
}

/** The fields of GPUAdapterInfo this module reads; other bindings may add `type` / `adapterType`. */
export interface AdapterInfoLike {
  vendor?: string; architecture?: string; device?: string; description?: string;
  isFallbackAdapter?: boolean; type?: string; adapterType?: string;
}

// Names of CPU implementations of Vulkan, GL and D3D that drivers report.
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render driver|mesa offscreen/i;

export function isSoftwareAdapter(info: AdapterInfoLike): boolean {
  if (info.isFallbackAdapter) return true;
  const kind = `${info.type ?? ''} ${info.adapterType ?? ''}`.toLowerCase();
  if (/\bcpu\b/.test(kind)) return true;
  const names = [info.vendor, info.architecture, info.device, info.description].map((s) => s ?? '').join(' ');
  return SOFTWARE_NAMES.test(names);
}

export function summarise(info: AdapterInfoLike): AdapterSummary {
  const software = isSoftwareAdapter(info);
  const str = (s?: string) => (s ?? '').trim();
  const name = str(info.description) || [str(info.vendor), str(info.architecture)].filter(Boolean).join(' ') || 'unnamed adapter';
  const details = [['vendor', info.vendor], ['architecture', info.architecture], ['device', info.device]]
    .filter(([, v]) => str(v)).map(([k, v]) => `${k} ${str(v)}`).join(', ');
  const label = `${name}${details ? ` (${details})` : ''}${software ? ', software/fallback adapter' : ', hardware adapter'}`;
  return { vendor: str(info.vendor), architecture: str(info.architecture), device: str(info.device), description: str(info.description), software, label };
}

async function request(gpu: GPU, options: GPURequestAdapterOptions): Promise<GPUAdapter | undefined> {
  try {
    return (await gpu.requestAdapter(options)) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Hardware first: Dawn ranks discrete over integrated over CPU adapters for each preference. */
async function candidates(gpu: GPU, powerPreference?: GPUPowerPreference): Promise<GPUAdapter[]> {
  const prefs: GPUPowerPreference[] = powerPreference ? [powerPreference] : ['high-performance', 'low-power'];
  const found: GPUAdapter[] = [];
  for (const p of prefs) {
    const a = await request(gpu, { powerPreference: p });
    if (a) found.push(a);
  }
  const fallback = await request(gpu, { forceFallbackAdapter: true });
  if (fallback) found.push(fallback);
  return found;
}

/**
 * The adapter a backend should run on. `auto` takes a hardware adapter or returns undefined
 * (the caller then uses the CPU backend); `webgpu` takes the best adapter, software included.
 */
export async function pickAdapter(mode: AdapterMode, options: PickOptions = {}): Promise<PickedAdapter | undefined> {
  let gpu: GPU;
  try {
    gpu = createGpu(options.flags);
  } catch {
    return undefined;
  }
  const found = await candidates(gpu, options.powerPreference);
  const hardware = found.find((a) => !isSoftwareAdapter(a.info));
  const adapter = hardware ?? (mode === 'webgpu' ? found[0] : undefined);
  if (!adapter) return undefined;
  return { gpu, adapter, summary: summarise(adapter.info), mode, options };
}

/** Every distinct adapter Dawn offers, for diagnostics (`crate-lens` device listings, bug reports). */
export async function describeAdapters(options: PickOptions = {}): Promise<AdapterSummary[]> {
  let gpu: GPU;
  try {
    gpu = createGpu(options.flags);
  } catch {
    return [];
  }
  const seen = new Map<string, AdapterSummary>();
  for (const a of await candidates(gpu, options.powerPreference)) {
    const s = summarise(a.info);
    seen.set(s.label, s);
  }
  return [...seen.values()];
}
