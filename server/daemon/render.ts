// Pictures and Markdown for the editor: hover content and rendered layers for panels.
import { mergedPatchAttention } from '../analysis/attention';
import { heatmapGrid, resolveLayer } from '../engine/analyze';
import { encodePng, renderHeatmapOverlay, renderMask, type Raster } from '../image';
import type { ImageResult, LayerPictures, RenderedLayer } from '../protocol';
import { upscaleNearest } from '../report/upscale';

export const pngDataUri = (img: Raster) => `data:image/png;base64,${Buffer.from(encodePng(img)).toString('base64')}`;

export function renderLayer(view: Raster, result: ImageResult, layer: number, allHeads: boolean, size = 224): RenderedLayer {
  const p = renderLayerPictures(view, result, layer, size, size, { heads: allHeads, headMasks: false });
  return { index: p.index, merged: p.merged, heads: p.heads, mask: p.mask };
}

export function renderView(view: Raster, size = 224): string { return pngDataUri(upscaleNearest(view, size)); }

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line unicode chart of a measure across layers. */
export function sparkline(values: number[]): string {
  const lo = Math.min(...values), hi = Math.max(...values);
  return values.map((v) => BARS[hi > lo ? Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1)) : 3]).join('');
}

const commandLink = (title: string, command: string, args: unknown, tooltip: string) =>
  `[${title}](command:${command}?${encodeURIComponent(JSON.stringify(args))} "${tooltip}")`;

/**
 * Plain text for hover Markdown. Hovers render HTML and may run CRATE Lens's own command
 * links, so text that comes from files or documents (paths, names in error messages) must not
 * be able to add either.
 */
export function markdownText(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()#+\-.!|~:]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\r\n]+/g, ' ');
}

export interface HoverOptions { layer: number; head: number | 'mean'; size?: number }

/** Markdown (with HTML images) for an image-path hover. */
export function hoverMarkdown(view: Raster, result: ImageResult, options: HoverOptions): string {
  const layers = result.layers!;
  const index = resolveLayer(options.layer, layers.length);
  const grid = result.grid!.width;
  const size = options.size ?? 192;
  const overlay = pngDataUri(renderHeatmapOverlay(view, heatmapGrid(layers[index], options.head), grid, grid, { outputSize: size }));
  const input = pngDataUri(upscaleNearest(view, size));
  const top = result.top!.slice(0, 3).map((t, i) => `${i === 0 ? '**' : ''}${t.label}${i === 0 ? '**' : ''} ${(100 * t.probability).toFixed(1)}%`).join(' · ');
  const head = options.head === 'mean' ? 'heads merged' : `head ${options.head}`;
  const strip = (name: string, pick: (l: (typeof layers)[number]) => number, digits: number) => {
    const values = layers.map(pick);
    return `\`${name}\` ${sparkline(values)} ${values[0].toFixed(digits)} → ${values[values.length - 1].toFixed(digits)}`;
  };
  const image = result.image;
  return [
    `<img src="${input}" width="${size}" height="${size}" alt="input"/> <img src="${overlay}" width="${size}" height="${size}" alt="attention, layer ${index}"/>`,
    '',
    `${top}  `,
    `*CLS attention, layer ${index} of ${layers.length}, ${head}*`,
    '',
    `${strip('sparsity', (l) => l.sparsity, 3)}  `,
    `${strip('recon. error', (l) => l.reconstructionError, 3)}  `,
    `${strip('coding rate', (l) => l.codingRate, 1)}`,
    '',
    [
      commandLink('All heads', 'crateLens.showHeads', { image, layer: index }, 'Every head of this layer'),
      commandLink('Compare layers', 'crateLens.compareLayers', { image }, 'Open the layer comparison'),
      commandLink('Another layer…', 'crateLens.pickLayer', { image }, 'Analyse with another layer'),
    ].join(' · '),
  ].join('\n');
}

// ---- Pictures for the layer comparison panel. ----

/** Every picture of one layer for the panel: merged attention and mask, and each head's attention and mask. */
export function renderLayerPictures(
  view: Raster, result: ImageResult, layer: number, size = 224, headSize = 112,
  include: { heads: boolean; headMasks: boolean } = { heads: true, headMasks: true },
): LayerPictures {
  const layers = result.layers!;
  const index = resolveLayer(layer, layers.length);
  const grid = result.grid!.width;
  const l = layers[index];
  return {
    index,
    merged: pngDataUri(renderHeatmapOverlay(view, mergedPatchAttention(l.clsAttention), grid, grid, { outputSize: size })),
    mask: pngDataUri(renderMask(view, l.dinoMaskMerged, grid, grid, { outputSize: size })),
    heads: include.heads ? l.clsAttention.map((row) => pngDataUri(renderHeatmapOverlay(view, row.slice(1), grid, grid, { outputSize: headSize }))) : [],
    headMasks: include.headMasks ? l.dinoMask.map((mask) => pngDataUri(renderMask(view, mask, grid, grid, { outputSize: headSize }))) : [],
  };
}

/** A per-patch score grid (e.g. a rollout row) as a heatmap over the view. */
export function renderPatchHeatmap(view: Raster, scores: number[], grid: number, size = 224): string {
  return pngDataUri(renderHeatmapOverlay(view, scores, grid, grid, { outputSize: size }));
}

/** The PCA map: one RGB colour per patch (components in [0, 1]), drawn as a grid of square cells. */
export function renderPcaMap(pca: number[][], grid: number, size = 224): string {
  const cells: Raster = { width: grid, height: grid, channels: 3, data: new Uint8Array(grid * grid * 3) };
  for (let p = 0; p < grid * grid; p++) {
    for (let c = 0; c < 3; c++) {
      const v = pca[p]?.[c] ?? 0;
      cells.data[p * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
    }
  }
  return pngDataUri(upscaleNearest(cells, size));
}
