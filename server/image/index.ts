// Image decoding, PIL-exact preprocessing and visualisation for CRATE Lens.
export { ImageError } from './errors';
export type { Raster } from './raster';
export { decodeImage, sniffFormat } from './decode';
export type { DecodeOptions, ImageFormat } from './decode';
export { convertChannels } from './convert';
export { resizeBilinear } from './resize';
export { modelView, toInputTensor } from './preprocess';
export type { PreprocessOptions } from './preprocess';
export { encodePng } from './png-encode';
export { renderHeatmapOverlay, renderMask } from './overlay';
export type { OverlayOptions, MaskOptions } from './overlay';
