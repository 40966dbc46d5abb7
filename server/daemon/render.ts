// Pictures and Markdown for the editor: hover content and rendered layers for panels.
import { mergedPatchAttention } from '../analysis/attention';
import { heatmapGrid, resolveLayer } from '../engine/analyze';
import { encodePng, renderHeatmapOverlay, renderMask, type Raster } from '../image';
import type { ImageResult, RenderedLayer } from '../protocol';
import { upscaleNearest } from '../report/upscale';

export const pngDataUri = (img: Raster) => `data:image/png;base64,${Buffer.from(encodePng(img)).toString('base64')}`;

export function renderLayer(view: Raster, result: ImageResult, layer: number, allHeads: boolean, size = 224): RenderedLayer {
  const layers = result.layers!;
  const index = resolveLayer(layer, layers.length);
  const grid = result.grid!.width;
  const l = layers[index];
  return {
    index,
    merged: pngDataUri(renderHeatmapOverlay(view, mergedPatchAttention(l.clsAttention), grid, grid, { outputSize: size })),
    heads: allHeads ? l.clsAttention.map((row) => pngDataUri(renderHeatmapOverlay(view, row.slice(1), grid, grid, { outputSize: size }))) : [],
    mask: pngDataUri(renderMask(view, l.dinoMaskMerged, grid, grid, { outputSize: size })),
  };
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
