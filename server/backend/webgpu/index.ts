// The WebGPU backend's public surface.
export { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from './backend';
export { describeAdapters, isSoftwareAdapter, pickAdapter, summarise, type AdapterMode, type AdapterSummary, type PickedAdapter, type PickOptions } from './adapters';
export { ensureRuntimeDir, useSoftwareVulkan, SWIFTSHADER_ICDS } from './softwareVulkan';
