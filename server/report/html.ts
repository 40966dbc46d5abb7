// A self-contained HTML report of an analysis: one card per image with its view, heatmap,
// predictions and per-layer measures. Pictures are embedded, so the file can be moved or mailed.
import type { AnalyzeReport, ImageResult } from '../protocol';

export interface ReportImage {
  result: ImageResult;
  /** PNG bytes of what the model saw, and of the heatmap overlay (both absent when the image failed). */
  viewPng?: Uint8Array;
  overlayPng?: Uint8Array;
  /** Which layer/head the overlay shows. */
  overlayCaption?: string;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const dataUri = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
const fixed = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/** A small inline SVG line chart of one measure across layers. */
function sparkline(values: number[], label: string): string {
  const w = 96, h = 30, pad = 3;
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const points = values.map((v, i) => {
    const x = pad + (values.length === 1 ? 0 : (i * (w - 2 * pad)) / (values.length - 1));
    const y = h - pad - ((v - lo) / span) * (h - 2 * pad);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  return `<figure class="spark"><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escape(label)} per layer">` +
    `<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${points.join(' ')}"/></svg>` +
    `<figcaption>${escape(label)}<br>${fixed(values[0])} → ${fixed(values[values.length - 1])}</figcaption></figure>`;
}

function card(item: ReportImage): string {
  const r = item.result;
  if (r.error) return `<article class="card failed"><h2>${escape(r.image)}</h2><p class="error">${escape(r.error)}</p></article>`;
  const layers = r.layers!;
  const last = layers[layers.length - 1];
  const top = r.top!.slice(0, 3).map((t, i) => `<li${i === 0 ? ' class="best"' : ''}>${escape(t.label)} <span>${(100 * t.probability).toFixed(1)}%</span></li>`).join('');
  const rows = layers.map((l) => `<tr><td>${l.index}</td><td>${fixed(l.sparsity)}</td><td>${fixed(l.reconstructionError)}</td><td>${fixed(l.istaResidual)}</td><td>${fixed(l.codingRate, 2)}</td></tr>`).join('');
  return `<article class="card">
  <h2 title="${escape(r.image)}">${escape(r.image.split(/[\\/]/).pop() ?? r.image)}</h2>
  <div class="pictures">
    ${item.viewPng ? `<figure><img src="${dataUri(item.viewPng)}" alt="model input"><figcaption>input (${r.width}×${r.height})</figcaption></figure>` : ''}
    ${item.overlayPng ? `<figure><img src="${dataUri(item.overlayPng)}" alt="attention heatmap"><figcaption>${escape(item.overlayCaption ?? 'attention')}</figcaption></figure>` : ''}
  </div>
  <ol class="top">${top}</ol>
  <p class="summary">last layer: sparsity <b>${fixed(last.sparsity)}</b>, reconstruction error ${fixed(last.reconstructionError)}</p>
  <div class="sparks">${sparkline(layers.map((l) => l.sparsity), 'sparsity')}${sparkline(layers.map((l) => l.reconstructionError), 'recon. error')}${sparkline(layers.map((l) => l.codingRate), 'coding rate')}</div>
  <details><summary>per layer</summary><table><thead><tr><th>layer</th><th>sparsity</th><th>recon. error</th><th>ISTA residual</th><th>coding rate</th></tr></thead><tbody>${rows}</tbody></table></details>
</article>`;
}

export function renderHtmlReport(report: AnalyzeReport, images: ReportImage[], generated = new Date()): string {
  const m = report.model;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>CRATE Lens report</title>
<style>
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --card: #f6f8fa; --accent: #bc4c00; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --card: #161b22; --accent: #f0883e; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem; }
header p { color: var(--muted); margin: .2rem 0; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 1rem; margin-top: 1.5rem; }
.card { background: var(--card); border-radius: 8px; padding: .8rem 1rem; }
.card h2 { font-size: 1rem; margin: 0 0 .5rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pictures { display: flex; gap: .5rem; }
figure { margin: 0; } .pictures img { width: 150px; height: 150px; image-rendering: pixelated; border-radius: 4px; display: block; }
figcaption { color: var(--muted); font-size: 12px; }
.top { padding-left: 1.2rem; margin: .5rem 0; } .top .best { font-weight: 600; } .top span { color: var(--muted); }
.summary { margin: .3rem 0; } .sparks { display: flex; flex-wrap: wrap; gap: .5rem; color: var(--accent); } .spark figcaption { color: var(--muted); font-size: 11px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-top: .4rem; } td, th { padding: 1px 8px; text-align: right; }
.error { color: #cf222e; }
</style></head>
<body>
<header>
<h1>CRATE Lens report</h1>
<p>${escape(m.checkpoint)} · ${escape(m.checkpointFormat)}, ${escape(m.container)}</p>
<p>config: ${escape(m.configSource)} · ${m.imageSize}px, ${m.patchSize}px patches, dim ${m.dim}, ${m.depth} layers, ${m.heads} heads × ${m.dimHead}, ${m.parameters.toLocaleString('en-US')} parameters</p>
<p>${escape(m.backend)}: ${escape(m.device)} · ${images.length} image(s) · ${escape(generated.toISOString())}</p>
${m.configWarnings.map((w) => `<p class="error">${escape(w)}</p>`).join('\n')}
</header>
<main>
${images.map(card).join('\n')}
</main>
</body></html>
`;
}
